/* experiment_fuzz: libFuzzer target of the experiment loader (sim/experiment).
 *
 * Any input must parse to an experiment or to an error, never a crash, an over-read or a
 * leak. Beyond that the header's contract is checked, and any breach aborts (libFuzzer reports
 * it as a crash with the input as reproducer): a failure leaves "fuzz:LINE: problem" in err
 * with LINE >= 1; a success holds values inside the documented ranges (a positive duration,
 * at least one key, finite non-negative rates, known policies, fault actions and assertion
 * metrics, every PoP fault naming its PoP, key groups numbered one after another with a name
 * for each key, phases in time order), and destroy clears the pointer.
 * replay_main.c feeds the committed corpus (corpus/experiment) to the same entry point under
 * ctest. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"

static void fail(const char *what)
{
    fprintf(stderr, "experiment_fuzz: %s\n", what);
    abort();
}

static int known_policy(const char *p)
{
    return !strcmp(p, "push") || !strcmp(p, "push-all") || !strcmp(p, "invalidate") ||
           !strcmp(p, "ttl") || !strcmp(p, "kv");
}

static int known_metric(const char *m)
{
    return ekv_experiment_metric_ok(m);
}

static int terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static void check_error(const char *err, size_t size)
{
    if (!terminated(err, size))
        fail("error message not terminated");
    if (strncmp(err, "fuzz:", 5) != 0)
        fail("error does not start with the file name");
    const char *p = err + 5;
    long line = 0;
    while (*p >= '0' && *p <= '9' && line < 100000000)
        line = line * 10 + (*p++ - '0');
    if (p == err + 5 || line < 1 || p[0] != ':' || p[1] != ' ' || !p[2])
        fail("error is not 'fuzz:LINE: problem'");
}

static int in(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

static void check_workload(const ekv_experiment_t *e)
{
    if (!in(e->duration_s, 0.1, 1e7))
        fail("duration out of range");
    if (e->time_scale != 0 && !in(e->time_scale, 0.001, 1000))
        fail("time_scale out of range");
    if (e->seed < 0 || e->keys < 1 || e->keys > 10000000)
        fail("seed or keys out of range");
    if (e->dist != EKV_DIST_UNIFORM && e->dist != EKV_DIST_ZIPF)
        fail("unknown distribution");
    if (!in(e->zipf_s, 0.01, 10) || e->value_size < 0 || e->value_size > 26214400)
        fail("zipf exponent or value size out of range");
    if (!in(e->write_rate, 0, 1e6) || !in(e->read_rate, 0, 1e6) || !in(e->cache_ttl, 1, 1e9) ||
        !in(e->write_rate_limit, 0, 1e6))
        fail("a rate or the cache ttl out of range");
    if (!terminated(e->name, sizeof e->name))
        fail("name not terminated");
    if (e->nwriters > EKV_EXP_MAX_NAMES || e->nreaders > EKV_EXP_MAX_NAMES)
        fail("too many writers or readers");
    for (size_t i = 0; i < e->nwriters; i++)
        if (!terminated(e->writers[i], sizeof e->writers[i]))
            fail("writer name not terminated");
    for (size_t i = 0; i < e->nreaders; i++)
        if (!terminated(e->readers[i], sizeof e->readers[i]))
            fail("reader name not terminated");
    if (e->npolicies > EKV_EXP_MAX_POLICIES)
        fail("too many policies");
    for (size_t i = 0; i < e->npolicies; i++)
        if (!terminated(e->policies[i], sizeof e->policies[i]) || !known_policy(e->policies[i]))
            fail("unknown policy accepted");
}

/* Key groups: in range, names terminated, numbered one after another, each key named. */
static void check_groups(const ekv_experiment_t *e)
{
    if ((e->ngroups && !e->groups) || (e->nphases && !e->phases) || e->nhomes > EKV_EXP_MAX_NAMES ||
        e->nweights > EKV_EXP_MAX_WEIGHTS || !in(e->reroute, 0, 1) || e->clients < 0)
        fail("groups, phases or clients out of range");
    long next = 0;
    char name[300];
    for (size_t i = 0; i < e->ngroups; i++) {
        const ekv_group_t *g = &e->groups[i];
        if (!terminated(g->name, sizeof g->name) || !g->name[0] ||
            !terminated(g->pattern, sizeof g->pattern) || !strstr(g->pattern, "{}") ||
            !terminated(g->metadata, sizeof g->metadata))
            fail("group name, pattern or metadata broken");
        if (g->count < 1 || g->first_key != next || g->value_min < 0 ||
            g->value_min > g->value_max || g->value_max > 26214400)
            fail("group count, numbering or value size out of range");
        if (!in(g->read_rate, 0, 1e6) || !in(g->write_rate, 0, 1e6) ||
            !in(g->delete_rate, 0, 1e6) || !in(g->list_rate, 0, 1e6) || !in(g->cache_ttl, 1, 1e9))
            fail("group rate or cache ttl out of range");
        if (g->append && !g->counter)
            fail("an append group that is no counter");
        if (g->bulk_keys < 1 || g->bulk_keys > 100 || g->list_limit < 1 || g->list_limit > 1000 ||
            g->nreaders > EKV_EXP_MAX_NAMES || g->nwriters > EKV_EXP_MAX_NAMES)
            fail("group bulk, list or PoP lists out of range");
        ekv_experiment_key_name(e, g->first_key + g->count - 1, name, sizeof name);
        if (!name[0] || ekv_experiment_group_of(e, g->first_key) != g)
            fail("a group's key has no name or group");
        next += g->count;
    }
    if (e->ngroups && next != e->keys_total)
        fail("keys_total is not the sum of the groups");
    for (size_t i = 0; i < e->nphases; i++)
        if (!in(e->phases[i].at_s, 0, 1e9) || (i && e->phases[i].at_s < e->phases[i - 1].at_s))
            fail("phase time out of range or out of order");
}

static void check_timeline(const ekv_experiment_t *e)
{
    if ((e->nfaults && !e->faults) || (e->nasserts && !e->asserts))
        fail("items counted but not stored");
    for (size_t i = 0; i < e->nfaults; i++) {
        const ekv_fault_t *f = &e->faults[i];
        int coord = f->kind == EKV_FAULT_COORD_KILL || f->kind == EKV_FAULT_COORD_RESTART;
        if ((unsigned)f->kind >= EKV_FAULT_COUNT)
            fail("unknown fault action accepted");
        if (!in(f->at_s, 0, 1e9) || !in(f->delay_ms, 0, 600000) || f->line < 1)
            fail("fault time, delay or line out of range");
        if (!terminated(f->pop, sizeof f->pop) || (!coord && !f->pop[0]))
            fail("PoP fault without its PoP");
        if (!terminated(f->to, sizeof f->to) || (f->kind == EKV_FAULT_REROUTE) != !!f->to[0])
            fail("reroute without its target, or a target on another fault");
    }
    for (size_t i = 0; i < e->nasserts; i++) {
        const ekv_assert_t *a = &e->asserts[i];
        if (!terminated(a->metric, sizeof a->metric) || !known_metric(a->metric))
            fail("unknown metric accepted");
        if ((unsigned)a->op > EKV_OP_GE || !isfinite(a->value) || a->line < 1)
            fail("assertion operator, value or line out of range");
        if (!terminated(a->policy, sizeof a->policy) || (a->policy[0] && !known_policy(a->policy)))
            fail("assertion limited to an unknown policy");
        if (!terminated(a->pop, sizeof a->pop))
            fail("assertion PoP not terminated");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    memset(err, 0, sizeof err);
    ekv_experiment_t *e = ekv_experiment_parse("fuzz", (const char *)data, size, err, sizeof err);
    if (e) {
        check_workload(e);
        check_groups(e);
        check_timeline(e);
    } else {
        check_error(err, sizeof err);
    }
    ekv_experiment_destroy(&e);
    if (e)
        fail("destroy did not clear the pointer");
    return 0;
}
