/* http_hot_test: the PoP's read path without stdio or evhttp's query list gives the same text
 * (node/http_text.h: node_text_u64 / node_text_i64).
 *
 * What a client would notice if these drifted: a hit's X-Edgekv-Version, X-Edgekv-Commit-Us
 * and Expiration headers written differently from the printf forms they always had. Every
 * value is compared with snprintf's: the edges of both types and a million pseudo-random ones
 * of every length. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    EKV_TEST_RUN(test_integers_as_printf);
    EKV_TEST_DONE();
}
