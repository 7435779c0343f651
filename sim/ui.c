/* ui: `edgekv ui`'s server (see ui.h): the page, its API and its Server-Sent Events.
 *
 *   GET  /, /app.js, /style.css, /land-110m.json   the page (files of sim/ui/, by name only)
 *   GET  /api/world                the world once: time scale, coordinator, PoPs and tiers with
 *                                  their cities, coordinates, policies and links
 *   GET  /events                   text/event-stream: `world` (watched key and its version
 *                                  at the coordinator, followed write and whether it is of
 *                                  that key, counts of the page's writes, the world's 429s)
 *                                  and `nodes`
 *                                  (each node's view of the key, arrival and serving of the
 *                                  write, counters),
 *                                  only what changed, at most every 50 ms
 *   POST /api/watch?key=K          the key every node is looked at for
 *   POST /api/write?key=K&value=V[&via=POP]
 *                                  writes K through PoP via (default: the first), as a Worker
 *                                  would; 202 at once, the outcome comes as a `world` event
 *   POST /api/fault?action=A&node=NAME[&delay_ms=D]
 *                                  stop|continue|kill|restart|partition|heal|slow on a PoP or
 *                                  tier, through faults.c (as `edgekv fault`)
 * Requests are parsed and checked by ui_api.c (no I/O, fuzzed); every reply to bad input is a
 * 400, 404 or 405 with a one-line reason; nothing a client sends ends the server. It listens
 * on 127.0.0.1 unless --listen says otherwise, and off loopback only in a world with keys.
 *
 * A world with keys ($EDGEKV_HOME/keys.json) needs its token for every request here, else 401:
 * `Authorization: Bearer TOKEN`, or the cookie edgekv_token that GET /?token=TOKEN sets
 * (HttpOnly, SameSite=Strict) before redirecting to / (an EventSource cannot send headers, and
 * the token stays out of the address bar and the page's script). */
#include <errno.h>
#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ekv_args.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "experiment.h"
#include "faults.h"
#include "keys.h"
#include "look.h"
#include "ui.h"
#include "ui_api.h"
#include "ui_int.h"

/* sim/ui in the source tree; set by sim/CMakeLists.txt. EDGEKV_UI_DIR overrides it. */
#ifndef EKV_UI_DIR
#define EKV_UI_DIR "sim/ui"
#endif

#define FLUSH_US 50000

static void reply_text(struct evhttp_request *req, int status, const char *reason, const char *text)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%s\n", text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; charset=utf-8");
    evhttp_send_reply(req, status, reason, b);
    evbuffer_free(b);
}

static void reply_json(struct evhttp_request *req, int status, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, text, strlen(text));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Accepted", b);
    evbuffer_free(b);
    free(text);
    json_decref(j);
}

/* ---- the page's files ------------------------------------------------------------------- */

static void serve_file(ui_t *ui, struct evhttp_request *req, const ui_api_req_t *r)
{
    char fp[1200];
    snprintf(fp, sizeof fp, "%s/%s", ui->dir, r->file);
    char *data = NULL;
    size_t len = 0;
    if (ekv_file_read(fp, 4 << 20, &data, &len) != 0) {
        reply_text(req, 500, "Internal Server Error", "the page's files are missing");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, data, len);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", r->type);
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
    free(data);
}

/* ---- the world and the stream ------------------------------------------------------------ */

static json_t *world_json(const ui_t *ui)
{
    const ekv_topo_coord_t *c = &ui->topo->coord;
    json_t *nodes = json_array();
    for (size_t i = 0; i < ui->n; i++) {
        const ui_node_t *nd = &ui->nodes[i];
        json_array_append_new(
            nodes, json_pack("{s:i, s:s, s:s, s:f, s:f, s:b, s:s, s:s, s:f}", "id", nd->id, "name",
                             nd->proc->name, "city", nd->proc->city, "lat", nd->lat, "lon", nd->lon,
                             "tier", nd->tier, "via", nd->via, "policy",
                             nd->tier ? "tier" : nd->proc->policy, "delay_ms", nd->proc->delay_ms));
    }
    return json_pack("{s:f, s:s, s:{s:s, s:f, s:f}, s:o, s:f}", "time_scale", ui->st->time_scale,
                     "policy", ui->topo->policy, "coordinator", "city", c->city, "lat", c->lat,
                     "lon", c->lon, "nodes", nodes, "period_ms", (double)ui->period_us / 1000.0);
}

static json_t *header_json(const ui_t *ui)
{
    json_t *j =
        json_pack("{s:s, s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I}", "key", ui->key, "wave_seq",
                  (json_int_t)ui->wave_seq, "wave_commit_us", (json_int_t)ui->wave_commit_us,
                  "wave_started_us", (json_int_t)ui->wave_started_us, "wave_from", ui->wave_from,
                  "writes", (json_int_t)ui->writes, "writes_429", (json_int_t)ui->writes_429,
                  "rate_limited", (json_int_t)ui->rate_limited, "now_us", (json_int_t)ekv_now_us());
    /* the page's "newest": the watched key's version, never another key's write */
    json_object_set_new(j, "key_seq", json_integer((json_int_t)ui->key_seq));
    json_object_set_new(j, "wave_watched", json_boolean(ui->wave_watched));
    json_object_set_new(j, "wave_other", json_boolean(ui->wave_other));
    return j;
}

static json_t *node_json(const ui_node_t *nd)
{
    json_t *j = json_pack("{s:i, s:s, s:I, s:b, s:b, s:s, s:I, s:I, s:f, s:f, s:f, s:f}", "id",
                          nd->id, "state", nd->state, "seq", (json_int_t)nd->seq, "negative",
                          nd->negative, "answered", nd->answered, "fault", nd->fault, "arrived_us",
                          (json_int_t)nd->arrived_us, "serving_us", (json_int_t)nd->serving_us,
                          "rps", nd->rps, "hit_ratio", nd->hit_ratio, "stale_ps", nd->stale_ps,
                          "unavail_ps", nd->unavail_ps);
    json_object_set_new(j, "commit_us", json_integer((json_int_t)nd->commit_us));
    json_object_set_new(j, "expires_us", json_integer((json_int_t)nd->expires_us));
    json_object_set_new(j, "rate_limited", json_integer((json_int_t)nd->rate_limited));
    json_object_set_new(j, "fetching", json_boolean(nd->fetching));
    return j;
}

static void send_event(struct evhttp_request *c, const char *event, const char *data)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "event: %s\ndata: %s\n\n", event, data);
    evhttp_send_reply_chunk(c, b);
    evbuffer_free(b);
}

/* Sends event to client i, or to every client when i is -1. */
static void broadcast(ui_t *ui, int i, const char *event, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    for (size_t k = 0; k < ui->nclients; k++)
        if (i < 0 || (size_t)i == k)
            send_event(ui->clients[k], event, text);
    free(text);
    json_decref(j);
}

/* 1 when the page at the other end of stream c has closed it: it sends nothing after its
 * request, so a readable end of file (or an error) is the close. */
static int gone(struct evhttp_request *c)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(c);
    if (!conn)
        return 1;
    char b;
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Drops the streams whose page went. libevent notices only when a write fails, and then keeps
 * the request without its connection until we end it (which frees it); a page closed while
 * nothing was written is found by peeking at its socket. */
static void prune(ui_t *ui)
{
    for (size_t k = 0; k < ui->nclients;) {
        struct evhttp_request *c = ui->clients[k];
        if (!gone(c)) {
            k++;
            continue;
        }
        ui->clients[k] = ui->clients[--ui->nclients];
        struct evhttp_connection *conn = evhttp_request_get_connection(c);
        if (conn)
            evhttp_connection_free(conn); /* frees c too */
        else
            evhttp_send_reply_end(c);
    }
}

/* Ends every stream, at exit: a request whose connection went is ours to free. */
static void close_clients(ui_t *ui)
{
    while (ui->nclients > 0) {
        struct evhttp_request *c = ui->clients[--ui->nclients];
        struct evhttp_connection *conn = evhttp_request_get_connection(c);
        if (conn)
            evhttp_connection_free(conn); /* frees c too */
        else
            evhttp_send_reply_end(c);
    }
}

void ui_flush(ui_t *ui)
{
    prune(ui);
    if (ui->nclients == 0) { /* nobody to tell: a page that comes gets everything */
        for (size_t i = 0; i < ui->n; i++)
            ui->nodes[i].dirty = 0;
        ui->world_dirty = 0;
        return;
    }
    if (ui->world_dirty) {
        ui->world_dirty = 0;
        broadcast(ui, -1, "world", header_json(ui));
    }
    json_t *nodes = json_array();
    for (size_t i = 0; i < ui->n; i++)
        if (ui->nodes[i].dirty) {
            ui->nodes[i].dirty = 0;
            json_array_append_new(nodes, node_json(&ui->nodes[i]));
        }
    if (json_array_size(nodes) == 0) {
        json_decref(nodes);
        return;
    }
    broadcast(ui, -1, "nodes",
              json_pack("{s:I, s:o}", "now_us", (json_int_t)ekv_now_us(), "nodes", nodes));
}

static void on_soon(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ui_flush(arg);
}

void ui_flush_soon(ui_t *ui)
{
    struct timeval tv = {0, 5000};
    if (!evtimer_pending(ui->soon, NULL))
        evtimer_add(ui->soon, &tv);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ui_t *ui = arg;
    ui_flush(ui);
    /* A comment line every 2 s: a closed page is only noticed when a write to it fails. */
    int64_t mono = ekv_mono_us();
    if (mono - ui->pinged_us < 2000000)
        return;
    ui->pinged_us = mono;
    for (size_t k = 0; k < ui->nclients; k++) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, ": ping\n\n");
        evhttp_send_reply_chunk(ui->clients[k], b);
        evbuffer_free(b);
    }
}

/* The connection goes while the stream is still ours (the server shutting down, mostly):
 * libevent frees the request after this. */
static void on_client_close(struct evhttp_connection *conn, void *arg)
{
    ui_t *ui = arg;
    for (size_t k = 0; k < ui->nclients; k++)
        if (evhttp_request_get_connection(ui->clients[k]) == conn) {
            ui->clients[k] = ui->clients[--ui->nclients];
            break;
        }
}

static void do_events(ui_t *ui, struct evhttp_request *req)
{
    prune(ui);
    if (ui->nclients == UI_MAX_CLIENTS) {
        reply_text(req, 503, "Service Unavailable", "too many pages open: close one");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/event-stream");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_send_reply_start(req, 200, "OK");
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_client_close, ui);
    int i = (int)ui->nclients;
    ui->clients[ui->nclients++] = req;
    broadcast(ui, i, "world", header_json(ui));
    json_t *nodes = json_array();
    for (size_t k = 0; k < ui->n; k++)
        json_array_append_new(nodes, node_json(&ui->nodes[k]));
    broadcast(ui, i, "nodes",
              json_pack("{s:I, s:o}", "now_us", (json_int_t)ekv_now_us(), "nodes", nodes));
}

/* ---- the page's actions ----------------------------------------------------------------- */

static ui_node_t *find_node(ui_t *ui, const char *name)
{
    for (size_t i = 0; name && i < ui->n; i++)
        if (!strcmp(ui->nodes[i].proc->name, name))
            return &ui->nodes[i];
    return NULL;
}

/* Watches key k: the nodes' copies of the key before are no versions of it (unknown until
 * their looks answer), nor is its version at the coordinator (asked). */
static void watch(ui_t *ui, const char *k)
{
    snprintf(ui->key, sizeof ui->key, "%s", k);
    ui_poll_key_changed(ui);
    for (size_t i = 0; i < ui->n; i++) {
        ui->nodes[i].state[0] = '\0';
        ui->nodes[i].seq = 0;
        ui->nodes[i].dirty = 1;
        ui_poll_look_now(ui, i);
    }
}

static void do_watch(ui_t *ui, struct evhttp_request *req, const ui_api_req_t *r)
{
    watch(ui, r->key);
    reply_json(req, 200, json_pack("{s:s}", "key", ui->key));
}

typedef struct {
    ui_t *ui;
    char via[64];
    char key[UI_KEY_MAX + 1]; /* the key written: watched still when the answer comes? */
} write_t;

static void on_written(struct evhttp_request *req, void *arg)
{
    write_t *w = arg;
    ui_t *ui = w->ui;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    const char *ver = NULL, *commit = NULL;
    if (req) {
        ver = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Edgekv-Version");
        commit = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Edgekv-Commit-Us");
    }
    if (code == 429)
        ui->writes_429++;
    if (code == 200 && ver)
        ui_poll_wave(ui, strtoll(ver, NULL, 10), commit ? strtoll(commit, NULL, 10) : 0, w->via,
                     !strcmp(w->key, ui->key));
    else
        fprintf(stderr, "edgekv ui: the write through %s was answered %d\n", w->via, code);
    ui->world_dirty = 1;
    free(w);
}

static void do_write(ui_t *ui, struct evhttp_request *req, const ui_api_req_t *r)
{
    const char *k = r->key, *v = r->value;
    ui_node_t *nd = r->node[0] ? find_node(ui, r->node) : &ui->nodes[0];
    if (!nd || nd->tier) {
        reply_text(req, 404, "Not Found", "no PoP by that name (writes go through a PoP)");
        return;
    }
    char ekey[UI_KEY_MAX * 3 + 1], path[UI_KEY_MAX * 3 + 32];
    ekv_look_pct(ekey, sizeof ekey, k);
    snprintf(path, sizeof path, "/%s?urlencoded=true", ekey);
    struct evhttp_uri *u = evhttp_uri_parse(nd->proc->url);
    struct evhttp_connection *c =
        u && evhttp_uri_get_host(u) && evhttp_uri_get_port(u) > 0
            ? evhttp_connection_base_new(ui->base, NULL, evhttp_uri_get_host(u),
                                         (uint16_t)evhttp_uri_get_port(u))
            : NULL;
    if (u)
        evhttp_uri_free(u);
    if (!c) {
        reply_text(req, 500, "Internal Server Error", "the PoP's address is unusable");
        return;
    }
    evhttp_connection_set_timeout(c, 10);
    evhttp_connection_free_on_completion(c);
    write_t *w = ekv_calloc(1, sizeof *w);
    w->ui = ui;
    snprintf(w->via, sizeof w->via, "%s", nd->proc->name);
    snprintf(w->key, sizeof w->key, "%s", k);
    struct evhttp_request *out = evhttp_request_new(on_written, w);
    evhttp_add_header(evhttp_request_get_output_headers(out), "Host", "127.0.0.1");
    /* one request, then closed: libevent frees the connection (free_on_completion) only then */
    evhttp_add_header(evhttp_request_get_output_headers(out), "Connection", "close");
    ui_add_auth(ui, out);
    evbuffer_add(evhttp_request_get_output_buffer(out), v, strlen(v));
    evhttp_make_request(c, out, EVHTTP_REQ_PUT, path);
    ui->writes++;
    if (!ui->key[0] || strcmp(ui->key, k)) /* the page follows the key it writes */
        watch(ui, k);
    ui->world_dirty = 1;
    reply_json(req, 202, json_pack("{s:s, s:s}", "key", k, "via", nd->proc->name));
}

static void mark_fault(ui_node_t *nd, const ekv_fault_t *f)
{
    switch (f->kind) {
    case EKV_FAULT_STOP:
        snprintf(nd->fault, sizeof nd->fault, "stopped");
        break;
    case EKV_FAULT_KILL:
        snprintf(nd->fault, sizeof nd->fault, "killed");
        break;
    case EKV_FAULT_PARTITION:
        snprintf(nd->fault, sizeof nd->fault, "partitioned");
        break;
    case EKV_FAULT_SLOW:
        snprintf(nd->fault, sizeof nd->fault, "slow %g ms", f->delay_ms);
        break;
    default: /* continue, heal, restart: as it was */
        nd->fault[0] = '\0';
    }
    nd->dirty = 1;
}

static void do_fault(ui_t *ui, struct evhttp_request *req, const ui_api_req_t *r)
{
    ekv_fault_t f = {.kind = r->action, .delay_ms = r->delay_ms};
    ui_node_t *nd = find_node(ui, r->node);
    if (!nd) {
        reply_text(req, 404, "Not Found", "no PoP or tier by that name");
        return;
    }
    snprintf(f.pop, sizeof f.pop, "%s", nd->proc->name);
    if (f.kind == EKV_FAULT_RESTART || f.kind == EKV_FAULT_KILL)
        ui_poll_reset(nd); /* a new process, or none: the old connections are dead */
    if (ekv_fault_apply(ui->topo, ui->st, &f) != 0) {
        reply_text(req, 409, "Conflict", "the fault was not applied (see edgekv ui's output)");
        return;
    }
    mark_fault(nd, &f);
    ui_poll_look_now(ui, (size_t)nd->id);
    reply_json(req, 200,
               json_pack("{s:s, s:s, s:s}", "node", nd->proc->name, "action",
                         ekv_fault_name(f.kind), "fault", nd->fault));
}

/* ---- the token ---------------------------------------------------------------------------- */

#define COOKIE "edgekv_token"

void ui_add_auth(const ui_t *ui, struct evhttp_request *req)
{
    if (ui->auth[0])
        evhttp_add_header(evhttp_request_get_output_headers(req), "Authorization", ui->auth);
}

/* 1 when the Cookie header h holds edgekv_token with the token's value. */
static int cookie_ok(const ui_t *ui, const char *h)
{
    size_t nl = strlen(COOKIE "=");
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char v[EKV_KEYS_TOKEN_MAX + 1];
        if (len > nl && len - nl <= EKV_KEYS_TOKEN_MAX && !strncmp(p, COOKIE "=", nl)) {
            snprintf(v, sizeof v, "%.*s", (int)(len - nl), p + nl);
            if (ekv_keys_token_eq(v, ui->token))
                return 1;
        }
        p = end;
    }
    return 0;
}

/* GET /?token=T with the right token: sets the cookie and sends the page to / (the token out
 * of the address bar). 1 when answered so. */
static int token_login(const ui_t *ui, struct evhttp_request *req, const struct evhttp_uri *uri)
{
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET || !path || strcmp(path, "/") || !query)
        return 0;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    const char *t = evhttp_parse_query_str(query, &q) == 0 ? evhttp_find_header(&q, "token") : NULL;
    int ok = t && ekv_keys_token_eq(t, ui->token);
    evhttp_clear_headers(&q);
    if (!ok)
        return 0;
    char set[EKV_KEYS_TOKEN_MAX + 80];
    snprintf(set, sizeof set, COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/", ui->token);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Set-Cookie", set);
    evhttp_add_header(h, "Location", "/");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, 303, "See Other", NULL);
    return 1;
}

/* 1 when req may be served: the world has no keys, or req carries its token. Else answered
 * (the redirect of a login, or 401). */
static int admitted(const ui_t *ui, struct evhttp_request *req, const struct evhttp_uri *uri)
{
    if (!ui->token)
        return 1;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *a = evhttp_find_header(in, "Authorization");
    if (a && !strncmp(a, "Bearer ", 7) && ekv_keys_token_eq(a + 7, ui->token))
        return 1;
    if (cookie_ok(ui, evhttp_find_header(in, "Cookie")))
        return 1;
    if (token_login(ui, req, uri))
        return 0;
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                      "Bearer realm=\"edgekv\"");
    reply_text(req, 401, "Unauthorized",
               "This page needs the world's token: open /?token=TOKEN (`edgekv keys --token` "
               "prints it)");
    return 0;
}

static ui_api_method_t method(struct evhttp_request *req)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
        return UI_API_GET;
    case EVHTTP_REQ_HEAD:
        return UI_API_HEAD;
    case EVHTTP_REQ_POST:
        return UI_API_POST;
    default:
        return UI_API_OTHER;
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    ui_t *ui = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    static ui_api_req_t r; /* 4.6 KB; one request at a time on one thread */
    const char *why = NULL;
    if (!admitted(ui, req, uri))
        return;
    int status = ui_api_parse(method(req), uri ? evhttp_uri_get_path(uri) : NULL,
                              uri ? evhttp_uri_get_query(uri) : NULL, &r, &why);
    if (status != 0) {
        reply_text(req, status,
                   status == 404   ? "Not Found"
                   : status == 405 ? "Method Not Allowed"
                                   : "Bad Request",
                   why);
        return;
    }
    switch (r.kind) {
    case UI_API_FILE:
        serve_file(ui, req, &r);
        break;
    case UI_API_EVENTS:
        do_events(ui, req);
        break;
    case UI_API_WORLD:
        reply_json(req, 200, world_json(ui));
        break;
    case UI_API_WATCH:
        do_watch(ui, req, &r);
        break;
    case UI_API_WRITE:
        do_write(ui, req, &r);
        break;
    case UI_API_FAULT:
        do_fault(ui, req, &r);
        break;
    }
}

/* ---- setup ------------------------------------------------------------------------------ */

/* Fills ui->nodes from the state, with coordinates from the topology. */
static void build_nodes(ui_t *ui)
{
    ekv_state_t *st = ui->st;
    ui->n = st->npops + st->ntiers;
    ui->nodes = ekv_calloc(ui->n, sizeof *ui->nodes);
    for (size_t i = 0; i < ui->n; i++) {
        ui_node_t *nd = &ui->nodes[i];
        nd->ui = ui;
        nd->id = (int)i;
        nd->tier = i >= st->npops;
        nd->proc = nd->tier ? &st->tiers[i - st->npops] : &st->pops[i];
        snprintf(nd->via, sizeof nd->via, "%s", nd->tier ? "" : nd->proc->tier);
        for (size_t k = 0; !nd->tier && k < ui->topo->npops; k++)
            if (!strcmp(ui->topo->pops[k].name, nd->proc->name) && ui->topo->pops[k].has_coords) {
                nd->lat = ui->topo->pops[k].lat;
                nd->lon = ui->topo->pops[k].lon;
            }
        for (size_t k = 0; nd->tier && k < ui->topo->ntiers; k++)
            if (!strcmp(ui->topo->tiers[k].name, nd->proc->name)) {
                nd->lat = ui->topo->tiers[k].lat;
                nd->lon = ui->topo->tiers[k].lon;
            }
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: edgekv ui [--port PORT | --listen ADDR:PORT] [--key KEY]\n");
    return 2;
}

/* The port a bound socket got (--port 0 asks for any). */
static int bound_port(struct evhttp_bound_socket *bound)
{
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    return ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(arg);
}

int ekv_cmd_ui(int argc, char **argv)
{
    long port = 0;
    const char *key = "", *listen = NULL;
    char addr[256] = "127.0.0.1";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            if (ekv_args_int(argv[++i], 0, 65535, &port) != 0)
                return usage();
        } else if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
            int p = 0;
            listen = argv[++i];
            if (ekv_args_hostport(listen, addr, sizeof addr, &p) != 0)
                return usage();
            port = p;
        } else if (!strcmp(argv[i], "--key") && i + 1 < argc && argv[i + 1][0] &&
                   strlen(argv[i + 1]) <= UI_API_KEY_MAX) {
            key = argv[++i];
        } else {
            return usage();
        }
    }
    ui_t ui = {0};
    char err[1024];
    /* off loopback the page can write and inject faults: only behind the world's token */
    if (listen && !ekv_topo_is_loopback(addr) && !ekv_keys_token()) {
        fprintf(stderr, "edgekv ui: --listen %s is not loopback: run `edgekv keys` first\n",
                listen);
        return 2;
    }
    if (ekv_state_load(&ui.st) != 0 || (ui.st->npops == 0 && ui.st->ntiers == 0)) {
        fprintf(stderr, "edgekv: nothing is running; start a topology with `edgekv up`\n");
        ekv_state_destroy(&ui.st);
        return 1;
    }
    if (!(ui.topo = ekv_topo_load(ui.st->topology, err, sizeof err))) {
        fprintf(stderr, "edgekv: %s\n", err);
        ekv_state_destroy(&ui.st);
        return 1;
    }
    const char *dir = getenv("EDGEKV_UI_DIR");
    snprintf(ui.dir, sizeof ui.dir, "%s", dir && *dir ? dir : EKV_UI_DIR);
    snprintf(ui.key, sizeof ui.key, "%s", key);
    build_nodes(&ui);
    if ((ui.token = ekv_keys_token()) && !ekv_hc_bearer(ui.auth, sizeof ui.auth, ui.token))
        ui.auth[0] = '\0';
    /* a node asked every period: 1 s for a small world, n / 15 s for a large one (20 s for
     * 300 PoPs: 30 small requests a second in all, under 1% of a core with the nodes' part) */
    ui.period_us = ui.n > 15 ? (int64_t)ui.n * 1000000 / 15 : 1000000;
    signal(SIGPIPE, SIG_IGN);
    ui.base = event_base_new();
    ui.http = evhttp_new(ui.base);
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(ui.http, addr, (uint16_t)port);
    int rc = 1;
    if (!bound) {
        fprintf(stderr, "edgekv: cannot listen on %s:%ld: %s\n", addr, port, strerror(errno));
        goto out;
    }
    evhttp_set_max_headers_size(ui.http, 16384);
    evhttp_set_max_body_size(ui.http, 65536);
    evhttp_set_gencb(ui.http, on_request, &ui);
    int bport = bound_port(bound);
    printf("edgekv ui: http://%s:%d/ (%zu PoPs and tiers; Ctrl-C stops it)\n", addr, bport, ui.n);
    if (ui.token)
        printf("edgekv ui: the world has keys: open http://%s:%d/?token=TOKEN once "
               "(`edgekv keys --token` prints it)\n",
               addr, bport);
    fflush(stdout);
    ui_poll_start(&ui);
    ui_poll_key_changed(&ui); /* the key of --key: its version */
    ui.flush = event_new(ui.base, -1, EV_PERSIST, on_flush, &ui);
    ui.soon = evtimer_new(ui.base, on_soon, &ui);
    struct timeval tv = {0, FLUSH_US};
    event_add(ui.flush, &tv);
    struct event *sigint = evsignal_new(ui.base, SIGINT, on_signal, ui.base);
    struct event *sigterm = evsignal_new(ui.base, SIGTERM, on_signal, ui.base);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    event_base_dispatch(ui.base);
    event_free(sigint);
    event_free(sigterm);
    event_free(ui.flush);
    event_free(ui.soon);
    rc = 0;
out:
    ui_poll_stop(&ui);
    close_clients(&ui);
    evhttp_free(ui.http);
    event_base_free(ui.base);
    free(ui.nodes);
    ekv_topo_destroy(&ui.topo);
    ekv_state_destroy(&ui.st);
    return rc;
}
