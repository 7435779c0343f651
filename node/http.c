/* http: the PoP's HTTP surface (KV-SPEC.md surface B) and its internal endpoints.
 *
 * Routes:
 *   GET|PUT|DELETE /<key>            the Workers binding protocol (key percent-encoded)
 *   GET|PUT|DELETE /ns/<ns>/<key>    the same with the namespace in the path, for curl
 *   GET / and POST /bulk/get          list and bulk get (http_bulk.c)
 *   GET /metrics, /stats, /_edgekv/.. counters and health (http_admin.c); a request with
 *                                     ?urlencoded=true is always a key, so a key named
 *                                     "metrics" stays reachable through the binding
 * The namespace of the binding form comes from the X-Edgekv-Namespace header, else the
 * configured default. Every handler ends in exactly one reply; errors carry the KV-SPEC
 * message both as the reason phrase and as the body. */
#include "node_int.h"
#include "http_text.h"

#include <event2/buffer.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <sys/queue.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ekv_err.h"
#include "ekv_http.h"
#include "ekv_kv.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_sec.h"
#include "ekv_time.h"

#define NS_HEADER   "X-Edgekv-Namespace"
#define META_HEADER "CF-KV-Metadata"
#define MAX_BODY    (32u * 1024 * 1024)

typedef struct {
    const char *ns; /* namespace id (points into the path or config) */
    size_t ns_len;
    char *key; /* decoded key, owned */
    size_t key_len;
    const char *query;  /* the raw query (checked by node_query_ok), or NULL */
    struct evkeyvalq q; /* its parameters as evhttp's list, built by params() when needed */
    int parsed;         /* q was built */
} target_t;

/* ---- reply text (http_text.h) ------------------------------------------------------------ */

json_t *node_text_json(const char *p, size_t n)
{
    size_t len;
    char *s = ekv_kv_utf8_lossy(p, n, &len);
    json_t *j = json_stringn_nocheck(s, len); /* well-formed now */
    free(s);
    return j;
}

void node_text_field(char *dst, size_t cap, const char *text)
{
    size_t len;
    char *s = ekv_kv_utf8_lossy(text, strlen(text), &len);
    if (len > cap - 1) { /* cut before the character that does not fit */
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    for (size_t i = 0; i < len; i++) /* control bytes are whole characters in UTF-8 */
        dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    dst[len] = '\0';
    free(s);
}

size_t node_text_u64(char *dst, uint64_t v)
{
    char rev[20]; /* the digits, last first */
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = rev[n - 1 - i];
    dst[n] = '\0';
    return n;
}

size_t node_text_i64(char *dst, int64_t v)
{
    if (v >= 0)
        return node_text_u64(dst, (uint64_t)v);
    dst[0] = '-';
    return 1 + node_text_u64(dst + 1, 0 - (uint64_t)v); /* unsigned: INT64_MIN too */
}

/* ---- the query, read in place (http_text.h) ---------------------------------------------- */

int node_query_ok(const char *q)
{
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        if (!eq || eq == q) /* no value, or no name (an empty part included) */
            return 0;
        q += len;
        if (*q)
            q++; /* past '&': a last one ends the query */
    }
    return 1;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The raw value of name's first parameter in q: [*val, *val + *len). 0 when absent. */
static int query_find(const char *q, const char *name, const char **val, size_t *len)
{
    size_t nlen = strlen(name);
    while (q && *q) {
        size_t plen = strcspn(q, "&");
        const char *eq = memchr(q, '=', plen);
        if (eq && (size_t)(eq - q) == nlen) {
            size_t i = 0;
            while (i < nlen &&
                   ascii_lower((unsigned char)q[i]) == ascii_lower((unsigned char)name[i]))
                i++;
            if (i == nlen) {
                *val = eq + 1;
                *len = plen - nlen - 1;
                return 1;
            }
        }
        q += plen;
        if (*q)
            q++;
    }
    return 0;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ascii_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

const char *node_query_param(const char *q, const char *name, char *dst, size_t cap, char **alloc)
{
    const char *p;
    size_t n;
    *alloc = NULL;
    if (!query_find(q, name, &p, &n))
        return NULL;
    char *out = n < cap ? dst : (*alloc = ekv_malloc(n + 1)), *o = out;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (p[i] == '+') {
            *o++ = ' ';
        } else if (p[i] == '%' && i + 2 < n && (hi = hex_digit((unsigned char)p[i + 1])) >= 0 &&
                   (lo = hex_digit((unsigned char)p[i + 2])) >= 0) {
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = p[i];
        }
    }
    *o = '\0';
    return out;
}

static int has_control(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return 1;
    return 0;
}

char *node_text_meta_header(const char *meta, size_t len)
{
    if (!has_control(meta, len) && ekv_kv_utf8_valid(meta, len))
        return ekv_memdup(meta, len);
    json_t *v = json_loadb(meta, len, JSON_DECODE_ANY, NULL);
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (!text) { /* not JSON: a header all the same, never an injection */
        char *raw = ekv_memdup(meta, len), *out = ekv_malloc(len * 3 + 1);
        node_text_field(out, len * 3 + 1, raw);
        free(raw);
        return out;
    }
    /* jansson escapes every control character but DEL, which valid JSON holds only inside a
     * string: there \u007f is the same character. */
    size_t n = strlen(text), dels = 0;
    for (size_t i = 0; i < n; i++)
        dels += text[i] == 0x7f;
    char *out = ekv_malloc(n + dels * 5 + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == 0x7f) {
            memcpy(o, "\\u007f", 6);
            o += 6;
        } else {
            *o++ = text[i];
        }
    }
    *o = '\0';
    free(text);
    return out;
}

/* ---- replies ----------------------------------------------------------------------------- */

void node_http_send(struct evhttp_request *req, int status, const char *reason,
                    struct evbuffer *body)
{
    char clean[512];
    node_text_field(clean, sizeof clean, reason ? reason : "");
    evhttp_send_reply(req, status, clean[0] ? clean : NULL, body);
}

/* A 200 "OK": a constant reason needs no cleaning (node_text_field cost a hit 420 instructions
 * for these two letters). */
static void send_ok(struct evhttp_request *req, struct evbuffer *body)
{
    evhttp_send_reply(req, 200, "OK", body);
}

/* evhttp_make_header adds these two when absent, after every other header, and only to
 * HTTP/1.1 (to 1.0 it sends no Date, and Connection: keep-alive before the length). Its way
 * cost a hit about 4,000 instructions: the date formatted anew for every reply (gmtime_r and a
 * printf), the length through snprintf. Here the date is formatted once a second, by evhttp's
 * own evutil_date_rfc1123, so the text is the same. */
void node_http_date_length(struct evhttp_request *req)
{
    static time_t when = -1; /* the second `date` shows; one thread serves a PoP */
    static char date[64];
    if (req->major != 1 || req->minor < 1)
        return;
    time_t now = time(NULL); /* evhttp's clock for the header */
    if (now != when) {
        struct tm tm;
        gmtime_r(&now, &tm);
        evutil_date_rfc1123(date, sizeof date, &tm);
        when = now;
    }
    char len[NODE_TEXT_INT_MAX];
    node_text_u64(len, evbuffer_get_length(evhttp_request_get_output_buffer(req)));
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Date", date);
    evhttp_add_header(h, "Content-Length", len);
}

void node_http_header(struct evhttp_request *req, const char *name, const char *value)
{
    size_t cap = strlen(value) * 3 + 1; /* never cut: metadata re-encoded may be long */
    char *clean = ekv_malloc(cap);
    node_text_field(clean, cap, value);
    evhttp_add_header(evhttp_request_get_output_headers(req), name, clean);
    free(clean);
}

void node_http_json(struct evhttp_request *req, int status, json_t *j, int nl)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        ekv_error("a reply could not be serialised as JSON");
        node_http_fail(req, 500, "Internal error");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, text, strlen(text));
    if (nl)
        evbuffer_add(b, "\n", 1);
    node_http_header(req, "Content-Type", "application/json");
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", b); /* constants: clean */
    evbuffer_free(b);
    free(text);
}

/* Errors carry their message as reason phrase and body: the same cleaned text in both. */
void node_http_fail(struct evhttp_request *req, int status, const char *message)
{
    if (status < 400 || status > 599) /* a status relayed from the coordinator's reply */
        status = 502;
    char clean[512];
    node_text_field(clean, sizeof clean, message ? message : "");
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%s\n", clean);
    node_http_header(req, "Content-Type", "text/plain; charset=utf-8");
    evhttp_send_reply(req, status, clean[0] ? clean : NULL, b);
    evbuffer_free(b);
}

void node_http_fail_n(ekv_node_t *n, struct evhttp_request *req, int status, const char *message)
{
    n->st.rate_limited += status == 429;
    node_http_fail(req, status, message);
}

static void fail_kv(ekv_node_t *n, struct evhttp_request *req, const ekv_kv_error_t *err)
{
    node_http_fail_n(n, req, err->status, err->message);
}

/* The served version, its commit time and its age (simulated ms) at this PoP. Every hit sends
 * these numbers: formatted without stdio, which cost a hit about 2,700 instructions (callgrind,
 * docs/performance.md). */
static void add_version_headers(ekv_node_t *n, struct evhttp_request *req, uint64_t seq,
                                int64_t commit_us)
{
    char v[32];
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    node_text_u64(v, seq);
    evhttp_add_header(h, "X-Edgekv-Version", v);
    node_text_i64(v, commit_us);
    evhttp_add_header(h, "X-Edgekv-Commit-Us", v);
    if (commit_us > 0) {
        int64_t age_us = (int64_t)((double)(node_now_us(n) - commit_us) * n->cfg.time_scale);
        if (age_us >= 0) { /* milliseconds with three decimals */
            size_t k = node_text_i64(v, age_us / 1000);
            int us = (int)(age_us % 1000);
            v[k] = '.';
            v[k + 1] = (char)('0' + us / 100);
            v[k + 2] = (char)('0' + us / 10 % 10);
            v[k + 3] = (char)('0' + us % 10);
            v[k + 4] = '\0';
        } else { /* a commit stamped ahead of this clock: the form it always had */
            snprintf(v, sizeof v, "%" PRId64 ".%03d", age_us / 1000, (int)(age_us % 1000));
        }
        evhttp_add_header(h, "X-Edgekv-Age-Ms", v);
    }
}

/* Sends a cached or fetched item: the value with its metadata, or 404. */
static void send_item(ekv_node_t *n, struct evhttp_request *req, const ekv_cache_item_t *it,
                      const char *status)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "CF-Cache-Status", status);
    add_version_headers(n, req, it->seq, it->commit_us);
    if (it->negative) {
        node_http_fail(req, 404, "Not Found");
        return;
    }
    if (it->has_meta) { /* always there, whatever bytes it was stored as */
        char *meta = node_text_meta_header(it->meta.ptr, it->meta.len);
        node_http_header(req, META_HEADER, meta);
        free(meta);
    }
    if (it->expiration) {
        char v[32];
        node_text_i64(v, it->expiration);
        evhttp_add_header(h, "Expiration", v);
    }
    evhttp_add_header(h, "Content-Type", "application/octet-stream");
    evbuffer_add(evhttp_request_get_output_buffer(req), it->value.ptr, it->value.len);
    node_http_date_length(req);
    send_ok(req, NULL);
}

/* ---- request parsing --------------------------------------------------------------------- */

/* Splits the path into namespace and raw key and decodes the key. */
static int parse_target(ekv_node_t *n, struct evhttp_request *req, const char *path, target_t *t,
                        ekv_kv_error_t *err)
{
    const char *raw = path + 1;
    t->ns = evhttp_find_header(evhttp_request_get_input_headers(req), NS_HEADER);
    if (!t->ns)
        t->ns = n->cfg.default_ns;
    t->ns_len = strlen(t->ns);
    if (strncmp(path, "/ns/", 4) == 0) {
        const char *slash = strchr(path + 4, '/');
        if (!slash) {
            ekv_kv_err_set(err, 400, "Path must be /ns/<namespace>/<key>");
            return EKV_EINVAL;
        }
        t->ns = path + 4;
        t->ns_len = (size_t)(slash - t->ns);
        raw = slash + 1;
    }
    if (!node_ns_ok(t->ns, t->ns_len)) {
        ekv_kv_err_set(err, 400, "Invalid namespace id");
        return EKV_EINVAL;
    }
    if (ekv_kv_decode_key(raw, strlen(raw), &t->key, &t->key_len, err) != EKV_OK)
        return EKV_EINVAL;
    return ekv_kv_check_key(t->key, t->key_len, err);
}

int node_ns_ok(const char *ns, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (ns[i] <= ' ' || ns[i] > '~')
            return 0;
    return 1;
}

int node_parse_cache_ttl(const char *raw, int64_t min, int64_t *out, ekv_kv_error_t *err)
{
    if (ekv_kv_parse_cache_ttl(raw, min, out, err) != EKV_OK)
        return EKV_EINVAL;
    if (*out > NODE_MAX_CACHE_TTL)
        *out = NODE_MAX_CACHE_TTL;
    return EKV_OK;
}

int node_check_prefix(const char *prefix, size_t len, ekv_kv_error_t *err)
{
    if (ekv_kv_check_prefix(len, err) != EKV_OK)
        return EKV_EINVAL;
    if (!ekv_kv_utf8_valid(prefix, len)) { /* no key could start with it */
        ekv_kv_err_set(err, 400, "Could not URL-decode key name");
        return EKV_EINVAL;
    }
    return EKV_OK;
}

static ekv_bytes_t bytes(const char *p, size_t n)
{
    return (ekv_bytes_t){p, n};
}

/* ---- get --------------------------------------------------------------------------------- */

/* The core finished a read: the item it serves, or the failure. */
static void get_done(ekv_node_t *n, void *ctx, const node_result_t *r)
{
    if (r->status != 200)
        node_http_fail_n(n, ctx, r->status, r->message);
    else
        send_item(n, ctx, r->item, r->cache_status);
}

/* The query as evhttp's list, built on first use: a read needs only its cache_ttl. */
static struct evkeyvalq *params(target_t *t)
{
    if (!t->parsed && t->query) /* checked by node_query_ok: fails only without memory */
        evhttp_parse_query_str(t->query, &t->q);
    t->parsed = 1;
    return &t->q;
}

static void do_get(ekv_node_t *n, struct evhttp_request *req, target_t *t)
{
    ekv_kv_error_t err;
    int64_t ttl;
    char buf[64], *alloc;
    const char *raw = node_query_param(t->query, "cache_ttl", buf, sizeof buf, &alloc);
    int rc = node_parse_cache_ttl(raw, n->cfg.min_cache_ttl, &ttl, &err);
    free(alloc);
    if (rc != EKV_OK) {
        fail_kv(n, req, &err);
        return;
    }
    node_read(n, bytes(t->ns, t->ns_len), bytes(t->key, t->key_len), ttl, get_done, req);
}

/* ---- put and delete ---------------------------------------------------------------------- */

/* Builds a WRITE whose bytes live in one allocation owned by the message. */
static ekv_msg_t *build_write(const target_t *t, int op, const char *meta, size_t meta_len,
                              const char *value, size_t value_len, int64_t expiration)
{
    ekv_msg_t *m = ekv_calloc(1, sizeof *m);
    char *arena = ekv_malloc(t->ns_len + t->key_len + meta_len + value_len + 1);
    m->owned_ = arena;
    m->type = EKV_MSG_WRITE;
    m->op = (uint8_t)op;
    m->expiration = expiration;
    m->flags = meta ? EKV_MSG_F_METADATA : 0;
    char *p = arena;
    memcpy(p, t->ns, t->ns_len);
    m->ns = bytes(p, t->ns_len);
    p += t->ns_len;
    memcpy(p, t->key, t->key_len);
    m->key = bytes(p, t->key_len);
    p += t->key_len;
    if (meta_len)
        memcpy(p, meta, meta_len);
    m->meta = bytes(p, meta_len);
    p += meta_len;
    if (value_len)
        memcpy(p, value, value_len);
    m->value = bytes(p, value_len);
    return m;
}

/* The core finished a write: its version, or the failure. */
static void write_done(ekv_node_t *n, void *ctx, const node_result_t *r)
{
    if (r->status != 200) { /* a 429: the coordinator's per-key or API rate limit */
        node_http_fail_n(n, ctx, r->status, r->message);
        return;
    }
    add_version_headers(n, ctx, r->seq, r->commit_us);
    send_ok(ctx, NULL);
}

static void do_put(ekv_node_t *n, struct evhttp_request *req, target_t *t)
{
    ekv_kv_error_t err;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *meta = evhttp_find_header(evhttp_request_get_input_headers(req), META_HEADER);
    int64_t expiration, now_s = node_now_us(n) / 1000000;
    if (ekv_kv_check_value(len, &err) != EKV_OK ||
        (meta && ekv_kv_check_metadata(meta, strlen(meta), &err) != EKV_OK) ||
        ekv_kv_resolve_expiration(evhttp_find_header(params(t), "expiration"),
                                  evhttp_find_header(params(t), "expiration_ttl"), now_s,
                                  &expiration, &err) != EKV_OK) {
        fail_kv(n, req, &err);
        return;
    }
    expiration = ekv_kv_scale_expiration(expiration, now_s, n->cfg.time_scale);
    const char *value = len ? (const char *)evbuffer_pullup(in, -1) : "";
    node_write(n, build_write(t, EKV_OP_PUT, meta, meta ? strlen(meta) : 0, value, len, expiration),
               write_done, req);
}

static void do_delete(ekv_node_t *n, struct evhttp_request *req, target_t *t)
{
    node_write(n, build_write(t, EKV_OP_DELETE, NULL, 0, NULL, 0, 0), write_done, req);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static void do_kv(ekv_node_t *n, struct evhttp_request *req, const char *path, target_t *t)
{
    ekv_kv_error_t err;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (strcmp(path, "/") == 0 || strcmp(path, "/bulk/get") == 0) {
        const char *ns = evhttp_find_header(evhttp_request_get_input_headers(req), NS_HEADER);
        ns = ns ? ns : n->cfg.default_ns;
        if (!node_ns_ok(ns, strlen(ns)))
            node_http_fail(req, 400, "Invalid namespace id");
        else if (path[1] == '\0' && cmd == EVHTTP_REQ_GET)
            node_http_list(n, req, ns, params(t));
        else if (path[1] == 'b' && cmd == EVHTTP_REQ_POST)
            node_http_bulk_get(n, req, ns);
        else
            node_http_fail(req, 405, "Method Not Allowed");
        return;
    }
    if (parse_target(n, req, path, t, &err) != EKV_OK) {
        fail_kv(n, req, &err);
        return;
    }
    if (cmd == EVHTTP_REQ_GET)
        do_get(n, req, t);
    else if (cmd == EVHTTP_REQ_PUT || cmd == EVHTTP_REQ_POST)
        do_put(n, req, t);
    else if (cmd == EVHTTP_REQ_DELETE)
        do_delete(n, req, t);
    else
        node_http_fail(req, 405, "Method Not Allowed");
}

/* The admin endpoints (http_admin.c); /metrics also carries the HTTP server's connection
 * counters, put in the reply body first (evhttp_send_reply appends the rest). */
static int admin(ekv_node_t *n, struct evhttp_request *req, const char *path, struct evkeyvalq *q)
{
    if (!strcmp(path, "/metrics") && evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
        char labels[96];
        snprintf(labels, sizeof labels, "pop=\"%s\"", n->cfg.name);
        ekv_http_metrics(evhttp_request_get_output_buffer(req), labels);
    }
    return node_http_admin(n, req, path, q);
}

/* The paths node_http_admin may serve: every other path is a key's, asked for no matter what
 * the admin module would say (it returns 0 for them), which a read need not pay for. */
static int admin_path(const char *path)
{
    return !strncmp(path, "/_edgekv/", 9) || !strcmp(path, "/stats") || !strcmp(path, "/metrics");
}

/* With the world's token (EDGEKV_TOKEN) every admin path needs it but the health check, which
 * liveness and readiness probes ask without one. The binding surface stays open: workerd's KV
 * binding cannot add a header. */
static int admin_authorized(ekv_node_t *n, struct evhttp_request *req, const char *path)
{
    const ekv_sec_t *sec = n->cfg.sec;
    if (!sec || !sec->has_token || !strcmp(path, "/_edgekv/health"))
        return 1;
    return ekv_http_bearer_ok(req, sec->token);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    ekv_node_t *n = arg;
    if (!ekv_http_version_ok(req))
        return;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(uri);
    const char *v;
    size_t vlen;
    target_t t = {.query = evhttp_uri_get_query(uri)};
    TAILQ_INIT(&t.q);
    if (!path || !*path)
        path = "/";
    if (t.query && !node_query_ok(t.query)) {
        node_http_fail(req, 400, "Malformed query string");
    } else if (admin_path(path) && !query_find(t.query, "urlencoded", &v, &vlen) &&
               !admin_authorized(n, req, path)) {
        ekv_http_unauthorized(req);
    } else if (admin_path(path) && !query_find(t.query, "urlencoded", &v, &vlen) &&
               admin(n, req, path, params(&t))) {
        /* served: /_edgekv/..., /metrics or /stats */
    } else {
        do_kv(n, req, path, &t);
    }
    evhttp_clear_headers(&t.q);
    free(t.key);
}

void node_http_close(ekv_node_t *n)
{
    if (n->http)
        evhttp_free(n->http);
    n->http = NULL;
}

int node_http_open(ekv_node_t *n, char *errbuf, size_t errlen)
{
    n->http = evhttp_new(n->base);
    evhttp_set_max_body_size(n->http, MAX_BODY);
    evhttp_set_allowed_methods(n->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_DELETE);
    evhttp_set_timeout(n->http, 30); /* idle reads and writes; ekv_http bounds each request */
    return ekv_http_serve(n->http, n->cfg.http_host, n->cfg.http_port, on_request, n, &n->http_port,
                          errbuf, errlen);
}
