/* fanout_load: the edgekv side of scripts/bench/fanout and scripts/bench/redis - a paced
 * writer through the coordinator's REST API and a collector of every PoP's visibility
 * records (/_edgekv/visibility), on one libevent loop.
 *
 *   fanout_load latency COORD_URL POPS_FILE RATE COUNT [WARMUP]
 *       WARMUP (default 50) + COUNT writes (distinct keys, VALUE_BYTES-byte values) open-loop
 *       at RATE per second; then waits until every PoP has the last one and collects every
 *       PoP's records. Per counted write, with t1 = the moment it became visible at the LAST
 *       PoP (max over PoPs of visible_us):
 *         commit_to_last  t1 - commit_us (the coordinator's stamp, taken after the fsync)
 *         send_to_last    t1 - the moment the writer sent the PUT
 *         ack_to_last     t1 - the moment the writer had the acknowledgement (may be < 0)
 *         send_to_ack     acknowledgement latency
 *         commit_to_each  visible_us - commit_us over every (write, PoP) pair
 *   fanout_load sustain COORD_URL POPS_FILE RATE SECONDS
 *       writes at RATE for SECONDS, the first BENCH_WARMUP_S of them warm-up. The records of
 *       the first window's writes (bench_window_s, after the warm-up) are fetched while the
 *       writing goes on, the final window's after the last write. keeps_up when all four
 *       checks hold: writer - every write was acknowledged and at most 1% were sent over
 *       50 ms late (the writer and coordinator kept the rate); delivered - every PoP applied
 *       every write and saw every final-window write; no_gap - no PoP counted a gap or a
 *       catch-up; steady - the final window's median last-PoP lag (t1 - commit) is within
 *       bench_lag_steady of the first window's. A first-window write not yet everywhere when
 *       its records were fetched counts with the fetch's start as a lower bound of t1.
 *
 * Environment: VALUE_BYTES (100); SAMPLES=FILE appends latency's per-write samples
 * (commit_to_last send_to_last ack_to_last send_to_ack, microseconds) to FILE; LAG_FROM=send
 * makes sustain's lag t1 - send (the definition redis_bench uses) instead of t1 - commit.
 * The writer opens connections as the schedule needs them (one request in flight each, as
 * HTTP/1.1 without pipelining allows), up to BENCH_MAX_CONNS; a write due while all are busy
 * goes late. POPS_FILE: one PoP base URL (http://127.0.0.1:PORT) per line. Prints one JSON
 * object; msg_bytes is the size of a change on the wire (topic + body, from the
 * coordinator's /health counters). Times are CLOCK_REALTIME microseconds, the clock the PoPs
 * stamp with. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_writer.h"

#define NS        "00000000000000000000000000000000"
#define FETCH_PAR 16   /* PoP requests in flight at once (waits: all at once) */
#define RING      8192 /* records a PoP keeps (node_int.h VIS_RING) */

typedef struct {
    uint64_t seq; /* X-Edgekv-Version of the acknowledgement */
    int status;
} wrec_t; /* a write's answer; its times are the writer's (bench_wtime_t) */

typedef struct {
    int64_t commit_us, vis_max; /* from the records collected */
    uint32_t count;             /* PoPs whose record of this seq was collected */
    uint32_t windex;            /* 1 + the index of the write that made it; 0: not ours */
} srec_t;

enum { J_NEXT, J_STATS, J_VIS, J_WAIT, J_HEALTH };

typedef struct {
    char host[64];
    int port;
    struct evhttp_connection *conn;
    uint64_t next[3];                          /* insertion index: before, mid, end */
    uint64_t gaps[2], catchups[2], applied[2]; /* counters before and after */
    uint64_t lost;                             /* records overwritten before collected */
    int64_t waited_us;                         /* J_WAIT: visible_us, 0 if not in time */
    int failed;                                /* a request to it failed */
} pop_t;

typedef struct app app_t;

typedef struct {
    app_t *A;
    size_t pop; /* SIZE_MAX: the coordinator */
    int kind, slot;
    char path[160];
} job_t;

typedef struct {
    app_t *A;
    struct evhttp_connection *conn;
    int k; /* its index in the writer */
} wconn_t;

struct app {
    struct event_base *base;
    char chost[64];
    int cport;
    struct evhttp_connection *cconn; /* the coordinator, for /health */
    uint64_t health_seq, health_pub[2], health_bytes[2];
    pop_t *pops;
    size_t npops;
    /* the writer */
    bench_writer_t W;
    wconn_t *wc; /* BENCH_MAX_CONNS, opened as the schedule needs them */
    wrec_t *w;
    char prefix[48];
    /* collection */
    uint64_t base_seq; /* the coordinator's sequence before the first write */
    srec_t *s;         /* by seq - base_seq - 1 */
    size_t ns;
    int64_t *each; /* latency: visible - commit of every collected record past the warm-up */
    size_t warm;
    size_t neach, cap_each;
    job_t **queue;
    size_t qhead, qtail, qcap, inflight;
    int64_t wait_timeout_ms, mid_start_us;
    uint64_t wait_seq, final_records;
    uint64_t mid_skip; /* records of the warm-up the mid-run fetch skips */
    int lag_from_send; /* sustain: lag is t1 - send instead of t1 - commit */
    struct event *mid;
    int mid_pending;
};

static int parse_url(const char *url, char *host, size_t hlen, int *port)
{
    const char *p = strncmp(url, "http://", 7) ? NULL : url + 7;
    const char *colon = p ? strchr(p, ':') : NULL;
    if (!colon || (size_t)(colon - p) >= hlen)
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = 0;
    *port = atoi(colon + 1);
    return *port > 0 ? 0 : -1;
}

/* ---- requests to PoPs and the coordinator: a queue, FETCH_PAR in flight -------------------- */

static void pump(app_t *A);

static void take_records(app_t *A, json_t *records)
{
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        uint64_t seq = (uint64_t)json_integer_value(json_array_get(r, 0));
        if (seq <= A->base_seq || seq - A->base_seq - 1 >= A->ns)
            continue; /* not one of ours */
        srec_t *s = &A->s[seq - A->base_seq - 1];
        int64_t commit = json_integer_value(json_array_get(r, 1));
        int64_t vis = json_integer_value(json_array_get(r, 2));
        s->commit_us = commit;
        s->count++;
        if (vis > s->vis_max)
            s->vis_max = vis;
        if (A->each && s->windex > A->warm) {
            if (A->neach == A->cap_each)
                A->each = realloc(A->each, (A->cap_each *= 2) * sizeof *A->each);
            A->each[A->neach++] = vis - commit;
        }
    }
}

static uint64_t getu(json_t *obj, const char *name)
{
    return (uint64_t)json_integer_value(json_object_get(obj, name));
}

static void take(app_t *A, job_t *j, json_t *root)
{
    pop_t *p = j->pop == SIZE_MAX ? NULL : &A->pops[j->pop];
    switch (j->kind) {
    case J_HEALTH:
        A->health_seq = getu(root, "seq");
        A->health_pub[j->slot] = getu(root, "published");
        A->health_bytes[j->slot] = getu(root, "published_bytes");
        break;
    case J_NEXT:
        p->next[j->slot] = getu(root, "next");
        break;
    case J_STATS:
        p->gaps[j->slot] = getu(root, "gaps");
        p->catchups[j->slot] = getu(root, "catchups");
        p->applied[j->slot] = getu(root, "changes_applied");
        break;
    case J_VIS:
        p->lost += getu(root, "lost");
        if (j->slot == 1)
            p->next[1] = getu(root, "next");
        take_records(A, json_object_get(root, "records"));
        break;
    case J_WAIT:
        p->waited_us = json_integer_value(json_object_get(root, "visible_us"));
        break;
    }
}

static void on_job(struct evhttp_request *req, void *arg)
{
    job_t *j = arg;
    app_t *A = j->A;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    json_t *root = NULL;
    if (status == 200) {
        struct evbuffer *b = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(b);
        root = json_loadb((const char *)evbuffer_pullup(b, (ssize_t)len), len, 0, NULL);
    }
    if (root) {
        take(A, j, root);
    } else if (j->kind != J_WAIT) {
        fprintf(stderr, "fanout_load: %s answered %d\n", j->path, status);
        if (j->pop != SIZE_MAX)
            A->pops[j->pop].failed = 1;
    }
    json_decref(root);
    free(j);
    A->inflight--;
    pump(A);
}

static struct evhttp_connection *conn_to(app_t *A, struct evhttp_connection **c, const char *host,
                                         int port)
{
    if (!*c) {
        *c = evhttp_connection_base_new(A->base, NULL, host, (unsigned short)port);
        evhttp_connection_set_timeout(*c, 120);
        /* A PoP closes kept-alive connections idle for a while; these GETs are safe to retry. */
        evhttp_connection_set_retries(*c, 3);
    }
    return *c;
}

static void pump(app_t *A)
{
    while (A->qhead < A->qtail && (A->inflight < FETCH_PAR || A->queue[A->qhead]->kind == J_WAIT)) {
        job_t *j = A->queue[A->qhead++];
        struct evhttp_connection *c =
            j->pop == SIZE_MAX
                ? conn_to(A, &A->cconn, A->chost, A->cport)
                : conn_to(A, &A->pops[j->pop].conn, A->pops[j->pop].host, A->pops[j->pop].port);
        struct evhttp_request *req = evhttp_request_new(on_job, j);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
        A->inflight++;
        evhttp_make_request(c, req, EVHTTP_REQ_GET, j->path);
    }
}

static void enqueue(app_t *A, size_t pop, int kind, int slot)
{
    if (A->qtail == A->qcap)
        A->queue = realloc(A->queue, (A->qcap = A->qcap ? 2 * A->qcap : 1024) * sizeof *A->queue);
    job_t *j = calloc(1, sizeof *j);
    *j = (job_t){.A = A, .pop = pop, .kind = kind, .slot = slot};
    pop_t *p = pop == SIZE_MAX ? NULL : &A->pops[pop];
    if (kind == J_HEALTH) {
        snprintf(j->path, sizeof j->path, "/health");
    } else if (kind == J_NEXT) { /* past the end: no records, only "next" */
        snprintf(j->path, sizeof j->path, "/_edgekv/visibility?from=1000000000000000");
    } else if (kind == J_STATS) {
        snprintf(j->path, sizeof j->path, "/_edgekv/stats");
    } else if (kind == J_WAIT) {
        snprintf(j->path, sizeof j->path, "/_edgekv/wait?seq=%" PRIu64 "&timeout_ms=%" PRId64,
                 A->wait_seq, A->wait_timeout_ms);
    } else if (slot == 1) { /* mid-run: everything since the warm-up (most of it) */
        snprintf(j->path, sizeof j->path, "/_edgekv/visibility?from=%" PRIu64,
                 p->next[0] + A->mid_skip);
    } else { /* after the run: what the mid-run fetch left, or only the final records */
        uint64_t from = p->next[1] ? p->next[1] : p->next[0];
        if (A->final_records && p->next[2] > from + A->final_records)
            from = p->next[2] - A->final_records;
        snprintf(j->path, sizeof j->path, "/_edgekv/visibility?from=%" PRIu64, from);
    }
    A->queue[A->qtail++] = j;
}

/* Queues one request to every PoP, each on a fresh connection: a PoP closes connections idle
 * for a few seconds, and a loaded one may do so just as a request is sent. */
static void enqueue_pops(app_t *A, int kind, int slot)
{
    for (size_t i = 0; i < A->npops; i++) {
        if (A->pops[i].conn && !A->inflight) {
            evhttp_connection_free(A->pops[i].conn);
            A->pops[i].conn = NULL;
        }
        enqueue(A, i, kind, slot);
    }
    pump(A);
}

/* Runs the loop until no request is queued or in flight and every write is answered. */
static void run_until_idle(app_t *A)
{
    while (A->inflight || A->qhead < A->qtail || A->W.done_w < A->W.nw || A->mid_pending)
        event_base_loop(A->base, EVLOOP_ONCE);
}

static void fetch(app_t *A, int kind, int slot)
{
    if (kind == J_HEALTH) {
        enqueue(A, SIZE_MAX, kind, slot);
        pump(A);
    } else {
        enqueue_pops(A, kind, slot);
    }
    run_until_idle(A);
}

/* ---- the writer: open-loop schedule, one request in flight per connection ------------------ */

static void on_written(struct evhttp_request *req, void *arg)
{
    wconn_t *c = arg;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    const char *v =
        req ? evhttp_find_header(evhttp_request_get_input_headers(req), "X-Edgekv-Version") : NULL;
    uint64_t seq = v ? strtoull(v, NULL, 10) : 0;
    /* recorded before the writer moves on: answered() may send the next write at once */
    wrec_t *w = &c->A->w[c->A->W.busy[c->k]];
    w->status = status;
    w->seq = seq;
    bench_writer_answered(&c->A->W, c->k, status == 200);
}

static void open_conn(bench_writer_t *W, int k)
{
    app_t *A = W->ctx;
    wconn_t *c = &A->wc[k];
    *c = (wconn_t){.A = A, .k = k};
    c->conn = evhttp_connection_base_new(A->base, NULL, A->chost, (unsigned short)A->cport);
    evhttp_connection_set_timeout(c->conn, 60);
}

static void send_write(bench_writer_t *W, int k, size_t i)
{
    app_t *A = W->ctx;
    char path[200];
    snprintf(path, sizeof path,
             "/client/v4/accounts/bench/storage/kv/namespaces/" NS "/values/%s-%zu", A->prefix, i);
    struct evhttp_request *req = evhttp_request_new(on_written, &A->wc[k]);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", "127.0.0.1");
    evhttp_add_header(h, "Content-Type", "application/octet-stream");
    evbuffer_add(evhttp_request_get_output_buffer(req), W->value, W->value_len);
    evhttp_make_request(A->wc[k].conn, req, EVHTTP_REQ_PUT, path);
}

static void start_writes(app_t *A, size_t n)
{
    A->w = calloc(n, sizeof *A->w);
    A->ns = 2 * n + 1024; /* room for changes that are not ours */
    A->s = calloc(A->ns, sizeof *A->s);
    bench_writer_start(&A->W, n);
}

/* ---- results ------------------------------------------------------------------------------ */

static uint64_t last_seq(const app_t *A)
{
    uint64_t m = 0;
    for (size_t i = 0; i < A->W.nw; i++)
        if (A->w[i].seq > m)
            m = A->w[i].seq;
    return m;
}

static srec_t *rec_of(const app_t *A, size_t i)
{
    const wrec_t *w = &A->w[i];
    if (w->status != 200 || w->seq <= A->base_seq || w->seq - A->base_seq - 1 >= A->ns)
        return NULL;
    return &A->s[w->seq - A->base_seq - 1];
}

static json_t *writer_json(const app_t *A)
{
    double bytes = A->health_pub[1] > A->health_pub[0]
                       ? (double)(A->health_bytes[1] - A->health_bytes[0]) /
                             (double)(A->health_pub[1] - A->health_pub[0])
                       : 0;
    json_t *j = bench_writer_json(&A->W);
    json_object_set_new(j, "msg_bytes", json_real(bytes));
    return j;
}

static int latency(app_t *A, size_t count, size_t warm)
{
    if (count + warm > RING - 100) {
        fprintf(stderr, "fanout_load: at most %d writes (a PoP's ring)\n", RING - 100);
        return 2;
    }
    fetch(A, J_HEALTH, 0);
    A->base_seq = A->health_seq;
    fetch(A, J_NEXT, 0);
    A->cap_each = 1024;
    A->each = malloc(A->cap_each * sizeof *A->each);
    A->W.warm_us = (int64_t)((double)warm * 1e6 / A->W.rate);
    start_writes(A, warm + count);
    run_until_idle(A);
    A->wait_seq = last_seq(A);
    fetch(A, J_WAIT, 0);
    fetch(A, J_HEALTH, 1);
    A->warm = warm;
    for (size_t i = 0; i < A->W.nw; i++) {
        srec_t *s = rec_of(A, i);
        if (s)
            s->windex = (uint32_t)i + 1;
    }
    fetch(A, J_VIS, 0);
    int64_t *v[4];
    for (int k = 0; k < 4; k++)
        v[k] = malloc(A->W.nw * sizeof *v[k]);
    size_t m = 0, acked = 0, missing = 0;
    for (size_t i = warm; i < A->W.nw; i++) {
        const bench_wtime_t *w = &A->W.t[i];
        const srec_t *s = rec_of(A, i);
        if (!s)
            continue;
        acked++;
        missing += A->npops - s->count;
        if (s->count < A->npops)
            continue;
        v[0][m] = s->vis_max - s->commit_us;
        v[1][m] = s->vis_max - w->send_us;
        v[2][m] = s->vis_max - w->ack_us;
        v[3][m++] = w->ack_us - w->send_us;
    }
    bench_samples(v, 4, m); /* commit_to_last send_to_last ack_to_last send_to_ack */
    for (size_t i = warm, k = 0; i < A->W.nw; i++) /* send_to_ack of every acknowledged write */
        if (rec_of(A, i))
            v[3][k++] = A->W.t[i].ack_us - A->W.t[i].send_us;
    json_t *out = json_pack("{s:s, s:I, s:f, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "mode",
                            "latency", "pops", (json_int_t)A->npops, "rate", A->W.rate, "count",
                            (json_int_t)count, "warmup", (json_int_t)warm, "writer", writer_json(A),
                            "commit_to_last", bench_summary(v[0], m), "send_to_last",
                            bench_summary(v[1], m), "ack_to_last", bench_summary(v[2], m),
                            "send_to_ack", bench_summary(v[3], acked), "commit_to_each",
                            bench_summary(A->each, A->neach), "missing", (json_int_t)missing);
    json_dumpf(out, stdout, JSON_COMPACT);
    printf("\n");
    json_decref(out);
    for (int k = 0; k < 4; k++)
        free(v[k]);
    return 0;
}

static void on_mid(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    app_t *A = arg;
    A->mid_start_us = ekv_now_us();
    A->mid_pending = 0;
    enqueue_pops(A, J_VIS, 1);
}

/* Last-PoP lag (t1 - commit, or t1 - send) of the writes scheduled in [from, to) seconds of the
 * run. */
static json_t *window_json(app_t *A, double from, double to, int censor, size_t *missing)
{
    int64_t *v = malloc(A->W.nw * sizeof *v);
    size_t m = 0, censored = 0;
    *missing = 0;
    for (size_t i = 0; i < A->W.nw; i++) {
        const bench_wtime_t *w = &A->W.t[i];
        double at = (double)(w->sched_us - A->W.start_mono) / 1e6;
        const srec_t *s = rec_of(A, i);
        if (at < from || at >= to || !s)
            continue;
        int64_t commit = A->lag_from_send ? w->send_us : s->count ? s->commit_us : w->ack_us;
        if (s->count == A->npops) {
            v[m++] = s->vis_max - commit;
        } else if (censor) { /* not everywhere when fetched: t1 is after the fetch began */
            v[m++] = (s->vis_max > A->mid_start_us ? s->vis_max : A->mid_start_us) - commit;
            censored++;
        } else {
            (*missing)++;
        }
    }
    json_t *j = bench_summary(v, m);
    json_object_set_new(j, "censored", json_integer((json_int_t)censored));
    free(v);
    return j;
}

static int sustain(app_t *A, double seconds)
{
    double win = bench_window_s(A->W.rate);
    fetch(A, J_HEALTH, 0);
    A->base_seq = A->health_seq;
    fetch(A, J_NEXT, 0);
    fetch(A, J_STATS, 0);
    size_t n = (size_t)(A->W.rate * seconds);
    A->W.warm_us = (int64_t)(BENCH_WARMUP_S * 1e6);
    A->mid_skip = (uint64_t)(0.8 * BENCH_WARMUP_S * A->W.rate);
    start_writes(A, n);
    /* The first window's records, fetched while they are still in every PoP's ring. */
    double mid_s = BENCH_WARMUP_S + win + (win < 0.5 ? win : 0.5);
    int64_t mid_us = (int64_t)(mid_s * 1e6) + 20000;
    struct timeval tv = {(time_t)(mid_us / 1000000), (suseconds_t)(mid_us % 1000000)};
    A->mid = evtimer_new(A->base, on_mid, A);
    A->mid_pending = 1;
    evtimer_add(A->mid, &tv);
    run_until_idle(A);
    A->wait_seq = last_seq(A);
    fetch(A, J_WAIT, 0);
    fetch(A, J_HEALTH, 1);
    fetch(A, J_NEXT, 2);
    A->final_records = (uint64_t)(1.5 * win * A->W.rate) + 64;
    fetch(A, J_VIS, 0);
    fetch(A, J_STATS, 1);

    uint64_t gaps = 0, catchups = 0, lost = 0, applied_min = UINT64_MAX;
    int failed = 0;
    int64_t last_vis = 0;
    for (size_t i = 0; i < A->npops; i++) {
        pop_t *p = &A->pops[i];
        gaps += p->gaps[1] - p->gaps[0];
        catchups += p->catchups[1] - p->catchups[0];
        lost += p->lost;
        failed |= p->failed;
        if (p->applied[1] - p->applied[0] < applied_min)
            applied_min = p->applied[1] - p->applied[0];
        if (!p->waited_us)
            last_vis = INT64_MAX;
        else if (last_vis != INT64_MAX && p->waited_us > last_vis)
            last_vis = p->waited_us;
    }
    size_t first_missing, final_missing;
    json_t *first = window_json(A, BENCH_WARMUP_S, BENCH_WARMUP_S + win, 1, &first_missing);
    json_t *final = window_json(A, seconds - win, seconds, 0, &final_missing);
    json_t *writer = writer_json(A);
    size_t acked = (size_t)json_integer_value(json_object_get(writer, "acked"));
    int writer_ok = acked == n && A->W.late <= n / 100;
    int64_t p1 = json_integer_value(json_object_get(first, "p50_us"));
    int64_t p2 = json_integer_value(json_object_get(final, "p50_us"));
    int delivered =
        !failed && applied_min >= n && lost == 0 && final_missing == 0 && last_vis != INT64_MAX;
    int no_gap = gaps == 0 && catchups == 0;
    int steady = json_integer_value(json_object_get(final, "n")) > 0 && bench_lag_steady(p1, p2);
    const char *why = !writer_ok   ? "writer or coordinator could not keep the rate"
                      : !delivered ? "a PoP missed writes"
                      : !no_gap    ? "PoPs counted gaps or catch-ups"
                      : !steady    ? "last-PoP lag grew"
                                   : "";
    json_t *checks = json_pack("{s:b, s:b, s:b, s:b}", "writer", writer_ok, "delivered", delivered,
                               "no_gap", no_gap, "steady", steady);
    json_t *out = json_pack(
        "{s:s, s:I, s:f, s:f, s:f, s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:b, s:s}",
        "mode", "sustain", "pops", (json_int_t)A->npops, "rate", A->W.rate, "seconds", seconds,
        "window_s", win, "lag_from", A->lag_from_send ? "send" : "commit", "writer", writer,
        "first", first, "final", final, "gaps", (json_int_t)gaps, "catchups", (json_int_t)catchups,
        "applied_min", (json_int_t)applied_min, "lost", (json_int_t)lost,
        "last_write_visible_after_ack_us",
        (json_int_t)(last_vis == INT64_MAX ? -1 : last_vis - A->W.t[n - 1].ack_us), "checks",
        checks, "keeps_up", writer_ok && delivered && no_gap && steady, "why", why);
    json_dumpf(out, stdout, JSON_COMPACT);
    printf("\n");
    json_decref(out);
    return 0;
}

static int load_pops(app_t *A, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    char line[256];
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line)
            continue;
        if (A->npops == cap)
            A->pops = realloc(A->pops, (cap = cap ? 2 * cap : 64) * sizeof *A->pops);
        pop_t *p = &A->pops[A->npops];
        memset(p, 0, sizeof *p);
        if (parse_url(line, p->host, sizeof p->host, &p->port) != 0) {
            fclose(f);
            return -1;
        }
        A->npops++;
    }
    fclose(f);
    return A->npops ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 6 || (strcmp(argv[1], "latency") && strcmp(argv[1], "sustain"))) {
        fprintf(stderr, "usage: fanout_load latency COORD_URL POPS_FILE RATE COUNT [WARMUP]\n"
                        "       fanout_load sustain COORD_URL POPS_FILE RATE SECONDS\n");
        return 2;
    }
    app_t A = {0};
    double rate = atof(argv[4]);
    A.wait_timeout_ms = 30000;
    A.lag_from_send = getenv("LAG_FROM") && !strcmp(getenv("LAG_FROM"), "send");
    snprintf(A.prefix, sizeof A.prefix, "fo-%lld", (long long)(ekv_now_us() / 1000));
    if (parse_url(argv[2], A.chost, sizeof A.chost, &A.cport) != 0 || load_pops(&A, argv[3]) ||
        rate <= 0) {
        fprintf(stderr, "fanout_load: bad coordinator URL, PoP list or rate\n");
        return 2;
    }
    A.base = bench_base_new();
    A.wc = calloc(BENCH_MAX_CONNS, sizeof *A.wc);
    bench_writer_init(&A.W, A.base, rate, open_conn, send_write, &A);
    int rc = !strcmp(argv[1], "latency") ? latency(&A, strtoul(argv[5], NULL, 10),
                                                   argc > 6 ? strtoul(argv[6], NULL, 10) : 50)
                                         : sustain(&A, atof(argv[5]));
    for (int k = 0; k < A.W.nconns; k++)
        evhttp_connection_free(A.wc[k].conn);
    for (size_t i = 0; i < A.npops; i++)
        if (A.pops[i].conn)
            evhttp_connection_free(A.pops[i].conn);
    if (A.cconn)
        evhttp_connection_free(A.cconn);
    if (A.mid)
        event_free(A.mid);
    bench_writer_free(&A.W);
    event_base_free(A.base);
    free(A.queue);
    free(A.each);
    free(A.w);
    free(A.s);
    free(A.wc);
    free(A.pops);
    return rc;
}
