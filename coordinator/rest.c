/* rest: the Cloudflare REST API of KV-SPEC.md section 3, plus /health and /metrics.
 *
 * Base: /client/v4/accounts/{account}/storage/kv/namespaces. Any account id and bearer token
 * are accepted unless --api-token is set. Path segments are kept percent-encoded until a key
 * is decoded by the shared KV rules, so a key with "/" (sent as %2F) survives. Writes are
 * drafts handed to the group commit (coord_submit); the HTTP reply is sent when the group is
 * durable. Reads go straight to the store.
 *
 * Remote text never reaches a reply unchecked: jansson refuses to build or dump a string that
 * is not UTF-8, so messages are UTF-8 by construction (ekv_kv), keys are UTF-8 since they are
 * checked (an older build's key is rendered apart, see key_entry), and a reply that still
 * cannot be encoded is a 500 with a fixed body rather than a crash. */
#include "rest.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "ekv_base64.h"
#include "ekv_digest.h"
#include "ekv_err.h"
#include "ekv_http.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_sec.h"
#include "ekv_time.h"
#include "multipart.h"

#define API_PREFIX "/client/v4"
#define MAX_BODY   (110u * 1024 * 1024) /* bulk requests may be 100 MB */

/* ---- envelope ---------------------------------------------------------------------------- */

/* The reply when a JSON reply cannot be built or encoded (j or its text NULL). */
static const char INTERNAL_ERROR[] =
    "{\"success\":false,\"errors\":[{\"code\":10029,\"message\":\"Internal error: the reply "
    "could not be encoded\"}],\"messages\":[],\"result\":null}";

/* Sends j (stolen, may be NULL) as the reply. */
static void send_json(struct evhttp_request *req, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!text) {
        ekv_warn("rest: a %d reply could not be encoded; 500 sent instead", status);
        status = 500;
    }
    struct evbuffer *b = evbuffer_new();
    if (text)
        evbuffer_add(b, text, strlen(text));
    else
        evbuffer_add(b, INTERNAL_ERROR, sizeof INTERNAL_ERROR - 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", b);
    evbuffer_free(b);
    free(text);
    json_decref(j);
}

void rest_ok(ekv_coord_t *c, struct evhttp_request *req, json_t *result, json_t *info)
{
    (void)c;
    json_t *j = json_pack("{s:b, s:[], s:[], s:o}", "success", 1, "errors", "messages", "result",
                          result ? result : json_null());
    if (info)
        json_object_set_new(j, "result_info", info);
    send_json(req, 200, j);
}

void rest_fail(ekv_coord_t *c, struct evhttp_request *req, int status, int code,
               const char *message)
{
    if (status > 0 && status < 600)
        c->st.errors[status]++;
    /* ekv_kv's messages are UTF-8; any other caller's text is made so rather than lost. */
    size_t n = strlen(message);
    char *fixed = ekv_kv_utf8_valid(message, n) ? NULL : ekv_kv_utf8_lossy(message, n, &n);
    json_t *j = json_pack("{s:b, s:[{s:i, s:s}], s:[], s:n}", "success", 0, "errors", "code", code,
                          "message", fixed ? fixed : message, "messages", "result");
    free(fixed);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (status == 429 && !evhttp_find_header(h, "Retry-After"))
        evhttp_add_header(h, "Retry-After", "1");
    send_json(req, status, j);
}

void rest_fail_kv(ekv_coord_t *c, struct evhttp_request *req, const ekv_kv_error_t *err)
{
    rest_fail(c, req, err->status, err->code, err->message);
}

const char *rest_body(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    *len = evbuffer_get_length(in);
    return *len ? (const char *)evbuffer_pullup(in, -1) : "";
}

json_t *rest_meta_json(const char *text, size_t len)
{
    json_t *j = text ? json_loadb(text, len, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : json_null();
}

static json_t *ns_json(const ekv_ns_t *ns)
{
    return json_pack("{s:s, s:s, s:b}", "id", ns->id, "title", ns->title, "supports_url_encoding",
                     1);
}

/* ---- namespaces -------------------------------------------------------------------------- */

static int cmp_title(const void *a, const void *b)
{
    const ekv_ns_t *x = *(ekv_ns_t *const *)a, *y = *(ekv_ns_t *const *)b;
    int r = strcmp(x->title, y->title);
    return r ? r : strcmp(x->id, y->id);
}

static long query_long(struct evkeyvalq *q, const char *name, long dflt, long lo, long hi)
{
    const char *s = evhttp_find_header(q, name);
    char *end;
    long v = s ? strtol(s, &end, 10) : dflt;
    if (s && (*s == '\0' || *end != '\0'))
        return lo - 1; /* not a number: out of range */
    return v < lo || v > hi ? lo - 1 : v;
}

static void ns_list(ekv_coord_t *c, struct evhttp_request *req, struct evkeyvalq *q)
{
    long page = query_long(q, "page", 1, 1, 1000000);
    long per = query_long(q, "per_page", 20, 1, 1000);
    const char *order = evhttp_find_header(q, "order");
    const char *dir = evhttp_find_header(q, "direction");
    if (page < 1 || per < 1 || (order && strcmp(order, "id") && strcmp(order, "title")) ||
        (dir && strcmp(dir, "asc") && strcmp(dir, "desc"))) {
        rest_fail(c, req, 400, EKV_REST_INVALID_REQUEST,
                  "Invalid page, per_page (1..1000), order (id, title) or direction (asc, desc)");
        return;
    }
    const ekv_ns_t **v = ekv_calloc(c->nns ? c->nns : 1, sizeof *v);
    for (size_t i = 0; i < c->nns; i++)
        v[i] = &c->ns[i]; /* already sorted by id */
    if (order && !strcmp(order, "title"))
        qsort(v, c->nns, sizeof *v, cmp_title);
    json_t *arr = json_array();
    size_t start = (size_t)(page - 1) * (size_t)per;
    for (size_t i = start; i < c->nns && i < start + (size_t)per; i++)
        json_array_append_new(arr, ns_json(v[dir && !strcmp(dir, "desc") ? c->nns - 1 - i : i]));
    json_t *info = json_pack("{s:i, s:i, s:i, s:i}", "page", (int)page, "per_page", (int)per,
                             "count", (int)json_array_size(arr), "total_count", (int)c->nns);
    free(v);
    rest_ok(c, req, arr, info);
}

/* Reads {"title": ...} from the body; NULL when absent. */
static json_t *body_title(struct evhttp_request *req, const char **title)
{
    size_t len;
    const char *body = rest_body(req, &len);
    json_t *j = json_loadb(body, len, 0, NULL);
    *title = json_string_value(json_object_get(j, "title"));
    return j;
}

static void ns_create(ekv_coord_t *c, struct evhttp_request *req)
{
    const char *title;
    json_t *j = body_title(req, &title);
    ekv_ns_t ns;
    ekv_kv_error_t err;
    if (coord_ns_create(c, title, &ns, &err) == EKV_OK)
        rest_ok(c, req, ns_json(&ns), NULL);
    else
        rest_fail_kv(c, req, &err);
    json_decref(j);
}

/* A namespace deletion finished (it runs in steps: coord_ns_delete). */
static void ns_deleted(ekv_coord_t *c, void *arg, int rc)
{
    if (rc == EKV_OK)
        rest_ok(c, arg, json_object(), NULL);
    else
        rest_fail(c, arg, 503, EKV_REST_INVALID_REQUEST, "Storage unavailable");
}

static void ns_one(ekv_coord_t *c, struct evhttp_request *req, const ekv_ns_t *ns)
{
    ekv_kv_error_t err;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_GET) {
        rest_ok(c, req, ns_json(ns), NULL);
    } else if (cmd == EVHTTP_REQ_PUT) {
        const char *title;
        json_t *j = body_title(req, &title);
        char id[33];
        snprintf(id, sizeof id, "%s", ns->id);
        if (coord_ns_rename(c, id, title, &err) == EKV_OK)
            rest_ok(c, req, ns_json(coord_ns_find(c, id, 32)), NULL);
        else
            rest_fail_kv(c, req, &err);
        json_decref(j);
    } else if (cmd == EVHTTP_REQ_DELETE) {
        char id[33];
        snprintf(id, sizeof id, "%s", ns->id);
        if (coord_ns_delete(c, id, ns_deleted, req, &err) != EKV_OK)
            rest_fail_kv(c, req, &err);
    } else {
        rest_fail(c, req, 405, EKV_REST_INVALID_REQUEST, "Method Not Allowed");
    }
}

/* ---- values ------------------------------------------------------------------------------ */

/* A REST write waiting for its group. */
typedef struct {
    commit_t cm;
    ekv_msg_t draft; /* the change; bytes in arena */
    char *arena;
    struct evhttp_request *req;
} http_write_t;

static void http_write_done(ekv_coord_t *c, commit_t *cm, int rc)
{
    http_write_t *w = cm->arg;
    if (rc == EKV_OK) {
        char v[32];
        snprintf(v, sizeof v, "%" PRIu64, w->draft.seq);
        evhttp_add_header(evhttp_request_get_output_headers(w->req), "X-Edgekv-Version", v);
        rest_ok(c, w->req, json_object(), NULL);
    } else {
        rest_fail(c, w->req, 503, EKV_REST_INVALID_REQUEST, "Storage unavailable");
    }
    free(w->arena);
    free(w);
}

/* Copies the pieces of a write into one allocation and submits it. */
static void submit_write(ekv_coord_t *c, struct evhttp_request *req, const char *ns,
                         ekv_bytes_t key, int op, const char *meta, size_t meta_len,
                         const char *value, size_t value_len, int64_t expiration)
{
    http_write_t *w = ekv_calloc(1, sizeof *w);
    size_t nl = strlen(ns);
    char *p = w->arena = ekv_malloc(nl + key.len + meta_len + value_len + 1);
    w->req = req;
    w->draft.op = (uint8_t)op;
    w->draft.expiration = expiration;
    w->draft.flags = meta ? EKV_MSG_F_METADATA : 0;
    memcpy(p, ns, nl);
    w->draft.ns = (ekv_bytes_t){p, nl};
    memcpy(p += nl, key.ptr, key.len);
    w->draft.key = (ekv_bytes_t){p, key.len};
    if (meta_len)
        memcpy(p += key.len, meta, meta_len);
    else
        p += key.len;
    w->draft.meta = (ekv_bytes_t){p, meta_len};
    if (value_len)
        memcpy(p += meta_len, value, value_len);
    else
        p += meta_len;
    w->draft.value = (ekv_bytes_t){p, value_len};
    w->cm = (commit_t){&w->draft, 1, http_write_done, w, NULL};
    op == EKV_OP_PUT ? c->st.writes++ : c->st.deletes++;
    c->st.bytes_in += value_len;
    coord_submit(c, &w->cm);
}

/* Deepest metadata[a][b]... path taken. Each level costs at least 5 bytes of JSON ({"":}), so
 * metadata within its 1024-byte limit never nests deeper than 205; building (and freeing,
 * which recurses in jansson) a deeper object only to refuse it would exhaust the stack. */
#define META_MAX_DEPTH 256

/* Puts value v at the bracket path p ("[a][b]", "[tags][]") under obj, creating objects on
 * the way, one segment per turn of the loop; "[]" appends to an array. Returns -1 when the
 * path is malformed or conflicts. */
static int put_path(json_t *obj, const char *p, size_t n, json_t *v)
{
    for (;;) {
        if (n < 2 || p[0] != '[')
            return -1;
        const char *close = memchr(p, ']', n);
        if (!close)
            return -1;
        size_t seg = (size_t)(close - p - 1), rest = n - seg - 2;
        if (seg == 0) /* [] : append */
            return json_is_array(obj) && rest == 0 ? json_array_append(obj, v) : -1;
        if (!json_is_object(obj))
            return -1;
        char *k = ekv_memdup(p + 1, seg);
        json_t *child = NULL;
        int rc = 0;
        if (rest == 0) {
            rc = json_object_set(obj, k, v);
        } else if (!(child = json_object_get(obj, k))) {
            child = rest >= 2 && close[1] == '[' && close[2] == ']' ? json_array() : json_object();
            rc = json_object_set_new(obj, k, child); /* on failure child is freed: not used */
        }
        free(k);
        if (rc != 0 || rest == 0)
            return rc;
        obj = child;
        p = close + 1;
        n = rest;
    }
}

/* Nesting depth of a bracket path: its number of segments. */
static size_t path_depth(const char *p, size_t n)
{
    size_t d = 0;
    for (const char *e = p + n; (p = memchr(p, ']', (size_t)(e - p))) != NULL; p++)
        d++;
    return d;
}

/* The SDK sends object metadata as form fields, qs-style: {a: "x"} as metadata[a]=x,
 * {a: {b: "c"}} as metadata[a][b]=c, {t: ["x", "y"]} as metadata[t][]=x, metadata[t][]=y.
 * They are put back together into *text (NULL when there are none; free it); every value
 * arrives as text and stays text. A field that is not UTF-8 (JSON cannot hold it) or nests
 * deeper than META_MAX_DEPTH is refused (400, code 10047); a malformed or conflicting path
 * is skipped. */
static int metadata_from_fields(const ekv_part_t *parts, size_t n, char **text, ekv_kv_error_t *err)
{
    json_t *obj = NULL;
    *text = NULL;
    for (size_t i = 0; i < n; i++) {
        const ekv_part_t *p = &parts[i];
        if (p->name_len < 11 || memcmp(p->name, "metadata[", 9) != 0)
            continue;
        if (path_depth(p->name + 8, p->name_len - 8) > META_MAX_DEPTH) {
            ekv_kv_err_set(err, 400, "Invalid metadata: a metadata[...] field nests deeper than %d",
                           META_MAX_DEPTH);
            goto fail;
        }
        if (!ekv_kv_utf8_valid(p->name, p->name_len) || !ekv_kv_utf8_valid(p->data, p->len)) {
            ekv_kv_err_set(err, 400, "Invalid metadata: a metadata[...] field is not UTF-8 text");
            goto fail;
        }
        if (!obj)
            obj = json_object();
        json_t *v = json_stringn(p->data, p->len);
        put_path(obj, p->name + 8, p->name_len - 8, v);
        json_decref(v);
    }
    if (obj && !(*text = json_dumps(obj, JSON_COMPACT))) {
        ekv_kv_err_set(err, 400, "Invalid metadata: the metadata[...] fields are not JSON");
        goto fail;
    }
    json_decref(obj);
    return EKV_OK;
fail:
    err->code = EKV_REST_INVALID_METADATA;
    json_decref(obj);
    return EKV_EINVAL;
}

/* Finds the value and metadata of a raw or multipart body. *meta_owned is set when the
 * metadata text had to be built (free it; it is NULL on failure). EKV_OK, or EKV_EINVAL with
 * err (400) for a malformed body, one without a value part, or bad metadata fields. */
static int write_body(struct evhttp_request *req, const char **value, size_t *vlen,
                      const char **meta, size_t *mlen, char **meta_owned, ekv_kv_error_t *err)
{
    size_t len;
    const char *body = rest_body(req, &len);
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    char boundary[80];
    *meta = NULL;
    *mlen = 0;
    *meta_owned = NULL;
    if (ekv_multipart_boundary(ct, boundary, sizeof boundary) != EKV_OK) {
        *value = body;
        *vlen = len;
        return EKV_OK;
    }
    ekv_part_t parts[EKV_MULTIPART_MAX_PARTS];
    size_t n;
    if (ekv_multipart_parse(boundary, body, len, parts, EKV_MULTIPART_MAX_PARTS, &n) != EKV_OK)
        goto malformed;
    *value = NULL;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].name_len == 5 && !memcmp(parts[i].name, "value", 5)) {
            *value = parts[i].data;
            *vlen = parts[i].len;
        } else if (parts[i].name_len == 8 && !memcmp(parts[i].name, "metadata", 8)) {
            *meta = parts[i].data;
            *mlen = parts[i].len;
        }
    }
    if (!*value)
        goto malformed; /* before the fields are put together: nothing to free */
    if (!*meta && metadata_from_fields(parts, n, meta_owned, err) != EKV_OK)
        return EKV_EINVAL;
    if (*meta_owned) {
        *meta = *meta_owned;
        *mlen = strlen(*meta_owned);
    }
    return EKV_OK;
malformed:
    ekv_kv_err_set(err, 400, "Malformed multipart body: a 'value' part is required");
    return EKV_EINVAL;
}

static void value_put(ekv_coord_t *c, struct evhttp_request *req, const char *ns, ekv_bytes_t key,
                      struct evkeyvalq *q)
{
    ekv_kv_error_t err;
    const char *value, *meta;
    size_t vlen, mlen;
    char *owned;
    int64_t exp;
    if (write_body(req, &value, &vlen, &meta, &mlen, &owned, &err) != EKV_OK) {
        rest_fail_kv(c, req, &err);
        return;
    }
    if (ekv_kv_check_value(vlen, &err) == EKV_OK &&
        (!meta || ekv_kv_check_metadata(meta, mlen, &err) == EKV_OK) &&
        ekv_kv_resolve_expiration(evhttp_find_header(q, "expiration"),
                                  evhttp_find_header(q, "expiration_ttl"), coord_now_s(c), &exp,
                                  &err) == EKV_OK) {
        submit_write(c, req, ns, key, EKV_OP_PUT, meta, mlen, value, vlen,
                     coord_expiration(c, exp));
    } else {
        rest_fail_kv(c, req, &err);
    }
    free(owned);
}

/* Reads the live record of a key; replies 404 (code 10009) and returns non-zero if none. */
static int read_live(ekv_coord_t *c, struct evhttp_request *req, const char *ns, ekv_bytes_t key,
                     ekv_msg_t *m)
{
    int rc = coord_read(c, (ekv_bytes_t){ns, strlen(ns)}, key, m, NULL);
    if (rc == EKV_ENOTFOUND)
        rest_fail(c, req, 404, EKV_REST_KEY_NOT_FOUND, "key not found");
    else if (rc != EKV_OK)
        rest_fail(c, req, 503, EKV_REST_INVALID_REQUEST, "Storage unavailable");
    return rc;
}

static void value_get(ekv_coord_t *c, struct evhttp_request *req, const char *ns, ekv_bytes_t key)
{
    ekv_msg_t m;
    if (read_live(c, req, ns, key, &m) != EKV_OK)
        return;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char v[32];
    if (m.expiration) {
        snprintf(v, sizeof v, "%" PRId64, m.expiration);
        evhttp_add_header(h, "expiration", v);
    }
    snprintf(v, sizeof v, "%" PRIu64, m.seq);
    evhttp_add_header(h, "X-Edgekv-Version", v);
    evhttp_add_header(h, "Content-Type", "application/octet-stream");
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, m.value.ptr, m.value.len);
    c->st.bytes_out += m.value.len;
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
    ekv_msg_fini(&m);
}

static void metadata_get(ekv_coord_t *c, struct evhttp_request *req, const char *ns,
                         ekv_bytes_t key)
{
    ekv_msg_t m;
    if (read_live(c, req, ns, key, &m) != EKV_OK)
        return;
    json_t *meta = m.flags & EKV_MSG_F_METADATA ? rest_meta_json(m.meta.ptr, m.meta.len) : NULL;
    rest_ok(c, req, meta, NULL);
    ekv_msg_fini(&m);
}

/* A key's entry {"name"} of a list. Keys are checked to be UTF-8, but one stored by an older
 * build may not be, and it must neither vanish from the list (JSON cannot hold its bytes, so
 * building its string fails) nor pass for another key. Its "name" is then the key as a
 * Worker reads bytes as text (each ill-formed part as U+FFFD, see ekv_kv_utf8_lossy), which
 * two keys may share, so "name_base64" adds its exact bytes. */
static json_t *key_entry(ekv_bytes_t key)
{
    if (ekv_kv_utf8_valid(key.ptr, key.len))
        return json_pack("{s:s%}", "name", key.ptr, key.len);
    size_t n;
    char *name = ekv_kv_utf8_lossy(key.ptr, key.len, &n),
         *exact = ekv_b64_encode(key.ptr, key.len, EKV_B64_STD);
    json_t *e = json_pack("{s:s%, s:s}", "name", name, n, "name_base64", exact);
    free(name);
    free(exact);
    return e;
}

static void keys_list(ekv_coord_t *c, struct evhttp_request *req, const char *ns,
                      struct evkeyvalq *q)
{
    ekv_kv_error_t err;
    int64_t limit;
    const char *prefix = evhttp_find_header(q, "prefix"), *cursor = evhttp_find_header(q, "cursor");
    char *after = NULL;
    size_t after_len = 0, plen = prefix ? strlen(prefix) : 0;
    if (ekv_kv_parse_list_limit(evhttp_find_header(q, "limit"), 10, &limit, &err) != EKV_OK ||
        ekv_kv_check_prefix(plen, &err) != EKV_OK ||
        (cursor && *cursor && ekv_kv_cursor_decode(cursor, &after, &after_len, &err) != EKV_OK)) {
        rest_fail_kv(c, req, &err);
        return;
    }
    ekv_page_t page;
    ekv_store_list(
        c->store, (ekv_bytes_t){ns, strlen(ns)}, (ekv_bytes_t){prefix ? prefix : "", plen},
        (ekv_bytes_t){after ? after : "", after_len}, (size_t)limit, coord_now_s(c), &page);
    c->st.lists++;
    json_t *arr = json_array();
    for (size_t i = 0; i < page.n; i++) {
        ekv_msg_t h;
        if (ekv_msg_decode_change_head(page.items[i].ptr, page.items[i].len, &h) != EKV_OK)
            continue;
        json_t *e = key_entry(h.key);
        if (h.expiration)
            json_object_set_new(e, "expiration", json_integer(h.expiration));
        if (h.flags & EKV_MSG_F_METADATA)
            json_object_set_new(e, "metadata", rest_meta_json(h.meta.ptr, h.meta.len));
        json_array_append_new(arr, e);
        ekv_msg_fini(&h);
    }
    char *next = page.more && page.cursor ? ekv_kv_cursor_encode(page.cursor, page.cursor_len)
                                          : ekv_strdup("");
    rest_ok(c, req, arr, json_pack("{s:i, s:s}", "count", (int)page.n, "cursor", next));
    free(next);
    free(after);
    ekv_page_fini(&page);
}

/* ---- routing ----------------------------------------------------------------------------- */

/* A request below .../storage/kv/namespaces/{ns}, for the handlers of the route table. */
typedef struct {
    ekv_coord_t *c;
    struct evhttp_request *req;
    struct evkeyvalq *q;
    enum evhttp_cmd_type cmd;
    const ekv_ns_t *ns; /* the namespace named */
    char nsid[33];      /* its id, which outlives a rename or delete of the table entry */
    ekv_bytes_t key;    /* values/ and metadata/ routes: the decoded, checked key */
} call_t;

typedef void (*route_fn)(call_t *k);

static void route_ns(call_t *k)
{
    ns_one(k->c, k->req, k->ns);
}

static void route_keys(call_t *k)
{
    keys_list(k->c, k->req, k->nsid, k->q);
}

static void route_bulk_put(call_t *k)
{
    rest_bulk_put(k->c, k->req, k->nsid);
}

static void route_bulk_delete(call_t *k)
{
    rest_bulk_delete(k->c, k->req, k->nsid);
}

static void route_bulk_get(call_t *k)
{
    rest_bulk_get(k->c, k->req, k->nsid);
}

static void route_value(call_t *k)
{
    if (k->cmd == EVHTTP_REQ_GET)
        value_get(k->c, k->req, k->nsid, k->key);
    else if (k->cmd == EVHTTP_REQ_DELETE)
        submit_write(k->c, k->req, k->nsid, k->key, EKV_OP_DELETE, NULL, 0, NULL, 0, 0);
    else
        value_put(k->c, k->req, k->nsid, k->key, k->q);
}

static void route_metadata(call_t *k)
{
    metadata_get(k->c, k->req, k->nsid, k->key);
}

#define M_GET    EVHTTP_REQ_GET
#define M_PUT    EVHTTP_REQ_PUT
#define M_POST   EVHTTP_REQ_POST
#define M_DELETE EVHTTP_REQ_DELETE

/* The routes below a namespace: the path after "{ns}" (exact, or a prefix followed by a
 * key), the methods, whether it writes (refused while the commit queue is full), and the
 * handler. A path that matches with another method is 405; none matching is 404. */
static const struct {
    const char *sub; /* "" is the namespace itself */
    int keyed;       /* sub is followed by a percent-encoded key */
    int methods;
    int writes;
    route_fn fn;
} ns_routes[] = {
    {"", 0, M_GET | M_PUT | M_DELETE, 0, route_ns},
    {"/keys", 0, M_GET, 0, route_keys},
    {"/bulk", 0, M_PUT, 1, route_bulk_put},
    {"/bulk", 0, M_DELETE, 1, route_bulk_delete},
    {"/bulk/delete", 0, M_POST, 1, route_bulk_delete},
    {"/bulk/get", 0, M_POST, 0, route_bulk_get},
    {"/values/", 1, M_GET | M_PUT | M_POST | M_DELETE, 1, route_value},
    {"/metadata/", 1, M_GET, 0, route_metadata},
};

/* Decodes and checks the key of a keyed route; replies and returns non-zero when it is bad.
 * A delete may name a key stored by an older build that was not UTF-8 (it lists with
 * name_base64), so that it can still be removed. */
static int route_key(call_t *k, const char *raw, char **key)
{
    size_t klen;
    ekv_kv_error_t err;
    int rc = ekv_kv_decode_key(raw, strlen(raw), key, &klen, &err);
    if (rc == EKV_OK)
        rc = k->cmd == EVHTTP_REQ_DELETE ? ekv_kv_check_key_stored(*key, klen, &err)
                                         : ekv_kv_check_key(*key, klen, &err);
    if (rc != EKV_OK) {
        free(*key);
        *key = NULL;
        rest_fail_kv(k->c, k->req, &err);
        return -1;
    }
    k->key = (ekv_bytes_t){*key, klen};
    return 0;
}

/* Routes /{ns}[/...] below .../storage/kv/namespaces; rest is the path after "namespaces". */
static void kv_route(ekv_coord_t *c, struct evhttp_request *req, const char *rest,
                     struct evkeyvalq *q)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (*rest == '\0' || !strcmp(rest, "/")) {
        if (cmd == EVHTTP_REQ_POST)
            ns_create(c, req);
        else if (cmd == EVHTTP_REQ_GET)
            ns_list(c, req, q);
        else
            rest_fail(c, req, 405, EKV_REST_INVALID_REQUEST, "Method Not Allowed");
        return;
    }
    const char *id = rest + 1, *slash = strchr(id, '/');
    size_t idlen = slash ? (size_t)(slash - id) : strlen(id);
    call_t k = {c, req, q, cmd, coord_ns_find(c, id, idlen), "", {"", 0}};
    if (!k.ns) {
        rest_fail(c, req, 404, EKV_REST_NS_NOT_FOUND, "namespace not found");
        return;
    }
    snprintf(k.nsid, sizeof k.nsid, "%s", k.ns->id);
    const char *sub = id + idlen;
    int path_known = 0;
    for (size_t i = 0; i < sizeof ns_routes / sizeof ns_routes[0]; i++) {
        size_t n = strlen(ns_routes[i].sub);
        if (ns_routes[i].keyed ? strncmp(sub, ns_routes[i].sub, n) : strcmp(sub, ns_routes[i].sub))
            continue;
        path_known = 1;
        if (!(ns_routes[i].methods & (int)cmd))
            continue;
        char *key = NULL;
        if (ns_routes[i].keyed && route_key(&k, sub + n, &key) != 0)
            return;
        if (ns_routes[i].writes && (cmd != EVHTTP_REQ_GET) && coord_busy(c)) {
            c->st.busy++;
            rest_fail(c, req, 503, EKV_REST_INVALID_REQUEST, COORD_BUSY_MESSAGE);
        } else {
            ns_routes[i].fn(&k);
        }
        free(key);
        return;
    }
    if (path_known)
        rest_fail(c, req, 405, EKV_REST_INVALID_REQUEST, "Method Not Allowed");
    else
        rest_fail(c, req, 404, 7003, "No route for that URI");
}

static void memberships(ekv_coord_t *c, struct evhttp_request *req)
{
    json_t *m = json_pack("[{s:s, s:s, s:{s:s, s:s}, s:[s]}]", "id",
                          "00000000000000000000000000000001", "status", "accepted", "account", "id",
                          c->cfg.account_id, "name", "edgekv", "roles", "Administrator");
    rest_ok(
        c, req, m,
        json_pack("{s:i, s:i, s:i, s:i}", "page", 1, "per_page", 20, "count", 1, "total_count", 1));
}

static void metrics(ekv_coord_t *c, struct evhttp_request *req)
{
    const coord_stats_t *s = &c->st;
    uint64_t published, published_bytes;
    coord_published(c, &published, &published_bytes);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(
        b,
        "# HELP edgekv_operations_total Operations by kind, REST API and PoPs together.\n"
        "# TYPE edgekv_operations_total counter\n"
        "edgekv_operations_total{op=\"read\"} %" PRIu64 "\n"
        "edgekv_operations_total{op=\"write\"} %" PRIu64 "\n"
        "edgekv_operations_total{op=\"delete\"} %" PRIu64 "\n"
        "edgekv_operations_total{op=\"list\"} %" PRIu64 "\n"
        "# HELP edgekv_value_bytes_total Value bytes written (in) and read (out).\n"
        "# TYPE edgekv_value_bytes_total counter\n"
        "edgekv_value_bytes_total{dir=\"in\"} %" PRIu64 "\n"
        "edgekv_value_bytes_total{dir=\"out\"} %" PRIu64 "\n"
        "# HELP edgekv_latest_sequence Sequence number of the last committed change.\n"
        "# TYPE edgekv_latest_sequence gauge\nedgekv_latest_sequence %" PRIu64 "\n"
        "# HELP edgekv_change_log_entries Changes kept in the change log for catch-ups.\n"
        "# TYPE edgekv_change_log_entries gauge\n"
        "edgekv_change_log_entries %" PRIu64 "\n"
        "# HELP edgekv_published_changes_total Changes published to the PoPs and tiers.\n"
        "# TYPE edgekv_published_changes_total counter\n"
        "edgekv_published_changes_total %" PRIu64 "\n"
        "# HELP edgekv_published_bytes_total Bytes of the published changes.\n"
        "# TYPE edgekv_published_bytes_total counter\n"
        "edgekv_published_bytes_total %" PRIu64 "\n"
        "# HELP edgekv_commit_groups_total Commit groups: writes committed together.\n"
        "# TYPE edgekv_commit_groups_total counter\n"
        "edgekv_commit_groups_total %" PRIu64 "\n"
        "# HELP edgekv_expired_keys_total Keys deleted by the expiration sweeper.\n"
        "# TYPE edgekv_expired_keys_total counter\n"
        "edgekv_expired_keys_total %" PRIu64 "\n"
        "# HELP edgekv_catchups_total Catch-up requests answered.\n"
        "# TYPE edgekv_catchups_total counter\nedgekv_catchups_total %" PRIu64 "\n"
        "# HELP edgekv_malformed_messages_total Malformed wire messages received and dropped.\n"
        "# TYPE edgekv_malformed_messages_total counter\n"
        "edgekv_malformed_messages_total %" PRIu64 "\n"
        "# HELP edgekv_namespaces Namespaces that exist.\n"
        "# TYPE edgekv_namespaces gauge\nedgekv_namespaces %zu\n"
        "# HELP edgekv_namespace_deletions Namespace deletions under way.\n"
        "# TYPE edgekv_namespace_deletions gauge\n"
        "edgekv_namespace_deletions %d\n"
        "# HELP edgekv_busy_total Writes and catch-ups refused with 503: commit queue full.\n"
        "# TYPE edgekv_busy_total counter\nedgekv_busy_total %" PRIu64 "\n"
        "# HELP edgekv_errors_total Error replies by HTTP status.\n"
        "# TYPE edgekv_errors_total counter\n",
        s->reads, s->writes, s->deletes, s->lists, s->bytes_in, s->bytes_out,
        ekv_store_last_seq(c->store), ekv_store_log_size(c->store), published, published_bytes,
        s->commits, s->expired, s->catchups, s->malformed, c->nns, c->ns_jobs, s->busy);
    for (int i = 0; i < 600; i++)
        if (s->errors[i])
            evbuffer_add_printf(b, "edgekv_errors_total{status=\"%d\"} %" PRIu64 "\n", i,
                                s->errors[i]);
    evbuffer_add_printf(b,
                        "# HELP edgekv_zap_denied_total CURVE clients refused: not the world's "
                        "client key.\n"
                        "# TYPE edgekv_zap_denied_total counter\n"
                        "edgekv_zap_denied_total %" PRIu64 "\n",
                        ekv_zap_denied(c->zap));
    ekv_http_metrics(b, NULL); /* connections: open, peak, refused, timed out */
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

/* GET /_edgekv/digest: the digest of every live record (see ekv_digest.h), for verify. The
 * store is walked a page at a time, each page on its own turn of the loop, so a large store
 * never holds up heartbeats and other requests. */
typedef struct {
    ekv_coord_t *c;
    struct evhttp_request *req;
    struct event *ev; /* runs the next step */
    uint64_t digest, count, seq;
    int64_t now_s;
    char *cursor; /* where the next page starts (NULL: the beginning) */
    size_t cursor_len;
} digest_t;

static void digest_step(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    digest_t *d = arg;
    ekv_page_t page = {0};
    ekv_store_snapshot_read(d->c->store, (ekv_bytes_t){d->cursor ? d->cursor : "", d->cursor_len},
                            4096, 8u << 20, &page);
    if (!d->cursor)
        d->seq = page.seq; /* every change up to it is in what the walk sees */
    for (size_t i = 0; i < page.n; i++) {
        ekv_msg_t h;
        if (ekv_msg_decode_change_head(page.items[i].ptr, page.items[i].len, &h) != EKV_OK)
            continue;
        if (ekv_store_live(h.expiration, d->now_s)) {
            d->digest ^= ekv_digest_entry(h.ns.ptr, h.ns.len, h.key.ptr, h.key.len, h.seq);
            d->count++;
        }
        ekv_msg_fini(&h);
    }
    free(d->cursor);
    d->cursor = page.cursor ? ekv_memdup(page.cursor, page.cursor_len) : ekv_strdup("");
    d->cursor_len = page.cursor_len;
    int more = page.more;
    ekv_page_fini(&page);
    if (more) {
        /* A zero timeout, not event_active: an event activated from its own callback would
         * run again before the loop polls its sockets, starving them until the walk ends. */
        struct timeval now = {0, 0};
        event_add(d->ev, &now);
        return;
    }
    char hex[32];
    snprintf(hex, sizeof hex, "%016" PRIx64, d->digest);
    send_json(d->req, 200,
              json_pack("{s:s, s:I, s:I}", "digest", hex, "entries", (json_int_t)d->count, "seq",
                        (json_int_t)d->seq));
    event_free(d->ev);
    free(d->cursor);
    free(d);
}

static void digest(ekv_coord_t *c, struct evhttp_request *req)
{
    digest_t *d = ekv_calloc(1, sizeof *d);
    d->c = c;
    d->req = req;
    d->now_s = coord_now_s(c);
    d->ev = event_new(c->base, -1, 0, digest_step, d);
    event_priority_set(d->ev, COORD_PRIO_BACKGROUND); /* after every ready socket */
    digest_step(-1, 0, d);
}

/* The account's API rate limit: N requests in a 5-minute window, then 429 until the window
 * ends (Cloudflare blocks every call for the rest of the five minutes). Returns 1 when this
 * request may go on; else it has been answered. */
#define API_WINDOW_US (300 * INT64_C(1000000))
static int api_allowed(ekv_coord_t *c, struct evhttp_request *req)
{
    if (c->cfg.api_rate_limit <= 0)
        return 1;
    int64_t now = ekv_mono_us();
    if (c->api_window_us == 0 || now - c->api_window_us >= API_WINDOW_US) {
        c->api_window_us = now;
        c->api_requests = 0;
    }
    if (++c->api_requests <= c->cfg.api_rate_limit)
        return 1;
    char wait[32];
    snprintf(wait, sizeof wait, "%" PRId64,
             (API_WINDOW_US - (now - c->api_window_us) + 999999) / 1000000);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", wait);
    rest_fail(c, req, 429, EKV_REST_API_RATE_LIMITED,
              "Please wait and consider throttling your request speed");
    return 0;
}

static int authorized(ekv_coord_t *c, struct evhttp_request *req)
{
    return ekv_http_bearer_ok(req, c->cfg.api_token);
}

/* The world's token (EDGEKV_TOKEN) guards /metrics and the digest too; --api-token alone
 * guards the REST API only, as before. */
static int admin_authorized(ekv_coord_t *c, struct evhttp_request *req)
{
    const ekv_sec_t *sec = c->cfg.sec;
    return ekv_http_bearer_ok(req, sec && sec->has_token ? sec->token : NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    ekv_coord_t *c = arg;
    if (!ekv_http_version_ok(req))
        return;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (!path)
        path = "/";
    if (query && evhttp_parse_query_str(query, &q) != 0) {
        rest_fail(c, req, 400, EKV_REST_INVALID_REQUEST, "Malformed query string");
    } else if (!strcmp(path, "/health")) {
        uint64_t published, published_bytes;
        coord_published(c, &published, &published_bytes);
        json_t *h = json_pack("{s:b, s:I, s:i, s:I, s:I}", "ok", 1, "seq",
                              (json_int_t)ekv_store_last_seq(c->store), "namespaces", (int)c->nns,
                              "published", (json_int_t)published, "published_bytes",
                              (json_int_t)published_bytes);
        send_json(req, 200, h);
    } else if ((!strcmp(path, "/metrics") || !strcmp(path, "/_edgekv/digest")) &&
               !admin_authorized(c, req)) {
        ekv_http_unauthorized(req);
    } else if (!strcmp(path, "/metrics")) {
        metrics(c, req);
    } else if (!strcmp(path, "/_edgekv/digest")) {
        digest(c, req);
    } else if (!authorized(c, req)) {
        rest_fail(c, req, 403, 10000, "Authentication error");
    } else if (!api_allowed(c, req)) {
        /* answered 429 */
    } else if (!strcmp(path, API_PREFIX "/memberships")) {
        memberships(c, req);
    } else if (!strcmp(path, API_PREFIX "/user/tokens/verify")) {
        rest_ok(c, req, json_pack("{s:s, s:s}", "id", "edgekv", "status", "active"), NULL);
    } else if (!strncmp(path, API_PREFIX "/accounts/", 20) &&
               strstr(path, "/storage/kv/namespaces")) {
        const char *rest = strstr(path, "/storage/kv/namespaces") + 22;
        kv_route(c, req, rest, &q);
    } else {
        rest_fail(c, req, 404, 7003, "No route for that URI");
    }
    evhttp_clear_headers(&q);
}

int coord_rest_open(ekv_coord_t *c, char *errbuf, size_t errlen)
{
    if (!c->cfg.http_host)
        return EKV_OK;
    c->http = evhttp_new(c->base);
    evhttp_set_max_body_size(c->http, MAX_BODY);
    evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_DELETE);
    evhttp_set_timeout(c->http, 60); /* idle reads and writes; ekv_http bounds each request */
    return ekv_http_serve(c->http, c->cfg.http_host, c->cfg.http_port, on_request, c, &c->http_port,
                          errbuf, errlen);
}
