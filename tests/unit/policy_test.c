/* policy_test: unit tests of the propagation policies (node/policy) on a real cache.
 *
 * What a user of a PoP would notice: under push a change replaces what the PoP has cached
 * and never brings in a key nobody read there; under push-all every change is held (a full
 * replica); under invalidate a change drops the cached copy (but never a copy newer than the
 * change, and never inserts); under ttl and kv nothing a change says reaches the cache. A delete
 * becomes a "not found" entry carrying the delete's version, so a put that was committed
 * before the delete but arrives after it (catch-up after a gap) cannot bring the key back.
 * Metadata, expiration and commit time travel with the change. Policy names round-trip.
 *
 * Time is injected through now_us; nothing sleeps. Items returned by lookup are borrowed, so
 * every check reads them before the next call that changes the cache. Every cache is
 * destroyed; the program runs clean under the sanitizers. */
#include <stdint.h>
#include <string.h>

#include "cache.h"
#include "ekv_err.h"
#include "ekv_msg.h"
#include "ekv_test.h"
#include "policy.h"

#define NOW   1700000000000000LL /* a wall-clock time in microseconds */
#define FRESH (NOW + 3000000LL)  /* a cached copy fresh for 3 more seconds (from a cacheTtl) */
#define EXP   1700000100LL       /* an absolute expiration 100 s after NOW, epoch seconds */

static const char NS[] = "0123456789abcdef0123456789abcdef";

static ekv_bytes_t str(const char *s)
{
    ekv_bytes_t b = {s, strlen(s)};
    return b;
}

/* A CHANGE putting value v under key at version seq, committed 1 ms before NOW. */
static ekv_msg_t put(uint64_t seq, const char *key, const char *v)
{
    ekv_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = EKV_MSG_CHANGE;
    m.seq = seq;
    m.time_us = NOW - 1000 + (int64_t)seq; /* distinct per version, so its origin shows */
    m.op = EKV_OP_PUT;
    m.ns = str(NS);
    m.key = str(key);
    m.value = str(v);
    return m;
}

/* A CHANGE deleting key at version seq. */
static ekv_msg_t del(uint64_t seq, const char *key)
{
    ekv_msg_t m = put(seq, key, "");
    m.op = EKV_OP_DELETE;
    return m;
}

/* Caches key = v at version seq as an origin read would: fresh until FRESH, no metadata. */
static void cache_put(ekv_cache_t *c, const char *key, uint64_t seq, const char *v)
{
    ekv_cache_item_t it;
    memset(&it, 0, sizeof it);
    it.seq = seq;
    it.commit_us = NOW - 5000;
    it.fresh_until_us = FRESH;
    it.value = str(v);
    CHECK_EQ(ekv_cache_store(c, str(NS), str(key), &it, NOW), EKV_OK);
}

static int lookup(ekv_cache_t *c, const char *key, int64_t now, ekv_cache_item_t *it)
{
    return ekv_cache_lookup(c, str(NS), str(key), now, it);
}

static uint64_t entries(const ekv_cache_t *c)
{
    ekv_cache_stats_t st;
    ekv_cache_stats(c, &st);
    return st.entries;
}

#define CHECK_VALUE(it, v) CHECK_MEM((it).value.ptr, (it).value.len, (v), strlen(v))

/* Expects key cached at NOW with value v at version seq; *it is then lookup's item (borrowed
 * until the cache changes) for the checks that follow. */
static void expect_cached(ekv_cache_t *c, const char *key, const char *v, uint64_t seq,
                          ekv_cache_item_t *it)
{
    CHECK_EQ(lookup(c, key, NOW, it), EKV_OK);
    CHECK_VALUE(*it, v);
    CHECK_EQ(it->seq, seq);
}

/* ---- push -------------------------------------------------------------------------------- */

static void test_push_replaces_cached_entry(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    cache_put(c, "k", 1, "v1");
    ekv_msg_t ch = put(2, "k", "v2");
    ekv_policy_apply(c, EKV_POLICY_PUSH, &ch, NOW);

    ekv_cache_item_t it;
    expect_cached(c, "k", "v2", 2, &it);
    CHECK_EQ(it.commit_us, ch.time_us);
    CHECK(!it.negative);
    /* Pushed entries are kept current by later pushes: they never go stale. */
    CHECK_EQ(it.fresh_until_us, INT64_MAX);
    CHECK_EQ(entries(c), 1);
    ekv_cache_destroy(&c);
}

static void test_push_does_not_insert_uncached_key(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    cache_put(c, "cached", 1, "v1");
    ekv_msg_t ch = put(2, "never-read", "v2");
    ekv_policy_apply(c, EKV_POLICY_PUSH, &ch, NOW);

    ekv_cache_item_t it;
    CHECK_EQ(lookup(c, "never-read", NOW, &it), EKV_ENOTFOUND);
    CHECK_EQ(entries(c), 1);
    /* The entry that was cached is untouched by a change to another key. */
    expect_cached(c, "cached", "v1", 1, &it);
    CHECK_EQ(it.fresh_until_us, FRESH);

    /* Nor does a delete of an uncached key leave a "not found" entry behind. */
    ekv_msg_t d = del(3, "never-read");
    ekv_policy_apply(c, EKV_POLICY_PUSH, &d, NOW);
    CHECK_EQ(lookup(c, "never-read", NOW, &it), EKV_ENOTFOUND);
    CHECK_EQ(entries(c), 1);
    ekv_cache_destroy(&c);
}

static void test_push_keeps_newer_cached_entry(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    cache_put(c, "k", 5, "v5");
    ekv_msg_t ch = put(3, "k", "v3"); /* older change arriving late */
    ekv_policy_apply(c, EKV_POLICY_PUSH, &ch, NOW);
    ekv_cache_item_t it;
    expect_cached(c, "k", "v5", 5, &it);
    ekv_cache_destroy(&c);
}

/* ---- push-all ---------------------------------------------------------------------------- */

static void test_push_all_inserts(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    ekv_msg_t a = put(1, "a", "va");
    ekv_msg_t b = put(2, "b", "vb");
    ekv_policy_apply(c, EKV_POLICY_PUSH_ALL, &a, NOW);
    ekv_policy_apply(c, EKV_POLICY_PUSH_ALL, &b, NOW);
    CHECK_EQ(entries(c), 2);

    ekv_cache_item_t it;
    expect_cached(c, "a", "va", 1, &it);
    CHECK_EQ(it.commit_us, a.time_us);
    CHECK_EQ(it.fresh_until_us, INT64_MAX);
    CHECK(!it.negative);
    expect_cached(c, "b", "vb", 2, &it);

    /* A cached entry is replaced as under push. */
    ekv_msg_t a2 = put(3, "a", "va2");
    ekv_policy_apply(c, EKV_POLICY_PUSH_ALL, &a2, NOW);
    expect_cached(c, "a", "va2", 3, &it);
    CHECK_EQ(entries(c), 2);
    ekv_cache_destroy(&c);
}

/* ---- invalidate -------------------------------------------------------------------------- */

static void test_invalidate_drops_cached_entry(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    cache_put(c, "k", 1, "v1");
    cache_put(c, "other", 1, "o1");
    ekv_msg_t ch = put(2, "k", "v2");
    ekv_policy_apply(c, EKV_POLICY_INVALIDATE, &ch, NOW);

    ekv_cache_item_t it;
    CHECK_EQ(lookup(c, "k", NOW, &it), EKV_ENOTFOUND);
    CHECK_EQ(entries(c), 1);
    CHECK_EQ(lookup(c, "other", NOW, &it), EKV_OK); /* another key is not touched */
    CHECK_VALUE(it, "o1");

    /* A delete drops the cached copy too (the next read asks the origin). */
    ekv_msg_t d = del(3, "other");
    ekv_policy_apply(c, EKV_POLICY_INVALIDATE, &d, NOW);
    CHECK_EQ(lookup(c, "other", NOW, &it), EKV_ENOTFOUND);
    CHECK_EQ(entries(c), 0);
    ekv_cache_destroy(&c);
}

static void test_invalidate_leaves_uncached_keys_alone(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    ekv_msg_t ch = put(1, "k", "v1");
    ekv_policy_apply(c, EKV_POLICY_INVALIDATE, &ch, NOW);
    ekv_msg_t d = del(2, "gone");
    ekv_policy_apply(c, EKV_POLICY_INVALIDATE, &d, NOW);
    ekv_cache_item_t it;
    CHECK_EQ(lookup(c, "k", NOW, &it), EKV_ENOTFOUND);
    CHECK_EQ(lookup(c, "gone", NOW, &it), EKV_ENOTFOUND);
    CHECK_EQ(entries(c), 0);
    ekv_cache_destroy(&c);
}

static void test_invalidate_keeps_entry_newer_than_change(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    /* Fetched from origin at version 7 before the (older) change 4 arrived. */
    cache_put(c, "k", 7, "v7");
    ekv_msg_t ch = put(4, "k", "v4");
    ekv_policy_apply(c, EKV_POLICY_INVALIDATE, &ch, NOW);
    ekv_cache_item_t it;
    expect_cached(c, "k", "v7", 7, &it);
    CHECK_EQ(it.fresh_until_us, FRESH);
    ekv_cache_destroy(&c);
}

/* ---- ttl --------------------------------------------------------------------------------- */

static void test_ttl_changes_nothing(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    cache_put(c, "k", 1, "v1");
    ekv_msg_t p = put(2, "k", "v2");
    ekv_msg_t n = put(3, "new", "vn");
    ekv_msg_t d = del(4, "k");
    ekv_policy_apply(c, EKV_POLICY_TTL, &p, NOW);
    ekv_policy_apply(c, EKV_POLICY_TTL, &n, NOW);
    ekv_policy_apply(c, EKV_POLICY_TTL, &d, NOW);

    ekv_cache_item_t it;
    expect_cached(c, "k", "v1", 1, &it);
    CHECK(!it.negative);
    CHECK_EQ(it.fresh_until_us, FRESH); /* served until its cacheTtl runs out, as before */
    CHECK_EQ(lookup(c, "new", NOW, &it), EKV_ENOTFOUND);
    CHECK_EQ(entries(c), 1);
    ekv_cache_destroy(&c);
}

/* kv: as ttl, nothing a change says reaches the cache, and a change does not even warm the
 * copy in the LRU (else every write anywhere would keep it from eviction here). */
static void test_kv_changes_nothing(void)
{
    size_t one = ekv_cache_entry_size(sizeof NS - 1, 1, 0, 2);
    ekv_cache_t *c = ekv_cache_new(2 * one);
    cache_put(c, "a", 1, "va");
    cache_put(c, "b", 1, "vb");
    ekv_msg_t p = put(2, "a", "v2");
    ekv_msg_t n = put(3, "n", "vn");
    ekv_msg_t d = del(4, "b");
    ekv_policy_apply(c, EKV_POLICY_KV, &p, NOW);
    ekv_policy_apply(c, EKV_POLICY_KV, &n, NOW);
    ekv_policy_apply(c, EKV_POLICY_KV, &d, NOW);
    CHECK_EQ(entries(c), 2);
    cache_put(c, "c", 1, "vc"); /* evicts the coldest: "a", however often it was written */
    ekv_cache_item_t it;
    CHECK_EQ(lookup(c, "a", NOW, &it), EKV_ENOTFOUND);
    CHECK_EQ(lookup(c, "b", NOW, &it), EKV_OK);
    CHECK_VALUE(it, "vb");
    CHECK(!it.negative);
    CHECK_EQ(it.fresh_until_us, FRESH);
    CHECK_EQ(lookup(c, "n", NOW, &it), EKV_ENOTFOUND);
    CHECK(!ekv_policy_pushes(EKV_POLICY_KV));
    CHECK(!ekv_policy_pushes(EKV_POLICY_TTL));
    CHECK(ekv_policy_pushes(EKV_POLICY_PUSH) && ekv_policy_pushes(EKV_POLICY_INVALIDATE));
    ekv_cache_destroy(&c);
}

/* ---- deletes ----------------------------------------------------------------------------- */

/* Under a pushing policy, a delete of a cached key leaves a negative entry with the delete's
 * version, and an older put delivered afterwards does not bring the key back; a newer does. */
static void check_delete_then_older_put(ekv_policy_t pol)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    cache_put(c, "k", 3, "v3");
    ekv_msg_t d = del(5, "k");
    ekv_policy_apply(c, pol, &d, NOW);

    ekv_cache_item_t it;
    CHECK_EQ(lookup(c, "k", NOW, &it), EKV_OK);
    CHECK(it.negative);
    CHECK_EQ(it.seq, 5);
    CHECK_EQ(it.value.len, 0);

    ekv_msg_t late = put(4, "k", "v4"); /* committed before the delete, delivered after */
    ekv_policy_apply(c, pol, &late, NOW + 1000);
    CHECK_EQ(lookup(c, "k", NOW + 1000, &it), EKV_OK);
    CHECK(it.negative);
    CHECK_EQ(it.seq, 5);

    ekv_msg_t again = put(6, "k", "v6"); /* a put after the delete does bring it back */
    ekv_policy_apply(c, pol, &again, NOW + 2000);
    CHECK_EQ(lookup(c, "k", NOW + 2000, &it), EKV_OK);
    CHECK(!it.negative);
    CHECK_VALUE(it, "v6");
    CHECK_EQ(it.seq, 6);
    ekv_cache_destroy(&c);
}

static void test_push_delete_is_negative_entry(void)
{
    check_delete_then_older_put(EKV_POLICY_PUSH);
}

static void test_push_all_delete_is_negative_entry(void)
{
    check_delete_then_older_put(EKV_POLICY_PUSH_ALL);

    /* push-all: also for a key it never held (catch-up delivering a delete before an older
     * put of the same key must end with the key absent). */
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    ekv_msg_t d = del(9, "fresh");
    ekv_policy_apply(c, EKV_POLICY_PUSH_ALL, &d, NOW);
    ekv_msg_t late = put(8, "fresh", "v8");
    ekv_policy_apply(c, EKV_POLICY_PUSH_ALL, &late, NOW);
    ekv_cache_item_t it;
    CHECK_EQ(lookup(c, "fresh", NOW, &it), EKV_OK);
    CHECK(it.negative);
    CHECK_EQ(it.seq, 9);
    ekv_cache_destroy(&c);
}

/* ---- metadata and expiration ------------------------------------------------------------- */

static void test_metadata_and_expiration_carried(void)
{
    ekv_cache_t *c = ekv_cache_new(1 << 20);
    ekv_msg_t ch = put(1, "k", "v1");
    ch.flags = EKV_MSG_F_METADATA;
    ch.meta = str("{\"by\":\"w\"}");
    ch.expiration = EXP;
    ekv_policy_apply(c, EKV_POLICY_PUSH_ALL, &ch, NOW);

    ekv_cache_item_t it;
    CHECK_EQ(lookup(c, "k", NOW, &it), EKV_OK);
    CHECK(it.has_meta);
    CHECK_MEM(it.meta.ptr, it.meta.len, "{\"by\":\"w\"}", 10);
    CHECK_EQ(it.expiration, EXP);
    CHECK_VALUE(it, "v1");

    /* Expiration always wins: the pushed copy is not served once it has expired. */
    CHECK_EQ(lookup(c, "k", EXP * 1000000 - 1, &it), EKV_OK);
    CHECK_EQ(lookup(c, "k", EXP * 1000000, &it), EKV_ENOTFOUND);

    /* A push of a version without metadata or expiration clears both. */
    cache_put(c, "m", 1, "m1");
    ekv_msg_t with = put(2, "m", "m2");
    with.flags = EKV_MSG_F_METADATA;
    with.meta = str("null"); /* metadata present, JSON null */
    with.expiration = EXP;
    ekv_policy_apply(c, EKV_POLICY_PUSH, &with, NOW);
    CHECK_EQ(lookup(c, "m", NOW, &it), EKV_OK);
    CHECK(it.has_meta);
    CHECK_MEM(it.meta.ptr, it.meta.len, "null", 4);
    CHECK_EQ(it.expiration, EXP);
    ekv_msg_t without = put(3, "m", "m3");
    ekv_policy_apply(c, EKV_POLICY_PUSH, &without, NOW);
    CHECK_EQ(lookup(c, "m", NOW, &it), EKV_OK);
    CHECK(!it.has_meta);
    CHECK_EQ(it.expiration, 0);
    CHECK_VALUE(it, "m3");
    ekv_cache_destroy(&c);
}

/* ---- served visibility ------------------------------------------------------------------ */

/* A change seen is served by the first read returning its version or a newer one of its key;
 * a read of an older version, or of another key, serves nothing. */
static void test_served_by_reads(void)
{
    CHECK(ekv_served_new(6, 4) == NULL);
    CHECK(ekv_served_new(8, 0) == NULL);
    ekv_served_t *s = ekv_served_new(8, 4);
    ekv_served_pending(s, str(NS), str("k"), 11);
    ekv_served_pending(s, str(NS), str("k"), 13);
    ekv_served_pending(s, str(NS), str("k"), 12); /* out of order (catch-up) */
    ekv_served_pending(s, str(NS), str("k"), 12); /* twice */
    ekv_served_pending(s, str(NS), str("j"), 14);
    CHECK_EQ(ekv_served_keys(s), 2);
    CHECK_EQ(ekv_served_read(s, str(NS), str("k"), 10, NOW), 0); /* an older copy */
    CHECK_EQ(ekv_served_read(s, str(NS), str("x"), 99, NOW), 0); /* another key */
    CHECK_EQ(ekv_served_at(s, 11), 0);
    CHECK_EQ(ekv_served_read(s, str(NS), str("k"), 12, NOW + 5), 2);
    CHECK_EQ(ekv_served_at(s, 11), NOW + 5);
    CHECK_EQ(ekv_served_at(s, 12), NOW + 5);
    CHECK_EQ(ekv_served_at(s, 13), 0);
    CHECK_EQ(ekv_served_read(s, str(NS), str("k"), 13, NOW + 9), 1);
    CHECK_EQ(ekv_served_read(s, str(NS), str("k"), 13, NOW + 20), 0); /* first served stays */
    CHECK_EQ(ekv_served_at(s, 13), NOW + 9);
    CHECK_EQ(ekv_served_keys(s), 1);
    /* served at arrival (a pushing policy, a write made here): once */
    CHECK_EQ(ekv_served_mark(s, 15, NOW + 30), 1);
    CHECK_EQ(ekv_served_mark(s, 15, NOW + 40), 0);
    CHECK_EQ(ekv_served_at(s, 15), NOW + 30);
    ekv_served_pending(s, str(NS), str("k"), 15); /* served already: nothing to wait for */
    CHECK_EQ(ekv_served_keys(s), 1);
    ekv_served_destroy(&s);
    ekv_served_destroy(&s);
}

/* Memory is bounded: EKV_SERVED_PER_KEY pending changes a key (the oldest forgotten) and
 * max_keys keys (the one waiting longest forgotten); the ring forgets old sequences. */
static void test_served_bounded(void)
{
    ekv_served_t *s = ekv_served_new(64, 2);
    for (uint64_t q = 1; q <= EKV_SERVED_PER_KEY + 2; q++)
        ekv_served_pending(s, str(NS), str("k"), q);
    CHECK_EQ(ekv_served_read(s, str(NS), str("k"), 100, NOW), EKV_SERVED_PER_KEY);
    CHECK_EQ(ekv_served_at(s, 1), 0); /* forgotten */
    CHECK_EQ(ekv_served_at(s, 2), 0);
    CHECK_EQ(ekv_served_at(s, 3), NOW);
    ekv_served_pending(s, str(NS), str("a"), 20);
    ekv_served_pending(s, str(NS), str("b"), 21);
    ekv_served_pending(s, str(NS), str("c"), 22); /* a third key: "a" goes */
    CHECK_EQ(ekv_served_keys(s), 2);
    CHECK_EQ(ekv_served_read(s, str(NS), str("a"), 30, NOW), 0);
    CHECK_EQ(ekv_served_read(s, str(NS), str("b"), 30, NOW), 1);
    CHECK_EQ(ekv_served_read(s, str(NS), str("c"), 30, NOW), 1);
    CHECK_EQ(ekv_served_keys(s), 0);
    CHECK_EQ(ekv_served_mark(s, 3 + 64, NOW + 1), 1); /* takes 3's slot */
    CHECK_EQ(ekv_served_at(s, 3), 0);
    ekv_served_pending(s, str(NS), str("z"), 99);
    ekv_served_destroy(&s); /* frees what is still pending */
}

/* ---- names ------------------------------------------------------------------------------- */

static void test_parse_and_name_round_trip(void)
{
    static const struct {
        const char *name;
        ekv_policy_t policy;
    } all[] = {{"push", EKV_POLICY_PUSH},
               {"push-all", EKV_POLICY_PUSH_ALL},
               {"invalidate", EKV_POLICY_INVALIDATE},
               {"ttl", EKV_POLICY_TTL},
               {"kv", EKV_POLICY_KV}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ekv_policy_t p = (ekv_policy_t)-1;
        CHECK_EQ(ekv_policy_parse(all[i].name, &p), EKV_OK);
        CHECK_EQ(p, all[i].policy);
        CHECK_STR(ekv_policy_name(p), all[i].name);
    }
    static const char *bad[] = {"bogus",   "",     "PUSH", "push ", "pushall",
                                "push-al", "ttl2", "KV",   "kv "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_policy_t p;
        CHECK_EQ(ekv_policy_parse(bad[i], &p), EKV_EINVAL);
    }
}

int main(void)
{
    EKV_TEST_RUN(test_push_replaces_cached_entry);
    EKV_TEST_RUN(test_push_does_not_insert_uncached_key);
    EKV_TEST_RUN(test_push_keeps_newer_cached_entry);
    EKV_TEST_RUN(test_push_all_inserts);
    EKV_TEST_RUN(test_invalidate_drops_cached_entry);
    EKV_TEST_RUN(test_invalidate_leaves_uncached_keys_alone);
    EKV_TEST_RUN(test_invalidate_keeps_entry_newer_than_change);
    EKV_TEST_RUN(test_ttl_changes_nothing);
    EKV_TEST_RUN(test_kv_changes_nothing);
    EKV_TEST_RUN(test_push_delete_is_negative_entry);
    EKV_TEST_RUN(test_push_all_delete_is_negative_entry);
    EKV_TEST_RUN(test_metadata_and_expiration_carried);
    EKV_TEST_RUN(test_parse_and_name_round_trip);
    EKV_TEST_RUN(test_served_by_reads);
    EKV_TEST_RUN(test_served_bounded);
    EKV_TEST_DONE();
}
