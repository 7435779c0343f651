/* Base64 (RFC 4648) for the few places bytes travel as text: bulk values, list cursors, keys
 * that are not UTF-8, the CLI's bulk files. Pure functions; results are malloc'd (free them). */
#ifndef EKV_BASE64_H
#define EKV_BASE64_H

#include <stddef.h>

typedef enum {
    EKV_B64_STD, /* A-Z a-z 0-9 + /, padded with '=' to a multiple of four */
    EKV_B64_URL, /* A-Z a-z 0-9 - _, no padding (base64url, as list cursors use) */
} ekv_b64_kind_t;

/* The encoding of len bytes, NUL-terminated. */
char *ekv_b64_encode(const void *in, size_t len, ekv_b64_kind_t kind);

/* The n symbols of s decoded, in either alphabet, trailing '=' optional; *out_len bytes plus a
 * NUL that is not counted. NULL when a symbol is neither alphabet's or n leaves one symbol
 * over (no encoding ends so). Decoding does not check unused low bits: callers that need one
 * spelling per value compare a re-encoding. */
char *ekv_b64_decode(const char *s, size_t n, size_t *out_len);

#endif
