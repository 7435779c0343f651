/* multipart_test: unit tests of the multipart/form-data parser (coordinator/multipart).
 *
 * The REST API accepts a value write as a form: wrangler and curl -F send a `value` part and
 * a `metadata` part, the official SDK sends metadata[k] fields. These tests feed the parser
 * bodies shaped exactly like those clients send (a body recorded from curl 7.88 -F, with a
 * file part carrying filename and Content-Type), values that contain CRLF, "--" and a prefix
 * of the delimiter, an empty value, and the broken bodies a client or an attacker may send.
 * Every body is copied into a buffer of exactly its size, so the sanitizer build catches any
 * read past the end. Broken input must be EKV_EMALFORMED, never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_test.h"
#include "multipart.h"

#define CURL_BOUNDARY "------------------------3231ce43bd8bd8c5"

/* Parses len bytes of text from an exact-size heap copy; returns the result code. */
static int parse(const char *boundary, const char *text, size_t len, ekv_part_t *parts, size_t max,
                 size_t *n, char **copy)
{
    *copy = calloc(1, len ? len : 1);
    CHECK(*copy != NULL);
    if (len)
        memcpy(*copy, text, len);
    return ekv_multipart_parse(boundary, *copy, len, parts, max, n);
}

static void expect_part(const ekv_part_t *p, const char *name, const char *data, size_t len)
{
    CHECK_MEM(p->name, p->name_len, name, strlen(name));
    CHECK_MEM(p->data, p->len, data, len);
}

/* Parts must point into the body. */
static void expect_inside(const ekv_part_t *parts, size_t n, const char *body, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(parts[i].name >= body && parts[i].name + parts[i].name_len <= body + len);
        CHECK(parts[i].data >= body && parts[i].data + parts[i].len <= body + len);
    }
}

static int boundary_of(const char *ct, char *buf, size_t size)
{
    memset(buf, 'X', size);
    return ekv_multipart_boundary(ct, buf, size);
}

/* ---- boundary ------------------------------------------------------------------------------ */

static void test_boundary_accepted(void)
{
    char b[80];
    CHECK_EQ(boundary_of("multipart/form-data; boundary=" CURL_BOUNDARY, b, sizeof b), EKV_OK);
    CHECK_STR(b, CURL_BOUNDARY);
    CHECK_EQ(boundary_of("multipart/form-data; boundary=\"quoted;with spaces\"", b, sizeof b),
             EKV_OK);
    CHECK_STR(b, "quoted;with spaces");
    CHECK_EQ(boundary_of("multipart/form-data; charset=utf-8; boundary=abc", b, sizeof b), EKV_OK);
    CHECK_STR(b, "abc");
    CHECK_EQ(boundary_of("multipart/form-data; boundary=abc; charset=utf-8", b, sizeof b), EKV_OK);
    CHECK_STR(b, "abc");
    CHECK_EQ(boundary_of("multipart/form-data;boundary=abc", b, sizeof b), EKV_OK);
    CHECK_STR(b, "abc");
    /* Media types and parameter names are case-insensitive; the boundary value is not. */
    CHECK_EQ(boundary_of("Multipart/Form-Data; BOUNDARY=AbC", b, sizeof b), EKV_OK);
    CHECK_STR(b, "AbC");
    /* The undici/SDK style boundary. */
    CHECK_EQ(
        boundary_of("multipart/form-data; boundary=----formdata-undici-0123456789", b, sizeof b),
        EKV_OK);
    CHECK_STR(b, "----formdata-undici-0123456789");
    /* 70 characters is the RFC 2046 maximum, and fits. */
    char ct[160], seventy[71];
    memset(seventy, 'b', 70);
    seventy[70] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", seventy);
    CHECK_EQ(boundary_of(ct, b, sizeof b), EKV_OK);
    CHECK_STR(b, seventy);
}

static void test_boundary_rejected(void)
{
    static const char *bad[] = {
        "multipart/form-data",                /* no boundary */
        "multipart/form-data; charset=utf-8", /* still none */
        "multipart/form-data; boundary=",     /* empty */
        "multipart/form-data; boundary=\"\"", /* empty, quoted */
        "multipart/form-data; boundary=\"unterminated",
        "application/json; boundary=abc", /* not multipart */
        "text/plain",
        "application/octet-stream",
        "",
        "multipart/mixed; boundary=abc", /* not a form */
    };
    char b[80];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (boundary_of(bad[i], b, sizeof b) != EKV_EMALFORMED) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
            CHECK(0);
        }
    }
    CHECK_EQ(boundary_of(NULL, b, sizeof b), EKV_EMALFORMED); /* no Content-Type at all */
    /* 71 characters: over the RFC limit. */
    char ct[160], big[72];
    memset(big, 'b', 71);
    big[71] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", big);
    CHECK_EQ(boundary_of(ct, b, sizeof b), EKV_EMALFORMED);
    /* A buffer too small for the boundary is an error, not an overflow. */
    char small[4];
    CHECK_EQ(boundary_of("multipart/form-data; boundary=abcdef", small, sizeof small),
             EKV_EMALFORMED);
    CHECK_EQ(boundary_of("multipart/form-data; boundary=abc", small, sizeof small), EKV_OK);
    CHECK_STR(small, "abc");
}

/* ---- well-formed bodies -------------------------------------------------------------------- */

/* The body curl 7.88 sent for:
 *   curl -X PUT -F 'value=@vfile;type=application/octet-stream' -F 'metadata={"a":1}'
 *        -F 'metadata[k]=v'
 * where vfile holds "a\r\n--b". */
static const char curl_body[] =
    "--" CURL_BOUNDARY "\r\n"
    "Content-Disposition: form-data; name=\"value\"; filename=\"vfile\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "a\r\n--b\r\n"
    "--" CURL_BOUNDARY "\r\n"
    "Content-Disposition: form-data; name=\"metadata\"\r\n"
    "\r\n"
    "{\"a\":1}\r\n"
    "--" CURL_BOUNDARY "\r\n"
    "Content-Disposition: form-data; name=\"metadata[k]\"\r\n"
    "\r\n"
    "v\r\n"
    "--" CURL_BOUNDARY "--\r\n";

static void test_parse_curl_form(void)
{
    ekv_part_t parts[8];
    size_t n = 99;
    char *body;
    CHECK_EQ(parse(CURL_BOUNDARY, curl_body, sizeof curl_body - 1, parts, 8, &n, &body), EKV_OK);
    CHECK_EQ(n, 3);
    expect_part(&parts[0], "value", "a\r\n--b", 6); /* the name, not the filename */
    expect_part(&parts[1], "metadata", "{\"a\":1}", 7);
    expect_part(&parts[2], "metadata[k]", "v", 1);
    expect_inside(parts, n, body, sizeof curl_body - 1);
    free(body);

    /* Without the final CRLF after the closing delimiter, and with an epilogue. */
    char text[1024];
    size_t len = sizeof curl_body - 3;
    memcpy(text, curl_body, len);
    CHECK_EQ(parse(CURL_BOUNDARY, text, len, parts, 8, &n, &body), EKV_OK);
    CHECK_EQ(n, 3);
    free(body);
    len = (size_t)snprintf(text, sizeof text, "%sthis epilogue is ignored\r\n", curl_body);
    CHECK_EQ(parse(CURL_BOUNDARY, text, len, parts, 8, &n, &body), EKV_OK);
    CHECK_EQ(n, 3);
    expect_part(&parts[2], "metadata[k]", "v", 1);
    free(body);
}

static void test_parse_preamble_and_header_order(void)
{
    /* A preamble before the first delimiter; headers in another order and case; the
     * filename parameter before the name. */
    static const char text[] =
        "This is a preamble.\r\n"
        "--XyZ\r\n"
        "content-type: text/plain\r\n"
        "CONTENT-DISPOSITION: form-data; filename=\"f.txt\"; name=\"value\"\r\n"
        "\r\n"
        "hello\r\n"
        "--XyZ--\r\n";
    ekv_part_t parts[4];
    size_t n;
    char *body;
    CHECK_EQ(parse("XyZ", text, sizeof text - 1, parts, 4, &n, &body), EKV_OK);
    CHECK_EQ(n, 1);
    expect_part(&parts[0], "value", "hello", 5);
    free(body);
}

static void test_parse_binary_value(void)
{
    /* A value with NUL bytes, bare CR and LF, CRLF, "--", "\r\n--" followed by a prefix of
     * the boundary, and the boundary itself without the leading CRLF-dashes. */
    static const char value[] = "\0\r\n\r\n--\r\n--Bound\r\n--Boundar\n--Boundary1\r-\rBoundary1x";
    const size_t vlen = sizeof value - 1;
    char text[512];
    size_t len = 0;
    len += (size_t)sprintf(text + len, "--Boundary1\r\nContent-Disposition: form-data; "
                                       "name=\"value\"\r\n\r\n");
    memcpy(text + len, value, vlen);
    len += vlen;
    len += (size_t)sprintf(text + len, "\r\n--Boundary1\r\nContent-Disposition: form-data; "
                                       "name=\"metadata\"\r\n\r\nnull\r\n--Boundary1--\r\n");
    ekv_part_t parts[4];
    size_t n;
    char *body;
    CHECK_EQ(parse("Boundary1", text, len, parts, 4, &n, &body), EKV_OK);
    CHECK_EQ(n, 2);
    expect_part(&parts[0], "value", value, vlen);
    expect_part(&parts[1], "metadata", "null", 4);
    expect_inside(parts, n, body, len);
    free(body);
}

static void test_parse_empty_value(void)
{
    static const char text[] =
        "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\n"
        "\r\n--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n"
        "{}\r\n--b--";
    ekv_part_t parts[4];
    size_t n;
    char *body;
    CHECK_EQ(parse("b", text, sizeof text - 1, parts, 4, &n, &body), EKV_OK);
    CHECK_EQ(n, 2);
    expect_part(&parts[0], "value", "", 0);
    expect_part(&parts[1], "metadata", "{}", 2);
    free(body);
    /* A form with no parts at all is well formed (the caller then finds no value). */
    CHECK_EQ(parse("b", "--b--\r\n", 7, parts, 4, &n, &body), EKV_OK);
    CHECK_EQ(n, 0);
    free(body);
}

static void test_parse_sdk_metadata_fields(void)
{
    /* The official SDK turns metadata {"color": "red", "n": 1} into metadata[k] fields. */
    static const char text[] = "------formdata-undici-0123456789\r\n"
                               "Content-Disposition: form-data; name=\"value\"\r\n\r\n"
                               "sdk value\r\n"
                               "------formdata-undici-0123456789\r\n"
                               "Content-Disposition: form-data; name=\"metadata[color]\"\r\n\r\n"
                               "red\r\n"
                               "------formdata-undici-0123456789\r\n"
                               "Content-Disposition: form-data; name=\"metadata[n]\"\r\n\r\n"
                               "1\r\n"
                               "------formdata-undici-0123456789--\r\n";
    ekv_part_t parts[8];
    size_t n;
    char *body;
    CHECK_EQ(parse("----formdata-undici-0123456789", text, sizeof text - 1, parts, 8, &n, &body),
             EKV_OK);
    CHECK_EQ(n, 3);
    expect_part(&parts[0], "value", "sdk value", 9);
    expect_part(&parts[1], "metadata[color]", "red", 3);
    expect_part(&parts[2], "metadata[n]", "1", 1);
    free(body);
}

static void test_parse_exactly_max_parts(void)
{
    char text[4096];
    size_t len = 0;
    for (int i = 0; i < 4; i++)
        len += (size_t)sprintf(
            text + len, "--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n%d\r\n", i, i);
    len += (size_t)sprintf(text + len, "--b--\r\n");
    ekv_part_t parts[4];
    size_t n;
    char *body;
    CHECK_EQ(parse("b", text, len, parts, 4, &n, &body), EKV_OK);
    CHECK_EQ(n, 4);
    expect_part(&parts[3], "f3", "3", 1);
    free(body);
    /* One part more than max: refused rather than written past parts[]. */
    ekv_part_t three[3];
    CHECK_EQ(parse("b", text, len, three, 3, &n, &body), EKV_EMALFORMED);
    free(body);
    /* The declared maximum works with the default array size. */
    ekv_part_t *many = calloc(EKV_MULTIPART_MAX_PARTS + 1, sizeof *many);
    CHECK(many != NULL);
    size_t cap = (size_t)(EKV_MULTIPART_MAX_PARTS + 1) * 64 + 16;
    char *big = malloc(cap);
    CHECK(big != NULL);
    len = 0;
    for (int i = 0; i <= EKV_MULTIPART_MAX_PARTS; i++)
        len += (size_t)snprintf(big + len, cap - len,
                                "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n");
    len += (size_t)snprintf(big + len, cap - len, "--b--");
    CHECK_EQ(parse("b", big, len, many, EKV_MULTIPART_MAX_PARTS, &n, &body), EKV_EMALFORMED);
    free(body);
    CHECK_EQ(parse("b", big, len, many, EKV_MULTIPART_MAX_PARTS + 1, &n, &body), EKV_OK);
    CHECK_EQ(n, EKV_MULTIPART_MAX_PARTS + 1);
    free(body);
    free(big);
    free(many);
}

/* ---- broken bodies ------------------------------------------------------------------------- */

static void expect_malformed(const char *boundary, const char *text, size_t len)
{
    ekv_part_t parts[8];
    size_t n = 0;
    char *body;
    int rc = parse(boundary, text, len, parts, 8, &n, &body);
    if (rc != EKV_EMALFORMED)
        fprintf(stderr, "accepted (%d, %zu parts): %.*s\n", rc, n, (int)len, text);
    CHECK_EQ(rc, EKV_EMALFORMED);
    free(body);
}

#define MALFORMED(b, lit) expect_malformed((b), (lit), sizeof(lit) - 1)

static void test_malformed(void)
{
    /* No closing delimiter. */
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv");
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n");
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--b");
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--b-");
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--b\r\n");
    /* Headers that never end. */
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\"\r\nv\r\n--b--\r\n");
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\"");
    /* A part without a name: no Content-Disposition, no name parameter, an open quote, or
     * only a filename. */
    MALFORMED("b", "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--\r\n");
    MALFORMED("b", "--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--\r\n");
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\r\n\r\nv\r\n--b--\r\n");
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nv\r\n--b--\r\n");
    MALFORMED("b", "--b\r\n\r\nv\r\n--b--\r\n");
    /* No delimiter at all, another boundary, an empty body. */
    MALFORMED("b", "just a raw value");
    MALFORMED("other", "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--b--");
    MALFORMED("b", "");
    /* A delimiter followed by neither CRLF nor "--". */
    MALFORMED("b", "--bX\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--b--");
    /* A second part that breaks off. */
    MALFORMED("b", "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n"
                   "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{}");
    /* More parts than max (8 here). */
    char text[2048];
    size_t len = 0;
    for (int i = 0; i < 9; i++)
        len += (size_t)sprintf(
            text + len, "--b\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nx\r\n", i);
    len += (size_t)sprintf(text + len, "--b--\r\n");
    expect_malformed("b", text, len);
    /* A boundary too long for any delimiter: an error, not an overflow. */
    char longb[200];
    memset(longb, 'b', sizeof longb - 1);
    longb[sizeof longb - 1] = '\0';
    expect_malformed(longb, text, len);
    MALFORMED("", "--\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n----");
}

static void test_every_truncation(void)
{
    /* Every strict prefix of the curl body that stops before the closing "--" is malformed;
     * none is read past its end (the sanitizer build checks that). */
    const size_t full = sizeof curl_body - 1;
    const size_t closing = full - 4; /* where the final "--\r\n" starts */
    for (size_t len = 0; len < full; len++) {
        ekv_part_t parts[8];
        size_t n;
        char *body;
        int rc = parse(CURL_BOUNDARY, curl_body, len, parts, 8, &n, &body);
        if (len < closing + 2) {
            if (rc != EKV_EMALFORMED)
                fprintf(stderr, "prefix of %zu bytes accepted\n", len);
            CHECK_EQ(rc, EKV_EMALFORMED);
        } else {
            CHECK_EQ(rc, EKV_OK);
            CHECK_EQ(n, 3);
            expect_inside(parts, n, body, len);
        }
        free(body);
    }
    /* And every single-byte corruption gives an answer without a crash. */
    char *copy = malloc(full);
    CHECK(copy != NULL);
    for (size_t i = 0; i < full; i++) {
        memcpy(copy, curl_body, full);
        copy[i] = (char)(copy[i] ^ 0x5a);
        ekv_part_t parts[8];
        size_t n = 0;
        int rc = ekv_multipart_parse(CURL_BOUNDARY, copy, full, parts, 8, &n);
        CHECK(rc == EKV_OK || rc == EKV_EMALFORMED);
        if (rc == EKV_OK)
            expect_inside(parts, n, copy, full);
    }
    free(copy);
}

int main(void)
{
    EKV_TEST_RUN(test_boundary_accepted);
    EKV_TEST_RUN(test_boundary_rejected);
    EKV_TEST_RUN(test_parse_curl_form);
    EKV_TEST_RUN(test_parse_preamble_and_header_order);
    EKV_TEST_RUN(test_parse_binary_value);
    EKV_TEST_RUN(test_parse_empty_value);
    EKV_TEST_RUN(test_parse_sdk_metadata_fields);
    EKV_TEST_RUN(test_parse_exactly_max_parts);
    EKV_TEST_RUN(test_malformed);
    EKV_TEST_RUN(test_every_truncation);
    EKV_TEST_DONE();
}
