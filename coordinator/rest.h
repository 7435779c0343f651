/* rest: shared helpers of the coordinator's REST handlers (rest.c, rest_bulk.c).
 *
 * Every JSON reply uses the Cloudflare envelope {"success", "errors", "messages", "result"}.
 * Each handler ends in exactly one reply: rest_ok(), rest_fail*() or a raw value. */
#ifndef EKV_REST_H
#define EKV_REST_H

#include <event2/http.h>
#include <jansson.h>

#include "coord_int.h"

/* Replies 200 with result (stolen) and optional result_info (stolen, may be NULL). */
void rest_ok(ekv_coord_t *c, struct evhttp_request *req, json_t *result, json_t *info);
/* Replies with status and one error {code, message}. */
void rest_fail(ekv_coord_t *c, struct evhttp_request *req, int status, int code,
               const char *message);
void rest_fail_kv(ekv_coord_t *c, struct evhttp_request *req, const ekv_kv_error_t *err);

/* A request body as one contiguous buffer (borrowed from the request). */
const char *rest_body(struct evhttp_request *req, size_t *len);

/* Bulk endpoints (rest_bulk.c); ns is a known namespace id. */
void rest_bulk_put(ekv_coord_t *c, struct evhttp_request *req, const char *ns);
void rest_bulk_delete(ekv_coord_t *c, struct evhttp_request *req, const char *ns);
void rest_bulk_get(ekv_coord_t *c, struct evhttp_request *req, const char *ns);

/* Converts stored metadata JSON text to a JSON value (NULL text -> null). */
json_t *rest_meta_json(const char *text, size_t len);

#endif
