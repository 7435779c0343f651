/* checkers_json: the checkers' results as JSON (checkers.h, ekv_checkers_json). Apart from
 * checkers.c because it needs jansson, which ekv_analysis (logic only) does not link; it
 * belongs in ekv_report. Field names are issue 26's metric names, so --check can assert them
 * as they are. Times are the history's microseconds, as recorded; metrics in simulated ms. */
#include <jansson.h>

#include "checkers.h"

static const char *op_name(uint8_t op)
{
    switch (op) {
    case EKV_HOP_GET:
        return "get";
    case EKV_HOP_PUT:
        return "put";
    case EKV_HOP_DELETE:
        return "delete";
    case EKV_HOP_LIST:
        return "list";
    }
    return "?";
}

static json_t *op_json(const ekv_hist_op_t *o)
{
    json_t *j =
        json_pack("{s:s, s:I, s:I, s:I, s:i, s:I, s:I, s:I}", "op", op_name(o->op), "client",
                  (json_int_t)o->client, "pop", (json_int_t)o->pop, "key", (json_int_t)o->key,
                  "status", o->status, "start_us", (json_int_t)o->start_us, "end_us",
                  (json_int_t)o->end_us, "seq", (json_int_t)o->seq);
    if (o->op != EKV_HOP_GET && o->commit_us)
        json_object_set_new(j, "commit_us", json_integer((json_int_t)o->commit_us));
    if (o->counter)
        json_object_set_new(j, "value", json_integer((json_int_t)o->value));
    if (o->rmw)
        json_object_set_new(j, "rmw", json_integer((json_int_t)o->rmw));
    return j;
}

static json_t *kind_json(const ekv_chk_kind_t *k)
{
    json_t *ex = json_array();
    for (size_t i = 0; i < k->nex; i++) {
        json_t *ops = json_array();
        for (uint8_t n = 0; n < k->ex[i].nops; n++)
            json_array_append_new(ops, op_json(&k->ex[i].ops[n]));
        json_array_append_new(
            ex, json_pack("{s:I, s:o}", "span_us", (json_int_t)k->ex[i].span_us, "ops", ops));
    }
    return json_pack("{s:I, s:o}", "count", (json_int_t)k->count, "examples", ex);
}

static json_t *fresh_json(const ekv_checkers_t *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < EKV_CHK_FRESH_BINS; i++) {
        if (!c->fresh_n[i])
            continue;
        json_array_append_new(a, json_pack("{s:f, s:f, s:I}", "t_ms", (double)i * c->fresh_bin_ms,
                                           "p", (double)c->fresh_hit[i] / (double)c->fresh_n[i],
                                           "n", (json_int_t)c->fresh_n[i]));
    }
    return a;
}

static json_t *counters_json(const ekv_checkers_t *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->ncounters; i++) {
        const ekv_chk_counter_t *k = &c->counters[i];
        json_array_append_new(a, json_pack("{s:I, s:I, s:I, s:I, s:I}", "key", (json_int_t)k->key,
                                           "increments", (json_int_t)k->increments, "initial",
                                           (json_int_t)k->initial, "final", (json_int_t)k->final,
                                           "lost", (json_int_t)k->lost));
    }
    return a;
}

static json_t *failures_json(const ekv_checkers_t *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nfailures; i++)
        json_array_append_new(a, json_pack("{s:s, s:i, s:I}", "op", op_name(c->failures[i].op),
                                           "status", c->failures[i].status, "count",
                                           (json_int_t)c->failures[i].count));
    return a;
}

json_t *ekv_checkers_json(const ekv_checkers_t *c)
{
    json_t *j = json_pack(
        "{s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "ryw_violations", (json_int_t)c->ryw.count, "monotonic_violations",
        (json_int_t)ekv_checkers_monotonic_violations(c), "lost_updates",
        (json_int_t)c->lost_updates, "stale_age_max_ms", c->stale_age_max_ms, "convergence_ms",
        c->convergence_ms, "rate_limited_writes", (json_int_t)c->rate_limited_writes,
        "stale_beyond_bound", (json_int_t)c->stale.count, "stale_bound_ms", c->bound_ms,
        "stale_reads", (json_int_t)c->stale_reads, "gets", (json_int_t)c->gets, "gets_judged",
        (json_int_t)c->gets_judged, "writes", (json_int_t)c->writes, "writes_ok",
        (json_int_t)c->writes_ok, "writes_failed", (json_int_t)c->writes_failed,
        "acknowledged_increments", (json_int_t)c->increments);
    json_object_set_new(j, "p_fresh_bin_ms", json_real(c->fresh_bin_ms));
    json_object_set_new(j, "p_fresh", fresh_json(c));
    json_object_set_new(j, "failures", failures_json(c));
    json_object_set_new(j, "failures_other", json_integer((json_int_t)c->failures_other));
    json_object_set_new(j, "counters", counters_json(c));
    json_object_set_new(
        j, "checkers",
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "read_your_writes", kind_json(&c->ryw),
                  "monotonic_reads_client", kind_json(&c->mono_client), "monotonic_reads_pop",
                  kind_json(&c->mono_pop), "bounded_staleness", kind_json(&c->stale),
                  "lost_update_pairs", kind_json(&c->lost_pairs)));
    return j;
}
