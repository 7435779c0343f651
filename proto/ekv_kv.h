/* ekv_kv: the Workers KV limits and validation rules of KV-SPEC.md sections 1 and 2.
 *
 * One set of rules for the coordinator and every node. Each check either accepts its input
 * or fills an ekv_kv_error_t with the exact HTTP status, the exact message of KV-SPEC.md and
 * the REST API error code, and returns EKV_EINVAL. Nothing here does I/O; checks that depend
 * on the clock take `now_s` (epoch seconds) as an argument. */
#ifndef EKV_KV_H
#define EKV_KV_H

#include <stddef.h>
#include <stdint.h>

#define EKV_KV_MAX_KEY       512
#define EKV_KV_MAX_VALUE     26214400
#define EKV_KV_MAX_METADATA  1024
#define EKV_KV_MIN_TTL       60
#define EKV_KV_CACHE_TTL     60 /* default cacheTtl, seconds */
#define EKV_KV_MIN_CACHE_TTL 30 /* default minimum cacheTtl, seconds */
#define EKV_KV_LIST_LIMIT    1000
#define EKV_KV_MAX_PREFIX    512
#define EKV_KV_BULK_GET_MAX  100
/* Id of the namespace that exists from the start and that PoPs serve by default. */
#define EKV_KV_DEFAULT_NS "00000000000000000000000000000000"

/* REST API error codes (KV-SPEC.md section 3). */
enum {
    EKV_REST_KEY_NOT_FOUND = 10009,
    EKV_REST_NS_NOT_FOUND = 10013,
    EKV_REST_NS_EXISTS = 10014,
    EKV_REST_MISSING_TITLE = 10019,
    EKV_REST_TOO_MANY_REQUESTS = 10022,
    EKV_REST_PAYLOAD_TOO_LARGE = 10024,
    EKV_REST_INVALID_LIMIT = 10028,
    EKV_REST_INVALID_REQUEST = 10029,
    EKV_REST_KEY_TOO_LONG = 10030,
    EKV_REST_INVALID_EXPIRATION = 10033,
    EKV_REST_INVALID_EXPIRATION_TTL = 10034,
    EKV_REST_INVALID_CURSOR = 10041,
    EKV_REST_ILLEGAL_KEY = 10042,
    EKV_REST_INVALID_METADATA = 10047,
    EKV_REST_API_RATE_LIMITED = 971, /* the account's API rate limit, not a KV error */
};

typedef struct {
    int status;        /* HTTP status: 400, 404, 413, 414, 429 */
    int code;          /* REST API error code (EKV_REST_*) */
    char message[640]; /* the exact KV-SPEC.md message */
} ekv_kv_error_t;

/* Key of len bytes: not empty, not "." or "..", at most 512 bytes, well-formed UTF-8 (else
 * 400 "Could not URL-decode key name", code 10029, as for a bad escape). */
int ekv_kv_check_key(const char *key, size_t len, ekv_kv_error_t *err);
/* The rules a key already stored satisfies: those of ekv_kv_check_key but UTF-8 (an older
 * build stored any bytes). For naming such a key in order to delete it. */
int ekv_kv_check_key_stored(const char *key, size_t len, ekv_kv_error_t *err);

/* Whether s (len bytes) is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code
 * points past U+10FFFF); NUL is a character like any other. Exactly what jansson accepts. */
int ekv_kv_utf8_valid(const char *s, size_t len);

/* s (len bytes) as well-formed UTF-8 in a new NUL-terminated buffer of *out_len bytes (free
 * it): each maximal ill-formed subpart becomes one U+FFFD, as a WHATWG TextDecoder (a Worker's
 * get(key, "text")) reads bytes. Valid text is copied unchanged. */
char *ekv_kv_utf8_lossy(const char *s, size_t len, size_t *out_len);

/* Percent-decodes raw (raw_len bytes) into a new NUL-terminated buffer *out of *out_len
 * bytes, which the caller frees with free(). Rejects a bad escape with 400
 * "Could not URL-decode key name". Does not check the decoded key: call ekv_kv_check_key. */
int ekv_kv_decode_key(const char *raw, size_t raw_len, char **out, size_t *out_len,
                      ekv_kv_error_t *err);

/* Value of n bytes: at most 25 MiB (413). */
int ekv_kv_check_value(size_t n, ekv_kv_error_t *err);

/* Metadata JSON text of n bytes: at most 1024 bytes (413) and valid JSON (400, 10047). */
int ekv_kv_check_metadata(const char *json, size_t n, ekv_kv_error_t *err);

/* Resolves the write options into an absolute expiration (*expiration, epoch seconds; 0 for
 * none). Either raw string may be NULL. expirationTtl wins when both are given. */
int ekv_kv_resolve_expiration(const char *raw_expiration, const char *raw_ttl, int64_t now_s,
                              int64_t *expiration, ekv_kv_error_t *err);

/* The real moment a resolved expiration falls in a world whose simulated durations run
 * time_scale times faster (as cacheTtl and link delays do): the time left, expiration - now_s,
 * shrinks time_scale times, rounded to a whole second and at least one. 0 (none) stays 0, and
 * time_scale 1 changes nothing. The real moment is what is stored and reported. */
int64_t ekv_kv_scale_expiration(int64_t expiration, int64_t now_s, double time_scale);

/* cacheTtl from a query string; NULL means the default. min is the configured minimum. */
int ekv_kv_parse_cache_ttl(const char *raw, int64_t min, int64_t *out, ekv_kv_error_t *err);

/* List limit from a query string; NULL means 1000. Range min..1000 (min is 1 for the
 * binding, 10 for the REST API). */
int ekv_kv_parse_list_limit(const char *raw, int64_t min, int64_t *out, ekv_kv_error_t *err);

/* A list cursor: opaque text (base64url of a version tag and the last key returned) from
 * which the next page starts after that key, so keys inserted between pages still appear.
 * encode returns a new NUL-terminated string (free it). decode rejects anything it did not
 * make with 400 "Invalid cursor" (REST code 10041); *key is malloc'd. */
char *ekv_kv_cursor_encode(const char *key, size_t len);
int ekv_kv_cursor_decode(const char *cursor, char **key, size_t *len, ekv_kv_error_t *err);

/* List prefix of n bytes: at most 512 bytes (414, like a key). */
int ekv_kv_check_prefix(size_t n, ekv_kv_error_t *err);

/* Bulk get: key count (1..100) and type (NULL, "text" or "json"). */
int ekv_kv_check_bulk_get(size_t nkeys, const char *type, ekv_kv_error_t *err);

/* Fills err for the conditions that are not checks of one input. */
void ekv_kv_err_not_found(ekv_kv_error_t *err);      /* 404 Not Found */
void ekv_kv_err_rate_limited(ekv_kv_error_t *err);   /* 429 Too Many Requests */
void ekv_kv_err_bad_cursor(ekv_kv_error_t *err);     /* 400 Invalid cursor */
void ekv_kv_err_bulk_not_json(ekv_kv_error_t *err);  /* 400 non-json value */
void ekv_kv_err_bulk_too_large(ekv_kv_error_t *err); /* 413 total over 25MB */
/* Any other failure with a status and a formatted message, code EKV_REST_INVALID_REQUEST. Like
 * every message here, the result is well-formed UTF-8 without control characters. */
void ekv_kv_err_set(ekv_kv_error_t *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
