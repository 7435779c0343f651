/* fine_timer_test: unit tests of the loop's microsecond timers (common/ekv_loop).
 *
 * The coordinator's group-commit linger and a PoP's delay line ride on these, so what
 * matters is that a timer never fires early, fires exactly once per setting, a later setting
 * replaces an earlier one (even one that has already expired unseen, or a due-now one), and a
 * cancelled timer stays silent. Upper bounds are left generous: the machine may be busy. */
#include <event2/event.h>
#include <stdint.h>
#include <time.h>

#include "ekv_err.h"
#include "ekv_loop.h"
#include "ekv_test.h"
#include "ekv_time.h"

static int fired;
static int64_t fired_at;

static void on_fire(void *arg)
{
    (void)arg;
    fired++;
    fired_at = ekv_mono_us();
}

/* Runs the loop for about ms milliseconds. */
static void run_for(struct event_base *base, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static struct event_base *base;
static ekv_fine_timer_t *t;

static void setup(void)
{
    base = event_base_new();
    t = ekv_fine_timer_new(base, on_fire, NULL);
    CHECK(t != NULL);
    fired = 0;
    fired_at = 0;
}

static void teardown(void)
{
    ekv_fine_timer_free(&t);
    CHECK(t == NULL);
    ekv_fine_timer_free(&t); /* a second free is harmless */
    event_base_free(base);
}

static void test_fires_once_not_early(void)
{
    setup();
    CHECK_EQ(ekv_fine_timer_pending(t), 0);
    int64_t t0 = ekv_mono_us();
    CHECK_EQ(ekv_fine_timer_set(t, 3000), EKV_OK);
    CHECK_EQ(ekv_fine_timer_pending(t), 1);
    run_for(base, 60);
    CHECK_EQ(fired, 1);
    CHECK_GE(fired_at - t0, 3000);
    CHECK_EQ(ekv_fine_timer_pending(t), 0);
    teardown();
}

static void test_due_now_fires_on_this_turn(void)
{
    setup();
    CHECK_EQ(ekv_fine_timer_set(t, 0), EKV_OK);
    CHECK_EQ(ekv_fine_timer_pending(t), 1);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK_EQ(fired, 1);
    CHECK_EQ(ekv_fine_timer_pending(t), 0);
    CHECK_EQ(ekv_fine_timer_set(t, -5), EKV_OK); /* past due: the same */
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK_EQ(fired, 2);
    run_for(base, 20);
    CHECK_EQ(fired, 2);
    teardown();
}

static void test_cancel_silences(void)
{
    setup();
    CHECK_EQ(ekv_fine_timer_set(t, 2000), EKV_OK);
    ekv_fine_timer_cancel(t);
    CHECK_EQ(ekv_fine_timer_pending(t), 0);
    run_for(base, 20);
    CHECK_EQ(fired, 0);

    /* Cancelled after it expired but before the loop saw it. */
    CHECK_EQ(ekv_fine_timer_set(t, 1000), EKV_OK);
    sleep_us(5000);
    ekv_fine_timer_cancel(t);
    run_for(base, 20);
    CHECK_EQ(fired, 0);

    /* A due-now setting cancelled before the loop ran it. */
    CHECK_EQ(ekv_fine_timer_set(t, 0), EKV_OK);
    ekv_fine_timer_cancel(t);
    run_for(base, 10);
    CHECK_EQ(fired, 0);
    ekv_fine_timer_cancel(t); /* cancelling an idle timer is harmless */
    teardown();
}

static void test_later_setting_replaces(void)
{
    setup();
    /* Earlier: a long setting shortened fires once, at the short time. */
    int64_t t0 = ekv_mono_us();
    CHECK_EQ(ekv_fine_timer_set(t, 500000), EKV_OK);
    CHECK_EQ(ekv_fine_timer_set(t, 2000), EKV_OK);
    run_for(base, 60);
    CHECK_EQ(fired, 1);
    CHECK_GE(fired_at - t0, 2000);
    CHECK_LT(fired_at - t0, 500000);

    /* A due-now setting replaced by a later one does not fire now. */
    fired = 0;
    t0 = ekv_mono_us();
    CHECK_EQ(ekv_fine_timer_set(t, 0), EKV_OK);
    CHECK_EQ(ekv_fine_timer_set(t, 5000), EKV_OK);
    run_for(base, 60);
    CHECK_EQ(fired, 1);
    CHECK_GE(fired_at - t0, 5000);

    /* Set again after expiring unseen: the old expiry is gone, the new time holds. */
    fired = 0;
    CHECK_EQ(ekv_fine_timer_set(t, 1000), EKV_OK);
    sleep_us(5000);
    t0 = ekv_mono_us();
    CHECK_EQ(ekv_fine_timer_set(t, 10000), EKV_OK);
    run_for(base, 80);
    CHECK_EQ(fired, 1);
    CHECK_GE(fired_at - t0, 10000);
    teardown();
}

/* Set from inside its own callback: fires again at the new time. */
static int rearms;
static ekv_fine_timer_t *self_timer;
static void on_rearm(void *arg)
{
    (void)arg;
    if (++rearms < 3)
        ekv_fine_timer_set(self_timer, rearms == 1 ? 0 : 1000);
}

static void test_rearm_from_callback(void)
{
    base = event_base_new();
    self_timer = ekv_fine_timer_new(base, on_rearm, NULL);
    rearms = 0;
    CHECK_EQ(ekv_fine_timer_set(self_timer, 1000), EKV_OK);
    run_for(base, 60);
    CHECK_EQ(rearms, 3);
    CHECK_EQ(ekv_fine_timer_pending(self_timer), 0);
    ekv_fine_timer_free(&self_timer);
    event_base_free(base);
}

int main(void)
{
    EKV_TEST_RUN(test_fires_once_not_early);
    EKV_TEST_RUN(test_due_now_fires_on_this_turn);
    EKV_TEST_RUN(test_cancel_silences);
    EKV_TEST_RUN(test_later_setting_replaces);
    EKV_TEST_RUN(test_rearm_from_callback);
    EKV_TEST_DONE();
}
