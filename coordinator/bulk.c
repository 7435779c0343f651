/* bulk: the REST bulk bodies from bytes to drafts and keys (see bulk.h).
 *
 * Keys and plain values are borrowed from the jansson document, which the result keeps;
 * only what parsing creates (base64-decoded values, metadata re-serialised as compact JSON
 * text) is allocated, and listed in `owned`. At most two such buffers exist per item. */
#include "bulk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_base64.h"
#include "ekv_err.h"
#include "ekv_mem.h"

static int invalid(ekv_kv_error_t *err, int status, int code, const char *message)
{
    err->status = status;
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", message);
    return EKV_EINVAL;
}

/* Parses the body as a JSON array of 0..10,000 items, or err. */
static json_t *load_array(const char *body, size_t len, ekv_kv_error_t *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    if (!doc) {
        invalid(err, 400, EKV_REST_INVALID_REQUEST, jerr.text);
        return NULL;
    }
    if (!json_is_array(doc) || json_array_size(doc) > EKV_BULK_MAX) {
        invalid(err, 413, EKV_REST_PAYLOAD_TOO_LARGE,
                "expected a JSON array of at most 10000 items");
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static void bulk_init(ekv_bulk_t *b, json_t *doc)
{
    size_t n = json_array_size(doc);
    memset(b, 0, sizeof *b);
    b->doc = doc;
    b->n = n;
    b->drafts = ekv_calloc(n ? n : 1, sizeof *b->drafts);
    b->owned = ekv_calloc(2 * n + 1, sizeof *b->owned);
}

void ekv_bulk_fini(ekv_bulk_t *b)
{
    for (size_t i = 0; i < b->nowned; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->drafts);
    json_decref(b->doc);
    memset(b, 0, sizeof *b);
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
        return json_string_value(v); /* whole: a cut could change the verdict or a character */
    else
        snprintf(buf, size, "%s", "invalid");
    return buf;
}

/* The item's value, base64-decoded into a new owned buffer when "base64" is true. */
static int item_value(ekv_bulk_t *b, json_t *it, ekv_msg_t *d, ekv_kv_error_t *err)
{
    json_t *v = json_object_get(it, "value");
    if (!json_is_string(v)) {
        ekv_kv_err_set(err, 400, "each item needs a string value");
        return EKV_EINVAL;
    }
    d->value = (ekv_bytes_t){json_string_value(v), json_string_length(v)};
    if (json_is_true(json_object_get(it, "base64"))) {
        char *raw = ekv_b64_decode(d->value.ptr, d->value.len, &d->value.len);
        if (!raw) {
            ekv_kv_err_set(err, 400, "value of key is not valid base64");
            return EKV_EINVAL;
        }
        b->owned[b->nowned++] = raw;
        d->value.ptr = raw;
    }
    return EKV_OK;
}

/* Fills draft d from one bulk-write item, or err. */
static int put_item(ekv_bulk_t *b, json_t *it, int64_t now_s, ekv_msg_t *d, ekv_kv_error_t *err)
{
    if (!json_is_object(it) || item_key(json_object_get(it, "key"), &d->key, err) != EKV_OK)
        return err->status ? EKV_EINVAL
                           : (ekv_kv_err_set(err, 400, "each item needs a key"), EKV_EINVAL);
    if (item_value(b, it, d, err) != EKV_OK)
        return EKV_EINVAL;
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
                                     now_s, &d->expiration, err);
}

int ekv_bulk_parse_put(const char *body, size_t len, int64_t now_s, ekv_bulk_t *out,
                       ekv_kv_error_t *err)
{
    memset(out, 0, sizeof *out);
    json_t *doc = load_array(body, len, err);
    if (!doc)
        return EKV_EINVAL;
    bulk_init(out, doc);
    for (size_t i = 0; i < out->n; i++)
        if (put_item(out, json_array_get(doc, i), now_s, &out->drafts[i], err) != EKV_OK) {
            ekv_bulk_fini(out);
            return EKV_EINVAL;
        }
    return EKV_OK;
}

int ekv_bulk_parse_delete(const char *body, size_t len, ekv_bulk_t *out, ekv_kv_error_t *err)
{
    memset(out, 0, sizeof *out);
    json_t *doc = load_array(body, len, err);
    if (!doc)
        return EKV_EINVAL;
    bulk_init(out, doc);
    for (size_t i = 0; i < out->n; i++) {
        json_t *k = json_array_get(doc, i);
        if (json_is_object(k)) /* [{"key": ...}] is accepted too */
            k = json_object_get(k, "key");
        if (item_key(k, &out->drafts[i].key, err) != EKV_OK) {
            ekv_bulk_fini(out);
            return EKV_EINVAL;
        }
        out->drafts[i].op = EKV_OP_DELETE;
    }
    return EKV_OK;
}

/* ---- bulk get ---------------------------------------------------------------------------- */

void ekv_bulk_get_fini(ekv_bulk_get_t *g)
{
    free(g->keys);
    json_decref(g->doc);
    memset(g, 0, sizeof *g);
}

int ekv_bulk_parse_get(const char *body, size_t len, ekv_bulk_get_t *out, ekv_kv_error_t *err)
{
    memset(out, 0, sizeof *out);
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *keys = json_object_get(doc, "keys");
    json_t *t = json_object_get(doc, "type");
    const char *type = json_string_value(t);
    if (!json_is_array(keys) || (t && !json_is_string(t) && !json_is_null(t))) {
        json_decref(doc);
        return invalid(err, 400, EKV_REST_INVALID_REQUEST, "expected {\"keys\": [...]}");
    }
    size_t n = json_array_size(keys);
    if (ekv_kv_check_bulk_get(n, type, err) != EKV_OK) {
        json_decref(doc);
        return EKV_EINVAL;
    }
    out->doc = doc;
    out->as_json = type && !strcmp(type, "json");
    out->with_meta = json_is_true(json_object_get(doc, "withMetadata"));
    out->keys = ekv_calloc(n, sizeof *out->keys);
    for (size_t i = 0; i < n; i++) {
        if (item_key(json_array_get(keys, i), &out->keys[i], &out->key_err) != EKV_OK)
            break;
        out->nkeys++;
    }
    return EKV_OK;
}
