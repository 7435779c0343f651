/* ekv_kv: the KV limits and validation rules, with KV-SPEC.md's exact statuses and messages.
 *
 * Integer options arrive as raw query strings; they are parsed strictly (optional sign,
 * digits only, no overflow) so that "1.5" or "60s" is rejected rather than truncated, and the
 * raw text is echoed back in the message as Workers KV does.
 *
 * Every message ends up in a JSON reply and, on a PoP, in the HTTP reason phrase, so a message
 * is always well-formed UTF-8 without control characters: echoed text is clipped on a
 * character boundary, and each ill-formed byte sequence or control character in it becomes
 * U+FFFD. Keys must be UTF-8 (KV-SPEC.md section 1). */
#include "ekv_kv.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_base64.h"
#include "ekv_err.h"
#include "ekv_mem.h"

static int fail(ekv_kv_error_t *err, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- UTF-8 -------------------------------------------------------------------------------- */

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Length of the well-formed character at s (n > 0 bytes left; RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0 when there is none; *bad is then the length of the
 * maximal ill-formed subpart there (at least 1), which a decoder replaces by one U+FFFD. */
static size_t utf8_char(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, lo = c == 0xe0 ? 0xa0 : lo, hi = c == 0xed ? 0x9f : hi;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, lo = c == 0xf0 ? 0x90 : lo, hi = c == 0xf4 ? 0x8f : hi;
    else
        len = 1; /* 80..c1, f5..ff never start a character */
    size_t i = 1;
    for (; i < len && i < n && s[i] >= lo && s[i] <= hi; i++)
        lo = 0x80, hi = 0xbf; /* only the second byte has a narrower range */
    if (len > 1 && i == len)
        return len;
    *bad = i;
    return 0;
}

int ekv_kv_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t bad, k;
    for (size_t i = 0; i < len; i += k)
        if ((k = utf8_char(p + i, len - i, &bad)) == 0)
            return 0;
    return 1;
}

char *ekv_kv_utf8_lossy(const char *s, size_t len, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    char *out = ekv_malloc(len * 3 + 1), *o = out; /* at worst each byte becomes U+FFFD */
    size_t bad, k;
    for (size_t i = 0; i < len; i += k) {
        if ((k = utf8_char(p + i, len - i, &bad)) != 0) {
            memcpy(o, s + i, k);
            o += k;
        } else {
            memcpy(o, REPLACEMENT, 3);
            o += 3;
            k = bad;
        }
    }
    *o = '\0';
    *out_len = (size_t)(o - out);
    return out;
}

/* Copies len bytes of src into dst (size > 0) as message text: ill-formed sequences and
 * control characters (which would split a reason phrase) become U+FFFD, and the copy stops
 * before the first character that does not fit, so it never ends inside a character. */
static void echo_text(char *dst, size_t size, const char *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t n = 0, bad, k;
    for (size_t i = 0; i < len; i += k) {
        const char *c = src + i;
        size_t clen = k = utf8_char(p + i, len - i, &bad);
        if (k == 0 || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
            c = REPLACEMENT;
            clen = 3;
            k = k ? k : bad;
        }
        if (n + clen >= size)
            break;
        memcpy(dst + n, c, clen);
        n += clen;
    }
    dst[n] = '\0';
}

static void vfail(ekv_kv_error_t *err, int status, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void vfail(ekv_kv_error_t *err, int status, int code, const char *fmt, va_list ap)
{
    char text[2 * sizeof err->message];
    int n = vsnprintf(text, sizeof text, fmt, ap);
    err->status = status;
    err->code = code;
    echo_text(err->message, sizeof err->message, text,
              n < 0                     ? 0
              : (size_t)n < sizeof text ? (size_t)n
                                        : sizeof text - 1);
}

static int fail(ekv_kv_error_t *err, int status, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, status, code, fmt, ap);
    va_end(ap);
    return EKV_EINVAL;
}

/* Parses a whole decimal integer; returns 0 on success. */
static int parse_int(const char *raw, int64_t *out)
{
    if (!raw || !*raw)
        return -1;
    const char *p = raw;
    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(raw, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* A raw user string shortened for echoing it in a message: clipped on a character boundary
 * to fit buf, ill-formed bytes and control characters replaced (see echo_text). */
static const char *clip(const char *raw, char *buf, size_t size)
{
    echo_text(buf, size, raw, strlen(raw));
    return buf;
}

int ekv_kv_check_key(const char *key, size_t len, ekv_kv_error_t *err)
{
    if (ekv_kv_check_key_stored(key, len, err) != EKV_OK)
        return EKV_EINVAL;
    /* Keys are UTF-8. A key arrives percent-encoded, and a client's URL decoder
     * (decodeURIComponent) fails on escapes that are not UTF-8, so such a key gets the
     * not-URL-decodable error of KV-SPEC.md section 2. */
    if (!ekv_kv_utf8_valid(key, len))
        return fail(err, 400, EKV_REST_INVALID_REQUEST, "Could not URL-decode key name");
    return EKV_OK;
}

int ekv_kv_check_key_stored(const char *key, size_t len, ekv_kv_error_t *err)
{
    if (len == 0)
        return fail(err, 400, EKV_REST_ILLEGAL_KEY, "Key names must not be empty");
    if ((len == 1 && key[0] == '.') || (len == 2 && key[0] == '.' && key[1] == '.'))
        return fail(err, 400, EKV_REST_ILLEGAL_KEY,
                    "Illegal key name \"%.*s\". Please use a different name.", (int)len, key);
    if (len > EKV_KV_MAX_KEY)
        return fail(err, 414, EKV_REST_KEY_TOO_LONG,
                    "UTF-8 encoded length of %zu exceeds key length limit of %d.", len,
                    EKV_KV_MAX_KEY);
    return EKV_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ekv_kv_decode_key(const char *raw, size_t raw_len, char **out, size_t *out_len,
                      ekv_kv_error_t *err)
{
    char *dst = ekv_malloc(raw_len + 1);
    size_t n = 0;
    for (size_t i = 0; i < raw_len; i++) {
        if (raw[i] != '%') {
            dst[n++] = raw[i];
            continue;
        }
        int hi = i + 2 < raw_len ? hexval(raw[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(raw[i + 2]) : -1;
        if (lo < 0) {
            free(dst);
            return fail(err, 400, EKV_REST_INVALID_REQUEST, "Could not URL-decode key name");
        }
        dst[n++] = (char)(hi << 4 | lo);
        i += 2;
    }
    dst[n] = '\0';
    *out = dst;
    *out_len = n;
    return EKV_OK;
}

int ekv_kv_check_value(size_t n, ekv_kv_error_t *err)
{
    if (n > EKV_KV_MAX_VALUE)
        return fail(err, 413, EKV_REST_PAYLOAD_TOO_LARGE,
                    "Value length of %zu exceeds limit of %d.", n, EKV_KV_MAX_VALUE);
    return EKV_OK;
}

int ekv_kv_check_metadata(const char *json, size_t n, ekv_kv_error_t *err)
{
    if (n > EKV_KV_MAX_METADATA)
        return fail(err, 413, EKV_REST_INVALID_METADATA,
                    "Metadata length of %zu exceeds limit of %d.", n, EKV_KV_MAX_METADATA);
    json_error_t jerr;
    json_t *v = json_loadb(json, n, JSON_DECODE_ANY, &jerr);
    if (!v)
        return fail(err, 400, EKV_REST_INVALID_METADATA, "Invalid metadata: %s", jerr.text);
    json_decref(v);
    return EKV_OK;
}

static int resolve_ttl(const char *raw, int64_t now_s, int64_t *expiration, ekv_kv_error_t *err)
{
    char buf[128];
    int64_t ttl;
    if (parse_int(raw, &ttl) != 0 || ttl <= 0)
        return fail(err, 400, EKV_REST_INVALID_EXPIRATION_TTL,
                    "Invalid expiration_ttl of %s. Please specify integer greater than 0.",
                    clip(raw, buf, sizeof buf));
    if (ttl < EKV_KV_MIN_TTL)
        return fail(err, 400, EKV_REST_INVALID_EXPIRATION_TTL,
                    "Invalid expiration_ttl of %s. Expiration TTL must be at least %d.",
                    clip(raw, buf, sizeof buf), EKV_KV_MIN_TTL);
    if (ttl > INT64_MAX - now_s)
        ttl = INT64_MAX - now_s;
    *expiration = now_s + ttl;
    return EKV_OK;
}

static int resolve_abs(const char *raw, int64_t now_s, int64_t *expiration, ekv_kv_error_t *err)
{
    char buf[128];
    int64_t exp;
    if (parse_int(raw, &exp) != 0 || exp <= now_s)
        return fail(err, 400, EKV_REST_INVALID_EXPIRATION,
                    "Invalid expiration of %s. Please specify integer greater than the current "
                    "number of seconds since the UNIX epoch.",
                    clip(raw, buf, sizeof buf));
    if (exp < now_s + EKV_KV_MIN_TTL)
        return fail(err, 400, EKV_REST_INVALID_EXPIRATION,
                    "Invalid expiration of %s. Expiration times must be at least %d seconds in "
                    "the future.",
                    clip(raw, buf, sizeof buf), EKV_KV_MIN_TTL);
    *expiration = exp;
    return EKV_OK;
}

int ekv_kv_resolve_expiration(const char *raw_expiration, const char *raw_ttl, int64_t now_s,
                              int64_t *expiration, ekv_kv_error_t *err)
{
    *expiration = 0;
    if (raw_ttl)
        return resolve_ttl(raw_ttl, now_s, expiration, err);
    if (raw_expiration)
        return resolve_abs(raw_expiration, now_s, expiration, err);
    return EKV_OK;
}

int64_t ekv_kv_scale_expiration(int64_t expiration, int64_t now_s, double time_scale)
{
    if (expiration <= 0 || expiration <= now_s || !(time_scale > 0) || time_scale == 1.0)
        return expiration;
    double left = (double)(expiration - now_s) / time_scale + 0.5; /* rounded by the cast */
    if (left >= (double)(INT64_MAX - now_s))
        return INT64_MAX;
    return now_s + (left < 1 ? 1 : (int64_t)left);
}

int ekv_kv_parse_cache_ttl(const char *raw, int64_t min, int64_t *out, ekv_kv_error_t *err)
{
    char buf[128];
    int64_t v;
    if (!raw) {
        *out = EKV_KV_CACHE_TTL > min ? EKV_KV_CACHE_TTL : min;
        return EKV_OK;
    }
    if (parse_int(raw, &v) != 0 || v < min)
        return fail(err, 400, EKV_REST_INVALID_REQUEST,
                    "Invalid cache_ttl of %s. Cache TTL must be at least %lld.",
                    clip(raw, buf, sizeof buf), (long long)min);
    *out = v;
    return EKV_OK;
}

int ekv_kv_parse_list_limit(const char *raw, int64_t min, int64_t *out, ekv_kv_error_t *err)
{
    char buf[128];
    int64_t v;
    if (!raw) {
        *out = EKV_KV_LIST_LIMIT;
        return EKV_OK;
    }
    if (parse_int(raw, &v) != 0 || v < min)
        return fail(err, 400, EKV_REST_INVALID_LIMIT,
                    "Invalid key_count_limit of %s. Please specify an integer greater than "
                    "%lld.",
                    clip(raw, buf, sizeof buf), (long long)(min - 1));
    if (v > EKV_KV_LIST_LIMIT)
        return fail(err, 400, EKV_REST_INVALID_LIMIT,
                    "Invalid key_count_limit of %s. Please specify an integer less than %d.",
                    clip(raw, buf, sizeof buf), EKV_KV_LIST_LIMIT);
    *out = v;
    return EKV_OK;
}

int ekv_kv_check_prefix(size_t n, ekv_kv_error_t *err)
{
    if (n > EKV_KV_MAX_PREFIX)
        return fail(err, 414, EKV_REST_KEY_TOO_LONG,
                    "UTF-8 encoded length of %zu exceeds key length limit of %d.", n,
                    EKV_KV_MAX_PREFIX);
    return EKV_OK;
}

int ekv_kv_check_bulk_get(size_t nkeys, const char *type, ekv_kv_error_t *err)
{
    char buf[128];
    if (nkeys > EKV_KV_BULK_GET_MAX)
        return fail(err, 400, EKV_REST_INVALID_REQUEST, "You can request a maximum of %d keys",
                    EKV_KV_BULK_GET_MAX);
    if (nkeys == 0)
        return fail(err, 400, EKV_REST_INVALID_REQUEST, "You must request a minimum of 1 key");
    if (type && strcmp(type, "text") != 0 && strcmp(type, "json") != 0)
        return fail(err, 400, EKV_REST_INVALID_REQUEST,
                    "\"%s\" is not a valid type. Use \"json\" or \"text\"",
                    clip(type, buf, sizeof buf));
    return EKV_OK;
}

void ekv_kv_err_not_found(ekv_kv_error_t *err)
{
    fail(err, 404, EKV_REST_KEY_NOT_FOUND, "Not Found");
}

void ekv_kv_err_rate_limited(ekv_kv_error_t *err)
{
    fail(err, 429, EKV_REST_TOO_MANY_REQUESTS, "Too Many Requests");
}

void ekv_kv_err_bad_cursor(ekv_kv_error_t *err)
{
    fail(err, 400, EKV_REST_INVALID_CURSOR, "Invalid cursor");
}

void ekv_kv_err_bulk_not_json(ekv_kv_error_t *err)
{
    fail(err, 400, EKV_REST_INVALID_REQUEST,
         "At least one of the requested keys corresponds to a non-json value");
}

void ekv_kv_err_bulk_too_large(ekv_kv_error_t *err)
{
    fail(err, 413, EKV_REST_PAYLOAD_TOO_LARGE, "Total size of request exceeds the limit of 25MB");
}

void ekv_kv_err_set(ekv_kv_error_t *err, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, status, EKV_REST_INVALID_REQUEST, fmt, ap);
    va_end(ap);
}

/* ---- list cursors: base64url("1:" + key), no padding ------------------------------------- */

char *ekv_kv_cursor_encode(const char *key, size_t len)
{
    size_t n = len + 2;
    char *in = ekv_malloc(n);
    in[0] = '1';
    in[1] = ':';
    if (len)
        memcpy(in + 2, key, len);
    char *out = ekv_b64_encode(in, n, EKV_B64_URL);
    free(in);
    return out;
}

int ekv_kv_cursor_decode(const char *cursor, char **key, size_t *len, ekv_kv_error_t *err)
{
    size_t n = strlen(cursor), m;
    char *out = n <= 2048 ? ekv_b64_decode(cursor, n, &m) : NULL;
    if (!out)
        goto bad;
    if (m < 2 || out[0] != '1' || out[1] != ':' || m - 2 > EKV_KV_MAX_KEY) {
        free(out);
        goto bad;
    }
    /* Only the encoder's own spelling is accepted (the URL alphabet, no padding, no stray low
     * bits in the last symbol). */
    char *again = ekv_kv_cursor_encode(out + 2, m - 2);
    int canonical = strcmp(again, cursor) == 0;
    free(again);
    if (!canonical) {
        free(out);
        goto bad;
    }
    *len = m - 2;
    *key = ekv_memdup(out + 2, m - 2);
    free(out);
    return EKV_OK;
bad:
    ekv_kv_err_bad_cursor(err);
    return EKV_EINVAL;
}
