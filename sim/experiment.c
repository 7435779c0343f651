/* experiment: loading and validating experiment YAML files (see experiment.h). */
#include "experiment.h"

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
    "slow",     "kill-coordinator", "restart-coordinator"};

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
        } else if (!strcmp(key, "action")) {
            const char *s = yc_scalar(v);
            have_action = ekv_fault_parse(s, &f->kind) == 0;
            if (!have_action)
                yc_problem(c, v,
                           "action: '%s' is not kill, restart, stop, continue, partition, "
                           "heal, slow, kill-coordinator or restart-coordinator",
                           s ? s : "");
        } else {
            yc_problem(c, k, "fault: unknown field '%s'", key);
        }
    }
    int coord = f->kind == EKV_FAULT_COORD_KILL || f->kind == EKV_FAULT_COORD_RESTART;
    if (!c->failed && have_action && f->kind == EKV_FAULT_SLOW && !have_delay)
        yc_problem(c, n, "fault: slow needs delay_ms");
    if (!c->failed && (!have_action || !have_at || (!coord && !f->pop[0])))
        yc_problem(c, n,
                   "fault: at_s, action and pop (except for coordinator faults) are "
                   "required");
    return c->failed ? -1 : 0;
}

static int load_assert(yc_ctx_t *c, yaml_node_t *n, ekv_assert_t *a)
{
    static const char *metrics[] = {"stale_ratio",       "stale_reads",       "failed_reads",
                                    "visibility_p50_ms", "visibility_p99_ms", "visibility_max_ms"};
    static const char *ops[] = {"<", "<=", ">", ">="};
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "assert[]", &p, &end))
        return -1;
    a->line = (int)n->start_mark.line + 1;
    int have_op = 0, have_value = 0, have_metric = 0;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "", *s = yc_scalar(v);
        if (!strcmp(key, "metric")) {
            for (int i = 0; s && i < 6; i++)
                if (!strcmp(s, metrics[i]))
                    have_metric = 1, snprintf(a->metric, sizeof a->metric, "%s", s);
            if (!have_metric)
                yc_problem(c, v,
                           "metric: '%s' is not one of stale_ratio, stale_reads, "
                           "failed_reads, visibility_p50_ms, visibility_p99_ms, "
                           "visibility_max_ms",
                           s ? s : "");
        } else if (!strcmp(key, "op")) {
            for (int i = 0; s && i < 4; i++)
                if (!strcmp(s, ops[i]))
                    a->op = (ekv_cmp_t)i, have_op = 1;
            if (!have_op)
                yc_problem(c, v, "op: expected one of < <= > >=");
        } else if (!strcmp(key, "value")) {
            have_value = !yc_number(c, v, "value", -1e18, 1e18, &a->value);
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

static int by_time(const void *a, const void *b)
{
    const ekv_fault_t *x = a, *y = b;
    return x->at_s < y->at_s ? -1 : x->at_s > y->at_s ? 1 : x->line - y->line;
}

static int load_root(yc_ctx_t *c, yaml_node_t *root, ekv_experiment_t *e)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
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
        else if (!strcmp(key, "workload"))
            load_workload(c, v, e);
        else if (!strcmp(key, "policies"))
            load_policies(c, v, e);
        else if (!strcmp(key, "faults") && !e->faults)
            e->faults = load_list(c, v, "faults", sizeof *e->faults, one_fault, &e->nfaults);
        else if (!strcmp(key, "assert") && !e->asserts)
            e->asserts = load_list(c, v, "assert", sizeof *e->asserts, one_assert, &e->nasserts);
        else
            yc_problem(c, k,
                       "unknown or repeated field '%s' (expected name, duration_s, "
                       "time_scale, seed, write_rate_limit, workload, policies, faults, "
                       "assert)",
                       key);
    }
    if (!c->failed && e->duration_s <= 0)
        yc_problem(c, root, "duration_s is required");
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

void ekv_experiment_destroy(ekv_experiment_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->faults);
    free((*self_p)->asserts);
    free(*self_p);
    *self_p = NULL;
}
