/* key_fuzz: libFuzzer target of the URL key decoder (proto/ekv_kv, ekv_kv_decode_key).
 *
 * Both HTTP surfaces keep the path percent-encoded until this one function decodes the key:
 * the coordinator's /accounts/.../values/<key> and /metadata/<key> (coordinator/rest.c) and a
 * PoP's /<key> and /ns/<id>/<key> (node/http.c). The input is such a raw key, copied into a
 * buffer of exactly its size with no NUL after it, so reading past raw_len is caught by the
 * sanitizers. The decoder must agree with an independent reference: it accepts exactly when
 * every '%' is followed by two hex digits, then gives the reference's bytes plus a NUL, and
 * otherwise refuses with 400 "Could not URL-decode key name" (code 10029) and no output.
 * The input read as a decoded key must also survive a round trip through two encoders (every
 * reserved byte escaped in upper or lower case, or only '%' escaped), and the decoded key
 * must get the KV key rules' verdict (empty, ".", "..", over 512 bytes). A broken promise
 * aborts, which libFuzzer reports with the input as reproducer. replay_main.c feeds the
 * committed corpus (corpus/key) to the same entry point under ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_kv.h"

static void fail(const char *what)
{
    fprintf(stderr, "key_fuzz: %s\n", what);
    abort();
}

static int hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reference decoder into out (at least len bytes); returns the length or -1. */
static long reference(const unsigned char *raw, size_t len, unsigned char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] != '%') {
            out[n++] = raw[i];
        } else if (len - i >= 3 && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
            out[n++] = (unsigned char)(hex(raw[i + 1]) << 4 | hex(raw[i + 2]));
            i += 2;
        } else {
            return -1;
        }
    }
    return (long)n;
}

/* Percent-encodes key: all but RFC 3986 unreserved bytes (all_reserved), or only '%'. */
static char *encode(const uint8_t *key, size_t len, int all_reserved, int lower, size_t *out_len)
{
    const char *digits = lower ? "0123456789abcdef" : "0123456789ABCDEF";
    char *out = malloc(3 * len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = key[i];
        int plain = all_reserved ? (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                       (c >= '0' && c <= '9') || strchr("-._~", c) != NULL
                                 : c != '%';
        if (plain && c) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = digits[c >> 4];
            out[n++] = digits[c & 15];
        }
    }
    *out_len = n;
    return out;
}

/* RFC 3629 written out independently of the code under test: shortest forms only, no
 * surrogates, nothing above U+10FFFF. */
static int utf8_ok(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                                                      : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || i + len > n)
            return 0;
        unsigned long cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        static const unsigned long least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static void check_verdict(const char *key, size_t len)
{
    ekv_kv_error_t err;
    memset(&err, 0, sizeof err);
    int rc = ekv_kv_check_key(key, len, &err);
    int illegal =
        len == 0 || (len == 1 && key[0] == '.') || (len == 2 && key[0] == '.' && key[1] == '.');
    int want = illegal                                      ? 400
               : len > EKV_KV_MAX_KEY                       ? 414
               : !utf8_ok((const unsigned char *)key, len) ? 400
                                                            : 0;
    if ((rc == EKV_OK) != (want == 0) || (want && err.status != want))
        fail("key rules' verdict is wrong for a decoded key");
}

static void fuzz_decode(const uint8_t *raw, size_t len)
{
    unsigned char *want = malloc(len ? len : 1);
    long want_len = reference(raw, len, want);
    char *out = NULL;
    size_t out_len = (size_t)-1;
    ekv_kv_error_t err;
    memset(&err, 0, sizeof err);
    int rc = ekv_kv_decode_key((const char *)raw, len, &out, &out_len, &err);
    if (want_len < 0) {
        if (rc != EKV_EINVAL || out || err.status != 400 || err.code != EKV_REST_INVALID_REQUEST ||
            strcmp(err.message, "Could not URL-decode key name") != 0)
            fail("a bad escape is not refused with 400 Could not URL-decode key name");
    } else {
        if (rc != EKV_OK || !out)
            fail("a well-formed key is refused");
        if (out_len != (size_t)want_len || memcmp(out, want, out_len) != 0)
            fail("decoded bytes differ from the reference");
        if (out[out_len] != '\0')
            fail("decoded key without a trailing NUL");
        check_verdict(out, out_len);
    }
    free(out);
    free(want);
}

static void round_trip(const uint8_t *key, size_t len, int all_reserved, int lower)
{
    size_t enc_len;
    char *enc = encode(key, len, all_reserved, lower, &enc_len);
    char *exact = malloc(enc_len ? enc_len : 1); /* no NUL after it */
    memcpy(exact, enc, enc_len);
    char *out = NULL;
    size_t out_len = 0;
    ekv_kv_error_t err;
    if (ekv_kv_decode_key(exact, enc_len, &out, &out_len, &err) != EKV_OK)
        fail("an encoded key is refused");
    if (out_len != len || (len && memcmp(out, key, len) != 0) || out[out_len] != '\0')
        fail("encode then decode does not give the key back");
    free(out);
    free(exact);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *raw = malloc(size ? size : 1);
    if (size)
        memcpy(raw, data, size);
    fuzz_decode(raw, size);
    round_trip(raw, size, 1, size % 2);
    round_trip(raw, size, 0, 0);
    free(raw);
    return 0;
}
