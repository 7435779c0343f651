/* time_test: the clock skew of --clock-skew-ms (common/ekv_time).
 *
 * A skew stands for a host whose wall clock is off: ekv_now_us() moves by it, in either
 * direction and to the microsecond, while ekv_mono_us() (durations) does not move at all.
 * Each comparison brackets the skewed read between two raw reads of the same clock, so the
 * checks are exact bounds, not tolerances. */
#include <stdint.h>
#include <time.h>

#include "ekv_test.h"
#include "ekv_time.h"

static int64_t raw_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ekv_now_us() minus CLOCK_REALTIME lies within [skew, skew + the bracket's width]. */
static void check_now_skewed_by(int64_t skew)
{
    int64_t before = raw_us(CLOCK_REALTIME);
    int64_t now = ekv_now_us();
    int64_t after = raw_us(CLOCK_REALTIME);
    CHECK_GE(now - skew, before);
    CHECK_LE(now - skew, after);
}

static void check_mono_unskewed(void)
{
    int64_t before = raw_us(CLOCK_MONOTONIC);
    int64_t mono = ekv_mono_us();
    int64_t after = raw_us(CLOCK_MONOTONIC);
    CHECK_GE(mono, before);
    CHECK_LE(mono, after);
}

static void test_no_skew_by_default(void)
{
    CHECK_EQ(ekv_clock_skew_us, 0);
    check_now_skewed_by(0);
    check_mono_unskewed();
}

static void test_ahead_and_behind(void)
{
    ekv_clock_skew_set(50);
    CHECK_EQ(ekv_clock_skew_us, 50000);
    check_now_skewed_by(50000);
    check_mono_unskewed();
    ekv_clock_skew_set(-50);
    CHECK_EQ(ekv_clock_skew_us, -50000);
    check_now_skewed_by(-50000);
    check_mono_unskewed();
    ekv_clock_skew_set(-60000); /* the option's bounds */
    check_now_skewed_by(-60000000);
    ekv_clock_skew_set(60000);
    check_now_skewed_by(60000000);
    check_mono_unskewed();
}

/* Fractions of a millisecond round to the nearest microsecond. */
static void test_rounding(void)
{
    ekv_clock_skew_set(0.0015);
    CHECK_EQ(ekv_clock_skew_us, 2);
    ekv_clock_skew_set(-0.0004);
    CHECK_EQ(ekv_clock_skew_us, 0);
    ekv_clock_skew_set(12.3456);
    CHECK_EQ(ekv_clock_skew_us, 12346);
    check_now_skewed_by(12346);
    ekv_clock_skew_set(0);
    check_now_skewed_by(0);
}

int main(void)
{
    EKV_TEST_RUN(test_no_skew_by_default);
    EKV_TEST_RUN(test_ahead_and_behind);
    EKV_TEST_RUN(test_rounding);
    EKV_TEST_DONE();
}
