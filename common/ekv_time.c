/* ekv_time: the wall clock's skew (ekv_time.h). */
#include "ekv_time.h"

#include <math.h>

#include "ekv_log.h"

void ekv_clock_skew_set(double ms)
{
    ekv_clock_skew_us = (int64_t)llround(ms * 1000.0);
    if (ekv_clock_skew_us != 0)
        ekv_info("clock skewed by %+.3f ms (--clock-skew-ms, for tests)",
                 (double)ekv_clock_skew_us / 1000.0);
}
