/* replica_test: unit tests of a PoP's position in the change stream (node/replica).
 *
 * The tracker is pure: each test feeds it hello, changes, heartbeats and catch-up replies as
 * the coordinator would, and checks what it asks the node to do (apply, catch up, resync)
 * and where it stands. Time is an argument. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_test.h"
#include "replica.h"

#define NOW INT64_C(1700000000000000)

static ekv_bytes_t B(const char *s)
{
    return (ekv_bytes_t){s, strlen(s)};
}

/* Feeds change seq; returns the action bits and checks whether it was to be applied. */
static int change(ekv_replica_t *r, uint64_t seq, int want_apply)
{
    int apply = -1;
    int what = ekv_replica_change(r, seq, &apply);
    CHECK_EQ(apply, want_apply);
    return what;
}

/* Asks for the catch-up the tracker wants; checks where it starts. */
static void expect_request(ekv_replica_t *r, uint64_t from, const char *cursor)
{
    uint64_t f = UINT64_MAX;
    ekv_bytes_t c = {NULL, 0};
    CHECK_EQ(ekv_replica_catchup_request(r, &f, &c), EKV_OK);
    CHECK_EQ(f, from);
    CHECK_MEM(c.ptr, c.len, cursor, strlen(cursor));
    CHECK(ekv_replica_catchup_inflight(r));
}

static void test_starts_at_the_tip(void)
{
    ekv_replica_t *r = ekv_replica_new(0);
    CHECK(!ekv_replica_ready(r));
    CHECK_EQ(change(r, 5, 0), 0); /* before hello: ignored */
    CHECK_EQ(ekv_replica_hello(r, 10, 7), 0);
    CHECK(ekv_replica_ready(r));
    CHECK_EQ(ekv_replica_applied(r), 10);
    CHECK_EQ(ekv_replica_epoch(r), 7);
    CHECK_EQ(change(r, 10, 0), 0); /* already covered by the tip */
    CHECK_EQ(change(r, 11, 1), 0);
    CHECK_EQ(change(r, 12, 1), 0);
    CHECK_EQ(ekv_replica_applied(r), 12);
    CHECK_EQ(ekv_replica_heartbeat(r, 12, 7), 0);
    ekv_replica_stats_t st;
    ekv_replica_stats(r, &st);
    CHECK_EQ(st.ignored, 2);
    CHECK_EQ(st.gaps, 0);
    ekv_replica_destroy(&r);
    ekv_replica_destroy(&r); /* no-op on NULL */
}

/* A gap asks for the log after the last contiguous change; the reply closes it. */
static void test_gap_and_log_catchup(void)
{
    ekv_replica_t *r = ekv_replica_new(0);
    ekv_replica_hello(r, 0, 1);
    CHECK_EQ(change(r, 1, 1), 0);
    CHECK_EQ(change(r, 4, 1), EKV_REPLICA_CATCHUP); /* 2 and 3 are missing */
    CHECK_EQ(ekv_replica_max(r), 4);
    expect_request(r, 1, "");
    uint64_t f;
    ekv_bytes_t c;
    CHECK_EQ(ekv_replica_catchup_request(r, &f, &c), EKV_EAGAIN); /* one at a time */
    CHECK_EQ(change(r, 5, 1), 0); /* applied, but the catch-up covers the position */
    CHECK_EQ(ekv_replica_applied(r), 1);
    /* The log run 2..5: 2 and 3 are new, 4 and 5 were applied already but the position moves. */
    CHECK_EQ(ekv_replica_log_entry(r, 2), 1);
    CHECK_EQ(ekv_replica_log_entry(r, 3), 1);
    CHECK_EQ(ekv_replica_log_entry(r, 4), 1);
    CHECK_EQ(ekv_replica_log_entry(r, 5), 1);
    CHECK_EQ(ekv_replica_log_entry(r, 5), 0);
    CHECK_EQ(ekv_replica_log_done(r, 0, NOW), 0);
    CHECK_EQ(ekv_replica_applied(r), 5);
    CHECK(!ekv_replica_catchup_inflight(r));
    /* MORE: fetch the rest at once. */
    CHECK_EQ(change(r, 9, 1), EKV_REPLICA_CATCHUP);
    expect_request(r, 5, "");
    CHECK_EQ(ekv_replica_log_entry(r, 6), 1);
    CHECK_EQ(ekv_replica_log_done(r, 1, NOW), EKV_REPLICA_CATCHUP);
    expect_request(r, 6, "");
    CHECK_EQ(ekv_replica_log_entry(r, 7), 1);
    CHECK_EQ(ekv_replica_log_entry(r, 8), 1);
    CHECK_EQ(ekv_replica_log_done(r, 0, NOW), EKV_REPLICA_CATCHUP); /* 9 applied, so 9 is next */
    expect_request(r, 8, "");
    CHECK_EQ(ekv_replica_log_entry(r, 9), 1);
    CHECK_EQ(ekv_replica_log_done(r, 0, NOW), 0);
    CHECK_EQ(ekv_replica_applied(r), 9);
    ekv_replica_destroy(&r);
}

/* A heartbeat announcing changes that never arrived opens a catch-up (a silent gap). */
static void test_silent_gap(void)
{
    ekv_replica_t *r = ekv_replica_new(0);
    ekv_replica_hello(r, 3, 1);
    CHECK_EQ(ekv_replica_heartbeat(r, 3, 1), 0);
    CHECK_EQ(ekv_replica_heartbeat(r, 6, 1), EKV_REPLICA_CATCHUP);
    CHECK_EQ(ekv_replica_announced(r), 6);
    expect_request(r, 3, "");
    CHECK_EQ(ekv_replica_heartbeat(r, 6, 1), 0); /* one in flight already */
    ekv_replica_destroy(&r);
}

/* Regression: a catch-up whose reply was lost was never asked again; the PoP stayed behind
 * until some new change showed the gap. */
static void test_lost_catchup_is_asked_again(void)
{
    ekv_replica_t *r = ekv_replica_new(0);
    ekv_replica_hello(r, 0, 1);
    CHECK_EQ(change(r, 3, 1), EKV_REPLICA_CATCHUP);
    expect_request(r, 0, "");
    CHECK_EQ(ekv_replica_catchup_lost(r), EKV_REPLICA_CATCHUP);
    CHECK(!ekv_replica_catchup_inflight(r));
    expect_request(r, 0, "");
    /* Lost again, and no new change comes: the next heartbeat notices the open gap too. */
    ekv_replica_catchup_lost(r);
    CHECK_EQ(ekv_replica_heartbeat(r, 3, 1), EKV_REPLICA_CATCHUP);
    ekv_replica_stats_t st;
    ekv_replica_stats(r, &st);
    CHECK_EQ(st.lost, 2);
    ekv_replica_destroy(&r);
}

/* Busy: asked again after the pause, not before; a reply that closes nothing pauses too. */
static void test_busy_and_no_progress_pause(void)
{
    ekv_replica_t *r = ekv_replica_new(0);
    ekv_replica_hello(r, 0, 1);
    change(r, 4, 1);
    expect_request(r, 0, "");
    ekv_replica_catchup_busy(r, NOW);
    CHECK_EQ(ekv_replica_next_due(r), NOW + EKV_REPLICA_BUSY_PAUSE_US);
    CHECK_EQ(ekv_replica_heartbeat(r, 4, 1), 0); /* waiting out the pause */
    CHECK_EQ(change(r, 5, 1), 0);
    CHECK_EQ(ekv_replica_due(r, NOW + EKV_REPLICA_BUSY_PAUSE_US - 1), 0);
    CHECK_EQ(ekv_replica_due(r, NOW + EKV_REPLICA_BUSY_PAUSE_US), EKV_REPLICA_CATCHUP);
    CHECK_EQ(ekv_replica_next_due(r), INT64_MAX);
    expect_request(r, 0, "");
    CHECK_EQ(ekv_replica_log_done(r, 0, NOW), 0); /* an empty run: no tight loop */
    CHECK_EQ(ekv_replica_next_due(r), NOW + EKV_REPLICA_BUSY_PAUSE_US);
    CHECK_EQ(ekv_replica_due(r, NOW + EKV_REPLICA_BUSY_PAUSE_US), EKV_REPLICA_CATCHUP);
    ekv_replica_destroy(&r);
}

/* A full replica starts from a snapshot; pages continue from their cursor; at the end the
 * position is the base of the first page, and the log after it is fetched. */
static void test_snapshot_pages(void)
{
    ekv_replica_t *r = ekv_replica_new(1);
    CHECK_EQ(ekv_replica_hello(r, 20, 1), EKV_REPLICA_CATCHUP);
    CHECK_EQ(ekv_replica_applied(r), 0);
    expect_request(r, 0, "");
    int fin = -1;
    ekv_replica_snapshot_saw(r, B("ns"), B("a"));
    CHECK_EQ(ekv_replica_snapshot_page(r, 20, B("\x02nsa"), 1, &fin), EKV_REPLICA_CATCHUP);
    CHECK_EQ(fin, 0);
    CHECK(ekv_replica_in_snapshot(r));
    expect_request(r, 0, "\x02nsa");
    CHECK_EQ(change(r, 21, 1), 0); /* applied during the load; the tail catch-up covers it */
    ekv_replica_snapshot_saw(r, B("ns"), B("b"));
    CHECK_EQ(ekv_replica_snapshot_page(r, 22, B("\x02nsb"), 0, &fin), EKV_REPLICA_CATCHUP);
    CHECK_EQ(fin, 1);
    CHECK(!ekv_replica_in_snapshot(r));
    CHECK_EQ(ekv_replica_snapshot_base(r), 20); /* the first page's */
    CHECK_EQ(ekv_replica_applied(r), 20);
    CHECK(ekv_replica_snapshot_carried(r, B("ns"), B("a")));
    CHECK(ekv_replica_snapshot_carried(r, B("ns"), B("b")));
    CHECK(!ekv_replica_snapshot_carried(r, B("ns"), B("c")));
    CHECK(!ekv_replica_snapshot_carried(r, B("nsb"), B(""))); /* ns and key kept apart */
    ekv_replica_snapshot_clear(r);
    CHECK(!ekv_replica_snapshot_carried(r, B("ns"), B("a")));
    expect_request(r, 20, ""); /* the log tail */
    CHECK_EQ(ekv_replica_log_entry(r, 21), 1);
    CHECK_EQ(ekv_replica_log_done(r, 0, NOW), 0);
    CHECK_EQ(ekv_replica_applied(r), 21);
    ekv_replica_destroy(&r);
}

/* The carried-key set grows past its first table and still answers exactly. */
static void test_snapshot_many_keys(void)
{
    ekv_replica_t *r = ekv_replica_new(1);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ekv_replica_snapshot_saw(r, B("ns"), B(key));
        ekv_replica_snapshot_saw(r, B("ns"), B(key)); /* twice: once kept */
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CHECK(ekv_replica_snapshot_carried(r, B("ns"), B(key)));
        snprintf(key, sizeof key, "x%d", i);
        CHECK(!ekv_replica_snapshot_carried(r, B("ns"), B(key)));
    }
    ekv_replica_destroy(&r); /* frees the set */
}

/* Regression: when the coordinator's store restarted its sequence (durability none and a
 * crash, a wiped folder), new changes were dropped as already seen. A new epoch in a
 * heartbeat now means: start over. */
static void test_epoch_change_resyncs(void)
{
    ekv_replica_t *r = ekv_replica_new(0);
    ekv_replica_hello(r, 100, 0xaaa);
    change(r, 101, 1);
    CHECK_EQ(ekv_replica_heartbeat(r, 101, 0xaaa), 0);
    CHECK_EQ(ekv_replica_heartbeat(r, 3, 0xbbb), EKV_REPLICA_RESYNC);
    ekv_replica_reset(r);
    CHECK(!ekv_replica_ready(r));
    CHECK_EQ(ekv_replica_applied(r), 0);
    CHECK_EQ(ekv_replica_hello(r, 3, 0xbbb), 0);
    CHECK_EQ(ekv_replica_applied(r), 3);
    CHECK_EQ(change(r, 4, 1), 0); /* a new change numbered below the old position */
    CHECK_EQ(ekv_replica_applied(r), 4);
    ekv_replica_stats_t st;
    ekv_replica_stats(r, &st);
    CHECK_EQ(st.resyncs, 1); /* stats survive the reset */
    /* Before hello, heartbeats of any epoch are only noted. */
    ekv_replica_reset(r);
    CHECK_EQ(ekv_replica_heartbeat(r, 9, 0xccc), 0);
    ekv_replica_destroy(&r);
}

int main(void)
{
    EKV_TEST_RUN(test_starts_at_the_tip);
    EKV_TEST_RUN(test_gap_and_log_catchup);
    EKV_TEST_RUN(test_silent_gap);
    EKV_TEST_RUN(test_lost_catchup_is_asked_again);
    EKV_TEST_RUN(test_busy_and_no_progress_pause);
    EKV_TEST_RUN(test_snapshot_pages);
    EKV_TEST_RUN(test_snapshot_many_keys);
    EKV_TEST_RUN(test_epoch_change_resyncs);
    EKV_TEST_DONE();
}
