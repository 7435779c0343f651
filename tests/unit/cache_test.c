/* cache_test: unit tests of a PoP's local cache (node/cache).
 *
 * What a user of the cache would notice: what goes in comes out (every field, binary keys and
 * values, metadata), the least recently used entry is the one that goes when space runs out,
 * the byte count never passes the cap and matches ekv_cache_entry_size() for what is held, an
 * entry bigger than the whole cache is refused, an older version never replaces a newer one,
 * an expired entry is never served (whatever its fresh-until time), namespaces do not mix,
 * and the index keeps working past its initial 1024 buckets. Namespace ids come from request
 * headers: 70,000 distinct ones (a client naming a new one per request) are all cached in
 * turn, the table holding at most EKV_CACHE_MAX_NS of them, and a name goes with its last
 * entry. For refresh-ahead each copy knows when it was stored and how often clients read it
 * since (a new store starts both over); a peek (the look endpoint) changes nothing at all.
 * An entry's header is at most 64 bytes, so times are kept in 32 bits: a fresh-until time
 * comes back never later than stored and less than 1 ms earlier (1 s past a ~24.8-day life,
 * up to the largest cacheTtl), INT64_MAX exactly, the read count saturates at 255, and stores
 * months apart (or with the clock stepped back) keep every entry's times.
 *
 * Time is injected through the now_us arguments; nothing sleeps. Items returned by lookup are
 * borrowed, so every check reads them before the next call that changes the cache. Every
 * cache is destroyed; the program runs clean under valgrind. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "ekv_err.h"
#include "ekv_test.h"

#define NOW 1700000000000000LL /* a wall-clock time in microseconds */
#define EXP 1700000100LL       /* an absolute expiration 100 s after NOW, in epoch seconds */

static const char NS_A[] = "0123456789abcdef0123456789abcdef";
static const char NS_B[] = "fedcba9876543210fedcba9876543210";

static ekv_bytes_t bytes(const char *p, size_t n)
{
    ekv_bytes_t b = {p, n};
    return b;
}

#define LIT(s) bytes((s), sizeof(s) - 1)
#define STR(s) bytes((s), strlen(s))

/* A positive item with value v, no metadata, no expiration, always fresh. */
static ekv_cache_item_t item(uint64_t seq, ekv_bytes_t v)
{
    ekv_cache_item_t it = {0};
    it.seq = seq;
    it.commit_us = NOW - 1000;
    it.fresh_until_us = INT64_MAX;
    it.value = v;
    return it;
}

static uint64_t stat_bytes(const ekv_cache_t *c)
{
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    return st.bytes;
}

static uint64_t stat_entries(const ekv_cache_t *c)
{
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    return st.entries;
}

static int present(ekv_cache_t *c, ekv_bytes_t ns, const char *key)
{
    ekv_cache_item_t got;
    return ekv_cache_lookup(c, ns, STR(key), NOW, &got) == EKV_OK;
}

/* ---- round trip ------------------------------------------------------------------------- */

static void test_store_lookup_every_field(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    ekv_cache_item_t got;
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_ENOTFOUND);

    char value[] = "hello, edge";
    char meta[] = "{\"owner\":\"ann\"}";
    ekv_cache_item_t it = item(42, LIT(value));
    it.commit_us = NOW - 5;
    it.expiration = EXP;
    it.fresh_until_us = NOW + 60000000;
    it.has_meta = 1;
    it.meta = LIT(meta);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW), EKV_OK);

    /* The cache keeps its own copy: the caller's buffers may change afterwards. */
    memset(value, 'x', sizeof value - 1);
    memset(meta, 'x', sizeof meta - 1);

    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.seq, 42);
    CHECK_EQ(got.commit_us, NOW - 5);
    CHECK_EQ(got.expiration, EXP);
    CHECK_EQ(got.fresh_until_us, NOW + 60000000);
    CHECK_EQ(got.negative, 0);
    CHECK_EQ(got.has_meta, 1);
    CHECK_MEM(got.meta.ptr, got.meta.len, "{\"owner\":\"ann\"}", 15);
    CHECK_MEM(got.value.ptr, got.value.len, "hello, edge", 11);
    CHECK_EQ(stat_entries(c), 1);
    CHECK_EQ(stat_bytes(c), ekv_cache_entry_size(sizeof NS_A - 1, 1, 15, 11));

    /* Without has_meta the item reports no metadata. */
    ekv_cache_item_t plain = item(43, LIT("v"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &plain, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.has_meta, 0);
    CHECK_EQ(got.meta.len, 0);
    CHECK_MEM(got.value.ptr, got.value.len, "v", 1);
    CHECK_EQ(stat_entries(c), 1);
    CHECK_EQ(stat_bytes(c), ekv_cache_entry_size(sizeof NS_A - 1, 1, 0, 1));

    ekv_cache_destroy(&c);
    CHECK(c == NULL);
    ekv_cache_destroy(&c); /* no-op on NULL */
}

static void test_entry_overhead(void)
{
    /* Overhead: everything an entry costs beyond its key, metadata and value (namespace ids
     * are interned once per cache, so they do not count per entry). */
    size_t ns = sizeof NS_A - 1;
    size_t overhead = ekv_cache_entry_size(ns, 10, 0, 100) - (10 + 100);
    printf("cache: per-entry overhead %zu bytes (goal <= 96)\n", overhead);
    /* a 64-byte header and its bucket pointer: with malloc's 16-byte granularity, a 16-byte
     * key and a 100-byte value then fit a 192-byte chunk (the README's RSS goal of 96) */
    CHECK_LE(overhead, 64 + 8);
    CHECK_GT(overhead, 0);
    /* The overhead is per entry, not per byte: it does not grow with the sizes. */
    CHECK_EQ(ekv_cache_entry_size(ns, 200, 0, 100000) - (200 + 100000), overhead);
    CHECK_EQ(ekv_cache_entry_size(ns, 10, 50, 100) - (10 + 50 + 100), overhead);
}

/* ---- LRU and the memory cap ------------------------------------------------------------- */

static void test_lru_evicts_least_recently_used(void)
{
    size_t one = ekv_cache_entry_size(sizeof NS_A - 1, 1, 0, 10);
    ekv_cache_t *c = ekv_cache_new(3 * one); /* room for exactly three entries */
    ekv_cache_item_t it = item(1, LIT("0123456789"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("a"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("b"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("c"), &it, NOW), EKV_OK);
    CHECK_EQ(stat_bytes(c), 3 * one);

    /* Recency now c, b, a; looking a up makes b the least recently used. */
    CHECK(present(c, LIT(NS_A), "a"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("d"), &it, NOW), EKV_OK);
    CHECK(!present(c, LIT(NS_A), "b"));
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.evictions, 1);
    CHECK_EQ(st.entries, 3);
    CHECK_EQ(st.bytes, 3 * one);

    /* Looking up a, c, d in that order leaves a the coldest: it goes next. */
    CHECK(present(c, LIT(NS_A), "a"));
    CHECK(present(c, LIT(NS_A), "c"));
    CHECK(present(c, LIT(NS_A), "d"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("e"), &it, NOW), EKV_OK);
    CHECK(!present(c, LIT(NS_A), "a"));
    CHECK(present(c, LIT(NS_A), "c"));
    CHECK(present(c, LIT(NS_A), "d"));
    CHECK(present(c, LIT(NS_A), "e"));
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.evictions, 2);

    /* Replacing a key refreshes it too: c, the coldest now, is stored again, so d goes. */
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("c"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("f"), &it, NOW), EKV_OK);
    CHECK(!present(c, LIT(NS_A), "d"));
    CHECK(present(c, LIT(NS_A), "c"));
    CHECK(present(c, LIT(NS_A), "e"));
    CHECK(present(c, LIT(NS_A), "f"));
    ekv_cache_destroy(&c);
}

/* A large entry evicts as many cold entries as it needs, and no more. */
static void test_big_entry_evicts_several(void)
{
    size_t small = ekv_cache_entry_size(1, 2, 0, 8);
    ekv_cache_t *c = ekv_cache_new(10 * small);
    ekv_cache_item_t it = item(1, LIT("01234567"));
    char key[3];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "%02d", i);
        CHECK_EQ(ekv_cache_store(c, LIT("n"), STR(key), &it, NOW), EKV_OK);
    }
    CHECK_EQ(stat_entries(c), 10);

    /* Needs the room of 3.5 small entries: the 4 coldest (00..03) go. */
    size_t vlen = (7 * small) / 2 - ekv_cache_entry_size(1, 3, 0, 0);
    static char big[4096];
    CHECK_LT(vlen, sizeof big);
    ekv_cache_item_t bi = item(1, bytes(big, vlen));
    CHECK_EQ(ekv_cache_store(c, LIT("n"), LIT("big"), &bi, NOW), EKV_OK);
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.evictions, 4);
    CHECK_EQ(st.entries, 7);
    CHECK_LE(st.bytes, 10 * small);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "%02d", i);
        CHECK_EQ(present(c, LIT("n"), key), i >= 4);
    }
    ekv_cache_destroy(&c);
}

static void test_bytes_never_exceed_cap(void)
{
    const size_t cap = 20000;
    enum { N = 400 };
    static char buf[1024];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(i * 31 + 7);
    ekv_cache_t *c = ekv_cache_new(cap);
    uint32_t r = 12345;
    size_t vlen[N];
    char key[16];
    for (int i = 0; i < N; i++) {
        r = r * 1103515245u + 12345u;
        vlen[i] = (r >> 8) % 900;
        snprintf(key, sizeof key, "key-%d", i);
        ekv_cache_item_t it = item(1, bytes(buf, vlen[i]));
        if (i % 3 == 0) {
            it.has_meta = 1;
            it.meta = LIT("{\"m\":1}");
        }
        CHECK_EQ(ekv_cache_store(c, LIT(NS_A), STR(key), &it, NOW), EKV_OK);
        CHECK_LE(stat_bytes(c), cap);
        /* Touch an older key now and then so eviction is not just insertion order. */
        if (i % 7 == 0 && i > 10) {
            snprintf(key, sizeof key, "key-%d", i - 10);
            ekv_cache_item_t got;
            (void)ekv_cache_lookup(c, LIT(NS_A), STR(key), NOW, &got);
        }
    }
    /* bytes is exactly the cost of what is still held; nothing vanished uncounted. */
    uint64_t sum = 0, held = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        ekv_cache_item_t got;
        if (ekv_cache_lookup(c, LIT(NS_A), STR(key), NOW, &got) != EKV_OK)
            continue;
        CHECK_MEM(got.value.ptr, got.value.len, buf, vlen[i]);
        held++;
        sum += ekv_cache_entry_size(sizeof NS_A - 1, strlen(key), got.meta.len, got.value.len);
    }
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.entries, held);
    CHECK_EQ(st.bytes, sum);
    CHECK_GT(st.evictions, 0);
    CHECK_EQ(st.evictions + st.entries, N);
    CHECK_EQ(st.expired, 0);
    /* The cache ran full: less than the largest possible entry is left unused. */
    CHECK_GT(st.bytes + ekv_cache_entry_size(sizeof NS_A - 1, 7, 7, 900), cap);
    ekv_cache_destroy(&c);
}

static void test_too_big_refused(void)
{
    const size_t cap = 1000;
    static char big[2000];
    ekv_cache_t *c = ekv_cache_new(cap);
    ekv_cache_item_t small = item(1, LIT("v"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("small"), &small, NOW), EKV_OK);

    ekv_cache_item_t it = item(1, bytes(big, sizeof big));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("big"), &it, NOW), EKV_ETOOBIG);
    CHECK(!present(c, LIT(NS_A), "big"));
    /* Refusing it evicted nothing. */
    CHECK(present(c, LIT(NS_A), "small"));
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.entries, 1);
    CHECK_EQ(st.evictions, 0);
    CHECK_EQ(st.bytes, ekv_cache_entry_size(sizeof NS_A - 1, 5, 0, 1));

    /* One byte over the cap is refused; an entry of exactly the cap fits, alone. */
    size_t exact = cap - ekv_cache_entry_size(sizeof NS_A - 1, 3, 0, 0);
    it.value = bytes(big, exact + 1);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("fit"), &it, NOW), EKV_ETOOBIG);
    it.value = bytes(big, exact);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("fit"), &it, NOW), EKV_OK);
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.bytes, cap);
    CHECK_EQ(st.entries, 1);
    CHECK_EQ(st.evictions, 1);
    CHECK(!present(c, LIT(NS_A), "small"));
    CHECK(present(c, LIT(NS_A), "fit"));

    /* Metadata counts against the cap too. */
    ekv_cache_item_t m = item(1, bytes(big, exact));
    m.has_meta = 1;
    m.meta = LIT("{}");
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("fim"), &m, NOW), EKV_ETOOBIG);
    ekv_cache_destroy(&c);
}

/* ---- negative entries and versions ------------------------------------------------------ */

static void test_negative_entry(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    ekv_cache_item_t it = item(7, LIT("ignored value")); /* a negative entry holds no value */
    it.negative = 1;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("gone"), &it, NOW), EKV_OK);

    ekv_cache_item_t got;
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("gone"), NOW, &got), EKV_OK);
    CHECK_EQ(got.negative, 1);
    CHECK_EQ(got.value.len, 0);
    CHECK_EQ(got.seq, 7);
    CHECK_EQ(stat_bytes(c), ekv_cache_entry_size(sizeof NS_A - 1, 4, 0, 0));

    /* A newer put replaces the negative entry with a value ... */
    ekv_cache_item_t put = item(8, LIT("back"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("gone"), &put, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("gone"), NOW, &got), EKV_OK);
    CHECK_EQ(got.negative, 0);
    CHECK_MEM(got.value.ptr, got.value.len, "back", 4);

    /* ... and a newer delete turns it negative again. */
    ekv_cache_item_t del = item(9, bytes(NULL, 0));
    del.negative = 1;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("gone"), &del, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("gone"), NOW, &got), EKV_OK);
    CHECK_EQ(got.negative, 1);
    CHECK_EQ(got.value.len, 0);
    CHECK_EQ(got.seq, 9);
    CHECK_EQ(stat_entries(c), 1);
    CHECK_EQ(stat_bytes(c), ekv_cache_entry_size(sizeof NS_A - 1, 4, 0, 0));
    ekv_cache_destroy(&c);
}

static void test_older_seq_refused(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    ekv_cache_item_t newer = item(5, LIT("new"));
    newer.commit_us = NOW - 10;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &newer, NOW), EKV_OK);
    uint64_t bytes_before = stat_bytes(c);

    /* A late older version (say a slow origin read) must not roll the key back. */
    ekv_cache_item_t older = item(4, LIT("older value"));
    older.commit_us = NOW - 20;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &older, NOW), EKV_EEXIST);
    older.negative = 1;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &older, NOW), EKV_EEXIST);

    ekv_cache_item_t got;
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.seq, 5);
    CHECK_EQ(got.commit_us, NOW - 10);
    CHECK_EQ(got.negative, 0);
    CHECK_MEM(got.value.ptr, got.value.len, "new", 3);
    CHECK_EQ(stat_bytes(c), bytes_before);
    CHECK_EQ(stat_entries(c), 1);

    /* The same version replaces (a refetch with a new cacheTtl), a newer one too. */
    ekv_cache_item_t same = item(5, LIT("same seq"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &same, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, "same seq", 8);
    ekv_cache_item_t next = item(6, LIT("six"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &next, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.seq, 6);
    CHECK_MEM(got.value.ptr, got.value.len, "six", 3);
    CHECK_EQ(stat_entries(c), 1);
    CHECK_EQ(stat_bytes(c), ekv_cache_entry_size(sizeof NS_A - 1, 1, 0, 3));
    ekv_cache_destroy(&c);
}

/* ---- time: expiration and freshness ----------------------------------------------------- */

static void test_expiration_wins(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    ekv_cache_item_t it = item(1, LIT("v"));
    it.expiration = EXP;
    it.fresh_until_us = INT64_MAX; /* fresh forever, yet it expires */
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW), EKV_OK);
    ekv_cache_item_t forever = item(1, LIT("v"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("none"), &forever, NOW), EKV_OK);

    ekv_cache_item_t got;
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), EXP * 1000000 - 1, &got), EKV_OK);
    CHECK_EQ(got.expiration, EXP);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), EXP * 1000000, &got), EKV_ENOTFOUND);
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.expired, 1);
    CHECK_EQ(st.entries, 1);
    CHECK_EQ(st.bytes, ekv_cache_entry_size(sizeof NS_A - 1, 4, 0, 1));
    /* It was dropped, not hidden: it stays gone even if the clock were to step back. */
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_ENOTFOUND);
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.expired, 1);

    /* Expiration 0 means none: still served a century later. */
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("none"), NOW + 3155760000000000LL, &got), EKV_OK);
    ekv_cache_destroy(&c);
}

static void test_lower_fresh_only_lowers(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    ekv_cache_item_t it = item(1, LIT("v"));
    it.fresh_until_us = NOW + 1000000;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW), EKV_OK);
    ekv_cache_item_t got;

    ekv_cache_lower_fresh(c, LIT(NS_A), LIT("k"), NOW + 5000000);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.fresh_until_us, NOW + 1000000);

    ekv_cache_lower_fresh(c, LIT(NS_A), LIT("k"), NOW + 400000);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.fresh_until_us, NOW + 400000);
    CHECK_MEM(got.value.ptr, got.value.len, "v", 1);

    /* kept in whole ms from the stored time: lowered to between two, it is the earlier */
    ekv_cache_lower_fresh(c, LIT(NS_A), LIT("k"), NOW + 300999);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.fresh_until_us, NOW + 300000);

    /* lowered to before its stored time: stale from then, whatever the exact value */
    ekv_cache_lower_fresh(c, LIT(NS_A), LIT("k"), NOW - 7000000);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_LE(got.fresh_until_us, NOW);

    /* a copy fresh for ever is lowered too */
    it = item(2, LIT("w"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW), EKV_OK);
    ekv_cache_lower_fresh(c, LIT(NS_A), LIT("k"), NOW + 60000000);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.fresh_until_us, NOW + 60000000);

    /* Lowering an absent key creates nothing. */
    ekv_cache_lower_fresh(c, LIT(NS_A), LIT("absent"), NOW);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("absent"), NOW, &got), EKV_ENOTFOUND);
    CHECK_EQ(stat_entries(c), 1);
    ekv_cache_destroy(&c);
}

static void test_expire_some_without_lookup(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    char key[8];
    /* Four expiring entries stored first (the cold end), then three that never expire. */
    for (int i = 0; i < 4; i++) {
        ekv_cache_item_t it = item(1, LIT("dead"));
        it.expiration = EXP;
        snprintf(key, sizeof key, "x%d", i);
        CHECK_EQ(ekv_cache_store(c, LIT(NS_A), STR(key), &it, NOW), EKV_OK);
    }
    for (int i = 0; i < 3; i++) {
        ekv_cache_item_t it = item(1, LIT("live"));
        snprintf(key, sizeof key, "l%d", i);
        CHECK_EQ(ekv_cache_store(c, LIT(NS_A), STR(key), &it, NOW), EKV_OK);
    }
    size_t live = ekv_cache_entry_size(sizeof NS_A - 1, 2, 0, 4);

    /* Before the expiration nothing goes. */
    CHECK_EQ(ekv_cache_expire_some(c, EXP * 1000000 - 1, 100), 0);
    CHECK_EQ(stat_entries(c), 7);

    /* The budget bounds the work: two examined, two dropped. */
    CHECK_EQ(ekv_cache_expire_some(c, EXP * 1000000, 2), 2);
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.entries, 5);
    CHECK_EQ(st.expired, 2);
    CHECK_EQ(st.bytes, 5 * live);

    CHECK_EQ(ekv_cache_expire_some(c, EXP * 1000000, 100), 2);
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.entries, 3);
    CHECK_EQ(st.expired, 4);
    CHECK_EQ(st.evictions, 0);
    CHECK_EQ(st.bytes, 3 * live);
    CHECK_EQ(ekv_cache_expire_some(c, EXP * 1000000, 100), 0);

    ekv_cache_item_t got;
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "l%d", i);
        CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), STR(key), EXP * 1000000, &got), EKV_OK);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "x%d", i);
        CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), STR(key), NOW, &got), EKV_ENOTFOUND);
    }
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.expired, 4); /* those lookups found nothing left to expire */
    ekv_cache_destroy(&c);
}

/* ---- keys --------------------------------------------------------------------------------- */

static void test_namespaces_are_separate(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    ekv_cache_item_t a = item(1, LIT("in A")), b = item(1, LIT("in B"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("same"), &a, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_B), LIT("same"), &b, NOW), EKV_OK);
    CHECK_EQ(stat_entries(c), 2);

    ekv_cache_item_t got;
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("same"), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, "in A", 4);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_B), LIT("same"), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, "in B", 4);

    /* A newer version in B does not make A's store look old. */
    ekv_cache_item_t b9 = item(9, LIT("B9"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_B), LIT("same"), &b9, NOW), EKV_OK);
    ekv_cache_item_t a2 = item(2, LIT("A2"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("same"), &a2, NOW), EKV_OK);

    CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), LIT("same")), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("same"), NOW, &got), EKV_ENOTFOUND);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_B), LIT("same"), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, "B9", 2);

    /* The namespace/key boundary is part of the identity: "ab"+"c" is not "a"+"bc". */
    ekv_cache_item_t x = item(1, LIT("ab|c")), y = item(1, LIT("a|bc"));
    CHECK_EQ(ekv_cache_store(c, LIT("ab"), LIT("c"), &x, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT("a"), LIT("bc"), &y, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT("ab"), LIT("c"), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, "ab|c", 4);
    CHECK_EQ(ekv_cache_lookup(c, LIT("a"), LIT("bc"), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, "a|bc", 4);
    CHECK_EQ(ekv_cache_lookup(c, LIT(""), LIT("abc"), NOW, &got), EKV_ENOTFOUND);
    CHECK_EQ(stat_entries(c), 3);
    ekv_cache_destroy(&c);
}

static void test_binary_keys_and_values(void)
{
    static const char K1[] = "a\0b";
    static const char K2[] = "a\0c";
    static const char K3[] = "a";
    static const char V1[] = "\0\1\2\xff\xfe value \0 with NULs";
    static const char V2[] = "\x80\x00\x7f";
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    ekv_cache_item_t i1 = item(1, LIT(V1)), i2 = item(1, LIT(V2)), i3 = item(1, LIT("plain"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT(K1), &i1, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT(K2), &i2, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT(K3), &i3, NOW), EKV_OK);
    CHECK_EQ(stat_entries(c), 3);

    ekv_cache_item_t got;
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT(K1), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, V1, sizeof V1 - 1);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT(K2), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, V2, sizeof V2 - 1);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT(K3), NOW, &got), EKV_OK);
    CHECK_MEM(got.value.ptr, got.value.len, "plain", 5);
    /* "a\0" is its own key, not a prefix match of "a\0b". */
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), bytes(K1, 2), NOW, &got), EKV_ENOTFOUND);

    /* An empty value is a value, not a negative entry. */
    ekv_cache_item_t empty = item(2, bytes("", 0));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT(K3), &empty, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT(K3), NOW, &got), EKV_OK);
    CHECK_EQ(got.negative, 0);
    CHECK_EQ(got.value.len, 0);
    CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), LIT(K1)), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT(K2), NOW, &got), EKV_OK);
    ekv_cache_destroy(&c);
}

static void test_growth_past_initial_buckets(void)
{
    enum { N = 5000 };
    ekv_cache_t *c = ekv_cache_new(64u << 20);
    char key[32], val[32];
    uint64_t sum = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "user:%d", i);
        snprintf(val, sizeof val, "value-%d", i * 7);
        ekv_cache_item_t it = item((uint64_t)i + 1, STR(val));
        CHECK_EQ(ekv_cache_store(c, LIT(NS_A), STR(key), &it, NOW), EKV_OK);
        sum += ekv_cache_entry_size(sizeof NS_A - 1, strlen(key), 0, strlen(val));
    }
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.entries, N);
    CHECK_EQ(st.bytes, sum);
    CHECK_EQ(st.evictions, 0);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "user:%d", i);
        snprintf(val, sizeof val, "value-%d", i * 7);
        ekv_cache_item_t got;
        CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), STR(key), NOW, &got), EKV_OK);
        CHECK_EQ(got.seq, (uint64_t)i + 1);
        CHECK_MEM(got.value.ptr, got.value.len, val, strlen(val));
    }
    /* Every key is still reachable for removal after the resizes. */
    for (int i = 0; i < N; i += 2) {
        snprintf(key, sizeof key, "user:%d", i);
        CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), STR(key)), EKV_OK);
    }
    CHECK_EQ(stat_entries(c), N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "user:%d", i);
        CHECK_EQ(present(c, LIT(NS_A), key), i % 2 == 1);
    }
    ekv_cache_destroy(&c);
}

static void test_remove(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), LIT("k")), EKV_ENOTFOUND);
    ekv_cache_item_t it = item(3, LIT("v"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("other"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), LIT("k")), EKV_OK);
    CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), LIT("k")), EKV_ENOTFOUND);
    ekv_cache_item_t got;
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_ENOTFOUND);
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.entries, 1);
    CHECK_EQ(st.bytes, ekv_cache_entry_size(sizeof NS_A - 1, 5, 0, 1));
    CHECK_EQ(st.evictions, 0); /* a removal is not an eviction */

    /* After a removal any version may be stored again. */
    ekv_cache_item_t old = item(1, LIT("old"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &old, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.seq, 1);
    CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), LIT("k")), EKV_OK);
    CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), LIT("other")), EKV_OK);
    CHECK_EQ(stat_bytes(c), 0);
    CHECK_EQ(stat_entries(c), 0);
    ekv_cache_destroy(&c);
}

/* ---- the namespace table ------------------------------------------------------------------ */

static int visit_count(void *arg, ekv_bytes_t ns, ekv_bytes_t key, const ekv_cache_item_t *it)
{
    (void)key;
    (void)it;
    CHECK(ns.ptr != NULL && ns.len > 0); /* every entry's namespace still has its name */
    ++*(size_t *)arg;
    return 0;
}

static uint64_t stat_namespaces(const ekv_cache_t *c)
{
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    return st.namespaces;
}

/* One entry in each of 70,000 namespaces: every store succeeds (none is refused because the
 * table is full), the table stays at EKV_CACHE_MAX_NS names, each new name taking the place of
 * the least recently used one, and the names go when their entries do. */
static void test_namespace_table_is_bounded(void)
{
    enum { N = 70000 };
    ekv_cache_t *c = ekv_cache_new(64u << 20);
    char ns[32];
    ekv_cache_item_t it = item(1, LIT("v"));
    for (int i = 0; i < N; i++) {
        int len = snprintf(ns, sizeof ns, "junk-ns-%06d", i);
        CHECK_EQ(ekv_cache_store(c, bytes(ns, (size_t)len), LIT("k"), &it, NOW), EKV_OK);
        if (i == EKV_CACHE_MAX_NS + 10) /* touched: the coldest is the next one, not this */
            CHECK(present(c, LIT("junk-ns-000011"), "k"));
    }
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.namespaces, EKV_CACHE_MAX_NS);
    CHECK_EQ(st.entries, EKV_CACHE_MAX_NS);
    CHECK_EQ(st.evictions, N - EKV_CACHE_MAX_NS);
    CHECK(present(c, LIT("junk-ns-069999"), "k"));
    CHECK(present(c, LIT("junk-ns-066000"), "k"));
    CHECK(!present(c, LIT("junk-ns-000000"), "k"));
    CHECK(!present(c, LIT("junk-ns-000012"), "k"));
    size_t seen = 0;
    ekv_cache_visit(c, NOW, visit_count, &seen);
    CHECK_EQ(seen, EKV_CACHE_MAX_NS);

    /* Emptied, the table holds no name; a namespace stored again gets a new number. */
    for (int i = N - EKV_CACHE_MAX_NS; i < N; i++) {
        int len = snprintf(ns, sizeof ns, "junk-ns-%06d", i);
        CHECK_EQ(ekv_cache_remove(c, bytes(ns, (size_t)len), LIT("k")), EKV_OK);
    }
    CHECK_EQ(stat_entries(c), 0);
    CHECK_EQ(stat_namespaces(c), 0);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_B), LIT("k"), &it, NOW), EKV_OK);
    CHECK_EQ(stat_namespaces(c), 2);
    CHECK(present(c, LIT(NS_A), "k"));
    CHECK(present(c, LIT(NS_B), "k"));
    ekv_cache_destroy(&c);
}

/* A store that evicts the only other entry of its own namespace keeps the namespace's name
 * (the entry it stores belongs to it); a refused store leaves no name behind. */
static void test_namespace_kept_through_its_store(void)
{
    size_t one = ekv_cache_entry_size(sizeof NS_A - 1, 2, 0, 100);
    ekv_cache_t *c = ekv_cache_new(one + one / 2);
    char big[100] = {0};
    ekv_cache_item_t a = item(1, bytes(big, sizeof big)), b = item(2, bytes(big, sizeof big));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k1"), &a, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k2"), &b, NOW), EKV_OK);
    CHECK(!present(c, LIT(NS_A), "k1"));
    CHECK(present(c, LIT(NS_A), "k2"));
    CHECK_EQ(stat_namespaces(c), 1);
    size_t seen = 0;
    ekv_cache_visit(c, NOW, visit_count, &seen);
    CHECK_EQ(seen, 1);
    /* Too big for the cap: refused, and a namespace seen only in it is not kept. */
    char huge[400] = {0};
    ekv_cache_item_t h = item(1, bytes(huge, sizeof huge));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_B), LIT("k"), &h, NOW), EKV_ETOOBIG);
    CHECK_EQ(stat_namespaces(c), 1);
    /* An older version refused: likewise. */
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k2"), &a, NOW), EKV_EEXIST);
    CHECK_EQ(stat_namespaces(c), 1);
    CHECK_EQ(ekv_cache_remove(c, LIT(NS_A), LIT("k2")), EKV_OK);
    CHECK_EQ(stat_namespaces(c), 0);
    ekv_cache_destroy(&c);
}

/* ---- read counts, stored-at time, peek --------------------------------------------------- */

static void test_reads_counted_since_stored(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    ekv_cache_item_t it = item(1, LIT("v1")), got;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_lookup(c, LIT(NS_A), LIT("k"), NOW + 5, &got), EKV_OK);
    CHECK_EQ(got.reads, 0); /* a lookup is not a client's read */
    CHECK_EQ(got.stored_us, NOW);
    CHECK(!got.refreshed);
    CHECK_EQ(ekv_cache_read(c, LIT(NS_A), LIT("k"), NOW + 10, &got), EKV_OK);
    CHECK_EQ(got.reads, 1);
    CHECK_EQ(ekv_cache_read(c, LIT(NS_A), LIT("k"), NOW + 20, &got), EKV_OK);
    CHECK_EQ(got.reads, 2);
    CHECK_EQ(got.stored_us, NOW);

    /* the same version stored again (a refresh): a new copy, counted from zero */
    it.refreshed = 1;
    it.stored_us = 1; /* ignored: the store's own time counts */
    it.reads = 99;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW + 30000), EKV_OK);
    CHECK_EQ(ekv_cache_read(c, LIT(NS_A), LIT("k"), NOW + 40000, &got), EKV_OK);
    CHECK_EQ(got.reads, 1);
    CHECK_EQ(got.stored_us, NOW + 30000);
    CHECK(got.refreshed);
    CHECK_EQ(ekv_cache_read(c, LIT(NS_A), LIT("absent"), NOW, &got), EKV_ENOTFOUND);
    ekv_cache_destroy(&c);
}

static void test_reads_saturate(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 16);
    ekv_cache_item_t it = item(1, LIT("v")), got;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("k"), &it, NOW), EKV_OK);
    for (int i = 1; i <= 300; i++) {
        CHECK_EQ(ekv_cache_read(c, LIT(NS_A), LIT("k"), NOW + i, &got), EKV_OK);
        CHECK_EQ(got.reads, i < 255 ? (uint32_t)i : 255); /* stays hot, never wraps to 0 */
    }
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("k"), NOW, &got), EKV_OK);
    CHECK_EQ(got.reads, 255);
    ekv_cache_destroy(&c);
}

/* ---- stored and fresh-until times: kept in 32 bits from the cache's base ---------------- */

#define MS    1000LL
#define SEC   1000000LL
#define DAY   (86400LL * SEC)
#define YEARS (365LL * DAY)

/* Stores key k at now_us fresh until fresh_us and returns the fresh-until time it comes back
 * with, after checking the copy is never fresher than asked, nor stale more than `slack`
 * microseconds early. */
static int64_t fresh_round_trip(ekv_cache_t *c, const char *k, int64_t now_us, int64_t fresh_us,
                                int64_t slack)
{
    ekv_cache_item_t it = item(1, LIT("v")), got;
    it.fresh_until_us = fresh_us;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), STR(k), &it, now_us), EKV_OK);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), STR(k), now_us, &got), EKV_OK);
    CHECK_LE(got.fresh_until_us, fresh_us);
    CHECK_GT(got.fresh_until_us, fresh_us - slack);
    CHECK_LE(got.stored_us, now_us); /* stored no later than it was */
    CHECK_GT(got.stored_us, now_us - MS);
    return got.fresh_until_us;
}

static void test_fresh_until_round_trip(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    /* whole ms from a ms-aligned store come back exactly */
    CHECK_EQ(fresh_round_trip(c, "60s", NOW, NOW + 60 * SEC, 1), NOW + 60 * SEC);
    CHECK_EQ(fresh_round_trip(c, "1ms", NOW, NOW + MS, 1), NOW + MS);
    /* otherwise rounded down, by less than 1 ms: a read more than 1 ms before is fresh (the
     * last life: the longest kept in ms from any of the starts) */
    int64_t lives[] = {
        1, 999, 1001, 59999999, 60 * SEC + 1, 86399999999LL, (1LL << 31) * MS - MS - 1};
    int64_t starts[] = {NOW, NOW + 1, NOW + 777, NOW + 999, NOW + 3 * DAY + 123456};
    for (size_t i = 0; i < sizeof lives / sizeof lives[0]; i++)
        for (size_t j = 0; j < sizeof starts / sizeof starts[0]; j++) {
            int64_t want = starts[j] + lives[i];
            int64_t f = fresh_round_trip(c, "k", starts[j], want, MS);
            CHECK(f > want - MS - 1); /* fresh at a read 1 ms + 1 us before */
        }
    /* a life under 1 ms (a very high time scale) is stale at once, never fresh too long */
    ekv_cache_item_t got;
    CHECK_EQ(fresh_round_trip(c, "0.5ms", NOW, NOW + 500, MS), NOW);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("0.5ms"), NOW, &got), EKV_OK);
    CHECK(!(got.fresh_until_us > NOW));
    /* already past at the store: stale from the store on (times before it are not kept) */
    ekv_cache_item_t it = item(1, LIT("v"));
    it.fresh_until_us = NOW - 5 * SEC;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("past"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("past"), NOW, &got), EKV_OK);
    CHECK_LE(got.fresh_until_us, NOW);
    /* INT64_MAX: fresh for ever, exactly */
    CHECK_EQ(fresh_round_trip(c, "max", NOW + 777, INT64_MAX, 1), INT64_MAX);
    ekv_cache_destroy(&c);
}

static void test_huge_lives(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    /* lives past 2^31 ms (~24.8 days) are kept in whole seconds, rounded down */
    /* 1e9 s: the largest cacheTtl */
    int64_t lives[] = {(1LL << 31) * MS, 30 * DAY + 500 * MS, 49 * DAY + 1,
                       50 * DAY,         1000000000LL * SEC,  60 * YEARS + 1};
    for (size_t i = 0; i < sizeof lives / sizeof lives[0]; i++) {
        int64_t f = fresh_round_trip(c, "k", NOW, NOW + lives[i], SEC);
        CHECK_LT(f, INT64_MAX); /* not mistaken for "always" */
    }
    CHECK_EQ(fresh_round_trip(c, "k", NOW, NOW + 50 * DAY, 1), NOW + 50 * DAY);
    /* past ~68 years the life is ~68 years: refreshed then, never fresher than asked */
    int64_t f = fresh_round_trip(c, "k", NOW, NOW + 100 * YEARS, 33 * YEARS);
    CHECK_GT(f, NOW + 68 * YEARS);
    f = fresh_round_trip(c, "k", NOW, INT64_MAX - 1, INT64_MAX);
    CHECK_GT(f, NOW + 68 * YEARS);
    CHECK_LT(f, INT64_MAX);
    /* stored near the epoch's start (times are only compared, any int64 will do) */
    CHECK_EQ(fresh_round_trip(c, "zero", 0, 60 * SEC, 1), 60 * SEC);
    ekv_cache_destroy(&c);
}

/* After a store at t that moved the base to ~t - 2^31 ms: a fresh-until time of want stays put
 * (to the second: a life may have grown into the seconds range), or when it was already past
 * at the new base, is past at it. */
static void check_fresh_kept(const ekv_cache_item_t *got, int64_t want, int64_t t)
{
    int64_t base = t - (1LL << 31) * MS;
    if (want > base + MS) {
        CHECK_LE(got->fresh_until_us, want);
        CHECK_GT(got->fresh_until_us, want - SEC);
    } else {
        CHECK_LE(got->fresh_until_us, base + MS);
    }
}

/* A store far from the cache's base moves it; every entry keeps its times. */
static void test_stored_times_across_rebase(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    ekv_cache_item_t it = item(1, LIT("v")), got;
    it.fresh_until_us = NOW + 40 * DAY;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("old"), &it, NOW), EKV_OK);
    it.fresh_until_us = NOW + 20 * DAY + 5 * SEC;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("mid"), &it, NOW + 20 * DAY + 7 * MS), EKV_OK);
    it.fresh_until_us = INT64_MAX;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("never"), &it, NOW + 1 * DAY), EKV_OK);
    it.fresh_until_us = NOW + 1 * SEC;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("stale"), &it, NOW), EKV_OK);
    for (int64_t t = NOW + 30 * DAY; t <= NOW + 400 * DAY; t += 30 * DAY) {
        it.fresh_until_us = t + 60 * SEC;
        CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("new"), &it, t), EKV_OK);
        CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("new"), t, &got), EKV_OK);
        CHECK_EQ(got.stored_us, t);
        CHECK_EQ(got.fresh_until_us, t + 60 * SEC);
        /* fresh-until times stay put, to the ms (to the second when the life grew past
         * ~24.8 days); stored times stay, or move later to at most ~24.8 days before now */
        CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("old"), t, &got), EKV_OK);
        check_fresh_kept(&got, NOW + 40 * DAY, t);
        CHECK_GE(got.stored_us, NOW);
        CHECK_LE(got.stored_us, t);
        CHECK_GE(got.stored_us, t - 25 * DAY);
        CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("mid"), t, &got), EKV_OK);
        check_fresh_kept(&got, NOW + 20 * DAY + 5 * SEC, t);
        if (t == NOW + 30 * DAY) { /* within ~24.8 days: as stored */
            CHECK_EQ(got.stored_us, NOW + 20 * DAY + 7 * MS);
            CHECK_EQ(got.fresh_until_us, NOW + 20 * DAY + 5 * SEC);
        }
        CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("never"), t, &got), EKV_OK);
        CHECK_EQ(got.fresh_until_us, INT64_MAX);
        CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("stale"), t, &got), EKV_OK);
        check_fresh_kept(&got, NOW + 1 * SEC, t);
    }
    /* the clock stepped back by a year: the same holds the other way */
    int64_t back = NOW - 365 * DAY;
    it.fresh_until_us = back + 60 * SEC;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("back"), &it, back), EKV_OK);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("back"), back, &got), EKV_OK);
    CHECK_EQ(got.stored_us, back);
    CHECK_EQ(got.fresh_until_us, back + 60 * SEC);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("new"), back, &got), EKV_OK);
    CHECK_LE(got.stored_us, NOW + 390 * DAY);
    CHECK_GT(got.fresh_until_us, NOW + 390 * DAY);
    CHECK_LE(got.fresh_until_us, NOW + 390 * DAY + 60 * SEC);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("never"), back, &got), EKV_OK);
    CHECK_EQ(got.fresh_until_us, INT64_MAX);
    CHECK_EQ(stat_entries(c), 6);
    ekv_cache_destroy(&c);
}

static void test_peek_changes_nothing(void)
{
    size_t one = ekv_cache_entry_size(sizeof NS_A - 1, 1, 0, 2);
    ekv_cache_t *c = ekv_cache_new(2 * one);
    ekv_cache_item_t it = item(1, LIT("va")), got;
    it.expiration = EXP;
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("a"), &it, NOW), EKV_OK);
    it = item(2, LIT("vb"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("b"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("a"), NOW, &got), EKV_OK);
    CHECK_EQ(got.seq, 1);
    CHECK_EQ(got.reads, 0);
    CHECK_MEM(got.value.ptr, got.value.len, "va", 2);
    /* past its expiration a peek says absent but drops nothing */
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("a"), EXP * 1000000, &got), EKV_ENOTFOUND);
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    CHECK_EQ(st.entries, 2);
    CHECK_EQ(st.expired, 0);
    /* "a" stays the coldest: the next store evicts it, not "b" */
    it = item(3, LIT("vc"));
    CHECK_EQ(ekv_cache_store(c, LIT(NS_A), LIT("c"), &it, NOW), EKV_OK);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("a"), NOW, &got), EKV_ENOTFOUND);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("b"), NOW, &got), EKV_OK);
    CHECK_EQ(ekv_cache_read(c, LIT(NS_A), LIT("b"), NOW, &got), EKV_OK);
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_A), LIT("b"), NOW, &got), EKV_OK);
    CHECK_EQ(got.reads, 1); /* peeks did not count */
    CHECK_EQ(ekv_cache_peek(c, LIT(NS_B), LIT("b"), NOW, &got), EKV_ENOTFOUND);
    ekv_cache_destroy(&c);
}

int main(void)
{
    EKV_TEST_RUN(test_store_lookup_every_field);
    EKV_TEST_RUN(test_entry_overhead);
    EKV_TEST_RUN(test_lru_evicts_least_recently_used);
    EKV_TEST_RUN(test_big_entry_evicts_several);
    EKV_TEST_RUN(test_bytes_never_exceed_cap);
    EKV_TEST_RUN(test_too_big_refused);
    EKV_TEST_RUN(test_negative_entry);
    EKV_TEST_RUN(test_older_seq_refused);
    EKV_TEST_RUN(test_expiration_wins);
    EKV_TEST_RUN(test_lower_fresh_only_lowers);
    EKV_TEST_RUN(test_expire_some_without_lookup);
    EKV_TEST_RUN(test_namespaces_are_separate);
    EKV_TEST_RUN(test_binary_keys_and_values);
    EKV_TEST_RUN(test_growth_past_initial_buckets);
    EKV_TEST_RUN(test_remove);
    EKV_TEST_RUN(test_namespace_table_is_bounded);
    EKV_TEST_RUN(test_namespace_kept_through_its_store);
    EKV_TEST_RUN(test_reads_counted_since_stored);
    EKV_TEST_RUN(test_peek_changes_nothing);
    EKV_TEST_RUN(test_reads_saturate);
    EKV_TEST_RUN(test_fresh_until_round_trip);
    EKV_TEST_RUN(test_huge_lives);
    EKV_TEST_RUN(test_stored_times_across_rebase);
    EKV_TEST_DONE();
}
