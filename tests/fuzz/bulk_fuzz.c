/* bulk_fuzz: libFuzzer target of the REST bulk body parsers (coordinator/bulk).
 *
 * The input is a request body, copied into a buffer of exactly its size, and is fed to all
 * three parsers: bulk write, bulk delete and bulk get (now fixed at NOW_S). Each must answer
 * EKV_OK or EKV_EINVAL, never crash, over-read or leak. A refusal must carry a KV-SPEC error
 * (status 400, 413 or 414, a known REST code, a terminated non-empty message) and leave the
 * result zeroed. An acceptance must hold only what the KV rules allow: at most 10000 items
 * (1..100 keys for a get), valid keys equal to the request's own strings, values of at most
 * 25 MiB, metadata of at most 1024 bytes of valid JSON, no expiration sooner than 60 s ahead.
 * And it must survive a round trip: the drafts written back as a canonical body (values in
 * base64, expirations absolute) parse to the same drafts, which also checks the base64
 * decoder against an independent encoder. A broken promise aborts, which libFuzzer reports
 * with the input as reproducer. replay_main.c feeds the committed corpus (corpus/bulk) to the
 * same entry point under ctest. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "ekv_err.h"
#include "ekv_kv.h"

#define NOW_S 1700000000LL

static void fail(const char *what)
{
    fprintf(stderr, "bulk_fuzz: %s\n", what);
    abort();
}

static int same_bytes(ekv_bytes_t a, ekv_bytes_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int zeroed(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static void check_error(const ekv_kv_error_t *err)
{
    static const int codes[] = {EKV_REST_INVALID_REQUEST,    EKV_REST_PAYLOAD_TOO_LARGE,
                                EKV_REST_KEY_TOO_LONG,       EKV_REST_ILLEGAL_KEY,
                                EKV_REST_INVALID_EXPIRATION, EKV_REST_INVALID_EXPIRATION_TTL,
                                EKV_REST_INVALID_METADATA};
    if (err->status != 400 && err->status != 413 && err->status != 414)
        fail("refused with a status other than 400, 413 or 414");
    int known = 0;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        known |= err->code == codes[i];
    if (!known)
        fail("refused with an unknown REST code");
    if (!memchr(err->message, '\0', sizeof err->message) || !err->message[0])
        fail("error message empty or not terminated");
}

static void check_key(ekv_bytes_t key, json_t *want)
{
    ekv_kv_error_t err;
    if (ekv_kv_check_key(key.ptr, key.len, &err) != EKV_OK)
        fail("accepted an invalid key");
    if (!json_is_string(want) ||
        !same_bytes(key, (ekv_bytes_t){json_string_value(want), json_string_length(want)}))
        fail("key differs from the request's");
}

static char *b64(const char *p, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(n / 3 * 4 + 5), *o = out;
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        *o++ = set[v >> 18 & 63];
        *o++ = set[v >> 12 & 63];
        *o++ = i + 1 < n ? set[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? set[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static void check_draft(const ekv_msg_t *d, json_t *item)
{
    if (d->op != EKV_OP_PUT || d->ns.len || (d->flags & ~EKV_MSG_F_METADATA))
        fail("write draft with a wrong op, a namespace or unknown flags");
    check_key(d->key, json_object_get(item, "key"));
    if (d->value.len > EKV_KV_MAX_VALUE || (d->value.len && !d->value.ptr))
        fail("value over 25 MiB or without bytes");
    json_t *v = json_object_get(item, "value");
    if (!json_is_true(json_object_get(item, "base64")) &&
        !same_bytes(d->value, (ekv_bytes_t){json_string_value(v), json_string_length(v)}))
        fail("plain value differs from the request's");
    if (d->flags) {
        if (d->meta.len > EKV_KV_MAX_METADATA || d->meta.ptr[d->meta.len] != '\0')
            fail("metadata too long or not terminated");
        json_t *m = json_loadb(d->meta.ptr, d->meta.len, JSON_DECODE_ANY, NULL);
        if (!m)
            fail("metadata is not JSON");
        json_decref(m);
    } else if (d->meta.len) {
        fail("metadata without its flag");
    }
    if (d->expiration != 0 && d->expiration < NOW_S + EKV_KV_MIN_TTL)
        fail("expiration sooner than 60 seconds ahead");
}

/* The drafts as a canonical bulk-write body. */
static char *put_body(const ekv_bulk_t *b)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < b->n; i++) {
        const ekv_msg_t *d = &b->drafts[i];
        char *v = b64(d->value.ptr, d->value.len);
        json_t *it =
            json_pack("{s:s%, s:s, s:b}", "key", d->key.ptr, d->key.len, "value", v, "base64", 1);
        free(v);
        if (!it)
            fail("a key is not valid UTF-8");
        if (d->flags)
            json_object_set_new(it, "metadata",
                                json_loadb(d->meta.ptr, d->meta.len, JSON_DECODE_ANY, NULL));
        if (d->expiration)
            json_object_set_new(it, "expiration", json_integer(d->expiration));
        json_array_append_new(arr, it);
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text;
}

static void fuzz_put(const char *body, size_t len)
{
    ekv_bulk_t b;
    ekv_kv_error_t err;
    memset(&err, 0, sizeof err);
    if (ekv_bulk_parse_put(body, len, NOW_S, &b, &err) != EKV_OK) {
        check_error(&err);
        if (!zeroed(&b, sizeof b))
            fail("refused write left a result behind");
        return;
    }
    if (!json_is_array(b.doc) || b.n != json_array_size(b.doc) || b.n > EKV_BULK_MAX)
        fail("item count differs from the request's");
    if (b.nowned > 2 * b.n)
        fail("more than two owned buffers per item");
    for (size_t i = 0; i < b.n; i++)
        check_draft(&b.drafts[i], json_array_get(b.doc, i));
    char *text = put_body(&b);
    ekv_bulk_t again;
    if (!text || ekv_bulk_parse_put(text, strlen(text), NOW_S, &again, &err) != EKV_OK)
        fail("the canonical body of accepted drafts is refused");
    if (again.n != b.n)
        fail("round trip changed the item count");
    for (size_t i = 0; i < b.n; i++) {
        const ekv_msg_t *x = &b.drafts[i], *y = &again.drafts[i];
        if (!same_bytes(x->key, y->key) || !same_bytes(x->value, y->value))
            fail("round trip changed a key or value (base64)");
        if (x->flags != y->flags || !same_bytes(x->meta, y->meta))
            fail("round trip changed the metadata");
        if (x->expiration != y->expiration)
            fail("round trip changed the expiration");
    }
    free(text);
    ekv_bulk_fini(&again);
    ekv_bulk_fini(&b);
    if (!zeroed(&b, sizeof b))
        fail("fini left something behind");
}

static void fuzz_delete(const char *body, size_t len)
{
    ekv_bulk_t b;
    ekv_kv_error_t err;
    memset(&err, 0, sizeof err);
    if (ekv_bulk_parse_delete(body, len, &b, &err) != EKV_OK) {
        check_error(&err);
        if (!zeroed(&b, sizeof b))
            fail("refused delete left a result behind");
        return;
    }
    if (!json_is_array(b.doc) || b.n != json_array_size(b.doc) || b.n > EKV_BULK_MAX || b.nowned)
        fail("delete item count differs from the request's, or owns buffers");
    json_t *arr = json_array();
    for (size_t i = 0; i < b.n; i++) {
        const ekv_msg_t *d = &b.drafts[i];
        json_t *it = json_array_get(b.doc, i);
        if (d->op != EKV_OP_DELETE || d->value.len || d->flags || d->expiration)
            fail("delete draft with a wrong op or a value");
        check_key(d->key, json_is_object(it) ? json_object_get(it, "key") : it);
        json_array_append_new(arr, i % 2 ? json_pack("{s:s%}", "key", d->key.ptr, d->key.len)
                                         : json_stringn(d->key.ptr, d->key.len));
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    ekv_bulk_t again;
    if (!text || ekv_bulk_parse_delete(text, strlen(text), &again, &err) != EKV_OK ||
        again.n != b.n)
        fail("the canonical body of accepted deletes is refused or differs");
    for (size_t i = 0; i < b.n; i++)
        if (!same_bytes(b.drafts[i].key, again.drafts[i].key))
            fail("delete round trip changed a key");
    free(text);
    ekv_bulk_fini(&again);
    ekv_bulk_fini(&b);
}

static void check_get(const ekv_bulk_get_t *g)
{
    json_t *keys = json_object_get(g->doc, "keys");
    size_t n = json_array_size(keys);
    if (!json_is_array(keys) || n < 1 || n > EKV_KV_BULK_GET_MAX || g->nkeys > n)
        fail("get accepted outside 1..100 keys");
    if ((g->nkeys < n) != (g->key_err.status != 0))
        fail("get stopped early without a key error, or the other way round");
    if (g->key_err.status) {
        check_error(&g->key_err);
        if (g->key_err.status == 413)
            fail("a key error with status 413");
    }
    for (size_t i = 0; i < g->nkeys; i++)
        check_key(g->keys[i], json_array_get(keys, i));
    const char *type = json_string_value(json_object_get(g->doc, "type"));
    if (g->as_json != (type && !strcmp(type, "json")) || (g->with_meta & ~1))
        fail("get type or withMetadata differs from the request's");
}

static void fuzz_get(const char *body, size_t len)
{
    ekv_bulk_get_t g;
    ekv_kv_error_t err;
    memset(&err, 0, sizeof err);
    if (ekv_bulk_parse_get(body, len, &g, &err) != EKV_OK) {
        check_error(&err);
        if (err.status != 400 || !zeroed(&g, sizeof g))
            fail("refused get not 400, or left a result behind");
        return;
    }
    check_get(&g);
    if (g.nkeys) {
        json_t *keys = json_array();
        for (size_t i = 0; i < g.nkeys; i++)
            json_array_append_new(keys, json_stringn(g.keys[i].ptr, g.keys[i].len));
        json_t *req = json_pack("{s:o, s:s, s:b}", "keys", keys, "type",
                                g.as_json ? "json" : "text", "withMetadata", g.with_meta);
        char *text = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        ekv_bulk_get_t again;
        if (!text || ekv_bulk_parse_get(text, strlen(text), &again, &err) != EKV_OK ||
            again.nkeys != g.nkeys || again.key_err.status || again.as_json != g.as_json ||
            again.with_meta != g.with_meta)
            fail("the canonical body of an accepted get is refused or differs");
        for (size_t i = 0; i < g.nkeys; i++)
            if (!same_bytes(g.keys[i], again.keys[i]))
                fail("get round trip changed a key");
        free(text);
        ekv_bulk_get_fini(&again);
    }
    ekv_bulk_get_fini(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);
    fuzz_put(body, size);
    fuzz_delete(body, size);
    fuzz_get(body, size);
    free(body);
    return 0;
}
