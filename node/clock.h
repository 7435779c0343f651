/* clock: a PoP's estimate of the coordinator's clock, from TIME / TIME_REPLY round trips.
 *
 * Each round trip gives one sample: the coordinator's clock tc at some moment between our
 * send (t1, our clock) and the reply (t4); offset = tc - (t1 + t4) / 2, exact when both legs
 * take as long, wrong by at most rtt / 2 otherwise. The estimate is the offset of the sample
 * with the smallest RTT among the last EKV_CLOCK_WINDOW (NTP's clock filter): a trip that
 * waited in a queue on one leg has a long RTT and a skewed offset, and loses. No slewing: the
 * estimate steps to the best sample.
 *
 * Logic only: every time is passed in (the raw wall clock for t1/t4, the monotonic clock for
 * the RTT and the pacing), so the unit test drives it without sockets. */
#ifndef EKV_CLOCK_H
#define EKV_CLOCK_H

#include <stdint.h>

#define EKV_CLOCK_WINDOW   8       /* samples the filter keeps */
#define EKV_CLOCK_BURST    4       /* samples taken back to back at start (the ready gate) */
#define EKV_CLOCK_EVERY_US 1000000 /* then one at most this often */
#define EKV_CLOCK_LOST_US  1000000 /* a request unanswered this long is given up */

typedef struct {
    int64_t offset_us; /* coordinator clock minus ours */
    int64_t rtt_us;    /* round trip, monotonic */
} ekv_clock_sample_t;

typedef struct {
    ekv_clock_sample_t s[EKV_CLOCK_WINDOW]; /* ring of the last samples */
    int n;                                  /* samples in the ring */
    int next;                               /* where the next sample goes */
    uint64_t total;                         /* samples taken since start */
    int best;                               /* index of the smallest RTT, -1 when none */
    /* the request in flight (req_id 0: none) */
    uint64_t req_id;
    int64_t t1_us;        /* our wall clock when it was sent */
    int64_t m1_us;        /* our monotonic clock when it was sent */
    int64_t last_mono_us; /* monotonic time of the last sample, INT64_MIN when none */
    uint64_t lost;        /* requests given up unanswered */
} ekv_clock_t;

void ekv_clock_init(ekv_clock_t *c);

/* Adds one sample: offset and RTT as measured (the filter's input). */
void ekv_clock_add(ekv_clock_t *c, int64_t offset_us, int64_t rtt_us);

/* 1 when a TIME request should go out at monotonic time mono_us: none in flight (or the one
 * in flight is lost), and fewer than the burst taken or the last one is old enough. */
int ekv_clock_want(const ekv_clock_t *c, int64_t mono_us);

/* Records a request sent with id req_id at wall time t1_us, monotonic m1_us; one still in
 * flight is given up (counted lost: its late reply is ignored). */
void ekv_clock_sent(ekv_clock_t *c, uint64_t req_id, int64_t t1_us, int64_t m1_us);

/* Handles a TIME_REPLY (coordinator time tc_us) received at wall time t4_us, monotonic
 * m4_us: 1 when it answered the request in flight and became a sample, 0 when it was stale
 * or unknown (ignored). */
int ekv_clock_reply(ekv_clock_t *c, uint64_t req_id, int64_t tc_us, int64_t t4_us, int64_t m4_us);

/* The estimate: the offset and RTT of the best sample (0 and 0 before any); samples taken. */
int64_t ekv_clock_offset_us(const ekv_clock_t *c);
int64_t ekv_clock_rtt_us(const ekv_clock_t *c);
uint64_t ekv_clock_samples(const ekv_clock_t *c);
/* Requests given up unanswered (a coordinator that does not know TIME never answers). */
uint64_t ekv_clock_lost(const ekv_clock_t *c);

#endif
