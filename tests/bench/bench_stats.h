/* bench_stats: what the fan-out benchmark tools share - clocks, the open-loop schedule and
 * the percentile summary - so that edgekv and its peers are measured by one definition.
 *
 * Percentiles are nearest-rank on the sorted sample: p(q) = v[floor((n - 1) * q)].
 * Header-only: each tool is one C file plus this. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ekv_time.h" /* the clocks edgekv stamps commit and visibility times with */

static inline int bench_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Most connections a writer opens. Both writers (HTTP to edgekv, RESP to Redis) keep one
 * request in flight per connection and open one more only when a write is due and every
 * connection is busy, so concurrency follows what the server needs to keep the rate. */
#define BENCH_MAX_CONNS 512

/* {"n", "p50_us", "p99_us", "max_us", "mean_us"} of v[0..n); sorts v. A new reference. */
static inline json_t *bench_summary(int64_t *v, size_t n)
{
    if (n == 0)
        return json_pack("{s:i}", "n", 0);
    qsort(v, n, sizeof *v, bench_cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "n", (json_int_t)n, "p50_us",
                     (json_int_t)v[(size_t)((double)(n - 1) * 0.50)], "p99_us",
                     (json_int_t)v[(size_t)((double)(n - 1) * 0.99)], "max_us",
                     (json_int_t)v[n - 1], "mean_us", (json_int_t)(sum / (double)n));
}

/* Appends one line per sample to the file named by $SAMPLES (if set): the columns of
 * cols[0..ncols) at index i each, so runs can be pooled before taking percentiles. */
static inline void bench_samples(int64_t **cols, int ncols, size_t n)
{
    const char *path = getenv("SAMPLES");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f)
        return;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < ncols; c++)
            fprintf(f, "%lld%c", (long long)cols[c][i], c + 1 < ncols ? ' ' : '\n');
    fclose(f);
}

/* When a writer's open-loop schedule begins, in CLOCK_MONOTONIC microseconds (one clock for
 * every process on the host): $BENCH_START_MONO_US when set, so that two writers started
 * together interleave their writes at a fixed offset (scripts/bench/redis), else 20 ms from
 * now. A start that has already passed would send the first writes in a burst, so it ends
 * the tool with exit status 2. */
static inline int64_t bench_start_mono(void)
{
    int64_t now = ekv_mono_us();
    const char *env = getenv("BENCH_START_MONO_US");
    if (!env || !*env)
        return now + 20000;
    char *end;
    long long at = strtoll(env, &end, 10);
    if (*end || at <= now) {
        fprintf(stderr, "BENCH_START_MONO_US=%s is not a moment to come (now %lld)\n", env,
                (long long)now);
        exit(2);
    }
    return at;
}

/* keeps_up's lag rule: the final window's median at most 1.5 x the first's + 2 ms. */
static inline int bench_lag_steady(int64_t first_p50_us, int64_t final_p50_us)
{
    return final_p50_us <= first_p50_us + first_p50_us / 2 + 2000;
}

/* Seconds at the start of a sustained run that count neither for lateness nor for the lag
 * windows: the writer's connections open and the server reaches its steady batching. */
#define BENCH_WARMUP_S 2.0

/* The windows compared by keeps_up: 1 s, or 2000 writes' worth at rates over 2000/s, so
 * that a PoP's ring of 8192 visibility records still holds the first window when it is
 * fetched (at twice the window, half a second after it at most). */
static inline double bench_window_s(double rate)
{
    double w = 2000.0 / rate;
    return w < 1.0 ? w : 1.0;
}

#endif
