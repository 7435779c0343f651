/* checkers: the consistency checkers of an experiment, over its recorded history (history.h).
 * Logic only: no I/O; the history is never modified (the checkers sort copies).
 *
 * Terms.
 *   acknowledged write  a put or delete with a 2xx status and a version (seq != 0); a delete's
 *                       version is a "not found" at that seq.
 *   unknown write       a put or delete with no answer (status 0) or a 5xx, or a 2xx without a
 *                       version: it may have committed at a version we do not know.
 *   judged get          a get answered 200 (found, seq > 0) or 404; other gets are failures,
 *                       counted by status and judged neither way (so is a 200 without a
 *                       version, which is no failure).
 *   version of a get    an interval [lo, hi]. Found: lo = hi = seq. A 404 cannot say which
 *                       not-found it saw (before the first write, after some delete, or an
 *                       expiry), so it is judged as the NEWEST not-found it could have seen
 *                       when it is the later read (hi = the largest seq of an acknowledged
 *                       delete of its key that began before the get ended, 0 when none;
 *                       unbounded if an unknown delete of the key began before the get ended,
 *                       or if the key may expire, opts.may_expire) and as the OLDEST (lo = 0)
 *                       when it is the earlier read. Conservative: a violation is reported
 *                       only if no order of the writes consistent with the answers explains
 *                       it. So 404 after found is older (unless a delete explains it), and
 *                       found at seq < d after an acknowledged delete at d is older.
 *   older               a get is older than version v when hi < v.
 * All times are microseconds of one clock; results in ms are simulated ms (real ms times
 * opts.time_scale).
 *
 * Checkers (each counts violating gets, or pairs, and keeps the EKV_CHK_EXAMPLES smallest):
 *   ryw          read-your-writes, per client: a get by client c of key k that began after an
 *                acknowledged write of k by c ended and is older than that write.
 *                Example: ops[0] the write (of those violated, the one that ended last),
 *                ops[1] the get; span = get start - write end.
 *   mono_client  monotonic reads per client: a get by c of k that began after an earlier get
 *                of k by c ended and is older than that get's lo. Example: ops[0] the earlier
 *                get (of those it is older than, the one that ended last), ops[1] the later;
 *                span = later start - earlier end.
 *   mono_pop     the same over the gets of one PoP (any client).
 *   stale        bounded staleness: a get older than the newest version of its key committed
 *                (commit_us) strictly before the get began; its stale age is get start -
 *                commit time of the first version newer than the get's hi, in simulated ms.
 *                Counted (and kept as examples) only when the age is over opts.bound_ms;
 *                stale_reads and stale_age_max_ms cover every stale get. Example: ops[0]
 *                that first newer write, ops[1] the get; span = the stale age (us, real).
 *   lost_pairs   lost updates on counter keys: two read-modify-writes of one key whose puts
 *                were both acknowledged, whose gets read the same value v and whose puts both
 *                wrote v + 1 (one increment overwrote the other). Counted per pair. Example:
 *                ops[0], ops[1] the get and put of the RMW that started first, ops[2], ops[3]
 *                the other; span = last end - first start of the four. Examples are
 *                drawn from pairs at most 256 apart in start order among the RMWs that read
 *                the same value (the count covers every pair).
 * "Smallest" counterexamples: by span, ties by the later op's start (the get's; for a pair
 * the second RMW's get start), then client, then key. A smaller span is the sharper example:
 * the two operations are closest in time, yet disagree.
 *
 * Lost updates, exactly: per counter key, acknowledged increments (puts with a 2xx status and
 * rmw != 0) minus (final - initial), the final value read from the coordinator at the end
 * (opts.finals). Unknown increments (no answer, 5xx) that did commit make it negative.
 *
 * Metrics (issue 26 item 3) that are functions of the history alone:
 *   ryw_violations = ryw.count, monotonic_violations = mono_client.count + mono_pop.count,
 *   lost_updates (the total above), stale_age_max_ms, rate_limited_writes (writes answered
 *   429, apart from writes_failed, the other failed writes),
 *   p_fresh: over judged gets that began dt simulated ms after the newest commit of their key
 *   (strictly before they began), binned by dt / opts.fresh_bin_ms, the fraction whose hi is
 *   at least that newest version ("returned it"); ekv_checkers_p_fresh_at() reads a bin;
 *   convergence_ms: per acknowledged write w, the last answer time (end_us) of a get that
 *   began after w committed and is older than w, minus w's commit time; max over writes (0
 *   when every read after a commit returned it or newer). */
#ifndef EKV_CHECKERS_H
#define EKV_CHECKERS_H

#include <stddef.h>
#include <stdint.h>

#include "history.h"

#define EKV_CHK_EXAMPLES    5  /* counterexamples kept per checker */
#define EKV_CHK_FRESH_BINS  64 /* p_fresh bins */
#define EKV_CHK_STATUS_KEEP 16 /* distinct (op, status) failure rows kept */

typedef struct {
    uint32_t key;    /* a counter key */
    int64_t initial; /* its value before the run (0 when it did not exist) */
    int64_t final;   /* its value read from the coordinator after the run */
} ekv_chk_final_t;

typedef struct {
    double time_scale;             /* simulated ms per real ms (> 0) */
    double bound_ms;               /* staleness bound B, simulated ms (>= 0) */
    double fresh_bin_ms;           /* p_fresh bin width, simulated ms (> 0) */
    const ekv_chk_final_t *finals; /* counter keys' final values; keys absent: not judged */
    size_t nfinals;                /* entries in finals */
    const uint8_t *may_expire;     /* indexed by key: 1 when written with an expiration (a */
    size_t nmay_expire;            /* 404 may be an expiry: never judged older); NULL ok */
} ekv_chk_opts_t;

typedef struct {
    ekv_hist_op_t ops[4]; /* the operations involved (copies), per checker as above */
    uint8_t nops;         /* 2, or 4 for a lost-update pair */
    int64_t span_us;      /* what "smallest" sorts by (real microseconds) */
} ekv_chk_example_t;

typedef struct {
    uint64_t count;                         /* violations (gets, or pairs) */
    size_t nex;                             /* examples kept, smallest first */
    ekv_chk_example_t ex[EKV_CHK_EXAMPLES]; /* the smallest counterexamples */
} ekv_chk_kind_t;

typedef struct {
    uint32_t key;
    int64_t increments; /* acknowledged RMW puts */
    int64_t initial, final;
    int64_t lost; /* increments - (final - initial) */
} ekv_chk_counter_t;

typedef struct {
    uint8_t op;     /* ekv_hop_t */
    int status;     /* HTTP status, 0 = no answer */
    uint64_t count; /* operations of that kind that failed so */
} ekv_chk_status_t;

typedef struct {
    ekv_chk_kind_t ryw, mono_client, mono_pop, stale, lost_pairs;
    uint64_t gets, gets_judged;  /* every get; the judged ones (above) */
    uint64_t stale_reads;        /* stale gets, any age */
    double stale_age_max_ms;     /* max stale age, simulated ms (0 when none) */
    double bound_ms;             /* the bound the stale checker used */
    ekv_chk_counter_t *counters; /* one per judged counter key (key order); owned */
    size_t ncounters;
    int64_t increments, lost_updates;               /* totals over counters */
    uint64_t writes, writes_ok;                     /* puts and deletes; those acknowledged (2xx) */
    uint64_t rate_limited_writes;                   /* answered 429 */
    uint64_t writes_failed;                         /* any other failure (no answer, 4xx, 5xx) */
    ekv_chk_status_t failures[EKV_CHK_STATUS_KEEP]; /* failed ops by kind and status */
    size_t nfailures;
    uint64_t failures_other; /* failed ops whose (op, status) row did not fit */
    double fresh_bin_ms;
    uint64_t fresh_n[EKV_CHK_FRESH_BINS];   /* judged gets in bin i: dt in [i, i+1) x bin */
    uint64_t fresh_hit[EKV_CHK_FRESH_BINS]; /* ... that returned the newest version */
    double convergence_ms;                  /* simulated ms */
} ekv_checkers_t;

/* Runs every checker over h into *out (which it initialises; free with ekv_checkers_fini).
 * Returns EKV_OK, or EKV_EINVAL when opts are out of range (out is then empty but safe to
 * fini). h->ops is only read. */
int ekv_checkers_run(ekv_checkers_t *out, const ekv_history_t *h, const ekv_chk_opts_t *opts);

/* Frees what ekv_checkers_run allocated; idempotent. */
void ekv_checkers_fini(ekv_checkers_t *c);

/* The fraction of judged gets in the p_fresh bin holding t_ms (simulated ms after the newest
 * commit of the key); -1 when that bin is empty or beyond the last. */
double ekv_checkers_p_fresh_at(const ekv_checkers_t *c, double t_ms);

/* Metric shorthands of issue 26 item 3. */
uint64_t ekv_checkers_monotonic_violations(const ekv_checkers_t *c);

/* The results as a new JSON object (jansson), for results.json and --check: the metrics by
 * their issue 26 names, each checker's count and examples (ops with client, pop, key, op,
 * status, times, seq, value, rmw), counters, failures by status and the p_fresh bins.
 * Implemented in checkers_json.c, which links with jansson (ekv_report), not ekv_analysis.
 * The caller owns the reference. */
struct json_t;
struct json_t *ekv_checkers_json(const ekv_checkers_t *c);

#endif
