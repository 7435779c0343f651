/* link_test: unit tests of the simulated WAN link (node/link).
 *
 * What the simulation depends on: a message arrives one delay after it was sent, a message
 * handed over late leaves at once, nothing overtakes a message handed over earlier (FIFO, as
 * on TCP), pop hands out exactly what is due and in order, and the ring keeps that order as
 * it grows and wraps. Time is injected; items are pointers into arrays this test owns. */
#include <stdint.h>

#include "ekv_test.h"
#include "link.h"

static void test_delivered_at_sent_plus_delay(void)
{
    ekv_link_t *l = ekv_link_new(1000);
    CHECK_EQ(ekv_link_delay_us(l), 1000);
    int msg = 1;
    CHECK_EQ(ekv_link_push(l, 100, 100, &msg), 1100);
    CHECK_EQ(ekv_link_next_due(l), 1100);
    CHECK_EQ(ekv_link_pending(l), 1);

    void *got = NULL;
    CHECK_EQ(ekv_link_pop(l, 1099, &got), 0);
    CHECK_EQ(ekv_link_pending(l), 1);
    CHECK_EQ(ekv_link_pop(l, 1100, &got), 1);
    CHECK(got == &msg);
    CHECK_EQ(ekv_link_pending(l), 0);
    CHECK_EQ(ekv_link_next_due(l), INT64_MAX);
    CHECK_EQ(ekv_link_pop(l, INT64_MAX, &got), 0);

    /* Handed over after it was sent but before it is due: still due at sent + delay. */
    CHECK_EQ(ekv_link_push(l, 2000, 2500, &msg), 3000);
    CHECK_EQ(ekv_link_pop(l, 3000, &got), 1);
    ekv_link_destroy(&l);
    CHECK(l == NULL);
    ekv_link_destroy(&l); /* no-op on NULL */
}

static void test_late_message_delivered_now(void)
{
    ekv_link_t *l = ekv_link_new(1000);
    int msg = 1;
    /* Sent at 100 but only handed over at 5000, long after 100 + 1000. */
    CHECK_EQ(ekv_link_push(l, 100, 5000, &msg), 5000);
    CHECK_EQ(ekv_link_next_due(l), 5000);
    void *got = NULL;
    CHECK_EQ(ekv_link_pop(l, 4999, &got), 0);
    CHECK_EQ(ekv_link_pop(l, 5000, &got), 1);
    CHECK(got == &msg);
    ekv_link_destroy(&l);
}

static void test_fifo_no_overtaking(void)
{
    ekv_link_t *l = ekv_link_new(1000);
    int m[4] = {0, 1, 2, 3};
    CHECK_EQ(ekv_link_push(l, 100, 100, &m[0]), 1100);
    /* Sent earlier (50) but handed over after m[0]: it may not arrive first. */
    CHECK_EQ(ekv_link_push(l, 50, 100, &m[1]), 1100);
    /* A shorter delay later does not let a message overtake either. */
    ekv_link_set_delay_us(l, 10);
    CHECK_EQ(ekv_link_push(l, 200, 200, &m[2]), 1100);
    /* Once past the floor, the new delay is what counts. */
    CHECK_EQ(ekv_link_push(l, 1200, 1200, &m[3]), 1210);
    CHECK_EQ(ekv_link_pending(l), 4);

    void *got = NULL;
    CHECK_EQ(ekv_link_pop(l, 1099, &got), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(ekv_link_pop(l, 1100, &got), 1);
        CHECK(got == &m[i]);
    }
    CHECK_EQ(ekv_link_pop(l, 1100, &got), 0);
    CHECK_EQ(ekv_link_next_due(l), 1210);
    CHECK_EQ(ekv_link_pop(l, 1210, &got), 1);
    CHECK(got == &m[3]);
    CHECK_EQ(ekv_link_pending(l), 0);
    ekv_link_destroy(&l);
}

static void test_pop_in_order_when_due(void)
{
    ekv_link_t *l = ekv_link_new(500);
    int m[5];
    for (int i = 0; i < 5; i++) {
        m[i] = i;
        CHECK_EQ(ekv_link_push(l, i * 100, i * 100, &m[i]), i * 100 + 500);
        CHECK_EQ(ekv_link_pending(l), (size_t)i + 1);
    }
    CHECK_EQ(ekv_link_next_due(l), 500);

    /* A timer firing late at 720 releases the three due by then, one per pop, in order. */
    void *got = NULL;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(ekv_link_pop(l, 720, &got), 1);
        CHECK(got == &m[i]);
        CHECK_EQ(ekv_link_pending(l), 4 - (size_t)i);
    }
    CHECK_EQ(ekv_link_pop(l, 720, &got), 0);
    CHECK_EQ(ekv_link_next_due(l), 800);
    CHECK_EQ(ekv_link_pending(l), 2);
    CHECK_EQ(ekv_link_pop(l, 10000, &got), 1);
    CHECK(got == &m[3]);
    CHECK_EQ(ekv_link_pop(l, 10000, &got), 1);
    CHECK(got == &m[4]);
    CHECK_EQ(ekv_link_next_due(l), INT64_MAX);
    ekv_link_destroy(&l);
}

/* Interleaved pushes and pops walk the ring's head around, so it grows while wrapped. */
static void test_growth_with_wraparound(void)
{
    enum { N = 1000 };
    static int m[N];
    ekv_link_t *l = ekv_link_new(50);
    int pushed = 0, popped = 0;
    int64_t now = 0;
    void *got = NULL;
    while (pushed < N) {
        for (int k = 0; k < 3 && pushed < N; k++, pushed++) {
            m[pushed] = pushed;
            CHECK_EQ(ekv_link_push(l, now, now, &m[pushed]), now + 50);
            now++;
        }
        for (int k = 0; k < 2; k++) {
            CHECK_EQ(ekv_link_pop(l, now + 1000, &got), 1);
            CHECK(got == &m[popped]);
            popped++;
        }
        CHECK_EQ(ekv_link_pending(l), (size_t)(pushed - popped));
    }
    CHECK_GT(ekv_link_pending(l), 64); /* it did grow past the initial capacity */
    int64_t prev_due = 0;
    while (popped < N) {
        int64_t due = ekv_link_next_due(l);
        CHECK_GE(due, prev_due);
        prev_due = due;
        CHECK_EQ(ekv_link_pop(l, due, &got), 1);
        CHECK(got == &m[popped]);
        popped++;
    }
    CHECK_EQ(ekv_link_pending(l), 0);
    CHECK_EQ(ekv_link_pop(l, INT64_MAX, &got), 0);

    /* A burst of N with no pops (growth from a ring that was never wrapped) keeps order too. */
    for (int i = 0; i < N; i++)
        CHECK_EQ(ekv_link_push(l, now, now, &m[i]), now + 50);
    CHECK_EQ(ekv_link_pending(l), N);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(ekv_link_pop(l, now + 50, &got), 1);
        CHECK(got == &m[i]);
    }
    CHECK_EQ(ekv_link_next_due(l), INT64_MAX);
    ekv_link_destroy(&l);
}

static void test_set_delay_applies_to_later_pushes(void)
{
    ekv_link_t *l = ekv_link_new(1000);
    int a = 1, b = 2;
    CHECK_EQ(ekv_link_push(l, 100, 100, &a), 1100);
    ekv_link_set_delay_us(l, 5000);
    CHECK_EQ(ekv_link_delay_us(l), 5000);
    /* The message already in flight keeps its delivery time. */
    CHECK_EQ(ekv_link_next_due(l), 1100);
    CHECK_EQ(ekv_link_push(l, 200, 200, &b), 5200);
    void *got = NULL;
    CHECK_EQ(ekv_link_pop(l, 1100, &got), 1);
    CHECK(got == &a);
    CHECK_EQ(ekv_link_pop(l, 5199, &got), 0);
    CHECK_EQ(ekv_link_pop(l, 5200, &got), 1);
    CHECK(got == &b);
    ekv_link_destroy(&l);
}

static void test_negative_delay_clamps_to_zero(void)
{
    ekv_link_t *l = ekv_link_new(-5);
    CHECK_EQ(ekv_link_delay_us(l), 0);
    int a = 1, b = 2;
    CHECK_EQ(ekv_link_push(l, 100, 100, &a), 100);
    void *got = NULL;
    CHECK_EQ(ekv_link_pop(l, 100, &got), 1);
    CHECK(got == &a);

    ekv_link_set_delay_us(l, 300);
    ekv_link_set_delay_us(l, -1);
    CHECK_EQ(ekv_link_delay_us(l), 0);
    CHECK_EQ(ekv_link_push(l, 400, 400, &b), 400);
    CHECK_EQ(ekv_link_pop(l, 400, &got), 1);
    CHECK(got == &b);
    ekv_link_destroy(&l);
}

int main(void)
{
    EKV_TEST_RUN(test_delivered_at_sent_plus_delay);
    EKV_TEST_RUN(test_late_message_delivered_now);
    EKV_TEST_RUN(test_fifo_no_overtaking);
    EKV_TEST_RUN(test_pop_in_order_when_due);
    EKV_TEST_RUN(test_growth_with_wraparound);
    EKV_TEST_RUN(test_set_delay_applies_to_later_pushes);
    EKV_TEST_RUN(test_negative_delay_clamps_to_zero);
    EKV_TEST_DONE();
}
