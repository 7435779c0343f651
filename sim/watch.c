/* watch: `edgekv watch KEY [--from POP] [--value V]` and `edgekv compare RESULTS... [--out DIR]`.
 *
 * watch (for teaching): writes KEY through one PoP and prints, live, each PoP switching to the
 * new value with the time since the commit, beside its configured one-way delay, so the
 * wave of a change crossing the world can be watched. Each PoP's switch is its own record
 * (/_edgekv/wait), confirmed by reading the key there.
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
#include "report.h"
#include "state.h"
#include "text.h"
#include "watch.h"

typedef struct {
    const ekv_state_t *st;
    size_t i;
    size_t *shown;
} watch_ctx_t;

static void on_visible(void *arg, ekv_hc_req_t *r)
{
    watch_ctx_t *w = arg;
    const ekv_proc_t *p = &w->st->pops[w->i];
    json_t *j = r->status == 200 ? json_loads(r->resp, 0, NULL) : NULL;
    (*w->shown)++;
    if (!j) {
        printf("  %-8s ", p->name);
        ekv_text_pad(p->city, 18);
        printf(" did not see it in time (configured %.1f ms)\n", p->delay_ms);
    } else {
        double ms =
            (double)json_integer_value(json_object_get(j, "delay_us")) / 1000.0 * w->st->time_scale;
        printf("  +%9.3f ms  %-8s ", ms, p->name);
        ekv_text_pad(p->city, 18);
        printf(" (configured %.3f ms)  [%zu/%zu]\n", p->delay_ms, *w->shown, w->st->npops);
        json_decref(j);
    }
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
    printf("wrote %s = \"%s\" through %s (version %s); watching %zu PoPs:\n", key, val,
           st->pops[src].name, w.version, st->npops);
    size_t shown = 0;
    ekv_hc_req_t *r = ekv_calloc(st->npops, sizeof *r);
    watch_ctx_t *ctx = ekv_calloc(st->npops, sizeof *ctx);
    for (size_t i = 0; i < st->npops; i++) {
        ctx[i] = (watch_ctx_t){st, i, &shown};
        r[i].method = "GET";
        r[i].on_done = on_visible;
        r[i].arg = &ctx[i];
        snprintf(r[i].url, sizeof r[i].url, "%s/_edgekv/wait?seq=%s&timeout_ms=20000",
                 st->pops[i].url, w.version);
    }
    ekv_hc_run(r, st->npops, 25000);
    for (size_t i = 0; i < st->npops; i++)
        ekv_hc_req_fini(&r[i]);
    ekv_hc_req_fini(&w);
    free(r);
    free(ctx);
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
