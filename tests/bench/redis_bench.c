/* redis_bench: the Redis side of scripts/bench/redis - the same paced writer and the same
 * measurements as fanout_load, against a Redis primary and its replicas (hiredis, libevent).
 *
 *   redis_bench latency PRIMARY_PORT REPLICA_PORTS_FILE RATE COUNT [WARMUP]
 *   redis_bench sustain PRIMARY_PORT REPLICA_PORTS_FILE RATE SECONDS
 *
 * Visibility at a replica: each replica runs with notify-keyspace-events "E$", and one
 * subscriber connection per replica (all on this process's loop) SUBSCRIBEs to
 * __keyevent@0__:set; t1 at that replica = the moment the notification carrying the key
 * arrived here (CLOCK_REALTIME). The notification is fired when the replica applies the SET
 * from its replication stream, so t1 is the replica's apply time plus one loopback hop to
 * this process (an edgekv PoP stamps its apply time itself: that hop is Redis's handicap).
 * The writer: SET key value (distinct keys, VALUE_BYTES bytes) on connections to the
 * primary, open-loop at RATE, one command in flight per connection, a connection opened
 * only when a write is due and all are busy (as fanout_load's HTTP writer).
 *   latency: per counted write, t1 = the notification from the LAST replica:
 *       send_to_last, ack_to_last (may be < 0), send_to_ack; as fanout_load.
 *   sustain: writes at RATE for SECONDS, the first BENCH_WARMUP_S of them warm-up;
 *       keeps_up when all four checks hold: writer - every write was acknowledged with at
 *       most 1% sent over 50 ms late; delivered - every replica notified every write;
 *       no_gap - the primary counted no full resync and still has every replica connected;
 *       steady - the final window's median last-replica lag (t1 - send) is within
 *       bench_lag_steady of the first window's.
 * SAMPLES=FILE appends latency's per-write samples (send_to_last ack_to_last send_to_ack,
 * microseconds) to FILE. REPLICA_PORTS_FILE: one port per line. Prints one JSON object. */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_writer.h"

#define CHANNEL "__keyevent@0__:set"

typedef struct {
    int64_t vis_max; /* latest notification of this key */
    uint32_t count;  /* replicas that notified it */
} wrec_t;            /* a write's visibility; its times are the writer's (bench_wtime_t) */

typedef struct app app_t;

typedef struct {
    app_t *A;
    redisAsyncContext *ac;
    int k; /* its index in the writer */
} wconn_t;

typedef struct {
    app_t *A;
    redisAsyncContext *ac;
    int port, subscribed;
    uint64_t notes; /* notifications of our keys */
} sub_t;

struct app {
    struct event_base *base;
    int primary;
    sub_t *subs;
    size_t nsubs, nsubscribed;
    bench_writer_t W;
    wconn_t *wc; /* BENCH_MAX_CONNS, opened as the schedule needs them */
    wrec_t *w;
    char prefix[48];
    size_t prefix_len;
    int broken; /* a connection failed */
};

/* ---- subscribers -------------------------------------------------------------------------- */

static void on_note(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    int64_t now = ekv_now_us();
    sub_t *s = priv;
    app_t *A = s->A;
    redisReply *reply = r;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return;
    const redisReply *kind = reply->element[0], *key = reply->element[2];
    if (kind->type == REDIS_REPLY_STRING && !strcmp(kind->str, "subscribe")) {
        s->subscribed = 1;
        A->nsubscribed++;
        return;
    }
    if (key->type != REDIS_REPLY_STRING || key->len <= A->prefix_len ||
        memcmp(key->str, A->prefix, A->prefix_len))
        return; /* not one of this run's keys */
    size_t i = strtoul(key->str + A->prefix_len, NULL, 10);
    if (i >= A->W.nw)
        return;
    s->notes++;
    A->w[i].count++;
    if (now > A->w[i].vis_max)
        A->w[i].vis_max = now;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)ac;
    (void)status;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        app_t *A = ac->data;
        fprintf(stderr, "redis_bench: connect: %s\n", ac->errstr);
        A->broken = 1;
    }
}

static redisAsyncContext *connect_to(app_t *A, int port)
{
    redisAsyncContext *ac = redisAsyncConnect("127.0.0.1", port);
    if (!ac || ac->err) {
        fprintf(stderr, "redis_bench: cannot connect to port %d\n", port);
        exit(1);
    }
    ac->data = A;
    redisLibeventAttach(ac, A->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

static void subscribe_all(app_t *A)
{
    for (size_t i = 0; i < A->nsubs; i++) {
        sub_t *s = &A->subs[i];
        s->A = A;
        s->ac = connect_to(A, s->port);
        redisAsyncCommand(s->ac, on_note, s, "SUBSCRIBE " CHANNEL);
    }
    int64_t give_up = ekv_mono_us() + 10000000;
    while (A->nsubscribed < A->nsubs && !A->broken && ekv_mono_us() < give_up)
        event_base_loop(A->base, EVLOOP_ONCE);
    if (A->nsubscribed < A->nsubs) {
        fprintf(stderr, "redis_bench: only %zu of %zu subscribers\n", A->nsubscribed, A->nsubs);
        exit(1);
    }
}

/* ---- the writer: open-loop schedule, one command in flight per connection ------------------ */

static void on_written(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    wconn_t *c = priv;
    redisReply *reply = r;
    bench_writer_answered(&c->A->W, c->k,
                          reply && reply->type == REDIS_REPLY_STATUS && !strcmp(reply->str, "OK"));
}

static void open_conn(bench_writer_t *W, int k)
{
    app_t *A = W->ctx;
    A->wc[k] = (wconn_t){.A = A, .k = k, .ac = connect_to(A, A->primary)};
}

static void send_write(bench_writer_t *W, int k, size_t i)
{
    app_t *A = W->ctx;
    char key[96];
    int klen = snprintf(key, sizeof key, "%s%zu", A->prefix, i);
    redisAsyncCommand(A->wc[k].ac, on_written, &A->wc[k], "SET %b %b", key, (size_t)klen, W->value,
                      W->value_len);
}

/* Writes n keys at the rate; returns when every write is answered and every replica has
 * notified every acknowledged key, or drain_s after the last answer. */
static void run_writes(app_t *A, size_t n, double drain_s)
{
    A->w = calloc(n, sizeof *A->w);
    bench_writer_start(&A->W, n);
    while (A->W.done_w < A->W.nw && !A->broken)
        event_base_loop(A->base, EVLOOP_ONCE);
    int64_t give_up = ekv_mono_us() + (int64_t)(drain_s * 1e6);
    struct timeval tick = {0, 10000};
    for (size_t i = 0; i < n && ekv_mono_us() < give_up;) {
        if (!A->W.t[i].ok || A->w[i].count >= A->nsubs) {
            i++;
            continue;
        }
        event_base_loopexit(A->base, &tick);
        event_base_dispatch(A->base);
    }
}

/* ---- the primary's replication counters (a blocking connection, before and after) --------- */

typedef struct {
    long long sync_full, connected, offset;
} repl_t;

static long long info_field(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? atoll(p + strlen(name)) : -1;
}

static repl_t primary_info(int port)
{
    repl_t r = {-1, -1, -1};
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err)
        return r;
    redisReply *s = redisCommand(c, "INFO stats"), *p = redisCommand(c, "INFO replication");
    if (s && s->type == REDIS_REPLY_STRING)
        r.sync_full = info_field(s->str, "sync_full:");
    if (p && p->type == REDIS_REPLY_STRING) {
        r.connected = info_field(p->str, "connected_slaves:");
        r.offset = info_field(p->str, "master_repl_offset:");
    }
    freeReplyObject(s);
    freeReplyObject(p);
    redisFree(c);
    return r;
}

/* ---- results ------------------------------------------------------------------------------ */

static int latency(app_t *A, size_t count, size_t warm)
{
    A->W.warm_us = (int64_t)((double)warm * 1e6 / A->W.rate);
    run_writes(A, warm + count, 10);
    int64_t *v[3];
    for (int k = 0; k < 3; k++)
        v[k] = malloc(A->W.nw * sizeof *v[k]);
    size_t m = 0, acked = 0, missing = 0;
    for (size_t i = warm; i < A->W.nw; i++) {
        const bench_wtime_t *t = &A->W.t[i];
        const wrec_t *w = &A->w[i];
        if (!t->ok)
            continue;
        acked++;
        missing += A->nsubs - w->count;
        if (w->count < A->nsubs)
            continue;
        v[0][m] = w->vis_max - t->send_us;
        v[1][m] = w->vis_max - t->ack_us;
        v[2][m++] = t->ack_us - t->send_us;
    }
    bench_samples(v, 3, m);                        /* send_to_last ack_to_last send_to_ack */
    for (size_t i = warm, k = 0; i < A->W.nw; i++) /* send_to_ack of every acknowledged write */
        if (A->W.t[i].ok)
            v[2][k++] = A->W.t[i].ack_us - A->W.t[i].send_us;
    json_t *out =
        json_pack("{s:s, s:I, s:f, s:I, s:I, s:o, s:o, s:o, s:o, s:I}", "mode", "latency",
                  "replicas", (json_int_t)A->nsubs, "rate", A->W.rate, "count", (json_int_t)count,
                  "warmup", (json_int_t)warm, "writer", bench_writer_json(&A->W), "send_to_last",
                  bench_summary(v[0], m), "ack_to_last", bench_summary(v[1], m), "send_to_ack",
                  bench_summary(v[2], acked), "missing", (json_int_t)missing);
    json_dumpf(out, stdout, JSON_COMPACT);
    printf("\n");
    json_decref(out);
    for (int k = 0; k < 3; k++)
        free(v[k]);
    return 0;
}

/* Last-replica lag (t1 - send) of the writes scheduled in [from, to) seconds of the run. */
static json_t *window_json(app_t *A, double from, double to, size_t *missing)
{
    int64_t *v = malloc(A->W.nw * sizeof *v);
    size_t m = 0;
    *missing = 0;
    for (size_t i = 0; i < A->W.nw; i++) {
        const bench_wtime_t *t = &A->W.t[i];
        const wrec_t *w = &A->w[i];
        double at = (double)(t->sched_us - A->W.start_mono) / 1e6;
        if (at < from || at >= to)
            continue;
        if (t->ok && w->count == A->nsubs)
            v[m++] = w->vis_max - t->send_us;
        else
            (*missing)++;
    }
    json_t *j = bench_summary(v, m);
    free(v);
    return j;
}

static int sustain(app_t *A, double seconds)
{
    double win = bench_window_s(A->W.rate);
    repl_t before = primary_info(A->primary);
    size_t n = (size_t)(A->W.rate * seconds);
    A->W.warm_us = (int64_t)(BENCH_WARMUP_S * 1e6);
    run_writes(A, n, 30);
    repl_t after = primary_info(A->primary);
    size_t missing = 0, first_missing, final_missing;
    for (size_t i = 0; i < n; i++)
        missing += A->W.t[i].ok ? A->nsubs - A->w[i].count : 0;
    json_t *first = window_json(A, BENCH_WARMUP_S, BENCH_WARMUP_S + win, &first_missing);
    json_t *final = window_json(A, seconds - win, seconds, &final_missing);
    json_t *writer = bench_writer_json(&A->W);
    size_t acked = (size_t)json_integer_value(json_object_get(writer, "acked"));
    int writer_ok = acked == n && A->W.late <= n / 100;
    int complete = missing == 0 && !A->broken;
    int no_gap = after.sync_full == before.sync_full && after.connected == (long long)A->nsubs;
    int64_t p1 = json_integer_value(json_object_get(first, "p50_us"));
    int64_t p2 = json_integer_value(json_object_get(final, "p50_us"));
    int steady = json_integer_value(json_object_get(final, "n")) > 0 && bench_lag_steady(p1, p2);
    const char *why = !writer_ok  ? "writer or primary could not keep the rate"
                      : !complete ? "a replica missed writes"
                      : !no_gap   ? "a replica resynchronised or disconnected"
                      : !steady   ? "last-replica lag grew"
                                  : "";
    int64_t last_vis =
        A->w[n - 1].count == A->nsubs ? A->w[n - 1].vis_max - A->W.t[n - 1].ack_us : -1;
    json_t *checks = json_pack("{s:b, s:b, s:b, s:b}", "writer", writer_ok, "delivered", complete,
                               "no_gap", no_gap, "steady", steady);
    json_t *out = json_pack(
        "{s:s, s:I, s:f, s:f, s:f, s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:b, s:s}", "mode",
        "sustain", "replicas", (json_int_t)A->nsubs, "rate", A->W.rate, "seconds", seconds,
        "window_s", win, "lag_from", "send", "writer", writer, "first", first, "final", final,
        "missing", (json_int_t)missing, "full_resyncs",
        (json_int_t)(after.sync_full - before.sync_full), "connected_replicas",
        (json_int_t)after.connected, "last_write_visible_after_ack_us", (json_int_t)last_vis,
        "checks", checks, "keeps_up", writer_ok && complete && no_gap && steady, "why", why);
    json_dumpf(out, stdout, JSON_COMPACT);
    printf("\n");
    json_decref(out);
    return 0;
}

static int load_ports(app_t *A, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    int port;
    size_t cap = 0;
    while (fscanf(f, "%d", &port) == 1) {
        if (A->nsubs == cap)
            A->subs = realloc(A->subs, (cap = cap ? 2 * cap : 64) * sizeof *A->subs);
        memset(&A->subs[A->nsubs], 0, sizeof *A->subs);
        A->subs[A->nsubs++].port = port;
    }
    fclose(f);
    return A->nsubs ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 6 || (strcmp(argv[1], "latency") && strcmp(argv[1], "sustain"))) {
        fprintf(stderr, "usage: redis_bench latency PRIMARY_PORT REPLICA_PORTS_FILE RATE COUNT "
                        "[WARMUP]\n"
                        "       redis_bench sustain PRIMARY_PORT REPLICA_PORTS_FILE RATE "
                        "SECONDS\n");
        return 2;
    }
    app_t A = {0};
    A.primary = atoi(argv[2]);
    double rate = atof(argv[4]);
    A.prefix_len =
        (size_t)snprintf(A.prefix, sizeof A.prefix, "rb-%lld-", (long long)(ekv_now_us() / 1000));
    if (A.primary <= 0 || load_ports(&A, argv[3]) || rate <= 0) {
        fprintf(stderr, "redis_bench: bad primary port, replica list or rate\n");
        return 2;
    }
    A.base = bench_base_new();
    A.wc = calloc(BENCH_MAX_CONNS, sizeof *A.wc);
    bench_writer_init(&A.W, A.base, rate, open_conn, send_write, &A);
    subscribe_all(&A);
    int rc = !strcmp(argv[1], "latency") ? latency(&A, strtoul(argv[5], NULL, 10),
                                                   argc > 6 ? strtoul(argv[6], NULL, 10) : 50)
                                         : sustain(&A, atof(argv[5]));
    for (int k = 0; k < A.W.nconns; k++)
        redisAsyncFree(A.wc[k].ac);
    for (size_t i = 0; i < A.nsubs; i++)
        redisAsyncFree(A.subs[i].ac);
    bench_writer_free(&A.W);
    event_base_free(A.base);
    free(A.w);
    free(A.wc);
    free(A.subs);
    return rc;
}
