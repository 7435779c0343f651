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
#include "hclient.h"
#include "keys.h"

#define CONNS   8    /* keep-alive connections per PoP */
#define TICK_US 1000 /* scheduling granularity */
#define POLL_US 200000

enum { REQ_READ, REQ_WRITE, REQ_VIS, REQ_SERVED, REQ_DELETE, REQ_LIST, REQ_BULK, REQ_RMW_GET };
enum { OP_READ, OP_WRITE, OP_DELETE, OP_LIST, OP_KINDS };

typedef struct load load_t;

typedef struct {
    load_t *L;
    int kind;
    uint16_t pop;
    uint32_t key;
    int64_t start_us;
    uint32_t client, rmw;
    int group; /* -1: the flat workload */
} ctx_t;

/* A key group's schedule: the current rates (simulated per second) and next arrivals. */
typedef struct {
    double rate[OP_KINDS];
    int64_t next_us[OP_KINDS];
    uint32_t *readers, *writers; /* clients allowed to read, to write */
    size_t nreaders, nwriters;
    ekv_zipf_t *zipf;
    char *meta; /* CF-KV-Metadata header value, NULL = none */
} grp_t;

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
    size_t cap_hist;
    grp_t *groups;
    uint16_t *home; /* per client: home PoP */
    size_t nclients, next_phase;
    double *weight;     /* per PoP: traffic weight */
    uint16_t *redirect; /* per PoP: where its requests go (reroute faults); itself = no fault */
    uint32_t rmw_ids;
    size_t value_cap;
    char auth[EKV_HC_AUTH_MAX]; /* "Bearer TOKEN" for the admin polls; "" without keys */
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

static int64_t header_i64(struct evhttp_request *req, const char *name)
{
    const char *v = req ? evhttp_find_header(evhttp_request_get_input_headers(req), name) : NULL;
    return v ? strtoll(v, NULL, 10) : 0;
}

/* One history entry: versions from the answer's headers (a get's 404 is "not found", seq 0;
 * a write's version and commit time only when acknowledged). */
static ekv_hist_op_t *record_hist(load_t *L, ctx_t *c, uint8_t op, struct evhttp_request *req,
                                  int status)
{
    ekv_history_t *h = &L->out->hist;
    GROW(h->ops, h->n, L->cap_hist);
    ekv_hist_op_t *x = &h->ops[h->n++];
    const ekv_group_t *g = c->group >= 0 ? &L->cfg->exp->groups[c->group] : NULL;
    *x = (ekv_hist_op_t){.client = c->client,
                         .pop = c->pop,
                         .op = op,
                         .counter = (uint8_t)(g && g->counter),
                         .key = c->key,
                         .status = status,
                         .start_us = c->start_us,
                         .end_us = ekv_now_us(),
                         .rmw = c->rmw};
    int ok = status >= 200 && status < 300;
    if ((op == EKV_HOP_GET && ok) || (op != EKV_HOP_GET && op != EKV_HOP_LIST && ok))
        x->seq = (uint64_t)header_i64(req, "X-Edgekv-Version");
    if (op != EKV_HOP_GET && op != EKV_HOP_LIST && ok)
        x->commit_us = header_i64(req, "X-Edgekv-Commit-Us");
    return x;
}

/* A counter's value in a get's answer (experiment.h); not found is 0. */
static int64_t counter_value(load_t *L, ctx_t *c, struct evhttp_request *req, int status)
{
    if (status != 200 || c->group < 0)
        return 0;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    return ekv_experiment_counter_value(&L->cfg->exp->groups[c->group],
                                        (const char *)evbuffer_pullup(in, -1), len);
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
    ekv_hist_op_t *x = record_hist(L, c, EKV_HOP_GET, req, status);
    if (x->counter)
        x->value = counter_value(L, c, req, status);
}

static void record_write(load_t *L, ctx_t *c, struct evhttp_request *req, int status, int64_t value)
{
    ekv_load_result_t *o = L->out;
    record_hist(L, c, c->kind == REQ_DELETE ? EKV_HOP_DELETE : EKV_HOP_PUT, req, status)->value =
        value;
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

typedef struct {
    enum evhttp_cmd_type cmd;
    const char *body;
    size_t len;
    const char *meta; /* CF-KV-Metadata, NULL = none */
} body_t;

static void on_answer(struct evhttp_request *req, void *arg);

/* Sends a request described by a copy of tmpl (its start time set now). */
static void send_ctx(load_t *L, const ctx_t *tmpl, const char *target, const body_t *b)
{
    pop_t *p = &L->pops[tmpl->pop];
    ctx_t *c = ekv_malloc(sizeof *c);
    *c = *tmpl;
    c->L = L;
    c->start_us = ekv_now_us();
    if (c->kind != REQ_VIS && c->kind != REQ_SERVED) /* a reroute fault moves clients only */
        p = &L->pops[c->pop = L->redirect[c->pop]];
    struct evhttp_request *req = evhttp_request_new(on_answer, c);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", p->host);
    if (b && b->meta)
        evhttp_add_header(h, "CF-KV-Metadata", b->meta);
    /* a secure world's admin paths want the token; the binding surface takes none */
    if (L->auth[0] && (tmpl->kind == REQ_VIS || tmpl->kind == REQ_SERVED))
        evhttp_add_header(h, "Authorization", L->auth);
    if (b && b->body)
        evbuffer_add(evhttp_request_get_output_buffer(req), b->body, b->len);
    int kind = c->kind;
    struct evhttp_connection *conn =
        kind == REQ_VIS || kind == REQ_SERVED ? p->conns[0] : p->conns[p->rr++ % CONNS];
    L->inflight++;
    if (evhttp_make_request(conn, req, b ? b->cmd : EVHTTP_REQ_GET, target) != 0) {
        L->inflight--;
        free(c);
    }
}

static void send_req(load_t *L, uint16_t pop, int kind, uint32_t key, const char *target)
{
    ctx_t c = {.kind = kind, .pop = pop, .key = key, .client = pop, .group = -1};
    body_t b = {EVHTTP_REQ_PUT, L->value, (size_t)L->cfg->exp->value_size, NULL};
    send_ctx(L, &c, target, kind == REQ_WRITE ? &b : NULL);
}

static void group_answer(load_t *L, ctx_t *c, struct evhttp_request *req, int status);

static void on_answer(struct evhttp_request *req, void *arg)
{
    ctx_t *c = arg;
    load_t *L = c->L;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    if (c->group >= 0)
        group_answer(L, c, req, status);
    else if (c->kind == REQ_READ)
        record_read(L, c, req, status);
    else if (c->kind == REQ_WRITE)
        record_write(L, c, req, status, 0);
    else
        record_vis(L, c, req, status);
    L->inflight--;
    free(c);
}

/* ---- key groups -------------------------------------------------------------------------- */

/* Percent-encodes s (all but unreserved characters) into out. */
static void pct(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s && n + 4 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch)) {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
}

static void key_target(load_t *L, uint32_t key, char *out, size_t len)
{
    char name[256], enc[800];
    ekv_experiment_key_name(L->cfg->exp, key, name, sizeof name);
    pct(name, enc, sizeof enc);
    snprintf(out, len, "/%s?urlencoded=true", enc);
}

/* The PoP of a client's request: its home, or with the reroute probability another PoP
 * chosen by weight. */
static uint16_t route(load_t *L, uint32_t client)
{
    uint16_t home = L->home[client];
    size_t n = L->cfg->npops;
    if (n < 2 || L->cfg->exp->reroute <= 0 || ekv_rand_unit(&L->rng) >= L->cfg->exp->reroute)
        return home;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += i == home ? 0 : L->weight[i];
    double x = ekv_rand_unit(&L->rng) * total;
    for (size_t i = 0; i < n; i++) {
        if (i == home || L->weight[i] <= 0)
            continue;
        if (x < L->weight[i])
            return (uint16_t)i;
        x -= L->weight[i];
    }
    return home; /* every other PoP has weight 0 */
}

/* A key of group gi for client: its own keys when per_client; -1 when it has none. */
static long pick_group_key(load_t *L, size_t gi, uint32_t client)
{
    const ekv_group_t *g = &L->cfg->exp->groups[gi];
    long i;
    if (g->per_client) {
        long n = (long)L->nclients;
        if (client >= g->count)
            return -1;
        long mine = (g->count - (long)client + n - 1) / n;
        i = (long)client + n * (long)ekv_rand_below(&L->rng, (uint64_t)mine);
    } else if (L->groups[gi].zipf) {
        i = (long)ekv_zipf_pick(L->groups[gi].zipf, &L->rng);
    } else {
        i = (long)ekv_rand_below(&L->rng, (uint64_t)g->count);
    }
    return g->first_key + i;
}

static void group_get(load_t *L, ctx_t *c)
{
    const ekv_group_t *g = &L->cfg->exp->groups[c->group];
    char target[1024];
    key_target(L, c->key, target, sizeof target);
    size_t n = strlen(target);
    snprintf(target + n, sizeof target - n, "&cache_ttl=%ld", (long)g->cache_ttl);
    send_ctx(L, c, target, NULL);
}

static void group_put(load_t *L, ctx_t *c, int64_t counter)
{
    const ekv_group_t *g = &L->cfg->exp->groups[c->group];
    char target[1100];
    key_target(L, c->key, target, sizeof target);
    size_t n = strlen(target);
    if (g->expiration_ttl)
        snprintf(target + n, sizeof target - n, "&expiration_ttl=%ld", g->expiration_ttl);
    else if (g->expiration)
        snprintf(target + n, sizeof target - n, "&expiration=%lld",
                 (long long)(ekv_now_us() / 1000000 + g->expiration));
    if ((g->expiration_ttl || g->expiration) && c->key < L->cfg->exp->keys_total)
        L->out->may_expire[c->key] = 1;
    body_t b = {EVHTTP_REQ_PUT, L->value, (size_t)g->value_min, L->groups[c->group].meta};
    char *num = NULL;
    if (g->counter) { /* an append list of n items takes up to 12 bytes an item */
        size_t cap = 32 + (g->append ? 12 * (size_t)(counter > 0 ? counter : 0) : 0);
        num = ekv_malloc(cap);
        b.body = num, b.len = ekv_experiment_counter_body(g, (long long)counter, num, cap);
    } else if (g->value_max > g->value_min) {
        b.len += (size_t)ekv_rand_below(&L->rng, (uint64_t)(g->value_max - g->value_min + 1));
    }
    c->kind = REQ_WRITE;
    send_ctx(L, c, target, &b);
    free(num);
}

static void group_list(load_t *L, ctx_t *c, const char *cursor)
{
    const ekv_group_t *g = &L->cfg->exp->groups[c->group];
    char prefix[160], enc[500], cur[600] = "", target[1200];
    const char *at = strstr(g->pattern, "{}");
    snprintf(prefix, sizeof prefix, "%.*s", (int)(at - g->pattern), g->pattern);
    pct(prefix, enc, sizeof enc);
    if (cursor)
        pct(cursor, cur, sizeof cur);
    snprintf(target, sizeof target, "/?prefix=%s&key_count_limit=%d%s%s", enc, g->list_limit,
             cursor ? "&cursor=" : "", cur);
    c->kind = REQ_LIST;
    send_ctx(L, c, target, NULL);
}

static void group_bulk(load_t *L, ctx_t *c, size_t gi)
{
    const ekv_group_t *g = &L->cfg->exp->groups[gi];
    json_t *keys = json_array();
    char name[256];
    for (int i = 0; i < g->bulk_keys; i++) {
        long k = pick_group_key(L, gi, c->client);
        if (k < 0)
            break;
        ekv_experiment_key_name(L->cfg->exp, k, name, sizeof name);
        json_array_append_new(keys, json_string(name));
    }
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%ld", (long)g->cache_ttl);
    json_t *j = json_pack("{s:o, s:s}", "keys", keys, "cacheTtl", ttl);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    body_t b = {EVHTTP_REQ_POST, text, strlen(text), NULL};
    c->kind = REQ_BULK;
    send_ctx(L, c, "/bulk/get", &b);
    free(text);
}

/* One arrival of operation op in group gi: a client allowed to make it, a key, a PoP. */
static void group_issue(load_t *L, size_t gi, int op)
{
    grp_t *G = &L->groups[gi];
    const ekv_group_t *g = &L->cfg->exp->groups[gi];
    int reads = op == OP_READ || op == OP_LIST;
    size_t n = reads ? G->nreaders : G->nwriters;
    if (n == 0)
        return;
    uint32_t client = (reads ? G->readers : G->writers)[ekv_rand_below(&L->rng, n)];
    ctx_t c = {.client = client, .group = (int)gi, .pop = route(L, client)};
    if (op == OP_LIST) {
        L->out->list_pages++;
        group_list(L, &c, NULL);
        return;
    }
    if (op == OP_READ && g->read == EKV_READ_BULK) {
        group_bulk(L, &c, gi);
        return;
    }
    long k = pick_group_key(L, gi, client);
    if (k < 0)
        return;
    c.key = (uint32_t)k;
    if (op == OP_READ) {
        c.kind = REQ_READ;
        group_get(L, &c);
    } else if (op == OP_DELETE) {
        char target[1024];
        key_target(L, c.key, target, sizeof target);
        c.kind = REQ_DELETE;
        send_ctx(L, &c, target, &(body_t){EVHTTP_REQ_DELETE, NULL, 0, NULL});
    } else if (g->counter) { /* read-modify-write: the get first, its answer puts */
        c.kind = REQ_RMW_GET;
        c.rmw = ++L->rmw_ids;
        group_get(L, &c);
    } else {
        group_put(L, &c, 0);
    }
}

static void list_answer(load_t *L, ctx_t *c, struct evhttp_request *req, int status)
{
    record_hist(L, c, EKV_HOP_LIST, req, status);
    if (status != 200) {
        L->out->list_failed++;
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    json_t *j = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL);
    const char *cursor = json_string_value(json_object_get(j, "cursor"));
    if (!json_is_true(json_object_get(j, "list_complete")) && cursor && cursor[0] &&
        !L->finishing) { /* the next page, by the same client at the same PoP */
        L->out->list_pages++;
        ctx_t next = *c;
        group_list(L, &next, cursor);
    }
    json_decref(j);
}

static void group_answer(load_t *L, ctx_t *c, struct evhttp_request *req, int status)
{
    if (c->kind == REQ_READ) {
        record_read(L, c, req, status);
    } else if (c->kind == REQ_RMW_GET) {
        record_read(L, c, req, status);
        if ((status == 200 || status == 404) && !L->finishing) {
            ctx_t put = *c;
            group_put(L, &put, counter_value(L, c, req, status) + 1);
        }
    } else if (c->kind == REQ_WRITE) {
        const ekv_group_t *g = &L->cfg->exp->groups[c->group];
        int64_t v = 0;
        if (g->counter) { /* the value this put wrote: the one its get read, plus one */
            ekv_history_t *h = &L->out->hist;
            for (size_t i = h->n; i-- > 0;)
                if (h->ops[i].rmw == c->rmw && h->ops[i].op == EKV_HOP_GET) {
                    v = h->ops[i].value + 1;
                    break;
                }
        }
        record_write(L, c, req, status, v);
    } else if (c->kind == REQ_DELETE) {
        record_write(L, c, req, status, 0);
    } else if (c->kind == REQ_LIST) {
        list_answer(L, c, req, status);
    } else if (c->kind == REQ_BULK) {
        L->out->bulk_reads++;
        L->out->bulk_failed += status != 200;
    }
}

/* Phases that are due replace the rates of their group (or of every group). */
static void apply_phases(load_t *L, int64_t now)
{
    const ekv_experiment_t *e = L->cfg->exp;
    double elapsed_s = (double)(now - L->start_us) / 1e6 * L->cfg->time_scale;
    while (L->next_phase < e->nphases && e->phases[L->next_phase].at_s <= elapsed_s) {
        const ekv_phase_t *ph = &e->phases[L->next_phase++];
        double r[OP_KINDS] = {ph->read_rate, ph->write_rate, ph->delete_rate, ph->list_rate};
        for (size_t gi = 0; gi < e->ngroups; gi++) {
            if (ph->group[0] && strcmp(ph->group, e->groups[gi].name))
                continue;
            for (int op = 0; op < OP_KINDS; op++)
                if (r[op] >= 0) {
                    L->groups[gi].rate[op] = r[op];
                    L->groups[gi].next_us[op] = now + gap_us(L, r[op] * L->cfg->time_scale);
                }
        }
    }
}

static void issue_groups(load_t *L, int64_t now)
{
    apply_phases(L, now);
    for (size_t gi = 0; gi < L->cfg->exp->ngroups; gi++) {
        grp_t *G = &L->groups[gi];
        for (int op = 0; op < OP_KINDS; op++)
            for (int burst = 0; G->next_us[op] <= now && burst < 1000; burst++) {
                group_issue(L, gi, op);
                G->next_us[op] += gap_us(L, G->rate[op] * L->cfg->time_scale);
            }
    }
}

static int pop_index(const load_t *L, const char *name)
{
    for (size_t i = 0; i < L->cfg->npops; i++)
        if (L->cfg->names && !strcmp(L->cfg->names[i], name))
            return (int)i;
    return -1;
}

static int named(const char (*list)[64], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], name))
            return 1;
    return 0;
}

/* Clients and their homes: listed homes round robin; else one client per PoP when no count
 * is given; else spread over the PoPs by weight. */
static void setup_clients(load_t *L)
{
    const ekv_experiment_t *e = L->cfg->exp;
    size_t np = L->cfg->npops;
    L->weight = ekv_calloc(np, sizeof *L->weight);
    L->redirect = ekv_calloc(np, sizeof *L->redirect);
    for (size_t i = 0; i < np; i++)
        L->redirect[i] = (uint16_t)i;
    double total = 0;
    for (size_t i = 0; i < np; i++) {
        L->weight[i] = 1;
        for (size_t w = 0; L->cfg->names && w < e->nweights; w++)
            if (!strcmp(e->weights[w].pop, L->cfg->names[i]))
                L->weight[i] = e->weights[w].weight;
        total += L->weight[i];
    }
    L->nclients = e->clients ? (size_t)e->clients : np;
    L->home = ekv_calloc(L->nclients, sizeof *L->home);
    for (size_t c = 0; c < L->nclients; c++) {
        int h = e->nhomes ? pop_index(L, e->homes[c % e->nhomes]) : !e->clients ? (int)c : -1;
        if (h < 0 && !e->nhomes) { /* by weight: the PoP where (c + 0.5) / n of it falls */
            double x = ((double)c + 0.5) / (double)L->nclients * total, acc = 0;
            for (h = 0; h < (int)np - 1 && (acc += L->weight[h]) <= x;)
                h++;
        }
        L->home[c] = (uint16_t)(h < 0 ? 0 : h);
    }
}

static void setup_groups(load_t *L)
{
    const ekv_experiment_t *e = L->cfg->exp;
    L->groups = ekv_calloc(e->ngroups ? e->ngroups : 1, sizeof *L->groups);
    for (size_t gi = 0; gi < e->ngroups; gi++) {
        const ekv_group_t *g = &e->groups[gi];
        grp_t *G = &L->groups[gi];
        G->rate[OP_READ] = g->read_rate;
        G->rate[OP_WRITE] = g->write_rate;
        G->rate[OP_DELETE] = g->delete_rate;
        G->rate[OP_LIST] = g->list_rate;
        if (g->dist == EKV_DIST_ZIPF && !g->per_client)
            G->zipf = ekv_zipf_new((size_t)g->count, g->zipf_s);
        G->readers = ekv_calloc(L->nclients, sizeof *G->readers);
        G->writers = ekv_calloc(L->nclients, sizeof *G->writers);
        for (size_t c = 0; c < L->nclients; c++) {
            const char *home = L->cfg->names ? L->cfg->names[L->home[c]] : "";
            if (!g->nreaders || named(g->readers, g->nreaders, home))
                G->readers[G->nreaders++] = (uint32_t)c;
            if (!g->nwriters || named(g->writers, g->nwriters, home))
                G->writers[G->nwriters++] = (uint32_t)c;
        }
        if (g->metadata[0]) {
            json_t *m = json_string(g->metadata);
            G->meta = m ? json_dumps(m, JSON_ENCODE_ANY) : NULL;
            json_decref(m);
        }
        if ((size_t)g->value_max > L->value_cap)
            L->value_cap = (size_t)g->value_max;
    }
}

static void free_groups(load_t *L)
{
    for (size_t gi = 0; L->groups && gi < L->cfg->exp->ngroups; gi++) {
        free(L->groups[gi].readers);
        free(L->groups[gi].writers);
        free(L->groups[gi].meta);
        ekv_zipf_destroy(&L->groups[gi].zipf);
    }
    free(L->groups);
    free(L->home);
    free(L->weight);
    free(L->redirect);
}

/* ---- the schedule ------------------------------------------------------------------------ */

static void issue_due(load_t *L, int64_t now)
{
    const ekv_experiment_t *e = L->cfg->exp;
    if (e->ngroups) {
        issue_groups(L, now);
        return;
    }
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
        if (f->kind == EKV_FAULT_REROUTE) { /* the load balancer's doing, not a process's */
            int from = pop_index(L, f->pop), to = pop_index(L, f->to);
            if (from >= 0 && to >= 0)
                L->redirect[from] = (uint16_t)to;
            continue;
        }
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
    if (ekv_keys_token() && !ekv_hc_bearer(L.auth, sizeof L.auth, ekv_keys_token()))
        L.auth[0] = '\0';
    ekv_rand_init(&L.rng, (uint64_t)cfg->exp->seed * 0x9e3779b97f4a7c15ull + 7);
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    L.base = event_base_new_with_config(ec);
    event_config_free(ec);
    L.pops = ekv_calloc(cfg->npops, sizeof *L.pops);
    for (size_t i = 0; i < cfg->npops; i++)
        L.pops[i].unserved_from = UINT64_MAX;
    if (cfg->exp->dist == EKV_DIST_ZIPF && !cfg->exp->ngroups)
        L.zipf = ekv_zipf_new((size_t)cfg->exp->keys, cfg->exp->zipf_s);
    out->may_expire = ekv_calloc((size_t)cfg->exp->keys_total + 1, 1);
    L.value_cap = (size_t)cfg->exp->value_size;
    setup_clients(&L);
    setup_groups(&L);
    L.value = ekv_malloc(L.value_cap + 1);
    memset(L.value, 'v', L.value_cap);
    int rc = open_pops(&L);
    if (rc == 0) {
        double scale = cfg->time_scale;
        L.start_us = ekv_now_us();
        L.end_us = L.start_us + (int64_t)(cfg->exp->duration_s / scale * 1e6);
        for (size_t i = 0; i < cfg->npops; i++)
            L.pops[i].next_read_us = L.start_us + gap_us(&L, cfg->exp->read_rate * scale);
        L.next_write_us = L.start_us + gap_us(&L, cfg->exp->write_rate * scale);
        for (size_t gi = 0; gi < cfg->exp->ngroups; gi++)
            for (int op = 0; op < OP_KINDS; op++)
                L.groups[gi].next_us[op] = L.start_us + gap_us(&L, L.groups[gi].rate[op] * scale);
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
    free_groups(&L);
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
    free(r->hist.ops);
    free(r->may_expire);
    memset(r, 0, sizeof *r);
}
