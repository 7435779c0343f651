/* multipart: a parser for multipart/form-data request bodies (logic only; fuzzed).
 *
 * The REST API takes a value write either as a raw body or as a form with a `value` part and
 * an optional `metadata` part; the official SDK sends object metadata as `metadata[k]` fields.
 * Parts point into the caller's body (borrowed, valid while the body is); nothing is copied.
 * Anything not well formed (no boundary, a missing delimiter, a part without a name, too
 * many parts) is EKV_EMALFORMED. */
#ifndef EKV_MULTIPART_H
#define EKV_MULTIPART_H

#include <stddef.h>

#define EKV_MULTIPART_MAX_PARTS 256

typedef struct {
    const char *name; /* form field name (not NUL-terminated) */
    size_t name_len;
    const char *data; /* part body */
    size_t len;
} ekv_part_t;

/* Extracts the boundary of a Content-Type header into buf; EKV_OK or EKV_EMALFORMED. */
int ekv_multipart_boundary(const char *content_type, char *buf, size_t size);

/* Parses body (len bytes) delimited by boundary into parts (at most max). */
int ekv_multipart_parse(const char *boundary, const char *body, size_t len, ekv_part_t *parts,
                        size_t max, size_t *n);

#endif
