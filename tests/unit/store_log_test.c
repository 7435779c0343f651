/* store_log_test: unit tests of the coordinator's RocksDB store (coordinator/store): what a
 * PoP's catch-up relies on. What the store holds is in store_test.c.
 *
 * Every test opens a fresh store in its own folder under one mkdtemp folder, which an atexit
 * handler removes (nftw, depth first) even when a check fails. Time is injected: commit
 * times and the log-trim clock are arguments, so nothing sleeps. What is checked: the change
 * log read/trim rules, snapshot paging over every namespace, a page's sequence while commits
 * run (a node that resumes the log after it misses nothing), and the epoch that tells PoPs
 * when sequence numbers may have been reused. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_msg.h"
#include "ekv_test.h"
#include "ekv_tmpdir.h"
#include "store.h"
#include "store_fixture.h"

/* ---- change log ---------------------------------------------------------------------------- */

static void expect_log_seqs(ekv_page_t *page, uint64_t first, size_t n)
{
    CHECK_EQ(page->n, n);
    for (size_t i = 0; i < n; i++) {
        ekv_msg_t d;
        CHECK_EQ(ekv_msg_decode(page->items[i].ptr, page->items[i].len, &d), EKV_OK);
        CHECK_EQ(d.type, EKV_MSG_CHANGE);
        CHECK_EQ(d.seq, first + i);
        ekv_msg_fini(&d);
    }
}

static void test_log_read(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    ekv_page_t page;
    CHECK_EQ(ekv_store_log_read(s, 0, 10, SIZE_MAX, &page), EKV_OK);
    CHECK_EQ(page.n, 0);
    CHECK_EQ(page.more, 0);
    ekv_page_fini(&page);
    CHECK_EQ(ekv_store_log_first(s), 0);
    CHECK_EQ(ekv_store_log_size(s), 0);

    for (int i = 0; i < 9; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        put(s, "ns", key, "value", NULL, 0);
    }
    commit1(s, del_draft("ns", "k0"), T0); /* seq 10, a delete */
    CHECK_EQ(ekv_store_log_first(s), 1);
    CHECK_EQ(ekv_store_log_size(s), 10);

    CHECK_EQ(ekv_store_log_read(s, 0, 100, SIZE_MAX, &page), EKV_OK);
    expect_log_seqs(&page, 1, 10);
    CHECK_EQ(page.more, 0);
    ekv_msg_t d;
    CHECK_EQ(ekv_msg_decode(page.items[9].ptr, page.items[9].len, &d), EKV_OK);
    CHECK_EQ(d.op, EKV_OP_DELETE);
    CHECK_MEM(d.key.ptr, d.key.len, "k0", 2);
    ekv_msg_fini(&d);
    ekv_page_fini(&page);

    /* After a seq, at most max_n, with more until the end. */
    CHECK_EQ(ekv_store_log_read(s, 3, 4, SIZE_MAX, &page), EKV_OK);
    expect_log_seqs(&page, 4, 4);
    CHECK_EQ(page.more, 1);
    ekv_page_fini(&page);
    CHECK_EQ(ekv_store_log_read(s, 7, 4, SIZE_MAX, &page), EKV_OK);
    expect_log_seqs(&page, 8, 3);
    CHECK_EQ(page.more, 0);
    ekv_page_fini(&page);
    CHECK_EQ(ekv_store_log_read(s, 6, 4, SIZE_MAX, &page), EKV_OK); /* exactly the rest */
    expect_log_seqs(&page, 7, 4);
    ekv_page_fini(&page);
    CHECK_EQ(ekv_store_log_read(s, 10, 4, SIZE_MAX, &page), EKV_OK); /* caught up */
    CHECK_EQ(page.n, 0);
    CHECK_EQ(page.more, 0);
    ekv_page_fini(&page);
    CHECK_EQ(ekv_store_log_read(s, 1000, 4, SIZE_MAX, &page), EKV_OK); /* ahead of the log */
    CHECK_EQ(page.n, 0);
    ekv_page_fini(&page);

    /* A byte budget smaller than one entry still makes progress: a reader paging by the last
     * seq it got must reach the end. */
    uint64_t after = 0;
    size_t pages = 0;
    do {
        CHECK_EQ(ekv_store_log_read(s, after, 100, 1, &page), EKV_OK);
        CHECK_EQ(page.n, 1); /* one entry already exceeds the budget */
        CHECK_EQ(ekv_msg_decode(page.items[page.n - 1].ptr, page.items[page.n - 1].len, &d),
                 EKV_OK);
        CHECK_GT(d.seq, after);
        after = d.seq;
        ekv_msg_fini(&d);
        int more = page.more;
        ekv_page_fini(&page);
        pages++;
        if (!more)
            break;
    } while (pages < 100);
    CHECK_EQ(after, 10);
    CHECK_LE(pages, 10);
    ekv_store_destroy(&s);
}

static void test_log_trim_by_count(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    uint64_t dropped = 99;
    CHECK_EQ(ekv_store_log_trim(s, 3, 0, T0, &dropped), EKV_OK); /* empty log */
    CHECK_EQ(dropped, 0);
    for (int i = 0; i < 10; i++)
        put(s, "ns", "k", "v", NULL, 0);
    CHECK_EQ(ekv_store_log_trim(s, 20, 0, T0, &dropped), EKV_OK); /* under the limit */
    CHECK_EQ(dropped, 0);
    CHECK_EQ(ekv_store_log_size(s), 10);

    CHECK_EQ(ekv_store_log_trim(s, 3, 0, T0, &dropped), EKV_OK);
    CHECK_EQ(dropped, 7);
    CHECK_EQ(ekv_store_log_first(s), 8);
    CHECK_EQ(ekv_store_log_size(s), 3);
    CHECK_EQ(ekv_store_last_seq(s), 10); /* trimming never changes the sequence */
    ekv_page_t page;
    CHECK_EQ(ekv_store_log_read(s, 0, 100, SIZE_MAX, &page), EKV_OK);
    expect_log_seqs(&page, 8, 3);
    ekv_page_fini(&page);
    CHECK_EQ(ekv_store_log_trim(s, 3, 0, T0, &dropped), EKV_OK); /* idempotent */
    CHECK_EQ(dropped, 0);

    /* keep 1: only the newest stays; it is never dropped. */
    CHECK_EQ(ekv_store_log_trim(s, 1, 0, T0, &dropped), EKV_OK);
    CHECK_EQ(dropped, 2);
    CHECK_EQ(ekv_store_log_first(s), 10);
    CHECK_EQ(ekv_store_log_size(s), 1);
    CHECK_EQ(ekv_store_log_trim(s, 1, 0, T0, &dropped), EKV_OK);
    CHECK_EQ(dropped, 0);
    CHECK_EQ(ekv_store_log_size(s), 1);
    /* The data is untouched by a trim, and new commits continue the log. */
    expect_value(s, "ns", "k", "v");
    CHECK_EQ(put(s, "ns", "k2", "v", NULL, 0), 11);
    CHECK_EQ(ekv_store_log_first(s), 10);
    CHECK_EQ(ekv_store_log_size(s), 2);
    CHECK_EQ(ekv_store_log_read(s, 9, 100, SIZE_MAX, &page), EKV_OK);
    expect_log_seqs(&page, 10, 2);
    ekv_page_fini(&page);
    ekv_store_destroy(&s);
}

static void test_log_trim_by_age(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    /* seq i committed at T0 + i seconds, i = 1..10 */
    for (int i = 1; i <= 10; i++)
        commit1(s, put_draft("ns", "k", "v", NULL, 0), T0 + i * INT64_C(1000000));
    uint64_t dropped = 99;
    /* No age limit: nothing goes, however late it is. */
    CHECK_EQ(ekv_store_log_trim(s, 1000, 0, T0 + INT64_C(1000000000000), &dropped), EKV_OK);
    CHECK_EQ(dropped, 0);
    /* max age 4.5 s at T0 + 10.5 s: entries before T0 + 6 s go (seqs 1..5); seq 6, committed
     * exactly at the limit, stays. */
    CHECK_EQ(ekv_store_log_trim(s, 1000, 4500000, T0 + 10500000, &dropped), EKV_OK);
    CHECK_EQ(dropped, 5);
    CHECK_EQ(ekv_store_log_first(s), 6);
    CHECK_EQ(ekv_store_log_size(s), 5);
    ekv_page_t page;
    CHECK_EQ(ekv_store_log_read(s, 0, 100, SIZE_MAX, &page), EKV_OK);
    expect_log_seqs(&page, 6, 5);
    ekv_msg_t d;
    CHECK_EQ(ekv_msg_decode(page.items[0].ptr, page.items[0].len, &d), EKV_OK);
    CHECK_EQ(d.time_us, T0 + 6000000); /* the stored record time is the commit_us given */
    ekv_msg_fini(&d);
    ekv_page_fini(&page);
    /* Count and age together: the stricter one wins. */
    CHECK_EQ(ekv_store_log_trim(s, 4, 4500000, T0 + 10500000, &dropped), EKV_OK);
    CHECK_EQ(dropped, 1);
    CHECK_EQ(ekv_store_log_first(s), 7);
    /* Everything is old: all but the newest entry go. */
    CHECK_EQ(ekv_store_log_trim(s, 1000, 1000000, T0 + INT64_C(1000000000), &dropped), EKV_OK);
    CHECK_EQ(dropped, 3);
    CHECK_EQ(ekv_store_log_first(s), 10);
    CHECK_EQ(ekv_store_log_size(s), 1);
    CHECK_EQ(ekv_store_log_read(s, 0, 100, SIZE_MAX, &page), EKV_OK);
    expect_log_seqs(&page, 10, 1);
    ekv_page_fini(&page);
    CHECK_EQ(ekv_store_log_trim(s, 1000, 1, T0 + INT64_C(1000000000), &dropped), EKV_OK);
    CHECK_EQ(dropped, 0);
    CHECK_EQ(ekv_store_log_size(s), 1);
    ekv_store_destroy(&s);
}

/* ---- snapshot ------------------------------------------------------------------------------ */

static void test_snapshot_pages_every_record(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    static const char *nss[] = {"ns-a", "ns-b", "n"};
    enum { PER_NS = 9 };
    int seen[3][PER_NS] = {{0}};
    for (int n = 0; n < 3; n++)
        for (int i = 0; i < PER_NS; i++) {
            char key[16], val[32];
            snprintf(key, sizeof key, "key%d", i);
            snprintf(val, sizeof val, "%s/%d", nss[n], i);
            put(s, nss[n], key, val, i % 2 ? "{\"odd\":true}" : NULL, i == 4 ? 1000 : 0);
        }
    /* Deleted records are not part of the snapshot. */
    commit1(s, del_draft("ns-b", "key3"), T0);
    commit1(s, del_draft("n", "key8"), T0);
    seen[1][3] = seen[2][8] = -1;
    for (int round = 0; round < 2; round++) {
        size_t max_n = round == 0 ? 4 : 100, max_bytes = round == 0 ? SIZE_MAX : 1;
        for (int n = 0; n < 3; n++)
            for (int i = 0; i < PER_NS; i++)
                if (seen[n][i] >= 0)
                    seen[n][i] = 0;
        char *after = NULL;
        size_t after_len = 0, total = 0, pages = 0;
        for (;;) {
            ekv_page_t page;
            CHECK_EQ(ekv_store_snapshot_read(s, (ekv_bytes_t){after ? after : "", after_len}, max_n,
                                             max_bytes, &page),
                     EKV_OK);
            CHECK_LE(page.n, max_n);
            if (max_bytes == 1) /* one record already exceeds the budget */
                CHECK_LE(page.n, 1);
            pages++;
            for (size_t j = 0; j < page.n; j++) {
                ekv_msg_t d;
                CHECK_EQ(ekv_msg_decode(page.items[j].ptr, page.items[j].len, &d), EKV_OK);
                CHECK_EQ(d.type, EKV_MSG_CHANGE);
                CHECK_EQ(d.op, EKV_OP_PUT);
                int n = -1, i = -1;
                for (int x = 0; x < 3; x++)
                    if (d.ns.len == strlen(nss[x]) && !memcmp(d.ns.ptr, nss[x], d.ns.len))
                        n = x;
                CHECK_GE(n, 0);
                CHECK_EQ(sscanf(d.key.ptr, "key%d", &i), 1);
                CHECK(i >= 0 && i < PER_NS);
                CHECK_EQ(seen[n][i], 0); /* each record once; deleted ones never */
                seen[n][i] = 1;
                /* Full records: the value is there. */
                char val[32];
                snprintf(val, sizeof val, "%s/%d", nss[n], i);
                CHECK_MEM(d.value.ptr, d.value.len, val, strlen(val));
                CHECK_EQ(!!(d.flags & EKV_MSG_F_METADATA), i % 2);
                ekv_msg_fini(&d);
                total++;
            }
            int more = page.more;
            if (more) {
                CHECK(page.cursor != NULL);
                free(after);
                after = malloc(page.cursor_len);
                CHECK(after != NULL);
                memcpy(after, page.cursor, page.cursor_len);
                after_len = page.cursor_len;
            }
            ekv_page_fini(&page);
            if (!more)
                break;
            CHECK_LT(pages, 100);
        }
        free(after);
        CHECK_EQ(total, 3 * PER_NS - 2);
        for (int n = 0; n < 3; n++)
            for (int i = 0; i < PER_NS; i++)
                CHECK_NE(seen[n][i], 0);
        CHECK_GE(pages, round == 0 ? 7 : 25); /* 25 records: 4 per page, then 1 */
    }
    ekv_store_destroy(&s);
}

/* ---- epoch --------------------------------------------------------------------------------- */

/* A child opens the store with durability d, commits n puts and dies without closing (as
 * kill -9 would leave it). */
static void crash_after_puts(const char *dir, ekv_store_durability_t d, int n)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char err[512];
        ekv_store_t *s = ekv_store_open(dir, d, err, sizeof err);
        if (!s)
            _exit(2);
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "c%d", i);
            ekv_msg_t m = put_draft("ns", key, "v", NULL, 0);
            char *body;
            size_t len;
            if (ekv_store_commit(s, &m, 1, T0, &body, &len) != EKV_OK)
                _exit(3);
            free(body);
        }
        _exit(0); /* no ekv_store_destroy: the "running" mark stays */
    }
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The epoch is non-zero, survives clean restarts and crashes under fsync, and changes when
 * the folder is new or a run under wal or none ended without closing: then sequence numbers
 * may have been reused, and PoPs must start over. */
static void test_epoch(void)
{
    char dir[128];
    ekv_tmpdir_new(dir, sizeof dir);
    ekv_store_t *s = open_store(dir);
    uint64_t e1 = ekv_store_epoch(s);
    CHECK_NE(e1, 0);
    put(s, "ns", "a", "1", NULL, 0);
    ekv_store_destroy(&s);

    s = open_store(dir); /* clean restart */
    CHECK_EQ(ekv_store_epoch(s), e1);
    ekv_store_destroy(&s);

    crash_after_puts(dir, EKV_STORE_FSYNC, 3); /* nothing acknowledged can be lost */
    s = open_store(dir);
    CHECK_EQ(ekv_store_epoch(s), e1);
    CHECK_EQ(ekv_store_last_seq(s), 4);
    ekv_store_destroy(&s);

    crash_after_puts(dir, EKV_STORE_NONE, 5); /* unsynced commits may be gone */
    s = open_store(dir);
    uint64_t e2 = ekv_store_epoch(s);
    CHECK_NE(e2, e1);
    CHECK_NE(e2, 0);
    ekv_store_destroy(&s);

    crash_after_puts(dir, EKV_STORE_WAL, 1);
    s = open_with(dir, EKV_STORE_FSYNC);
    CHECK_NE(ekv_store_epoch(s), e2);
    ekv_store_destroy(&s);

    char other[128]; /* a new (wiped) folder */
    ekv_tmpdir_new(other, sizeof other);
    s = open_store(other);
    CHECK_NE(ekv_store_epoch(s), e1);
    CHECK_NE(ekv_store_epoch(s), e2);
    ekv_store_destroy(&s);
}

/* ---- a page's sequence while commits run ---------------------------------------------------- */

typedef struct {
    ekv_store_t *s;
    int n;
} writer_t;

static void *writer(void *arg)
{
    writer_t *w = arg;
    for (int i = 1; i <= w->n; i++) {
        char key[16];
        snprintf(key, sizeof key, "w%06d", i);
        ekv_msg_t m = put_draft("ns", key, "v", NULL, 0);
        char *body;
        size_t len;
        if (ekv_store_commit(w->s, &m, 1, T0, &body, &len) != EKV_OK)
            return (void *)1;
        free(body);
    }
    return NULL;
}

static void commit_in_window(void *arg)
{
    ekv_store_t *s = arg;
    ekv_store_set_scan_hook(s, NULL, NULL); /* once */
    put(s, "ns", "w999999", "v", NULL, 0);
}

/* The same, made certain: a commit lands between the scan's sequence read and its iterator.
 * The page may then hold more than its seq says, never less. */
static void test_snapshot_seq_read_before_scan(void)
{
    char dir[128];
    ekv_tmpdir_new(dir, sizeof dir);
    ekv_store_t *s = open_store(dir);
    put(s, "ns", "w000001", "v", NULL, 0);
    for (int list = 0; list < 2; list++) {
        ekv_store_set_scan_hook(s, commit_in_window, s);
        ekv_page_t page;
        if (list)
            CHECK_EQ(ekv_store_list(s, B("ns"), B(""), B(""), 1000, 0, &page), EKV_OK);
        else
            CHECK_EQ(ekv_store_snapshot_read(s, B(""), 1000, 1u << 20, &page), EKV_OK);
        CHECK_EQ(page.seq, 1u + 2u * (unsigned)list); /* read before the commit in the window */
        CHECK_EQ(page.n, 2u);                         /* and the scan saw it */
        ekv_page_fini(&page);
        ekv_msg_t m = del_draft("ns", "w999999");
        commit1(s, m, T0);
    }
    ekv_store_destroy(&s);
}

static void put_k_in_window(void *arg)
{
    ekv_store_t *s = arg;
    ekv_store_set_scan_hook(s, NULL, NULL);
    put(s, "ns", "k", "new", NULL, 0);
}

/* Regression: an origin read took the key and then the sequence, so a "not found" could
 * carry the version of a put committed in between, and the PoP's cached "not found" then
 * outranked that put. A put lands right after the key is read: the miss must be versioned
 * below it. */
static void test_get_at_versions_a_miss_below_a_racing_put(void)
{
    char dir[128];
    ekv_tmpdir_new(dir, sizeof dir);
    ekv_store_t *s = open_store(dir);
    put(s, "ns", "other", "v", NULL, 0); /* seq 1 */
    ekv_store_set_scan_hook(s, put_k_in_window, s);
    ekv_msg_t m;
    uint64_t as_of = 0;
    CHECK_EQ(ekv_store_get_at(s, B("ns"), B("k"), &m, &as_of), EKV_ENOTFOUND);
    CHECK_EQ(ekv_store_last_seq(s), 2); /* the racing put */
    CHECK_EQ(as_of, 1);                 /* the miss is older than it */
    CHECK_EQ(ekv_store_get_at(s, B("ns"), B("k"), &m, &as_of), EKV_OK);
    CHECK_EQ(m.seq, 2);
    CHECK_EQ(as_of, 2);
    ekv_msg_fini(&m);
    ekv_store_destroy(&s);
}

/* A snapshot page reflects every change up to its seq: a node that resumes the log after
 * page.seq misses nothing. Key i is written by change i, so a page with seq S (and no cursor
 * limit) must hold keys 1..S. Checked many times while a thread commits. */
static void test_snapshot_seq_covers_page(void)
{
    char dir[128];
    ekv_tmpdir_new(dir, sizeof dir);
    ekv_store_t *s = open_with(dir, EKV_STORE_NONE); /* fast commits: a wide race */
    writer_t w = {s, 3000};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, writer, &w), 0);
    int checked = 0;
    while (ekv_store_last_seq(s) < (uint64_t)w.n) {
        ekv_page_t page;
        CHECK_EQ(ekv_store_snapshot_read(s, B(""), 100000, 1u << 30, &page), EKV_OK);
        CHECK_GE(page.n, page.seq); /* keys 1..seq, maybe more */
        ekv_page_fini(&page);
        ekv_page_t list;
        CHECK_EQ(ekv_store_list(s, B("ns"), B(""), B(""), 1000000, 0, &list), EKV_OK);
        CHECK_GE(list.n, list.seq);
        ekv_page_fini(&list);
        checked++;
    }
    void *rc;
    CHECK_EQ(pthread_join(t, &rc), 0);
    CHECK(rc == NULL);
    CHECK_GT(checked, 0);
    ekv_store_destroy(&s);
}

int main(void)
{
    if (ekv_tmpdir_init("store-log-test") != 0)
        return 1;
    EKV_TEST_RUN(test_log_read);
    EKV_TEST_RUN(test_log_trim_by_count);
    EKV_TEST_RUN(test_log_trim_by_age);
    EKV_TEST_RUN(test_snapshot_pages_every_record);
    EKV_TEST_RUN(test_epoch);
    EKV_TEST_RUN(test_snapshot_seq_covers_page);
    EKV_TEST_RUN(test_snapshot_seq_read_before_scan);
    EKV_TEST_RUN(test_get_at_versions_a_miss_below_a_racing_put);
    EKV_TEST_DONE();
}
