/* committer_test: unit tests of the coordinator's group commit (coordinator/committer).
 *
 * The wait rule (ekv_commit_linger_us) is pure and checked against its contract. The
 * committer runs for real: a RocksDB store in a folder under one mkdtemp folder (removed at
 * exit by the process that made it, not by a forked child), a libevent base driven by the
 * test, and callbacks that record what they saw, on which thread and in what order (one
 * atomic tick shared by both threads). What is checked is what the coordinator relies on:
 * gap-free sequence numbers across groups, each draft stamped and encoded, the busy flag and
 * the hand-over (done may start the next group), ekv_committer_wait and destroy finishing the
 * group in flight, publish on the commit thread strictly before done on the loop with the
 * same commit time, a failed commit that publishes nothing and uses no sequence number, and
 * every acknowledged change still there after a process dies without closing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif
#include <errno.h>
#include <event2/event.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "committer.h"
#include "ekv_err.h"
#include "ekv_msg.h"
#include "ekv_test.h"
#include "ekv_tmpdir.h"
#include "ekv_time.h"
#include "store.h"
#include "store_fixture.h"

#define MAX_GROUPS 64 /* groups one test runs */
#define MAX_N      8  /* drafts per group */

/* ---- groups of drafts ---------------------------------------------------------------------- */

/* One group: its drafts and the bytes they borrow (they must outlive the commit). */
typedef struct {
    ekv_msg_t drafts[MAX_N];
    char keys[MAX_N][48];
    char values[MAX_N][32];
    size_t n;
} group_t;

static group_t groups[MAX_GROUPS];

/* How many drafts group g holds: 1 to 6, mixed, so groups differ in size. */
static size_t group_size(int g)
{
    return 1 + (size_t)(g * 7 % 6);
}

/* Fills groups[0..count) with puts of keys "<tag>-<g>-<i>" and values "v<g>.<i>". */
static void plan_groups(const char *tag, int count)
{
    CHECK_LE(count, MAX_GROUPS);
    for (int g = 0; g < count; g++) {
        group_t *gr = &groups[g];
        memset(gr, 0, sizeof *gr);
        gr->n = group_size(g);
        for (size_t i = 0; i < gr->n; i++) {
            snprintf(gr->keys[i], sizeof gr->keys[i], "%.16s-%d-%d", tag, g, (int)i);
            snprintf(gr->values[i], sizeof gr->values[i], "v%d.%d", g, (int)i);
            gr->drafts[i].op = EKV_OP_PUT;
            gr->drafts[i].ns = B("ns");
            gr->drafts[i].key = B(gr->keys[i]);
            gr->drafts[i].value = B(gr->values[i]);
        }
    }
}

/* The sequence number of draft i of group g when every group before it committed in order
 * (on an empty store). */
static uint64_t expected_seq(int g, size_t i)
{
    uint64_t seq = 0;
    for (int k = 0; k < g; k++)
        seq += group_size(k);
    return seq + i + 1;
}

/* ---- what the callbacks saw ---------------------------------------------------------------- */

typedef struct {
    int order;          /* tick of the shared clock: publish at its end, done at its start */
    int64_t commit_us;  /* as passed to the callback */
    size_t n;           /* drafts in the group */
    int off_loop;       /* 1 when it ran on another thread than the loop's */
    uint64_t first_seq; /* drafts[0].seq and drafts[n-1].seq as the callback saw them */
    uint64_t end_seq;
    uint64_t store_seq; /* publish: ekv_store_last_seq when it ran */
    int bodies_ok;      /* publish: every body decoded as the CHANGE of its draft */
    int busy;           /* done: ekv_committer_busy inside the callback */
    int rc;             /* done: the group's result */
} call_t;

typedef struct {
    ekv_store_t *store;
    ekv_committer_t *committer;
    pthread_t loop;     /* the thread that runs the event base */
    atomic_int clock;   /* ticks taken by both callbacks */
    pthread_mutex_t mu; /* pub and npub (written on the commit thread) */
    call_t pub[MAX_GROUPS];
    int npub;
    call_t done[MAX_GROUPS];
    int ndone;
    int publish_sleep_us; /* publish sleeps this long on odd groups, so a done that did not
                             wait for it would show up first */
    int chain;            /* done starts groups[ndone] while ndone < chain */
    int ack_fd;           /* >= 0: done writes each group's last seq there */
    int exit_at;          /* > 0: done _exit()s after that many groups (a crash) */
} rec_t;

/* 1 when body is the encoding of draft d as a CHANGE. */
static int body_matches(const char *body, size_t len, const ekv_msg_t *d)
{
    ekv_msg_t m;
    if (!body || ekv_msg_decode(body, len, &m) != EKV_OK)
        return 0;
    int ok = m.type == EKV_MSG_CHANGE && m.seq == d->seq && m.time_us == d->time_us &&
             m.op == d->op && m.key.len == d->key.len &&
             memcmp(m.key.ptr, d->key.ptr, d->key.len) == 0 && m.value.len == d->value.len &&
             memcmp(m.value.ptr, d->value.ptr, d->value.len) == 0 && m.ns.len == d->ns.len &&
             memcmp(m.ns.ptr, d->ns.ptr, d->ns.len) == 0;
    ekv_msg_fini(&m);
    return ok;
}

/* On the commit thread: no CHECK here (exit from this thread would race the loop); record,
 * and let the loop thread judge. */
static void on_publish(void *arg, const ekv_msg_t *drafts, size_t n, char **bodies,
                       const size_t *lens, int64_t commit_us)
{
    rec_t *r = arg;
    call_t c = {0};
    c.store_seq = ekv_store_last_seq(r->store);
    c.commit_us = commit_us;
    c.n = n;
    c.off_loop = !pthread_equal(pthread_self(), r->loop);
    c.first_seq = n ? drafts[0].seq : 0;
    c.end_seq = n ? drafts[n - 1].seq : 0;
    c.bodies_ok = 1;
    for (size_t i = 0; i < n; i++)
        c.bodies_ok &= body_matches(bodies[i], lens[i], &drafts[i]);
    pthread_mutex_lock(&r->mu);
    int g = r->npub++;
    pthread_mutex_unlock(&r->mu);
    if (r->publish_sleep_us && g % 2)
        usleep((useconds_t)r->publish_sleep_us);
    c.order = atomic_fetch_add(&r->clock, 1);
    pthread_mutex_lock(&r->mu);
    if (g < MAX_GROUPS)
        r->pub[g] = c;
    pthread_mutex_unlock(&r->mu);
}

static void ack(int fd, uint64_t seq)
{
    ssize_t w;
    while ((w = write(fd, &seq, sizeof seq)) < 0 && errno == EINTR)
        ;
    if (w != (ssize_t)sizeof seq)
        _exit(4);
}

/* On the loop thread: checks the group's bodies, frees what the callee owns, and starts the
 * next group when chaining (as the coordinator's group_done does). */
static void on_done(void *arg, ekv_msg_t *drafts, size_t n, char **bodies, size_t *lens, int rc,
                    int64_t commit_us)
{
    rec_t *r = arg;
    call_t c = {0};
    c.order = atomic_fetch_add(&r->clock, 1);
    c.commit_us = commit_us;
    c.n = n;
    c.off_loop = !pthread_equal(pthread_self(), r->loop);
    c.busy = ekv_committer_busy(r->committer);
    c.rc = rc;
    if (rc == EKV_OK) { /* on failure the bodies were never handed over */
        c.first_seq = n ? drafts[0].seq : 0;
        c.end_seq = n ? drafts[n - 1].seq : 0;
        for (size_t i = 0; i < n; i++) {
            CHECK(body_matches(bodies[i], lens[i], &drafts[i]));
            CHECK_GT(drafts[i].time_us, 0);
            CHECK_EQ(drafts[i].time_us, drafts[0].time_us); /* one commit time per group */
            free(bodies[i]);
        }
    }
    free(bodies);
    free(lens);
    CHECK_LT(r->ndone, MAX_GROUPS);
    r->done[r->ndone++] = c;
    if (r->ack_fd >= 0 && rc == EKV_OK)
        ack(r->ack_fd, c.end_seq);
    if (r->ndone < r->chain)
        ekv_committer_start(r->committer, groups[r->ndone].drafts, groups[r->ndone].n);
    if (r->exit_at && r->ndone == r->exit_at)
        _exit(0); /* no close, the next group in flight: as kill -9 would leave it */
}

/* ---- a store, a loop and a committer ------------------------------------------------------- */

typedef struct {
    char dir[128];
    struct event_base *base;
    ekv_committer_t *c;
    rec_t rec;
} fix_t;

/* Opens a store in dir (NULL: a new folder) under durability d, with a committer on it. */
static void fix_open(fix_t *f, ekv_store_durability_t d, const char *dir)
{
    memset(f, 0, sizeof *f);
    if (dir)
        snprintf(f->dir, sizeof f->dir, "%s", dir);
    else
        ekv_tmpdir_new(f->dir, sizeof f->dir);
    f->base = event_base_new();
    CHECK(f->base != NULL);
    rec_t *r = &f->rec;
    r->store = open_with(f->dir, d);
    r->loop = pthread_self();
    atomic_init(&r->clock, 0);
    pthread_mutex_init(&r->mu, NULL);
    r->ack_fd = -1;
    f->c = ekv_committer_new(f->base, r->store, on_publish, on_done, r);
    CHECK(f->c != NULL);
    r->committer = f->c;
    CHECK_EQ(ekv_committer_busy(f->c), 0);
}

static void fix_close(fix_t *f)
{
    ekv_committer_destroy(&f->c);
    CHECK(f->c == NULL);
    ekv_store_destroy(&f->rec.store);
    event_base_free(f->base);
    pthread_mutex_destroy(&f->rec.mu);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until ndone groups are done; fails after 20 s (a loaded machine, fsyncs).
 * A tick wakes the loop so the deadline is checked even when nothing happens. */
static void run_until(fix_t *f, int ndone)
{
    int64_t deadline = ekv_mono_us() + 20000000;
    struct event *tick = event_new(f->base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(tick, &tv);
    while (f->rec.ndone < ndone) {
        CHECK_LT(ekv_mono_us(), deadline);
        event_base_loop(f->base, EVLOOP_ONCE);
    }
    event_free(tick);
}

static int npub(rec_t *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->npub;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Expects groups[0..count) stored as planned, each key with its value and seq. */
static void expect_groups(ekv_store_t *s, int count)
{
    for (int g = 0; g < count; g++)
        for (size_t i = 0; i < groups[g].n; i++) {
            ekv_msg_t m;
            CHECK_EQ(ekv_store_get(s, B("ns"), B(groups[g].keys[i]), &m), EKV_OK);
            CHECK_MEM(m.value.ptr, m.value.len, groups[g].values[i], strlen(groups[g].values[i]));
            CHECK_EQ(m.seq, expected_seq(g, i));
            ekv_msg_fini(&m);
        }
}

/* ---- the wait rule ------------------------------------------------------------------------- */

static void test_wait_rule_single_writer_never_waits(void)
{
    /* No concurrency seen last time: whatever is queued goes at once, however slow the last
     * commit was. */
    for (size_t queued = 1; queued < 5; queued++)
        for (size_t last = 0; last <= 1; last++) {
            CHECK_EQ(ekv_commit_linger_us(queued, last, 100, 1000), 0);
            CHECK_EQ(ekv_commit_linger_us(queued, last, 100, INT64_MAX), 0);
        }
}

static void test_wait_rule_waits_half_the_last_commit(void)
{
    /* The last group had 8 writers; fewer have come back yet: wait for half the last commit. */
    for (size_t queued = 1; queued < 8; queued++) {
        CHECK_EQ(ekv_commit_linger_us(queued, 8, 100, 1000), 500);
        CHECK_EQ(ekv_commit_linger_us(queued, 8, 100, 3), 1);
    }
    CHECK_EQ(ekv_commit_linger_us(1, 2, 100, 1001), 500);
    /* Capped. */
    CHECK_EQ(ekv_commit_linger_us(1, 8, 100, 2 * EKV_COMMIT_LINGER_MAX_US),
             EKV_COMMIT_LINGER_MAX_US);
    CHECK_EQ(ekv_commit_linger_us(1, 8, 100, 2 * EKV_COMMIT_LINGER_MAX_US + 2),
             EKV_COMMIT_LINGER_MAX_US);
    CHECK_EQ(ekv_commit_linger_us(1, 8, 100, 2 * EKV_COMMIT_LINGER_MAX_US - 2),
             EKV_COMMIT_LINGER_MAX_US - 1);
    /* At least 1 us: a commit measured as 0 or 1 us (or a clock step) still lingers. */
    CHECK_EQ(ekv_commit_linger_us(1, 8, 100, 1), 1);
    CHECK_EQ(ekv_commit_linger_us(1, 8, 100, 0), 1);
    CHECK_EQ(ekv_commit_linger_us(1, 8, 100, -5000), 1);
    /* Over a sweep: always within [1, max], never shorter for a slower last commit. */
    int64_t prev = 0;
    for (int64_t us = 0; us < 10 * EKV_COMMIT_LINGER_MAX_US; us += 7) {
        int64_t w = ekv_commit_linger_us(3, 5, 100, us);
        CHECK_GE(w, 1);
        CHECK_LE(w, EKV_COMMIT_LINGER_MAX_US);
        CHECK_GE(w, prev);
        CHECK_LE(w, us / 2 + 1);
        prev = w;
    }
}

static void test_wait_rule_commits_when_enough_gathered(void)
{
    /* As many as last time (or more): nobody is missing. */
    CHECK_EQ(ekv_commit_linger_us(8, 8, 100, 1000), 0);
    CHECK_EQ(ekv_commit_linger_us(9, 8, 100, 1000), 0);
    CHECK_EQ(ekv_commit_linger_us(2, 2, 100, 1000), 0);
    /* A full batch: waiting cannot make it bigger. */
    CHECK_EQ(ekv_commit_linger_us(5, 8, 5, 1000), 0);
    CHECK_EQ(ekv_commit_linger_us(6, 8, 5, 1000), 0);
    CHECK_EQ(ekv_commit_linger_us(4, 8, 5, 1000), 500);
}

static void test_wait_rule_huge_values(void)
{
    CHECK_EQ(ekv_commit_linger_us(1, SIZE_MAX, SIZE_MAX, INT64_MAX), EKV_COMMIT_LINGER_MAX_US);
    CHECK_EQ(ekv_commit_linger_us(SIZE_MAX - 1, SIZE_MAX, SIZE_MAX, INT64_MAX),
             EKV_COMMIT_LINGER_MAX_US);
    CHECK_EQ(ekv_commit_linger_us(1, SIZE_MAX, SIZE_MAX, INT64_MIN), 1);
    CHECK_EQ(ekv_commit_linger_us(SIZE_MAX, SIZE_MAX, SIZE_MAX, INT64_MAX), 0);
    CHECK_EQ(ekv_commit_linger_us(SIZE_MAX, 2, 100, INT64_MAX), 0);
    CHECK_EQ(ekv_commit_linger_us(1, SIZE_MAX, 1, INT64_MAX), 0);
}

/* ---- the committer ------------------------------------------------------------------------- */

/* Groups started one at a time, completed alternately by the loop and by ekv_committer_wait:
 * consecutive sequence numbers across groups, every draft stamped and encoded, busy exactly
 * while a group is in flight, done on the loop thread. */
static void test_groups_get_consecutive_seqs(void)
{
    fix_t f;
    fix_open(&f, EKV_STORE_FSYNC, NULL);
    enum { COUNT = 8 };
    plan_groups("seq", COUNT);
    groups[3].drafts[0].op = EKV_OP_DELETE; /* a delete in the mix, of a key put before */
    groups[3].drafts[0].key = B(groups[0].keys[0]);
    groups[3].drafts[0].value = B("");
    ekv_committer_wait(f.c); /* idle: returns at once */
    for (int g = 0; g < COUNT; g++) {
        int64_t before = ekv_now_us();
        ekv_committer_start(f.c, groups[g].drafts, groups[g].n);
        CHECK_EQ(ekv_committer_busy(f.c), 1);
        CHECK_EQ(f.rec.ndone, g); /* done runs only on the loop thread, from the loop */
        if (g % 2)
            ekv_committer_wait(f.c);
        else
            run_until(&f, g + 1);
        CHECK_EQ(f.rec.ndone, g + 1);
        CHECK_EQ(ekv_committer_busy(f.c), 0);
        call_t *d = &f.rec.done[g];
        CHECK_EQ(d->rc, EKV_OK);
        CHECK_EQ(d->off_loop, 0);
        CHECK_EQ(d->busy, 0);
        CHECK_EQ(d->n, groups[g].n);
        for (size_t i = 0; i < groups[g].n; i++) {
            CHECK_EQ(groups[g].drafts[i].seq, expected_seq(g, i));
            CHECK_EQ(groups[g].drafts[i].type, EKV_MSG_CHANGE);
            CHECK_GE(groups[g].drafts[i].time_us, before);
            CHECK_LE(groups[g].drafts[i].time_us, d->commit_us);
        }
        CHECK_LE(d->commit_us, ekv_now_us());
        CHECK_EQ(ekv_store_last_seq(f.rec.store), expected_seq(g + 1, 0) - 1);
    }
    CHECK_EQ(npub(&f.rec), COUNT);
    expect_missing(f.rec.store, "ns", groups[0].keys[0]);
    ekv_msg_t m;
    CHECK_EQ(ekv_store_get(f.rec.store, B("ns"), B(groups[4].keys[0]), &m), EKV_OK);
    CHECK_EQ(m.seq, expected_seq(4, 0));
    ekv_msg_fini(&m);
    fix_close(&f);
}

/* ekv_committer_wait returns only once the callback has run, even when the commit thread is
 * still busy publishing; destroy does the same for a group in flight. */
static void test_wait_and_destroy_finish_the_group(void)
{
    fix_t f;
    fix_open(&f, EKV_STORE_FSYNC, NULL);
    plan_groups("wait", 3);
    f.rec.publish_sleep_us = 30000; /* odd groups: 1 */
    ekv_committer_start(f.c, groups[0].drafts, groups[0].n);
    ekv_committer_wait(f.c);
    CHECK_EQ(f.rec.ndone, 1);
    int64_t t0 = ekv_mono_us();
    CHECK_EQ(ekv_committer_start(f.c, groups[1].drafts, groups[1].n), EKV_OK);
    /* One group at a time: a second start while this one is in flight is refused. */
    CHECK_EQ(ekv_committer_start(f.c, groups[2].drafts, groups[2].n), EKV_EAGAIN);
    ekv_committer_wait(f.c);
    CHECK_GE(ekv_mono_us() - t0, 30000); /* it did wait for the slow publish */
    CHECK_EQ(f.rec.ndone, 2);
    CHECK_EQ(npub(&f.rec), 2);
    CHECK_EQ(ekv_committer_busy(f.c), 0);
    CHECK_EQ(f.rec.done[1].rc, EKV_OK);
    CHECK_EQ(f.rec.done[1].off_loop, 0);
    ekv_committer_wait(f.c); /* nothing in flight: returns at once */
    CHECK_EQ(f.rec.ndone, 2);

    /* A group in flight when the committer is destroyed is completed, callback and all. */
    f.rec.publish_sleep_us = 0;
    ekv_committer_start(f.c, groups[2].drafts, groups[2].n);
    ekv_committer_destroy(&f.c);
    CHECK_EQ(f.rec.ndone, 3);
    CHECK_EQ(f.rec.done[2].rc, EKV_OK);
    CHECK_EQ(f.rec.done[2].end_seq, expected_seq(2, groups[2].n - 1));
    expect_groups(f.rec.store, 3);
    fix_close(&f);
}

/* For every group the commit thread publishes (the store already holding it) strictly before
 * the loop thread acknowledges, with the same commit time; the next group is started from
 * the done callback, as the coordinator does, so groups follow each other without a gap. */
static void test_publish_then_acknowledge(void)
{
    fix_t f;
    fix_open(&f, EKV_STORE_WAL, NULL);
    enum { COUNT = 24 };
    plan_groups("order", COUNT);
    f.rec.publish_sleep_us = 2000;
    f.rec.chain = COUNT;
    ekv_committer_start(f.c, groups[0].drafts, groups[0].n);
    run_until(&f, COUNT);
    CHECK_EQ(ekv_committer_busy(f.c), 0);
    CHECK_EQ(npub(&f.rec), COUNT);
    for (int g = 0; g < COUNT; g++) {
        call_t *p = &f.rec.pub[g], *d = &f.rec.done[g];
        CHECK_EQ(d->rc, EKV_OK);
        CHECK_LT(p->order, d->order); /* publish finished before done began */
        if (g > 0)
            CHECK_LT(f.rec.done[g - 1].order, p->order); /* one group in flight at a time */
        CHECK_EQ(p->commit_us, d->commit_us);
        CHECK_EQ(p->off_loop, 1);
        CHECK_EQ(d->off_loop, 0);
        CHECK_EQ(d->busy, 0); /* done may start the next group */
        CHECK_EQ(p->bodies_ok, 1);
        CHECK_EQ(p->n, groups[g].n);
        CHECK_EQ(d->n, groups[g].n);
        CHECK_EQ(p->first_seq, expected_seq(g, 0));
        CHECK_EQ(p->end_seq, expected_seq(g, groups[g].n - 1));
        CHECK_EQ(d->first_seq, p->first_seq);
        CHECK_EQ(d->end_seq, p->end_seq);
        CHECK_GE(p->store_seq, p->end_seq); /* published only once stored */
        if (g > 0)
            CHECK_GE(d->commit_us, f.rec.done[g - 1].commit_us);
    }
    expect_groups(f.rec.store, COUNT);
    fix_close(&f);
}

/* Under each durability mode commits succeed and are there after a clean close and reopen. */
static void test_durability_modes_survive_reopen(void)
{
    const ekv_store_durability_t modes[] = {EKV_STORE_FSYNC, EKV_STORE_WAL, EKV_STORE_NONE};
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        fix_t f;
        fix_open(&f, modes[k], NULL);
        enum { COUNT = 6 };
        plan_groups("mode", COUNT);
        f.rec.chain = COUNT;
        ekv_committer_start(f.c, groups[0].drafts, groups[0].n);
        run_until(&f, COUNT);
        for (int g = 0; g < COUNT; g++)
            CHECK_EQ(f.rec.done[g].rc, EKV_OK);
        CHECK_EQ(npub(&f.rec), COUNT);
        fix_close(&f);
        ekv_store_t *s = open_with(f.dir, EKV_STORE_FSYNC);
        CHECK_EQ(ekv_store_last_seq(s), expected_seq(COUNT, 0) - 1);
        expect_groups(s, COUNT);
        ekv_store_destroy(&s);
    }
}

/* A child commits through the committer under fsync, reports each acknowledged group (its
 * last seq) on a pipe from the done callback, and dies with _exit() without closing, the next
 * group in flight. Every acknowledged change must be there after reopening. */
static void test_acknowledged_changes_survive_exit(void)
{
    enum { ACKED = 12 };
    char dir[128];
    ekv_tmpdir_new(dir, sizeof dir);
    plan_groups("crash", MAX_GROUPS);
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        fix_t f;
        fix_open(&f, EKV_STORE_FSYNC, dir);
        f.rec.ack_fd = fds[1];
        f.rec.chain = MAX_GROUPS;
        f.rec.exit_at = ACKED;
        ekv_committer_start(f.c, groups[0].drafts, groups[0].n);
        run_until(&f, MAX_GROUPS); /* ends in on_done's _exit */
        _exit(6);
    }
    close(fds[1]);
    uint64_t acks[MAX_GROUPS];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fds[0], (char *)acks + got, sizeof acks - got);
        if (r < 0 && errno == EINTR)
            continue;
        CHECK_GE(r, 0);
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    CHECK_EQ(got, ACKED * sizeof acks[0]);
    for (int g = 0; g < ACKED; g++)
        CHECK_EQ(acks[g], expected_seq(g, groups[g].n - 1));
    ekv_store_t *s = open_with(dir, EKV_STORE_FSYNC);
    CHECK_GE(ekv_store_last_seq(s), acks[ACKED - 1]);
    expect_groups(s, ACKED);
    ekv_store_destroy(&s);
}

/* A group the store refuses (one draft too big to encode) reports the error to done, is not
 * published, stores nothing and uses no sequence number; the next group goes on from there. */
static void test_failed_commit_is_not_published(void)
{
    fix_t f;
    fix_open(&f, EKV_STORE_FSYNC, NULL);
    plan_groups("fail", 3);
    group_t *good = &groups[0], *bad = &groups[2], *after = &groups[1];
    ekv_committer_start(f.c, good->drafts, good->n);
    run_until(&f, 1);
    CHECK_EQ(f.rec.done[0].rc, EKV_OK);
    uint64_t last = ekv_store_last_seq(f.rec.store);
    CHECK_EQ(last, good->n);

    size_t big_len = (size_t)EKV_MSG_MAX_BODY + 1;
    char *big = malloc(big_len);
    CHECK(big != NULL);
    memset(big, 'x', big_len);
    CHECK_GE(bad->n, 3); /* the big draft in the middle: one encoded before it, one after */
    bad->drafts[1].value = (ekv_bytes_t){big, big_len};
    ekv_committer_start(f.c, bad->drafts, bad->n);
    run_until(&f, 2);
    CHECK_NE(f.rec.done[1].rc, EKV_OK);
    CHECK_EQ(npub(&f.rec), 1); /* not published */
    CHECK_EQ(ekv_committer_busy(f.c), 0);
    CHECK_EQ(ekv_store_last_seq(f.rec.store), last);
    for (size_t i = 0; i < bad->n; i++)
        expect_missing(f.rec.store, "ns", bad->keys[i]);
    free(big);

    ekv_committer_start(f.c, after->drafts, after->n);
    run_until(&f, 3);
    CHECK_EQ(f.rec.done[2].rc, EKV_OK);
    CHECK_EQ(npub(&f.rec), 2);
    CHECK_EQ(f.rec.done[2].first_seq, last + 1); /* no gap where the failed group was */
    CHECK_EQ(f.rec.pub[1].first_seq, last + 1);
    CHECK_EQ(ekv_store_last_seq(f.rec.store), last + after->n);
    fix_close(&f);
}

int main(void)
{
    if (ekv_tmpdir_init("committer-test") != 0)
        return 1;
    EKV_TEST_RUN(test_wait_rule_single_writer_never_waits);
    EKV_TEST_RUN(test_wait_rule_waits_half_the_last_commit);
    EKV_TEST_RUN(test_wait_rule_commits_when_enough_gathered);
    EKV_TEST_RUN(test_wait_rule_huge_values);
    /* First among the store tests: the child forks before this process has RocksDB threads. */
    EKV_TEST_RUN(test_acknowledged_changes_survive_exit);
    EKV_TEST_RUN(test_groups_get_consecutive_seqs);
    EKV_TEST_RUN(test_wait_and_destroy_finish_the_group);
    EKV_TEST_RUN(test_publish_then_acknowledge);
    EKV_TEST_RUN(test_durability_modes_survive_reopen);
    EKV_TEST_RUN(test_failed_commit_is_not_published);
    EKV_TEST_DONE();
}
