/* probe: `edgekv probe [--json] [--from POP] [--tolerance-ms MS [--attempts N]]`.
 *
 * Writes a fresh value of a fresh key ("edgekv-probe-<microseconds>", so back-to-back probes
 * never meet the same-key write rate limit) through one PoP and reports, for every PoP,
 * the configured one-way delay and the measured time from the commit until the new version
 * was visible there. The measurement is the PoP's own record (its apply time minus the
 * commit time carried by the change, on the one host clock), fetched with /_edgekv/wait;
 * then the key is read at every PoP to confirm the new value is what it serves. Every PoP is
 * read once before the write so the key is cached everywhere and each policy acts on it.
 * With --tolerance-ms, exits 1 when a PoP is off by more than that or did not serve it.
 * --attempts N (default 1) probes again, with a new key, up to N times in all when the only
 * fault was lateness: a busy machine can hold up a PoP's wakeup by milliseconds, which says
 * nothing about the delay model. A PoP that saw the change too early, never saw it, or does
 * not serve it fails at once. Each late attempt is noted on stderr; the last one is shown. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_args.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "hclient.h"
#include "probe.h"
#include "state.h"
#include "text.h"

typedef struct {
    double configured_ms, measured_ms; /* simulated milliseconds; measured < 0: not seen */
    int readable;                      /* the PoP served the new value */
} row_t;

static char key[64]; /* this run's key */

static void fill_urls(ekv_hc_req_t *r, const ekv_state_t *st, const char *method, const char *fmt,
                      const char *arg)
{
    for (size_t i = 0; i < st->npops; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].method = method;
        int n = snprintf(r[i].url, sizeof r[i].url, "%s", st->pops[i].url);
        snprintf(r[i].url + n, sizeof r[i].url - (size_t)n, fmt, arg);
    }
}

static void fini_all(ekv_hc_req_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ekv_hc_req_fini(&r[i]);
}

/* Writes the fresh value at PoP `from`; returns its sequence number, 0 on failure. */
static unsigned long long write_value(const ekv_state_t *st, size_t from, const char *value)
{
    ekv_hc_req_t w = {.method = "PUT", .body = value, .body_len = strlen(value)};
    snprintf(w.url, sizeof w.url, "%s/%s?urlencoded=true", st->pops[from].url, key);
    ekv_hc_run(&w, 1, 15000);
    unsigned long long seq = w.status == 200 && w.version ? strtoull(w.version, NULL, 10) : 0;
    if (!seq)
        fprintf(stderr, "edgekv: the write through %s failed: %d %s\n", st->pops[from].name,
                w.status, w.resp ? w.resp : "(no answer)");
    ekv_hc_req_fini(&w);
    return seq;
}

static void measure(const ekv_state_t *st, unsigned long long seq, const char *value, row_t *rows)
{
    size_t n = st->npops;
    ekv_hc_req_t *r = ekv_calloc(n, sizeof *r);
    char seqs[32];
    snprintf(seqs, sizeof seqs, "%llu", seq);
    fill_urls(r, st, "GET", "/_edgekv/wait?seq=%s&timeout_ms=20000", seqs);
    ekv_hc_run(r, n, 25000);
    for (size_t i = 0; i < n; i++) {
        rows[i].configured_ms = st->pops[i].delay_ms;
        rows[i].measured_ms = -1;
        json_t *j = r[i].status == 200 ? json_loads(r[i].resp, 0, NULL) : NULL;
        if (j) {
            double us = (double)json_integer_value(json_object_get(j, "delay_us"));
            rows[i].measured_ms = us / 1000.0 * st->time_scale;
            json_decref(j);
        }
    }
    fini_all(r, n);
    fill_urls(r, st, "GET", "/%s?urlencoded=true", key);
    ekv_hc_run(r, n, 15000);
    for (size_t i = 0; i < n; i++)
        rows[i].readable = r[i].status == 200 && r[i].resp && strcmp(r[i].resp, value) == 0;
    fini_all(r, n);
    free(r);
}

static void print_rows(const ekv_state_t *st, const row_t *rows, int json, size_t from,
                       unsigned long long seq)
{
    if (json) {
        json_t *pops = json_array();
        for (size_t i = 0; i < st->npops; i++)
            json_array_append_new(
                pops,
                json_pack("{s:s, s:f, s:o, s:b}", "name", st->pops[i].name, "configured_ms",
                          rows[i].configured_ms, "measured_ms",
                          rows[i].measured_ms >= 0 ? json_real(rows[i].measured_ms) : json_null(),
                          "readable", rows[i].readable));
        json_t *j = json_pack("{s:s, s:s, s:I, s:o}", "key", key, "from", st->pops[from].name,
                              "seq", (json_int_t)seq, "pops", pops);
        char *text = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
        json_decref(j);
        return;
    }
    printf("probe: wrote %s (seq %llu) through %s\n", key, seq, st->pops[from].name);
    printf("%-10s %-18s %14s %13s %9s  %s\n", "POP", "CITY", "CONFIGURED_MS", "MEASURED_MS",
           "ERROR_MS", "SERVES NEW VALUE");
    for (size_t i = 0; i < st->npops; i++) {
        const row_t *r = &rows[i];
        printf("%-10s ", st->pops[i].name);
        ekv_text_pad(st->pops[i].city, 18);
        if (r->measured_ms < 0)
            printf(" %14.3f %13s %9s  %s\n", r->configured_ms, "not seen", "-",
                   r->readable ? "yes" : "no");
        else
            printf(" %14.3f %13.3f %+9.3f  %s\n", r->configured_ms, r->measured_ms,
                   r->measured_ms - r->configured_ms, r->readable ? "yes" : "no");
    }
}

static int parse(int argc, char **argv, int *json, const char **from, double *tol, int *attempts)
{
    for (int i = 1; i < argc; i++) {
        long n;
        if (!strcmp(argv[i], "--json"))
            *json = 1;
        else if (!strcmp(argv[i], "--from") && i + 1 < argc)
            *from = argv[++i];
        else if (!strcmp(argv[i], "--tolerance-ms") && i + 1 < argc &&
                 ekv_args_double(argv[i + 1], 0, 1e9, tol) == 0)
            i++;
        else if (!strcmp(argv[i], "--attempts") && i + 1 < argc &&
                 ekv_args_int(argv[i + 1], 1, 10, &n) == 0)
            *attempts = (int)n, i++;
        else {
            fprintf(stderr, "usage: edgekv probe [--json] [--from POP] [--tolerance-ms MS "
                            "[--attempts N (1-10)]]\n");
            return -1;
        }
    }
    return 0;
}

enum { PROBE_OK, PROBE_LATE, PROBE_FAIL };

/* A PoP applies a change no sooner than its delay after the commit stamp, on the same clock;
 * reading that clock twice may put the measurement this much below the delay. */
#define EARLY_SLACK_MS 0.5

/* Judges one probe against the tolerance; with `note`, names every PoP out of it. Late only
 * (PROBE_LATE): every PoP saw the change, none before its delay, and it serves the value. */
static int judge(const ekv_state_t *st, const row_t *rows, double tol, const char *note)
{
    int verdict = PROBE_OK, early = 0;
    for (size_t i = 0; tol >= 0 && i < st->npops; i++) {
        double err = rows[i].measured_ms - rows[i].configured_ms;
        int soon = rows[i].measured_ms >= 0 && err < -EARLY_SLACK_MS;
        int fail = rows[i].measured_ms < 0 || err < -tol || !rows[i].readable;
        early |= soon;
        if (soon && !fail && note)
            fprintf(stderr, "edgekv: %sPoP %s saw the change %.3f ms before its delay\n", note,
                    st->pops[i].name, -err);
        if (!fail && err <= tol)
            continue;
        verdict = fail || verdict == PROBE_FAIL ? PROBE_FAIL : PROBE_LATE;
        if (note && rows[i].measured_ms >= 0 && rows[i].readable)
            fprintf(stderr, "edgekv: %sPoP %s is outside the tolerance of %.3f ms (%+.3f ms)\n",
                    note, st->pops[i].name, tol, err);
        else if (note)
            fprintf(stderr, "edgekv: %sPoP %s is outside the tolerance of %.3f ms (%s)\n", note,
                    st->pops[i].name, tol, rows[i].measured_ms < 0 ? "not seen" : "stale value");
    }
    return verdict == PROBE_LATE && early ? PROBE_FAIL : verdict;
}

/* One probe: warms the key everywhere, writes it through `from` and measures every PoP.
 * Returns the sequence number written (0: the write failed). */
static unsigned long long probe_once(const ekv_state_t *st, size_t from, row_t *rows)
{
    snprintf(key, sizeof key, "edgekv-probe-%lld", (long long)ekv_now_us());
    ekv_hc_req_t *warm = ekv_calloc(st->npops, sizeof *warm);
    fill_urls(warm, st, "GET", "/%s?urlencoded=true", key);
    ekv_hc_run(warm, st->npops, 15000);
    fini_all(warm, st->npops);
    free(warm);
    char value[96];
    snprintf(value, sizeof value, "probe %lld %d", (long long)ekv_now_us(), rand());
    unsigned long long seq = write_value(st, from, value);
    if (seq)
        measure(st, seq, value, rows);
    return seq;
}

int ekv_cmd_probe(int argc, char **argv)
{
    int json = 0, attempts = 1;
    const char *from_name = NULL;
    double tol = -1;
    if (parse(argc, argv, &json, &from_name, &tol, &attempts) != 0)
        return 2;
    ekv_state_t *st = NULL;
    if (ekv_state_load(&st) != 0 || st->npops == 0) {
        fprintf(stderr, "edgekv: nothing is running; start a topology with `edgekv up`\n");
        ekv_state_destroy(&st);
        return 1;
    }
    size_t from = 0;
    while (from_name && from < st->npops && strcmp(st->pops[from].name, from_name) != 0)
        from++;
    int rc = 1;
    if (from == st->npops) {
        fprintf(stderr, "edgekv: no PoP named %s\n", from_name);
        goto out;
    }
    row_t *rows = ekv_calloc(st->npops, sizeof *rows);
    for (int attempt = 1;; attempt++) {
        unsigned long long seq = probe_once(st, from, rows);
        if (!seq)
            break;
        int verdict = judge(st, rows, tol, NULL);
        if (verdict == PROBE_LATE && attempt < attempts) {
            char note[64];
            snprintf(note, sizeof note, "attempt %d of %d: ", attempt, attempts);
            judge(st, rows, tol, note);
            fprintf(stderr, "edgekv: late only (a busy machine delays wakeups): probing again\n");
            continue;
        }
        print_rows(st, rows, json, from, seq);
        judge(st, rows, tol, "");
        rc = verdict == PROBE_OK ? 0 : 1;
        break;
    }
    free(rows);
out:
    ekv_state_destroy(&st);
    return rc;
}
