/* rest_bulk: bulk write, bulk delete and bulk get of the REST API.
 *
 * A bulk write or delete is validated whole first: one invalid item fails the request with
 * that item's KV-SPEC error and nothing is stored. Keys refused by the same-key rate limit
 * are reported in unsuccessful_keys; all the others are committed as one unit of one group,
 * so they become durable (and are published) together. Drafts point into the parsed JSON
 * document, which lives until the unit completes. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "rest.h"

#define BULK_MAX 10000

typedef struct {
    commit_t cm;
    ekv_msg_t *drafts;
    char **owned; /* decoded values and metadata texts, freed at the end */
    size_t nowned;
    json_t *doc;     /* the request (drafts point into it) */
    json_t *refused; /* keys refused by the rate limit */
    struct evhttp_request *req;
} bulk_t;

static void bulk_free(bulk_t *b)
{
    for (size_t i = 0; i < b->nowned; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->drafts);
    json_decref(b->doc);
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

static int b64dec(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '+' || ch == '-' ? 62 : ch == '/' || ch == '_' ? 63 : -1;
}

/* Standard or URL-safe base64, padding optional; NULL when malformed. */
static char *base64_decode(const char *s, size_t n, size_t *out_len)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return NULL;
    char *out = ekv_malloc(n / 4 * 3 + 3);
    size_t m = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64dec((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[m++] = (char)(acc >> 16);
            out[m++] = (char)(acc >> 8);
            out[m++] = (char)acc;
        }
    }
    if (n % 4 == 2)
        out[m++] = (char)(acc >> 4);
    else if (n % 4 == 3) {
        out[m++] = (char)(acc >> 10);
        out[m++] = (char)(acc >> 2);
    }
    *out_len = m;
    return out;
}

static bulk_t *bulk_new(ekv_coord_t *c, struct evhttp_request *req, json_t *doc, size_t n)
{
    (void)c;
    bulk_t *b = ekv_calloc(1, sizeof *b);
    b->req = req;
    b->doc = doc;
    b->refused = json_array();
    b->drafts = ekv_calloc(n ? n : 1, sizeof *b->drafts);
    b->owned = ekv_calloc(2 * n + 1, sizeof *b->owned);
    return b;
}

/* Parses the body as a JSON array of 1..10,000 items; replies and returns NULL if not. */
static json_t *bulk_array(ekv_coord_t *c, struct evhttp_request *req)
{
    size_t len;
    const char *body = rest_body(req, &len);
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    if (!json_is_array(doc) || json_array_size(doc) > BULK_MAX) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s",
                 doc ? "expected a JSON array of at most 10000 items" : jerr.text);
        rest_fail(c, req, doc ? 413 : 400,
                  doc ? EKV_REST_PAYLOAD_TOO_LARGE : EKV_REST_INVALID_REQUEST, msg);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int item_key(json_t *k, ekv_bytes_t *key, ekv_kv_error_t *err)
{
    if (!json_is_string(k)) {
        ekv_kv_err_set(err, 400, "each item needs a string key");
        return EKV_EINVAL;
    }
    *key = (ekv_bytes_t){json_string_value(k), json_string_length(k)};
    return ekv_kv_check_key(key->ptr, key->len, err);
}

/* Raw text of a JSON number for the expiration checks ("abc" etc. stay as given). */
static const char *num_text(json_t *v, char *buf, size_t size)
{
    if (!v)
        return NULL;
    if (json_is_integer(v))
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, size, "%g", json_real_value(v));
    else if (json_is_string(v))
        snprintf(buf, size, "%s", json_string_value(v));
    else
        snprintf(buf, size, "%s", "invalid");
    return buf;
}

/* Fills draft d from one bulk-write item, or err. */
static int put_item(bulk_t *b, json_t *it, ekv_msg_t *d, ekv_kv_error_t *err)
{
    json_t *v = json_object_get(it, "value");
    if (!json_is_object(it) || item_key(json_object_get(it, "key"), &d->key, err) != EKV_OK)
        return err->status ? EKV_EINVAL
                           : (ekv_kv_err_set(err, 400, "each item needs a key"), EKV_EINVAL);
    if (!json_is_string(v)) {
        ekv_kv_err_set(err, 400, "each item needs a string value");
        return EKV_EINVAL;
    }
    d->value = (ekv_bytes_t){json_string_value(v), json_string_length(v)};
    if (json_is_true(json_object_get(it, "base64"))) {
        char *raw = base64_decode(d->value.ptr, d->value.len, &d->value.len);
        if (!raw) {
            ekv_kv_err_set(err, 400, "value of key is not valid base64");
            return EKV_EINVAL;
        }
        b->owned[b->nowned++] = raw;
        d->value.ptr = raw;
    }
    json_t *meta = json_object_get(it, "metadata");
    if (meta && !json_is_null(meta)) {
        char *text = json_dumps(meta, JSON_COMPACT | JSON_ENCODE_ANY);
        b->owned[b->nowned++] = text;
        d->meta = (ekv_bytes_t){text, strlen(text)};
        d->flags = EKV_MSG_F_METADATA;
    }
    char e1[64], e2[64];
    if (ekv_kv_check_value(d->value.len, err) != EKV_OK ||
        (d->flags && ekv_kv_check_metadata(d->meta.ptr, d->meta.len, err) != EKV_OK))
        return EKV_EINVAL;
    d->op = EKV_OP_PUT;
    return ekv_kv_resolve_expiration(num_text(json_object_get(it, "expiration"), e1, sizeof e1),
                                     num_text(json_object_get(it, "expiration_ttl"), e2, sizeof e2),
                                     ekv_now_us() / 1000000, &d->expiration, err);
}

/* Rate-limits the validated drafts, compacting the allowed ones to the front. */
static void admit(ekv_coord_t *c, bulk_t *b, const char *ns, size_t n)
{
    size_t kept = 0;
    char *nsid = b->owned[b->nowned++] = ekv_strdup(ns); /* the caller's copy dies first */
    for (size_t i = 0; i < n; i++) {
        ekv_msg_t *d = &b->drafts[i];
        d->ns = (ekv_bytes_t){nsid, strlen(nsid)};
        if (coord_rate_allow(c, d->ns, d->key)) {
            b->drafts[kept++] = *d;
            d->op == EKV_OP_PUT ? c->st.writes++ : c->st.deletes++;
            c->st.bytes_in += d->value.len;
        } else {
            json_array_append_new(b->refused, json_stringn(d->key.ptr, d->key.len));
        }
    }
    b->cm = (commit_t){b->drafts, kept, bulk_done, b, NULL};
    coord_submit(c, &b->cm);
}

void rest_bulk_put(ekv_coord_t *c, struct evhttp_request *req, const char *ns)
{
    json_t *doc = bulk_array(c, req);
    if (!doc)
        return;
    size_t n = json_array_size(doc);
    bulk_t *b = bulk_new(c, req, doc, n);
    ekv_kv_error_t err = {0};
    for (size_t i = 0; i < n; i++)
        if (put_item(b, json_array_get(doc, i), &b->drafts[i], &err) != EKV_OK) {
            rest_fail_kv(c, req, &err);
            bulk_free(b);
            return;
        }
    admit(c, b, ns, n);
}

void rest_bulk_delete(ekv_coord_t *c, struct evhttp_request *req, const char *ns)
{
    json_t *doc = bulk_array(c, req);
    if (!doc)
        return;
    size_t n = json_array_size(doc);
    bulk_t *b = bulk_new(c, req, doc, n);
    ekv_kv_error_t err = {0};
    for (size_t i = 0; i < n; i++) {
        json_t *k = json_array_get(doc, i);
        if (json_is_object(k)) /* [{"key": ...}] is accepted too */
            k = json_object_get(k, "key");
        if (item_key(k, &b->drafts[i].key, &err) != EKV_OK) {
            rest_fail_kv(c, req, &err);
            bulk_free(b);
            return;
        }
        b->drafts[i].op = EKV_OP_DELETE;
    }
    admit(c, b, ns, n);
}

/* ---- bulk get ---------------------------------------------------------------------------- */

/* One key's entry of the reply; NULL (with err set) when a json read meets a non-JSON value. */
static json_t *get_one(ekv_coord_t *c, const char *ns, ekv_bytes_t key, int as_json, int with_meta,
                       size_t *total, ekv_kv_error_t *err)
{
    ekv_msg_t m;
    int rc = ekv_store_get(c->store, (ekv_bytes_t){ns, strlen(ns)}, key, &m);
    c->st.reads++;
    if (rc == EKV_OK && m.expiration && m.expiration <= ekv_now_us() / 1000000) {
        ekv_msg_fini(&m);
        rc = EKV_ENOTFOUND;
    }
    if (rc != EKV_OK)
        return json_null();
    json_t *v = as_json ? json_loadb(m.value.ptr, m.value.len, JSON_DECODE_ANY, NULL)
                        : json_stringn(m.value.ptr, m.value.len);
    *total += m.value.len + m.meta.len;
    if (!v && as_json)
        ekv_kv_err_bulk_not_json(err);
    else if (!v)
        v = json_stringn_nocheck(m.value.ptr, m.value.len); /* binary value read as text */
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
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *keys = json_object_get(doc, "keys");
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *t = json_object_get(doc, "type");
    ekv_kv_error_t err = {0};
    if (!json_is_array(keys) || (t && !json_is_string(t) && !json_is_null(t))) {
        rest_fail(c, req, 400, EKV_REST_INVALID_REQUEST, "expected {\"keys\": [...]}");
        json_decref(doc);
        return;
    }
    if (ekv_kv_check_bulk_get(json_array_size(keys), type, &err) != EKV_OK) {
        rest_fail_kv(c, req, &err);
        json_decref(doc);
        return;
    }
    int as_json = type && !strcmp(type, "json");
    int with_meta = json_is_true(json_object_get(doc, "withMetadata"));
    json_t *values = json_object();
    for (size_t i = 0; i < json_array_size(keys) && !err.status; i++) {
        ekv_bytes_t key;
        if (item_key(json_array_get(keys, i), &key, &err) != EKV_OK)
            break;
        json_t *v = get_one(c, ns, key, as_json, with_meta, &total, &err);
        if (v)
            json_object_setn_new(values, key.ptr, key.len, v);
    }
    if (!err.status && total > EKV_KV_MAX_VALUE)
        ekv_kv_err_bulk_too_large(&err);
    if (err.status) {
        rest_fail_kv(c, req, &err);
        json_decref(values);
    } else {
        rest_ok(c, req, json_pack("{s:o}", "values", values), NULL);
    }
    json_decref(doc);
}
