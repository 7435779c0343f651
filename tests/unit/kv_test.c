/* kv_test: unit tests of the KV limits and validation rules (proto/ekv_kv).
 *
 * One test per row of KV-SPEC.md section 2 that ekv_kv.h covers, asserting the exact HTTP
 * status and message (and the REST error code where section 3 pins it), plus the accepting
 * side of every limit: the largest key, value and metadata pass, the smallest TTL and
 * expiration pass, and defaults apply when an option is absent. Time is injected: every
 * clock-dependent check runs at NOW. Keys must be UTF-8, and every message, whatever the
 * bytes it echoes, is text jansson accepts (else the reply could not be built). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_kv.h"
#include "ekv_test.h"

#define NOW INT64_C(1700000000)

/* Clears err to values no check produces, so a check that forgets a field is caught. */
#define RESET(err)                                                                                 \
    do {                                                                                           \
        memset(&(err), 0, sizeof(err));                                                            \
        (err).status = -1;                                                                         \
        (err).code = -1;                                                                           \
    } while (0)

/* Runs call (which fills err) and expects EKV_EINVAL with this status and exact message. */
#define EXPECT_REJECT(call, err, st, msg)                                                          \
    do {                                                                                           \
        RESET(err);                                                                                \
        CHECK_EQ((call), EKV_EINVAL);                                                              \
        CHECK_EQ((err).status, (st));                                                              \
        CHECK_STR((err).message, (msg));                                                           \
    } while (0)

/* ---- keys ---------------------------------------------------------------------------------- */

static void test_key_empty(void)
{
    ekv_kv_error_t err;
    EXPECT_REJECT(ekv_kv_check_key("", 0, &err), err, 400, "Key names must not be empty");
    /* The length decides, not a NUL terminator. */
    EXPECT_REJECT(ekv_kv_check_key("abc", 0, &err), err, 400, "Key names must not be empty");
}

static void test_key_dot_and_dotdot(void)
{
    ekv_kv_error_t err;
    EXPECT_REJECT(ekv_kv_check_key(".", 1, &err), err, 400,
                  "Illegal key name \".\". Please use a different name.");
    CHECK_EQ(err.code, EKV_REST_ILLEGAL_KEY);
    CHECK_EQ(err.code, 10042);
    EXPECT_REJECT(ekv_kv_check_key("..", 2, &err), err, 400,
                  "Illegal key name \"..\". Please use a different name.");
    CHECK_EQ(err.code, 10042);
    /* Only exactly "." and "..": a longer buffer cut to one byte is ".". */
    EXPECT_REJECT(ekv_kv_check_key(".abc", 1, &err), err, 400,
                  "Illegal key name \".\". Please use a different name.");
}

static void test_key_legal_names(void)
{
    ekv_kv_error_t err;
    static const char *ok[] = {"...", ".a", "a.", "./", "a", "/", "%2E", " "};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        RESET(err);
        CHECK_EQ(ekv_kv_check_key(ok[i], strlen(ok[i]), &err), EKV_OK);
    }
    CHECK_EQ(ekv_kv_check_key("a\0b", 3, &err), EKV_OK); /* binary bytes are fine */
    CHECK_EQ(ekv_kv_check_key("\0", 1, &err), EKV_OK);   /* so is a lone NUL */
    CHECK_EQ(ekv_kv_check_key(".\0", 2, &err), EKV_OK);  /* not ".." */
    CHECK_EQ(ekv_kv_check_key("\xe2\x9c\x93", 3, &err), EKV_OK);
}

static void test_key_too_long(void)
{
    ekv_kv_error_t err;
    size_t big = 100000;
    char *key = malloc(big);
    CHECK(key != NULL);
    memset(key, 'k', big);
    RESET(err);
    CHECK_EQ(ekv_kv_check_key(key, EKV_KV_MAX_KEY, &err), EKV_OK);
    CHECK_EQ(ekv_kv_check_key(key, 512, &err), EKV_OK);
    EXPECT_REJECT(ekv_kv_check_key(key, 513, &err), err, 414,
                  "UTF-8 encoded length of 513 exceeds key length limit of 512.");
    CHECK_EQ(err.code, EKV_REST_KEY_TOO_LONG);
    CHECK_EQ(err.code, 10030);
    EXPECT_REJECT(ekv_kv_check_key(key, big, &err), err, 414,
                  "UTF-8 encoded length of 100000 exceeds key length limit of 512.");
    CHECK_EQ(err.code, 10030);
    /* Bytes, not characters: 171 three-byte characters are 513 bytes. */
    for (size_t i = 0; i + 3 <= 513; i += 3)
        memcpy(key + i, "\xe2\x9c\x93", 3);
    EXPECT_REJECT(ekv_kv_check_key(key, 513, &err), err, 414,
                  "UTF-8 encoded length of 513 exceeds key length limit of 512.");
    free(key);
}

/* Decodes raw and expects `want` of want_len bytes, NUL-terminated. */
static void expect_decoded(const char *raw, size_t raw_len, const char *want, size_t want_len)
{
    ekv_kv_error_t err;
    RESET(err);
    char *out = NULL;
    size_t out_len = (size_t)-1;
    CHECK_EQ(ekv_kv_decode_key(raw, raw_len, &out, &out_len, &err), EKV_OK);
    CHECK(out != NULL);
    CHECK_MEM(out, out_len, want, want_len);
    CHECK_EQ(out[out_len], '\0');
    free(out);
}

static void test_key_url_decoding(void)
{
    expect_decoded("a%2Fb", 5, "a/b", 3);
    expect_decoded("a%2fb", 5, "a/b", 3);
    expect_decoded("plain-key", 9, "plain-key", 9);
    expect_decoded("", 0, "", 0);
    expect_decoded("%00", 3, "\0", 1); /* a one-byte key holding NUL */
    expect_decoded("a%00b", 5, "a\0b", 3);
    expect_decoded("%E2%9C%93", 9, "\xe2\x9c\x93", 3);
    expect_decoded("%25", 3, "%", 1);
    expect_decoded("%2525", 5, "%25", 3); /* decoded once only */
    expect_decoded("a+b", 3, "a+b", 3);   /* percent-decoding, not form decoding */
    expect_decoded("%20x%20", 7, " x ", 3);
    /* Only raw_len bytes count: the bad escape after them is never read. */
    expect_decoded("a%2Fb%zz", 5, "a/b", 3);
}

static void test_key_not_url_decodable(void)
{
    static const char *bad[] = {"%zz", "%4", "%", "abc%", "ab%2", "%g0", "%0g", "a%%20", "%-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_kv_error_t err;
        char *out = NULL;
        size_t out_len = 0;
        EXPECT_REJECT(ekv_kv_decode_key(bad[i], strlen(bad[i]), &out, &out_len, &err), err, 400,
                      "Could not URL-decode key name");
        free(out); /* nothing to free on failure, but never a leak either way */
    }
    /* "%2" followed by a byte beyond raw_len is still a cut escape. */
    ekv_kv_error_t err;
    char *out = NULL;
    size_t out_len = 0;
    EXPECT_REJECT(ekv_kv_decode_key("%2F", 2, &out, &out_len, &err), err, 400,
                  "Could not URL-decode key name");
    free(out);
}

/* Decoding comes first, then the key rules apply to the decoded bytes. */
static void test_key_decoded_then_checked(void)
{
    ekv_kv_error_t err;
    char *out = NULL;
    size_t out_len = 0;
    RESET(err);
    CHECK_EQ(ekv_kv_decode_key("%2E", 3, &out, &out_len, &err), EKV_OK);
    EXPECT_REJECT(ekv_kv_check_key(out, out_len, &err), err, 400,
                  "Illegal key name \".\". Please use a different name.");
    CHECK_EQ(err.code, 10042);
    free(out);
    RESET(err);
    CHECK_EQ(ekv_kv_decode_key("%00", 3, &out, &out_len, &err), EKV_OK);
    CHECK_EQ(out_len, 1);
    CHECK_EQ(ekv_kv_check_key(out, out_len, &err), EKV_OK);
    free(out);
    /* 513 encoded bytes that decode to 171 bytes are a legal key. */
    char raw[514];
    for (int i = 0; i < 171; i++)
        memcpy(raw + 3 * i, "%41", 3);
    CHECK_EQ(ekv_kv_decode_key(raw, 513, &out, &out_len, &err), EKV_OK);
    CHECK_EQ(out_len, 171);
    CHECK_EQ(ekv_kv_check_key(out, out_len, &err), EKV_OK);
    free(out);
}

/* ---- values and metadata ------------------------------------------------------------------- */

static void test_value_too_large(void)
{
    ekv_kv_error_t err;
    RESET(err);
    CHECK_EQ(ekv_kv_check_value(0, &err), EKV_OK); /* an empty value is legal */
    CHECK_EQ(ekv_kv_check_value(1, &err), EKV_OK);
    CHECK_EQ(ekv_kv_check_value(26214400, &err), EKV_OK);
    CHECK_EQ(ekv_kv_check_value(EKV_KV_MAX_VALUE, &err), EKV_OK);
    EXPECT_REJECT(ekv_kv_check_value(26214401, &err), err, 413,
                  "Value length of 26214401 exceeds limit of 26214400.");
    EXPECT_REJECT(ekv_kv_check_value(100000000, &err), err, 413,
                  "Value length of 100000000 exceeds limit of 26214400.");
}

static void test_metadata_too_large(void)
{
    ekv_kv_error_t err;
    char buf[1100];
    /* A JSON string of exactly n bytes: quote, n - 2 letters, quote. */
    for (size_t n = 1023; n <= 1025; n++) {
        buf[0] = '"';
        memset(buf + 1, 'm', n - 2);
        buf[n - 1] = '"';
        RESET(err);
        if (n <= 1024)
            CHECK_EQ(ekv_kv_check_metadata(buf, n, &err), EKV_OK);
        else
            EXPECT_REJECT(ekv_kv_check_metadata(buf, n, &err), err, 413,
                          "Metadata length of 1025 exceeds limit of 1024.");
    }
    memset(buf, ' ', sizeof buf);
    memcpy(buf, "{}", 2);
    EXPECT_REJECT(ekv_kv_check_metadata(buf, sizeof buf, &err), err, 413,
                  "Metadata length of 1100 exceeds limit of 1024.");
}

static void test_metadata_invalid_json(void)
{
    static const char *bad[] = {"{",    "{\"a\":}", "undefined", "{}x",       "{'a':1}",
                                "[1,]", "",         "nul",       "{\"a\":1}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_kv_error_t err;
        RESET(err);
        CHECK_EQ(ekv_kv_check_metadata(bad[i], strlen(bad[i]), &err), EKV_EINVAL);
        CHECK_EQ(err.status, 400);
        CHECK_EQ(err.code, EKV_REST_INVALID_METADATA);
        CHECK_EQ(err.code, 10047);
        CHECK_GT(strlen(err.message), 0);
    }
}

/* Metadata is any JSON value, not only an object; only n bytes are read. */
static void test_metadata_any_json_value(void)
{
    static const char *ok[] = {
        "{}",       "{\"a\":[1,2,{\"b\":null}]}", "[]", "null", "true", "42", "-1.5e3",
        "\"text\"", " {\"spaced\": true} "};
    ekv_kv_error_t err;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        RESET(err);
        CHECK_EQ(ekv_kv_check_metadata(ok[i], strlen(ok[i]), &err), EKV_OK);
    }
    static const char unterminated[] = {'{', '}', 'x', 'y', 'z'};
    CHECK_EQ(ekv_kv_check_metadata(unterminated, 2, &err), EKV_OK);
}

/* ---- expiration ---------------------------------------------------------------------------- */

static void test_expiration_ttl_not_positive_integer(void)
{
    static const char *bad[] = {"abc", "0", "-5", "1.5", "60abc", "-60", "1e3", "0x40"};
    char msg[200];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_kv_error_t err;
        int64_t exp = -1;
        snprintf(msg, sizeof msg,
                 "Invalid expiration_ttl of %s. Please specify integer greater than 0.", bad[i]);
        EXPECT_REJECT(ekv_kv_resolve_expiration(NULL, bad[i], NOW, &exp, &err), err, 400, msg);
    }
}

static void test_expiration_ttl_below_minimum(void)
{
    ekv_kv_error_t err;
    int64_t exp = -1;
    EXPECT_REJECT(ekv_kv_resolve_expiration(NULL, "59", NOW, &exp, &err), err, 400,
                  "Invalid expiration_ttl of 59. Expiration TTL must be at least 60.");
    EXPECT_REJECT(ekv_kv_resolve_expiration(NULL, "1", NOW, &exp, &err), err, 400,
                  "Invalid expiration_ttl of 1. Expiration TTL must be at least 60.");
}

static void test_expiration_ttl_accepted(void)
{
    ekv_kv_error_t err;
    int64_t exp = -1;
    RESET(err);
    CHECK_EQ(ekv_kv_resolve_expiration(NULL, "60", NOW, &exp, &err), EKV_OK);
    CHECK_EQ(exp, NOW + 60);
    CHECK_EQ(ekv_kv_resolve_expiration(NULL, "86400", NOW, &exp, &err), EKV_OK);
    CHECK_EQ(exp, NOW + 86400);
    /* Far beyond any clock: accepted as some future time, or refused as a 400; never an
     * overflow (the sanitizer build would catch one). */
    RESET(err);
    int rc = ekv_kv_resolve_expiration(NULL, "9223372036854775807", NOW, &exp, &err);
    if (rc == EKV_OK)
        CHECK_GT(exp, NOW);
    else
        CHECK_EQ(err.status, 400);
    rc = ekv_kv_resolve_expiration(NULL, "99999999999999999999999", NOW, &exp, &err);
    if (rc == EKV_OK)
        CHECK_GT(exp, NOW);
    else
        CHECK_EQ(err.status, 400);
}

/* Expirations follow the world's time scale as cacheTtl does: the time left shrinks. */
static void test_expiration_scaled(void)
{
    CHECK_EQ(ekv_kv_scale_expiration(0, NOW, 20), 0);                    /* none stays none */
    CHECK_EQ(ekv_kv_scale_expiration(NOW + 60, NOW, 1), NOW + 60);       /* real time: unchanged */
    CHECK_EQ(ekv_kv_scale_expiration(NOW + 60, NOW, 20), NOW + 3);       /* 60 simulated s = 3 s */
    CHECK_EQ(ekv_kv_scale_expiration(NOW + 90, NOW, 20), NOW + 5);       /* 4.5 s, rounded */
    CHECK_EQ(ekv_kv_scale_expiration(NOW + 89, NOW, 20), NOW + 4);       /* 4.45 s */
    CHECK_EQ(ekv_kv_scale_expiration(NOW + 60, NOW, 1000), NOW + 1);     /* at least a second */
    CHECK_EQ(ekv_kv_scale_expiration(NOW + 60, NOW, 0.5), NOW + 120);    /* a slower world */
    CHECK_EQ(ekv_kv_scale_expiration(INT64_MAX, NOW, 0.001), INT64_MAX); /* no overflow */
    CHECK_GT(ekv_kv_scale_expiration(INT64_MAX, NOW, 2), NOW);
    /* The scaled moment of a resolved expirationTtl. */
    ekv_kv_error_t err;
    int64_t exp = -1;
    RESET(err);
    CHECK_EQ(ekv_kv_resolve_expiration(NULL, "86400", NOW, &exp, &err), EKV_OK);
    CHECK_EQ(ekv_kv_scale_expiration(exp, NOW, 10), NOW + 8640);
}

/* Expects the expiration at_s (as its text) refused: "Invalid expiration of AT_S. " + why. */
static void expect_expiration_refused(int64_t at_s, const char *why)
{
    char raw[32], msg[256];
    ekv_kv_error_t err;
    int64_t exp = -1;
    snprintf(raw, sizeof raw, "%lld", (long long)at_s);
    snprintf(msg, sizeof msg, "Invalid expiration of %s. %s", raw, why);
    EXPECT_REJECT(ekv_kv_resolve_expiration(raw, NULL, NOW, &exp, &err), err, 400, msg);
}

static void test_expiration_not_in_future(void)
{
    int64_t raws[] = {NOW - 1, NOW, 0, 1};
    for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++)
        expect_expiration_refused(raws[i], "Please specify integer greater than the current "
                                           "number of seconds since the UNIX epoch.");
    /* Not a number at all: a 400 naming the raw text. */
    ekv_kv_error_t err;
    int64_t exp = -1;
    RESET(err);
    CHECK_EQ(ekv_kv_resolve_expiration("abc", NULL, NOW, &exp, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 400);
    CHECK(strncmp(err.message, "Invalid expiration of abc.", 26) == 0);
}

static void test_expiration_too_soon(void)
{
    int64_t raws[] = {NOW + 1, NOW + 30, NOW + 59};
    for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++)
        expect_expiration_refused(raws[i],
                                  "Expiration times must be at least 60 seconds in the future.");
}

static void test_expiration_accepted(void)
{
    ekv_kv_error_t err;
    int64_t exp = -1;
    char raw[32];
    RESET(err);
    snprintf(raw, sizeof raw, "%lld", (long long)(NOW + 60));
    CHECK_EQ(ekv_kv_resolve_expiration(raw, NULL, NOW, &exp, &err), EKV_OK);
    CHECK_EQ(exp, NOW + 60);
    snprintf(raw, sizeof raw, "%lld", (long long)(NOW + 31536000));
    CHECK_EQ(ekv_kv_resolve_expiration(raw, NULL, NOW, &exp, &err), EKV_OK);
    CHECK_EQ(exp, NOW + 31536000);
    /* Neither option: no expiration. */
    exp = -1;
    CHECK_EQ(ekv_kv_resolve_expiration(NULL, NULL, NOW, &exp, &err), EKV_OK);
    CHECK_EQ(exp, 0);
    /* The clock is the injected one, not the real one. */
    CHECK_EQ(ekv_kv_resolve_expiration("1000060", NULL, 1000000, &exp, &err), EKV_OK);
    CHECK_EQ(exp, 1000060);
}

static void test_expiration_ttl_wins(void)
{
    ekv_kv_error_t err;
    int64_t exp = -1;
    char raw[32];
    RESET(err);
    snprintf(raw, sizeof raw, "%lld", (long long)(NOW + 1000));
    CHECK_EQ(ekv_kv_resolve_expiration(raw, "120", NOW, &exp, &err), EKV_OK);
    CHECK_EQ(exp, NOW + 120);
    snprintf(raw, sizeof raw, "%lld", (long long)(NOW + 60));
    CHECK_EQ(ekv_kv_resolve_expiration(raw, "7200", NOW, &exp, &err), EKV_OK);
    CHECK_EQ(exp, NOW + 7200);
}

/* ---- read and list options ----------------------------------------------------------------- */

/* Expects raw (NULL: not given) taken by parse, with this minimum, as want. */
static void expect_parsed(int (*parse)(const char *, int64_t, int64_t *, ekv_kv_error_t *),
                          const char *raw, int64_t min, int64_t want)
{
    ekv_kv_error_t err;
    int64_t v = -1;
    RESET(err);
    CHECK_EQ(parse(raw, min, &v, &err), EKV_OK);
    CHECK_EQ(v, want);
}

static void test_cache_ttl(void)
{
    ekv_kv_error_t err;
    int64_t v = -1;
    EXPECT_REJECT(ekv_kv_parse_cache_ttl("29", EKV_KV_MIN_CACHE_TTL, &v, &err), err, 400,
                  "Invalid cache_ttl of 29. Cache TTL must be at least 30.");
    EXPECT_REJECT(ekv_kv_parse_cache_ttl("0", 30, &v, &err), err, 400,
                  "Invalid cache_ttl of 0. Cache TTL must be at least 30.");
    EXPECT_REJECT(ekv_kv_parse_cache_ttl("59", 60, &v, &err), err, 400,
                  "Invalid cache_ttl of 59. Cache TTL must be at least 60.");
    CHECK_EQ(EKV_KV_CACHE_TTL, 60);
    expect_parsed(ekv_kv_parse_cache_ttl, NULL, 30, EKV_KV_CACHE_TTL);
    expect_parsed(ekv_kv_parse_cache_ttl, "30", 30, 30);
    expect_parsed(ekv_kv_parse_cache_ttl, "3600", 30, 3600);
    expect_parsed(ekv_kv_parse_cache_ttl, "31536000", 30, 31536000); /* no real maximum */
    RESET(err);
    CHECK_EQ(ekv_kv_parse_cache_ttl("abc", 30, &v, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 400);
}

static void test_list_limit_below_one(void)
{
    ekv_kv_error_t err;
    int64_t v = -1;
    EXPECT_REJECT(ekv_kv_parse_list_limit("0", 1, &v, &err), err, 400,
                  "Invalid key_count_limit of 0. Please specify an integer greater than 0.");
    EXPECT_REJECT(ekv_kv_parse_list_limit("-1", 1, &v, &err), err, 400,
                  "Invalid key_count_limit of -1. Please specify an integer greater than 0.");
}

static void test_list_limit_above_max(void)
{
    ekv_kv_error_t err;
    int64_t v = -1;
    EXPECT_REJECT(ekv_kv_parse_list_limit("1001", 1, &v, &err), err, 400,
                  "Invalid key_count_limit of 1001. Please specify an integer less than 1000.");
    EXPECT_REJECT(ekv_kv_parse_list_limit("5000", 1, &v, &err), err, 400,
                  "Invalid key_count_limit of 5000. Please specify an integer less than 1000.");
}

static void test_list_limit_accepted(void)
{
    expect_parsed(ekv_kv_parse_list_limit, NULL, 1, 1000);
    expect_parsed(ekv_kv_parse_list_limit, "1000", 1, 1000);
    expect_parsed(ekv_kv_parse_list_limit, "1", 1, 1);
    expect_parsed(ekv_kv_parse_list_limit, "10", 1, 10);
    ekv_kv_error_t err;
    int64_t v = -1;
    RESET(err);
    CHECK_EQ(ekv_kv_parse_list_limit("abc", 1, &v, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 400);
}

/* The REST API lists 10..1000 keys a page. */
static void test_list_limit_rest_minimum(void)
{
    ekv_kv_error_t err;
    int64_t v = -1;
    RESET(err);
    CHECK_EQ(ekv_kv_parse_list_limit("9", 10, &v, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 400);
    CHECK(strncmp(err.message, "Invalid key_count_limit of 9.", 29) == 0);
    expect_parsed(ekv_kv_parse_list_limit, "10", 10, 10);
    expect_parsed(ekv_kv_parse_list_limit, "1000", 10, 1000);
    expect_parsed(ekv_kv_parse_list_limit, NULL, 10, 1000);
    EXPECT_REJECT(ekv_kv_parse_list_limit("1001", 10, &v, &err), err, 400,
                  "Invalid key_count_limit of 1001. Please specify an integer less than 1000.");
}

/* ---- list cursors -------------------------------------------------------------------------- */

static void expect_cursor_roundtrip(const char *key, size_t len)
{
    char *c = ekv_kv_cursor_encode(key, len);
    CHECK(c != NULL);
    CHECK_GT(strlen(c), 0);
    /* Opaque but safe in a query string and a JSON string as is. */
    for (const char *p = c; *p; p++)
        CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~", *p));
    ekv_kv_error_t err;
    RESET(err);
    char *back = NULL;
    size_t back_len = (size_t)-1;
    CHECK_EQ(ekv_kv_cursor_decode(c, &back, &back_len, &err), EKV_OK);
    CHECK(back != NULL);
    CHECK_MEM(back, back_len, key, len);
    free(back);
    free(c);
}

static void test_cursor_roundtrip(void)
{
    expect_cursor_roundtrip("", 0);
    expect_cursor_roundtrip("a", 1);
    expect_cursor_roundtrip("ab", 2);
    expect_cursor_roundtrip("abc", 3);
    expect_cursor_roundtrip("user/42", 7);
    expect_cursor_roundtrip("a\0b\xff\xfe/+=?&", 10);
    char key[512];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (char)(i * 7 + 1);
    expect_cursor_roundtrip(key, sizeof key);
    /* Different keys, different cursors. */
    char *a = ekv_kv_cursor_encode("key-a", 5), *b = ekv_kv_cursor_encode("key-b", 5);
    CHECK(strcmp(a, b) != 0);
    free(a);
    free(b);
}

static void test_cursor_invalid(void)
{
    /* Garbage, and well-formed base64url of "hello" (no version tag) and "2:key" (another
     * version): none of them made by ekv_kv_cursor_encode. */
    static const char *bad[] = {"",     "!!!!",       "abc def", "%2F",    "a",
                                "====", "cursor?x=1", "aGVsbG8", "MjprZXk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_kv_error_t err;
        char *key = NULL;
        size_t len = 0;
        EXPECT_REJECT(ekv_kv_cursor_decode(bad[i], &key, &len, &err), err, 400, "Invalid cursor");
        CHECK_EQ(err.code, 10041);
        free(key);
    }
    char *huge = malloc(5001);
    CHECK(huge != NULL);
    memset(huge, 'A', 5000);
    huge[5000] = '\0';
    ekv_kv_error_t err;
    char *key = NULL;
    size_t len = 0;
    EXPECT_REJECT(ekv_kv_cursor_decode(huge, &key, &len, &err), err, 400, "Invalid cursor");
    CHECK_EQ(err.code, 10041);
    free(key);
    free(huge);
}

static void test_prefix_too_long(void)
{
    ekv_kv_error_t err;
    RESET(err);
    CHECK_EQ(ekv_kv_check_prefix(0, &err), EKV_OK);
    CHECK_EQ(ekv_kv_check_prefix(512, &err), EKV_OK);
    RESET(err);
    CHECK_EQ(ekv_kv_check_prefix(513, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 414);
    CHECK_GT(strlen(err.message), 0);
}

/* ---- bulk get ------------------------------------------------------------------------------ */

static void test_bulk_get_too_many_keys(void)
{
    ekv_kv_error_t err;
    EXPECT_REJECT(ekv_kv_check_bulk_get(101, NULL, &err), err, 400,
                  "You can request a maximum of 100 keys");
    EXPECT_REJECT(ekv_kv_check_bulk_get(10000, "json", &err), err, 400,
                  "You can request a maximum of 100 keys");
}

static void test_bulk_get_no_keys(void)
{
    ekv_kv_error_t err;
    EXPECT_REJECT(ekv_kv_check_bulk_get(0, NULL, &err), err, 400,
                  "You must request a minimum of 1 key");
    EXPECT_REJECT(ekv_kv_check_bulk_get(0, "text", &err), err, 400,
                  "You must request a minimum of 1 key");
}

static void test_bulk_get_bad_type(void)
{
    ekv_kv_error_t err;
    EXPECT_REJECT(ekv_kv_check_bulk_get(1, "xml", &err), err, 400,
                  "\"xml\" is not a valid type. Use \"json\" or \"text\"");
    EXPECT_REJECT(ekv_kv_check_bulk_get(5, "arrayBuffer", &err), err, 400,
                  "\"arrayBuffer\" is not a valid type. Use \"json\" or \"text\"");
    EXPECT_REJECT(ekv_kv_check_bulk_get(5, "stream", &err), err, 400,
                  "\"stream\" is not a valid type. Use \"json\" or \"text\"");
}

static void test_bulk_get_accepted(void)
{
    ekv_kv_error_t err;
    RESET(err);
    CHECK_EQ(ekv_kv_check_bulk_get(1, NULL, &err), EKV_OK);
    CHECK_EQ(ekv_kv_check_bulk_get(100, NULL, &err), EKV_OK);
    CHECK_EQ(ekv_kv_check_bulk_get(50, "text", &err), EKV_OK);
    CHECK_EQ(ekv_kv_check_bulk_get(50, "json", &err), EKV_OK);
}

/* ---- conditions that are not checks of one input -------------------------------------------- */

/* Each condition's status, message and REST API code (-1: the API gives it none to match). */
static void test_err_conditions(void)
{
    static const struct {
        void (*set)(ekv_kv_error_t *err);
        int status;
        const char *message;
        int code;
    } conds[] = {
        {ekv_kv_err_not_found, 404, "Not Found", EKV_REST_KEY_NOT_FOUND},
        {ekv_kv_err_rate_limited, 429, "Too Many Requests", 10022},
        {ekv_kv_err_bad_cursor, 400, "Invalid cursor", 10041},
        {ekv_kv_err_bulk_not_json, 400,
         "At least one of the requested keys corresponds to a non-json value", -1},
        {ekv_kv_err_bulk_too_large, 413, "Total size of request exceeds the limit of 25MB", -1},
    };
    CHECK_EQ(EKV_REST_KEY_NOT_FOUND, 10009);
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
        ekv_kv_error_t err;
        RESET(err);
        conds[i].set(&err);
        CHECK_EQ(err.status, conds[i].status);
        CHECK_STR(err.message, conds[i].message);
        if (conds[i].code >= 0)
            CHECK_EQ(err.code, conds[i].code);
    }
}

static void test_err_set(void)
{
    ekv_kv_error_t err;
    RESET(err);
    ekv_kv_err_set(&err, 503, "origin %s after %d ms", "unavailable", 250);
    CHECK_EQ(err.status, 503);
    CHECK_EQ(err.code, EKV_REST_INVALID_REQUEST);
    CHECK_STR(err.message, "origin unavailable after 250 ms");
    /* A message longer than the buffer is cut, still NUL-terminated. */
    char long_text[2000];
    memset(long_text, 'z', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    ekv_kv_err_set(&err, 400, "%s", long_text);
    CHECK_EQ(err.status, 400);
    CHECK_EQ(strlen(err.message), sizeof err.message - 1);
}

/* ---- UTF-8: keys, echoed text, lossy reading ----------------------------------------------- */

/* Whether jansson takes msg as a JSON string: an independent verdict on its UTF-8. */
static int json_text(const char *msg)
{
    json_t *j = json_string(msg);
    json_decref(j);
    return j != NULL;
}

static void test_key_not_utf8(void)
{
    static const struct {
        const char *key;
        size_t len;
    } bad[] = {
        {"\xff", 1},             /* never a byte of UTF-8 */
        {"k\xff", 2},            /* the repro's %FF after valid text */
        {"\xc3", 1},             /* a character cut short */
        {"\xe2\x9c", 2},         /* likewise, three-byte */
        {"\xc0\xaf", 2},         /* overlong "/" */
        {"\xe0\x80\xaf", 3},     /* overlong, three bytes */
        {"\xed\xa0\x80", 3},     /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", 4}, /* past U+10FFFF */
        {"\x80", 1},             /* a lone continuation byte */
        {"a\0\xfe", 3},          /* after a NUL, still checked */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_kv_error_t err;
        EXPECT_REJECT(ekv_kv_check_key(bad[i].key, bad[i].len, &err), err, 400,
                      "Could not URL-decode key name");
        CHECK_EQ(err.code, EKV_REST_INVALID_REQUEST);
        CHECK_EQ(ekv_kv_utf8_valid(bad[i].key, bad[i].len), 0);
    }
    static const char *ok[] = {
        "\xc3\xa9",     "\xef\xbf\xbf", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf",
        "\xee\x80\x80", "\x7f"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ekv_kv_error_t err;
        RESET(err);
        CHECK_EQ(ekv_kv_check_key(ok[i], strlen(ok[i]), &err), EKV_OK);
        CHECK_EQ(ekv_kv_utf8_valid(ok[i], strlen(ok[i])), 1);
    }
    /* The length rule comes first: 513 bytes of 0xff are too long, not undecodable. */
    char big[513];
    memset(big, 0xff, sizeof big);
    ekv_kv_error_t err;
    EXPECT_REJECT(ekv_kv_check_key(big, sizeof big, &err), err, 414,
                  "UTF-8 encoded length of 513 exceeds key length limit of 512.");
    /* As the PoP and the coordinator see it: a decoded %FF. */
    char *out = NULL;
    size_t out_len = 0;
    RESET(err);
    CHECK_EQ(ekv_kv_decode_key("a%FFb", 5, &out, &out_len, &err), EKV_OK);
    EXPECT_REJECT(ekv_kv_check_key(out, out_len, &err), err, 400, "Could not URL-decode key name");
    free(out);
}

static void expect_lossy(const char *in, size_t len, const char *want)
{
    size_t n = (size_t)-1;
    char *out = ekv_kv_utf8_lossy(in, len, &n);
    CHECK_MEM(out, n, want, strlen(want));
    CHECK_EQ(out[n], '\0');
    free(out);
}

/* One U+FFFD per maximal ill-formed subpart, as TextDecoder (Encoding Standard) gives. */
static void test_utf8_lossy(void)
{
#define FFFD "\xef\xbf\xbd"
    expect_lossy("plain \xc3\xa9t\xc3\xa9", 11, "plain \xc3\xa9t\xc3\xa9");
    expect_lossy("", 0, "");
    expect_lossy("\xff", 1, FFFD);
    expect_lossy("a\xe2\x9c"
                 "A",
                 4, "a" FFFD "A");                   /* a cut character is one U+FFFD */
    expect_lossy("\xf0\x9f\x98", 3, FFFD);           /* even cut at the end */
    expect_lossy("\xc0\xaf", 2, FFFD FFFD);          /* overlong: both bytes */
    expect_lossy("\xed\xa0\x80", 3, FFFD FFFD FFFD); /* surrogate: all three */
    expect_lossy("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
    expect_lossy("\x80\x80", 2, FFFD FFFD);
    expect_lossy("\xe2\x9c\x93\xff\xe2\x9c\x93", 7, "\xe2\x9c\x93" FFFD "\xe2\x9c\x93");
    size_t n;
    char *out = ekv_kv_utf8_lossy("a\0b", 3, &n); /* NUL is text */
    CHECK_MEM(out, n, "a\0b", 3);
    free(out);
}

/* A value echoed into a message is cut on a character boundary: 126 ASCII bytes and then
 * two-byte characters leave no room for the next one in the 127 bytes kept. */
static void test_echo_cut_on_character(void)
{
    char raw[300];
    memset(raw, 'x', 126);
    for (int i = 0; i < 80; i++)
        memcpy(raw + 126 + 2 * i, "\xc3\xa9", 2);
    raw[286] = '\0';
    ekv_kv_error_t err;
    int64_t exp;
    char want[400];
    snprintf(want, sizeof want,
             "Invalid expiration_ttl of %.126s. Please specify integer greater than 0.", raw);
    EXPECT_REJECT(ekv_kv_resolve_expiration(NULL, raw, NOW, &exp, &err), err, 400, want);
    CHECK(json_text(err.message));
    /* Shifted by one byte, the cut falls after a whole character. */
    snprintf(want, sizeof want,
             "Invalid expiration of %.127s. Please specify integer greater than the current "
             "number of seconds since the UNIX epoch.",
             raw + 1);
    EXPECT_REJECT(ekv_kv_resolve_expiration(raw + 1, NULL, NOW, &exp, &err), err, 400, want);
    CHECK(json_text(err.message));
    /* Three- and four-byte characters at every offset of the cut. */
    for (int shift = 0; shift < 4; shift++) {
        char r[300];
        memset(r, 'y', (size_t)shift);
        for (int i = 0; i < 60; i++)
            memcpy(r + shift + 4 * i, i % 2 ? "\xf0\x9f\x98\x80" : "\xe2\x9c\x93z", 4);
        r[shift + 240] = '\0';
        int64_t v;
        RESET(err);
        CHECK_EQ(ekv_kv_parse_list_limit(r, 10, &v, &err), EKV_EINVAL);
        CHECK(json_text(err.message));
        RESET(err);
        CHECK_EQ(ekv_kv_parse_cache_ttl(r, 30, &v, &err), EKV_EINVAL);
        CHECK(json_text(err.message));
        RESET(err);
        CHECK_EQ(ekv_kv_check_bulk_get(1, r, &err), EKV_EINVAL);
        CHECK(json_text(err.message));
    }
}

/* Bytes that are not UTF-8 (a query's %FF, a bulk item's number text that num_text cut at 63
 * bytes inside a character) and control characters (a reason phrase must not be split) are
 * echoed as U+FFFD. */
static void test_echo_not_utf8(void)
{
    ekv_kv_error_t err;
    int64_t v;
    EXPECT_REJECT(ekv_kv_parse_list_limit("\xff", 10, &v, &err), err, 400,
                  "Invalid key_count_limit of " FFFD ". Please specify an integer greater than 9.");
    CHECK_EQ(err.code, EKV_REST_INVALID_LIMIT);
    EXPECT_REJECT(ekv_kv_resolve_expiration("\xff", NULL, NOW, &v, &err), err, 400,
                  "Invalid expiration of " FFFD ". Please specify integer greater than the "
                  "current number of seconds since the UNIX epoch.");
    EXPECT_REJECT(ekv_kv_resolve_expiration(NULL, "6\xc3", NOW, &v, &err), err, 400,
                  "Invalid expiration_ttl of 6" FFFD ". Please specify integer greater than 0.");
    char cut[64];
    memset(cut, '7', 62);
    cut[62] = '\xe2'; /* what num_text leaves of a 3-byte character at byte 62 */
    cut[63] = '\0';
    RESET(err);
    CHECK_EQ(ekv_kv_resolve_expiration(NULL, cut, NOW, &v, &err), EKV_EINVAL);
    CHECK(json_text(err.message));
    CHECK(strstr(err.message, "7777" FFFD ". Please") != NULL);
    EXPECT_REJECT(ekv_kv_parse_cache_ttl("1\r\nX-Injected: yes", 30, &v, &err), err, 400,
                  "Invalid cache_ttl of 1" FFFD FFFD "X-Injected: yes. Cache TTL must be at "
                  "least 30.");
    EXPECT_REJECT(ekv_kv_check_bulk_get(1, "te\x7fxt\x01", &err), err, 400,
                  "\"te" FFFD "xt" FFFD "\" is not a valid type. Use \"json\" or \"text\"");
    /* ekv_kv_err_set keeps the same promise for whatever it formats. */
    ekv_kv_err_set(&err, 400, "bad %s", "\xc3(\r");
    CHECK_STR(err.message, "bad " FFFD "(" FFFD);
    char many[2000];
    for (int i = 0; i < 666; i++)
        memcpy(many + 3 * i, "\xe2\x9c\x93", 3);
    many[1998] = '\0';
    ekv_kv_err_set(&err, 400, "%s", many); /* 639 bytes do not end on a character */
    CHECK_EQ(strlen(err.message), 213 * 3);
    CHECK(json_text(err.message));
#undef FFFD
}

/* jansson's error text quotes up to 20 bytes of the input near the error, control characters
 * included; the message built from it has none (it is a PoP's reason phrase). */
static void test_metadata_error_text_clean(void)
{
    static const char *bad[] = {"[\x01]", "[1,\x0b]", "\"a\x1f\"", "[\x7f]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_kv_error_t err;
        RESET(err);
        CHECK_EQ(ekv_kv_check_metadata(bad[i], strlen(bad[i]), &err), EKV_EINVAL);
        CHECK_EQ(err.code, EKV_REST_INVALID_METADATA);
        CHECK(json_text(err.message));
        for (const char *p = err.message; *p; p++)
            CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
    ekv_kv_error_t err;
    EXPECT_REJECT(ekv_kv_check_metadata("[\x01]", 3, &err), err, 400,
                  "Invalid metadata: invalid token near '\xef\xbf\xbd'");
}

int main(void)
{
    EKV_TEST_RUN(test_key_empty);
    EKV_TEST_RUN(test_key_dot_and_dotdot);
    EKV_TEST_RUN(test_key_legal_names);
    EKV_TEST_RUN(test_key_too_long);
    EKV_TEST_RUN(test_key_url_decoding);
    EKV_TEST_RUN(test_key_not_url_decodable);
    EKV_TEST_RUN(test_key_decoded_then_checked);
    EKV_TEST_RUN(test_value_too_large);
    EKV_TEST_RUN(test_metadata_too_large);
    EKV_TEST_RUN(test_metadata_invalid_json);
    EKV_TEST_RUN(test_metadata_any_json_value);
    EKV_TEST_RUN(test_expiration_ttl_not_positive_integer);
    EKV_TEST_RUN(test_expiration_ttl_below_minimum);
    EKV_TEST_RUN(test_expiration_ttl_accepted);
    EKV_TEST_RUN(test_expiration_scaled);
    EKV_TEST_RUN(test_expiration_not_in_future);
    EKV_TEST_RUN(test_expiration_too_soon);
    EKV_TEST_RUN(test_expiration_accepted);
    EKV_TEST_RUN(test_expiration_ttl_wins);
    EKV_TEST_RUN(test_cache_ttl);
    EKV_TEST_RUN(test_list_limit_below_one);
    EKV_TEST_RUN(test_list_limit_above_max);
    EKV_TEST_RUN(test_list_limit_accepted);
    EKV_TEST_RUN(test_list_limit_rest_minimum);
    EKV_TEST_RUN(test_cursor_roundtrip);
    EKV_TEST_RUN(test_cursor_invalid);
    EKV_TEST_RUN(test_prefix_too_long);
    EKV_TEST_RUN(test_bulk_get_too_many_keys);
    EKV_TEST_RUN(test_bulk_get_no_keys);
    EKV_TEST_RUN(test_bulk_get_bad_type);
    EKV_TEST_RUN(test_bulk_get_accepted);
    EKV_TEST_RUN(test_err_conditions);
    EKV_TEST_RUN(test_err_set);
    EKV_TEST_RUN(test_key_not_utf8);
    EKV_TEST_RUN(test_utf8_lossy);
    EKV_TEST_RUN(test_echo_cut_on_character);
    EKV_TEST_RUN(test_echo_not_utf8);
    EKV_TEST_RUN(test_metadata_error_text_clean);
    EKV_TEST_DONE();
}
