/* watch: `edgekv watch KEY [--from POP] [--value V]` and `edgekv compare RESULTS... [--out DIR]`.
 *
 * watch (for teaching): writes KEY through one PoP and prints, live, the change arriving at each
 * PoP and regional tier with the time since the commit, beside its configured one-way delay,
 * so the wave of a change crossing the world can be watched (each arrival is the node's own
 * record, /_edgekv/wait). Then, live again, each node serving it: the first read there that
 * returned it, which under kv and ttl waits for an older cached copy to expire, with that
 * reason (the reads come from watch itself, as probe's do: see ekv_vis_follow).
 * compare: puts the runs of several results.json files side by side in one summary table and
 * one report (each run named after its experiment and policy). */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "hclient.h"
#include "probe.h"
#include "report.h"
#include "state.h"
#include "text.h"
#include "watch.h"

typedef struct {
    const ekv_state_t *st;
    ekv_vis_row_t *rows;
    size_t n, i;
    size_t *shown;
} watch_ctx_t;

static const char *label(const ekv_vis_row_t *w, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", w->proc->name, w->tier ? " (tier)" : "");
    return buf;
}

static void on_visible(void *arg, ekv_hc_req_t *r)
{
    watch_ctx_t *c = arg;
    ekv_vis_row_t *w = &c->rows[c->i];
    char name[80];
    json_t *j = r->status == 200 ? json_loads(r->resp, 0, NULL) : NULL;
    (*c->shown)++;
    if (!j) {
        printf("  %-12s ", label(w, name, sizeof name));
        ekv_text_pad(w->proc->city, 18);
        printf(" did not see it in time (configured %.1f ms)\n", w->configured_ms);
    } else {
        w->measured_ms =
            (double)json_integer_value(json_object_get(j, "delay_us")) / 1000.0 * c->st->time_scale;
        printf("  +%9.3f ms  %-12s ", w->measured_ms, label(w, name, sizeof name));
        ekv_text_pad(w->proc->city, 18);
        printf(" (configured %.3f ms)  [%zu/%zu]\n", w->configured_ms, *c->shown, c->n);
        json_decref(j);
    }
    fflush(stdout);
}

static void on_served(void *arg, size_t i)
{
    watch_ctx_t *c = arg;
    const ekv_vis_row_t *w = &c->rows[i];
    char name[80];
    (*c->shown)++;
    printf("  +%9.3f ms  %-12s ", w->served_ms, label(w, name, sizeof name));
    ekv_text_pad(w->proc->city, 18);
    if (w->measured_ms >= 0)
        printf(" (arrived +%.3f ms)", w->measured_ms);
    printf("  %s%s[%zu/%zu]\n", w->reason, w->reason[0] ? "  " : "", *c->shown, c->n);
    fflush(stdout);
}

int ekv_cmd_watch(int argc, char **argv)
{
    const char *key = NULL, *from = NULL, *value = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc)
            from = argv[++i];
        else if (!strcmp(argv[i], "--value") && i + 1 < argc)
            value = argv[++i];
        else if (argv[i][0] != '-' && !key)
            key = argv[i];
        else
            key = NULL, i = argc;
    }
    ekv_state_t *st = NULL;
    if (!key || strlen(key) > 200 || strpbrk(key, "/?#% ")) {
        fprintf(stderr, "usage: edgekv watch KEY [--from POP] [--value V]  (KEY: no / ? # %% or "
                        "spaces)\n");
        return 2;
    }
    if (ekv_state_load(&st) != 0 || st->npops == 0) {
        fprintf(stderr, "edgekv: nothing is running; start a topology with `edgekv up`\n");
        ekv_state_destroy(&st);
        return 1;
    }
    size_t src = 0;
    while (from && src < st->npops && strcmp(st->pops[src].name, from))
        src++;
    int rc = 1;
    char val[128];
    snprintf(val, sizeof val, "%s", value ? value : "");
    if (!value)
        snprintf(val, sizeof val, "value written at %lld", (long long)ekv_now_us());
    if (src == st->npops) {
        fprintf(stderr, "edgekv: no PoP named %s\n", from);
        goto out;
    }
    ekv_hc_req_t w = {.method = "PUT", .body = val, .body_len = strlen(val)};
    snprintf(w.url, sizeof w.url, "%s/%s?urlencoded=true", st->pops[src].url, key);
    ekv_hc_run(&w, 1, 15000);
    if (w.status != 200 || !w.version) {
        fprintf(stderr, "edgekv: the write failed: %d %s\n", w.status, w.resp ? w.resp : "");
        ekv_hc_req_fini(&w);
        goto out;
    }
    size_t n;
    ekv_vis_row_t *rows = ekv_vis_rows(st, &n);
    printf("wrote %s = \"%s\" through %s (version %s); watching %zu PoPs and %zu tiers:\n", key,
           val, st->pops[src].name, w.version, st->npops, st->ntiers);
    printf("arrived:\n");
    size_t shown = 0;
    ekv_hc_req_t *r = ekv_calloc(n ? n : 1, sizeof *r);
    watch_ctx_t *ctx = ekv_calloc(n ? n : 1, sizeof *ctx);
    for (size_t i = 0; i < n; i++) {
        ctx[i] = (watch_ctx_t){st, rows, n, i, &shown};
        r[i].method = "GET";
        r[i].on_done = on_visible;
        r[i].arg = &ctx[i];
        snprintf(r[i].url, sizeof r[i].url, "%s/_edgekv/wait?seq=%s&timeout_ms=20000",
                 rows[i].proc->url, w.version);
    }
    ekv_hc_run(r, n, 25000);
    int64_t commit_us = w.commit_us ? strtoll(w.commit_us, NULL, 10) : 0;
    for (size_t i = 0; i < n; i++) {
        json_t *j = !commit_us && r[i].status == 200 ? json_loads(r[i].resp, 0, NULL) : NULL;
        if (j)
            commit_us = json_integer_value(json_object_get(j, "commit_us"));
        json_decref(j);
        ekv_hc_req_fini(&r[i]);
    }
    printf("served (the first read there that returned it):\n");
    fflush(stdout);
    shown = 0;
    ekv_vis_follow(st, rows, n, key, val, strtoull(w.version, NULL, 10), commit_us, on_served,
                   &ctx[0]);
    for (size_t i = 0; i < n; i++) {
        char name[80];
        if (rows[i].served_ms >= 0)
            continue;
        printf("  %-13s  %-12s ", "not served", label(&rows[i], name, sizeof name));
        ekv_text_pad(rows[i].proc->city, 18);
        printf(" %s\n", rows[i].reason);
    }
    ekv_hc_req_fini(&w);
    free(r);
    free(ctx);
    free(rows);
    rc = 0;
out:
    ekv_state_destroy(&st);
    return rc;
}

int ekv_cmd_compare(int argc, char **argv)
{
    const char *out = "results/compare";
    json_t *merged = NULL, *runs = json_array();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
            continue;
        }
        json_error_t jerr;
        json_t *r = json_load_file(argv[i], 0, &jerr);
        json_t *rr = json_object_get(r, "runs");
        if (!json_is_array(rr)) {
            fprintf(stderr, "edgekv: %s: not a results.json (%s)\n", argv[i], jerr.text);
            json_decref(r);
            json_decref(runs);
            json_decref(merged);
            return 1;
        }
        for (size_t k = 0; k < json_array_size(rr); k++) {
            json_t *run = json_deep_copy(json_array_get(rr, k));
            json_t *name = json_sprintf("%s/%s", ekv_report_str(r, "experiment"),
                                        ekv_report_str(run, "policy"));
            if (name) /* NULL only when the strings were not text: then the policy stays */
                json_object_set_new(run, "policy", name);
            json_array_append_new(runs, run);
        }
        if (!merged)
            merged = json_deep_copy(r);
        json_decref(r);
    }
    if (!merged) {
        fprintf(stderr, "usage: edgekv compare RESULTS.json... [--out DIR]\n");
        json_decref(runs);
        return 2;
    }
    json_object_set_new(merged, "runs", runs);
    json_object_set_new(merged, "experiment", json_string("comparison"));
    ekv_report_summary(stdout, merged);
    if (ekv_file_mkdirs(out) != EKV_OK) {
        fprintf(stderr, "edgekv: cannot create %s\n", out);
        json_decref(merged);
        return 1;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/results.json", out);
    char *text = json_dumps(merged, JSON_INDENT(2));
    int rc = text && ekv_file_write_atomic(path, text, strlen(text)) == EKV_OK ? 0 : -1;
    free(text);
    if (rc != 0)
        fprintf(stderr, "edgekv: cannot write %s\n", path);
    rc |= ekv_report_html(out, merged);
    printf("\nreport: %s/report.html\n", out);
    json_decref(merged);
    return rc == 0 ? 0 : 1;
}
