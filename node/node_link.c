/* node_link: the delay lines between a PoP's core and its peers (the coordinator, and its
 * regional tier when it has one), and the ZeroMQ sockets at their ends (see node.h for the
 * link model). Requests wait one delay on the up link before they are sent; what arrives
 * waits on the down link until its send time plus the delay, FIFO, and is then handed to the
 * core (node_deliver). One fine timer is armed for the earliest due item of all links. */
#include "node_int.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_sec.h"
#include "ekv_time.h"
#include "replica.h"

/* How far ahead of the coordinator's clock a stamp may be before it is refused (real time). */
#define NODE_FUTURE_US 10000000

typedef struct {
    char *body; /* encoded request */
    size_t len;
} outgoing_t;

/* A link model in real time: every simulated duration divided by time_scale. */
ekv_link_model_t node_link_scaled(ekv_link_model_t m, double time_scale)
{
    m.delay_us = (int64_t)((double)m.delay_us / time_scale);
    m.jitter_us = (int64_t)((double)m.jitter_us / time_scale);
    m.rto_us = (int64_t)((double)m.rto_us / time_scale);
    return m;
}

static ekv_link_model_t real_model(const ekv_node_config_t *cfg)
{
    return node_link_scaled(cfg->link, cfg->time_scale);
}

void node_set_partition(ekv_node_t *n, int on)
{
    if (n->partitioned != on)
        ekv_warn("link to the coordinator %s", on ? "cut (partition)" : "restored (heal)");
    n->partitioned = on;
}

void node_set_link(ekv_node_t *n, const ekv_link_model_t *model)
{
    n->cfg.link = *model;
    ekv_link_model_t m = real_model(&n->cfg);
    ekv_link_set_model(n->up, &m, n->cfg.seed);
    ekv_link_set_model(n->down, &m, n->cfg.seed * 0x9e3779b97f4a7c15ull + 1);
    ekv_info("link now %.3f ms one way", model->delay_us / 1000.0);
}

/* How long the subscription may be quiet: the coordinator timeout (three heartbeat periods),
 * as node_coordinator_up allows it. */
static int64_t silence_us(const ekv_node_t *n)
{
    return (int64_t)n->cfg.coordinator_timeout_ms * 1000 + 2 * ekv_link_delay_us(n->down);
}

/* Up while heard within the silence: a heartbeat, or a reply (a subscription being reopened
 * hears nothing for a while, and the coordinator answering is as alive as one heartbeating). */
int node_coordinator_up(const ekv_node_t *n)
{
    int64_t silence = silence_us(n);
    return ekv_replica_ready(n->replica) &&
           (ekv_mono_us() - n->last_heartbeat_us < silence ||
            node_now_us(n) - ekv_replica_origin_heard_at(n->replica) < silence);
}

static void arm_links(ekv_node_t *n)
{
    int64_t due = ekv_link_next_due(n->up);
    int64_t d2 = ekv_link_next_due(n->down);
    if (d2 < due)
        due = d2;
    if (n->tier_up) {
        d2 = ekv_link_next_due(n->tier_up);
        due = d2 < due ? d2 : due;
        d2 = ekv_link_next_due(n->tier_down);
        due = d2 < due ? d2 : due;
    }
    /* The subscription's watch moves with every message it hears: the timer is not set
     * again for that (a system call per message), it fires at the old time and is set anew. */
    int64_t watch = ekv_replica_watch_due(n->replica, silence_us(n));
    if (watch < due && (n->link_armed == INT64_MAX || watch < n->link_armed))
        due = watch;
    if (due == INT64_MAX || due == n->link_armed)
        return;
    /* Set for a later time, the timer would fire late; for an earlier one it fires early and
     * on_link finds nothing due and sets it again. Due already, it fires on this loop turn. */
    int64_t wait = due - node_now_us(n);
    if (ekv_fine_timer_set(n->link_timer, wait) == EKV_OK)
        n->link_armed = wait > 0 ? due : INT64_MAX;
}

void node_link_send(ekv_node_t *n, int via_tier, ekv_msg_t *msg)
{
    ekv_link_t *up = via_tier ? n->tier_up : n->up;
    outgoing_t *o = ekv_malloc(sizeof *o);
    if (ekv_msg_encode(msg, &o->body, &o->len) != EKV_OK) {
        free(o);
        ekv_error("cannot encode %s", ekv_msg_type_name(msg->type));
        return;
    }
    int64_t now = node_now_us(n);
    ekv_link_push(up, now, now, o);
    arm_links(n);
}

/* A message struct for the next receive: one is kept back, so a steady stream of changes
 * costs no allocation for it. */
static ekv_msg_t *msg_get(ekv_node_t *n)
{
    ekv_msg_t *m = n->spare_msg;
    n->spare_msg = NULL;
    return m ? m : ekv_malloc(sizeof *m);
}

/* Returns a message struct whose contents are finished or were never decoded. */
static void msg_put(ekv_node_t *n, ekv_msg_t *m)
{
    if (n->spare_msg)
        free(m);
    else
        n->spare_msg = m;
}

/* Hands over every message whose link delay had run out by `now`, in order (per link). */
static void deliver_due(ekv_node_t *n, int64_t now)
{
    void *item;
    while (ekv_link_pop(n->down, now, &item)) {
        node_deliver(n, item, now);
        ekv_msg_fini(item);
        msg_put(n, item);
    }
    while (n->tier_down && ekv_link_pop(n->tier_down, now, &item)) {
        node_deliver(n, item, now);
        ekv_msg_fini(item);
        msg_put(n, item);
    }
}

/* Sends what link `up` has due on sock. */
static void send_due(ekv_node_t *n, ekv_link_t *up, void *sock, ekv_zev_t *zev, int64_t now)
{
    void *item;
    while (ekv_link_pop(up, now, &item)) {
        outgoing_t *o = item;
        const void *frames[1] = {o->body};
        if (n->partitioned)
            ; /* lost on the cut link; the request times out like any unanswered one */
        else if (ekv_zev_send(sock, frames, &o->len, 1) != EKV_OK)
            ekv_warn("request to the %s dropped (queue full)",
                     up == n->up ? "coordinator" : "tier");
        free(o->body);
        free(o);
    }
    ekv_zev_kick(zev);
}

/* Makes the SUB, with its options, and connects it to the coordinator's PUB. */
static int sub_open(ekv_node_t *n, char *errbuf, size_t errlen)
{
    n->sub = zmq_socket(n->zctx, ZMQ_SUB);
    int linger = 0, hwm = 100000;
    zmq_setsockopt(n->sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(n->sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    /* Nothing valid is larger than a catch-up reply: a peer sending more is cut off before
     * ZeroMQ buffers it whole. */
    int64_t maxmsg = EKV_MSG_MAX_BATCH_BODY + 4096;
    zmq_setsockopt(n->sub, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(n->sub, ZMQ_SUBSCRIBE, "", 0);
    /* Over PGM a receiver keeps a window of rate x recovery interval to repair losses from
     * (by NAK); it should match the sender's. Losses beyond it show as a sequence gap. */
    const char *ep = n->cfg.pub_endpoint;
    if ((!strncmp(ep, "epgm://", 7) || !strncmp(ep, "pgm://", 6)) && n->cfg.pub_rate_kbps > 0) {
        zmq_setsockopt(n->sub, ZMQ_RATE, &n->cfg.pub_rate_kbps, sizeof(int));
        zmq_setsockopt(n->sub, ZMQ_RECOVERY_IVL, &n->cfg.pub_recovery_ms, sizeof(int));
    }
    if (ekv_sec_client(n->sub, n->cfg.sec) != EKV_OK) {
        snprintf(errbuf, errlen, "cannot make the SUB a CURVE client: %s",
                 zmq_strerror(zmq_errno()));
        return EKV_EIO;
    }
    if (zmq_connect(n->sub, ep) != 0) {
        snprintf(errbuf, errlen, "cannot connect to %s: %s", ep, zmq_strerror(zmq_errno()));
        return EKV_EIO;
    }
    return EKV_OK;
}

/* The coordinator answers on the DEALER while the SUB has been silent for a whole period: the
 * subscription is at fault (a PGM receiver that gave up after a loss), so it is made again;
 * the next heartbeat on it shows what was missed, and catch-up fetches that. */
static void sub_reopen(ekv_node_t *n)
{
    ekv_warn("no heartbeat on the subscription for %.1f s while the coordinator answers; "
             "reopening it",
             (double)silence_us(n) / 1e6);
    ekv_zev_destroy(&n->sub_zev);
    zmq_close(n->sub);
    char err[256];
    if (sub_open(n, err, sizeof err) != EKV_OK) {
        ekv_error("%s", err); /* the watch tries again after another silent period */
        return;
    }
    n->sub_zev = ekv_zev_new(n->base, n->sub, 256, node_link_on_sub, n);
    if (!n->sub_zev)
        ekv_error("cannot watch the new subscription");
}

/* Probes the coordinator with a hello (id 0: no pending request matches its reply, which
 * only shows the coordinator is there) or reopens the subscription, as the watch says. */
static void watch_sub(ekv_node_t *n, int64_t now)
{
    int what = ekv_replica_watch(n->replica, now, silence_us(n));
    if (what & EKV_REPLICA_PROBE) {
        ekv_msg_t hello = {.type = EKV_MSG_HELLO, .seq = ekv_replica_applied(n->replica)};
        hello.text = (ekv_bytes_t){n->cfg.name, strlen(n->cfg.name)};
        node_link_send(n, 0, &hello);
    }
    if (what & EKV_REPLICA_REOPEN)
        sub_reopen(n);
}

void node_link_on_timer(void *arg)
{
    ekv_node_t *n = arg;
    n->link_armed = INT64_MAX;
    int64_t now = node_now_us(n);
    send_due(n, n->up, n->dealer, n->dealer_zev, now);
    if (n->tier_up)
        send_due(n, n->tier_up, n->tier_dealer, n->tier_dealer_zev, now);
    deliver_due(n, now);
    watch_sub(n, node_now_us(n));
    arm_links(n);
}

void node_link_clock_poll(ekv_node_t *n)
{
    int64_t mono = ekv_mono_us();
    if (!ekv_clock_want(&n->clock, mono))
        return;
    ekv_msg_t m = {.type = EKV_MSG_TIME, .req_id = ++n->next_req_id};
    char *body;
    size_t len;
    if (ekv_msg_encode(&m, &body, &len) != EKV_OK)
        return;
    /* The raw clock: the offset is measured against it, not against itself. */
    ekv_clock_sent(&n->clock, m.req_id, ekv_now_us(), mono);
    const void *frames[1] = {body};
    if (ekv_zev_send(n->dealer, frames, &len, 1) != EKV_OK)
        ekv_warn("TIME to the coordinator dropped (queue full)"); /* lost: sent again later */
    ekv_zev_kick(n->dealer_zev);
    free(body);
}

/* A TIME_REPLY, handled on arrival: a sample for the clock, the next request of the burst,
 * and the ready file once the burst is complete. */
static void on_time_reply(ekv_node_t *n, const ekv_msg_t *m)
{
    int64_t t4 = ekv_now_us(), m4 = ekv_mono_us();
    if (!ekv_clock_reply(&n->clock, m->req_id, m->time_us, t4, m4))
        return;
    if (ekv_clock_samples(&n->clock) == EKV_CLOCK_BURST)
        ekv_info("clock: coordinator %+.3f ms from here (round trip %.3f ms)",
                 (double)ekv_clock_offset_us(&n->clock) / 1000.0,
                 (double)ekv_clock_rtt_us(&n->clock) / 1000.0);
    if (ekv_clock_samples(&n->clock) < EKV_CLOCK_BURST)
        node_link_clock_poll(n);
    else
        node_write_ready(n);
}

/* Receives one message from SUB or DEALER and hands it to the down link at its send time. */
/* Changes and heartbeats come only on the subscription, under their own topic (the namespace,
 * or the heartbeat topic); replies only on the request socket (topic NULL). */
static int on_its_socket(const ekv_msg_t *m, zmq_msg_t *topic)
{
    if (!topic)
        return m->type == EKV_MSG_HELLO_REPLY || m->type == EKV_MSG_WRITE_REPLY ||
               m->type == EKV_MSG_READ_REPLY || m->type == EKV_MSG_CATCHUP_REPLY ||
               m->type == EKV_MSG_LIST_REPLY || m->type == EKV_MSG_TIME_REPLY;
    size_t len = zmq_msg_size(topic);
    const void *t = zmq_msg_data(topic);
    if (m->type == EKV_MSG_HEARTBEAT)
        return len == strlen(EKV_MSG_TOPIC_HEARTBEAT) && !memcmp(t, EKV_MSG_TOPIC_HEARTBEAT, len);
    if (m->type == EKV_MSG_CHANGE)
        return len == m->ns.len && !memcmp(t, m->ns.ptr, len);
    return 0;
}

/* A change or heartbeat stamped further ahead of this PoP's corrected clock (node_now_us)
 * than NODE_FUTURE_US of real time was not sent by a
 * healthy coordinator: a garbled stamp (a frame a lossy transport spliced together) or a
 * clock gone wrong. Applied, it would record a visibility from the future; it is dropped
 * instead, and a dropped change is a gap that catch-up repairs with the stored copy. */
static int from_the_future(const ekv_node_t *n, const ekv_msg_t *m)
{
    if (m->type != EKV_MSG_CHANGE && m->type != EKV_MSG_HEARTBEAT)
        return 0;
    return m->time_us > node_now_us(n) + NODE_FUTURE_US;
}

static void receive(ekv_node_t *n, void *sock, int topic_frames, ekv_link_t *down)
{
    zmq_msg_t parts[2];
    int nparts, truncated;
    if (ekv_zev_recv(sock, parts, 2, &nparts, &truncated) != EKV_OK)
        return;
    ekv_msg_t *m = msg_get(n);
    int rc = nparts == topic_frames + 1 && !truncated
                 ? ekv_msg_decode(zmq_msg_data(&parts[topic_frames]),
                                  zmq_msg_size(&parts[topic_frames]), m)
                 : EKV_EMALFORMED;
    if (rc == EKV_OK && (!on_its_socket(m, topic_frames ? &parts[0] : NULL) ||
                         (down == n->tier_down && m->type != EKV_MSG_READ_REPLY))) {
        ekv_msg_fini(m);
        rc = EKV_EMALFORMED;
    }
    if (rc == EKV_OK && from_the_future(n, m)) {
        ekv_warn("dropped a %s stamped %.1f s ahead of this clock", ekv_msg_type_name(m->type),
                 (double)(m->time_us - node_now_us(n)) / 1e6);
        ekv_msg_fini(m);
        rc = EKV_EMALFORMED;
    }
    for (int i = 0; i < nparts; i++)
        zmq_msg_close(&parts[i]);
    if (rc == EKV_OK && m->type == EKV_MSG_TIME_REPLY) {
        /* Past the link model and the partition, and no sign of the coordinator's life
         * either: a cut link must still make it look down. */
        on_time_reply(n, m);
        ekv_msg_fini(m);
        msg_put(n, m);
        return;
    }
    if (rc == EKV_OK && n->partitioned) { /* lost on the cut link */
        ekv_msg_fini(m);
        msg_put(n, m);
        return;
    }
    if (rc != EKV_OK) {
        n->st.malformed++;
        ekv_warn("dropped a malformed message: %s", ekv_strerror(rc));
        msg_put(n, m);
        return;
    }
    int64_t now = node_now_us(n);
    if (topic_frames)
        ekv_replica_sub_heard(n->replica, now);
    else if (down == n->down)
        ekv_replica_origin_heard(n->replica, now);
    /* Messages stamped by the coordinator at sending travel from that moment. */
    int stamped = m->type == EKV_MSG_CHANGE || m->type == EKV_MSG_HEARTBEAT ||
                  m->type == EKV_MSG_HELLO_REPLY ||
                  (m->type == EKV_MSG_WRITE_REPLY && m->status == 200);
    int64_t sent = stamped ? m->time_us : now;
    if (m->type == EKV_MSG_HEARTBEAT && ekv_link_pending(down) == 0) {
        /* Nothing is in flight behind which it would have to queue: every change it announces
         * has arrived, so it is handled at once instead of waking the PoP a second time when
         * its delay has run (an idle PoP then costs one wakeup per heartbeat). The
         * coordinator's liveness allows for twice the link delay in any case. */
        node_deliver(n, m, now);
        ekv_msg_fini(m);
        msg_put(n, m);
        return;
    }
    if (m->type == EKV_MSG_HEARTBEAT)
        ekv_link_push_plain(down, sent, now, m);
    else
        ekv_link_push(down, sent, now, m);
    /* Due already (no delay, or it spent its delay in transit): no timer round trip. */
    if (ekv_link_next_due(down) <= now)
        deliver_due(n, now);
    arm_links(n);
}

void node_link_on_sub(void *sock, void *arg)
{
    receive(arg, sock, 1, ((ekv_node_t *)arg)->down);
}

void node_link_on_dealer(void *sock, void *arg)
{
    receive(arg, sock, 0, ((ekv_node_t *)arg)->down);
}

void node_link_on_tier(void *sock, void *arg)
{
    receive(arg, sock, 0, ((ekv_node_t *)arg)->tier_down);
}

static void drain(ekv_link_t *l, int down)
{
    void *item;
    while (ekv_link_pop(l, INT64_MAX, &item)) {
        if (down) {
            ekv_msg_fini(item);
        } else {
            free(((outgoing_t *)item)->body);
        }
        free(item);
    }
}

int node_link_open(ekv_node_t *n, char *errbuf, size_t errlen)
{
    n->zctx = zmq_ctx_new();
    if (sub_open(n, errbuf, errlen) != EKV_OK)
        return EKV_EIO;
    n->dealer = zmq_socket(n->zctx, ZMQ_DEALER);
    int linger = 0;
    int64_t maxmsg = EKV_MSG_MAX_BATCH_BODY + 4096;
    zmq_setsockopt(n->dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(n->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (ekv_sec_client(n->dealer, n->cfg.sec) != EKV_OK) {
        snprintf(errbuf, errlen, "cannot make the DEALER a CURVE client: %s",
                 zmq_strerror(zmq_errno()));
        return EKV_EIO;
    }
    if (zmq_connect(n->dealer, n->cfg.router_endpoint) != 0) {
        snprintf(errbuf, errlen, "cannot connect to %s: %s", n->cfg.router_endpoint,
                 zmq_strerror(zmq_errno()));
        return EKV_EIO;
    }
    if (n->cfg.tier_endpoint) {
        n->tier_dealer = zmq_socket(n->zctx, ZMQ_DEALER);
        zmq_setsockopt(n->tier_dealer, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(n->tier_dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
        if (ekv_sec_client(n->tier_dealer, n->cfg.sec) != EKV_OK) {
            snprintf(errbuf, errlen, "cannot make the tier DEALER a CURVE client: %s",
                     zmq_strerror(zmq_errno()));
            return EKV_EIO;
        }
        if (zmq_connect(n->tier_dealer, n->cfg.tier_endpoint) != 0) {
            snprintf(errbuf, errlen, "cannot connect to the tier at %s: %s", n->cfg.tier_endpoint,
                     zmq_strerror(zmq_errno()));
            return EKV_EIO;
        }
    }
    return EKV_OK;
}

void node_link_drain(ekv_node_t *n)
{
    drain(n->up, 0);
    drain(n->down, 1);
    if (n->tier_up) {
        drain(n->tier_up, 0);
        drain(n->tier_down, 1);
    }
}
