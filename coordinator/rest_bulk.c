/* rest_bulk: bulk write, bulk delete and bulk get of the REST API.
 *
 * A bulk write or delete is validated whole first: one invalid item fails the request with
 * that item's error and nothing is stored. The REST API has no same-key write limit (the
 * binding has), so every item is committed, as one unit of one group: they become durable
 * (and are published) together, and unsuccessful_keys is empty. Bodies are parsed and validated by
 * bulk.c; its drafts point into the parsed JSON document, which lives until the unit
 * completes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "ekv_err.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "rest.h"

typedef struct {
    commit_t cm;
    ekv_bulk_t parsed; /* drafts, the request document they point into, decoded bytes */
    char *nsid;        /* the namespace id the drafts point to */
    json_t *refused;   /* unsuccessful_keys (none: kept for the reply's shape) */
    struct evhttp_request *req;
} bulk_t;

static void bulk_free(bulk_t *b)
{
    ekv_bulk_fini(&b->parsed);
    free(b->nsid);
    json_decref(b->refused);
    free(b);
}

static void bulk_done(ekv_coord_t *c, commit_t *cm, int rc)
{
    bulk_t *b = cm->arg;
    if (rc == EKV_OK)
        rest_ok(c, b->req,
                json_pack("{s:i, s:O}", "successful_key_count", (int)cm->n, "unsuccessful_keys",
                          b->refused),
                NULL);
    else
        rest_fail(c, b->req, 503, EKV_REST_INVALID_REQUEST, "Storage unavailable");
    bulk_free(b);
}

/* Submits the validated drafts as one unit; takes over *parsed. The REST API has no per-key
 * write limit (only the binding does), so every key is written. */
static void admit(ekv_coord_t *c, struct evhttp_request *req, ekv_bulk_t *parsed, const char *ns)
{
    bulk_t *b = ekv_calloc(1, sizeof *b);
    b->req = req;
    b->parsed = *parsed;
    b->nsid = ekv_strdup(ns); /* the caller's copy dies first */
    b->refused = json_array();
    for (size_t i = 0; i < b->parsed.n; i++) {
        ekv_msg_t *d = &b->parsed.drafts[i];
        d->ns = (ekv_bytes_t){b->nsid, strlen(b->nsid)};
        d->op == EKV_OP_PUT ? c->st.writes++ : c->st.deletes++;
        c->st.bytes_in += d->value.len;
    }
    b->cm = (commit_t){b->parsed.drafts, b->parsed.n, bulk_done, b, NULL};
    coord_submit(c, &b->cm);
}

void rest_bulk_put(ekv_coord_t *c, struct evhttp_request *req, const char *ns)
{
    size_t len;
    const char *body = rest_body(req, &len);
    ekv_bulk_t parsed;
    ekv_kv_error_t err = {0};
    if (ekv_bulk_parse_put(body, len, coord_now_s(c), &parsed, &err) != EKV_OK) {
        rest_fail_kv(c, req, &err);
        return;
    }
    for (size_t i = 0; i < parsed.n; i++)
        parsed.drafts[i].expiration = coord_expiration(c, parsed.drafts[i].expiration);
    admit(c, req, &parsed, ns);
}

void rest_bulk_delete(ekv_coord_t *c, struct evhttp_request *req, const char *ns)
{
    size_t len;
    const char *body = rest_body(req, &len);
    ekv_bulk_t parsed;
    ekv_kv_error_t err = {0};
    if (ekv_bulk_parse_delete(body, len, &parsed, &err) != EKV_OK)
        rest_fail_kv(c, req, &err);
    else
        admit(c, req, &parsed, ns);
}

/* ---- bulk get ---------------------------------------------------------------------------- */

/* One key's entry of the reply; NULL (with err set) when a json read meets a non-JSON value. */
static json_t *get_one(ekv_coord_t *c, const char *ns, ekv_bytes_t key, int as_json, int with_meta,
                       size_t *total, ekv_kv_error_t *err)
{
    ekv_msg_t m;
    int rc = coord_read(c, (ekv_bytes_t){ns, strlen(ns)}, key, &m, NULL);
    if (rc != EKV_OK)
        return json_null();
    json_t *v = as_json ? json_loadb(m.value.ptr, m.value.len, JSON_DECODE_ANY, NULL)
                        : json_stringn(m.value.ptr, m.value.len);
    *total += m.value.len + m.meta.len;
    if (!v && as_json) {
        ekv_kv_err_bulk_not_json(err);
    } else if (!v) {
        /* A binary value read as text: JSON cannot carry its bytes, so it is decoded as a
         * Worker's get(key, "text") decodes it, each ill-formed part as U+FFFD. */
        size_t n;
        char *text = ekv_kv_utf8_lossy(m.value.ptr, m.value.len, &n);
        v = json_stringn(text, n);
        free(text);
    }
    if (v && with_meta) {
        json_t *meta =
            m.flags & EKV_MSG_F_METADATA ? rest_meta_json(m.meta.ptr, m.meta.len) : json_null();
        v = json_pack("{s:o, s:o}", "value", v, "metadata", meta);
        if (m.expiration)
            json_object_set_new(v, "expiration", json_integer(m.expiration));
    }
    ekv_msg_fini(&m);
    return v;
}

void rest_bulk_get(ekv_coord_t *c, struct evhttp_request *req, const char *ns)
{
    size_t len, total = 0;
    const char *body = rest_body(req, &len);
    ekv_bulk_get_t g;
    ekv_kv_error_t err = {0};
    if (ekv_bulk_parse_get(body, len, &g, &err) != EKV_OK) {
        rest_fail_kv(c, req, &err);
        return;
    }
    json_t *values = json_object();
    for (size_t i = 0; i < g.nkeys && !err.status; i++) {
        json_t *v = get_one(c, ns, g.keys[i], g.as_json, g.with_meta, &total, &err);
        if (v)
            json_object_setn_new(values, g.keys[i].ptr, g.keys[i].len, v);
    }
    if (!err.status && g.key_err.status)
        err = g.key_err; /* the invalid key that ended the reads */
    if (!err.status && total > EKV_KV_MAX_VALUE)
        ekv_kv_err_bulk_too_large(&err);
    if (err.status) {
        rest_fail_kv(c, req, &err);
        json_decref(values);
    } else {
        rest_ok(c, req, json_pack("{s:o}", "values", values), NULL);
    }
    ekv_bulk_get_fini(&g);
}
