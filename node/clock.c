/* clock: the min-RTT filter over the last round trips (see clock.h). */
#include "clock.h"

#include <string.h>

void ekv_clock_init(ekv_clock_t *c)
{
    memset(c, 0, sizeof *c);
    c->best = -1;
    c->last_mono_us = INT64_MIN;
}

void ekv_clock_add(ekv_clock_t *c, int64_t offset_us, int64_t rtt_us)
{
    c->s[c->next] = (ekv_clock_sample_t){offset_us, rtt_us < 0 ? 0 : rtt_us};
    c->next = (c->next + 1) % EKV_CLOCK_WINDOW;
    if (c->n < EKV_CLOCK_WINDOW)
        c->n++;
    c->total++;
    /* The window is small: a scan on every sample (once a second) is simpler than keeping an
     * order, and the sample that fell out may have been the best. Ties go to the newest. */
    c->best = -1;
    for (int k = 0; k < c->n; k++) {
        int i = (c->next - 1 - k + 2 * EKV_CLOCK_WINDOW) % EKV_CLOCK_WINDOW;
        if (c->best < 0 || c->s[i].rtt_us < c->s[c->best].rtt_us)
            c->best = i;
    }
}

int ekv_clock_want(const ekv_clock_t *c, int64_t mono_us)
{
    if (c->req_id && mono_us - c->m1_us < EKV_CLOCK_LOST_US)
        return 0;
    return c->total < EKV_CLOCK_BURST || mono_us - c->last_mono_us >= EKV_CLOCK_EVERY_US;
}

void ekv_clock_sent(ekv_clock_t *c, uint64_t req_id, int64_t t1_us, int64_t m1_us)
{
    if (c->req_id)
        c->lost++;
    c->req_id = req_id;
    c->t1_us = t1_us;
    c->m1_us = m1_us;
}

int ekv_clock_reply(ekv_clock_t *c, uint64_t req_id, int64_t tc_us, int64_t t4_us, int64_t m4_us)
{
    if (!req_id || req_id != c->req_id)
        return 0;
    c->req_id = 0;
    /* The RTT from the monotonic clock (a step of the wall clock between the two reads does
     * not make a trip look short); the midpoint from the wall clock, the one corrected. */
    int64_t mid = c->t1_us + (t4_us - c->t1_us) / 2;
    ekv_clock_add(c, tc_us - mid, m4_us - c->m1_us);
    c->last_mono_us = m4_us;
    return 1;
}

int64_t ekv_clock_offset_us(const ekv_clock_t *c)
{
    return c->best < 0 ? 0 : c->s[c->best].offset_us;
}

int64_t ekv_clock_rtt_us(const ekv_clock_t *c)
{
    return c->best < 0 ? 0 : c->s[c->best].rtt_us;
}

uint64_t ekv_clock_samples(const ekv_clock_t *c)
{
    return c->total;
}

uint64_t ekv_clock_lost(const ekv_clock_t *c)
{
    return c->lost;
}
