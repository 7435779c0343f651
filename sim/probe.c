/* probe: `edgekv probe [--json] [--from POP] [--tolerance-ms MS [--attempts N]]`.
 *
 * Writes a fresh value of a fresh key ("edgekv-probe-<microseconds>", so back-to-back probes
 * never meet the same-key write rate limit) through one PoP and reports, for every PoP and
 * regional tier, the configured one-way delay and two times after the commit:
 *   arrival (MEASURED_MS): when the change reached the node. The node's own record (its apply
 *   time minus the commit time carried by the change, on the one host clock), fetched with
 *   /_edgekv/wait.
 *   served-from (SERVED_MS): when a read there first returned it (/_edgekv/wait?served=1).
 *   Under push it is the arrival; under kv and ttl a cached older copy (found or not found) is
 *   served until its cacheTtl runs out, so the probe reads the key at each PoP every few
 *   simulated seconds until it gets the new value, and gives the reason (when the older copy
 *   expires, from /_edgekv/look).
 * Every PoP is read once before the write so the key is cached everywhere and each policy acts
 * on it (under kv and ttl that caches "not found": probing takes up to a cacheTtl then).
 * With --tolerance-ms, exits 1 when a node's arrival is off by more than that, or a PoP never
 * served the value.
 * --attempts N (default 1) probes again, with a new key, up to N times in all when the only
 * fault was lateness: a busy machine can hold up a PoP's wakeup by milliseconds, which says
 * nothing about the delay model. A node that saw the change too early, never saw it, or a PoP
 * that does not serve it fails at once. Each late attempt is noted on stderr; the last one is
 * shown. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ekv_args.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "hclient.h"
#include "look.h"
#include "probe.h"
#include "state.h"
#include "text.h"

typedef ekv_vis_row_t row_t;

static char key[64]; /* this run's key */

/* Simulated ms between the reads that ask each PoP for the new value, and the margin past the
 * last older copy's expiry before the probe stops asking. */
#define POLL_SIM_MS   2000.0
#define MARGIN_SIM_MS 10000.0

/* Fills r with a GET of base URL + path for each node i with want[i] (all when want is NULL);
 * idx maps each request to its row. Returns the number of requests. */
static size_t fill_urls(ekv_hc_req_t *r, const row_t *rows, size_t n, const char *path,
                        const int *want, size_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (want && !want[i])
            continue;
        memset(&r[m], 0, sizeof r[m]);
        r[m].method = "GET";
        snprintf(r[m].url, sizeof r[m].url, "%s%s", rows[i].proc->url, path);
        idx[m++] = i;
    }
    return m;
}

static void fini_all(ekv_hc_req_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ekv_hc_req_fini(&r[i]);
}

ekv_vis_row_t *ekv_vis_rows(const ekv_state_t *st, size_t *n)
{
    *n = st->npops + st->ntiers;
    ekv_vis_row_t *rows = ekv_calloc(*n ? *n : 1, sizeof *rows);
    for (size_t i = 0; i < *n; i++) {
        rows[i].tier = i >= st->npops;
        rows[i].proc = rows[i].tier ? &st->tiers[i - st->npops] : &st->pops[i];
        rows[i].configured_ms = rows[i].proc->delay_ms;
        rows[i].measured_ms = rows[i].served_ms = rows[i].copy_expires_ms = -1;
    }
    return rows;
}

/* Simulated ms from the commit to t_us (real microseconds). */
static double since(const ekv_state_t *st, int64_t commit_us, int64_t t_us)
{
    return (double)(t_us - commit_us) / 1000.0 * st->time_scale;
}

/* Asks each node what it caches for the key: an older copy, found or not, still fresh is
 * served until it expires. Returns the longest such remaining life at a PoP and at a tier. */
static void look_copies(const ekv_state_t *st, row_t *rows, size_t n, const char *ekey,
                        unsigned long long seq, int64_t commit_us, double *pop_left,
                        double *tier_left)
{
    ekv_hc_req_t *r = ekv_calloc(n ? n : 1, sizeof *r);
    size_t *idx = ekv_calloc(n ? n : 1, sizeof *idx);
    char path[1700];
    snprintf(path, sizeof path, "/_edgekv/look?key=%s", ekey);
    size_t m = fill_urls(r, rows, n, path, NULL, idx);
    ekv_hc_run(r, m, 15000);
    *pop_left = *tier_left = 0;
    for (size_t k = 0; k < m; k++) {
        row_t *w = &rows[idx[k]];
        json_t *j = r[k].status == 200 ? json_loads(r[k].resp, 0, NULL) : NULL;
        json_t *sq = json_object_get(j, "seq"), *ex = json_object_get(j, "expires_in_ms");
        if (json_is_integer(sq) && (unsigned long long)json_integer_value(sq) < seq &&
            json_is_number(ex) && json_number_value(ex) > 0) {
            double left = json_number_value(ex);
            w->copy_expires_ms = since(st, commit_us, r[k].done_us) + left;
            double *most = w->tier ? tier_left : pop_left;
            *most = left > *most ? left : *most;
        }
        json_decref(j);
    }
    fini_all(r, m);
    free(r);
    free(idx);
}

/* A served-from this much later than the arrival gets a reason. */
#define LAG_NOTE_MS 1.0

/* The row of the tier PoP w reads through, NULL when none. */
static const row_t *tier_of(const row_t *rows, size_t n, const row_t *w)
{
    for (size_t i = 0; !w->tier && w->proc->tier[0] && i < n; i++)
        if (rows[i].tier && !strcmp(rows[i].proc->name, w->proc->tier))
            return &rows[i];
    return NULL;
}

/* "+41.0 s", or "+12.9 ms" below a second. */
static const char *at(char *buf, size_t size, double ms)
{
    if (ms >= 1000)
        snprintf(buf, size, "+%.1f s", ms / 1000.0);
    else
        snprintf(buf, size, "+%.1f ms", ms);
    return buf;
}

/* Why row i's served-from lags its arrival, as far as until_ms (simulated, after the commit). */
static void give_reason(row_t *rows, size_t n, size_t i, double until_ms)
{
    row_t *w = &rows[i];
    const row_t *t = tier_of(rows, n, w);
    char e[32], u[32], v[32];
    at(e, sizeof e, w->copy_expires_ms);
    at(u, sizeof u, until_ms);
    w->reason[0] = '\0';
    if (w->served_ms >= 0 && w->measured_ms >= 0 && w->served_ms - w->measured_ms <= LAG_NOTE_MS)
        return;
    /* Past its own copy's expiry by more than the reads' pace: its miss read through the
     * tier got the tier's older copy, fresh for longer. */
    if (w->served_ms >= 0 && t && t->copy_expires_ms > w->copy_expires_ms &&
        w->served_ms > w->copy_expires_ms + POLL_SIM_MS * 1.5)
        snprintf(w->reason, sizeof w->reason, "cached copy expires at %s, tier %s's at %s", e,
                 t->proc->name, at(v, sizeof v, t->copy_expires_ms));
    else if (w->served_ms >= 0 && w->copy_expires_ms >= 0 &&
             w->served_ms + POLL_SIM_MS < w->copy_expires_ms)
        snprintf(w->reason, sizeof w->reason, "cached copy expiring at %s was refreshed ahead", e);
    else if (w->served_ms >= 0 && w->copy_expires_ms >= 0)
        snprintf(w->reason, sizeof w->reason, "cached copy expires at %s", e);
    else if (w->served_ms >= 0)
        snprintf(w->reason, sizeof w->reason, "first read %s at %s",
                 w->tier ? "through it" : "after arrival", at(v, sizeof v, w->served_ms));
    else if (w->copy_expires_ms >= 0)
        snprintf(w->reason, sizeof w->reason, "cached copy expires at %s; not served by %s", e, u);
    else
        snprintf(w->reason, sizeof w->reason, "no read %sreturned it by %s",
                 w->tier ? "through it " : "", u);
}

void ekv_vis_follow(const ekv_state_t *st, ekv_vis_row_t *rows, size_t n, const char *key,
                    const char *value, unsigned long long seq, int64_t commit_us,
                    void (*on_served)(void *arg, size_t i), void *arg)
{
    double ts = st->time_scale > 0 ? st->time_scale : 1;
    char ekey[1600], read_path[1700], served_path[96];
    ekv_look_pct(ekey, sizeof ekey, key);
    snprintf(read_path, sizeof read_path, "/%s?urlencoded=true", ekey);
    snprintf(served_path, sizeof served_path, "/_edgekv/wait?seq=%llu&timeout_ms=1&served=1", seq);
    double pop_left, tier_left;
    look_copies(st, rows, n, ekey, seq, commit_us, &pop_left, &tier_left);
    /* A PoP's expired copy may be fetched again from a tier's older copy: both lives count. */
    int64_t deadline =
        ekv_mono_us() + (int64_t)((pop_left + tier_left + MARGIN_SIM_MS) / ts * 1000.0);
    /* A cacheTtl at time scale 1 is a minute of waiting: say so. */
    if ((pop_left + tier_left) / ts > 5000)
        fprintf(stderr,
                "edgekv: older copies are cached for up to %.0f s more (%.0f s real); reading "
                "the key until every PoP serves the new value\n",
                (pop_left + tier_left) / 1000.0, (pop_left + tier_left) / ts / 1000.0);
    double poll_ms = POLL_SIM_MS / ts;
    poll_ms = poll_ms < 20 ? 20 : poll_ms > 2000 ? 2000 : poll_ms;
    ekv_hc_req_t *r = ekv_calloc(n ? n : 1, sizeof *r);
    size_t *idx = ekv_calloc(n ? n : 1, sizeof *idx);
    int *want = ekv_calloc(n ? n : 1, sizeof *want);
    for (;;) {
        /* Reads ask for the key where it is not served yet: that is what serves it. Where an
         * older copy is fresh, not before it expires: a read could only get that copy, and
         * reads make a copy hot, which refreshes it ahead of its expiry (not what a quiet
         * PoP's readers see). */
        double now_ms = since(st, commit_us, ekv_now_us()), next_ms = now_ms + POLL_SIM_MS;
        for (size_t i = 0; i < n; i++) {
            want[i] = !rows[i].tier && rows[i].served_ms < 0 && now_ms >= rows[i].copy_expires_ms;
            if (!rows[i].tier && rows[i].served_ms < 0 && !want[i] &&
                rows[i].copy_expires_ms < next_ms)
                next_ms = rows[i].copy_expires_ms;
        }
        size_t m = fill_urls(r, rows, n, read_path, want, idx);
        ekv_hc_run(r, m, 15000);
        fini_all(r, m);
        for (size_t i = 0; i < n; i++)
            want[i] = rows[i].served_ms < 0;
        m = fill_urls(r, rows, n, served_path, want, idx);
        ekv_hc_run(r, m, 15000);
        for (size_t k = 0; k < m; k++) {
            json_t *j = r[k].status == 200 ? json_loads(r[k].resp, 0, NULL) : NULL;
            json_t *sv = json_object_get(j, "served_us");
            if (json_is_integer(sv)) {
                rows[idx[k]].served_ms = since(st, commit_us, json_integer_value(sv));
                give_reason(rows, n, idx[k], rows[idx[k]].served_ms);
                if (on_served)
                    on_served(arg, idx[k]);
            }
            json_decref(j);
        }
        fini_all(r, m);
        size_t pops_left = 0;
        for (size_t i = 0; i < n; i++)
            pops_left += !rows[i].tier && rows[i].served_ms < 0;
        /* With every PoP serving it, no read will reach a tier that has not served it. */
        if (!pops_left || ekv_mono_us() >= deadline)
            break;
        /* Until the next round, or just past the next copy's expiry, whichever is sooner. */
        double nap_ms = (next_ms - since(st, commit_us, ekv_now_us())) / ts + 1;
        nap_ms = nap_ms < 1 ? 1 : nap_ms > poll_ms ? poll_ms : nap_ms;
        struct timespec nap = {(time_t)(nap_ms / 1000), (long)(fmod(nap_ms, 1000) * 1e6)};
        nanosleep(&nap, NULL);
    }
    for (size_t i = 0; i < n; i++)
        give_reason(rows, n, i, since(st, commit_us, ekv_now_us()));
    /* What each PoP serves now, the last word on whether it serves the new value. */
    for (size_t i = 0; i < n; i++)
        want[i] = !rows[i].tier;
    size_t m = fill_urls(r, rows, n, read_path, want, idx);
    ekv_hc_run(r, m, 15000);
    for (size_t k = 0; k < m; k++)
        rows[idx[k]].readable = r[k].status == 200 && r[k].resp && strcmp(r[k].resp, value) == 0;
    fini_all(r, m);
    free(r);
    free(idx);
    free(want);
}

/* Writes the fresh value at PoP `from`; returns its sequence number, 0 on failure. */
static unsigned long long write_value(const ekv_state_t *st, size_t from, const char *value,
                                      int64_t *commit_us)
{
    ekv_hc_req_t w = {.method = "PUT", .body = value, .body_len = strlen(value)};
    snprintf(w.url, sizeof w.url, "%s/%s?urlencoded=true", st->pops[from].url, key);
    ekv_hc_run(&w, 1, 15000);
    unsigned long long seq = w.status == 200 && w.version ? strtoull(w.version, NULL, 10) : 0;
    *commit_us = w.commit_us ? strtoll(w.commit_us, NULL, 10) : 0;
    if (!seq)
        fprintf(stderr, "edgekv: the write through %s failed: %d %s\n", st->pops[from].name,
                w.status, w.resp ? w.resp : "(no answer)");
    ekv_hc_req_fini(&w);
    return seq;
}

/* Each node's arrival of change seq: its own record; the commit time too when the write's
 * reply had none. */
static void arrivals(const ekv_state_t *st, row_t *rows, size_t n, unsigned long long seq,
                     int64_t *commit_us)
{
    ekv_hc_req_t *r = ekv_calloc(n ? n : 1, sizeof *r);
    size_t *idx = ekv_calloc(n ? n : 1, sizeof *idx);
    char path[96];
    snprintf(path, sizeof path, "/_edgekv/wait?seq=%llu&timeout_ms=20000", seq);
    size_t m = fill_urls(r, rows, n, path, NULL, idx);
    ekv_hc_run(r, m, 25000);
    for (size_t k = 0; k < m; k++) {
        json_t *j = r[k].status == 200 ? json_loads(r[k].resp, 0, NULL) : NULL;
        if (j) {
            double us = (double)json_integer_value(json_object_get(j, "delay_us"));
            rows[idx[k]].measured_ms = us / 1000.0 * st->time_scale;
            if (!*commit_us)
                *commit_us = json_integer_value(json_object_get(j, "commit_us"));
            json_decref(j);
        }
    }
    fini_all(r, m);
    free(r);
    free(idx);
}

static json_t *ms_or_null(double ms)
{
    return ms >= 0 ? json_real(ms) : json_null();
}

static json_t *rows_json(const row_t *rows, size_t n, int tiers)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const row_t *w = &rows[i];
        if (w->tier != tiers)
            continue;
        json_array_append_new(a, json_pack("{s:s, s:f, s:o, s:o, s:o, s:o, s:o}", "name",
                                           w->proc->name, "configured_ms", w->configured_ms,
                                           "measured_ms", ms_or_null(w->measured_ms), "readable",
                                           w->tier ? json_null() : json_boolean(w->readable),
                                           "served_ms", ms_or_null(w->served_ms), "copy_expires_ms",
                                           ms_or_null(w->copy_expires_ms), "reason",
                                           w->reason[0] ? json_string(w->reason) : json_null()));
    }
    return a;
}

static void print_rows(const ekv_state_t *st, const row_t *rows, size_t n, int json, size_t from,
                       unsigned long long seq)
{
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:o}", "key", key, "from", st->pops[from].name,
                              "seq", (json_int_t)seq, "pops", rows_json(rows, n, 0), "tiers",
                              rows_json(rows, n, 1));
        char *text = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
        json_decref(j);
        return;
    }
    printf("probe: wrote %s (seq %llu) through %s\n", key, seq, st->pops[from].name);
    printf("%-10s %-18s %14s %13s %9s  %-16s %11s  %s\n", "POP", "CITY", "CONFIGURED_MS",
           "MEASURED_MS", "ERROR_MS", "SERVES NEW VALUE", "SERVED_MS", "REASON");
    for (size_t i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        char name[80], served[32];
        snprintf(name, sizeof name, "%s%s", r->proc->name, r->tier ? " (tier)" : "");
        snprintf(served, sizeof served, r->served_ms >= 0 ? "%.3f" : "not served", r->served_ms);
        const char *serves = r->tier ? "-" : r->readable ? "yes" : "no";
        printf("%-10s ", name);
        ekv_text_pad(r->proc->city, 18);
        if (r->measured_ms < 0)
            printf(" %14.3f %13s %9s  %-16s %11s  %s\n", r->configured_ms, "not seen", "-", serves,
                   served, r->reason);
        else
            printf(" %14.3f %13.3f %+9.3f  %-16s %11s  %s\n", r->configured_ms, r->measured_ms,
                   r->measured_ms - r->configured_ms, serves, served, r->reason);
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

/* Judges one probe against the tolerance; with `note`, names every node out of it. Late only
 * (PROBE_LATE): every node saw the change, none before its delay, and every PoP serves the
 * value (a tier is not read directly). */
static int judge(const row_t *rows, size_t n, double tol, const char *note)
{
    int verdict = PROBE_OK, early = 0;
    for (size_t i = 0; tol >= 0 && i < n; i++) {
        double err = rows[i].measured_ms - rows[i].configured_ms;
        int soon = rows[i].measured_ms >= 0 && err < -EARLY_SLACK_MS;
        int readable = rows[i].tier || rows[i].readable;
        int fail = rows[i].measured_ms < 0 || err < -tol || !readable;
        early |= soon;
        if (soon && !fail && note)
            fprintf(stderr, "edgekv: %s%s %s saw the change %.3f ms before its delay\n", note,
                    rows[i].tier ? "tier" : "PoP", rows[i].proc->name, -err);
        if (!fail && err <= tol)
            continue;
        verdict = fail || verdict == PROBE_FAIL ? PROBE_FAIL : PROBE_LATE;
        if (note && rows[i].measured_ms >= 0 && readable)
            fprintf(stderr, "edgekv: %s%s %s is outside the tolerance of %.3f ms (%+.3f ms)\n",
                    note, rows[i].tier ? "tier" : "PoP", rows[i].proc->name, tol, err);
        else if (note)
            fprintf(stderr, "edgekv: %s%s %s is outside the tolerance of %.3f ms (%s)\n", note,
                    rows[i].tier ? "tier" : "PoP", rows[i].proc->name, tol,
                    rows[i].measured_ms < 0 ? "not seen" : "stale value");
    }
    return verdict == PROBE_LATE && early ? PROBE_FAIL : verdict;
}

/* One probe: warms the key at every PoP, writes it through `from` and follows it at every
 * node. Returns the sequence number written (0: the write failed). */
static unsigned long long probe_once(const ekv_state_t *st, size_t from, row_t *rows, size_t n)
{
    snprintf(key, sizeof key, "edgekv-probe-%lld", (long long)ekv_now_us());
    for (size_t i = 0; i < n; i++) {
        rows[i].measured_ms = rows[i].served_ms = rows[i].copy_expires_ms = -1;
        rows[i].readable = 0;
        rows[i].reason[0] = '\0';
    }
    ekv_hc_req_t *warm = ekv_calloc(n ? n : 1, sizeof *warm);
    size_t *idx = ekv_calloc(n ? n : 1, sizeof *idx);
    int *want = ekv_calloc(n ? n : 1, sizeof *want);
    char path[96];
    snprintf(path, sizeof path, "/%s?urlencoded=true", key);
    for (size_t i = 0; i < n; i++)
        want[i] = !rows[i].tier;
    size_t m = fill_urls(warm, rows, n, path, want, idx);
    ekv_hc_run(warm, m, 15000);
    fini_all(warm, m);
    free(warm);
    free(idx);
    free(want);
    char value[96];
    snprintf(value, sizeof value, "probe %lld %d", (long long)ekv_now_us(), rand());
    int64_t commit_us = 0;
    unsigned long long seq = write_value(st, from, value, &commit_us);
    if (seq) {
        arrivals(st, rows, n, seq, &commit_us);
        ekv_vis_follow(st, rows, n, key, value, seq, commit_us, NULL, NULL);
    }
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
    size_t n;
    row_t *rows = ekv_vis_rows(st, &n);
    for (int attempt = 1;; attempt++) {
        unsigned long long seq = probe_once(st, from, rows, n);
        if (!seq)
            break;
        int verdict = judge(rows, n, tol, NULL);
        if (verdict == PROBE_LATE && attempt < attempts) {
            char note[64];
            snprintf(note, sizeof note, "attempt %d of %d: ", attempt, attempts);
            judge(rows, n, tol, note);
            fprintf(stderr, "edgekv: late only (a busy machine delays wakeups): probing again\n");
            continue;
        }
        print_rows(st, rows, n, json, from, seq);
        judge(rows, n, tol, "");
        rc = verdict == PROBE_OK ? 0 : 1;
        break;
    }
    free(rows);
out:
    ekv_state_destroy(&st);
    return rc;
}
