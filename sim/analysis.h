/* analysis: the measurements of an experiment, computed from raw records (logic only).
 *
 * Inputs are what the run collected: every acknowledged write (key, version = sequence
 * number, commit time), every read (PoP, key, start time, version served; 0 = not found) and,
 * per PoP, the time each change arrived there and the time a read there first returned it.
 * Definitions (DESIGN.md, Measurement):
 *   visibility delay  arrival time minus commit time, per change per PoP;
 *   served delay      served time minus commit time, per change per PoP: when readers there
 *                     could first get it (the arrival under push; under kv and ttl the expiry
 *                     or refresh of the cached copy, and a read asking). Only changes served
 *                     during the run count (a PoP nobody reads never serves a change);
 *   stale read        a read that returned a version older than the newest version of its key
 *                     committed before the read began; its staleness age is how long that
 *                     newer version had existed when the read began;
 *   t-visibility      over reads that began t ms after the newest commit of their key, the
 *                     fraction that returned it (the PBS curve).
 * All times are microseconds of one clock; results are in simulated milliseconds (times are
 * multiplied by the time scale). */
#ifndef EKV_ANALYSIS_H
#define EKV_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t key;      /* key number */
    uint64_t seq;      /* version */
    int64_t commit_us; /* commit time */
} ekv_write_rec_t;

typedef struct {
    uint16_t pop; /* PoP number */
    uint32_t key;
    int64_t start_us; /* when the read was sent */
    int64_t end_us;   /* when its answer arrived */
    uint64_t seq;     /* version served; 0 = not found */
    int ok;           /* 1 when answered (200 or 404) */
} ekv_read_rec_t;

typedef struct {
    uint16_t pop;
    uint64_t seq;
    int64_t visible_us; /* arrival */
    int64_t served_us;  /* first read there that returned it; 0 = none known */
} ekv_vis_rec_t;

#define EKV_SERIES_BINS 60 /* bins of the per-PoP time series, over the reads' span */

typedef struct {
    double p50, p90, p99, max; /* visibility delay (arrival), simulated ms */
    uint64_t changes;          /* changes seen at this PoP */
    double served_p50, served_p90, served_p99, served_max; /* served delay, simulated ms */
    uint64_t served_changes;                               /* changes served at this PoP */
    double served_cdf[21]; /* served delay at 0%, 5%, ... 100% (simulated ms) */
    uint64_t reads, stale_reads, failed_reads;
    double stale_age_p50, stale_age_max; /* simulated ms */
    uint64_t hits_fresh;                 /* reads that returned the newest committed version */
    double cdf[21];                      /* visibility delay at 0%, 5%, ... 100% (simulated ms) */
    float lag[100];                      /* version lag at each of the run's lag sample times */
    uint32_t stale_series[EKV_SERIES_BINS]; /* stale reads begun in each series bin */
    uint32_t read_series[EKV_SERIES_BINS];  /* answered reads begun in each series bin */
} ekv_pop_result_t;

#define EKV_LAG_POINTS 100

#define EKV_TVIS_BINS 64

typedef struct {
    ekv_pop_result_t *pops; /* one per PoP */
    size_t npops;
    uint64_t reads, stale_reads, writes;
    double tvis_t_ms[EKV_TVIS_BINS]; /* bin upper edges, simulated ms */
    double tvis_p[EKV_TVIS_BINS];    /* fraction fresh in the bin (-1 when empty) */
    uint64_t tvis_n[EKV_TVIS_BINS];  /* reads in the bin */
    size_t tvis_bins;
    double lag_t_s[EKV_LAG_POINTS];  /* version lag sample times, simulated s from the start */
    double lag_mean[EKV_LAG_POINTS]; /* committed changes not yet visible, mean over PoPs */
    double lag_max[EKV_LAG_POINTS];  /* ... and at the worst PoP */
    double series_bin_s; /* width of a series bin, simulated s (from the first read's start) */
    double tvis_pred[EKV_TVIS_BINS]; /* predicted fraction fresh per bin (ekv_tvis_predict) */
    int tvis_pred_ok;                /* 1 when tvis_pred holds a prediction */
    char tvis_pred_note[160];        /* else why there is none; with one, a caveat */
} ekv_results_t;

/* Computes every measurement. bin_ms is the width of a t-visibility bin (simulated ms);
 * time_scale converts real microseconds into simulated milliseconds. Inputs may be in any
 * order (they are sorted in place). Free with ekv_results_fini(). */
void ekv_analyze(ekv_write_rec_t *writes, size_t nwrites, ekv_read_rec_t *reads, size_t nreads,
                 ekv_vis_rec_t *vis, size_t nvis, size_t npops, double time_scale, double bin_ms,
                 ekv_results_t *out);
void ekv_results_fini(ekv_results_t *r);

/* Version lag over [start_us, end_us]: at each sample time, how many committed changes each
 * PoP had not yet seen (mean and max over PoPs). Call after ekv_analyze (inputs sorted). */
void ekv_version_lag(const ekv_write_rec_t *writes, size_t nwrites, const ekv_vis_rec_t *vis,
                     size_t nvis, int64_t start_us, int64_t end_us, double time_scale,
                     ekv_results_t *out);

/* Width of a t-visibility bin (simulated ms) so that the 64 bins span what matters: twice the
 * largest one-way delay under push policies (pushes is 1), whose reads turn fresh within a
 * delay; the delay plus cacheTtl otherwise. At least 0.5 ms (push) or 1 ms. */
double ekv_tvis_bin_ms(int pushes, double max_delay_ms, double cache_ttl_s);

typedef struct {
    int64_t at_us; /* when the recovery was applied; 0 = never */
    int pop;       /* the PoP that recovered; -1 = every PoP (the coordinator came back) */
} ekv_recovery_t;

/* Convergence after each of n recoveries (a PoP continued, healed, restarted or sped up; the
 * coordinator restarted): how long until its PoP, or every PoP, had seen every change
 * committed before the recovery, in simulated ms from the recovery (0 when nothing was
 * missing then). out_ms[i] is -1 when a change never became visible there within the
 * records, or the recovery was never applied. Inputs are not modified. */
void ekv_convergence(const ekv_write_rec_t *writes, size_t nwrites, const ekv_vis_rec_t *vis,
                     size_t nvis, size_t npops, const ekv_recovery_t *rec, size_t n,
                     double time_scale, double *out_ms);

/* The stale-read probability of a key under the ttl policy with Poisson writes (rate w per
 * second) and Poisson reads at one PoP (rate r per second), cache lifetime ttl seconds,
 * ignoring link delay: the first read of a cache lifetime fetches (fresh); a read a seconds
 * into it is stale when a write fell in those a seconds:
 *     P = r (T - (1 - e^{-wT}) / w) / (1 + r T). */
double ekv_ttl_stale_ratio(double w, double r, double ttl);

/* ---- the kv world's t-visibility (docs/consistency.md, "What a reader sees") -------------
 *
 * One key, one cache (a PoP's or a tier's) asked by Poisson requests: a request that finds no
 * fresh copy fetches one, which then lives ttl; with refresh-ahead (hot > 0), a hit that is at
 * least the hot-th since the copy was stored and comes late (at least late x ttl after it)
 * is served the copy and stores a new one at once (link delays are taken as zero). Cycles
 * from one fetch to the next are independent, so a request finds the copy's age by
 * renewal-reward (Poisson requests see time averages). */
typedef struct {
    double rate; /* requests per second for the key (Poisson) */
    double ttl;  /* cacheTtl, seconds */
    int hot;     /* refresh-ahead: hits since stored that make a copy hot; 0 = no refresh */
    double late; /* ... share of ttl after which a hot copy's hit refreshes it (0..1) */
} ekv_cache_model_t;

/* Mean time between two fetches of the key (seconds). */
double ekv_cache_cycle_s(const ekv_cache_model_t *m);

/* Share of requests that miss (find no fresh copy and wait for a fetch). */
double ekv_cache_miss_share(const ekv_cache_model_t *m);

/* P(age <= a): the age (seconds since it was fetched) of the copy a request is served; a
 * miss is served age 0. */
double ekv_cache_age_cdf(const ekv_cache_model_t *m, double a);

/* Reader PoPs behind one regional tier. Each PoP's fetches go to the tier, which sees them
 * all: pops / ekv_cache_cycle_s(&pop) requests per second (taken as Poisson; the tier's rate
 * field is ignored). pops = 0: no tier, the PoP fetches from the coordinator. */
typedef struct {
    ekv_cache_model_t pop;  /* one reader PoP: rate = its reads per second of the key */
    size_t pops;            /* identical reader PoPs behind the tier */
    ekv_cache_model_t tier; /* the tier's cacheTtl and refresh-ahead */
} ekv_kv_model_t;

/* The tier's request rate for the key (0 without a tier). */
double ekv_kv_tier_rate(const ekv_kv_model_t *m);

/* P(fresh at t): a read at a PoP t seconds after a write returns it. The data a read gets is
 * as old as the PoP copy's age plus the tier copy's age when the PoP fetched it (independent
 * parts), and it is fresh when that sum is below t: the convolution of the two age CDFs,
 * integrated numerically. */
double ekv_kv_fresh_at(const ekv_kv_model_t *m, double t);

/* The share of stale reads with Poisson writes of rate w per second to the key: a read finds
 * the last write t ago with t exponential of rate w, so 1 - E[P(fresh at t)]. */
double ekv_kv_stale_ratio(const ekv_kv_model_t *m, double w);

/* ---- the predicted t-visibility of a run (docs/consistency.md, "What a reader sees") -----
 *
 * What the model above says the run's t-visibility curve should be, from the world's
 * figures alone. Per key k and PoP i, f_ki(t) is the chance that a read there t ms after the
 * key's newest commit returns it:
 *   push, push-all  fresh once the change arrived (transit = delay + jitter + one rto per
 *                   loss), or when the PoP holds no copy (a miss fetches from the
 *                   coordinator): held once read during the run (push-all: or written);
 *   invalidate      the same; a copy is held before the arrival when a read came since the
 *                   previous change's invalidation (and within cacheTtl);
 *   ttl, kv         the served data's age below t (ekv_cache_age_cdf; through a tier the
 *                   convolution of ekv_kv_fresh_at, the tier seeing every PoP behind it),
 *                   shifted by the one-way delay to the origin; ttl PoPs do not refresh.
 *                   Without tier or refresh-ahead in closed form with the fetch's round
 *                   trip: reads that join a fetch get data that left after them;
 *                   A PoP that made the newest write holds it (read-your-writes): with
 *                   its share q of the writes, q + (1 - q) f.
 * Reads come t after their key's newest commit with density r_ki w_k e^{-w_k t} (Poisson
 * writes), so over keys and PoPs
 *   P(t) = sum r_ki w_k e^{-w_k t} f_ki(t) / sum r_ki w_k e^{-w_k t},
 * and a bin's value is the ratio of the two sums' integrals over the bin, as the observed
 * share is. Keys whose rates are within 2% are taken together, so the cost stays within a
 * fraction of a second for 10,000 keys and 300 PoPs. FIFO delivery behind a slow message is
 * not modelled. Times in simulated ms, rates per simulated second. */
typedef enum {
    EKV_TVIS_PUSH,
    EKV_TVIS_PUSH_ALL,
    EKV_TVIS_INVALIDATE,
    EKV_TVIS_TTL,
    EKV_TVIS_KV
} ekv_tvis_policy_t;

typedef enum {
    EKV_TVIS_JITTER_NONE,
    EKV_TVIS_JITTER_UNIFORM, /* extra delay uniform on [0, jitter_ms] */
    EKV_TVIS_JITTER_NORMAL,  /* delay + N(0, jitter_ms), clamped at 0 */
    EKV_TVIS_JITTER_PARETO   /* extra delay jitter_ms (U^(-1/shape) - 1) */
} ekv_tvis_jitter_t;

typedef struct {
    double delay_ms; /* one-way delay from the coordinator to the PoP */
    ekv_tvis_jitter_t jitter;
    double jitter_ms; /* its scale */
    double shape;     /* pareto shape */
    double loss;      /* probability a transmission is lost */
    double rto_ms;    /* paid per loss */
} ekv_tvis_link_t;

typedef struct {
    ekv_tvis_policy_t policy;
    double reads;         /* read weight: a key's reads here are reads x its read_rate */
    ekv_tvis_link_t link; /* changes' path (push policies); ttl, kv: delay_ms to where it
                           * fetches from (its tier, else the coordinator) */
    int tier;             /* the tier it reads through (ttl, kv); -1: the coordinator */
    double own;           /* share of each key's writes made through it: under ttl and kv its
                           * copy is then its own write (read-your-writes), fresh */
} ekv_tvis_pop_t;

typedef struct {
    double ttl_s;    /* the tier's cacheTtl */
    int hot;         /* its refresh-ahead (ekv_cache_model_t) */
    double late;     /* ... */
    double delay_ms; /* one-way delay tier - coordinator */
    int purge;       /* 1: a change drops the tier's copy (it adds no staleness) */
} ekv_tvis_tier_t;

typedef struct {
    double count;      /* keys alike */
    double read_rate;  /* reads per second of one key at a PoP of read weight 1 */
    double write_rate; /* writes per second of one key (0: it never counts) */
} ekv_tvis_keys_t;

typedef struct {
    const ekv_tvis_pop_t *pops;
    size_t npops;
    const ekv_tvis_tier_t *tiers;
    size_t ntiers;
    const ekv_tvis_keys_t *keys;
    size_t nkeys;
    double cache_ttl_s; /* the reads' cacheTtl */
    int hot;            /* the PoPs' refresh-ahead (kv PoPs only) */
    double late;
    double duration_s; /* of the load: how long PoPs had to fetch a key once (push) */
} ekv_tvis_world_t;

/* Parses "none", "uniform:MS", "normal:MS" or "pareto:MS:SHAPE" into l's jitter fields;
 * -1 when malformed (l unchanged). */
int ekv_tvis_parse_jitter(const char *s, ekv_tvis_link_t *l);

/* P(transit <= t_ms) of one message over the link. */
double ekv_tvis_arrival_cdf(const ekv_tvis_link_t *l, double t_ms);

/* f_ki(t_ms): the chance a read at PoP pop of a key like k, t_ms after the key's newest
 * commit, returns it (direct evaluation: slow through a tier, for tests and spot checks). */
double ekv_tvis_fresh(const ekv_tvis_world_t *w, size_t pop, const ekv_tvis_keys_t *k, double t_ms);

/* The predicted share of fresh reads in each of nbins bins of width bin_ms (simulated ms),
 * bin b covering [b bin_ms, (b + 1) bin_ms), into p[b]; -1 where no read is expected (no key
 * is both read and written). */
void ekv_tvis_predict(const ekv_tvis_world_t *w, double bin_ms, size_t nbins, double *p);

#endif
