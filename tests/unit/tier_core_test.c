/* tier_core_test: regional tiers in the node's core (node/tier.c, node/node.c), without HTTP
 * and without a coordinator: the test plays the coordinator with node_deliver, as
 * node_core_test does, and a PoP with a real DEALER socket.
 *
 * What is checked is what a tier's PoPs see: a READ sent to the tier's ROUTER is answered with
 * the coordinator's version and the tier's cache status (MISS, then HIT with no second origin
 * read), not found is cached too, and under purge on write a change drops the tier's copy
 * (without it the copy is served until its cacheTtl). On the PoP's side, origin reads of a
 * PoP with a tier are counted as tier reads and a reply whose text is HIT as a tier hit; a
 * silent tier fails the PoP's miss with 503, and a partitioned PoP fails it at once. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_test.h"
#include "ekv_time.h"
#include "node_fixture.h"
#include "node_int.h"

/* A node said hello to and heartbeaten at tip seq 10; a tier when serve is given (serving
 * there, purging on write when purge), a PoP reading through tier_endpoint when that is. */
static void fix_open(fix_t *f, const char *serve, int purge, const char *tier_endpoint)
{
    ekv_node_config_t cfg;
    fix_config(&cfg, "tier-test", EKV_POLICY_KV, 1000);
    cfg.tier_role = serve != NULL;
    cfg.serve_endpoint = serve;
    cfg.purge_on_write = purge;
    cfg.tier_endpoint = tier_endpoint;
    fix_start(f, &cfg);
}

/* A PoP's DEALER connected to the tier. */
typedef struct {
    void *ctx, *sock;
} pop_t;

static void pop_open(pop_t *p, const char *endpoint)
{
    p->ctx = zmq_ctx_new();
    p->sock = zmq_socket(p->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger);
    CHECK_EQ(zmq_connect(p->sock, endpoint), 0);
}

static void pop_close(pop_t *p)
{
    zmq_close(p->sock);
    zmq_ctx_term(p->ctx);
}

static void pop_read(pop_t *p, uint64_t req_id, const char *key)
{
    ekv_msg_t m = {.type = EKV_MSG_READ, .req_id = req_id, .ns = B(NS), .key = B(key)};
    char *body;
    size_t len;
    CHECK_EQ(ekv_msg_encode(&m, &body, &len), EKV_OK);
    CHECK_EQ((int)zmq_send(p->sock, body, len, 0), (int)len);
    free(body);
}

/* Runs the tier's loop until the PoP gets a reply (decoded into out) or 2 s pass; 1 if one
 * came. */
static int pop_reply(fix_t *f, pop_t *p, ekv_msg_t *out)
{
    int64_t until = ekv_mono_us() + 2000000;
    while (ekv_mono_us() < until) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, p->sock, ZMQ_DONTWAIT) >= 0) {
            int rc = ekv_msg_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), out);
            zmq_msg_close(&msg);
            CHECK_EQ(rc, EKV_OK);
            return 1;
        }
        zmq_msg_close(&msg);
        zmq_poll(NULL, 0, 2);
    }
    return 0;
}

/* Runs the tier's loop until it has received n READs from PoPs (or 2 s pass). */
static void until_requests(fix_t *f, uint64_t n)
{
    int64_t until = ekv_mono_us() + 2000000;
    while (f->n->st.tier_requests < n && ekv_mono_us() < until) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        zmq_poll(NULL, 0, 2);
    }
    CHECK_EQ(f->n->st.tier_requests, n);
}

/* A PoP's READ misses at the tier, goes to origin once, and comes back with the version and
 * MISS; the next READ is a HIT from the tier's copy, with no origin read. Not found is cached
 * as well. */
static void test_tier_serves_pops(void)
{
    fix_t f;
    fix_open(&f, "tcp://127.0.0.1:*", 0, NULL);
    CHECK(strncmp(f.n->serve_bound, "tcp://127.0.0.1:", 16) == 0);
    pop_t p;
    pop_open(&p, f.n->serve_bound);

    uint64_t origin_id = node_next_req_id(f.n);
    pop_read(&p, 501, "k");
    until_requests(&f, 1);
    CHECK_EQ(f.n->st.origin_reads, 1);
    origin_reply(&f, origin_id, 7, "v7", NULL);
    ekv_msg_t r;
    CHECK(pop_reply(&f, &p, &r));
    CHECK_EQ(r.type, EKV_MSG_READ_REPLY);
    CHECK_EQ(r.req_id, 501); /* the PoP's own id */
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.seq, 7);
    CHECK(r.flags & EKV_MSG_F_FOUND);
    CHECK(r.value.len == 2 && !memcmp(r.value.ptr, "v7", 2));
    CHECK(r.text.len == 4 && !memcmp(r.text.ptr, "MISS", 4));
    ekv_msg_fini(&r);

    pop_read(&p, 502, "k");
    CHECK(pop_reply(&f, &p, &r));
    CHECK_EQ(r.req_id, 502);
    CHECK_EQ(r.seq, 7);
    CHECK(r.text.len == 3 && !memcmp(r.text.ptr, "HIT", 3));
    ekv_msg_fini(&r);
    CHECK_EQ(f.n->st.origin_reads, 1); /* the second read cost origin nothing */

    origin_id = node_next_req_id(f.n);
    pop_read(&p, 503, "none");
    until_requests(&f, 3);
    origin_reply(&f, origin_id, 10, NULL, NULL);
    CHECK(pop_reply(&f, &p, &r));
    CHECK_EQ(r.status, 200);
    CHECK(!(r.flags & EKV_MSG_F_FOUND));
    ekv_msg_fini(&r);
    pop_read(&p, 504, "none");
    CHECK(pop_reply(&f, &p, &r));
    CHECK(!(r.flags & EKV_MSG_F_FOUND));
    CHECK(r.text.len == 3 && !memcmp(r.text.ptr, "HIT", 3));
    ekv_msg_fini(&r);
    CHECK_EQ(f.n->st.origin_reads, 2);

    pop_close(&p);
    fix_close(&f);
}

typedef struct {
    int calls;
    char value[32];
    char cache_status[16];
} rec_t;

static void record(ekv_node_t *n, void *ctx, const node_result_t *r)
{
    (void)n;
    rec_t *rec = ctx;
    rec->calls++;
    if (r->item) {
        snprintf(rec->value, sizeof rec->value, "%.*s", (int)r->item->value.len,
                 r->item->value.ptr);
        snprintf(rec->cache_status, sizeof rec->cache_status, "%s", r->cache_status);
    }
}

/* Reads k at the tier's core after a change to it: HIT v1 kept (no purge), or a MISS that
 * goes to origin (purge on write). */
static void read_after_change(int purge)
{
    fix_t f;
    fix_open(&f, "tcp://127.0.0.1:*", purge, NULL);
    rec_t a = {0}, b = {0};
    uint64_t id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("k"), 60, record, &a);
    origin_reply(&f, id, 11, "v1", NULL);
    CHECK_STR(a.value, "v1");
    deliver_change(&f, 11, "k", "v1"); /* the change of the copy itself drops nothing */
    deliver_change(&f, 12, "k", "v2");
    node_read(f.n, B(NS), B("k"), 60, record, &b);
    if (purge) {
        CHECK_EQ(b.calls, 0); /* gone to origin */
        CHECK_EQ(f.n->st.purges, 1);
        origin_reply(&f, id + 1, 12, "v2", NULL);
        CHECK_STR(b.value, "v2");
        CHECK_STR(b.cache_status, "MISS");
    } else {
        CHECK_EQ(b.calls, 1);
        CHECK_STR(b.value, "v1");
        CHECK_STR(b.cache_status, "HIT");
        CHECK_EQ(f.n->st.purges, 0);
    }
    fix_close(&f);
}

static void test_purge_on_write(void)
{
    read_after_change(0);
    read_after_change(1);
}

/* A PoP with a tier: its misses are tier reads; a reply whose text is HIT is a tier hit. */
static void test_pop_counts_tier_reads(void)
{
    fix_t f;
    fix_open(&f, NULL, 0, "tcp://127.0.0.1:1");
    rec_t a = {0}, b = {0};
    uint64_t id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("a"), 60, record, &a);
    origin_reply(&f, id, 3, "x", "MISS");
    node_read(f.n, B(NS), B("b"), 60, record, &b);
    origin_reply(&f, id + 1, 4, "y", "HIT");
    CHECK_STR(a.value, "x");
    CHECK_STR(b.value, "y");
    CHECK_STR(b.cache_status, "MISS"); /* at the PoP */
    CHECK_EQ(f.n->st.tier_reads, 2);
    CHECK_EQ(f.n->st.tier_hits, 1);
    CHECK_EQ(f.n->st.origin_reads, 2);
    fix_close(&f);
}

typedef struct {
    int calls, status;
    char message[64];
} fail_rec_t;

static void record_fail(ekv_node_t *n, void *ctx, const node_result_t *r)
{
    (void)n;
    fail_rec_t *rec = ctx;
    rec->calls++;
    rec->status = r->status;
    snprintf(rec->message, sizeof rec->message, "%s", r->status == 200 ? "" : r->message);
}

/* A silent tier: the PoP's miss fails with 503 after the origin timeout, naming the tier (no
 * fallback to the coordinator). A PoP cut off by a partition fails a miss at once and serves
 * a copy it holds, stale, rather than waiting for its tier. */
static void test_pop_tier_outage_and_partition(void)
{
    fix_t f;
    fix_open(&f, NULL, 0, "tcp://127.0.0.1:1");
    f.n->cfg.origin_timeout_ms = 50;
    fail_rec_t a = {0};
    node_read(f.n, B(NS), B("a"), 60, record_fail, &a);
    int64_t until = ekv_mono_us() + 2000000;
    while (!a.calls && ekv_mono_us() < until) {
        event_base_loop(f.base, EVLOOP_NONBLOCK);
        zmq_poll(NULL, 0, 2);
    }
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(a.status, 503);
    CHECK_STR(a.message, "Regional tier unavailable");
    CHECK_EQ(f.n->st.tier_reads, 1);
    CHECK_EQ(f.n->st.origin_errors, 1);

    node_set_partition(f.n, 1);
    fail_rec_t b = {0};
    node_read(f.n, B(NS), B("b"), 60, record_fail, &b);
    CHECK_EQ(b.calls, 1); /* at once */
    CHECK_EQ(b.status, 503);
    CHECK_EQ(f.n->st.tier_reads, 1); /* nothing sent */
    fix_close(&f);
}

int main(void)
{
    ekv_log_init("tier-test", EKV_LOG_ERROR);
    EKV_TEST_RUN(test_tier_serves_pops);
    EKV_TEST_RUN(test_purge_on_write);
    EKV_TEST_RUN(test_pop_counts_tier_reads);
    EKV_TEST_RUN(test_pop_tier_outage_and_partition);
    EKV_TEST_DONE();
}
