/* ekv_hist: log-linear bucketing, as in HdrHistogram, with 256 sub-buckets. */
#include "ekv_hist.h"

#include <string.h>

#define SUB_BITS 8 /* log2(EKV_HIST_SUB) */

static int bucket_of(uint64_t v)
{
    if (v < EKV_HIST_SUB)
        return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - (SUB_BITS - 1);
    uint64_t top = v >> shift; /* in [SUB/2, SUB) */
    int idx = EKV_HIST_SUB + (shift - 1) * (EKV_HIST_SUB / 2) + (int)(top - EKV_HIST_SUB / 2);
    return idx < EKV_HIST_BUCKETS ? idx : EKV_HIST_BUCKETS - 1;
}

static uint64_t midpoint_of(int idx)
{
    if (idx < EKV_HIST_SUB)
        return (uint64_t)idx;
    int rel = idx - EKV_HIST_SUB;
    int shift = rel / (EKV_HIST_SUB / 2) + 1;
    uint64_t top = (uint64_t)(rel % (EKV_HIST_SUB / 2)) + EKV_HIST_SUB / 2;
    return (top << shift) + ((1ull << shift) >> 1);
}

void ekv_hist_init(ekv_hist_t *h)
{
    memset(h, 0, sizeof *h);
}

void ekv_hist_record(ekv_hist_t *h, int64_t v)
{
    uint64_t u = v < 0 ? 0 : (uint64_t)v;
    if (h->count == 0 || u < h->min)
        h->min = u;
    if (u > h->max)
        h->max = u;
    h->count++;
    h->sum += u;
    h->buckets[bucket_of(u)]++;
}

uint64_t ekv_hist_quantile(const ekv_hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    uint64_t seen = 0;
    for (int i = 0; i < EKV_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen > rank) {
            uint64_t v = midpoint_of(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double ekv_hist_mean(const ekv_hist_t *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}
