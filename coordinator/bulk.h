/* bulk: parsing and validation of the REST bulk bodies (logic only; fuzzed).
 *
 * The three bulk endpoints take JSON bodies: a write is an array of {key, value, base64,
 * metadata, expiration, expiration_ttl} items, a delete an array of keys (or of {key}
 * objects), a get an object {keys, type, withMetadata}. Parsing turns the bytes into drafts
 * or keys that point into the parsed document, which the result owns until its fini; it does
 * no I/O and takes the clock as `now_s`. A body is validated whole: the first invalid item
 * fails it with that item's KV-SPEC error (status, REST code and message in err), and a
 * failed parse leaves nothing to free. */
#ifndef EKV_BULK_H
#define EKV_BULK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ekv_kv.h"
#include "ekv_msg.h"

#define EKV_BULK_MAX 10000 /* items of a bulk write or delete */

/* A parsed bulk write or delete. */
typedef struct {
    json_t *doc;       /* the parsed body (owned); keys and plain values point into it */
    ekv_msg_t *drafts; /* one per item: op, key; for writes value, meta, flags, expiration */
    size_t n;          /* number of items (0..EKV_BULK_MAX) */
    char **owned;      /* base64-decoded values and metadata texts the drafts point to */
    size_t nowned;     /* entries used in owned */
} ekv_bulk_t;

/* A parsed bulk get. */
typedef struct {
    json_t *doc;            /* the parsed body (owned); keys point into it */
    ekv_bytes_t *keys;      /* the valid keys before the first invalid one, in request order */
    size_t nkeys;           /* entries in keys */
    int as_json;            /* type is "json" (values are parsed) rather than "text" or absent */
    int with_meta;          /* withMetadata is true */
    ekv_kv_error_t key_err; /* status != 0 when the key after keys[nkeys - 1] is invalid */
} ekv_bulk_get_t;

/* Parses a bulk write body of len bytes into *out; expirations resolve against now_s (epoch
 * seconds). EKV_OK, or EKV_EINVAL with err: 400 for a body that is not JSON, 413 for one that
 * is not an array of at most 10000 items, else the first invalid item's error. On success the
 * caller releases *out with ekv_bulk_fini; on failure *out is zeroed. */
int ekv_bulk_parse_put(const char *body, size_t len, int64_t now_s, ekv_bulk_t *out,
                       ekv_kv_error_t *err);

/* Parses a bulk delete body (an array of keys or {key} objects) like ekv_bulk_parse_put; the
 * drafts carry op and key only. */
int ekv_bulk_parse_delete(const char *body, size_t len, ekv_bulk_t *out, ekv_kv_error_t *err);

/* Releases what a successful parse holds and zeroes *b; no-op on a zeroed one. */
void ekv_bulk_fini(ekv_bulk_t *b);

/* Parses a bulk get body into *out. EKV_OK, or EKV_EINVAL with err (400) for a body that is
 * not {"keys": [...]} with an optional string or null type, or whose key count or type the
 * KV rules refuse. Keys are checked in order and stop at the first invalid one: the request
 * reads keys[0..nkeys) and then fails with key_err, as the handler always did. On success
 * the caller releases *out with ekv_bulk_get_fini; on failure *out is zeroed. */
int ekv_bulk_parse_get(const char *body, size_t len, ekv_bulk_get_t *out, ekv_kv_error_t *err);

/* Releases what a successful get parse holds and zeroes *g; no-op on a zeroed one. */
void ekv_bulk_get_fini(ekv_bulk_get_t *g);

#endif
