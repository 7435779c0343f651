/* http_hot_test: the PoP's read path without stdio or evhttp's query list gives the same text
 * (node/http_text.h: node_text_u64 / node_text_i64, node_query_ok / node_query_param).
 *
 * What a client would notice if these drifted: a hit's X-Edgekv-Version, X-Edgekv-Commit-Us
 * and Expiration headers written differently from the printf forms they always had; a query
 * string accepted that was answered 400 "Malformed query string" before (or the other way
 * round); a cache_ttl read differently (another parameter's value, not decoded, decoded
 * twice). Numbers are compared with snprintf's: the edges of both types and a million
 * pseudo-random ones of every length. Queries are compared with libevent's own
 * evhttp_parse_query_str and evhttp_find_header: by hand the cases that matter, then two
 * hundred thousand random strings over the characters that mean something to the parser. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ekv_test.h"
#include "http_text.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_u64(void) /* xorshift64: the same sequence every run */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check_u64(uint64_t v)
{
    char got[NODE_TEXT_INT_MAX + 8], want[32];
    memset(got, 'x', sizeof got);
    size_t n = node_text_u64(got, v);
    snprintf(want, sizeof want, "%" PRIu64, v);
    CHECK_STR(got, want);
    CHECK_EQ(n, strlen(want));
    CHECK_EQ(got[NODE_TEXT_INT_MAX], 'x'); /* nothing past the room promised */
}

static void check_i64(int64_t v)
{
    char got[NODE_TEXT_INT_MAX + 8], want[32];
    memset(got, 'x', sizeof got);
    size_t n = node_text_i64(got, v);
    snprintf(want, sizeof want, "%" PRId64, v);
    CHECK_STR(got, want);
    CHECK_EQ(n, strlen(want));
    CHECK_EQ(got[NODE_TEXT_INT_MAX], 'x');
}

static void test_integers_as_printf(void)
{
    const uint64_t edges[] = {0, 1, 9, 10, 99, 100, 999999, 1000000, UINT32_MAX,
                              (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX - 1,
                              UINT64_MAX};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        check_u64(edges[i]);
        check_i64((int64_t)edges[i]);
        check_i64(-(int64_t)(edges[i] & INT64_MAX));
    }
    check_i64(INT64_MIN);
    check_i64(INT64_MIN + 1);
    check_i64(-1);
    for (int i = 0; i < 1000000; i++) {
        uint64_t v = next_u64() >> (i % 64); /* every number of digits */
        check_u64(v);
        check_i64((int64_t)v);
    }
}

/* q read both ways: accepted alike, and each name's value alike. */
static void check_query(const char *q)
{
    static const char *names[] = {"cache_ttl", "urlencoded", "a", "A", "expiration", "ab"};
    struct evkeyvalq list;
    int theirs = evhttp_parse_query_str(q, &list) == 0;
    if (node_query_ok(q) != theirs)
        EKV_FAIL_("query \"%s\": node_query_ok %d, evhttp %d", q, !theirs, theirs);
    for (size_t i = 0; theirs && i < sizeof names / sizeof *names; i++) {
        char small[4], *alloc;
        const char *want = evhttp_find_header(&list, names[i]);
        const char *got = node_query_param(q, names[i], small, sizeof small, &alloc);
        if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
            EKV_FAIL_("query \"%s\", %s: \"%s\" vs evhttp's \"%s\"", q, names[i],
                      got ? got : "(none)", want ? want : "(none)");
        CHECK(!alloc || got == alloc);
        free(alloc);
    }
    evhttp_clear_headers(&list);
}

static void test_query_as_evhttp(void)
{
    static const char *cases[] = {
        "", "cache_ttl=60", "cache_ttl=", "cache_ttl", "=60", "&", "&&", "a=1&", "a=1&&",
        "&a=1", "a=1&&b=2", "a=1&b", "a==1", "a=1=2", "CACHE_TTL=61", "Cache_Ttl=62&cache_ttl=3",
        "cache_ttl=1&cache_ttl=2", "cache%5Fttl=5", "cache_ttl=%36%30", "cache_ttl=6%30%",
        "cache_ttl=%3", "cache_ttl=%zz1", "cache_ttl=+60+", "cache_ttl=%2B60", "cache_ttl=%00",
        "cache_ttl=%4a%4A", "urlencoded=true", "urlencoded=", "x=1&urlencoded=0&y=2",
        "a=%", "a=%%41", "a=%e9%", "cache_ttl=99999999999999999999999999999999999999999999"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_query(cases[i]);
    static const char alphabet[] = "aAb=&%+1F_e4";
    char q[24];
    for (int i = 0; i < 200000; i++) {
        size_t len = next_u64() % sizeof q;
        for (size_t k = 0; k < len; k++)
            q[k] = alphabet[next_u64() % (sizeof alphabet - 1)];
        q[len] = '\0';
        check_query(q);
    }
}

int main(void)
{
    EKV_TEST_RUN(test_integers_as_printf);
    EKV_TEST_RUN(test_query_as_evhttp);
    EKV_TEST_DONE();
}
