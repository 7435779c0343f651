/* node_core_test: the PoP's core (node/node.c) driven without HTTP and without a coordinator.
 *
 * The test builds a real node (its HTTP server and sockets exist but nothing talks to them),
 * asks the core for reads, writes and waits through node_read / node_write / node_wait with
 * a recording completion, and plays the coordinator by handing the core its messages
 * (node_deliver) with the request ids the core gave out. What is checked is what a Worker
 * would see: the version served, cache status, read-your-writes, coalesced misses, and that
 * every request is completed exactly once (by its reply, its timeout, or the shutdown). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_test.h"
#include "ekv_time.h"
#include "node_fixture.h"
#include "node_int.h"

typedef struct {
    int calls;
    int status;
    char value[64];
    uint64_t seq;
    int negative;
    char cache_status[16];
    int vis_seen;
    int64_t served_us;
    size_t listed;  /* node_list: keys in the reply */
    char first[32]; /* node_list: the first of them */
} rec_t;

static void record(ekv_node_t *n, void *ctx, const node_result_t *r)
{
    (void)n;
    rec_t *rec = ctx;
    rec->calls++;
    rec->status = r->status;
    if (r->item) {
        snprintf(rec->value, sizeof rec->value, "%.*s", (int)r->item->value.len,
                 r->item->value.ptr);
        rec->seq = r->item->seq;
        rec->negative = r->item->negative;
        snprintf(rec->cache_status, sizeof rec->cache_status, "%s", r->cache_status);
    } else {
        rec->seq = r->seq;
    }
    rec->vis_seen = r->vis != NULL;
    rec->served_us = r->served_us;
    if (r->list) {
        rec->listed = r->list->nchanges;
        snprintf(rec->first, sizeof rec->first, "%.*s",
                 r->list->nchanges ? (int)r->list->changes[0].key.len : 0,
                 r->list->nchanges ? r->list->changes[0].key.ptr : "");
    }
}

/* A PoP under policy, said hello to and heartbeaten at tip seq 10, its simulated time
 * running time_scale times faster (1000: a cacheTtl of 60 s lasts 60 ms). */
static void fix_open_scaled(fix_t *f, ekv_policy_t policy, double time_scale)
{
    ekv_node_config_t cfg;
    fix_config(&cfg, "core-test", policy, 100);
    cfg.time_scale = time_scale;
    fix_start(f, &cfg);
}

static void fix_open(fix_t *f, ekv_policy_t policy)
{
    fix_open_scaled(f, policy, 1.0);
}

/* Lets real time pass (the core reads the clock itself). */
static void pass_ms(int ms)
{
    int64_t until = ekv_mono_us() + (int64_t)ms * 1000;
    while (ekv_mono_us() < until)
        ;
}

/* A miss goes to origin; its reply is cached and a second read is a HIT. */
static void test_miss_then_hit(void)
{
    fix_t f;
    fix_open(&f, EKV_POLICY_TTL);
    rec_t a = {0}, b = {0};
    uint64_t id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("k"), 60, record, &a);
    CHECK_EQ(a.calls, 0); /* waiting for origin */
    origin_reply(&f, id, 7, "v7", NULL);
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(a.status, 200);
    CHECK_STR(a.value, "v7");
    CHECK_STR(a.cache_status, "MISS");
    node_read(f.n, B(NS), B("k"), 60, record, &b);
    CHECK_EQ(b.calls, 1); /* at once */
    CHECK_STR(b.cache_status, "HIT");
    CHECK_EQ(b.seq, 7);
    origin_reply(&f, id, 8, "late", NULL); /* a duplicate reply: nobody is waiting */
    CHECK_EQ(a.calls, 1);
    fix_close(&f);
}

/* Regression: an origin read answered with its own version even when the cache already held
 * a newer one (a push that overtook the reply). */
static void test_origin_reply_never_serves_older_than_cache(void)
{
    fix_t f;
    fix_open(&f, EKV_POLICY_PUSH_ALL);
    rec_t a = {0};
    uint64_t id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("k"), 60, record, &a);
    deliver_change(&f, 11, "k", "pushed"); /* arrives before the read's reply */
    origin_reply(&f, id, 9, "older", NULL);
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(a.seq, 11);
    CHECK_STR(a.value, "pushed");
    fix_close(&f);
}

/* Concurrent misses of one key share one fetch; each asker is completed once. */
static void test_misses_coalesce(void)
{
    fix_t f;
    fix_open(&f, EKV_POLICY_TTL);
    rec_t r[3] = {{0}};
    uint64_t id = node_next_req_id(f.n);
    for (int i = 0; i < 3; i++)
        node_read(f.n, B(NS), B("k"), 60, record, &r[i]);
    CHECK_EQ(node_next_req_id(f.n), id + 1); /* one request went out */
    origin_reply(&f, id, 4, NULL, NULL);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(r[i].calls, 1);
        CHECK_EQ(r[i].negative, 1); /* not found */
    }
    fix_close(&f);
}

/* A write is acknowledged with its version and readable here at once (read-your-writes);
 * a refused write passes the coordinator's status and message on. */
static void test_write_then_read_your_write(void)
{
    fix_t f;
    fix_open(&f, EKV_POLICY_TTL);
    ekv_msg_t *w = calloc(1, sizeof *w);
    CHECK(w != NULL);
    w->type = EKV_MSG_WRITE;
    w->op = EKV_OP_PUT;
    w->ns = B(NS);
    w->key = B("mine");
    w->value = B("hello");
    rec_t a = {0}, b = {0}, c = {0};
    uint64_t id = node_next_req_id(f.n);
    node_write(f.n, w, record, &a);
    ekv_msg_t ack = {.type = EKV_MSG_WRITE_REPLY,
                     .req_id = id,
                     .status = 200,
                     .seq = 12,
                     .time_us = ekv_now_us()};
    node_deliver(f.n, &ack, ekv_now_us());
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(a.status, 200);
    CHECK_EQ(a.seq, 12);
    node_read(f.n, B(NS), B("mine"), 60, record, &b);
    CHECK_EQ(b.calls, 1);
    CHECK_STR(b.cache_status, "HIT");
    CHECK_STR(b.value, "hello");

    ekv_msg_t *w2 = calloc(1, sizeof *w2);
    CHECK(w2 != NULL);
    *w2 = (ekv_msg_t){.type = EKV_MSG_WRITE, .op = EKV_OP_DELETE, .ns = B(NS), .key = B("x")};
    id = node_next_req_id(f.n);
    node_write(f.n, w2, record, &c);
    ekv_msg_t no = {
        .type = EKV_MSG_WRITE_REPLY, .req_id = id, .status = 429, .text = B("Too Many Requests")};
    node_deliver(f.n, &no, ekv_now_us());
    CHECK_EQ(c.calls, 1);
    CHECK_EQ(c.status, 429);
    fix_close(&f);
}

/* A wait is answered when the change becomes visible; a read that gets no reply fails with
 * 503 at its deadline; whatever is still waiting at shutdown is completed too. */
static void test_wait_timeout_and_shutdown(void)
{
    fix_t f;
    fix_open(&f, EKV_POLICY_PUSH);
    rec_t w = {0}, late = {0}, shut = {0};
    node_wait(f.n, 11, 0, 5000, record, &w);
    CHECK_EQ(w.calls, 0);
    deliver_change(&f, 11, "k", "v");
    CHECK_EQ(w.calls, 1);
    CHECK(w.vis_seen);
    CHECK_EQ(w.seq, 11);

    node_read(f.n, B(NS), B("never"), 60, record, &late);
    int64_t until = ekv_mono_us() + 2000000;
    while (late.calls == 0 && ekv_mono_us() < until)
        event_base_loop(f.base, EVLOOP_ONCE);
    CHECK_EQ(late.calls, 1);
    CHECK_EQ(late.status, 503);

    node_read(f.n, B(NS), B("pending"), 60, record, &shut);
    fix_close(&f);
    CHECK_EQ(shut.calls, 1);
    CHECK_EQ(shut.status, 503);
}

/* kv (KV-SPEC 5): a change pushed by the coordinator does not reach a cached copy, found or
 * not found: both are served until their cacheTtl, then fetched again. A read with a lower
 * cacheTtl lowers the copy's life. */
static void test_kv_serves_cached_copies_until_cache_ttl(void)
{
    fix_t f;
    fix_open_scaled(&f, EKV_POLICY_KV, 1000.0); /* cacheTtl 60 s: 60 ms */
    rec_t r[8] = {{0}};
    uint64_t id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("k"), 60, record, &r[0]);
    origin_reply(&f, id, 9, "old", NULL);
    id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("gone"), 60, record, &r[1]);
    origin_reply(&f, id, 10, NULL, NULL);
    CHECK_EQ(r[1].negative, 1);

    deliver_change(&f, 11, "k", "new");
    deliver_change(&f, 12, "gone", "here now");
    node_read(f.n, B(NS), B("k"), 60, record, &r[2]);
    node_read(f.n, B(NS), B("gone"), 60, record, &r[3]);
    CHECK_EQ(r[2].calls, 1);
    CHECK_STR(r[2].cache_status, "HIT");
    CHECK_STR(r[2].value, "old"); /* the change did not reach the copy */
    CHECK_EQ(r[2].seq, 9);
    CHECK_STR(r[3].cache_status, "HIT");
    CHECK_EQ(r[3].negative, 1);              /* not found, as cached */
    CHECK_EQ(node_next_req_id(f.n), id + 1); /* nothing went to origin */

    pass_ms(70); /* past the copies' cacheTtl */
    id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("k"), 60, record, &r[4]);
    CHECK_EQ(r[4].calls, 0);
    origin_reply(&f, id, 11, "new", NULL);
    CHECK_STR(r[4].cache_status, "EXPIRED");
    CHECK_STR(r[4].value, "new");

    /* the lower-cacheTtl rule: a read with cacheTtl 30 leaves the copy 30 ms of life */
    node_read(f.n, B(NS), B("k"), 30, record, &r[5]);
    CHECK_STR(r[5].cache_status, "HIT");
    pass_ms(40);
    node_read(f.n, B(NS), B("k"), 60, record, &r[6]);
    CHECK_EQ(r[6].calls, 0); /* expired: gone to origin */
    fix_close(&f);
    CHECK_EQ(r[6].calls, 1);
}

/* Refresh-ahead (kv): a hot copy (read twice since stored) read late (past 0.8 of its
 * cacheTtl) is served at once and fetched again in the background, one fetch at a time; the
 * reply replaces the copy. A cold copy read late is not refreshed; a miss while the refresh
 * is in flight joins it. */
static void test_kv_refresh_ahead(void)
{
    fix_t f;
    fix_open_scaled(&f, EKV_POLICY_KV, 200.0); /* cacheTtl 60 s: 300 ms; late after 240 ms */
    rec_t r[10] = {{0}};
    uint64_t id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("hot"), 60, record, &r[0]);
    origin_reply(&f, id, 9, "v9", NULL);
    uint64_t cold = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("cold"), 60, record, &r[1]);
    origin_reply(&f, cold, 9, "c9", NULL);
    node_read(f.n, B(NS), B("hot"), 60, record, &r[2]); /* early: served, nothing sent */
    CHECK_STR(r[2].cache_status, "HIT");
    CHECK_EQ(node_next_req_id(f.n), cold + 1);

    pass_ms(260);
    node_read(f.n, B(NS), B("cold"), 60, record, &r[3]); /* late but read once: cold */
    CHECK_STR(r[3].cache_status, "HIT");
    CHECK_EQ(node_next_req_id(f.n), cold + 1);
    uint64_t refresh = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("hot"), 60, record, &r[4]); /* hot and late */
    CHECK_EQ(r[4].calls, 1);                            /* served at once... */
    CHECK_STR(r[4].cache_status, "HIT");
    CHECK_STR(r[4].value, "v9");
    CHECK_EQ(node_next_req_id(f.n), refresh + 1); /* ...and refreshed in the background */
    CHECK_EQ(f.n->st.refreshes, 1);
    node_read(f.n, B(NS), B("hot"), 60, record, &r[5]);
    CHECK_EQ(node_next_req_id(f.n), refresh + 1); /* one refresh in flight per key */
    origin_reply(&f, refresh, 11, "v11", NULL);
    node_read(f.n, B(NS), B("hot"), 60, record, &r[6]);
    CHECK_STR(r[6].cache_status, "HIT");
    CHECK_STR(r[6].value, "v11");
    CHECK_EQ(f.n->st.refresh_hits, 1);
    CHECK_EQ(f.n->st.misses, 2); /* the two first reads only */

    /* the refreshed copy lives a new cacheTtl: hot and late again, refreshed again; this time
     * the copy runs out before the reply, and a read meanwhile joins the refresh */
    node_read(f.n, B(NS), B("hot"), 60, record, &r[7]);
    pass_ms(260);
    refresh = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("hot"), 60, record, &r[8]);
    CHECK_EQ(node_next_req_id(f.n), refresh + 1);
    pass_ms(60);
    node_read(f.n, B(NS), B("hot"), 60, record, &r[9]);
    CHECK_EQ(r[9].calls, 0);
    CHECK_EQ(node_next_req_id(f.n), refresh + 1); /* joined, not sent again */
    origin_reply(&f, refresh, 11, "v11", NULL);
    CHECK_EQ(r[9].calls, 1);
    CHECK_STR(r[9].cache_status, "EXPIRED");
    CHECK_STR(r[9].value, "v11");
    fix_close(&f);
}

/* A LIST_REPLY naming the keys given (NULL-terminated), complete. */
static void deliver_list_reply(fix_t *f, uint64_t req_id, const char **keys)
{
    ekv_msg_t heads[4];
    size_t nk = 0;
    for (; keys[nk]; nk++)
        heads[nk] = (ekv_msg_t){
            .type = EKV_MSG_CHANGE, .seq = 5, .op = EKV_OP_PUT, .ns = B(NS), .key = B(keys[nk])};
    ekv_msg_t r = {
        .type = EKV_MSG_LIST_REPLY, .req_id = req_id, .seq = 10, .changes = heads, .nchanges = nk};
    node_deliver(f->n, &r, ekv_now_us());
}

static ekv_msg_t *put_msg(const char *key, const char *value)
{
    ekv_msg_t *w = calloc(1, sizeof *w);
    CHECK(w != NULL);
    *w = (ekv_msg_t){
        .type = EKV_MSG_WRITE, .op = EKV_OP_PUT, .ns = B(NS), .key = B(key), .value = B(value)};
    return w;
}

/* kv: a list reply is cached and served while fresh (the default cacheTtl), per prefix,
 * start and limit; a write acknowledged through this PoP drops the namespace's lists there;
 * a change pushed by the coordinator does not (lists lag like reads). Under ttl lists are
 * never cached. */
static void test_kv_lists_cached(void)
{
    fix_t f;
    fix_open_scaled(&f, EKV_POLICY_KV, 1000.0); /* default cacheTtl 60 s: 60 ms */
    rec_t r[8] = {{0}};
    const char *one[] = {"a", NULL}, *two[] = {"a", "b", NULL};
    uint64_t id = node_next_req_id(f.n);
    node_list(f.n, B(NS), B(""), B(""), 1000, record, &r[0]);
    CHECK_EQ(r[0].calls, 0);
    deliver_list_reply(&f, id, one);
    CHECK_EQ(r[0].listed, 1);
    deliver_change(&f, 11, "b", "vb"); /* elsewhere: this PoP's list lags */
    node_list(f.n, B(NS), B(""), B(""), 1000, record, &r[1]);
    CHECK_EQ(r[1].calls, 1); /* from the cache */
    CHECK_EQ(r[1].listed, 1);
    CHECK_STR(r[1].first, "a");
    CHECK_EQ(node_next_req_id(f.n), id + 1);
    node_list(f.n, B(NS), B("a"), B(""), 1000, record, &r[2]); /* another prefix */
    node_list(f.n, B(NS), B(""), B(""), 10, record, &r[3]);    /* another limit */
    CHECK_EQ(r[2].calls + r[3].calls, 0);
    CHECK_EQ(node_next_req_id(f.n), id + 3);
    CHECK_EQ(f.n->st.list_hits, 1);
    CHECK_EQ(f.n->st.list_misses, 3);

    /* a write through this PoP: its next list goes to origin and shows the write */
    uint64_t wid = node_next_req_id(f.n);
    rec_t w = {0};
    node_write(f.n, put_msg("c", "vc"), record, &w);
    ekv_msg_t ack = {.type = EKV_MSG_WRITE_REPLY,
                     .req_id = wid,
                     .status = 200,
                     .seq = 12,
                     .time_us = ekv_now_us()};
    node_deliver(f.n, &ack, ekv_now_us());
    CHECK_EQ(w.status, 200);
    id = node_next_req_id(f.n);
    node_list(f.n, B(NS), B(""), B(""), 1000, record, &r[4]);
    CHECK_EQ(r[4].calls, 0);
    CHECK_EQ(node_next_req_id(f.n), id + 1);
    deliver_list_reply(&f, id, two);
    CHECK_EQ(r[4].listed, 2);

    pass_ms(70); /* past the default cacheTtl */
    node_list(f.n, B(NS), B(""), B(""), 1000, record, &r[5]);
    CHECK_EQ(r[5].calls, 0);
    CHECK_EQ(node_next_req_id(f.n), id + 2);
    fix_close(&f);

    fix_open(&f, EKV_POLICY_TTL);
    id = node_next_req_id(f.n);
    node_list(f.n, B(NS), B(""), B(""), 1000, record, &r[6]);
    deliver_list_reply(&f, id, one);
    node_list(f.n, B(NS), B(""), B(""), 1000, record, &r[7]);
    CHECK_EQ(r[7].calls, 0); /* to origin again */
    fix_close(&f);
}

/* Served visibility: under kv a change arrives (visible) at once but is first served when a
 * read returns it, after the cached copy ran out; a wait for "served" is answered then.
 * Under push it is served when it arrives. */
static void test_served_visibility(void)
{
    fix_t f;
    fix_open_scaled(&f, EKV_POLICY_KV, 1000.0);
    rec_t r[4] = {{0}}, arrived = {0}, served = {0};
    uint64_t id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("k"), 60, record, &r[0]);
    origin_reply(&f, id, 9, "old", NULL);
    node_wait(f.n, 11, 1, 5000, record, &served);
    deliver_change(&f, 11, "k", "new");
    node_wait(f.n, 11, 0, 5000, record, &arrived);
    CHECK_EQ(arrived.calls, 1);
    CHECK(arrived.vis_seen);
    CHECK_EQ(arrived.served_us, 0);
    CHECK_EQ(served.calls, 0);
    node_read(f.n, B(NS), B("k"), 60, record, &r[1]); /* the old copy: not served yet */
    CHECK_EQ(served.calls, 0);
    CHECK_EQ(ekv_served_at(f.n->served, 11), 0);
    pass_ms(70);
    id = node_next_req_id(f.n);
    node_read(f.n, B(NS), B("k"), 60, record, &r[2]);
    int64_t before = ekv_now_us();
    origin_reply(&f, id, 11, "new", NULL);
    CHECK_EQ(served.calls, 1);
    CHECK(served.vis_seen);
    CHECK_GE(served.served_us, before);
    CHECK_GE(served.served_us - ekv_vis_find(f.n->vis, 11)->visible_us, 60000);
    fix_close(&f);

    fix_open(&f, EKV_POLICY_PUSH);
    deliver_change(&f, 11, "k", "v");
    CHECK_EQ(ekv_served_at(f.n->served, 11), ekv_vis_find(f.n->vis, 11)->visible_us);
    node_wait(f.n, 11, 1, 5000, record, &r[3]);
    CHECK_EQ(r[3].calls, 1);
    fix_close(&f);
}

int main(void)
{
    ekv_log_init("node_core_test", EKV_LOG_ERROR);
    EKV_TEST_RUN(test_miss_then_hit);
    EKV_TEST_RUN(test_origin_reply_never_serves_older_than_cache);
    EKV_TEST_RUN(test_misses_coalesce);
    EKV_TEST_RUN(test_write_then_read_your_write);
    EKV_TEST_RUN(test_wait_timeout_and_shutdown);
    EKV_TEST_RUN(test_kv_serves_cached_copies_until_cache_ttl);
    EKV_TEST_RUN(test_kv_refresh_ahead);
    EKV_TEST_RUN(test_kv_lists_cached);
    EKV_TEST_RUN(test_served_visibility);
    EKV_TEST_DONE();
}
