/* node_sub_test: a PoP's subscription under a transport that loses and garbles (issue 31:
 * epgm), driven through its real sockets.
 *
 * The test is the coordinator: an XPUB and a ROUTER on 127.0.0.1 (ephemeral ports) that the
 * PoP connects to. It answers hellos and catch-ups from the changes it published (their
 * stored copies), publishes changes and heartbeats with whatever stamps it likes, and, with
 * ZMQ_XPUB_MANUAL, decides which subscriber gets anything at all: a subscription it stops
 * serving is a SUB that is connected and silent, as a PGM receiver that gave up after a loss.
 * What is checked is what a Worker would notice: changes applied (and their commit times),
 * the PoP catching up, messages counted as malformed, and a silent subscription replaced.
 *
 * Every socket and the node are closed at the end of each test; nothing is left running. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_test.h"
#include "ekv_time.h"
#include "node_int.h"
#include "replica.h"

#define NS      "0123456789abcdef0123456789abcdef"
#define EPOCH   0x5eedull
#define MAX_SEQ 64
#define HOUR_US 3600000000LL

typedef struct {
    void *ctx, *pub, *router;
    char pub_ep[64], router_ep[64];
    struct event_base *base;
    ekv_node_t *n;
    uint64_t tip;        /* the last sequence published */
    char *body[MAX_SEQ]; /* the stored copy of each change, for catch-up */
    size_t len[MAX_SEQ];
    int answer;           /* the ROUTER answers (0: the coordinator seems down) */
    int serve_new;        /* a new subscriber is served (XPUB_MANUAL) */
    int subscribes;       /* subscriptions seen at the XPUB */
    int hellos, catchups; /* requests seen at the ROUTER */
} world_t;

static void bind_any(void *sock, char *ep, size_t len)
{
    CHECK_EQ(zmq_bind(sock, "tcp://127.0.0.1:*"), 0);
    CHECK_EQ(zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &len), 0);
}

/* A PoP under push with a down-link delay of delay_ms, silent after timeout_ms. */
static void world_open(world_t *w, int delay_ms, int timeout_ms)
{
    memset(w, 0, sizeof *w);
    w->answer = w->serve_new = 1;
    w->tip = 10;
    w->ctx = zmq_ctx_new();
    w->pub = zmq_socket(w->ctx, ZMQ_XPUB);
    w->router = zmq_socket(w->ctx, ZMQ_ROUTER);
    int one = 1, zero = 0;
    CHECK_EQ(zmq_setsockopt(w->pub, ZMQ_XPUB_MANUAL, &one, sizeof one), 0);
    zmq_setsockopt(w->pub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(w->router, ZMQ_LINGER, &zero, sizeof zero);
    bind_any(w->pub, w->pub_ep, sizeof w->pub_ep);
    bind_any(w->router, w->router_ep, sizeof w->router_ep);
    ekv_node_config_t cfg;
    ekv_node_config_defaults(&cfg);
    cfg.name = "sub-test";
    cfg.http_port = 0;
    cfg.pub_endpoint = w->pub_ep;
    cfg.router_endpoint = w->router_ep;
    cfg.policy = EKV_POLICY_PUSH;
    cfg.link.delay_us = (int64_t)delay_ms * 1000;
    cfg.coordinator_timeout_ms = timeout_ms;
    w->base = event_base_new();
    char err[256] = "";
    w->n = ekv_node_new(w->base, &cfg, err, sizeof err);
    if (!w->n)
        fprintf(stderr, "node: %s\n", err);
    CHECK(w->n != NULL);
}

static void world_close(world_t *w)
{
    ekv_node_destroy(&w->n);
    event_base_free(w->base);
    zmq_close(w->pub);
    zmq_close(w->router);
    zmq_ctx_term(w->ctx);
    for (int i = 0; i < MAX_SEQ; i++)
        free(w->body[i]);
}

static void send_reply(world_t *w, zmq_msg_t *id, const ekv_msg_t *r)
{
    char *body;
    size_t len;
    CHECK_EQ(ekv_msg_encode(r, &body, &len), EKV_OK);
    CHECK(zmq_send(w->router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE) >= 0);
    CHECK(zmq_send(w->router, body, len, 0) >= 0);
    free(body);
}

/* Hello: the tip. Catch-up: every stored change after from_seq. */
static void answer(world_t *w, zmq_msg_t *id, const ekv_msg_t *m)
{
    if (m->type == EKV_MSG_HELLO) {
        w->hellos++;
        ekv_msg_t r = {.type = EKV_MSG_HELLO_REPLY,
                       .req_id = m->req_id,
                       .seq = w->tip,
                       .time_us = ekv_now_us(),
                       .epoch = EPOCH};
        send_reply(w, id, &r);
    } else if (m->type == EKV_MSG_CATCHUP) {
        w->catchups++;
        ekv_bytes_t entries[MAX_SEQ];
        size_t k = 0;
        for (uint64_t s = m->seq + 1; s <= w->tip; s++)
            if (w->body[s])
                entries[k++] = (ekv_bytes_t){w->body[s], w->len[s]};
        char *body;
        size_t len;
        CHECK_EQ(ekv_msg_encode_catchup_raw(m->req_id, w->tip, 0, (ekv_bytes_t){"", 0}, entries, k,
                                            &body, &len),
                 EKV_OK);
        CHECK(zmq_send(w->router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE) >= 0);
        CHECK(zmq_send(w->router, body, len, 0) >= 0);
        free(body);
    }
}

static void serve_router(world_t *w)
{
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    while (zmq_msg_recv(&id, w->router, ZMQ_DONTWAIT) >= 0) {
        CHECK(zmq_msg_recv(&body, w->router, 0) >= 0);
        ekv_msg_t m;
        if (w->answer && ekv_msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m) == EKV_OK) {
            answer(w, &id, &m);
            ekv_msg_fini(&m);
        }
    }
    zmq_msg_close(&id);
    zmq_msg_close(&body);
}

/* Subscriptions arrive one per SUB; in manual mode the XPUB sends to that SUB only what the
 * test subscribes it to, right after reading its subscription. */
static void serve_xpub(world_t *w)
{
    char buf[64];
    int n;
    while ((n = zmq_recv(w->pub, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
        if (n >= 1 && buf[0] == 1) {
            w->subscribes++;
            if (w->serve_new)
                CHECK_EQ(zmq_setsockopt(w->pub, ZMQ_SUBSCRIBE, "", 0), 0);
        }
    }
}

/* Runs the PoP's loop and the test's coordinator for ms milliseconds, or until done(w). */
static void spin_until(world_t *w, int ms, int (*done)(world_t *))
{
    int64_t until = ekv_mono_us() + (int64_t)ms * 1000;
    while (ekv_mono_us() < until && !(done && done(w))) {
        event_base_loop(w->base, EVLOOP_NONBLOCK);
        serve_router(w);
        serve_xpub(w);
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
}

static void spin(world_t *w, int ms)
{
    spin_until(w, ms, NULL);
}

static void publish(world_t *w, const char *topic, const char *body, size_t len)
{
    CHECK(zmq_send(w->pub, topic, strlen(topic), ZMQ_SNDMORE) >= 0);
    CHECK(zmq_send(w->pub, body, len, 0) >= 0);
}

/* Commits change seq (stored with a sane stamp) and publishes it stamped stamp_us. */
static void publish_change(world_t *w, uint64_t seq, int64_t stamp_us)
{
    char key[16], value[16];
    snprintf(key, sizeof key, "k%llu", (unsigned long long)seq);
    snprintf(value, sizeof value, "value-%llu", (unsigned long long)seq);
    ekv_msg_t c = {.type = EKV_MSG_CHANGE,
                   .seq = seq,
                   .op = EKV_OP_PUT,
                   .time_us = ekv_now_us(),
                   .ns = {NS, strlen(NS)},
                   .key = {key, strlen(key)},
                   .value = {value, strlen(value)}};
    CHECK_LT(seq, MAX_SEQ);
    CHECK_EQ(ekv_msg_encode(&c, &w->body[seq], &w->len[seq]), EKV_OK);
    w->tip = seq > w->tip ? seq : w->tip;
    char *sent = malloc(w->len[seq]);
    CHECK(sent != NULL);
    memcpy(sent, w->body[seq], w->len[seq]);
    CHECK_EQ(ekv_msg_set_commit_time(sent, w->len[seq], stamp_us), EKV_OK);
    publish(w, NS, sent, w->len[seq]);
    free(sent);
}

static void publish_heartbeat(world_t *w, int64_t stamp_us)
{
    ekv_msg_t hb = {.type = EKV_MSG_HEARTBEAT, .seq = w->tip, .time_us = stamp_us, .epoch = EPOCH};
    char *body;
    size_t len;
    CHECK_EQ(ekv_msg_encode(&hb, &body, &len), EKV_OK);
    publish(w, EKV_MSG_TOPIC_HEARTBEAT, body, len);
    free(body);
}

static int is_up(world_t *w)
{
    return node_coordinator_up(w->n);
}

static int at_tip(world_t *w)
{
    return ekv_replica_applied(w->n->replica) >= w->tip;
}

/* Hello answered and a heartbeat heard on the subscription (published until one is). */
static void world_ready(world_t *w)
{
    for (int i = 0; i < 100 && !is_up(w); i++) {
        spin(w, 20);
        publish_heartbeat(w, ekv_now_us());
        spin_until(w, 30, is_up);
    }
    CHECK(is_up(w));
    CHECK_EQ(ekv_replica_applied(w->n->replica), 10);
}

/* ---- stamps -------------------------------------------------------------------------------- */

/* A heartbeat stamped an hour ahead, between two changes on a link with a delay: it is
 * dropped as malformed, and the change behind it arrives after its delay, not in an hour. */
static void test_future_heartbeat_holds_nothing(void)
{
    world_t w;
    world_open(&w, 20, 1000);
    world_ready(&w);
    uint64_t malformed = w.n->st.malformed;
    publish_change(&w, 11, ekv_now_us());
    publish_heartbeat(&w, ekv_now_us() + HOUR_US);
    publish_change(&w, 12, ekv_now_us());
    spin_until(&w, 2000, at_tip);
    CHECK_EQ(ekv_replica_applied(w.n->replica), 12);
    CHECK_EQ(w.n->st.malformed, malformed + 1);
    world_close(&w);
}

/* A change stamped an hour ahead (a garbled stamp) is dropped; the next change shows the gap,
 * and catch-up brings the stored copy, with its true commit time. */
static void test_future_change_is_caught_up(void)
{
    world_t w;
    world_open(&w, 20, 1000);
    world_ready(&w);
    uint64_t malformed = w.n->st.malformed;
    int64_t t0 = ekv_now_us();
    publish_change(&w, 11, t0 + HOUR_US);
    publish_change(&w, 12, ekv_now_us());
    spin_until(&w, 3000, at_tip);
    CHECK_EQ(ekv_replica_applied(w.n->replica), 12);
    CHECK_EQ(w.n->st.malformed, malformed + 1);
    CHECK_GE(w.catchups, 1);
    const vis_t *v = ekv_vis_find(w.n->vis, 11);
    CHECK(v != NULL);
    CHECK_LT(v->commit_us, t0 + 1000000); /* the stored stamp, not the garbled one */
    world_close(&w);
}

/* A stamp a few seconds ahead (a coordinator clock ahead of ours) is accepted, but travels
 * from its arrival: the change behind it is not held for those seconds. */
static void test_early_stamp_holds_nothing(void)
{
    world_t w;
    world_open(&w, 20, 1000);
    world_ready(&w);
    publish_change(&w, 11, ekv_now_us() + 5000000);
    publish_change(&w, 12, ekv_now_us());
    int64_t t0 = ekv_mono_us();
    spin_until(&w, 3000, at_tip);
    CHECK_EQ(ekv_replica_applied(w.n->replica), 12);
    CHECK_LT(ekv_mono_us() - t0, 2000000);
    world_close(&w);
}

/* ---- a silent subscription ----------------------------------------------------------------- */

/* The subscription goes silent (the XPUB stops serving it) while the coordinator still
 * answers: the PoP probes, reopens its SUB (a second subscription arrives), and catches up
 * the change it missed. While the coordinator answered nothing, nothing was reopened. */
static void test_silent_subscription_is_reopened(void)
{
    world_t w;
    world_open(&w, 0, 300);
    world_ready(&w);
    CHECK_EQ(w.subscribes, 1);
    /* The first SUB is the last to have subscribed: manual mode unsubscribes it. */
    CHECK_EQ(zmq_setsockopt(w.pub, ZMQ_UNSUBSCRIBE, "", 0), 0);
    w.answer = 0;
    publish_change(&w, 11, ekv_now_us());
    for (int i = 0; i < 10; i++) {
        spin(&w, 100);
        publish_heartbeat(&w, ekv_now_us());
    }
    ekv_replica_stats_t st;
    ekv_replica_stats(w.n->replica, &st);
    CHECK_GE(st.probes, 1); /* asked, no answer: the coordinator seems down */
    CHECK_EQ(st.reopens, 0);
    CHECK_EQ(w.subscribes, 1);
    CHECK_EQ(ekv_replica_applied(w.n->replica), 10);
    CHECK(!node_coordinator_up(w.n));

    /* It answers again: the subscription is reopened, and until a heartbeat comes on the new
     * one the coordinator is up because it answers (misses go to it, not 503). */
    w.answer = 1;
    for (int i = 0; i < 40 && w.subscribes < 2; i++)
        spin(&w, 50);
    CHECK_EQ(w.subscribes, 2);
    CHECK(node_coordinator_up(w.n));
    CHECK_EQ(ekv_replica_applied(w.n->replica), 10);
    for (int i = 0; i < 60 && !at_tip(&w); i++) {
        spin(&w, 100);
        publish_heartbeat(&w, ekv_now_us());
    }
    CHECK_EQ(ekv_replica_applied(w.n->replica), 11);
    CHECK(node_coordinator_up(w.n));
    CHECK_EQ(w.subscribes, 2);
    ekv_replica_stats(w.n->replica, &st);
    CHECK_EQ(st.reopens, 1);
    world_close(&w);
}

/* A subscription that keeps hearing heartbeats is never probed nor reopened. */
static void test_live_subscription_is_left_alone(void)
{
    world_t w;
    world_open(&w, 0, 300);
    world_ready(&w);
    for (int i = 0; i < 12; i++) {
        spin(&w, 100);
        publish_heartbeat(&w, ekv_now_us());
    }
    ekv_replica_stats_t st;
    ekv_replica_stats(w.n->replica, &st);
    CHECK_EQ(st.probes, 0);
    CHECK_EQ(st.reopens, 0);
    CHECK_EQ(w.subscribes, 1);
    world_close(&w);
}

int main(void)
{
    EKV_TEST_RUN(test_future_heartbeat_holds_nothing);
    EKV_TEST_RUN(test_future_change_is_caught_up);
    EKV_TEST_RUN(test_early_stamp_holds_nothing);
    EKV_TEST_RUN(test_silent_subscription_is_reopened);
    EKV_TEST_RUN(test_live_subscription_is_left_alone);
    EKV_TEST_DONE();
}
