/* analysis_test: unit tests of the measurements of an experiment (sim/analysis).
 *
 * Every number in results.json and report.html comes from ekv_analyze, so the tests build the
 * raw records by hand (writes with their commit times, reads with what they returned, the
 * moment each change became visible at each PoP) and check the measurements against the
 * definitions of analysis.h and DESIGN.md:
 *   visibility delay = visible - commit, per change per PoP, in simulated ms (x time_scale);
 *   a read is stale when it returned a version older than the newest version of its key
 *   committed (strictly) before the read began; its age is read start - that commit;
 *   a version committed after the read began is a fresh answer; a key with no commit yet
 *   cannot be read stale; failed reads are counted apart and judged neither way;
 *   t-visibility bins reads by the time since the newest commit of their key.
 * Quantiles are checked on data built in blocks, so that any rank convention (nearest rank,
 * interpolation) gives the same answer; the tests pin the definitions, not the convention.
 * Records are handed over shuffled, as the runner collects them from many PoPs.
 * Every result is freed with ekv_results_fini; the program runs clean under ASan. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "analysis.h"
#include "ekv_test.h"

#define MS 1000               /* microseconds per millisecond */
#define S  1000000            /* ... per second */
#define T0 1700000000000000LL /* a realistic CLOCK_REALTIME origin (microseconds) */

/* Deterministic shuffles, so the analysis cannot rely on the order records arrive in. */
static uint64_t g_rng = 12345;

static size_t pick(size_t n)
{
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (size_t)((g_rng >> 33) % n);
}

#define SHUFFLE(arr, n)                                                                            \
    do {                                                                                           \
        for (size_t i_ = (n); i_ > 1; i_--) {                                                      \
            size_t j_ = pick(i_);                                                                  \
            __typeof__((arr)[0]) t_ = (arr)[i_ - 1];                                               \
            (arr)[i_ - 1] = (arr)[j_];                                                             \
            (arr)[j_] = t_;                                                                        \
        }                                                                                          \
    } while (0)

static ekv_read_rec_t rd(uint16_t pop, uint32_t key, int64_t start_us, uint64_t seq)
{
    return (ekv_read_rec_t){pop, key, start_us, start_us + 1 * MS, seq, 1};
}

/* ---- visibility delay ------------------------------------------------------------------- */

/* 1000 changes; PoP 0 sees them after 10 ms (450 of them), 20 ms (430), 30 ms (100),
 * 50 ms (15) and 80 ms (5): p50 = 20, p90 = 30, p99 = 50, max = 80 under any convention.
 * PoP 1 sees every change after exactly 7 ms. */
static void test_visibility_percentiles(void)
{
    enum { N = 1000 };
    static ekv_write_rec_t w[N];
    static ekv_vis_rec_t v[2 * N + 2];
    size_t nv = 0;
    for (size_t i = 0; i < N; i++) {
        int64_t commit = T0 + (int64_t)i * 100 * MS;
        w[i] = (ekv_write_rec_t){(uint32_t)(i % 7), i + 1, commit};
        int64_t d = i < 450 ? 10 : i < 880 ? 20 : i < 980 ? 30 : i < 995 ? 50 : 80;
        v[nv++] = (ekv_vis_rec_t){0, i + 1, commit + d * MS, 0};
        v[nv++] = (ekv_vis_rec_t){1, i + 1, commit + 7 * MS, 0};
    }
    /* A change that is not one of the experiment's writes (made before the run, say) is not
     * a visibility sample of any PoP. */
    v[nv++] = (ekv_vis_rec_t){0, 5000, T0 + 999 * S, 0};
    v[nv++] = (ekv_vis_rec_t){1, 5001, T0, 0};
    SHUFFLE(w, N);
    SHUFFLE(v, nv);
    ekv_results_t r;
    ekv_analyze(w, N, NULL, 0, v, nv, 2, 1.0, 10, &r);
    CHECK_EQ(r.npops, 2);
    CHECK_EQ(r.writes, N);
    const ekv_pop_result_t *p = &r.pops[0];
    CHECK_EQ(p->changes, N);
    CHECK_NEAR(p->p50, 20, 1e-9);
    CHECK_NEAR(p->p90, 30, 1e-9);
    CHECK_NEAR(p->p99, 50, 1e-9);
    CHECK_NEAR(p->max, 80, 1e-9);
    /* The CDF runs from the smallest delay to the largest, through the median. */
    CHECK_NEAR(p->cdf[0], 10, 1e-9);
    CHECK_NEAR(p->cdf[10], 20, 1e-9);
    CHECK_NEAR(p->cdf[20], 80, 1e-9);
    for (int q = 1; q <= 20; q++)
        CHECK(p->cdf[q] >= p->cdf[q - 1]);
    p = &r.pops[1];
    CHECK_EQ(p->changes, N);
    CHECK_NEAR(p->p50, 7, 1e-9);
    CHECK_NEAR(p->p99, 7, 1e-9);
    CHECK_NEAR(p->max, 7, 1e-9);
    CHECK_NEAR(p->cdf[0], 7, 1e-9);
    ekv_results_fini(&r);
    CHECK(r.pops == NULL);
}

/* Real microseconds become simulated milliseconds: at time_scale 10, a change seen 2 ms (real)
 * after its commit was seen 20 simulated ms after it. A PoP that saw nothing reports zeros. */
static void test_visibility_time_scale(void)
{
    ekv_write_rec_t w[2] = {{1, 1, T0}, {2, 2, T0 + 5 * S}};
    ekv_vis_rec_t v[3] = {
        {0, 1, T0 + 2 * MS, 0}, {0, 2, T0 + 5 * S + 3500, 0}, {1, 2, T0 + 5 * S, 0}};
    ekv_results_t r;
    ekv_analyze(w, 2, NULL, 0, v, 3, 3, 10.0, 10, &r);
    CHECK_EQ(r.pops[0].changes, 2);
    CHECK_NEAR(r.pops[0].p50, 20, 1e-6);
    CHECK_NEAR(r.pops[0].max, 35, 1e-6);
    CHECK_EQ(r.pops[1].changes, 1);
    CHECK_NEAR(r.pops[1].max, 0, 1e-9); /* seen at its commit time: no delay */
    CHECK_EQ(r.pops[2].changes, 0);
    CHECK_NEAR(r.pops[2].p50, 0, 1e-9);
    CHECK_NEAR(r.pops[2].p99, 0, 1e-9);
    CHECK_NEAR(r.pops[2].max, 0, 1e-9);
    ekv_results_fini(&r);
}

/* ---- served visibility ------------------------------------------------------------------ */

/* Under kv a change arrives at a PoP in milliseconds and is served only when the cached copy
 * expires and a read asks: 100 changes arrive at PoP 0 after 20 ms and are served after 41 s
 * (95 of them) or 59 s (5); PoP 1 (push) serves each at its arrival, 7 ms. Arrival and served
 * percentiles are kept apart: the arrival ones are what they were, the served ones what
 * readers got. A change never served there (no read asked) counts for arrival only, and a
 * served time a clock read puts before the commit is no delay, not a negative one. */
static void test_served_vs_arrival(void)
{
    enum { N = 100 };
    static ekv_write_rec_t w[N];
    static ekv_vis_rec_t v[2 * N + 1];
    size_t nv = 0;
    for (size_t i = 0; i < N; i++) {
        int64_t commit = T0 + (int64_t)i * S;
        w[i] = (ekv_write_rec_t){(uint32_t)i, i + 1, commit};
        int64_t served = commit + (i < 95 ? 41 : 59) * S;
        v[nv++] = (ekv_vis_rec_t){0, i + 1, commit + 20 * MS, served};
        v[nv++] = (ekv_vis_rec_t){1, i + 1, commit + 7 * MS, i == 0 ? commit - 3 : commit + 7 * MS};
    }
    v[nv++] = (ekv_vis_rec_t){2, 1, T0 + 30 * MS, 0}; /* arrived, never served */
    SHUFFLE(w, N);
    SHUFFLE(v, nv);
    ekv_results_t r;
    ekv_analyze(w, N, NULL, 0, v, nv, 3, 1.0, 10, &r);
    const ekv_pop_result_t *p = &r.pops[0];
    CHECK_EQ(p->changes, N);
    CHECK_EQ(p->served_changes, N);
    CHECK_NEAR(p->p50, 20, 1e-9);
    CHECK_NEAR(p->max, 20, 1e-9);
    CHECK_NEAR(p->served_p50, 41000, 1e-9);
    CHECK_NEAR(p->served_p90, 41000, 1e-9);
    CHECK_NEAR(p->served_p99, 59000, 1e-9);
    CHECK_NEAR(p->served_max, 59000, 1e-9);
    CHECK_NEAR(p->served_cdf[0], 41000, 1e-9);
    CHECK_NEAR(p->served_cdf[20], 59000, 1e-9);
    p = &r.pops[1];
    CHECK_NEAR(p->p99, 7, 1e-9);
    CHECK_NEAR(p->served_cdf[0], 0, 1e-9); /* the early clock read */
    CHECK_NEAR(p->served_p50, 7, 1e-9);
    CHECK_NEAR(p->served_max, 7, 1e-9);
    p = &r.pops[2];
    CHECK_EQ(p->changes, 1);
    CHECK_EQ(p->served_changes, 0);
    CHECK_NEAR(p->p50, 30, 1e-9);
    CHECK_NEAR(p->served_p50, 0, 1e-9);
    CHECK_NEAR(p->served_max, 0, 1e-9);
    ekv_results_fini(&r);
}

/* Served times follow the time scale as arrival times do: 2.05 s real at time scale 20 is
 * 41 simulated seconds. */
static void test_served_time_scale(void)
{
    ekv_write_rec_t w[1] = {{0, 1, T0}};
    ekv_vis_rec_t v[1] = {{0, 1, T0 + 1 * MS, T0 + 2050 * MS}};
    ekv_results_t r;
    ekv_analyze(w, 1, NULL, 0, v, 1, 1, 20.0, 10, &r);
    CHECK_NEAR(r.pops[0].p50, 20, 1e-6);
    CHECK_NEAR(r.pops[0].served_p50, 41000, 1e-6);
    ekv_results_fini(&r);
}

/* ---- stale reads ------------------------------------------------------------------------ */

/* Key 1: version 1 committed at T0 + 1 s, version 2 at T0 + 2 s. Key 2: version 3 at T0 + 3 s.
 * Key 9 is never written. Reads at PoP 0 (times from T0): */
static void test_stale_reads(void)
{
    ekv_write_rec_t w[3] = {{1, 1, T0 + 1 * S}, {1, 2, T0 + 2 * S}, {2, 3, T0 + 3 * S}};
    ekv_read_rec_t reads[] = {
        rd(0, 1, T0 + 500 * MS, 0),  /* before any commit, not found: fresh (not judged) */
        rd(0, 1, T0 + 1500 * MS, 1), /* newest is v1: fresh */
        rd(0, 1, T0 + 1500 * MS, 0), /* v1 existed for 500 ms, "not found": STALE, 500 */
        rd(0, 1, T0 + 1900 * MS, 2), /* v2 committed after the read began: fresh */
        rd(0, 1, T0 + 2 * S, 1),     /* began the microsecond v2 committed: v1 is newest */
        rd(0, 1, T0 + 2250 * MS, 1), /* v2 existed for 250 ms: STALE, 250 */
        rd(0, 1, T0 + 2250 * MS, 2), /* fresh */
        rd(0, 1, T0 + 3500 * MS, 1), /* v2 existed for 1500 ms: STALE, 1500 */
        rd(0, 2, T0 + 2999 * MS, 0), /* key 2 not yet written: fresh */
        rd(0, 2, T0 + 3 * S + 1, 3), /* fresh */
        rd(0, 9, T0 + 9 * S, 0),     /* a key never written: never stale */
        rd(1, 1, T0 + 4 * S, 2),     /* PoP 1: fresh */
        rd(1, 1, T0 + 4 * S, 1),     /* PoP 1: STALE, 2000 */
    };
    size_t n = sizeof reads / sizeof reads[0];
    /* Failed reads (timeouts, 5xx) are counted as reads and as failed, never as stale, even
     * when what they carry would be old. */
    ekv_read_rec_t failed[] = {
        {0, 1, T0 + 3 * S, T0 + 4 * S, 0, 0},
        {0, 1, T0 + 3 * S, T0 + 4 * S, 1, 0},
        {1, 2, T0 + 5 * S, T0 + 6 * S, 0, 0},
    };
    ekv_read_rec_t all[sizeof reads / sizeof reads[0] + 3];
    memcpy(all, reads, sizeof reads);
    memcpy(all + n, failed, sizeof failed);
    n += 3;
    SHUFFLE(all, n);
    ekv_results_t r;
    ekv_analyze(w, 3, all, n, NULL, 0, 2, 1.0, 100, &r);
    CHECK_EQ(r.reads, n);
    CHECK_EQ(r.stale_reads, 4);
    const ekv_pop_result_t *p0 = &r.pops[0], *p1 = &r.pops[1];
    CHECK_EQ(p0->reads, 13);
    CHECK_EQ(p0->failed_reads, 2);
    CHECK_EQ(p0->stale_reads, 3);
    CHECK_EQ(p0->hits_fresh, 5); /* the fresh answers to keys that had a commit */
    CHECK_NEAR(p0->stale_age_p50, 500, 1e-9);
    CHECK_NEAR(p0->stale_age_max, 1500, 1e-9);
    CHECK_EQ(p1->reads, 3);
    CHECK_EQ(p1->failed_reads, 1);
    CHECK_EQ(p1->stale_reads, 1);
    CHECK_EQ(p1->hits_fresh, 1);
    CHECK_NEAR(p1->stale_age_p50, 2000, 1e-9);
    CHECK_NEAR(p1->stale_age_max, 2000, 1e-9);
    /* The series: 60 bins over the reads' starts (T0 + 0.5 s .. T0 + 9 s, 8.5/60 s each);
     * every answered read in the bin it began in, each stale one too. */
    CHECK_NEAR(r.series_bin_s, 8.5 / 60, 1e-9);
    uint32_t answered[2] = {0, 0}, stale[2] = {0, 0};
    for (int b = 0; b < EKV_SERIES_BINS; b++)
        for (int k = 0; k < 2; k++) {
            answered[k] += r.pops[k].read_series[b];
            stale[k] += r.pops[k].stale_series[b];
        }
    CHECK_EQ(answered[0], 11);
    CHECK_EQ(answered[1], 2);
    CHECK_EQ(stale[0], 3);
    CHECK_EQ(stale[1], 1);
    CHECK_EQ(p0->stale_series[7], 1);                  /* T0 + 1.5 s: 1.0 s into the span */
    CHECK_EQ(p0->stale_series[12], 1);                 /* T0 + 2.25 s */
    CHECK_EQ(p0->stale_series[21], 1);                 /* T0 + 3.5 s */
    CHECK_EQ(p1->stale_series[24], 1);                 /* T0 + 4 s */
    CHECK_EQ(p0->read_series[EKV_SERIES_BINS - 1], 1); /* the last read, T0 + 9 s */
    ekv_results_fini(&r);
}

/* Staleness ages are simulated too: 300 real ms at time_scale 4 is 1200 simulated ms. A read
 * record naming a PoP beyond the topology is ignored rather than written out of bounds. */
static void test_stale_age_time_scale(void)
{
    ekv_write_rec_t w[2] = {{4, 10, T0}, {4, 11, T0 + 100 * MS}};
    ekv_read_rec_t reads[4] = {rd(0, 4, T0 + 400 * MS, 10), rd(0, 4, T0 + 50 * MS, 10),
                               rd(1, 4, T0 + 400 * MS, 10), rd(7, 4, T0 + 400 * MS, 10)};
    ekv_results_t r;
    ekv_analyze(w, 2, reads, 4, NULL, 0, 1, 4.0, 10, &r);
    CHECK_EQ(r.reads, 2);
    CHECK_EQ(r.pops[0].stale_reads, 1);
    CHECK_NEAR(r.pops[0].stale_age_max, 1200, 1e-6);
    CHECK_NEAR(r.pops[0].stale_age_p50, 1200, 1e-6);
    ekv_results_fini(&r);
}

/* No traffic at all: zeros everywhere and every t-visibility bin empty (p = -1). */
static void test_empty(void)
{
    ekv_results_t r;
    ekv_analyze(NULL, 0, NULL, 0, NULL, 0, 2, 1.0, 5, &r);
    CHECK_EQ(r.npops, 2);
    CHECK_EQ(r.reads, 0);
    CHECK_EQ(r.stale_reads, 0);
    CHECK_EQ(r.writes, 0);
    CHECK_EQ(r.pops[1].changes, 0);
    CHECK_NEAR(r.pops[1].stale_age_max, 0, 1e-9);
    CHECK_EQ(r.tvis_bins, EKV_TVIS_BINS);
    for (size_t b = 0; b < EKV_TVIS_BINS; b++) {
        CHECK_EQ(r.tvis_n[b], 0);
        CHECK_NEAR(r.tvis_p[b], -1, 1e-12);
    }
    ekv_results_fini(&r);
}

/* ---- t-visibility ----------------------------------------------------------------------- */

/* Key 0 committed (version 1) at T0; bins of 10 simulated ms. Reads t ms after the commit:
 *   bin [0, 10):  t = 1 (fresh), 9 (stale)              n = 2, p = 0.5
 *   bin [10, 20): t = 10 (fresh), 15 (fresh), 19 (stale) n = 3, p = 2/3
 *   bin [20, 30): none                                    n = 0, p = -1
 *   bin [30, 40): t = 35 (fresh)                          n = 1, p = 1
 *   bin [630, 640): t = 639 (stale)                       the last bin
 * Not binned: a read 640 ms after (past the last bin, still judged stale), a read before
 * any commit, and a failed read. */
static void test_t_visibility_bins(void)
{
    ekv_write_rec_t w[1] = {{0, 1, T0}};
    ekv_read_rec_t reads[] = {
        rd(2, 0, T0 + 1 * MS, 1),   rd(2, 0, T0 + 9 * MS, 0),
        rd(2, 0, T0 + 10 * MS, 1),  rd(2, 0, T0 + 15 * MS, 1),
        rd(2, 0, T0 + 19 * MS, 0),  rd(2, 0, T0 + 35 * MS, 1),
        rd(2, 0, T0 + 639 * MS, 0), rd(2, 0, T0 + 640 * MS, 0),
        rd(2, 0, T0 - 1 * MS, 0),   {2, 0, T0 + 5 * MS, T0 + 6 * MS, 0, 0},
    };
    size_t n = sizeof reads / sizeof reads[0];
    SHUFFLE(reads, n);
    ekv_results_t r;
    ekv_analyze(w, 1, reads, n, NULL, 0, 3, 1.0, 10, &r);
    CHECK_EQ(r.tvis_bins, EKV_TVIS_BINS);
    for (size_t b = 0; b < EKV_TVIS_BINS; b++)
        CHECK_NEAR(r.tvis_t_ms[b], 10.0 * (double)(b + 1), 1e-9); /* upper edges */
    CHECK_EQ(r.tvis_n[0], 2);
    CHECK_NEAR(r.tvis_p[0], 0.5, 1e-12);
    CHECK_EQ(r.tvis_n[1], 3);
    CHECK_NEAR(r.tvis_p[1], 2.0 / 3.0, 1e-12);
    CHECK_EQ(r.tvis_n[2], 0);
    CHECK_NEAR(r.tvis_p[2], -1, 1e-12);
    CHECK_EQ(r.tvis_n[3], 1);
    CHECK_NEAR(r.tvis_p[3], 1, 1e-12);
    CHECK_EQ(r.tvis_n[63], 1);
    CHECK_NEAR(r.tvis_p[63], 0, 1e-12);
    uint64_t binned = 0;
    for (size_t b = 0; b < EKV_TVIS_BINS; b++)
        binned += r.tvis_n[b];
    CHECK_EQ(binned, 7);
    CHECK_EQ(r.pops[2].stale_reads, 4); /* t = 9, 19, 639, 640 */
    CHECK_EQ(r.pops[2].failed_reads, 1);
    ekv_results_fini(&r);
}

/* The bins are in simulated time: at time_scale 2 a read 7 real ms after the commit is
 * 14 simulated ms after it, in the [10, 20) bin; with 5 ms bins, in [10, 15). */
static void test_t_visibility_time_scale(void)
{
    ekv_write_rec_t w[1] = {{3, 8, T0}};
    ekv_read_rec_t reads[2] = {rd(0, 3, T0 + 7 * MS, 8), rd(0, 3, T0 + 2 * MS, 7)};
    ekv_results_t r;
    ekv_analyze(w, 1, reads, 2, NULL, 0, 1, 2.0, 10, &r);
    CHECK_EQ(r.tvis_n[0], 1);
    CHECK_NEAR(r.tvis_p[0], 0, 1e-12);
    CHECK_EQ(r.tvis_n[1], 1);
    CHECK_NEAR(r.tvis_p[1], 1, 1e-12);
    ekv_results_fini(&r);
    ekv_analyze(w, 1, reads, 2, NULL, 0, 1, 2.0, 5, &r);
    CHECK_NEAR(r.tvis_t_ms[0], 5, 1e-12);
    CHECK_EQ(r.tvis_n[0], 1); /* 4 ms */
    CHECK_EQ(r.tvis_n[1], 0);
    CHECK_EQ(r.tvis_n[2], 1); /* 14 ms */
    CHECK_NEAR(r.tvis_p[2], 1, 1e-12);
    ekv_results_fini(&r);
}

/* Several keys: each read is binned by the age of the newest commit of its own key. */
static void test_t_visibility_per_key(void)
{
    ekv_write_rec_t w[3] = {{1, 1, T0}, {2, 2, T0 + 50 * MS}, {1, 3, T0 + 100 * MS}};
    ekv_read_rec_t reads[3] = {
        rd(0, 1, T0 + 105 * MS, 3), /* key 1: 5 ms after v3 */
        rd(0, 2, T0 + 105 * MS, 2), /* key 2: 55 ms after v2 */
        rd(0, 1, T0 + 99 * MS, 1),  /* key 1: 99 ms after v1 */
    };
    ekv_results_t r;
    ekv_analyze(w, 3, reads, 3, NULL, 0, 1, 1.0, 10, &r);
    CHECK_EQ(r.tvis_n[0], 1);
    CHECK_EQ(r.tvis_n[5], 1);
    CHECK_EQ(r.tvis_n[9], 1);
    CHECK_EQ(r.stale_reads, 0);
    ekv_results_fini(&r);
}

/* ---- version lag ------------------------------------------------------------------------ */

/* A 100 s window sampled every second (t = 1 .. 100 s, at time_scale 1). Changes commit at
 * 10.5, 20.5 and 30.5 s. PoP 0 sees each 0.2 s later; PoP 1 sees the first at exactly 16 s
 * (a sample time: seen by then) and never the other two. */
static void test_version_lag(void)
{
    ekv_write_rec_t w[3] = {
        {0, 1, T0 + 10500 * MS}, {0, 2, T0 + 20500 * MS}, {5, 3, T0 + 30500 * MS}};
    ekv_vis_rec_t v[4] = {{0, 1, T0 + 10700 * MS, 0},
                          {0, 2, T0 + 20700 * MS, 0},
                          {0, 3, T0 + 30700 * MS, 0},
                          {1, 1, T0 + 16 * S, 0}};
    ekv_results_t r;
    ekv_analyze(w, 3, NULL, 0, v, 4, 2, 1.0, 10, &r);
    ekv_version_lag(w, 3, v, 4, T0, T0 + 100 * S, 1.0, &r);
    for (int k = 0; k < EKV_LAG_POINTS; k++)
        CHECK_NEAR(r.lag_t_s[k], k + 1, 1e-9);
    /* t = 10 s: nothing committed yet. */
    CHECK_NEAR(r.lag_mean[9], 0, 1e-12);
    CHECK_NEAR(r.lag_max[9], 0, 1e-12);
    /* t = 11 s: one change, seen by PoP 0 only. */
    CHECK_NEAR(r.lag_mean[10], 0.5, 1e-12);
    CHECK_NEAR(r.lag_max[10], 1, 1e-12);
    /* t = 15 s: PoP 1 still lacks it; t = 16 s: both have it. */
    CHECK_NEAR(r.lag_max[14], 1, 1e-12);
    CHECK_NEAR(r.lag_mean[15], 0, 1e-12);
    CHECK_NEAR(r.lag_max[15], 0, 1e-12);
    /* t = 21 s: two committed, PoP 1 has one. */
    CHECK_NEAR(r.lag_mean[20], 0.5, 1e-12);
    CHECK_NEAR(r.lag_max[20], 1, 1e-12);
    /* t = 100 s: three committed, PoP 1 still has one. */
    CHECK_NEAR(r.lag_mean[99], 1, 1e-12);
    CHECK_NEAR(r.lag_max[99], 2, 1e-12);
    ekv_results_fini(&r);
}

/* The sample times are simulated seconds from the start: at time_scale 5 a 2 s (real) window
 * spans 10 simulated seconds. */
static void test_version_lag_time_scale(void)
{
    ekv_write_rec_t w[1] = {{0, 1, T0 + 1 * S}};
    ekv_vis_rec_t v[1] = {{0, 1, T0 + 1 * S + 10 * MS, 0}};
    ekv_results_t r;
    ekv_analyze(w, 1, NULL, 0, v, 1, 1, 5.0, 10, &r);
    ekv_version_lag(w, 1, v, 1, T0, T0 + 2 * S, 5.0, &r);
    CHECK_NEAR(r.lag_t_s[0], 0.1, 1e-9);
    CHECK_NEAR(r.lag_t_s[EKV_LAG_POINTS - 1], 10, 1e-9);
    CHECK_NEAR(r.lag_max[48], 0, 1e-12); /* 0.98 s real: not committed yet */
    CHECK_NEAR(r.lag_max[49], 1, 1e-12); /* 1.00 s: committed that very microsecond */
    CHECK_NEAR(r.lag_max[50], 0, 1e-12); /* 1.02 s: seen at 1.01 s */
    CHECK_NEAR(r.lag_max[99], 0, 1e-12);
    ekv_results_fini(&r);
    /* Never seen: lagging by one from the commit to the end. */
    ekv_analyze(w, 1, NULL, 0, NULL, 0, 1, 5.0, 10, &r);
    ekv_version_lag(w, 1, NULL, 0, T0, T0 + 2 * S, 5.0, &r);
    CHECK_NEAR(r.lag_max[48], 0, 1e-12);
    CHECK_NEAR(r.lag_max[49], 1, 1e-12);
    CHECK_NEAR(r.lag_mean[99], 1, 1e-12);
    ekv_results_fini(&r);
}

/* ---- convergence after a recovery ------------------------------------------------------- */

/* Three changes committed at 1, 2 and 3 s, a fourth at 9 s; a recovery at 5 s. PoP 0 saw the
 * first three at 1.01, 6.5 and 5.2 s: converged 1.5 s after the recovery (the latest of them),
 * the fourth (committed after) does not count. PoP 1 never saw change 2: never converged.
 * PoP 2 had all three before 5 s: 0. Every PoP (a coordinator restart): never, because of
 * PoP 1. Records arrive shuffled and are left as they were. */
static void test_convergence(void)
{
    ekv_write_rec_t w[4] = {
        {0, 1, T0 + 1 * S}, {1, 2, T0 + 2 * S}, {2, 3, T0 + 3 * S}, {0, 4, T0 + 9 * S}};
    ekv_vis_rec_t v[] = {{0, 1, T0 + 1 * S + 10 * MS, 0}, {0, 2, T0 + 6500 * MS, 0},
                         {0, 3, T0 + 5200 * MS, 0},       {1, 1, T0 + 1 * S, 0},
                         {1, 3, T0 + 3 * S, 0},           {1, 4, T0 + 9 * S, 0},
                         {2, 1, T0 + 1 * S, 0},           {2, 2, T0 + 2 * S, 0},
                         {2, 3, T0 + 4 * S, 0},           {0, 4, T0 + 20 * S, 0}};
    size_t nv = sizeof v / sizeof *v;
    SHUFFLE(v, nv);
    SHUFFLE(w, 4);
    ekv_vis_rec_t before[sizeof v / sizeof *v];
    memcpy(before, v, sizeof v);
    ekv_recovery_t rec[] = {
        {T0 + 5 * S, 0}, {T0 + 5 * S, 1}, {T0 + 5 * S, 2}, {T0 + 5 * S, -1}, {0, 0}};
    double ms[5];
    ekv_convergence(w, 4, v, nv, 3, rec, 5, 1.0, ms);
    CHECK_NEAR(ms[0], 1500, 1e-9);
    CHECK_NEAR(ms[1], -1, 0);
    CHECK_NEAR(ms[2], 0, 0);
    CHECK_NEAR(ms[3], -1, 0);
    CHECK_NEAR(ms[4], -1, 0); /* never applied */
    CHECK(memcmp(before, v, sizeof v) == 0);
    /* Every PoP but 1: the slowest (PoP 0) decides; at time scale 4 in simulated ms. */
    ekv_recovery_t late = {T0 + 5 * S, -1};
    ekv_convergence(w, 4, v, nv, 1, &late, 1, 4.0, ms);
    CHECK_NEAR(ms[0], 6000, 1e-9);
    /* A recovery before any commit has nothing to wait for; no records at all either. */
    ekv_recovery_t early = {T0, -1};
    ekv_convergence(w, 4, v, nv, 3, &early, 1, 1.0, ms);
    CHECK_NEAR(ms[0], 0, 0);
    ekv_convergence(NULL, 0, NULL, 0, 3, &late, 1, 1.0, ms);
    CHECK_NEAR(ms[0], 0, 0);
    ekv_convergence(w, 4, NULL, 0, 3, &late, 1, 1.0, ms);
    CHECK_NEAR(ms[0], -1, 0);
}

/* The t-visibility bins span twice the largest delay under push policies, the delay plus
 * cacheTtl otherwise, with floors of 0.5 and 1 ms. */
static void test_tvis_bin_width(void)
{
    CHECK_NEAR(ekv_tvis_bin_ms(1, 320, 60), 10, 1e-12);
    CHECK_NEAR(ekv_tvis_bin_ms(1, 1, 60), 0.5, 1e-12);
    CHECK_NEAR(ekv_tvis_bin_ms(0, 640, 60), (640 + 60000) / 64.0, 1e-12);
    CHECK_NEAR(ekv_tvis_bin_ms(0, 0, 0.01), 1, 1e-12);
}

/* ---- the analytic ttl stale ratio ------------------------------------------------------- */

/* P = r (T - (1 - e^{-wT}) / w) / (1 + r T), by hand. */
static void test_ttl_stale_ratio(void)
{
    /* w = 1, r = 1, T = 1: (1 - (1 - e^-1)) / 2 = e^-1 / 2. */
    CHECK_NEAR(ekv_ttl_stale_ratio(1, 1, 1), 0.18394, 5e-6);
    /* w = 0.5, r = 2, T = 2: 2 (2 - (1 - e^-1) / 0.5) / 5 = 0.294304. */
    CHECK_NEAR(ekv_ttl_stale_ratio(0.5, 2, 2), 0.294304, 5e-6);
    /* w = 2, r = 0.5, T = 10: writes so frequent that only the fetching read is fresh:
     * 0.5 (10 - 0.5) / 6 = 0.791667. */
    CHECK_NEAR(ekv_ttl_stale_ratio(2, 0.5, 10), 0.791667, 5e-6);
    /* w = 1/30, r = 1/3, T = 30 (the theory scenario's rates): 10 e^-1 / 11 = 0.334436. */
    CHECK_NEAR(ekv_ttl_stale_ratio(1.0 / 30, 1.0 / 3, 30), 0.334436, 5e-6);
    /* More writes, more staleness; never beyond rT / (1 + rT), the share of cached answers. */
    CHECK(ekv_ttl_stale_ratio(0.2, 1, 30) > ekv_ttl_stale_ratio(0.1, 1, 30));
    CHECK(ekv_ttl_stale_ratio(1000, 1, 30) < 30.0 / 31.0);
    CHECK_NEAR(ekv_ttl_stale_ratio(1000, 1, 30), 30.0 / 31.0, 1e-3);
    /* No writes, no reads or no cache: nothing stale. */
    CHECK_NEAR(ekv_ttl_stale_ratio(0, 1, 30), 0, 1e-12);
    CHECK_NEAR(ekv_ttl_stale_ratio(1, 0, 30), 0, 1e-12);
    CHECK_NEAR(ekv_ttl_stale_ratio(1, 1, 0), 0, 1e-12);
}

int main(void)
{
    EKV_TEST_RUN(test_visibility_percentiles);
    EKV_TEST_RUN(test_visibility_time_scale);
    EKV_TEST_RUN(test_served_vs_arrival);
    EKV_TEST_RUN(test_served_time_scale);
    EKV_TEST_RUN(test_stale_reads);
    EKV_TEST_RUN(test_stale_age_time_scale);
    EKV_TEST_RUN(test_empty);
    EKV_TEST_RUN(test_t_visibility_bins);
    EKV_TEST_RUN(test_t_visibility_time_scale);
    EKV_TEST_RUN(test_t_visibility_per_key);
    EKV_TEST_RUN(test_version_lag);
    EKV_TEST_RUN(test_version_lag_time_scale);
    EKV_TEST_RUN(test_convergence);
    EKV_TEST_RUN(test_tvis_bin_width);
    EKV_TEST_RUN(test_ttl_stale_ratio);
    EKV_TEST_DONE();
}
