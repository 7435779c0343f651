/* clock_test: the PoP's estimate of the coordinator's clock (node/clock).
 *
 * The filter: before any sample the estimate is 0; the sample with the smallest RTT among
 * the last 8 wins (a long trip's offset is off by up to half its RTT and loses, whichever
 * side it leans to); the best one leaves the window after 8 newer samples and the estimate
 * steps to the best that remain; ties go to the newer. The exchange: the offset is the
 * coordinator's time minus the midpoint of our send and receive, the RTT is from the
 * monotonic clock; the burst of 4, then one a second; one request in flight, given up after
 * a second (and counted); stale and unknown replies ignored. */
#include <stdint.h>

#include "clock.h"
#include "ekv_test.h"

static void test_empty(void)
{
    ekv_clock_t c;
    ekv_clock_init(&c);
    CHECK_EQ(ekv_clock_offset_us(&c), 0);
    CHECK_EQ(ekv_clock_rtt_us(&c), 0);
    CHECK_EQ(ekv_clock_samples(&c), 0);
}

static void test_smallest_rtt_wins(void)
{
    ekv_clock_t c;
    ekv_clock_init(&c);
    ekv_clock_add(&c, 50000, 300);
    CHECK_EQ(ekv_clock_offset_us(&c), 50000);
    ekv_clock_add(&c, 50100, 100); /* shorter: wins */
    CHECK_EQ(ekv_clock_offset_us(&c), 50100);
    CHECK_EQ(ekv_clock_rtt_us(&c), 100);
    ekv_clock_add(&c, 49000, 2000); /* longer: ignored */
    ekv_clock_add(&c, 50020, 101);
    CHECK_EQ(ekv_clock_offset_us(&c), 50100);
    CHECK_EQ(ekv_clock_rtt_us(&c), 100);
    CHECK_EQ(ekv_clock_samples(&c), 4);
}

/* Trips held up on one leg (a queue, a busy loop) lean their offset by up to rtt/2, ahead or
 * behind: none of them moves the estimate while a short trip is in the window. */
static void test_asymmetric_outliers_ignored(void)
{
    ekv_clock_t c;
    ekv_clock_init(&c);
    ekv_clock_add(&c, -50000, 40);
    for (int i = 0; i < 7; i++) {
        int64_t rtt = 5000 + 1000 * i;
        ekv_clock_add(&c, -50000 + (i % 2 ? rtt / 2 : -rtt / 2), rtt);
        CHECK_EQ(ekv_clock_offset_us(&c), -50000);
        CHECK_EQ(ekv_clock_rtt_us(&c), 40);
    }
}

static void test_window_of_8(void)
{
    ekv_clock_t c;
    ekv_clock_init(&c);
    ekv_clock_add(&c, 1000, 10); /* the best, then 7 worse ones: still in the window */
    for (int i = 0; i < 7; i++)
        ekv_clock_add(&c, 2000 + i, 100 + i);
    CHECK_EQ(ekv_clock_offset_us(&c), 1000);
    /* The 9th sample pushes the best out: the best of the 8 left (rtt 100) takes over. */
    ekv_clock_add(&c, 3000, 500);
    CHECK_EQ(ekv_clock_offset_us(&c), 2000);
    CHECK_EQ(ekv_clock_rtt_us(&c), 100);
    /* And so on as each falls out: a step to the next best. */
    ekv_clock_add(&c, 3001, 500);
    CHECK_EQ(ekv_clock_offset_us(&c), 2001);
    /* A clock step (the coordinator's moved) shows once its samples are the short ones. */
    for (int i = 0; i < 8; i++)
        ekv_clock_add(&c, 9000, 200);
    CHECK_EQ(ekv_clock_offset_us(&c), 9000);
    CHECK_EQ(ekv_clock_samples(&c), 18);
}

static void test_ties_go_to_the_newer(void)
{
    ekv_clock_t c;
    ekv_clock_init(&c);
    ekv_clock_add(&c, 1, 50);
    ekv_clock_add(&c, 2, 50);
    CHECK_EQ(ekv_clock_offset_us(&c), 2);
    ekv_clock_add(&c, 3, 51);
    CHECK_EQ(ekv_clock_offset_us(&c), 2);
}

/* One exchange: sent at our t1, answered with the coordinator's tc, received at t4. */
static void test_exchange_offset_and_rtt(void)
{
    ekv_clock_t c;
    ekv_clock_init(&c);
    /* Our clock 50 ms behind: the coordinator reads 50 ms more at the midpoint of the trip. */
    int64_t t1 = 1700000000000000, m1 = 777;
    CHECK(ekv_clock_want(&c, m1));
    ekv_clock_sent(&c, 9, t1, m1);
    CHECK(!ekv_clock_want(&c, m1 + 10)); /* one in flight */
    CHECK_EQ(ekv_clock_reply(&c, 9, t1 + 100 + 50000, t1 + 200, m1 + 200), 1);
    CHECK_EQ(ekv_clock_offset_us(&c), 50000);
    CHECK_EQ(ekv_clock_rtt_us(&c), 200);
    /* The RTT is the monotonic clock's: a wall-clock step between send and receive does not
     * make the trip look short (or negative). */
    ekv_clock_sent(&c, 10, t1, m1 + 1000);
    CHECK_EQ(ekv_clock_reply(&c, 10, t1 + 50000, t1 - 5000000, m1 + 1300), 1);
    CHECK_EQ(ekv_clock_rtt_us(&c), 200);
    CHECK_EQ(ekv_clock_offset_us(&c), 50000);
}

static void test_stale_and_unknown_replies(void)
{
    ekv_clock_t c;
    ekv_clock_init(&c);
    CHECK_EQ(ekv_clock_reply(&c, 0, 5, 5, 5), 0); /* none in flight */
    CHECK_EQ(ekv_clock_reply(&c, 3, 5, 5, 5), 0);
    ekv_clock_sent(&c, 4, 100, 100);
    CHECK_EQ(ekv_clock_reply(&c, 3, 5, 5, 5), 0); /* an older request's */
    CHECK_EQ(ekv_clock_samples(&c), 0);
    CHECK_EQ(ekv_clock_reply(&c, 4, 150, 200, 200), 1);
    CHECK_EQ(ekv_clock_reply(&c, 4, 150, 200, 200), 0); /* a duplicate */
    CHECK_EQ(ekv_clock_samples(&c), 1);
}

static void test_burst_then_once_a_second(void)
{
    ekv_clock_t c;
    ekv_clock_init(&c);
    int64_t mono = 5000000;
    for (uint64_t id = 1; id <= EKV_CLOCK_BURST; id++) {
        CHECK(ekv_clock_want(&c, mono)); /* back to back */
        ekv_clock_sent(&c, id, mono, mono);
        mono += 100;
        CHECK_EQ(ekv_clock_reply(&c, id, mono, mono, mono), 1);
    }
    CHECK(!ekv_clock_want(&c, mono));
    CHECK(!ekv_clock_want(&c, mono + EKV_CLOCK_EVERY_US - 1));
    CHECK(ekv_clock_want(&c, mono + EKV_CLOCK_EVERY_US));
    /* A request never answered is given up after a second, and counted when the next one
     * replaces it; its late reply is ignored. */
    mono += EKV_CLOCK_EVERY_US;
    ekv_clock_sent(&c, 99, mono, mono);
    CHECK(!ekv_clock_want(&c, mono + EKV_CLOCK_LOST_US - 1));
    CHECK(ekv_clock_want(&c, mono + EKV_CLOCK_LOST_US));
    CHECK_EQ(ekv_clock_lost(&c), 0);
    ekv_clock_sent(&c, 100, mono, mono + EKV_CLOCK_LOST_US);
    CHECK_EQ(ekv_clock_lost(&c), 1);
    CHECK_EQ(ekv_clock_reply(&c, 99, 1, 1, 1), 0);
    CHECK_EQ(ekv_clock_samples(&c), EKV_CLOCK_BURST);
}

int main(void)
{
    EKV_TEST_RUN(test_empty);
    EKV_TEST_RUN(test_smallest_rtt_wins);
    EKV_TEST_RUN(test_asymmetric_outliers_ignored);
    EKV_TEST_RUN(test_window_of_8);
    EKV_TEST_RUN(test_ties_go_to_the_newer);
    EKV_TEST_RUN(test_exchange_offset_and_rtt);
    EKV_TEST_RUN(test_stale_and_unknown_replies);
    EKV_TEST_RUN(test_burst_then_once_a_second);
    EKV_TEST_DONE();
}
