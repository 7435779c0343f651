/* loadgen: Poisson load, recording and visibility polling on one libevent loop (loadgen.h). */
#include "loadgen.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_mem.h"
#include "ekv_rand.h"
#include "ekv_time.h"

#define CONNS   8    /* keep-alive connections per PoP */
#define TICK_US 1000 /* scheduling granularity */
#define POLL_US 200000

enum { REQ_READ, REQ_WRITE, REQ_VIS, REQ_SERVED };

typedef struct load load_t;

typedef struct {
    load_t *L;
    int kind;
    uint16_t pop;
    uint32_t key;
    int64_t start_us;
} ctx_t;

typedef struct {
    struct evhttp_connection *conns[CONNS];
    size_t rr; /* next connection */
    char host[64];
    int port;
    int64_t next_read_us; /* next read arrival */
    uint64_t vis_from;    /* next visibility insertion index */
    int vis_inflight;
    uint64_t unserved_from; /* oldest record polled before a read there returned it */
} pop_t;

struct load {
    const ekv_load_config_t *cfg;
    ekv_load_result_t *out;
    struct event_base *base;
    struct event *tick;
    pop_t *pops;
    ekv_rand_t rng;           /* arrivals and keys (common/ekv_rand.h) */
    ekv_zipf_t *zipf;         /* key ranks under zipf; NULL: uniform keys */
    int64_t start_us, end_us; /* load window (real clock) */
    int64_t next_write_us;
    size_t next_writer, next_fault;
    size_t inflight;
    size_t cap_reads, cap_writes, cap_vis;
    char *value; /* write payload */
    int64_t last_poll_us, last_bar_us, drain_until_us;
    int finishing, final_polled, served_polled;
    ekv_vis_rec_t *late; /* served times learnt at the end, merged into out->vis */
    size_t nlate, cap_late;
};

/* Microseconds to the next arrival of a Poisson process of `rate` per real second. */
static int64_t gap_us(load_t *L, double rate)
{
    return rate > 0 ? (int64_t)(ekv_rand_exp(&L->rng, rate) * 1e6) + 1 : INT64_MAX / 4;
}

static uint32_t pick_key(load_t *L)
{
    if (L->zipf)
        return (uint32_t)ekv_zipf_pick(L->zipf, &L->rng);
    return (uint32_t)ekv_rand_below(&L->rng, (uint64_t)L->cfg->exp->keys);
}

/* ---- recording --------------------------------------------------------------------------- */

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap))                                                                          \
            (arr) = ekv_realloc((arr), ((cap) = (cap) ? (cap)*2 : 4096) * sizeof *(arr));          \
    } while (0)

static uint64_t header_u64(struct evhttp_request *req, const char *name)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
    return v ? strtoull(v, NULL, 10) : 0;
}

static void record_read(load_t *L, ctx_t *c, struct evhttp_request *req, int status)
{
    ekv_load_result_t *o = L->out;
    GROW(o->reads, o->nreads, L->cap_reads);
    ekv_read_rec_t *r = &o->reads[o->nreads++];
    *r = (ekv_read_rec_t){c->pop, c->key, c->start_us, ekv_now_us(), 0, 0};
    if (status == 200 || status == 404) {
        r->ok = 1;
        r->seq = header_u64(req, "X-Edgekv-Version");
    }
}

static void record_write(load_t *L, ctx_t *c, struct evhttp_request *req, int status)
{
    ekv_load_result_t *o = L->out;
    if (status != 200) {
        o->write_errors++;
        return;
    }
    GROW(o->writes, o->nwrites, L->cap_writes);
    o->writes[o->nwrites++] = (ekv_write_rec_t){c->key, header_u64(req, "X-Edgekv-Version"),
                                                (int64_t)header_u64(req, "X-Edgekv-Commit-Us")};
}

/* A record's served time: 0 while no read there has returned the change. */
static int64_t served_of(json_t *rec)
{
    json_t *v = json_array_get(rec, 3);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Records arrive as the polls go; a change's served time may come later than its arrival (an
 * older copy is served until its cacheTtl), so the oldest record without one is remembered
 * and asked again once, at the end (REQ_SERVED, kept apart in L->late). */
static void record_vis(load_t *L, ctx_t *c, struct evhttp_request *req, int status)
{
    pop_t *p = &L->pops[c->pop];
    p->vis_inflight = 0;
    if (status != 200)
        return;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    json_t *j = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL);
    json_t *recs = json_object_get(j, "records");
    ekv_load_result_t *o = L->out;
    uint64_t next = (uint64_t)json_integer_value(json_object_get(j, "next"));
    size_t n = json_array_size(recs);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(recs, i);
        ekv_vis_rec_t v = {c->pop, (uint64_t)json_integer_value(json_array_get(r, 0)),
                           (int64_t)json_integer_value(json_array_get(r, 2)), served_of(r)};
        if (c->kind == REQ_SERVED) {
            if (v.served_us) {
                GROW(L->late, L->nlate, L->cap_late);
                L->late[L->nlate++] = v;
            }
            continue;
        }
        uint64_t idx = next - n + i; /* the record's insertion index */
        if (!v.served_us && idx < p->unserved_from)
            p->unserved_from = idx;
        GROW(o->vis, o->nvis, L->cap_vis);
        o->vis[o->nvis++] = v;
    }
    if (c->kind == REQ_VIS && json_is_integer(json_object_get(j, "next")))
        p->vis_from = next;
    if (c->kind == REQ_VIS)
        o->vis_lost += (uint64_t)json_integer_value(json_object_get(j, "lost"));
    json_decref(j);
}

static void on_answer(struct evhttp_request *req, void *arg)
{
    ctx_t *c = arg;
    load_t *L = c->L;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    if (c->kind == REQ_READ)
        record_read(L, c, req, status);
    else if (c->kind == REQ_WRITE)
        record_write(L, c, req, status);
    else
        record_vis(L, c, req, status);
    L->inflight--;
    free(c);
}

static void send_req(load_t *L, uint16_t pop, int kind, uint32_t key, const char *target)
{
    pop_t *p = &L->pops[pop];
    ctx_t *c = ekv_malloc(sizeof *c);
    *c = (ctx_t){L, kind, pop, key, ekv_now_us()};
    struct evhttp_request *req = evhttp_request_new(on_answer, c);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", p->host);
    enum evhttp_cmd_type cmd = EVHTTP_REQ_GET;
    if (kind == REQ_WRITE) {
        cmd = EVHTTP_REQ_PUT;
        evbuffer_add(evhttp_request_get_output_buffer(req), L->value,
                     (size_t)L->cfg->exp->value_size);
    }
    struct evhttp_connection *conn =
        kind == REQ_VIS || kind == REQ_SERVED ? p->conns[0] : p->conns[p->rr++ % CONNS];
    L->inflight++;
    if (evhttp_make_request(conn, req, cmd, target) != 0) {
        L->inflight--;
        free(c);
    }
}

/* ---- the schedule ------------------------------------------------------------------------ */

static void issue_due(load_t *L, int64_t now)
{
    const ekv_experiment_t *e = L->cfg->exp;
    double scale = L->cfg->time_scale;
    char target[256];
    for (size_t i = 0; i < L->cfg->npops; i++) {
        pop_t *p = &L->pops[i];
        for (int burst = 0; L->cfg->reader[i] && p->next_read_us <= now && burst < 1000; burst++) {
            uint32_t k = pick_key(L);
            snprintf(target, sizeof target, "/k%07u?urlencoded=true&cache_ttl=%ld", k,
                     (long)e->cache_ttl);
            send_req(L, (uint16_t)i, REQ_READ, k, target);
            p->next_read_us += gap_us(L, e->read_rate * scale);
        }
    }
    for (int burst = 0; L->next_write_us <= now && burst < 1000; burst++) {
        size_t w = L->next_writer++ % L->cfg->npops;
        while (!L->cfg->writer[w])
            w = L->next_writer++ % L->cfg->npops;
        uint32_t k = pick_key(L);
        snprintf(target, sizeof target, "/k%07u?urlencoded=true", k);
        send_req(L, (uint16_t)w, REQ_WRITE, k, target);
        L->next_write_us += gap_us(L, e->write_rate * scale);
    }
}

static void poll_visibility(load_t *L)
{
    char target[96];
    for (size_t i = 0; i < L->cfg->npops; i++) {
        pop_t *p = &L->pops[i];
        if (p->vis_inflight)
            continue;
        p->vis_inflight = 1;
        snprintf(target, sizeof target, "/_edgekv/visibility?from=%llu",
                 (unsigned long long)p->vis_from);
        send_req(L, (uint16_t)i, REQ_VIS, 0, target);
    }
}

/* Once, after the last poll: the records that had no served time, again. */
static void poll_served(load_t *L)
{
    char target[96];
    for (size_t i = 0; i < L->cfg->npops; i++) {
        pop_t *p = &L->pops[i];
        if (p->unserved_from == UINT64_MAX)
            continue;
        snprintf(target, sizeof target, "/_edgekv/visibility?from=%llu",
                 (unsigned long long)p->unserved_from);
        send_req(L, (uint16_t)i, REQ_SERVED, 0, target);
    }
}

static int by_pop_seq(const void *a, const void *b)
{
    const ekv_vis_rec_t *x = a, *y = b;
    if (x->pop != y->pop)
        return x->pop < y->pop ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The served times learnt at the end go to the records they belong to (same PoP and change;
 * records are then in (PoP, change) order, which the analysis does not mind). */
static void merge_late(load_t *L)
{
    ekv_load_result_t *o = L->out;
    if (o->nvis > 1)
        qsort(o->vis, o->nvis, sizeof *o->vis, by_pop_seq);
    for (size_t i = 0; i < L->nlate && o->nvis; i++) {
        ekv_vis_rec_t *v = bsearch(&L->late[i], o->vis, o->nvis, sizeof *o->vis, by_pop_seq);
        if (v && !v->served_us)
            v->served_us = L->late[i].served_us;
    }
}

static void fire_faults(load_t *L, int64_t now)
{
    const ekv_experiment_t *e = L->cfg->exp;
    double elapsed_s = (double)(now - L->start_us) / 1e6 * L->cfg->time_scale;
    while (L->next_fault < e->nfaults && e->faults[L->next_fault].at_s <= elapsed_s) {
        size_t idx = L->next_fault++;
        const ekv_fault_t *f = &e->faults[idx];
        L->out->fault_us[idx] = ekv_now_us();
        if (L->cfg->fault && L->cfg->fault(L->cfg->fault_arg, f) != 0)
            fprintf(stderr, "\nedgekv: fault %s %s at %.1f s could not be applied\n",
                    ekv_fault_name(f->kind), f->pop, f->at_s);
    }
}

static void draw_bar(load_t *L, int64_t now)
{
    if (!L->cfg->progress || now - L->last_bar_us < 250000)
        return;
    L->last_bar_us = now;
    double frac = (double)(now - L->start_us) / (double)(L->end_us - L->start_us);
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r  [%s] %3.0f%%  %6.1f s  reads %-8zu writes %-7zu in flight %-5zu", bar,
            frac * 100, (double)(now - L->start_us) / 1e6 * L->cfg->time_scale, L->out->nreads,
            L->out->nwrites, L->inflight);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    load_t *L = arg;
    int64_t now = ekv_now_us();
    if (now < L->end_us) {
        issue_due(L, now);
        fire_faults(L, now);
    } else if (!L->finishing) {
        L->finishing = 1;
        L->drain_until_us = now + (int64_t)L->cfg->drain_ms * 1000;
    }
    if (now - L->last_poll_us >= POLL_US) {
        L->last_poll_us = now;
        poll_visibility(L);
    }
    draw_bar(L, now);
    if (L->finishing && now >= L->drain_until_us && !L->final_polled && L->inflight == 0) {
        L->final_polled = 1; /* one last look after the drain */
        poll_visibility(L);
    } else if (L->final_polled && !L->served_polled && L->inflight == 0) {
        L->served_polled = 1;
        poll_served(L);
    } else if (L->served_polled && L->inflight == 0) {
        event_base_loopbreak(L->base);
    }
    if (L->finishing && now >= L->drain_until_us + 15000000)
        event_base_loopbreak(L->base); /* answers that never come do not hold the run */
}

/* ---- set-up ------------------------------------------------------------------------------ */

static int open_pops(load_t *L)
{
    for (size_t i = 0; i < L->cfg->npops; i++) {
        pop_t *p = &L->pops[i];
        if (sscanf(L->cfg->urls[i], "http://%63[^:]:%d", p->host, &p->port) != 2)
            return -1;
        for (int c = 0; c < CONNS; c++) {
            p->conns[c] = evhttp_connection_base_new(L->base, NULL, p->host, (uint16_t)p->port);
            evhttp_connection_set_timeout(p->conns[c], 30);
        }
    }
    return 0;
}

int ekv_load_run(const ekv_load_config_t *cfg, ekv_load_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->fault_us = ekv_calloc(cfg->exp->nfaults + 1, sizeof *out->fault_us);
    load_t L = {.cfg = cfg, .out = out};
    ekv_rand_init(&L.rng, (uint64_t)cfg->exp->seed * 0x9e3779b97f4a7c15ull + 7);
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    L.base = event_base_new_with_config(ec);
    event_config_free(ec);
    L.pops = ekv_calloc(cfg->npops, sizeof *L.pops);
    for (size_t i = 0; i < cfg->npops; i++)
        L.pops[i].unserved_from = UINT64_MAX;
    if (cfg->exp->dist == EKV_DIST_ZIPF)
        L.zipf = ekv_zipf_new((size_t)cfg->exp->keys, cfg->exp->zipf_s);
    L.value = ekv_malloc((size_t)cfg->exp->value_size + 1);
    memset(L.value, 'v', (size_t)cfg->exp->value_size);
    int rc = open_pops(&L);
    if (rc == 0) {
        double scale = cfg->time_scale;
        L.start_us = ekv_now_us();
        L.end_us = L.start_us + (int64_t)(cfg->exp->duration_s / scale * 1e6);
        for (size_t i = 0; i < cfg->npops; i++)
            L.pops[i].next_read_us = L.start_us + gap_us(&L, cfg->exp->read_rate * scale);
        L.next_write_us = L.start_us + gap_us(&L, cfg->exp->write_rate * scale);
        L.tick = event_new(L.base, -1, EV_PERSIST, on_tick, &L);
        struct timeval tv = {0, TICK_US};
        event_add(L.tick, &tv);
        event_base_dispatch(L.base);
        event_free(L.tick);
        merge_late(&L);
        out->start_us = L.start_us;
        out->end_us = L.end_us;
        if (cfg->progress)
            fprintf(stderr, "\n");
    }
    for (size_t i = 0; i < cfg->npops; i++)
        for (int c = 0; c < CONNS; c++)
            if (L.pops[i].conns[c])
                evhttp_connection_free(L.pops[i].conns[c]);
    free(L.pops);
    free(L.late);
    ekv_zipf_destroy(&L.zipf);
    free(L.value);
    event_base_free(L.base);
    return rc;
}

void ekv_load_result_fini(ekv_load_result_t *r)
{
    free(r->writes);
    free(r->reads);
    free(r->vis);
    free(r->fault_us);
    memset(r, 0, sizeof *r);
}
