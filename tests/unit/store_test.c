/* store_test: unit tests of the coordinator's RocksDB store (coordinator/store): what it
 * holds. The change log, snapshots and the epoch are in store_log_test.c.
 *
 * Every test opens a fresh store in its own folder under one mkdtemp folder, which an atexit
 * handler removes (nftw, depth first) even when a check fails. Time is injected: commit
 * times and list clocks are arguments, so nothing sleeps. What is checked is what the
 * coordinator and its PoPs rely on: gap-free sequence numbers across batches, a record read
 * back exactly as committed, lists in byte order that page with a cursor and see keys
 * inserted between pages, the expiry index (stale entries skipped), namespaces, and recovery
 * on reopen. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_msg.h"
#include "ekv_test.h"
#include "ekv_tmpdir.h"
#include "store.h"
#include "store_fixture.h"

/* Lists ns and joins the returned key names with ',' into out. */
static void list_names(ekv_store_t *s, const char *ns, const char *prefix, const char *after,
                       size_t limit, int64_t now_s, char *out, size_t size, ekv_page_t *page)
{
    CHECK_EQ(ekv_store_list(s, B(ns), B(prefix), B(after), limit, now_s, page), EKV_OK);
    out[0] = '\0';
    for (size_t i = 0; i < page->n; i++) {
        ekv_msg_t h;
        CHECK_EQ(ekv_msg_decode_change_head(page->items[i].ptr, page->items[i].len, &h), EKV_OK);
        CHECK_EQ(h.value.len, 0);
        CHECK_MEM(h.ns.ptr, h.ns.len, ns, strlen(ns));
        size_t at = strlen(out);
        CHECK_LT(at + h.key.len + 2, size);
        if (at)
            out[at++] = ',';
        memcpy(out + at, h.key.ptr, h.key.len);
        out[at + h.key.len] = '\0';
        ekv_msg_fini(&h);
    }
}

/* Expects a list of ns to return the keys want, joined with ','; and more when more >= 0. */
static void expect_list(ekv_store_t *s, const char *ns, const char *prefix, const char *after,
                        size_t limit, int64_t now_s, const char *want, int more)
{
    char names[512];
    ekv_page_t page;
    list_names(s, ns, prefix, after, limit, now_s, names, sizeof names, &page);
    CHECK_STR(names, want);
    if (more >= 0)
        CHECK_EQ(page.more, more);
    ekv_page_fini(&page);
}

/* ---- commit and get ------------------------------------------------------------------------ */

static void test_commit_assigns_consecutive_seqs(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    CHECK_EQ(ekv_store_last_seq(s), 0);
    ekv_msg_t batch[3] = {put_draft("ns", "a", "1", NULL, 0), put_draft("ns", "b", "2", NULL, 0),
                          del_draft("ns", "c")};
    char *bodies[3];
    size_t lens[3];
    CHECK_EQ(ekv_store_commit(s, batch, 3, T0 + 5, bodies, lens), EKV_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(batch[i].seq, (uint64_t)i + 1);
        CHECK_EQ(batch[i].time_us, T0 + 5);
        /* The returned body is the encoded change with that seq and time. */
        ekv_msg_t d;
        CHECK_EQ(ekv_msg_decode(bodies[i], lens[i], &d), EKV_OK);
        CHECK_EQ(d.type, EKV_MSG_CHANGE);
        CHECK_EQ(d.seq, (uint64_t)i + 1);
        CHECK_EQ(d.time_us, T0 + 5);
        CHECK_EQ(d.op, batch[i].op);
        CHECK_MEM(d.key.ptr, d.key.len, batch[i].key.ptr, batch[i].key.len);
        ekv_msg_fini(&d);
        free(bodies[i]);
    }
    CHECK_EQ(ekv_store_last_seq(s), 3);
    /* The next batch continues without a gap, and so does a single commit after it. */
    ekv_msg_t more[2] = {put_draft("ns", "d", "4", NULL, 0), put_draft("other", "a", "5", NULL, 0)};
    CHECK_EQ(ekv_store_commit(s, more, 2, T0 + 6, bodies, lens), EKV_OK);
    CHECK_EQ(more[0].seq, 4);
    CHECK_EQ(more[1].seq, 5);
    free(bodies[0]);
    free(bodies[1]);
    CHECK_EQ(put(s, "ns", "e", "6", NULL, 0), 6);
    CHECK_EQ(ekv_store_last_seq(s), 6);
    /* Every seq is in the log exactly once, in order. */
    ekv_page_t page;
    CHECK_EQ(ekv_store_log_read(s, 0, 100, SIZE_MAX, &page), EKV_OK);
    CHECK_EQ(page.n, 6);
    CHECK_EQ(page.more, 0);
    for (size_t i = 0; i < page.n; i++) {
        ekv_msg_t d;
        CHECK_EQ(ekv_msg_decode(page.items[i].ptr, page.items[i].len, &d), EKV_OK);
        CHECK_EQ(d.seq, i + 1);
        ekv_msg_fini(&d);
    }
    ekv_page_fini(&page);
    ekv_store_destroy(&s);
    CHECK(s == NULL);
    ekv_store_destroy(&s); /* no-op on NULL */
}

static void test_get_returns_what_was_committed(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    ekv_msg_t d = put_draft("ns", "user/42", "hello", "{\"a\":[1,\"x\"]}", 1800000000);
    char *body;
    size_t len;
    CHECK_EQ(ekv_store_commit(s, &d, 1, T0 + 77, &body, &len), EKV_OK);
    ekv_msg_t m;
    CHECK_EQ(ekv_store_get(s, B("ns"), B("user/42"), &m), EKV_OK);
    CHECK_EQ(m.type, EKV_MSG_CHANGE);
    CHECK_EQ(m.op, EKV_OP_PUT);
    CHECK_EQ(m.seq, 1);
    CHECK_EQ(m.time_us, T0 + 77);
    CHECK_EQ(m.expiration, 1800000000);
    CHECK(m.flags & EKV_MSG_F_METADATA);
    CHECK_MEM(m.meta.ptr, m.meta.len, "{\"a\":[1,\"x\"]}", 13);
    CHECK_MEM(m.value.ptr, m.value.len, "hello", 5);
    CHECK_MEM(m.ns.ptr, m.ns.len, "ns", 2);
    CHECK_MEM(m.key.ptr, m.key.len, "user/42", 7);
    ekv_msg_fini(&m);
    /* The log entry is the very body the commit returned (what PoPs receive). */
    ekv_page_t page;
    CHECK_EQ(ekv_store_log_read(s, 0, 10, SIZE_MAX, &page), EKV_OK);
    CHECK_EQ(page.n, 1);
    CHECK_MEM(page.items[0].ptr, page.items[0].len, body, len);
    ekv_page_fini(&page);
    free(body);

    /* No metadata: the flag is clear. Metadata that is JSON null is still metadata. */
    put(s, "ns", "plain", "v", NULL, 0);
    CHECK_EQ(ekv_store_get(s, B("ns"), B("plain"), &m), EKV_OK);
    CHECK_EQ(m.flags & EKV_MSG_F_METADATA, 0);
    CHECK_EQ(m.expiration, 0);
    ekv_msg_fini(&m);
    put(s, "ns", "nullmeta", "v", "null", 0);
    CHECK_EQ(ekv_store_get(s, B("ns"), B("nullmeta"), &m), EKV_OK);
    CHECK(m.flags & EKV_MSG_F_METADATA);
    CHECK_MEM(m.meta.ptr, m.meta.len, "null", 4);
    ekv_msg_fini(&m);

    /* Binary keys and values (NUL, 0xff) and an empty value survive byte for byte. */
    static const char bkey[] = "k\0\xff\x01", bval[] = "\0\r\n--\xff\0";
    ekv_msg_t bin = put_draft("ns", "", "", NULL, 0);
    bin.key = (ekv_bytes_t){bkey, sizeof bkey - 1};
    bin.value = (ekv_bytes_t){bval, sizeof bval - 1};
    commit1(s, bin, T0);
    CHECK_EQ(ekv_store_get(s, B("ns"), bin.key, &m), EKV_OK);
    CHECK_MEM(m.value.ptr, m.value.len, bval, sizeof bval - 1);
    ekv_msg_fini(&m);
    put(s, "ns", "empty", "", NULL, 0);
    expect_value(s, "ns", "empty", "");

    /* Overwrite: the newest version wins. Same key in another namespace is another record. */
    put(s, "ns", "user/42", "second", NULL, 0);
    CHECK_EQ(ekv_store_get(s, B("ns"), B("user/42"), &m), EKV_OK);
    CHECK_MEM(m.value.ptr, m.value.len, "second", 6);
    CHECK_EQ(m.flags & EKV_MSG_F_METADATA, 0); /* the old metadata went with the old version */
    CHECK_EQ(m.expiration, 0);
    ekv_msg_fini(&m);
    expect_missing(s, "other", "user/42");
    put(s, "other", "user/42", "elsewhere", NULL, 0);
    expect_value(s, "ns", "user/42", "second");
    expect_value(s, "other", "user/42", "elsewhere");

    /* An expired record is still returned: the caller compares with its clock. */
    put(s, "ns", "old", "v", NULL, 1000);
    CHECK_EQ(ekv_store_get(s, B("ns"), B("old"), &m), EKV_OK);
    CHECK_EQ(m.expiration, 1000);
    ekv_msg_fini(&m);
    ekv_store_destroy(&s);
}

static void test_delete_then_get_not_found(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    put(s, "ns", "k", "v", "{}", 0);
    put(s, "ns", "keep", "v", NULL, 0);
    CHECK_EQ(commit1(s, del_draft("ns", "k"), T0), 3);
    expect_missing(s, "ns", "k");
    expect_value(s, "ns", "keep", "v");
    /* Deleting a missing key succeeds and is a change like any other. */
    CHECK_EQ(commit1(s, del_draft("ns", "never"), T0), 4);
    expect_missing(s, "ns", "never");
    /* The deleted key is gone from lists too. */
    expect_list(s, "ns", "", "", 100, 0, "keep", -1);
    /* And a put after the delete brings it back. */
    put(s, "ns", "k", "again", NULL, 0);
    expect_value(s, "ns", "k", "again");
    ekv_store_destroy(&s);
}

/* ---- list ---------------------------------------------------------------------------------- */

static void test_list_byte_order_prefix_limit(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    /* Inserted out of order; byte order is UTF-8 code-point order: "Z" < "a" < "é" < "✓". */
    static const char *keys[] = {"\xe2\x9c\x93", "b", "a", "ab", "\xc3\xa9", "Z", "a/1", "a0"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put(s, "ns", keys[i], "v", NULL, 0);
    put(s, "ns2", "a", "v", NULL, 0); /* another namespace: never listed with ns */
    put(s, "n", "sa", "v", NULL, 0);  /* "n"+"sa" must not look like "ns"+"a" */
    put(s, "nsx", "a", "v", NULL, 0);
    char names[512];
    ekv_page_t page;
    expect_list(s, "ns", "", "", 100, 0, "Z,a,a/1,a0,ab,b,\xc3\xa9,\xe2\x9c\x93", 0);

    expect_list(s, "ns", "a", "", 100, 0, "a,a/1,a0,ab", 0);
    expect_list(s, "ns", "\xe2", "", 100, 0, "\xe2\x9c\x93", -1); /* a byte prefix */
    expect_list(s, "ns", "q", "", 100, 0, "", 0);
    expect_list(s, "n", "", "", 100, 0, "sa", -1);
    expect_list(s, "empty-ns", "", "", 100, 0, "", -1);

    /* Paging with limit: more and a cursor (the last key returned) until the end. */
    list_names(s, "ns", "a", "", 3, 0, names, sizeof names, &page);
    CHECK_STR(names, "a,a/1,a0");
    CHECK_EQ(page.more, 1);
    CHECK_MEM(page.cursor, page.cursor_len, "a0", 2);
    ekv_page_fini(&page);
    expect_list(s, "ns", "a", "a0", 3, 0, "ab", 0);
    /* A page that ends exactly at the last key says there is no more. */
    expect_list(s, "ns", "a", "", 4, 0, "a,a/1,a0,ab", 0);
    /* start_after is exclusive, and need not be a stored key. */
    expect_list(s, "ns", "", "a", 2, 0, "a/1,a0", -1);
    expect_list(s, "ns", "", "aa", 2, 0, "ab,b", 1);
    expect_list(s, "ns", "", "\xe2\x9c\x93", 2, 0, "", 0);
    ekv_store_destroy(&s);
}

static void test_list_heads_and_expiry(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    put(s, "ns", "a-live", "value-a", "{\"m\":1}", 0);
    put(s, "ns", "b-expires-1000", "v", NULL, 1000);
    put(s, "ns", "c-expires-1001", "value-c", NULL, 1001);
    put(s, "ns", "d-expired-long-ago", "v", NULL, 5);
    put(s, "ns", "e-live", "v", NULL, 0);
    char names[512];
    ekv_page_t page;
    /* At 4 everything is live; at 1000 a record expiring at 1000 is gone. */
    expect_list(s, "ns", "", "", 100, 4,
                "a-live,b-expires-1000,c-expires-1001,d-expired-long-ago,e-live", -1);
    expect_list(s, "ns", "", "", 100, 1000, "a-live,c-expires-1001,e-live", -1);
    /* The limit counts live keys only. */
    list_names(s, "ns", "", "", 2, 1000, names, sizeof names, &page);
    CHECK_STR(names, "a-live,c-expires-1001");
    CHECK_EQ(page.more, 1);
    CHECK_MEM(page.cursor, page.cursor_len, "c-expires-1001", 14);
    ekv_page_fini(&page);
    expect_list(s, "ns", "", "c-expires-1001", 2, 1000, "e-live", 0);

    /* Entries are heads: metadata and expiration, no value. */
    CHECK_EQ(ekv_store_list(s, B("ns"), B(""), B(""), 100, 1000, &page), EKV_OK);
    CHECK_EQ(page.n, 3);
    ekv_msg_t h;
    CHECK_EQ(ekv_msg_decode_change_head(page.items[0].ptr, page.items[0].len, &h), EKV_OK);
    CHECK_MEM(h.key.ptr, h.key.len, "a-live", 6);
    CHECK(h.flags & EKV_MSG_F_METADATA);
    CHECK_MEM(h.meta.ptr, h.meta.len, "{\"m\":1}", 7);
    CHECK_EQ(h.expiration, 0);
    CHECK_EQ(h.value.len, 0);
    ekv_msg_fini(&h);
    CHECK_EQ(ekv_msg_decode_change_head(page.items[1].ptr, page.items[1].len, &h), EKV_OK);
    CHECK_EQ(h.expiration, 1001);
    CHECK_EQ(h.flags & EKV_MSG_F_METADATA, 0);
    ekv_msg_fini(&h);
    ekv_page_fini(&page);
    ekv_store_destroy(&s);
}

static void test_list_sees_keys_inserted_between_pages(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    put_each(s, "ace", "v", 0);
    char names[256], cursor[64];
    ekv_page_t page;
    list_names(s, "ns", "", "", 2, 0, names, sizeof names, &page);
    CHECK_STR(names, "a,c");
    CHECK_EQ(page.more, 1);
    CHECK_LT(page.cursor_len, sizeof cursor);
    memcpy(cursor, page.cursor, page.cursor_len);
    cursor[page.cursor_len] = '\0';
    ekv_page_fini(&page);
    /* Between pages: one key before the cursor, one after it, one deleted after it. */
    put_each(s, "bdf", "v", 0);
    commit1(s, del_draft("ns", "e"), T0);
    expect_list(s, "ns", "", cursor, 2, 0, "d,f", 0);
    /* Even when the cursor's own key was deleted meanwhile, the list continues after it. */
    commit1(s, del_draft("ns", "c"), T0);
    expect_list(s, "ns", "", cursor, 10, 0, "d,f", -1);
    ekv_store_destroy(&s);
}

/* ---- expiry index -------------------------------------------------------------------------- */

/* Runs ekv_store_expired and joins "ns:key" of the results with ','. */
static void expired_names(ekv_store_t *s, int64_t now_s, size_t max, char *out, size_t size)
{
    ekv_msg_t *heads = NULL;
    size_t n = 99;
    CHECK_EQ(ekv_store_expired(s, now_s, max, &heads, &n), EKV_OK);
    CHECK_LE(n, max);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        CHECK_GT(heads[i].expiration, 0);
        CHECK_LE(heads[i].expiration, now_s);
        size_t at = strlen(out);
        CHECK_LT(at + heads[i].ns.len + heads[i].key.len + 3, size);
        at += (size_t)snprintf(out + at, size - at, "%s%.*s:%.*s", at ? "," : "",
                               (int)heads[i].ns.len, heads[i].ns.ptr, (int)heads[i].key.len,
                               heads[i].key.ptr);
        ekv_msg_fini(&heads[i]);
    }
    free(heads);
}

static void test_expired(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    char names[512];
    expired_names(s, 1000000, 10, names, sizeof names);
    CHECK_STR(names, "");
    put(s, "ns", "k1", "v", NULL, 100);
    put(s, "ns", "k2", "v", "{\"m\":2}", 200);
    put(s, "ns", "k3", "v", NULL, 300);
    put(s, "ns", "k4", "v", NULL, 0);
    put(s, "ns2", "k5", "v", NULL, 150);
    expired_names(s, 99, 10, names, sizeof names);
    CHECK_STR(names, "");
    /* By expiration time, then key; an expiration equal to now is due. */
    expired_names(s, 200, 10, names, sizeof names);
    CHECK_STR(names, "ns:k1,ns2:k5,ns:k2");
    expired_names(s, 200, 2, names, sizeof names); /* at most max */
    CHECK_STR(names, "ns:k1,ns2:k5");
    /* Listing is not a sweep: asking again returns the same records. */
    expired_names(s, 150, 10, names, sizeof names);
    CHECK_STR(names, "ns:k1,ns2:k5");

    /* k1 re-put without expiration: its old index entry is stale and skipped. */
    put(s, "ns", "k1", "v2", NULL, 0);
    expired_names(s, 200, 10, names, sizeof names);
    CHECK_STR(names, "ns2:k5,ns:k2");
    /* k2 re-put with a later expiration: due at 500, not at 200. */
    put(s, "ns", "k2", "v2", NULL, 500);
    expired_names(s, 200, 10, names, sizeof names);
    CHECK_STR(names, "ns2:k5");
    /* k3 deleted (a user delete, no expiration field): never returned. */
    commit1(s, del_draft("ns", "k3"), T0);
    expired_names(s, 1000, 10, names, sizeof names);
    CHECK_STR(names, "ns2:k5,ns:k2");
    /* The sweeper's delete keeps the expiration: the record and its index entry go. */
    ekv_msg_t sweep = del_draft("ns2", "k5");
    sweep.expiration = 150;
    commit1(s, sweep, T0);
    expired_names(s, 1000, 10, names, sizeof names);
    CHECK_STR(names, "ns:k2");
    /* Stale entries are skipped even when they outnumber max. */
    for (int i = 0; i < 30; i++) {
        char key[16];
        snprintf(key, sizeof key, "s%02d", i);
        put(s, "ns", key, "v", NULL, 50);
        put(s, "ns", key, "v", NULL, 0);
    }
    put(s, "ns", "z", "v", NULL, 60);
    expired_names(s, 1000, 5, names, sizeof names);
    CHECK_STR(names, "ns:z,ns:k2");
    /* The returned head carries what a sweeper needs: ns, key, expiration, metadata flag. */
    ekv_msg_t *heads;
    size_t n;
    CHECK_EQ(ekv_store_expired(s, 1000, 10, &heads, &n), EKV_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(heads[1].expiration, 500);
    CHECK_EQ(heads[0].expiration, 60);
    CHECK_MEM(heads[1].ns.ptr, heads[1].ns.len, "ns", 2);
    CHECK_EQ(heads[1].value.len, 0);
    for (size_t i = 0; i < n; i++)
        ekv_msg_fini(&heads[i]);
    free(heads);
    ekv_store_destroy(&s);
}

static ekv_msg_t sweep_draft(const char *key)
{
    ekv_msg_t m = del_draft("ns", key);
    m.expiration = 100;
    m.flags = EKV_STORE_F_IF_EXPIRES;
    return m;
}

/* The sweeper's delete is conditional: a put of the same key that commits first - in an
 * earlier batch or earlier in the same batch - wins, and the delete is dropped (seq 0, no
 * body, no sequence number used). Without the condition the sweeper would delete a value
 * written after the key expired. */
static void test_sweep_delete_yields_to_newer_put(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    uint64_t last = put_each(s, "abcd", "old", 100);
    /* a is written again (no expiration) after the sweeper read it, before its delete. */
    last = put(s, "ns", "a", "new", NULL, 0);
    /* b is written again with another expiration. */
    last = put(s, "ns", "b", "new", NULL, 900);
    /* d is written again earlier in the very batch that carries its delete. */
    ekv_msg_t batch[5] = {sweep_draft("a"), sweep_draft("b"), sweep_draft("c"),
                          put_draft("ns", "d", "new", NULL, 0), sweep_draft("d")};
    char *bodies[5];
    size_t lens[5];
    CHECK_EQ(ekv_store_commit(s, batch, 5, T0, bodies, lens), EKV_OK);
    CHECK_EQ(batch[0].seq, 0); /* a: dropped */
    CHECK(bodies[0] == NULL);
    CHECK_EQ(batch[1].seq, 0); /* b: dropped */
    CHECK(bodies[1] == NULL);
    CHECK_EQ(batch[2].seq, last + 1); /* c: still the expired record, deleted */
    CHECK(bodies[2] != NULL);
    CHECK_EQ(batch[3].seq, last + 2); /* d's put */
    CHECK_EQ(batch[4].seq, 0);        /* d's delete: dropped */
    CHECK(bodies[4] == NULL);
    CHECK_EQ(ekv_store_last_seq(s), last + 2);
    /* The flag is the store's own: never encoded. */
    ekv_msg_t c;
    CHECK_EQ(ekv_msg_decode(bodies[2], lens[2], &c), EKV_OK);
    CHECK_EQ(c.flags & EKV_STORE_F_IF_EXPIRES, 0);
    ekv_msg_fini(&c);
    free(bodies[2]);
    free(bodies[3]);
    expect_value(s, "ns", "a", "new");
    expect_value(s, "ns", "b", "new");
    expect_missing(s, "ns", "c");
    expect_value(s, "ns", "d", "new");
    /* The log holds the two commits and nothing for the dropped deletes. */
    ekv_page_t page;
    CHECK_EQ(ekv_store_log_read(s, last, 10, SIZE_MAX, &page), EKV_OK);
    CHECK_EQ(page.n, 2);
    ekv_page_fini(&page);
    /* A batch of nothing but dropped deletes uses no sequence number. */
    ekv_msg_t again = sweep_draft("a");
    char *body;
    size_t len;
    CHECK_EQ(ekv_store_commit(s, &again, 1, T0, &body, &len), EKV_OK);
    CHECK_EQ(again.seq, 0);
    CHECK_EQ(ekv_store_last_seq(s), last + 2);
    expect_value(s, "ns", "a", "new");
    ekv_store_destroy(&s);
}

/* ---- namespaces ---------------------------------------------------------------------------- */

static ekv_ns_t make_ns(const char *id, const char *title, int64_t created)
{
    ekv_ns_t ns;
    memset(&ns, 0, sizeof ns);
    snprintf(ns.id, sizeof ns.id, "%s", id);
    snprintf(ns.title, sizeof ns.title, "%s", title);
    ns.created = created;
    return ns;
}

static void test_namespaces(void)
{
    char dir[128];
    ekv_store_t *s = open_store(ekv_tmpdir_new(dir, sizeof dir));
    ekv_ns_t *list = NULL;
    size_t n = 99;
    CHECK_EQ(ekv_store_ns_list(s, &list, &n), EKV_OK);
    CHECK_EQ(n, 0);
    free(list);

    char long_title[513];
    memset(long_title, 't', 512);
    long_title[512] = '\0';
    ekv_ns_t a = make_ns("ffffffffffffffffffffffffffffffff", "zeta", 1700000003);
    ekv_ns_t b =
        make_ns("0123456789abcdef0123456789abcdef", "say \"hi\" \\ \xe2\x9c\x93", 1700000001);
    ekv_ns_t c = make_ns("77777777777777777777777777777777", long_title, 1700000002);
    CHECK_EQ(ekv_store_ns_put(s, &a), EKV_OK);
    CHECK_EQ(ekv_store_ns_put(s, &b), EKV_OK);
    CHECK_EQ(ekv_store_ns_put(s, &c), EKV_OK);
    CHECK_EQ(ekv_store_ns_list(s, &list, &n), EKV_OK);
    CHECK_EQ(n, 3);
    CHECK_STR(list[0].id, b.id); /* sorted by id */
    CHECK_STR(list[0].title, b.title);
    CHECK_EQ(list[0].created, 1700000001);
    CHECK_STR(list[1].id, c.id);
    CHECK_STR(list[1].title, long_title);
    CHECK_STR(list[2].id, a.id);
    CHECK_STR(list[2].title, "zeta");
    CHECK_EQ(list[2].created, 1700000003);
    free(list);

    /* Rename: same id, new title; the count does not change. */
    ekv_ns_t renamed = make_ns(a.id, "zeta-2", a.created);
    CHECK_EQ(ekv_store_ns_put(s, &renamed), EKV_OK);
    CHECK_EQ(ekv_store_ns_list(s, &list, &n), EKV_OK);
    CHECK_EQ(n, 3);
    CHECK_STR(list[2].title, "zeta-2");
    CHECK_EQ(list[2].created, 1700000003);
    free(list);

    CHECK_EQ(ekv_store_ns_delete(s, c.id), EKV_OK);
    CHECK_EQ(ekv_store_ns_list(s, &list, &n), EKV_OK);
    CHECK_EQ(n, 2);
    CHECK_STR(list[0].id, b.id);
    CHECK_STR(list[1].id, a.id);
    free(list);

    /* Many namespaces (past any initial array size). */
    for (int i = 0; i < 40; i++) {
        char id[33], title[32];
        snprintf(id, sizeof id, "%032x", 0x1000 + i);
        snprintf(title, sizeof title, "bulk-%d", i);
        ekv_ns_t x = make_ns(id, title, i);
        CHECK_EQ(ekv_store_ns_put(s, &x), EKV_OK);
    }
    CHECK_EQ(ekv_store_ns_list(s, &list, &n), EKV_OK);
    CHECK_EQ(n, 42);
    for (size_t i = 1; i < n; i++)
        CHECK_LT(strcmp(list[i - 1].id, list[i].id), 0);
    free(list);
    ekv_store_destroy(&s);
}

/* ---- recovery ------------------------------------------------------------------------------ */

static void test_reopen_recovers_everything(void)
{
    char dir[128];
    ekv_tmpdir_new(dir, sizeof dir);
    ekv_store_t *s = open_store(dir);
    for (int i = 0; i < 20; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%02d", i);
        snprintf(val, sizeof val, "v%d", i);
        put(s, "ns", key, val, i == 3 ? "{\"x\":3}" : NULL, i == 5 ? 1900000000 : 0);
    }
    commit1(s, del_draft("ns", "k07"), T0);
    ekv_ns_t ns = make_ns("abcdefabcdefabcdefabcdefabcdefab", "kept", 1700000000);
    CHECK_EQ(ekv_store_ns_put(s, &ns), EKV_OK);
    CHECK_EQ(ekv_store_last_seq(s), 21);

    /* The folder is locked while open: a second store on it fails cleanly. */
    char err[512] = "";
    ekv_store_t *twice = ekv_store_open(dir, EKV_STORE_FSYNC, err, sizeof err);
    CHECK(twice == NULL);
    CHECK(err[0] != '\0');
    ekv_store_destroy(&s);

    s = open_store(dir);
    CHECK_EQ(ekv_store_last_seq(s), 21);
    expect_value(s, "ns", "k00", "v0");
    expect_value(s, "ns", "k19", "v19");
    expect_missing(s, "ns", "k07");
    ekv_msg_t m;
    CHECK_EQ(ekv_store_get(s, B("ns"), B("k03"), &m), EKV_OK);
    CHECK(m.flags & EKV_MSG_F_METADATA);
    CHECK_MEM(m.meta.ptr, m.meta.len, "{\"x\":3}", 7);
    CHECK_EQ(m.seq, 4);
    ekv_msg_fini(&m);
    CHECK_EQ(ekv_store_get(s, B("ns"), B("k05"), &m), EKV_OK);
    CHECK_EQ(m.expiration, 1900000000);
    ekv_msg_fini(&m);
    char names[512];
    expired_names(s, 1900000000, 10, names, sizeof names);
    CHECK_STR(names, "ns:k05"); /* the expiry index survives too */
    ekv_ns_t *list;
    size_t n;
    CHECK_EQ(ekv_store_ns_list(s, &list, &n), EKV_OK);
    CHECK_EQ(n, 1);
    CHECK_STR(list[0].title, "kept");
    free(list);
    CHECK_EQ(ekv_store_log_first(s), 1);
    CHECK_EQ(ekv_store_log_size(s), 21);
    /* New commits continue the sequence. */
    CHECK_EQ(put(s, "ns", "after", "v", NULL, 0), 22);

    /* Trimmed down to the newest entry, the sequence still survives a reopen. */
    uint64_t dropped;
    CHECK_EQ(ekv_store_log_trim(s, 1, 0, T0, &dropped), EKV_OK);
    CHECK_EQ(dropped, 21);
    ekv_store_destroy(&s);
    s = open_store(dir);
    CHECK_EQ(ekv_store_last_seq(s), 22);
    CHECK_EQ(ekv_store_log_first(s), 22);
    CHECK_EQ(ekv_store_log_size(s), 1);
    CHECK_EQ(put(s, "ns", "after2", "v", NULL, 0), 23);
    ekv_store_destroy(&s);
}

static void test_open_failure(void)
{
    char dir[128], path[192], err[512] = "";
    ekv_tmpdir_new(dir, sizeof dir);
    FILE *f = fopen(dir, "w"); /* a regular file where the folder should be */
    CHECK(f != NULL);
    fclose(f);
    snprintf(path, sizeof path, "%s/sub", dir);
    ekv_store_t *s = ekv_store_open(path, EKV_STORE_FSYNC, err, sizeof err);
    CHECK(s == NULL);
    CHECK(strstr(err, path) != NULL); /* the message names the folder */
}

int main(void)
{
    if (ekv_tmpdir_init("store-test") != 0)
        return 1;
    EKV_TEST_RUN(test_commit_assigns_consecutive_seqs);
    EKV_TEST_RUN(test_get_returns_what_was_committed);
    EKV_TEST_RUN(test_delete_then_get_not_found);
    EKV_TEST_RUN(test_list_byte_order_prefix_limit);
    EKV_TEST_RUN(test_list_heads_and_expiry);
    EKV_TEST_RUN(test_list_sees_keys_inserted_between_pages);
    EKV_TEST_RUN(test_expired);
    EKV_TEST_RUN(test_sweep_delete_yields_to_newer_put);
    EKV_TEST_RUN(test_namespaces);
    EKV_TEST_RUN(test_reopen_recovers_everything);
    EKV_TEST_RUN(test_open_failure);
    EKV_TEST_DONE();
}
