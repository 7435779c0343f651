/* experiment: loading and validating experiment YAML files (see experiment.h). */
#include "experiment.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "yconf.h"

#define NODE(id) YC_NODE(c, id)

static const char *fault_names[EKV_FAULT_COUNT] = {
    "kill",     "restart",          "stop",
    "continue", "partition",        "heal",
    "slow",     "kill-coordinator", "restart-coordinator",
    "reroute"};

const char *ekv_fault_name(ekv_fault_kind_t k)
{
    return (unsigned)k < EKV_FAULT_COUNT ? fault_names[k] : "unknown";
}

int ekv_fault_parse(const char *s, ekv_fault_kind_t *out)
{
    for (int i = 0; s && i < EKV_FAULT_COUNT; i++)
        if (!strcmp(s, fault_names[i])) {
            *out = (ekv_fault_kind_t)i;
            return 0;
        }
    return -1;
}

int ekv_experiment_name_ok(const char *s)
{
    if (!s[0] || s[0] == '.')
        return 0;
    for (; *s; s++)
        if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* A list of names ([a, b]) or the word "all" (*all set, the list left empty). */
static int names(yc_ctx_t *c, yaml_node_t *v, const char *field, char (*out)[64], size_t *n,
                 int *all)
{
    const char *s = yc_scalar(v);
    if (s && !strcmp(s, "all")) {
        *all = 1;
        return 0;
    }
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return yc_problem(c, v, "%s: expected a list of PoP names or 'all'", field);
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
        if (*n == EKV_EXP_MAX_NAMES)
            return yc_problem(c, v, "%s: at most %d names", field, EKV_EXP_MAX_NAMES);
        if (yc_string(c, NODE(*i), field, out[*n], 64))
            return -1;
        (*n)++;
    }
    return 0;
}

static int load_workload(yc_ctx_t *c, yaml_node_t *n, ekv_experiment_t *e)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "workload", &p, &end))
        return -1;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        double d;
        if (!strcmp(key, "keys")) {
            if (!yc_number(c, v, "workload.keys", 1, 10000000, &d))
                e->keys = (long)d;
        } else if (!strcmp(key, "distribution")) {
            const char *s = yc_scalar(v);
            if (s && !strcmp(s, "uniform"))
                e->dist = EKV_DIST_UNIFORM;
            else if (s && !strcmp(s, "zipf"))
                e->dist = EKV_DIST_ZIPF;
            else
                yc_problem(c, v, "workload.distribution: expected uniform or zipf");
        } else if (!strcmp(key, "zipf_exponent")) {
            yc_number(c, v, "workload.zipf_exponent", 0.01, 10, &e->zipf_s);
        } else if (!strcmp(key, "value_size")) {
            if (!yc_number(c, v, "workload.value_size", 0, 26214400, &d))
                e->value_size = (long)d;
        } else if (!strcmp(key, "write_rate")) {
            yc_number(c, v, "workload.write_rate", 0, 1e6, &e->write_rate);
        } else if (!strcmp(key, "read_rate")) {
            yc_number(c, v, "workload.read_rate", 0, 1e6, &e->read_rate);
        } else if (!strcmp(key, "cache_ttl")) {
            yc_number(c, v, "workload.cache_ttl", 1, 1e9, &e->cache_ttl);
        } else if (!strcmp(key, "writers")) {
            names(c, v, "workload.writers", e->writers, &e->nwriters, &e->writers_all);
        } else if (!strcmp(key, "readers")) {
            int all = 0; /* readers default to every PoP anyway */
            names(c, v, "workload.readers", e->readers, &e->nreaders, &all);
        } else {
            yc_problem(c, k, "workload: unknown field '%s'", key);
        }
    }
    return c->failed ? -1 : 0;
}

/* value_size: a number of bytes, or {min: A, max: B} (uniform between). */
static void value_size(yc_ctx_t *c, yaml_node_t *v, ekv_group_t *g)
{
    double d;
    if (yc_scalar(v)) {
        if (!yc_number(c, v, "value_size", 0, 26214400, &d))
            g->value_min = g->value_max = (long)d;
        return;
    }
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, v, "value_size", &p, &end))
        return;
    int have_min = 0, have_max = 0;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *x = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "min") && !yc_number(c, x, "value_size.min", 0, 26214400, &d))
            g->value_min = (long)d, have_min = 1;
        else if (!strcmp(key, "max") && !yc_number(c, x, "value_size.max", 0, 26214400, &d))
            g->value_max = (long)d, have_max = 1;
        else if (strcmp(key, "min") && strcmp(key, "max"))
            yc_problem(c, k, "value_size: unknown field '%s' (expected min and max)", key);
    }
    if (!c->failed && (!have_min || !have_max || g->value_min > g->value_max))
        yc_problem(c, v, "value_size: expected a number, or min and max with min <= max");
}

/* A pattern holds exactly one "{}" (the key's number); a prefix is a pattern "PREFIX{}". */
static void key_pattern(yc_ctx_t *c, yaml_node_t *v, const char *field, ekv_group_t *g)
{
    char s[sizeof g->pattern - 2];
    if (yc_string(c, v, field, s, sizeof s))
        return;
    if (!strcmp(field, "prefix")) {
        if (strstr(s, "{}"))
            yc_problem(c, v, "prefix: must not hold '{}' (use pattern)");
        else
            snprintf(g->pattern, sizeof g->pattern, "%s{}", s);
        return;
    }
    const char *at = strstr(s, "{}");
    if (!at || strstr(at + 2, "{}"))
        yc_problem(c, v, "pattern: expected exactly one '{}' (the key's number), as 'user:{}'");
    else
        snprintf(g->pattern, sizeof g->pattern, "%s", s);
}

static int group_number(yc_ctx_t *c, yaml_node_t *v, const char *key, ekv_group_t *g)
{
    static const struct {
        const char *name;
        double lo, hi;
        size_t off;
    } nums[] = {
        {"read_rate", 0, 1e6, offsetof(ekv_group_t, read_rate)},
        {"write_rate", 0, 1e6, offsetof(ekv_group_t, write_rate)},
        {"delete_rate", 0, 1e6, offsetof(ekv_group_t, delete_rate)},
        {"list_rate", 0, 1e6, offsetof(ekv_group_t, list_rate)},
        {"cache_ttl", 1, 1e9, offsetof(ekv_group_t, cache_ttl)},
        {"zipf_exponent", 0.01, 10, offsetof(ekv_group_t, zipf_s)},
    };
    char field[64];
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (!strcmp(key, nums[i].name)) {
            snprintf(field, sizeof field, "groups[].%s", key);
            yc_number(c, v, field, nums[i].lo, nums[i].hi, (double *)((char *)g + nums[i].off));
            return 1;
        }
    return 0;
}

static int load_group_field(yc_ctx_t *c, yaml_node_t *k, yaml_node_t *v, ekv_group_t *g)
{
    const char *key = yc_scalar(k) ? yc_scalar(k) : "", *s = yc_scalar(v);
    double d;
    int all = 0;
    if (group_number(c, v, key, g))
        return 0;
    if (!strcmp(key, "name")) {
        yc_string(c, v, "groups[].name", g->name, sizeof g->name);
    } else if (!strcmp(key, "prefix") || !strcmp(key, "pattern")) {
        key_pattern(c, v, key, g);
    } else if (!strcmp(key, "count")) {
        if (!yc_number(c, v, "groups[].count", 1, 10000000, &d))
            g->count = (long)d;
    } else if (!strcmp(key, "distribution")) {
        if (s && !strcmp(s, "uniform"))
            g->dist = EKV_DIST_UNIFORM;
        else if (s && !strcmp(s, "zipf"))
            g->dist = EKV_DIST_ZIPF;
        else
            yc_problem(c, v, "groups[].distribution: expected uniform or zipf");
    } else if (!strcmp(key, "value_size")) {
        value_size(c, v, g);
    } else if (!strcmp(key, "read")) {
        if (s && (!strcmp(s, "get") || !strcmp(s, "text") || !strcmp(s, "json") ||
                  !strcmp(s, "arrayBuffer")))
            g->read = EKV_READ_GET;
        else if (s && !strcmp(s, "getWithMetadata"))
            g->read = EKV_READ_META;
        else if (s && !strcmp(s, "bulk"))
            g->read = EKV_READ_BULK;
        else
            yc_problem(c, v,
                       "groups[].read: expected get, text, json, arrayBuffer, "
                       "getWithMetadata or bulk");
    } else if (!strcmp(key, "bulk_keys")) {
        if (!yc_number(c, v, "groups[].bulk_keys", 1, 100, &d))
            g->bulk_keys = (int)d;
    } else if (!strcmp(key, "list_limit")) {
        if (!yc_number(c, v, "groups[].list_limit", 1, 1000, &d))
            g->list_limit = (int)d;
    } else if (!strcmp(key, "expiration_ttl")) {
        if (!yc_number(c, v, "groups[].expiration_ttl", 60, 1e12, &d))
            g->expiration_ttl = (long)d;
    } else if (!strcmp(key, "expiration")) {
        if (!yc_number(c, v, "groups[].expiration (seconds after the put)", 60, 1e12, &d))
            g->expiration = (long)d;
    } else if (!strcmp(key, "metadata")) {
        /* Sent as a JSON string: quoting may double it, and the limit is 1024 bytes. */
        yc_string(c, v, "groups[].metadata", g->metadata, sizeof g->metadata);
    } else if (!strcmp(key, "counter")) {
        yc_bool(c, v, "groups[].counter", &g->counter);
    } else if (!strcmp(key, "append")) {
        yc_bool(c, v, "groups[].append", &g->append);
    } else if (!strcmp(key, "per_client")) {
        yc_bool(c, v, "groups[].per_client", &g->per_client);
    } else if (!strcmp(key, "writers")) {
        names(c, v, "groups[].writers", g->writers, &g->nwriters, &all);
    } else if (!strcmp(key, "readers")) {
        names(c, v, "groups[].readers", g->readers, &g->nreaders, &all);
    } else {
        yc_problem(c, k, "group: unknown field '%s'", key);
    }
    return 0;
}

static int load_group(yc_ctx_t *c, yaml_node_t *n, ekv_group_t *g)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "groups[]", &p, &end))
        return -1;
    *g = (ekv_group_t){.count = 100,
                       .zipf_s = 1.0,
                       .value_min = 100,
                       .value_max = 100,
                       .cache_ttl = 60,
                       .bulk_keys = 10,
                       .list_limit = 1000,
                       .line = (int)n->start_mark.line + 1};
    for (; p < end && !c->failed; p++)
        load_group_field(c, NODE(p->key), NODE(p->value), g);
    if (!c->failed && !g->name[0])
        yc_problem(c, n, "group: name is required");
    if (!c->failed && !g->pattern[0])
        snprintf(g->pattern, sizeof g->pattern, "%s:{}", g->name);
    if (!c->failed && g->counter && g->append)
        yc_problem(c, n, "group: counter or append, not both");
    g->counter |= g->append; /* a list is counted by its length */
    if (!c->failed && g->counter && (g->value_min != 100 || g->value_max != 100))
        yc_problem(c, n, "group: a counter's value is its number; leave value_size out");
    if (!c->failed && g->counter && g->read == EKV_READ_BULK)
        yc_problem(c, n, "group: a counter reads with get (read: bulk is for other groups)");
    return c->failed ? -1 : 0;
}

static int load_clients(yc_ctx_t *c, yaml_node_t *n, ekv_experiment_t *e)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "clients", &p, &end))
        return -1;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        double d;
        int all = 0;
        if (!strcmp(key, "count")) {
            if (!yc_number(c, v, "clients.count", 1, 1000000, &d))
                e->clients = (long)d;
        } else if (!strcmp(key, "home")) {
            names(c, v, "clients.home", e->homes, &e->nhomes, &all);
        } else if (!strcmp(key, "reroute")) {
            yc_number(c, v, "clients.reroute (a probability)", 0, 1, &e->reroute);
        } else {
            yc_problem(c, k, "clients: unknown field '%s' (expected count, home, reroute)", key);
        }
    }
    return c->failed ? -1 : 0;
}

static int load_phase(yc_ctx_t *c, yaml_node_t *n, ekv_phase_t *ph)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "phases[]", &p, &end))
        return -1;
    *ph = (ekv_phase_t){.read_rate = -1,
                        .write_rate = -1,
                        .delete_rate = -1,
                        .list_rate = -1,
                        .line = (int)n->start_mark.line + 1};
    int have_at = 0;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "at_s"))
            have_at = !yc_number(c, v, "phases[].at_s", 0, 1e9, &ph->at_s);
        else if (!strcmp(key, "group"))
            yc_string(c, v, "phases[].group", ph->group, sizeof ph->group);
        else if (!strcmp(key, "read_rate"))
            yc_number(c, v, "phases[].read_rate", 0, 1e6, &ph->read_rate);
        else if (!strcmp(key, "write_rate"))
            yc_number(c, v, "phases[].write_rate", 0, 1e6, &ph->write_rate);
        else if (!strcmp(key, "delete_rate"))
            yc_number(c, v, "phases[].delete_rate", 0, 1e6, &ph->delete_rate);
        else if (!strcmp(key, "list_rate"))
            yc_number(c, v, "phases[].list_rate", 0, 1e6, &ph->list_rate);
        else
            yc_problem(c, k, "phase: unknown field '%s'", key);
    }
    if (!c->failed && !have_at)
        yc_problem(c, n, "phase: at_s is required");
    return c->failed ? -1 : 0;
}

static int load_weights(yc_ctx_t *c, yaml_node_t *n, ekv_experiment_t *e)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "pop_weights", &p, &end))
        return -1;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        if (e->nweights == EKV_EXP_MAX_WEIGHTS)
            return yc_problem(c, k, "pop_weights: at most %d PoPs", EKV_EXP_MAX_WEIGHTS);
        ekv_weight_t *w = &e->weights[e->nweights];
        if (yc_string(c, k, "pop_weights (a PoP name)", w->pop, sizeof w->pop) ||
            yc_number(c, v, "pop_weights (a weight)", 0, 1e6, &w->weight))
            return -1;
        e->nweights++;
    }
    return 0;
}

static int load_policies(yc_ctx_t *c, yaml_node_t *v, ekv_experiment_t *e)
{
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return yc_problem(c, v, "policies: expected a list such as [push, ttl]");
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
        if (e->npolicies == EKV_EXP_MAX_POLICIES)
            return yc_problem(c, v, "policies: at most %d", EKV_EXP_MAX_POLICIES);
        char *p = e->policies[e->npolicies];
        if (yc_string(c, NODE(*i), "policies", p, 16) || yc_policy(c, NODE(*i), p))
            return -1;
        e->npolicies++;
    }
    return 0;
}

static int load_fault(yc_ctx_t *c, yaml_node_t *n, ekv_fault_t *f)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "faults[]", &p, &end))
        return -1;
    f->line = (int)n->start_mark.line + 1;
    int have_action = 0, have_at = 0, have_delay = 0;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "at_s")) {
            have_at = !yc_number(c, v, "at_s", 0, 1e9, &f->at_s);
        } else if (!strcmp(key, "pop")) {
            yc_string(c, v, "pop", f->pop, sizeof f->pop);
        } else if (!strcmp(key, "delay_ms")) {
            have_delay = !yc_number(c, v, "delay_ms", 0, 600000, &f->delay_ms);
        } else if (!strcmp(key, "to")) {
            yc_string(c, v, "to", f->to, sizeof f->to);
        } else if (!strcmp(key, "action")) {
            const char *s = yc_scalar(v);
            have_action = ekv_fault_parse(s, &f->kind) == 0;
            if (!have_action)
                yc_problem(c, v,
                           "action: '%s' is not kill, restart, stop, continue, partition, "
                           "heal, slow, kill-coordinator, restart-coordinator or reroute",
                           s ? s : "");
        } else {
            yc_problem(c, k, "fault: unknown field '%s'", key);
        }
    }
    int coord = f->kind == EKV_FAULT_COORD_KILL || f->kind == EKV_FAULT_COORD_RESTART;
    if (!c->failed && have_action && f->kind == EKV_FAULT_SLOW && !have_delay)
        yc_problem(c, n, "fault: slow needs delay_ms");
    if (!c->failed && have_action && (f->kind == EKV_FAULT_REROUTE) != (f->to[0] != '\0'))
        yc_problem(c, n,
                   f->to[0] ? "fault: to belongs to reroute only"
                            : "fault: reroute needs to (the PoP that takes the requests)");
    if (!c->failed && (!have_action || !have_at || (!coord && !f->pop[0])))
        yc_problem(c, n,
                   "fault: at_s, action and pop (except for coordinator faults) are "
                   "required");
    return c->failed ? -1 : 0;
}

static const char *metrics[] = {
    "stale_ratio",       "stale_reads",          "failed_reads",        "visibility_p50_ms",
    "visibility_p99_ms", "visibility_max_ms",    "rate_limited_writes", "hit_ratio",
    "origin_reads",      "tier_reads",           "p_fresh_at",          "stale_age_max_ms",
    "ryw_violations",    "monotonic_violations", "lost_updates",        "convergence_ms"};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

int ekv_experiment_metric_ok(const char *s)
{
    for (size_t i = 0; s && i < NMETRICS; i++)
        if (!strcmp(s, metrics[i]))
            return 1;
    return 0;
}

static int load_assert(yc_ctx_t *c, yaml_node_t *n, ekv_assert_t *a)
{
    static const char *ops[] = {"<", "<=", ">", ">="};
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "assert[]", &p, &end))
        return -1;
    a->line = (int)n->start_mark.line + 1;
    int have_op = 0, have_value = 0, have_metric = 0, have_t = 0;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "", *s = yc_scalar(v);
        if (!strcmp(key, "metric")) {
            have_metric = ekv_experiment_metric_ok(s);
            if (have_metric)
                snprintf(a->metric, sizeof a->metric, "%s", s);
            else
                yc_problem(c, v,
                           "metric: '%s' is not one of stale_ratio, stale_reads, "
                           "failed_reads, visibility_p50_ms, visibility_p99_ms, "
                           "visibility_max_ms, rate_limited_writes, hit_ratio, origin_reads, "
                           "tier_reads, p_fresh_at, stale_age_max_ms, ryw_violations, "
                           "monotonic_violations, lost_updates, convergence_ms",
                           s ? s : "");
        } else if (!strcmp(key, "op")) {
            for (int i = 0; s && i < 4; i++)
                if (!strcmp(s, ops[i]))
                    a->op = (ekv_cmp_t)i, have_op = 1;
            if (!have_op)
                yc_problem(c, v, "op: expected one of < <= > >=");
        } else if (!strcmp(key, "value")) {
            have_value = !yc_number(c, v, "value", -1e18, 1e18, &a->value);
        } else if (!strcmp(key, "t_ms")) {
            have_t = !yc_number(c, v, "t_ms", 0, 1e12, &a->t_ms);
        } else if (!strcmp(key, "policy")) {
            if (!yc_string(c, v, "policy", a->policy, sizeof a->policy))
                yc_policy(c, v, a->policy);
        } else if (!strcmp(key, "pop")) {
            yc_string(c, v, "pop", a->pop, sizeof a->pop);
        } else {
            yc_problem(c, k, "assert: unknown field '%s'", key);
        }
    }
    if (!c->failed && (!have_metric || !have_op || !have_value))
        yc_problem(c, n, "assert: metric, op and value are required");
    int fresh = !c->failed && !strcmp(a->metric, "p_fresh_at");
    if (!c->failed && fresh != have_t)
        yc_problem(c, n,
                   fresh ? "assert: p_fresh_at needs t_ms (how long after the write)"
                         : "assert: t_ms belongs to p_fresh_at only");
    return c->failed ? -1 : 0;
}

/* Loads a list of mappings with one loader per item into a new array. */
static void *load_list(yc_ctx_t *c, yaml_node_t *v, const char *field, size_t item_size,
                       int (*one)(yc_ctx_t *, yaml_node_t *, void *), size_t *n)
{
    if (!v || v->type != YAML_SEQUENCE_NODE) {
        yc_problem(c, v, "%s: expected a list", field);
        return NULL;
    }
    size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    char *items = ekv_calloc(count ? count : 1, item_size);
    for (size_t i = 0; i < count && !c->failed; i++)
        if (one(c, NODE(v->data.sequence.items.start[i]), items + i * item_size) == 0)
            (*n)++;
    return items;
}

static int one_fault(yc_ctx_t *c, yaml_node_t *n, void *out)
{
    return load_fault(c, n, out);
}

static int one_assert(yc_ctx_t *c, yaml_node_t *n, void *out)
{
    return load_assert(c, n, out);
}

static int one_group(yc_ctx_t *c, yaml_node_t *n, void *out)
{
    return load_group(c, n, out);
}

static int one_phase(yc_ctx_t *c, yaml_node_t *n, void *out)
{
    return load_phase(c, n, out);
}

static int phase_by_time(const void *a, const void *b)
{
    const ekv_phase_t *x = a, *y = b;
    return x->at_s < y->at_s ? -1 : x->at_s > y->at_s ? 1 : x->line - y->line;
}

/* Across groups: names unique, phases naming a group, the key numbering, and no flat
 * workload beside groups (it would be silently ignored). */
static int check_groups(yc_ctx_t *c, ekv_experiment_t *e, int workload_line)
{
    if (e->ngroups && workload_line)
        return yc_problem_at(c, workload_line,
                             "workload: give either workload or groups, not both (groups "
                             "replace the flat workload)");
    long total = 0;
    for (size_t i = 0; i < e->ngroups; i++) {
        ekv_group_t *g = &e->groups[i];
        for (size_t j = 0; j < i; j++)
            if (!strcmp(e->groups[j].name, g->name))
                return yc_problem_at(c, g->line, "group: name '%s' is used twice", g->name);
        if (total + g->count > 10000000)
            return yc_problem_at(c, g->line, "group: at most 10000000 keys over every group");
        g->first_key = total;
        total += g->count;
    }
    e->keys_total = total;
    for (size_t i = 0; i < e->nphases; i++) {
        const ekv_phase_t *ph = &e->phases[i];
        size_t j = 0;
        while (ph->group[0] && j < e->ngroups && strcmp(e->groups[j].name, ph->group))
            j++;
        if (ph->group[0] && j == e->ngroups)
            return yc_problem_at(c, ph->line, "phase: no group named '%s'", ph->group);
    }
    if (!e->ngroups && (e->nphases || e->clients || e->nhomes || e->reroute > 0 || e->nweights))
        return yc_problem_at(c, 1, "phases, clients and pop_weights need groups");
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const ekv_fault_t *x = a, *y = b;
    return x->at_s < y->at_s ? -1 : x->at_s > y->at_s ? 1 : x->line - y->line;
}

static int load_root(yc_ctx_t *c, yaml_node_t *root, ekv_experiment_t *e)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    int workload_line = 0, have_clients = 0, have_weights = 0;
    if (yc_pairs(c, root, "top level", &p, &end))
        return -1;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        double d;
        if (!strcmp(key, "name")) {
            if (!yc_string(c, v, "name", e->name, sizeof e->name) &&
                !ekv_experiment_name_ok(e->name))
                yc_problem(c, v,
                           "name: must not be empty, start with '.' or hold '/' or control "
                           "characters (it names the results folder)");
        } else if (!strcmp(key, "duration_s"))
            yc_number(c, v, "duration_s", 0.1, 1e7, &e->duration_s);
        else if (!strcmp(key, "time_scale"))
            yc_number(c, v, "time_scale", 0.001, 1000, &e->time_scale);
        else if (!strcmp(key, "seed")) {
            if (!yc_number(c, v, "seed", 0, 1e15, &d))
                e->seed = (long)d;
        } else if (!strcmp(key, "write_rate_limit"))
            yc_number(c, v, "write_rate_limit", 0, 1e6, &e->write_rate_limit);
        else if (!strcmp(key, "stale_bound_ms"))
            yc_number(c, v, "stale_bound_ms", 0, 1e12, &e->stale_bound_ms);
        else if (!strcmp(key, "workload") && !workload_line) {
            workload_line = (int)k->start_mark.line + 1;
            load_workload(c, v, e);
        } else if (!strcmp(key, "groups") && !e->groups)
            e->groups = load_list(c, v, "groups", sizeof *e->groups, one_group, &e->ngroups);
        else if (!strcmp(key, "clients") && !have_clients) {
            have_clients = 1;
            load_clients(c, v, e);
        } else if (!strcmp(key, "phases") && !e->phases)
            e->phases = load_list(c, v, "phases", sizeof *e->phases, one_phase, &e->nphases);
        else if (!strcmp(key, "pop_weights") && !have_weights) {
            have_weights = 1;
            load_weights(c, v, e);
        } else if (!strcmp(key, "policies"))
            load_policies(c, v, e);
        else if (!strcmp(key, "faults") && !e->faults)
            e->faults = load_list(c, v, "faults", sizeof *e->faults, one_fault, &e->nfaults);
        else if (!strcmp(key, "assert") && !e->asserts)
            e->asserts = load_list(c, v, "assert", sizeof *e->asserts, one_assert, &e->nasserts);
        else
            yc_problem(
                c, k,
                "unknown or repeated field '%s' (expected name, duration_s, "
                "time_scale, seed, write_rate_limit, stale_bound_ms, workload, groups, clients, "
                "phases, pop_weights, policies, faults, assert)",
                key);
    }
    if (!c->failed && e->duration_s <= 0)
        yc_problem(c, root, "duration_s is required");
    if (!c->failed)
        check_groups(c, e, workload_line);
    if (!c->failed && e->nphases > 1)
        qsort(e->phases, e->nphases, sizeof *e->phases, phase_by_time);
    if (!c->failed && e->nfaults > 1) /* the timeline runs in time order, whatever the file's */
        qsort(e->faults, e->nfaults, sizeof *e->faults, by_time);
    return c->failed ? -1 : 0;
}

static int root_fn(yc_ctx_t *c, yaml_node_t *root, void *obj)
{
    return load_root(c, root, obj);
}

ekv_experiment_t *ekv_experiment_parse(const char *name, const char *text, size_t len, char *err,
                                       size_t errlen)
{
    ekv_experiment_t *e = ekv_calloc(1, sizeof *e);
    snprintf(e->name, sizeof e->name, "experiment");
    e->seed = 1;
    e->keys = 100;
    e->zipf_s = 1.0;
    e->value_size = 100;
    e->write_rate = 10;
    e->read_rate = 50;
    e->cache_ttl = 60;
    e->write_rate_limit = 0;
    if (yc_parse(name, text, len, root_fn, e, err, errlen) != 0)
        ekv_experiment_destroy(&e);
    return e;
}

ekv_experiment_t *ekv_experiment_load(const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (yc_read(path, &text, &len, err, errlen) != 0)
        return NULL;
    ekv_experiment_t *e = ekv_experiment_parse(path, text, len, err, errlen);
    free(text);
    return e;
}

long long ekv_experiment_counter_value(const ekv_group_t *g, const char *body, size_t len)
{
    char buf[32];
    if (!g->append) {
        if (len == 0 || len >= sizeof buf)
            return 0;
        memcpy(buf, body, len);
        buf[len] = '\0';
        return strtoll(buf, NULL, 10);
    }
    if (len < 2 || body[0] != '[' || body[len - 1] != ']')
        return 0;
    long long items = 0;
    for (size_t i = 1; i + 1 < len; i++)
        items += body[i] == ',';
    return len > 2 ? items + 1 : 0;
}

size_t ekv_experiment_counter_body(const ekv_group_t *g, long long v, char *buf, size_t len)
{
    size_t n = 0;
    if (!g->append) {
        int w = snprintf(buf, len, "%lld", v);
        return w > 0 && (size_t)w < len ? (size_t)w : 0;
    }
    if (len < 3)
        return 0;
    buf[n++] = '[';
    for (long long i = 1; i <= v; i++) {
        int w = snprintf(buf + n, len - n, i > 1 ? ",%lld" : "%lld", i);
        if (w < 0 || (size_t)w >= len - n - 1)
            return 0;
        n += (size_t)w;
    }
    buf[n++] = ']';
    buf[n] = '\0';
    return n;
}

const ekv_group_t *ekv_experiment_group_of(const ekv_experiment_t *e, long key)
{
    for (size_t i = 0; key >= 0 && i < e->ngroups; i++)
        if (key < e->groups[i].first_key + e->groups[i].count)
            return &e->groups[i];
    return NULL;
}

void ekv_experiment_key_name(const ekv_experiment_t *e, long key, char *buf, size_t len)
{
    const ekv_group_t *g = ekv_experiment_group_of(e, key);
    if (!e->ngroups) { /* the flat workload's names */
        snprintf(buf, len, "k%07ld", key);
        return;
    }
    if (!g) {
        snprintf(buf, len, "%s", "");
        return;
    }
    const char *at = strstr(g->pattern, "{}");
    snprintf(buf, len, "%.*s%ld%s", (int)(at - g->pattern), g->pattern, key - g->first_key, at + 2);
}

void ekv_experiment_destroy(ekv_experiment_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->faults);
    free((*self_p)->asserts);
    free((*self_p)->groups);
    free((*self_p)->phases);
    free(*self_p);
    *self_p = NULL;
}
