/* hclient: concurrent HTTP requests over libevent's evhttp client (see hclient.h). */
#include "hclient.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ekv_err.h"
#include "ekv_mem.h"
#include "ekv_time.h"

static const char *token; /* ekv_hc_set_token's, borrowed */

typedef struct {
    struct event_base *base;
    size_t left; /* requests without an answer */
} run_t;

typedef struct {
    run_t *run;
    ekv_hc_req_t *r;
    struct evhttp_connection *conn;
} slot_t;

static char *header_copy(struct evhttp_request *req, const char *name)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
    return v ? ekv_strdup(v) : NULL;
}

static void on_done(struct evhttp_request *req, void *arg)
{
    slot_t *s = arg;
    ekv_hc_req_t *r = s->r;
    r->done_us = ekv_now_us();
    if (req && evhttp_request_get_response_code(req) > 0) {
        r->status = evhttp_request_get_response_code(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        r->resp_len = evbuffer_get_length(in);
        r->resp = ekv_malloc(r->resp_len + 1);
        evbuffer_remove(in, r->resp, r->resp_len);
        r->resp[r->resp_len] = '\0';
        r->version = header_copy(req, "X-Edgekv-Version");
        r->commit_us = header_copy(req, "X-Edgekv-Commit-Us");
    }
    if (r->on_done)
        r->on_done(r->arg, r);
    if (--s->run->left == 0)
        event_base_loopbreak(s->run->base);
}

static enum evhttp_cmd_type command(const char *m)
{
    if (!strcmp(m, "PUT"))
        return EVHTTP_REQ_PUT;
    if (!strcmp(m, "POST"))
        return EVHTTP_REQ_POST;
    if (!strcmp(m, "DELETE"))
        return EVHTTP_REQ_DELETE;
    return EVHTTP_REQ_GET;
}

void ekv_hc_set_token(const char *t)
{
    token = t;
}

/* Adds the world's token unless the caller's headers carry an Authorization already (edgekv
 * kv with the user's CLOUDFLARE_API_TOKEN). */
static void add_token(struct evkeyvalq *h, const char *const *headers)
{
    char auth[EKV_HC_AUTH_MAX];
    for (const char *const *p = headers; p && p[0] && p[1]; p += 2)
        if (!strcasecmp(p[0], "Authorization"))
            return;
    if (token && ekv_hc_bearer(auth, sizeof auth, token))
        evhttp_add_header(h, "Authorization", auth);
}

int ekv_hc_bearer(char *buf, size_t n, const char *t)
{
    int w = snprintf(buf, n, "Bearer %s", t);
    return w > 0 && (size_t)w < n;
}

/* Starts one request; returns 0, or -1 when the URL is unusable (counted as answered). */
static int start(slot_t *s, struct event_base *base, int timeout_s)
{
    ekv_hc_req_t *r = s->r;
    struct evhttp_uri *u = evhttp_uri_parse(r->url);
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    int port = u ? evhttp_uri_get_port(u) : -1;
    if (!host || port <= 0) {
        if (u)
            evhttp_uri_free(u);
        return -1;
    }
    char target[2304];
    const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
    snprintf(target, sizeof target, "%s%s%s", path && *path ? path : "/", query ? "?" : "",
             query ? query : "");
    s->conn = evhttp_connection_base_new(base, NULL, host, (uint16_t)port);
    evhttp_connection_set_timeout(s->conn, timeout_s);
    struct evhttp_request *req = evhttp_request_new(on_done, s);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", host);
    evhttp_add_header(h, "Connection", "close");
    for (const char *const *p = r->headers; p && p[0] && p[1]; p += 2)
        evhttp_add_header(h, p[0], p[1]);
    add_token(h, r->headers);
    if (r->body)
        evbuffer_add(evhttp_request_get_output_buffer(req), r->body, r->body_len);
    evhttp_make_request(s->conn, req, command(r->method), target);
    evhttp_uri_free(u);
    return 0;
}

int ekv_hc_run(ekv_hc_req_t *reqs, size_t n, int timeout_ms)
{
    run_t run = {event_base_new(), n};
    slot_t *slots = ekv_calloc(n, sizeof *slots);
    int timeout_s = timeout_ms / 1000 + 1;
    for (size_t i = 0; i < n; i++) {
        slots[i] = (slot_t){&run, &reqs[i], NULL};
        reqs[i].status = 0;
        if (start(&slots[i], run.base, timeout_s) != 0)
            run.left--;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    if (run.left > 0) {
        event_base_loopexit(run.base, &tv);
        event_base_dispatch(run.base);
    }
    for (size_t i = 0; i < n; i++)
        if (slots[i].conn)
            evhttp_connection_free(slots[i].conn);
    free(slots);
    event_base_free(run.base);
    return EKV_OK;
}

void ekv_hc_req_fini(ekv_hc_req_t *r)
{
    free(r->resp);
    free(r->version);
    free(r->commit_us);
    r->resp = r->version = r->commit_us = NULL;
    r->resp_len = 0;
}
