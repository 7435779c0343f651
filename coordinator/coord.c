/* coord: group commit, fan-out and node requests (see coord.h). */
#include "coord.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_kv.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "ekv_zev.h"

#define PRIO_FLUSH 2 /* the commit runs after every ready socket and HTTP event */
#define CATCHUP_MAX_BYTES (8u * 1024 * 1024)

typedef struct {
    zmq_msg_t peer; /* ROUTER identity of the requester */
    ekv_msg_t msg;  /* the decoded request (owns its bytes) */
} pending_t;

typedef struct {
    pending_t *items; /* requests in arrival order */
    size_t n, cap;
} queue_t;

struct ekv_coord {
    struct event_base *base;   /* borrowed */
    ekv_coord_config_t cfg;    /* configuration (strings borrowed) */
    ekv_store_t *store;        /* durable state */
    void *zctx;                /* ZeroMQ context */
    void *pub;                 /* PUB: changes and heartbeats */
    void *router;              /* ROUTER: node requests */
    ekv_zev_t *router_zev;     /* ROUTER watcher */
    struct event *flush_ev;    /* commits the queued writes */
    struct event *hb_ev;       /* heartbeat timer */
    struct evhttp *http;       /* health and (later) the REST API */
    int http_port;             /* bound HTTP port */
    char pub_ep[256];          /* bound endpoints, as reported to launchers */
    char router_ep[256];
    queue_t writes;            /* validated writes waiting for the commit */
    queue_t reads;             /* reads answered after the commit */
    uint64_t published;        /* changes published */
    uint64_t malformed;        /* wire messages dropped as malformed */
    uint64_t commits;          /* write batches committed */
};

/* ---- replies ----------------------------------------------------------------------------- */

static void send_to(ekv_coord_t *c, zmq_msg_t *peer, const ekv_msg_t *reply)
{
    char *body;
    size_t len;
    if (ekv_msg_encode(reply, &body, &len) != EKV_OK) {
        ekv_error("cannot encode %s", ekv_msg_type_name(reply->type));
        return;
    }
    const void *frames[2] = {zmq_msg_data(peer), body};
    size_t lens[2] = {zmq_msg_size(peer), len};
    if (ekv_zev_send(c->router, frames, lens, 2) != EKV_OK)
        ekv_warn("reply %s dropped (peer gone or full)", ekv_msg_type_name(reply->type));
    free(body);
}

static void reply_write(ekv_coord_t *c, pending_t *p, int status, const char *text, uint64_t seq,
                        int64_t commit_us)
{
    ekv_msg_t r = {.type = EKV_MSG_WRITE_REPLY, .req_id = p->msg.req_id, .status = status,
                   .seq = seq, .time_us = commit_us};
    r.text.ptr = text ? text : "";
    r.text.len = strlen(r.text.ptr);
    send_to(c, &p->peer, &r);
}

static void queue_push(queue_t *q, zmq_msg_t *peer, ekv_msg_t *msg)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->items = ekv_realloc(q->items, q->cap * sizeof *q->items);
    }
    pending_t *p = &q->items[q->n++];
    zmq_msg_init(&p->peer);
    zmq_msg_move(&p->peer, peer);
    p->msg = *msg;
    memset(msg, 0, sizeof *msg);
}

static void queue_clear(queue_t *q)
{
    for (size_t i = 0; i < q->n; i++) {
        zmq_msg_close(&q->items[i].peer);
        ekv_msg_fini(&q->items[i].msg);
    }
    q->n = 0;
}

/* ---- writes: validate, group commit, publish --------------------------------------------- */

/* Validates a WRITE with the shared KV rules; fills err when it is refused. */
static int validate_write(const ekv_msg_t *w, ekv_kv_error_t *err)
{
    if (w->op != EKV_OP_PUT && w->op != EKV_OP_DELETE) {
        ekv_kv_err_set(err, 400, "Invalid operation");
        return EKV_EINVAL;
    }
    if (w->ns.len == 0 || w->ns.len > 64) {
        ekv_kv_err_set(err, 400, "Invalid namespace id");
        return EKV_EINVAL;
    }
    if (ekv_kv_check_key(w->key.ptr, w->key.len, err) != EKV_OK)
        return EKV_EINVAL;
    if (w->op == EKV_OP_DELETE)
        return EKV_OK;
    if (ekv_kv_check_value(w->value.len, err) != EKV_OK)
        return EKV_EINVAL;
    if ((w->flags & EKV_MSG_F_METADATA) &&
        ekv_kv_check_metadata(w->meta.ptr, w->meta.len, err) != EKV_OK)
        return EKV_EINVAL;
    if (w->expiration != 0 && w->expiration <= ekv_now_us() / 1000000) {
        ekv_kv_err_set(err, 400, "Invalid expiration of %lld. Please specify integer greater "
                                 "than the current number of seconds since the UNIX epoch.",
                       (long long)w->expiration);
        return EKV_EINVAL;
    }
    return EKV_OK;
}

static void publish(ekv_coord_t *c, const ekv_msg_t *change, const char *body, size_t len)
{
    const void *frames[2] = {change->ns.ptr, body};
    size_t lens[2] = {change->ns.len, len};
    if (ekv_zev_send(c->pub, frames, lens, 2) == EKV_OK)
        c->published++;
}

static void answer_reads(ekv_coord_t *c);

/* Commits every queued write in one batch, then acknowledges and publishes each. */
static void flush_writes(ekv_coord_t *c)
{
    size_t n = c->writes.n;
    if (n == 0)
        return;
    ekv_msg_t *changes = ekv_calloc(n, sizeof *changes);
    char **bodies = ekv_calloc(n, sizeof *bodies);
    size_t *lens = ekv_calloc(n, sizeof *lens);
    for (size_t i = 0; i < n; i++)
        changes[i] = c->writes.items[i].msg; /* shallow: bytes stay owned by the queue */
    int rc = ekv_store_commit(c->store, changes, n, ekv_now_us(), bodies, lens);
    int64_t commit_us = ekv_now_us(); /* durable from here on */
    for (size_t i = 0; i < n; i++) {
        pending_t *p = &c->writes.items[i];
        if (rc != EKV_OK) {
            reply_write(c, p, 503, "Storage unavailable", 0, 0);
            continue;
        }
        ekv_msg_set_commit_time(bodies[i], lens[i], commit_us);
        reply_write(c, p, 200, NULL, changes[i].seq, commit_us);
        publish(c, &changes[i], bodies[i], lens[i]);
        free(bodies[i]);
    }
    c->commits += rc == EKV_OK;
    free(changes);
    free(bodies);
    free(lens);
    queue_clear(&c->writes);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_coord_t *c = arg;
    flush_writes(c);
    answer_reads(c);
    ekv_zev_kick(c->router_zev);
}

static void schedule_flush(ekv_coord_t *c)
{
    if ((int)c->writes.n >= c->cfg.max_batch) {
        on_flush(-1, 0, c);
        return;
    }
    event_active(c->flush_ev, EV_TIMEOUT, 0);
}

static void handle_write(ekv_coord_t *c, zmq_msg_t *peer, ekv_msg_t *m)
{
    ekv_kv_error_t err;
    if (validate_write(m, &err) != EKV_OK) {
        pending_t p = {.msg = *m};
        zmq_msg_init(&p.peer);
        zmq_msg_copy(&p.peer, peer);
        reply_write(c, &p, err.status, err.message, 0, 0);
        zmq_msg_close(&p.peer);
        ekv_msg_fini(m);
        return;
    }
    queue_push(&c->writes, peer, m);
    schedule_flush(c);
}

/* ---- reads, hello, catch-up --------------------------------------------------------------- */

static void answer_read(ekv_coord_t *c, pending_t *p)
{
    ekv_msg_t cur;
    int rc = ekv_store_get(c->store, p->msg.ns, p->msg.key, &cur);
    int64_t now_s = ekv_now_us() / 1000000;
    ekv_msg_t r = {.type = EKV_MSG_READ_REPLY, .req_id = p->msg.req_id, .status = 200,
                   .seq = ekv_store_last_seq(c->store)};
    if (rc == EKV_OK && (cur.expiration == 0 || cur.expiration > now_s)) {
        r.flags = EKV_MSG_F_FOUND | (cur.flags & EKV_MSG_F_METADATA);
        r.seq = cur.seq;
        r.time_us = cur.time_us;
        r.expiration = cur.expiration;
        r.meta = cur.meta;
        r.value = cur.value;
    } else if (rc != EKV_OK && rc != EKV_ENOTFOUND) {
        r.status = 503;
        r.text.ptr = "Storage unavailable";
        r.text.len = strlen(r.text.ptr);
    }
    send_to(c, &p->peer, &r);
    if (rc == EKV_OK)
        ekv_msg_fini(&cur);
}

static void answer_reads(ekv_coord_t *c)
{
    for (size_t i = 0; i < c->reads.n; i++)
        answer_read(c, &c->reads.items[i]);
    queue_clear(&c->reads);
}

static void handle_catchup(ekv_coord_t *c, zmq_msg_t *peer, const ekv_msg_t *m)
{
    ekv_bytes_t *bodies;
    size_t n;
    uint64_t first;
    ekv_store_log_read(c->store, m->seq, EKV_MSG_MAX_CHANGES, CATCHUP_MAX_BYTES, &bodies, &n,
                       &first);
    uint64_t latest = ekv_store_last_seq(c->store);
    uint8_t flags = 0;
    if (n > 0 && m->seq + n < latest)
        flags |= EKV_MSG_F_MORE;
    char *out;
    size_t len;
    if (ekv_msg_encode_catchup_raw(m->req_id, latest, flags, bodies, n, &out, &len) == EKV_OK) {
        const void *frames[2] = {zmq_msg_data(peer), out};
        size_t lens[2] = {zmq_msg_size(peer), len};
        ekv_zev_send(c->router, frames, lens, 2);
        free(out);
    }
    if (first > m->seq + 1)
        ekv_warn("catch-up from %llu: the log starts at %llu", (unsigned long long)m->seq,
                 (unsigned long long)first);
    for (size_t i = 0; i < n; i++)
        free((void *)bodies[i].ptr);
    free(bodies);
}

static void on_router(void *sock, void *arg)
{
    ekv_coord_t *c = arg;
    zmq_msg_t parts[2];
    int nparts, truncated;
    if (ekv_zev_recv(sock, parts, 2, &nparts, &truncated) != EKV_OK)
        return;
    ekv_msg_t m;
    int rc = nparts == 2 && !truncated
                 ? ekv_msg_decode(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), &m)
                 : EKV_EMALFORMED;
    if (rc != EKV_OK) {
        c->malformed++;
        ekv_warn("dropped a malformed request: %s", ekv_strerror(rc));
    } else if (m.type == EKV_MSG_WRITE) {
        handle_write(c, &parts[0], &m);
    } else if (m.type == EKV_MSG_READ) {
        queue_push(&c->reads, &parts[0], &m);
        schedule_flush(c);
    } else if (m.type == EKV_MSG_HELLO) {
        ekv_info("hello from node %s (last seq %llu)", m.text.ptr, (unsigned long long)m.seq);
        ekv_msg_t r = {.type = EKV_MSG_HELLO_REPLY, .req_id = m.req_id,
                       .seq = ekv_store_last_seq(c->store), .time_us = ekv_now_us()};
        send_to(c, &parts[0], &r);
    } else if (m.type == EKV_MSG_CATCHUP) {
        handle_catchup(c, &parts[0], &m);
    } else {
        c->malformed++;
        ekv_warn("dropped an unexpected %s", ekv_msg_type_name(m.type));
    }
    ekv_msg_fini(&m);
    for (int i = 0; i < nparts; i++)
        zmq_msg_close(&parts[i]);
}

/* ---- heartbeat and HTTP ------------------------------------------------------------------ */

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_coord_t *c = arg;
    ekv_msg_t hb = {.type = EKV_MSG_HEARTBEAT, .seq = ekv_store_last_seq(c->store),
                    .time_us = ekv_now_us()};
    char *body;
    size_t len;
    if (ekv_msg_encode(&hb, &body, &len) != EKV_OK)
        return;
    const void *frames[2] = {EKV_MSG_TOPIC_HEARTBEAT, body};
    size_t lens[2] = {strlen(EKV_MSG_TOPIC_HEARTBEAT), len};
    ekv_zev_send(c->pub, frames, lens, 2);
    free(body);
}

static void on_health(struct evhttp_request *req, void *arg)
{
    ekv_coord_t *c = arg;
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_printf(out,
                        "{\"ok\":true,\"seq\":%llu,\"published\":%llu,\"commits\":%llu,"
                        "\"malformed\":%llu}\n",
                        (unsigned long long)ekv_store_last_seq(c->store),
                        (unsigned long long)c->published, (unsigned long long)c->commits,
                        (unsigned long long)c->malformed);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void on_http_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_send_error(req, 404, "Not Found");
}

/* ---- lifecycle --------------------------------------------------------------------------- */

void ekv_coord_config_defaults(ekv_coord_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->pub_endpoint = "tcp://127.0.0.1:8781";
    cfg->router_endpoint = "tcp://127.0.0.1:8782";
    cfg->http_host = "127.0.0.1";
    cfg->http_port = 8780;
    cfg->durability = EKV_STORE_FSYNC;
    cfg->heartbeat_ms = 100;
    cfg->max_batch = 1024;
    cfg->pub_hwm = 100000;
}

static int bind_socket(void *sock, const char *ep, char *bound, size_t blen, char *errbuf,
                       size_t errlen)
{
    if (zmq_bind(sock, ep) != 0) {
        snprintf(errbuf, errlen, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
        return EKV_EIO;
    }
    size_t len = blen;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, bound, &len);
    return EKV_OK;
}

static int open_sockets(ekv_coord_t *c, char *errbuf, size_t errlen)
{
    c->zctx = zmq_ctx_new();
    c->pub = zmq_socket(c->zctx, ZMQ_PUB);
    c->router = zmq_socket(c->zctx, ZMQ_ROUTER);
    int linger = 0, hwm = c->cfg.pub_hwm, mandatory = 0;
    zmq_setsockopt(c->pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->router, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    if (bind_socket(c->pub, c->cfg.pub_endpoint, c->pub_ep, sizeof c->pub_ep, errbuf, errlen) ||
        bind_socket(c->router, c->cfg.router_endpoint, c->router_ep, sizeof c->router_ep, errbuf,
                    errlen))
        return EKV_EIO;
    return EKV_OK;
}

static int open_http(ekv_coord_t *c, char *errbuf, size_t errlen)
{
    if (!c->cfg.http_host)
        return EKV_OK;
    c->http = evhttp_new(c->base);
    evhttp_set_cb(c->http, "/health", on_health, c);
    evhttp_set_gencb(c->http, on_http_other, c);
    struct evhttp_bound_socket *bs =
        evhttp_bind_socket_with_handle(c->http, c->cfg.http_host, (uint16_t)c->cfg.http_port);
    if (!bs) {
        snprintf(errbuf, errlen, "cannot listen on %s:%d", c->cfg.http_host, c->cfg.http_port);
        return EKV_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
    c->http_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return EKV_OK;
}

ekv_coord_t *ekv_coord_new(struct event_base *base, const ekv_coord_config_t *cfg, char *errbuf,
                           size_t errlen)
{
    ekv_coord_t *c = ekv_calloc(1, sizeof *c);
    c->base = base;
    c->cfg = *cfg;
    c->store = ekv_store_open(cfg->data_dir, cfg->durability, errbuf, errlen);
    if (!c->store)
        goto fail;
    if (open_sockets(c, errbuf, errlen) != EKV_OK || open_http(c, errbuf, errlen) != EKV_OK)
        goto fail;
    c->flush_ev = event_new(base, -1, 0, on_flush, c);
    event_priority_set(c->flush_ev, PRIO_FLUSH);
    c->router_zev = ekv_zev_new(base, c->router, 256, on_router, c);
    c->hb_ev = event_new(base, -1, EV_PERSIST, on_heartbeat, c);
    struct timeval hb = {cfg->heartbeat_ms / 1000, (cfg->heartbeat_ms % 1000) * 1000};
    event_add(c->hb_ev, &hb);
    ekv_info("coordinator up: seq %llu, pub %s, router %s, http port %d",
             (unsigned long long)ekv_store_last_seq(c->store), c->pub_ep, c->router_ep,
             c->http_port);
    return c;
fail:
    ekv_coord_destroy(&c);
    return NULL;
}

void ekv_coord_destroy(ekv_coord_t **self_p)
{
    ekv_coord_t *c = *self_p;
    if (!c)
        return;
    if (c->flush_ev) {
        on_flush(-1, 0, c); /* answer what was received before the stop */
        event_free(c->flush_ev);
    }
    if (c->hb_ev)
        event_free(c->hb_ev);
    ekv_zev_destroy(&c->router_zev);
    queue_clear(&c->writes);
    queue_clear(&c->reads);
    free(c->writes.items);
    free(c->reads.items);
    if (c->http)
        evhttp_free(c->http);
    if (c->pub)
        zmq_close(c->pub);
    if (c->router)
        zmq_close(c->router);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    ekv_store_destroy(&c->store);
    free(c);
    *self_p = NULL;
}

int ekv_coord_write_ready(const ekv_coord_t *c, const char *path)
{
    char http[128] = "";
    if (c->http)
        snprintf(http, sizeof http, "http://%s:%d", c->cfg.http_host, c->http_port);
    json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:I}", "pid", (int)getpid(), "http", http, "pub",
                          c->pub_ep, "router", c->router_ep, "seq",
                          (json_int_t)ekv_store_last_seq(c->store));
    char *text = json_dumps(j, JSON_COMPACT);
    int rc = ekv_file_write_atomic(path, text, strlen(text));
    free(text);
    json_decref(j);
    return rc;
}
