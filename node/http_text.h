/* http_text: what the PoP may put into a reply, whatever bytes a request or the store held.
 *
 * A reason phrase or header value never carries a control byte (CR or LF would end the line
 * and inject a header); JSON replies carry only well-formed UTF-8 (jansson refuses to dump
 * anything else). Keys, values and metadata are bytes: an old or foreign record may hold any
 * of them, so every text that reaches a reply passes through one of these first. Implemented
 * in http.c (node_text_*) next to the reply functions that use them (node_http_*). */
#ifndef EKV_NODE_HTTP_TEXT_H
#define EKV_NODE_HTTP_TEXT_H

#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ekv_kv.h"

/* The longest cacheTtl kept, in seconds (about 31 years): "no practical maximum" (KV-SPEC),
 * and any longer one would only overflow the microsecond clock it is added to. */
#define NODE_MAX_CACHE_TTL 1000000000

/* A JSON string holding p[0..n) as a Worker decodes bytes (ekv_kv_utf8_lossy: each ill-formed
 * sequence a U+FFFD); never NULL. */
json_t *node_text_json(const char *p, size_t n);

/* text made fit for a status line or header value, into dst (cap > 0 bytes, NUL-terminated):
 * well-formed UTF-8, each control byte (below 0x20, and 0x7f) a space, cut at a character
 * boundary to at most cap - 1 bytes. */
void node_text_field(char *dst, size_t cap, const char *text);

/* v in decimal into dst (at least NODE_TEXT_INT_MAX bytes), NUL-terminated, as "%" PRIu64 /
 * "%" PRId64 would write it; returns its length. For numbers every reply sends: no stdio. */
#define NODE_TEXT_INT_MAX 21
size_t node_text_u64(char *dst, uint64_t v);
size_t node_text_i64(char *dst, int64_t v);

/* A request's raw query (evhttp_uri_get_query) read in place, by the rules of libevent 2.1's
 * evhttp_parse_query_str and evhttp_find_header but without building its list: a hit needs
 * one parameter. node_query_ok: 1 when evhttp_parse_query_str accepts q, that is every
 * '&'-separated part is name=value with a non-empty name (a last '&' ends it; "" is fine).
 * node_query_param: the value of the first parameter of q (NULL: none) whose name, not
 * decoded, is name in ASCII case aside; percent-decoded with '+' a space, NUL-terminated, into
 * dst when shorter than cap, else into *alloc (NULL otherwise; the caller frees it). NULL when
 * there is no such parameter. */
int node_query_ok(const char *q);
const char *node_query_param(const char *q, const char *name, char *dst, size_t cap, char **alloc);

/* Metadata JSON text (len bytes) as a CF-KV-Metadata header value: the text itself when it is
 * well-formed UTF-8 without control bytes, else the same JSON value re-encoded compactly with
 * every control character escaped, so a reader parses back exactly the stored value. Text that
 * is not JSON at all is cleaned as by node_text_field. A new string; the caller frees it. */
char *node_text_meta_header(const char *meta, size_t len);

/* The one way a reply whose reason phrase may hold any text leaves the PoP: it goes through
 * node_text_field (http.c sends its own constant reasons, "OK" and "Error", as they are). */
void node_http_send(struct evhttp_request *req, int status, const char *reason,
                    struct evbuffer *body);

/* Adds the Date and Content-Length headers evhttp_send_reply would add to a 200 reply to a
 * GET whose body is in req's output buffer, with the same text and in the same place (HTTP/1.1
 * only; none to 1.0), for less: call it after every other header, just before sending. */
void node_http_date_length(struct evhttp_request *req);

/* An error reply: status (a relayed one outside 400..599 becomes 502) with message as the
 * reason phrase and the body, cleaned as by node_text_field. */
void node_http_fail(struct evhttp_request *req, int status, const char *message);

/* Adds a response header, its value cleaned as by node_text_field (at most 2 KiB). */
void node_http_header(struct evhttp_request *req, const char *name, const char *value);

/* Sends j (stolen) as a compact JSON reply with the given status, followed by newline when
 * nl; a value jansson cannot serialise is a 500 "Internal error", never a crash. */
void node_http_json(struct evhttp_request *req, int status, json_t *j, int nl);

/* Shared by http.c and http_bulk.c: cacheTtl from its raw text (NULL: the default) under the
 * KV rules with the configured minimum, clamped to NODE_MAX_CACHE_TTL. */
int node_parse_cache_ttl(const char *raw, int64_t min, int64_t *out, ekv_kv_error_t *err);

/* A namespace id from a path or header: 1..64 bytes, printable ASCII without space. */
int node_ns_ok(const char *ns, size_t len);

/* A list prefix of len bytes: the KV limit, and well-formed UTF-8 as every key is. */
int node_check_prefix(const char *prefix, size_t len, ekv_kv_error_t *err);

#endif
