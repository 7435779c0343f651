/* ratelimit_test: unit tests of the same-key write rate limit (coordinator/ratelimit).
 *
 * Time is injected in microseconds. Workers KV allows one write per second to a key and
 * answers 429 otherwise; what a client notices is which write is refused and when it may
 * write again, so every test asserts the allow/refuse answer at chosen instants: the first
 * write, a second one just inside and just past the interval, a refused write that must not
 * push the window, independence of keys and namespaces (including keys that only differ
 * after the first kilobyte), the switch-off interval 0, pruning, and a table that grows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_test.h"
#include "ratelimit.h"

#define SEC INT64_C(1000000)
#define T0  INT64_C(5000000000) /* an arbitrary monotonic instant */

static ekv_bytes_t B(const char *s)
{
    return (ekv_bytes_t){s, strlen(s)};
}

static int allow(ekv_ratelimit_t *r, const char *ns, const char *key, int64_t now)
{
    return ekv_ratelimit_allow(r, B(ns), B(key), now);
}

static void test_one_write_per_second(void)
{
    ekv_ratelimit_t *r = ekv_ratelimit_new(SEC);
    CHECK(r != NULL);
    CHECK_EQ(ekv_ratelimit_size(r), 0);
    CHECK_EQ(allow(r, "ns", "k", T0), 1);
    CHECK_EQ(ekv_ratelimit_size(r), 1);
    CHECK_EQ(allow(r, "ns", "k", T0), 0); /* same instant */
    CHECK_EQ(allow(r, "ns", "k", T0 + 1), 0);
    CHECK_EQ(allow(r, "ns", "k", T0 + SEC - 1), 0); /* 1 us short of a second */
    CHECK_EQ(allow(r, "ns", "k", T0 + SEC), 1);     /* a second later */
    CHECK_EQ(allow(r, "ns", "k", T0 + SEC + 10), 0);
    CHECK_EQ(allow(r, "ns", "k", T0 + 5 * SEC), 1); /* long after */
    CHECK_EQ(ekv_ratelimit_size(r), 1);             /* one key, one entry */
    ekv_ratelimit_destroy(&r);
    CHECK(r == NULL);
    ekv_ratelimit_destroy(&r); /* no-op on NULL */
}

static void test_refused_write_does_not_extend_window(void)
{
    ekv_ratelimit_t *r = ekv_ratelimit_new(SEC);
    CHECK_EQ(allow(r, "ns", "k", T0), 1);
    /* A client retrying every 100 ms is refused until exactly one second after the allowed
     * write, not one second after its last refused try. */
    for (int64_t t = T0 + SEC / 10; t < T0 + SEC; t += SEC / 10)
        CHECK_EQ(allow(r, "ns", "k", t), 0);
    CHECK_EQ(allow(r, "ns", "k", T0 + SEC), 1);
    /* The allowed write starts the next window. */
    CHECK_EQ(allow(r, "ns", "k", T0 + SEC + SEC / 2), 0);
    CHECK_EQ(allow(r, "ns", "k", T0 + 2 * SEC - 1), 0);
    CHECK_EQ(allow(r, "ns", "k", T0 + 2 * SEC), 1);
    ekv_ratelimit_destroy(&r);
}

static void test_keys_and_namespaces_independent(void)
{
    ekv_ratelimit_t *r = ekv_ratelimit_new(SEC);
    CHECK_EQ(allow(r, "ns", "a", T0), 1);
    CHECK_EQ(allow(r, "ns", "b", T0), 1);    /* another key */
    CHECK_EQ(allow(r, "other", "a", T0), 1); /* same key, another namespace */
    CHECK_EQ(allow(r, "ns", "A", T0), 1);    /* keys are case-sensitive bytes */
    CHECK_EQ(allow(r, "ns", "a ", T0), 1);
    /* Namespace and key are not simply concatenated: ("ab", "c") is not ("a", "bc"). */
    CHECK_EQ(allow(r, "ab", "c", T0), 1);
    CHECK_EQ(allow(r, "a", "bc", T0), 1);
    CHECK_EQ(ekv_ratelimit_size(r), 7);
    /* And each is limited on its own. */
    CHECK_EQ(allow(r, "ns", "a", T0 + 1), 0);
    CHECK_EQ(allow(r, "ns", "b", T0 + 1), 0);
    CHECK_EQ(allow(r, "other", "a", T0 + 1), 0);
    CHECK_EQ(allow(r, "ab", "c", T0 + 1), 0);
    CHECK_EQ(allow(r, "a", "bc", T0 + 1), 0);
    /* Binary keys (a NUL inside) count by their bytes, not up to the NUL. */
    ekv_bytes_t k1 = {"x\0one", 5}, k2 = {"x\0two", 5}, k3 = {"x", 1};
    CHECK_EQ(ekv_ratelimit_allow(r, B("ns"), k1, T0), 1);
    CHECK_EQ(ekv_ratelimit_allow(r, B("ns"), k2, T0), 1);
    CHECK_EQ(ekv_ratelimit_allow(r, B("ns"), k3, T0), 1);
    CHECK_EQ(ekv_ratelimit_allow(r, B("ns"), k1, T0 + 1), 0);
    ekv_ratelimit_destroy(&r);
}

static void test_long_keys(void)
{
    /* 512-byte keys in a long namespace id: keys that differ only in their last byte. */
    ekv_ratelimit_t *r = ekv_ratelimit_new(SEC);
    char a[512], b[512], ns[300];
    memset(a, 'k', sizeof a);
    memcpy(b, a, sizeof b);
    b[511] = 'z';
    memset(ns, 'n', sizeof ns);
    ekv_bytes_t nsb = {ns, 32}, ka = {a, sizeof a}, kb = {b, sizeof b};
    CHECK_EQ(ekv_ratelimit_allow(r, nsb, ka, T0), 1);
    CHECK_EQ(ekv_ratelimit_allow(r, nsb, kb, T0), 1);
    CHECK_EQ(ekv_ratelimit_allow(r, nsb, ka, T0 + 1), 0);
    CHECK_EQ(ekv_ratelimit_allow(r, nsb, kb, T0 + 1), 0);
    /* Past the 1 KiB stack buffer: a 2000-byte key (longer than KV allows, but the limiter
     * must not care) is limited and distinct from one that differs in its last byte. */
    char *big = malloc(2000), *big2 = malloc(2000);
    CHECK(big && big2);
    memset(big, 'q', 2000);
    memcpy(big2, big, 2000);
    big2[1999] = 'r';
    ekv_bytes_t kbig = {big, 2000}, kbig2 = {big2, 2000};
    CHECK_EQ(ekv_ratelimit_allow(r, nsb, kbig, T0), 1);
    CHECK_EQ(ekv_ratelimit_allow(r, nsb, kbig2, T0), 1);
    CHECK_EQ(ekv_ratelimit_allow(r, nsb, kbig, T0 + SEC / 2), 0);
    CHECK_EQ(ekv_ratelimit_allow(r, nsb, kbig, T0 + SEC), 1);
    CHECK_EQ(ekv_ratelimit_size(r), 4);
    free(big);
    free(big2);
    ekv_ratelimit_destroy(&r);
}

static void test_interval_zero_is_off(void)
{
    ekv_ratelimit_t *r = ekv_ratelimit_new(0);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(allow(r, "ns", "k", T0), 1);
    CHECK_EQ(ekv_ratelimit_size(r), 0); /* nothing is remembered when off */
    ekv_ratelimit_prune(r, T0);
    CHECK_EQ(allow(r, "ns", "k", T0 + 1), 1);
    ekv_ratelimit_destroy(&r);
}

static void test_other_intervals(void)
{
    /* --write-rate-limit 4 gives a 250 ms interval. */
    ekv_ratelimit_t *r = ekv_ratelimit_new(SEC / 4);
    CHECK_EQ(allow(r, "ns", "k", T0), 1);
    CHECK_EQ(allow(r, "ns", "k", T0 + SEC / 4 - 1), 0);
    CHECK_EQ(allow(r, "ns", "k", T0 + SEC / 4), 1);
    ekv_ratelimit_destroy(&r);
}

static void test_prune(void)
{
    ekv_ratelimit_t *r = ekv_ratelimit_new(SEC);
    CHECK_EQ(allow(r, "ns", "old", T0), 1);
    CHECK_EQ(allow(r, "ns", "recent", T0 + 6 * SEC / 10), 1);
    CHECK_EQ(ekv_ratelimit_size(r), 2);
    ekv_ratelimit_prune(r, T0 + 5 * SEC / 10); /* both younger than the interval */
    CHECK_EQ(ekv_ratelimit_size(r), 2);
    CHECK_EQ(allow(r, "ns", "old", T0 + 5 * SEC / 10), 0);

    ekv_ratelimit_prune(r, T0 + SEC + 1); /* "old" is older than the interval now */
    CHECK_EQ(ekv_ratelimit_size(r), 1);
    /* The recent one is still remembered and still limits. */
    CHECK_EQ(allow(r, "ns", "recent", T0 + SEC + 2), 0);
    CHECK_EQ(allow(r, "ns", "old", T0 + SEC + 2), 1); /* forgotten: a fresh write */
    CHECK_EQ(ekv_ratelimit_size(r), 2);

    ekv_ratelimit_prune(r, T0 + 10 * SEC);
    CHECK_EQ(ekv_ratelimit_size(r), 0);
    CHECK_EQ(allow(r, "ns", "recent", T0 + 10 * SEC), 1);
    CHECK_EQ(allow(r, "ns", "recent", T0 + 10 * SEC + 1), 0);
    ekv_ratelimit_prune(r, T0 + 10 * SEC + 2); /* just written: kept */
    CHECK_EQ(ekv_ratelimit_size(r), 1);
    CHECK_EQ(allow(r, "ns", "recent", T0 + 10 * SEC + 3), 0);
    ekv_ratelimit_destroy(&r);
}

static void test_many_keys(void)
{
    enum { N = 5000 };
    ekv_ratelimit_t *r = ekv_ratelimit_new(SEC);
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        CHECK_EQ(allow(r, "ns", key, T0 + i), 1);
    }
    CHECK_EQ(ekv_ratelimit_size(r), N);
    /* After the table grew, every key is still found and still limited. */
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        CHECK_EQ(allow(r, "ns", key, T0 + SEC / 2), 0);
    }
    CHECK_EQ(ekv_ratelimit_size(r), N);
    /* The first 2500 (written earliest) are past their interval and forgotten. */
    ekv_ratelimit_prune(r, T0 + SEC + N / 2);
    CHECK_EQ(ekv_ratelimit_size(r), N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        CHECK_EQ(allow(r, "ns", key, T0 + SEC + N / 2), i <= N / 2); /* 2500: 1 s old */
    }
    CHECK_EQ(ekv_ratelimit_size(r), N);
    ekv_ratelimit_prune(r, T0 + 3 * SEC);
    CHECK_EQ(ekv_ratelimit_size(r), 0);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        CHECK_EQ(allow(r, "ns", key, T0 + 3 * SEC), 1);
    }
    CHECK_EQ(ekv_ratelimit_size(r), N);
    ekv_ratelimit_destroy(&r); /* frees every entry: the sanitizer build checks for leaks */
}

int main(void)
{
    EKV_TEST_RUN(test_one_write_per_second);
    EKV_TEST_RUN(test_refused_write_does_not_extend_window);
    EKV_TEST_RUN(test_keys_and_namespaces_independent);
    EKV_TEST_RUN(test_long_keys);
    EKV_TEST_RUN(test_interval_zero_is_off);
    EKV_TEST_RUN(test_other_intervals);
    EKV_TEST_RUN(test_prune);
    EKV_TEST_RUN(test_many_keys);
    EKV_TEST_DONE();
}
