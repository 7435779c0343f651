/* ekv_time: the clocks of edgekv.
 *
 * Timestamps that cross processes (commit time, apply time) are microseconds of
 * CLOCK_REALTIME: on one host every process reads the same clock. Durations measured inside
 * one process use CLOCK_MONOTONIC. Logic modules never call these: they take `now` as an
 * argument so tests can move time. */
#ifndef EKV_TIME_H
#define EKV_TIME_H

#include <stdint.h>
#include <time.h>

/* Microseconds since the UNIX epoch (CLOCK_REALTIME). */
static inline int64_t ekv_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Microseconds of CLOCK_MONOTONIC, for durations within one process. */
static inline int64_t ekv_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
