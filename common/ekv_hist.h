/* ekv_hist: a log-linear histogram of non-negative integers (microseconds, bytes).
 *
 * Values below 256 are counted exactly; above, each power of two is split into 128 buckets,
 * so a recorded value is known to within 0.8%. Recording is O(1) with no allocation; the
 * whole histogram is one fixed array. Percentiles report a bucket's midpoint, clamped to the
 * exact minimum and maximum. */
#ifndef EKV_HIST_H
#define EKV_HIST_H

#include <stdint.h>

#define EKV_HIST_SUB     256
#define EKV_HIST_BUCKETS (EKV_HIST_SUB + (EKV_HIST_SUB / 2) * 56)

typedef struct {
    uint64_t count;                     /* values recorded */
    uint64_t sum;                       /* their sum */
    uint64_t min, max;                  /* exact extremes (min meaningful when count > 0) */
    uint32_t buckets[EKV_HIST_BUCKETS]; /* counts per bucket */
} ekv_hist_t;

void ekv_hist_init(ekv_hist_t *h);
/* Records v; negative values count as 0. */
void ekv_hist_record(ekv_hist_t *h, int64_t v);
/* The value at quantile q in [0, 1]; 0 when empty. */
uint64_t ekv_hist_quantile(const ekv_hist_t *h, double q);
/* Mean of the recorded values; 0 when empty. */
double ekv_hist_mean(const ekv_hist_t *h);

#endif
