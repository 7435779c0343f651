/* http_text_test: unit tests of what the PoP lets into a reply (node/http_text.h).
 *
 * What a client of the PoP would notice: no reason phrase or header value ever holds CR, LF
 * or another control byte, so request text echoed there cannot inject a header; a metadata
 * header always parses back to exactly the stored JSON value, whatever whitespace or control
 * characters its stored text held; any stored bytes become a JSON string that jansson can
 * serialise (ill-formed UTF-8 as U+FFFD); and the request options the PoP parses (cacheTtl,
 * namespace id, list prefix) never hand on absurd or ill-formed values. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_kv.h"
#include "ekv_test.h"
#include "http_text.h"

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static void test_field_has_no_control_bytes(void)
{
    char out[64];
    node_text_field(out, sizeof out, "Invalid cache_ttl of 1\r\nSet-Cookie: a=b");
    CHECK_STR(out, "Invalid cache_ttl of 1  Set-Cookie: a=b");
    node_text_field(out, sizeof out, "tab\there, bell\a, del\x7f, nul-free");
    CHECK(!has_control(out));
    CHECK_STR(out, "tab here, bell , del , nul-free");
    /* Ill-formed UTF-8 reads as U+FFFD; well-formed passes unchanged. */
    node_text_field(out, sizeof out, "a\x80z \xc3\xa9");
    CHECK_STR(out, "a\xef\xbf\xbdz \xc3\xa9");
    /* Cut to the buffer, never inside a character: "é" (2 bytes) does not fit after "abcd". */
    char small[6];
    node_text_field(small, sizeof small, "abcd\xc3\xa9");
    CHECK_STR(small, "abcd");
    node_text_field(small, sizeof small, "abc\xc3\xa9");
    CHECK_STR(small, "abc\xc3\xa9");
    node_text_field(small, sizeof small, "");
    CHECK_STR(small, "");
}

/* The header value parses as JSON equal to what the stored text parses as. */
static void check_meta_round_trip(const char *stored, const char *want_header)
{
    char *h = node_text_meta_header(stored, strlen(stored));
    CHECK(!has_control(h));
    if (want_header)
        CHECK_STR(h, want_header);
    json_t *a = json_loads(stored, JSON_DECODE_ANY, NULL),
           *b = json_loads(h, JSON_DECODE_ANY, NULL);
    CHECK(a != NULL);
    CHECK(b != NULL);
    CHECK(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    free(h);
}

static void test_meta_header_carries_the_value(void)
{
    /* Clean text is sent as stored, spaces and all. */
    check_meta_round_trip("{\"a\": 1, \"b\": [true, null]}", "{\"a\": 1, \"b\": [true, null]}");
    check_meta_round_trip("{\"a\":\"x\\ny\"}", "{\"a\":\"x\\ny\"}"); /* an escape is text */
    /* Raw newlines, CRs and tabs between tokens: re-encoded compactly. */
    check_meta_round_trip("{\"a\":\r\n\t\"b\",\n\"c\":[1,\n2]}", "{\"a\":\"b\",\"c\":[1,2]}");
    check_meta_round_trip("\n\"just a string\"\n", "\"just a string\"");
    /* DEL is legal raw inside a JSON string, but not in a header: escaped. */
    check_meta_round_trip("{\"d\":\"x\x7fy\"}", "{\"d\":\"x\\u007fy\"}");
    check_meta_round_trip("{\"d\":\n\"x\x7fy\\u0001\"}", "{\"d\":\"x\\u007fy\\u0001\"}");
    /* Non-ASCII text stays itself. */
    check_meta_round_trip("{\"city\": \"Z\xc3\xbcrich\"}", "{\"city\": \"Z\xc3\xbcrich\"}");
    /* Not JSON at all (no writer today can store it): still a header, never a line break. */
    const char junk[] = "{\"a\":\n\xff}";
    char *h = node_text_meta_header(junk, sizeof junk - 1);
    CHECK(!has_control(h));
    CHECK_STR(h, "{\"a\": \xef\xbf\xbd}");
    free(h);
}

static void test_json_of_any_bytes(void)
{
    static const char odd[] = "\x80key\xff\xfe\0z";
    json_t *j = node_text_json(odd, sizeof odd - 1);
    CHECK(j != NULL);
    char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    CHECK(text != NULL); /* jansson refuses to dump ill-formed strings: this one is fixed up */
    CHECK_STR(text, "\"\xef\xbf\xbdkey\xef\xbf\xbd\xef\xbf\xbd\\u0000z\"");
    free(text);
    json_decref(j);
    j = node_text_json("", 0);
    CHECK_STR(json_string_value(j), "");
    json_decref(j);
}

static void test_cache_ttl_bounded(void)
{
    ekv_kv_error_t err;
    int64_t ttl = 0;
    CHECK_EQ(node_parse_cache_ttl(NULL, 30, &ttl, &err), EKV_OK);
    CHECK_EQ(ttl, 60);
    CHECK_EQ(node_parse_cache_ttl("45", 30, &ttl, &err), EKV_OK);
    CHECK_EQ(ttl, 45);
    CHECK_EQ(node_parse_cache_ttl("9223372036854775807", 30, &ttl, &err), EKV_OK);
    CHECK_EQ(ttl, NODE_MAX_CACHE_TTL);
    CHECK_EQ(node_parse_cache_ttl("100000000000000", 30, &ttl, &err), EKV_OK);
    CHECK_EQ(ttl, NODE_MAX_CACHE_TTL);
    /* ttl seconds as microseconds, divided by the smallest time scale (0.001), still fits. */
    CHECK((double)NODE_MAX_CACHE_TTL * 1e6 / 0.001 < 4e18);
    CHECK_EQ(node_parse_cache_ttl("9223372036854775808", 30, &ttl, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 400);
    CHECK_EQ(node_parse_cache_ttl("1e300", 30, &ttl, &err), EKV_EINVAL);
    CHECK_EQ(node_parse_cache_ttl("29", 30, &ttl, &err), EKV_EINVAL);
    CHECK_STR(err.message, "Invalid cache_ttl of 29. Cache TTL must be at least 30.");
}

static void test_namespace_and_prefix(void)
{
    CHECK(node_ns_ok(EKV_KV_DEFAULT_NS, strlen(EKV_KV_DEFAULT_NS)));
    CHECK(node_ns_ok("ns-1", 4));
    CHECK(!node_ns_ok("", 0));
    CHECK(!node_ns_ok("a b", 3));
    CHECK(!node_ns_ok("a\x01", 2));
    CHECK(!node_ns_ok("a\x80", 2));
    char long_ns[65];
    memset(long_ns, 'a', sizeof long_ns);
    CHECK(node_ns_ok(long_ns, 64));
    CHECK(!node_ns_ok(long_ns, 65));

    ekv_kv_error_t err;
    CHECK_EQ(node_check_prefix("", 0, &err), EKV_OK);
    CHECK_EQ(node_check_prefix("caf\xc3\xa9", 5, &err), EKV_OK);
    CHECK_EQ(node_check_prefix("\x80", 1, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 400);
    CHECK_STR(err.message, "Could not URL-decode key name");
    char long_prefix[513];
    memset(long_prefix, 'p', sizeof long_prefix);
    CHECK_EQ(node_check_prefix(long_prefix, 512, &err), EKV_OK);
    CHECK_EQ(node_check_prefix(long_prefix, 513, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 414);
}

int main(void)
{
    EKV_TEST_RUN(test_field_has_no_control_bytes);
    EKV_TEST_RUN(test_meta_header_carries_the_value);
    EKV_TEST_RUN(test_json_of_any_bytes);
    EKV_TEST_RUN(test_cache_ttl_bounded);
    EKV_TEST_RUN(test_namespace_and_prefix);
    EKV_TEST_DONE();
}
