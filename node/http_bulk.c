/* http_bulk: list and bulk get on the PoP's binding surface (KV-SPEC.md section 4).
 *
 * list:     GET /?key_count_limit=N&prefix=P&cursor=C  -> {"keys": [...], "list_complete",
 *           "cursor"?}; forwarded to the coordinator through the link, so list results lag
 *           like reads. Metadata is returned as a JSON string, as the binding expects.
 * bulk get: POST /bulk/get {"keys", "type"?, "withMetadata"?, "cacheTtl"?}; each key is served
 *           from the cache when fresh and fetched from origin otherwise (all misses in
 *           parallel); the reply is sent when the last fetch is back. */
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_kv.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "http_text.h"
#include "node_int.h"

typedef struct {
    int found, has_meta;
    char *value, *meta; /* owned copies */
    size_t vlen, mlen;
} result_t;

typedef struct bulk_get bulk_get_t;

/* One key of a bulk get, the context of its read. */
typedef struct {
    bulk_get_t *b;
    size_t i;
} slot_t;

struct bulk_get {
    struct evhttp_request *req;
    slot_t *slots; /* one per key */
    char *ns;
    size_t nkeys, outstanding;
    char **keys;
    size_t *klens;
    result_t *res;
    int as_json, with_meta, failed;
    int too_large; /* the results passed the 25 MiB reply limit: no more are copied */
    size_t total;  /* bytes of values and metadata kept so far */
    int64_t cache_ttl;
};

static void list_done(ekv_node_t *n, void *ctx, const node_result_t *res);

/* ---- list -------------------------------------------------------------------------------- */

void node_http_list(ekv_node_t *n, struct evhttp_request *req, const char *ns, struct evkeyvalq *q)
{
    ekv_kv_error_t err;
    int64_t limit;
    const char *prefix = evhttp_find_header(q, "prefix"), *cursor = evhttp_find_header(q, "cursor");
    size_t plen = prefix ? strlen(prefix) : 0, alen = 0;
    char *after = NULL;
    if (ekv_kv_parse_list_limit(evhttp_find_header(q, "key_count_limit"), 1, &limit, &err) ||
        (prefix && node_check_prefix(prefix, plen, &err)) ||
        (cursor && *cursor && ekv_kv_cursor_decode(cursor, &after, &alen, &err))) {
        node_http_fail(req, err.status, err.message);
        return;
    }
    node_list(n, (ekv_bytes_t){ns, strlen(ns)}, (ekv_bytes_t){prefix ? prefix : "", plen},
              (ekv_bytes_t){after ? after : "", alen}, (uint64_t)limit, list_done, req);
    free(after);
}

/* Keys and metadata are rendered as a Worker would decode their bytes: a record stored before
 * keys had to be UTF-8 (or by another writer) lists with U+FFFD, never breaks the reply. */
static void list_done(ekv_node_t *n, void *ctx, const node_result_t *res)
{
    if (res->status != 200) {
        node_http_fail_n(n, ctx, res->status, res->message);
        return;
    }
    const ekv_msg_t *r = res->list;
    json_t *keys = json_array();
    for (size_t i = 0; i < r->nchanges; i++) {
        const ekv_msg_t *h = &r->changes[i];
        json_t *e = json_object();
        json_object_set_new(e, "name", node_text_json(h->key.ptr, h->key.len));
        if (h->expiration)
            json_object_set_new(e, "expiration", json_integer(h->expiration));
        if (h->flags & EKV_MSG_F_METADATA)
            json_object_set_new(e, "metadata", node_text_json(h->meta.ptr, h->meta.len));
        json_array_append_new(keys, e);
    }
    int more = (r->flags & EKV_MSG_F_MORE) != 0;
    json_t *j = json_pack("{s:o, s:b}", "keys", keys, "list_complete", !more);
    if (more) {
        char *c = ekv_kv_cursor_encode(r->key.ptr, r->key.len);
        json_object_set_new(j, "cursor", json_string(c));
        free(c);
    }
    node_http_json(ctx, 200, j, 0);
}

/* ---- bulk get ---------------------------------------------------------------------------- */

static void bulk_free(bulk_get_t *b)
{
    for (size_t i = 0; i < b->nkeys; i++) {
        free(b->keys[i]);
        free(b->res[i].value);
        free(b->res[i].meta);
    }
    free(b->keys);
    free(b->klens);
    free(b->res);
    free(b->slots);
    free(b->ns);
    free(b);
}

/* Keeps a copy of key i's result. Past the reply limit nothing more is copied (the reply is a
 * 413 then): 100 keys, even the same one 100 times, never hold 100 values of 25 MiB. */
static void keep(bulk_get_t *b, size_t i, int found, int has_meta, ekv_bytes_t value,
                 ekv_bytes_t meta)
{
    result_t *r = &b->res[i];
    b->total += value.len + (has_meta ? meta.len : 0);
    if (b->total > EKV_KV_MAX_VALUE)
        b->too_large = 1;
    if (b->too_large)
        return;
    r->found = found;
    r->has_meta = has_meta;
    r->value = ekv_memdup(value.ptr, value.len);
    r->vlen = value.len;
    r->meta = has_meta ? ekv_memdup(meta.ptr, meta.len) : NULL;
    r->mlen = has_meta ? meta.len : 0;
}

/* The stored metadata as a JSON value; text that is not JSON (an old or foreign record) as a
 * string of it. */
static json_t *meta_json(const result_t *r)
{
    json_t *m = r->has_meta ? json_loadb(r->meta, r->mlen, JSON_DECODE_ANY, NULL) : json_null();
    return m ? m : node_text_json(r->meta, r->mlen);
}

/* Builds the reply; a json read of a non-JSON value or an oversized total is an error. */
static void bulk_reply(bulk_get_t *b)
{
    json_t *values = json_object();
    ekv_kv_error_t err = {0};
    if (b->too_large)
        ekv_kv_err_bulk_too_large(&err);
    for (size_t i = 0; i < b->nkeys && !err.status; i++) {
        result_t *r = &b->res[i];
        json_t *v = json_null();
        if (r->found) {
            v = b->as_json ? json_loadb(r->value, r->vlen, JSON_DECODE_ANY, NULL)
                           : node_text_json(r->value, r->vlen);
            if (!v) {
                ekv_kv_err_bulk_not_json(&err);
                break;
            }
            if (b->with_meta)
                v = json_pack("{s:o, s:o}", "value", v, "metadata", meta_json(r));
        }
        json_object_setn_new(values, b->keys[i], b->klens[i], v);
    }
    if (err.status) {
        json_decref(values);
        node_http_fail(b->req, err.status, err.message);
    } else {
        node_http_json(b->req, 200, values, 0);
    }
}

/* Sends the reply once the last key is in, and frees the bulk get. */
static void bulk_finish(bulk_get_t *b)
{
    if (--b->outstanding > 0)
        return;
    if (b->failed)
        node_http_fail(b->req, 503, "Coordinator unavailable");
    else
        bulk_reply(b);
    bulk_free(b);
}

/* The core finished the read of one key (from cache or origin). */
static void key_done(ekv_node_t *n, void *ctx, const node_result_t *r)
{
    (void)n;
    slot_t *s = ctx;
    bulk_get_t *b = s->b;
    if (r->status != 200)
        b->failed = 1;
    else
        keep(b, s->i, !r->item->negative, r->item->has_meta, r->item->value, r->item->meta);
    bulk_finish(b);
}

/* cacheTtl as the text the KV rules parse (NULL: absent or null, the default). The binding
 * sends a string; an integer is taken as its digits, and anything else (a real such as 60.5
 * or 1e300, a boolean...) as its JSON text, which the rules then refuse. New; free it. */
static char *ttl_text(json_t *ttl)
{
    if (!ttl || json_is_null(ttl))
        return NULL;
    if (json_is_string(ttl))
        return ekv_memdup(json_string_value(ttl), json_string_length(ttl));
    char *text = json_dumps(ttl, JSON_COMPACT | JSON_ENCODE_ANY);
    return text ? text : ekv_strdup("?");
}

/* Parses {"keys", "type"?, "withMetadata"?, "cacheTtl"?}; replies with the error if bad. */
static bulk_get_t *bulk_parse(ekv_node_t *n, struct evhttp_request *req, const char *ns)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    json_t *doc = json_loadb(len ? (const char *)evbuffer_pullup(in, -1) : "", len, 0, NULL);
    json_t *keys = json_object_get(doc, "keys"), *ttl = json_object_get(doc, "cacheTtl");
    const char *type = json_string_value(json_object_get(doc, "type"));
    ekv_kv_error_t err = {0};
    char *ttlraw = ttl_text(ttl);
    int64_t cache_ttl = 0;
    if (!json_is_array(keys))
        ekv_kv_err_set(&err, 400, "expected {\"keys\": [...]}");
    else if (ekv_kv_check_bulk_get(json_array_size(keys), type, &err) == EKV_OK)
        node_parse_cache_ttl(ttlraw, n->cfg.min_cache_ttl, &cache_ttl, &err);
    free(ttlraw);
    for (size_t i = 0; !err.status && i < json_array_size(keys); i++) {
        json_t *k = json_array_get(keys, i);
        if (!json_is_string(k))
            ekv_kv_err_set(&err, 400, "keys must be strings");
        else
            ekv_kv_check_key(json_string_value(k), json_string_length(k), &err);
    }
    bulk_get_t *b = NULL;
    if (err.status) {
        node_http_fail(req, err.status, err.message);
    } else {
        b = ekv_calloc(1, sizeof *b);
        b->req = req;
        b->ns = ekv_strdup(ns);
        b->nkeys = json_array_size(keys);
        b->keys = ekv_calloc(b->nkeys, sizeof *b->keys);
        b->klens = ekv_calloc(b->nkeys, sizeof *b->klens);
        b->res = ekv_calloc(b->nkeys, sizeof *b->res);
        b->as_json = type && !strcmp(type, "json");
        b->with_meta = json_is_true(json_object_get(doc, "withMetadata"));
        b->cache_ttl = cache_ttl;
        for (size_t i = 0; i < b->nkeys; i++) {
            json_t *k = json_array_get(keys, i);
            b->klens[i] = json_string_length(k);
            b->keys[i] = ekv_memdup(json_string_value(k), b->klens[i]);
        }
    }
    json_decref(doc);
    return b;
}

void node_http_bulk_get(ekv_node_t *n, struct evhttp_request *req, const char *ns)
{
    bulk_get_t *b = bulk_parse(n, req, ns);
    if (!b)
        return;
    n->st.bulk_gets++;
    ekv_bytes_t nsb = {b->ns, strlen(b->ns)};
    b->slots = ekv_calloc(b->nkeys, sizeof *b->slots);
    b->outstanding = b->nkeys + 1; /* held until every read is asked */
    for (size_t i = 0; i < b->nkeys; i++) {
        b->slots[i] = (slot_t){b, i};
        node_read(n, nsb, (ekv_bytes_t){b->keys[i], b->klens[i]}, b->cache_ttl, key_done,
                  &b->slots[i]);
    }
    bulk_finish(b);
}
