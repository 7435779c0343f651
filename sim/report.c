/* report: results.json, report.html (inline SVG) and the terminal summary (see report.h).
 *
 * The page is built from the results document alone, so `edgekv compare` can draw several
 * runs from their results.json files with the same code. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"

/* ---- results.json ------------------------------------------------------------------------ */

static json_t *pop_json(const ekv_topo_t *t, size_t i, const ekv_pop_result_t *p)
{
    const ekv_topo_pop_t *tp = &t->pops[i];
    json_t *cdf = json_array(), *scdf = json_array(), *lag = json_array();
    for (int q = 0; q <= 20; q++) {
        json_array_append_new(cdf, json_real(p->cdf[q]));
        json_array_append_new(scdf, json_real(p->served_cdf[q]));
    }
    for (int k = 0; k < EKV_LAG_POINTS; k++)
        json_array_append_new(lag, json_real(p->lag[k]));
    uint64_t answered = p->reads - p->failed_reads;
    json_t *j = json_pack("{s:s, s:s, s:f, s:f, s:f, s:{s:f, s:f, s:f, s:f}, s:o, s:I, s:I, s:I, "
                          "s:f, s:{s:f, s:f}, s:I, s:o}",
                          "name", tp->name, "city", tp->city, "lat", tp->lat, "lon", tp->lon,
                          "configured_ms", ekv_topo_delay_ms(t, tp), "visibility_ms", "p50", p->p50,
                          "p90", p->p90, "p99", p->p99, "max", p->max, "visibility_cdf_ms", cdf,
                          "reads", (json_int_t)p->reads, "stale_reads", (json_int_t)p->stale_reads,
                          "failed_reads", (json_int_t)p->failed_reads, "stale_ratio",
                          answered ? (double)p->stale_reads / (double)answered : 0.0,
                          "stale_age_ms", "p50", p->stale_age_p50, "max", p->stale_age_max,
                          "changes_seen", (json_int_t)p->changes, "version_lag", lag);
    /* visibility_ms is the arrival; served_ms what readers there got (the map and tables). */
    json_object_set_new(j, "served_ms",
                        json_pack("{s:f, s:f, s:f, s:f}", "p50", p->served_p50, "p90",
                                  p->served_p90, "p99", p->served_p99, "max", p->served_max));
    json_object_set_new(j, "served_cdf_ms", scdf);
    json_object_set_new(j, "changes_served", json_integer((json_int_t)p->served_changes));
    /* stale reads (and answered reads) per series bin: report.html's heatmap */
    json_t *ss = json_array(), *rs = json_array();
    for (int b = 0; b < EKV_SERIES_BINS; b++) {
        json_array_append_new(ss, json_integer(p->stale_series[b]));
        json_array_append_new(rs, json_integer(p->read_series[b]));
    }
    json_object_set_new(j, "stale_series", ss);
    json_object_set_new(j, "read_series", rs);
    return j;
}

/* The model's t-visibility at the observed bins (ekv_tvis_predict), or why there is none;
 * a note beside a prediction is a caveat. */
static void pred_json(const ekv_results_t *r, json_t *run)
{
    if (!r->tvis_pred_ok) {
        if (r->tvis_pred_note[0])
            json_object_set_new(run, "tvis_predicted_note", json_string(r->tvis_pred_note));
        return;
    }
    json_t *a = json_array();
    for (size_t b = 0; b < r->tvis_bins; b++)
        if (r->tvis_n[b] > 0 && r->tvis_pred[b] >= 0)
            json_array_append_new(
                a, json_pack("{s:f, s:f}", "t_ms", r->tvis_t_ms[b], "p", r->tvis_pred[b]));
    json_object_set_new(run, "tvis_predicted", a);
    if (r->tvis_pred_note[0]) /* a caveat */
        json_object_set_new(run, "tvis_predicted_note", json_string(r->tvis_pred_note));
}

static json_t *run_json(const ekv_topo_t *t, const ekv_run_t *run)
{
    const ekv_results_t *r = &run->res;
    json_t *pops = json_array(), *tvis = json_array(), *lag = json_array();
    for (size_t i = 0; i < r->npops; i++) {
        json_t *p = pop_json(t, i, &r->pops[i]);
        json_object_update(p, json_array_get(run->pop_extra, i));
        json_array_append_new(pops, p);
    }
    for (size_t b = 0; b < r->tvis_bins; b++)
        if (r->tvis_n[b] > 0)
            json_array_append_new(tvis, json_pack("{s:f, s:f, s:I}", "t_ms", r->tvis_t_ms[b], "p",
                                                  r->tvis_p[b], "n", (json_int_t)r->tvis_n[b]));
    for (int k = 0; k < EKV_LAG_POINTS; k++)
        json_array_append_new(lag, json_pack("{s:f, s:f, s:f}", "t_s", r->lag_t_s[k], "mean",
                                             r->lag_mean[k], "max", r->lag_max[k]));
    uint64_t failed = 0;
    for (size_t i = 0; i < r->npops; i++)
        failed += r->pops[i].failed_reads;
    json_t *j = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:f, s:I, s:o, s:o, s:o}", "policy", run->policy, "writes",
        (json_int_t)r->writes, "write_errors", (json_int_t)run->write_errors, "reads",
        (json_int_t)r->reads, "stale_reads", (json_int_t)r->stale_reads, "stale_ratio",
        r->reads > failed ? (double)r->stale_reads / (double)(r->reads - failed) : 0.0,
        "failed_reads", (json_int_t)failed, "pops", pops, "t_visibility", tvis, "version_lag", lag);
    json_object_set_new(j, "series_bin_s", json_real(r->series_bin_s));
    pred_json(r, j);
    if (run->extra)
        json_object_update(j, run->extra);
    return j;
}

static json_t *groups_json(const ekv_experiment_t *e)
{
    static const char *reads[] = {"get", "getWithMetadata", "bulk"};
    json_t *a = json_array();
    for (size_t i = 0; i < e->ngroups; i++) {
        const ekv_group_t *g = &e->groups[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:s, s:f, s:b, s:b}", "name", g->name,
                         "pattern", g->pattern, "count", (json_int_t)g->count, "read_rate",
                         g->read_rate, "write_rate", g->write_rate, "delete_rate", g->delete_rate,
                         "list_rate", g->list_rate, "read", reads[g->read], "cache_ttl",
                         g->cache_ttl, "counter", g->counter, "per_client", g->per_client));
    }
    return a;
}

json_t *ekv_report_json(const ekv_experiment_t *e, const ekv_topo_t *t, double time_scale,
                        const ekv_run_t *runs, size_t nruns)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < nruns; i++)
        json_array_append_new(arr, run_json(t, &runs[i]));
    json_t *j =
        json_pack("{s:s, s:f, s:f, s:I, s:{s:I, s:s, s:f, s:I, s:f, s:f, s:f}, s:{s:s, s:f, "
                  "s:f}, s:o}",
                  "experiment", e->name, "duration_s", e->duration_s, "time_scale", time_scale,
                  "seed", (json_int_t)e->seed, "workload", "keys", (json_int_t)e->keys,
                  "distribution", e->dist == EKV_DIST_ZIPF ? "zipf" : "uniform", "zipf_exponent",
                  e->zipf_s, "value_size", (json_int_t)e->value_size, "write_rate", e->write_rate,
                  "read_rate", e->read_rate, "cache_ttl", e->cache_ttl, "coordinator", "city",
                  t->coord.city, "lat", t->coord.lat, "lon", t->coord.lon, "runs", arr);
    if (e->ngroups) /* the workload was these groups, not the flat one above */
        json_object_set_new(j, "groups", groups_json(e));
    return j;
}

/* ---- terminal summary -------------------------------------------------------------------- */

const char *ekv_report_str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

void ekv_report_summary(FILE *f, json_t *results)
{
    json_t *runs = json_object_get(results, "runs");
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *run = json_array_get(runs, i);
        fprintf(f, "\npolicy %s: %lld writes, %lld reads, %lld stale (%.2f%%)\n",
                ekv_report_str(run, "policy"),
                (long long)json_integer_value(json_object_get(run, "writes")),
                (long long)json_integer_value(json_object_get(run, "reads")),
                (long long)json_integer_value(json_object_get(run, "stale_reads")),
                100 * json_number_value(json_object_get(run, "stale_ratio")));
        fprintf(f, "  %-8s %11s %9s %9s %9s %9s %9s %8s %7s %8s\n", "POP", "CONFIG_MS", "VIS_P50",
                "VIS_P99", "VIS_MAX", "SRV_P50", "SRV_P99", "READS", "STALE", "STALE%");
        json_t *pops = json_object_get(run, "pops");
        for (size_t p = 0; p < json_array_size(pops); p++) {
            json_t *o = json_array_get(pops, p), *v = json_object_get(o, "visibility_ms");
            json_t *sv = json_object_get(o, "served_ms"); /* absent in older results */
            char s50[32] = "-", s99[32] = "-";
            if (sv) {
                snprintf(s50, sizeof s50, "%.2f", json_number_value(json_object_get(sv, "p50")));
                snprintf(s99, sizeof s99, "%.2f", json_number_value(json_object_get(sv, "p99")));
            }
            fprintf(f, "  %-8s %11.2f %9.2f %9.2f %9.2f %9s %9s %8lld %7lld %7.2f%%\n",
                    ekv_report_str(o, "name"),
                    json_number_value(json_object_get(o, "configured_ms")),
                    json_number_value(json_object_get(v, "p50")),
                    json_number_value(json_object_get(v, "p99")),
                    json_number_value(json_object_get(v, "max")), s50, s99,
                    (long long)json_integer_value(json_object_get(o, "reads")),
                    (long long)json_integer_value(json_object_get(o, "stale_reads")),
                    100 * json_number_value(json_object_get(o, "stale_ratio")));
        }
    }
}
