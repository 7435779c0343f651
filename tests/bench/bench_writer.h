/* bench_writer: the open-loop writer fanout_load (REST PUTs to the coordinator) and
 * redis_bench (SETs to the primary) share, so that both systems are written to by one
 * definition of the schedule, of lateness and of the writer's report.
 *
 * Write i is due at start + i / rate (CLOCK_MONOTONIC; start from bench_start_mono). Each
 * connection keeps one request in flight; a write due while every connection is busy opens
 * one more, up to BENCH_MAX_CONNS, else it waits and goes late. A write is late when sent
 * over BENCH_LATE_US after its time; writes due in the first warm_us are warm-up, never late.
 * The tool supplies two callbacks: open (connection k) and send (write i on connection k);
 * its reply callback calls bench_writer_answered. Header-only, as bench_stats.h. */
#ifndef BENCH_WRITER_H
#define BENCH_WRITER_H

#include <event2/event.h>
#include <string.h>

#include "bench_stats.h"

#define BENCH_LATE_US 50000

typedef struct {
    int64_t sched_us;        /* monotonic: when the schedule says to send */
    int64_t send_us, ack_us; /* real */
    int ok;                  /* acknowledged */
} bench_wtime_t;

typedef struct bench_writer bench_writer_t;

struct bench_writer {
    struct event_base *base;
    struct event *pace;
    double rate;
    char *value; /* VALUE_BYTES (default 100) bytes of 'v' */
    size_t value_len;
    bench_wtime_t *t;
    size_t nw, next_w, done_w, late;
    int64_t start_mono, max_late_us, warm_us;
    int nconns, *idle, nidle;
    size_t *busy; /* [k]: the write in flight on connection k */
    void (*open)(bench_writer_t *W, int k);
    void (*send)(bench_writer_t *W, int k, size_t i);
    void *ctx; /* the tool's */
};

/* An event base whose timers are precise: the schedule is kept to the microsecond. */
static inline struct event_base *bench_base_new(void)
{
    struct event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

static inline void bench_writer_send_due(bench_writer_t *W)
{
    int64_t now = ekv_mono_us();
    while (W->next_w < W->nw && W->t[W->next_w].sched_us <= now) {
        if (!W->nidle && W->nconns < BENCH_MAX_CONNS) {
            W->open(W, W->nconns);
            W->idle[W->nidle++] = W->nconns++;
        }
        if (!W->nidle)
            break; /* every connection busy: the write goes late */
        int k = W->idle[--W->nidle];
        size_t i = W->next_w++;
        int64_t late = ekv_mono_us() - W->t[i].sched_us;
        if (W->t[i].sched_us - W->start_mono >= W->warm_us) {
            W->late += late > BENCH_LATE_US;
            if (late > W->max_late_us)
                W->max_late_us = late;
        }
        W->busy[k] = i;
        W->t[i].send_us = ekv_now_us();
        W->send(W, k, i);
    }
    if (W->next_w < W->nw && W->t[W->next_w].sched_us > now) {
        int64_t d = W->t[W->next_w].sched_us - now;
        struct timeval tv = {(time_t)(d / 1000000), (suseconds_t)(d % 1000000)};
        event_add(W->pace, &tv);
    }
}

static inline void bench_writer_on_pace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    bench_writer_send_due(arg);
}

static inline void bench_writer_init(bench_writer_t *W, struct event_base *base, double rate,
                                     void (*open)(bench_writer_t *, int),
                                     void (*send)(bench_writer_t *, int, size_t), void *ctx)
{
    memset(W, 0, sizeof *W);
    W->base = base;
    W->rate = rate;
    W->open = open;
    W->send = send;
    W->ctx = ctx;
    const char *vb = getenv("VALUE_BYTES");
    W->value_len = vb ? strtoul(vb, NULL, 10) : 100;
    W->value = malloc(W->value_len + 1);
    memset(W->value, 'v', W->value_len);
    W->pace = evtimer_new(base, bench_writer_on_pace, W);
}

/* Schedules n writes from bench_start_mono(); the loop sends them. */
static inline void bench_writer_start(bench_writer_t *W, size_t n)
{
    W->nw = n;
    W->next_w = W->done_w = 0;
    W->t = calloc(n, sizeof *W->t);
    W->busy = calloc(BENCH_MAX_CONNS, sizeof *W->busy);
    W->idle = calloc(BENCH_MAX_CONNS, sizeof *W->idle);
    W->start_mono = bench_start_mono();
    for (size_t i = 0; i < n; i++)
        W->t[i].sched_us = W->start_mono + (int64_t)((double)i * 1e6 / W->rate);
    struct timeval tv = {0, 20000};
    event_add(W->pace, &tv);
}

/* The reply to the write on connection k came (ok: acknowledged); returns that write's index
 * after freeing the connection for the writes now due. */
static inline size_t bench_writer_answered(bench_writer_t *W, int k, int ok)
{
    size_t i = W->busy[k];
    W->t[i].ack_us = ekv_now_us();
    W->t[i].ok = ok;
    W->idle[W->nidle++] = k;
    W->done_w++;
    bench_writer_send_due(W);
    return i;
}

/* {"writes", "acked", "failed", "sent_rate", "late_sends", "max_late_us", "conns"}. */
static inline json_t *bench_writer_json(const bench_writer_t *W)
{
    size_t acked = 0;
    for (size_t i = 0; i < W->nw; i++)
        acked += W->t[i].ok != 0;
    double span = W->nw > 1 ? (double)(W->t[W->nw - 1].send_us - W->t[0].send_us) / 1e6 : 0;
    return json_pack("{s:I, s:I, s:I, s:f, s:I, s:I, s:i}", "writes", (json_int_t)W->nw, "acked",
                     (json_int_t)acked, "failed", (json_int_t)(W->nw - acked), "sent_rate",
                     span > 0 ? (double)(W->nw - 1) / span : 0.0, "late_sends", (json_int_t)W->late,
                     "max_late_us", (json_int_t)W->max_late_us, "conns", W->nconns);
}

static inline void bench_writer_free(bench_writer_t *W)
{
    event_free(W->pace);
    free(W->t);
    free(W->busy);
    free(W->idle);
    free(W->value);
}

#endif
