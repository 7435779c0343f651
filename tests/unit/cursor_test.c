/* cursor_test: unit tests of the list cursors (proto/ekv_kv: ekv_kv_cursor_encode/decode).
 *
 * A client pages through a key list by sending back the cursor it got, as a query parameter.
 * So a cursor must decode to exactly the key it was made from, for every key a namespace can
 * hold: 0 to 512 bytes, binary, multi-byte UTF-8, every length modulo 3 (each base64
 * remainder); it must be safe in a URL without escaping; and anything the encoder did not
 * make must be refused with 400 "Invalid cursor", REST code 10041. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_kv.h"
#include "ekv_test.h"

/* Encodes key, checks the text, decodes it, and expects the same bytes back. */
static void roundtrip(const char *key, size_t len)
{
    char *c = ekv_kv_cursor_encode(key, len);
    CHECK(c != NULL);
    size_t clen = strlen(c);
    CHECK_GT(clen, 0);
    CHECK_LE(clen, 2048);
    /* URL-safe as is: no '+', '/', '=' or anything a client would have to escape. */
    CHECK_EQ(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), clen);
    char *back = NULL;
    size_t blen = 99999;
    ekv_kv_error_t err;
    memset(&err, 0, sizeof err);
    if (ekv_kv_cursor_decode(c, &back, &blen, &err) != EKV_OK) {
        fprintf(stderr, "cursor of a %zu-byte key refused: %s\n", len, c);
        CHECK(0);
    }
    CHECK(back != NULL);
    CHECK_MEM(back, blen, key, len);
    /* Decoding is deterministic: the same cursor, the same key. */
    char *again = NULL;
    size_t alen = 0;
    CHECK_EQ(ekv_kv_cursor_decode(c, &again, &alen, &err), EKV_OK);
    CHECK_MEM(again, alen, key, len);
    free(again);
    free(back);
    free(c);
}

static void test_roundtrip_every_length(void)
{
    char key[512] = {0};
    /* Printable ASCII, then every byte value including NUL and 0xff. */
    for (size_t len = 0; len <= sizeof key; len++) {
        for (size_t i = 0; i < len; i++)
            key[i] = (char)('a' + (i * 7 + len) % 26);
        roundtrip(key, len);
        for (size_t i = 0; i < len; i++)
            key[i] = (char)(uint8_t)(i * 31 + len * 17);
        roundtrip(key, len);
    }
    memset(key, 0, sizeof key); /* all NUL */
    roundtrip(key, sizeof key);
    memset(key, 0xff, sizeof key);
    roundtrip(key, sizeof key);
}

static void test_roundtrip_utf8(void)
{
    /* 2, 3 and 4-byte sequences, filled to lengths that hit every base64 remainder. */
    static const char *pieces[] = {"\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x98\x80", "/",
                                   "\xe6\x97\xa5\xe6\x9c\xac"};
    char key[512];
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        size_t plen = strlen(pieces[p]), len = 0;
        while (len + plen <= sizeof key) {
            memcpy(key + len, pieces[p], plen);
            len += plen;
            roundtrip(key, len);
        }
    }
    roundtrip("user/42/\xc3\xa9t\xc3\xa9", 12);
    roundtrip("a?b&c=d#e%20f+g", 15); /* characters that mean something in a URL */
}

static void test_distinct_keys_distinct_cursors(void)
{
    /* Keys that differ in one byte, or only in length, give different cursors. */
    static const char *keys[] = {"", "a", "b", "aa", "a\0", "ab", "abc", "abd", "abc\0"};
    static const size_t lens[] = {0, 1, 1, 2, 2, 2, 3, 3, 4};
    enum { N = sizeof lens / sizeof lens[0] };
    char *c[N];
    for (size_t i = 0; i < N; i++)
        c[i] = ekv_kv_cursor_encode(keys[i], lens[i]);
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            if (strcmp(c[i], c[j]) == 0) {
                fprintf(stderr, "keys %zu and %zu share cursor %s\n", i, j, c[i]);
                CHECK(0);
            }
    for (size_t i = 0; i < N; i++)
        free(c[i]);
}

/* Expects decode to refuse text with 400 "Invalid cursor", code 10041. */
static void expect_invalid(const char *text)
{
    ekv_kv_error_t err;
    memset(&err, 0, sizeof err);
    err.status = -1;
    err.code = -1;
    char *key = NULL;
    size_t len = 0;
    int rc = ekv_kv_cursor_decode(text, &key, &len, &err);
    if (rc != EKV_EINVAL)
        fprintf(stderr, "cursor accepted: \"%.80s\"%s (%zu-byte key)\n", text,
                strlen(text) > 80 ? "..." : "", len);
    CHECK_EQ(rc, EKV_EINVAL);
    CHECK_EQ(err.status, 400);
    CHECK_STR(err.message, "Invalid cursor");
    CHECK_EQ(err.code, 10041);
    CHECK_EQ(err.code, EKV_REST_INVALID_CURSOR);
    free(key);
}

static void test_decode_rejects_garbage(void)
{
    expect_invalid("zzz");
    expect_invalid("!!!!");
    expect_invalid("");
    expect_invalid("a");     /* a lone base64 character is no byte at all */
    expect_invalid("MTo6A"); /* 5 characters: never a base64 length */
    expect_invalid("MTo=");  /* padding is not what the encoder makes */
    expect_invalid("MT o");
    expect_invalid("MTo\n");
    expect_invalid("MTo+"); /* standard base64 characters are not in the alphabet */
    expect_invalid("MTo/");
    expect_invalid("%4DTo");
    /* Valid base64url, but of text without the "1:" version tag. */
    expect_invalid("aGVsbG8"); /* "hello" */
    expect_invalid("a2V5");    /* "key" */
    expect_invalid("Mg");      /* "2" */
    expect_invalid("MQ");      /* "1": a tag cut short */
    expect_invalid("MjprZXk"); /* "2:key": another version */
    expect_invalid("OjE");     /* ":1" */
}

static void test_decode_rejects_overlong(void)
{
    /* The cursor of a 513-byte key (a key no namespace can hold). */
    char key[513];
    memset(key, 'k', sizeof key);
    char *c = ekv_kv_cursor_encode(key, sizeof key);
    expect_invalid(c);
    free(c);
    /* A longer one, and a huge run of valid characters. */
    char big[4000];
    memset(big, 'k', sizeof big);
    c = ekv_kv_cursor_encode(big, sizeof big);
    expect_invalid(c);
    free(c);
    char *huge = malloc(100001);
    CHECK(huge != NULL);
    memset(huge, 'A', 100000);
    huge[100000] = '\0';
    expect_invalid(huge);
    memcpy(huge, "MTo", 3); /* starts like a real cursor */
    expect_invalid(huge);
    free(huge);
    /* The longest real cursor still decodes (512 bytes: the limit itself). */
    c = ekv_kv_cursor_encode(key, 512);
    char *back = NULL;
    size_t len = 0;
    ekv_kv_error_t err;
    CHECK_EQ(ekv_kv_cursor_decode(c, &back, &len, &err), EKV_OK);
    CHECK_EQ(len, 512);
    free(back);
    free(c);
}

static void test_decode_rejects_what_encode_did_not_make(void)
{
    /* ekv_kv.h: decode rejects anything it did not make. Base64 text whose last character
     * carries bits the encoder always leaves zero is such a text: "MTo" is the cursor of the
     * empty key, "MTp" (same bytes, a stray low bit) is not a cursor the server ever gave. */
    char *c = ekv_kv_cursor_encode("", 0);
    CHECK_STR(c, "MTo");
    free(c);
    expect_invalid("MTp");
    expect_invalid("MTr");
    c = ekv_kv_cursor_encode("a", 1); /* "MTph": 3 bytes, 4 characters, no spare bits */
    CHECK_STR(c, "MTph");
    free(c);
    c = ekv_kv_cursor_encode("ab", 2); /* "MTphYg": 4 bytes, 6 characters, 4 spare bits */
    CHECK_STR(c, "MTphYg");
    free(c);
    expect_invalid("MTphYh");
    expect_invalid("MTphYv");
}

int main(void)
{
    EKV_TEST_RUN(test_roundtrip_every_length);
    EKV_TEST_RUN(test_roundtrip_utf8);
    EKV_TEST_RUN(test_distinct_keys_distinct_cursors);
    EKV_TEST_RUN(test_decode_rejects_garbage);
    EKV_TEST_RUN(test_decode_rejects_overlong);
    EKV_TEST_RUN(test_decode_rejects_what_encode_did_not_make);
    EKV_TEST_DONE();
}
