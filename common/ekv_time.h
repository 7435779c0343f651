/* ekv_time: the clocks of edgekv.
 *
 * Timestamps that cross processes (commit time, apply time) are microseconds of
 * CLOCK_REALTIME: on one host every process reads the same clock. Durations measured inside
 * one process use CLOCK_MONOTONIC. Logic modules never call these: they take `now` as an
 * argument so tests can move time.
 *
 * ekv_clock_skew_us (--clock-skew-ms) shifts the wall clock only: it stands for a host whose
 * clock is off, so stamps move and durations do not. */
#ifndef EKV_TIME_H
#define EKV_TIME_H

#include <stdint.h>
#include <time.h>

/* Added to every ekv_now_us(); 0 unless a daemon was started with --clock-skew-ms (tests).
 * A weak definition here, one object for the whole program, so that programs reading the
 * clock without ekv_common (the peer benchmarks) still link. */
__attribute__((weak)) int64_t ekv_clock_skew_us;

/* Microseconds since the UNIX epoch (CLOCK_REALTIME), plus the skew. */
static inline int64_t ekv_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + ekv_clock_skew_us;
}

/* Microseconds of CLOCK_MONOTONIC, for durations within one process. */
static inline int64_t ekv_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sets the skew from --clock-skew-ms and logs it once when it is not 0. */
void ekv_clock_skew_set(double ms);

#endif
