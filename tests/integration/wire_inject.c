/* wire_inject: sends malformed wire messages to the daemons' ZeroMQ sockets (wire_test.sh).
 *
 *   wire_inject router ENDPOINT
 *       DEALER to a coordinator's ROUTER: sends every bad request of bad_requests(), then one
 *       valid READ of a missing key, and waits for its READ_REPLY. Prints "bad N" (the number
 *       of bad messages sent, each of which the coordinator must count as malformed). Exit 0
 *       only if the valid READ was answered and no bad one was.
 *
 *   wire_inject flags ENDPOINT
 *       DEALER to a coordinator's ROUTER: PUTs "wire-flagged" expiring in an hour, then (1.1 s
 *       later, past the same-key rate limit) DELETEs it with another expiration and every
 *       flag bit set - among them the coordinator's private one for its sweeper's conditional
 *       deletes - then READs it. A node's delete is unconditional: exit 0 only if all three
 *       were answered 200 and the key is gone.
 *
 *   wire_inject oversized ENDPOINT
 *       DEALER to a coordinator's ROUTER: sends one frame larger than any valid request
 *       (EKV_MSG_MAX_BODY + 1 bytes), which the coordinator must refuse by disconnecting
 *       rather than buffer; then, on a new DEALER, a valid READ that must be answered.
 *       Exit 0 when it was.
 *
 *   wire_inject fake-coordinator PUB_ENDPOINT ROUTER_ENDPOINT
 *       Binds both (a port of * is chosen by the system; the endpoints bound are printed as
 *       "pub EP" and "router EP"). Answers a PoP's HELLO and publishes heartbeats so it becomes
 *       ready; once the PoP is subscribed and greeted, publishes bad messages on PUB, sends bad
 *       replies to the PoP's DEALER, then publishes one valid CHANGE (seq 1, default namespace,
 *       key "wire-key", value "wire-value"). Prints "expect_malformed N" (what the PoP must
 *       count) and "sent_ignored M" (well-formed replies to no pending request, which a PoP
 *       cannot tell from late replies: dropped, not counted). Runs until SIGTERM/SIGINT.
 *
 * Every body meant to be malformed is checked with ekv_msg_decode() here first, so the test
 * never relies on a "bad" message that is in fact well formed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_kv.h"
#include "ekv_msg.h"

#define WIRE_KEY   "wire-key"
#define WIRE_VALUE "wire-value"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A body: bytes and length. */
typedef struct {
    char *p;
    size_t n;
} body_t;

static body_t encode(const ekv_msg_t *m)
{
    body_t b;
    if (ekv_msg_encode(m, &b.p, &b.n) != EKV_OK) {
        fprintf(stderr, "wire_inject: cannot encode %s\n", ekv_msg_type_name(m->type));
        exit(2);
    }
    return b;
}

static body_t copy(const void *p, size_t n)
{
    body_t b = {malloc(n ? n : 1), n};
    memcpy(b.p, p, n);
    return b;
}

static ekv_bytes_t bs(const char *s)
{
    return (ekv_bytes_t){s, strlen(s)};
}

/* Dies unless body does not decode (want_ok 0) or decodes (want_ok 1). */
static void check_decode(const char *what, body_t b, int want_ok)
{
    ekv_msg_t m;
    int rc = ekv_msg_decode(b.p, b.n, &m);
    if (rc == EKV_OK)
        ekv_msg_fini(&m);
    if ((rc == EKV_OK) != want_ok) {
        fprintf(stderr, "wire_inject: self-check: %s decodes with %d\n", what, rc);
        exit(2);
    }
}

/* Garbage that never decodes: 0xc1 is a byte msgpack never uses. */
static body_t garbage(unsigned seed, size_t n)
{
    body_t b = {malloc(n), n};
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b.p[i] = (char)(seed >> 16);
    }
    b.p[0] = (char)0xc1;
    return b;
}

/* The same message with its version (byte 1, after the fixarray header) set to v. */
static body_t wrong_version(body_t b, int v)
{
    if ((unsigned char)b.p[0] < 0x90 || (unsigned char)b.p[0] > 0x9f || b.p[1] != 1) {
        fprintf(stderr, "wire_inject: unexpected encoding layout\n");
        exit(2);
    }
    b.p[1] = (char)v;
    return b;
}

/* [1, type, req_id 1, bin32 of 4 GiB - 1 with 3 bytes present]: a huge length prefix. */
static body_t huge_prefix(int type)
{
    const unsigned char raw[] = {
        0x95, 0x01, (unsigned char)type, 0x01, 0xc6, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c'};
    return copy(raw, sizeof raw);
}

/* A fixarray of two: [1, 99], a type nobody knows. */
static body_t unknown_type(void)
{
    const unsigned char raw[] = {0x92, 0x01, 0x63};
    return copy(raw, sizeof raw);
}

/* A READ whose namespace is an integer rather than bytes. */
static body_t wrong_field_type(void)
{
    const unsigned char raw[] = {0x95, 0x01, 0x06, 0x07, 0x2a, 0xc4, 0x01, 'k'};
    return copy(raw, sizeof raw);
}

static body_t with_trailing(body_t b)
{
    b.p = realloc(b.p, b.n + 1);
    b.p[b.n++] = 0;
    return b;
}

static body_t cut(body_t b, size_t n)
{
    b.n = n;
    return b;
}

static int send_frames(void *sock, const body_t *frames, int n)
{
    for (int i = 0; i < n; i++)
        if (zmq_send(sock, frames[i].p, frames[i].n, i + 1 < n ? ZMQ_SNDMORE : 0) < 0) {
            fprintf(stderr, "wire_inject: send: %s\n", zmq_strerror(zmq_errno()));
            return -1;
        }
    return 0;
}

/* ---- router ------------------------------------------------------------------------------- */

/* Waits until deadline_ms for a message from d and decodes it into *m (ekv_msg_fini it).
 * 1: one frame that decodes; 0: nothing in time; -1: a receive failure, a frame that does
 * not decode, or more than one frame. */
static int next_reply(void *d, int64_t deadline_ms, ekv_msg_t *m)
{
    while (mono_ms() < deadline_ms) {
        zmq_pollitem_t it = {d, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, d, 0) < 0)
            return -1;
        int more = zmq_msg_more(&f);
        int drc = ekv_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), m);
        zmq_msg_close(&f);
        if (drc != EKV_OK)
            return -1;
        if (more) {
            ekv_msg_fini(m);
            return -1;
        }
        return 1;
    }
    return 0;
}

static ekv_msg_t read_msg(uint64_t req_id, const char *key)
{
    ekv_msg_t m = {.type = EKV_MSG_READ, .req_id = req_id};
    m.ns = bs(EKV_KV_DEFAULT_NS);
    m.key = bs(key);
    return m;
}

static int run_router(const char *ep)
{
    void *ctx = zmq_ctx_new();
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 1000;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(d, ep) != 0) {
        fprintf(stderr, "wire_inject: connect %s: %s\n", ep, zmq_strerror(zmq_errno()));
        return 1;
    }
    ekv_msg_t hello = {.type = EKV_MSG_HELLO, .req_id = 5};
    hello.text = bs("wire-inject");
    ekv_msg_t rd = read_msg(6, "wire-missing");
    ekv_msg_t hr = {.type = EKV_MSG_HELLO_REPLY, .req_id = 9, .time_us = now_us()};
    body_t read_body = encode(&rd);
    body_t hello_body = encode(&hello);

    int bad = 0;
    /* One frame each: every body must fail to decode. */
    struct {
        const char *what;
        body_t b;
    } single[] = {
        {"garbage", garbage(7, 64)},
        {"empty frame", copy("", 0)},
        {"wrong version", wrong_version(encode(&hello), 2)},
        {"version 0", wrong_version(encode(&rd), 0)},
        {"truncated HELLO", cut(encode(&hello), hello_body.n - 3)},
        {"truncated READ", cut(encode(&rd), read_body.n / 2)},
        {"huge length prefix", huge_prefix(EKV_MSG_READ)},
        {"trailing byte", with_trailing(encode(&rd))},
        {"unknown type", unknown_type()},
        {"wrong field type", wrong_field_type()},
    };
    for (size_t i = 0; i < sizeof single / sizeof *single; i++) {
        check_decode(single[i].what, single[i].b, 0);
        if (send_frames(d, &single[i].b, 1) != 0)
            return 1;
        bad++;
        free(single[i].b.p);
    }
    /* Well formed, but a coordinator -> node message: counted as unexpected. */
    body_t hrb = encode(&hr);
    check_decode("HELLO_REPLY", hrb, 1);
    send_frames(d, &hrb, 1);
    bad++;
    /* Too many frames around a valid READ (req_id 6): never answered. */
    body_t two[2] = {read_body, copy("x", 1)};
    send_frames(d, two, 2);
    bad++;
    body_t three[3] = {read_body, read_body, read_body};
    send_frames(d, three, 3);
    bad++;
    free(two[1].p);
    free(hrb.p);
    free(hello_body.p);

    /* The valid request: a READ of a missing key, req_id 42. */
    ekv_msg_t ok = read_msg(42, "wire-missing");
    body_t okb = encode(&ok);
    send_frames(d, &okb, 1);
    free(okb.p);
    free(read_body.p);
    printf("bad %d\n", bad);
    fflush(stdout);

    int rc = 1;
    ekv_msg_t m;
    int got = next_reply(d, mono_ms() + 5000, &m);
    if (got == 0) {
        fprintf(stderr, "wire_inject: no reply to the valid READ within 5 s\n");
    } else if (got < 0) {
        fprintf(stderr, "wire_inject: bad reply from the coordinator\n");
    } else if (m.type == EKV_MSG_READ_REPLY && m.req_id == 42) {
        printf("reply READ_REPLY req_id 42 status %d found %d\n", m.status,
               !!(m.flags & EKV_MSG_F_FOUND));
        rc = m.status == 200 && !(m.flags & EKV_MSG_F_FOUND) ? 0 : 1;
        ekv_msg_fini(&m);
    } else {
        fprintf(stderr, "wire_inject: coordinator answered a bad request: %s req_id %llu\n",
                ekv_msg_type_name(m.type), (unsigned long long)m.req_id);
        ekv_msg_fini(&m);
    }
    zmq_close(d);
    zmq_ctx_term(ctx);
    return rc;
}

/* Sends m and waits up to 5 s for the reply with its req_id into *r (ekv_msg_fini it). */
static int request(void *d, const ekv_msg_t *m, ekv_msg_t *r)
{
    body_t b = encode(m);
    int rc = send_frames(d, &b, 1);
    free(b.p);
    for (int64_t deadline = mono_ms() + 5000; rc == 0;) {
        int got = next_reply(d, deadline, r);
        if (got <= 0)
            break;
        if (r->req_id == m->req_id)
            return 0;
        ekv_msg_fini(r);
    }
    fprintf(stderr, "wire_inject: no reply to %s req_id %llu\n", ekv_msg_type_name(m->type),
            (unsigned long long)m->req_id);
    return -1;
}

static int run_flags(const char *ep)
{
    void *ctx = zmq_ctx_new();
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, rc = 1;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(d, ep);
    int64_t now_s = now_us() / 1000000;
    ekv_msg_t put = {.type = EKV_MSG_WRITE, .req_id = 1, .op = EKV_OP_PUT};
    put.ns = bs(EKV_KV_DEFAULT_NS);
    put.key = bs("wire-flagged");
    put.value = bs("v");
    put.expiration = now_s + 3600;
    ekv_msg_t del = {.type = EKV_MSG_WRITE, .req_id = 2, .op = EKV_OP_DELETE, .flags = 0xff};
    del.ns = put.ns;
    del.key = put.key;
    del.expiration = now_s + 7200;
    ekv_msg_t rd = read_msg(3, "wire-flagged"), r1, r2, r3;
    if (request(d, &put, &r1) == 0) {
        nanosleep(&(struct timespec){1, 100000000}, NULL);
        if (request(d, &del, &r2) == 0) {
            if (request(d, &rd, &r3) == 0) {
                printf("put %d delete %d read %d found %d\n", r1.status, r2.status, r3.status,
                       !!(r3.flags & EKV_MSG_F_FOUND));
                rc = r1.status == 200 && r2.status == 200 && r3.status == 200 &&
                             !(r3.flags & EKV_MSG_F_FOUND)
                         ? 0
                         : 1;
                ekv_msg_fini(&r3);
            }
            ekv_msg_fini(&r2);
        }
        ekv_msg_fini(&r1);
    }
    zmq_close(d);
    zmq_ctx_term(ctx);
    return rc;
}

static int run_oversized(const char *ep)
{
    void *ctx = zmq_ctx_new();
    void *big = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 2000, rc = 1;
    zmq_setsockopt(big, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(big, ep);
    body_t b = {calloc(1, EKV_MSG_MAX_BODY + 1), EKV_MSG_MAX_BODY + 1};
    if (!b.p || send_frames(big, &b, 1) != 0)
        fprintf(stderr, "wire_inject: cannot send the oversized frame\n");
    free(b.p);
    zmq_close(big); /* lingers until the frame is out (or the peer hung up) */
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    linger = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(d, ep);
    ekv_msg_t rd = read_msg(1, "wire-after-oversized"), r;
    if (request(d, &rd, &r) == 0) {
        printf("read %d\n", r.status);
        rc = r.status == 200 ? 0 : 1;
        ekv_msg_fini(&r);
    }
    zmq_close(d);
    zmq_ctx_term(ctx);
    return rc;
}

/* ---- fake coordinator -------------------------------------------------------------------- */

typedef struct {
    void *pub;    /* XPUB: sees the PoP's subscription */
    void *router; /* ROUTER: the PoP's DEALER */
    uint64_t seq; /* latest published seq */
} fake_t;

static void publish(fake_t *f, const char *topic, body_t b)
{
    body_t fr[2] = {{(char *)topic, strlen(topic)}, b};
    send_frames(f->pub, fr, 2);
}

static void heartbeat(fake_t *f)
{
    ekv_msg_t hb = {.type = EKV_MSG_HEARTBEAT, .seq = f->seq, .time_us = now_us()};
    body_t b = encode(&hb);
    publish(f, EKV_MSG_TOPIC_HEARTBEAT, b);
    free(b.p);
}

static ekv_msg_t change_msg(uint64_t seq, const char *key, const char *value)
{
    ekv_msg_t c = {.type = EKV_MSG_CHANGE, .seq = seq, .op = EKV_OP_PUT, .time_us = now_us()};
    c.ns = bs(EKV_KV_DEFAULT_NS);
    c.key = bs(key);
    c.value = bs(value);
    return c;
}

/* Bad messages on PUB; returns how many the PoP must count. */
static int inject_pub(fake_t *f)
{
    const char *ns = EKV_KV_DEFAULT_NS;
    ekv_msg_t bogus = change_msg(999, "bogus", "bogus"); /* must never be applied */
    ekv_msg_t hb = {.type = EKV_MSG_HEARTBEAT, .seq = 999, .time_us = now_us()};
    body_t chg = encode(&bogus);
    int n = 0;
    struct {
        const char *what;
        const char *topic;
        body_t b;
    } bad[] = {
        {"garbage", ns, garbage(11, 80)},
        {"garbage on !hb", EKV_MSG_TOPIC_HEARTBEAT, garbage(13, 20)},
        {"garbage, invalid topic", "not-a-topic\xff", garbage(17, 33)},
        {"empty body", ns, copy("", 0)},
        {"empty body, empty topic", "", copy("", 0)},
        {"wrong version CHANGE", ns, wrong_version(encode(&bogus), 2)},
        {"wrong version HEARTBEAT", EKV_MSG_TOPIC_HEARTBEAT, wrong_version(encode(&hb), 7)},
        {"truncated CHANGE", ns, cut(encode(&bogus), chg.n - 1)},
        {"truncated HEARTBEAT", EKV_MSG_TOPIC_HEARTBEAT, cut(encode(&hb), 3)},
        {"huge length prefix", ns, huge_prefix(EKV_MSG_CHANGE)},
        {"trailing byte CHANGE", ns, with_trailing(encode(&bogus))},
        {"unknown type", "zz", unknown_type()},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        check_decode(bad[i].what, bad[i].b, 0);
        publish(f, bad[i].topic, bad[i].b);
        free(bad[i].b.p);
        n++;
    }
    /* Well formed but not for a subscriber: a HELLO (a node's request). */
    ekv_msg_t hello = {.type = EKV_MSG_HELLO, .req_id = 77};
    hello.text = bs("intruder");
    body_t hb2 = encode(&hello);
    publish(f, ns, hb2);
    free(hb2.p);
    n++;
    /* A body without its topic frame (one frame), and a CHANGE with a frame too many. */
    send_frames(f->pub, &chg, 1);
    n++;
    body_t three[3] = {{(char *)ns, strlen(ns)}, chg, {"x", 1}};
    send_frames(f->pub, three, 3);
    n++;
    free(chg.p);
    return n;
}

/* Bad replies to the PoP's DEALER; returns how many it must count. *ignored: well-formed
 * replies to no pending request, which are dropped uncounted. */
static int inject_dealer(fake_t *f, const body_t *id, int *ignored)
{
    ekv_msg_t hr = {.type = EKV_MSG_HELLO_REPLY, .req_id = 1, .time_us = now_us()};
    ekv_msg_t rr = {.type = EKV_MSG_READ_REPLY, .req_id = 0xdead, .status = 200};
    rr.value = bs("bogus");
    body_t hrb = encode(&hr);
    int n = 0;
    struct {
        const char *what;
        body_t b;
    } bad[] = {
        {"garbage", garbage(19, 50)},
        {"empty frame", copy("", 0)},
        {"wrong version HELLO_REPLY", wrong_version(encode(&hr), 3)},
        {"truncated HELLO_REPLY", cut(encode(&hr), hrb.n - 2)},
        {"truncated READ_REPLY", cut(encode(&rr), 5)},
        {"huge length prefix", huge_prefix(EKV_MSG_READ_REPLY)},
        {"trailing byte", with_trailing(encode(&rr))},
        {"unknown type", unknown_type()},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        check_decode(bad[i].what, bad[i].b, 0);
        body_t fr[2] = {*id, bad[i].b};
        send_frames(f->router, fr, 2);
        free(bad[i].b.p);
        n++;
    }
    /* Well formed, but a request (WRITE) is not something a PoP is sent: unexpected. */
    ekv_msg_t w = {.type = EKV_MSG_WRITE, .req_id = 3, .op = EKV_OP_PUT};
    w.ns = bs(EKV_KV_DEFAULT_NS);
    w.key = bs("bogus");
    w.value = bs("bogus");
    body_t wb = encode(&w);
    body_t fr[2] = {*id, wb};
    send_frames(f->router, fr, 2);
    n++;
    /* A valid reply with a frame too many. */
    body_t fr3[3] = {*id, hrb, {"x", 1}};
    send_frames(f->router, fr3, 3);
    n++;
    /* A well-formed READ_REPLY to no pending request: indistinguishable from a late reply. */
    body_t rrb = encode(&rr);
    body_t fr2[2] = {*id, rrb};
    send_frames(f->router, fr2, 2);
    *ignored = 1;
    free(rrb.p);
    free(wb.p);
    free(hrb.p);
    return n;
}

static int bind_print(void *sock, const char *ep, const char *name)
{
    if (zmq_bind(sock, ep) != 0) {
        fprintf(stderr, "wire_inject: bind %s: %s\n", ep, zmq_strerror(zmq_errno()));
        return -1;
    }
    char last[256];
    size_t len = sizeof last;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, last, &len);
    printf("%s %s\n", name, last);
    fflush(stdout);
    return 0;
}

static int run_fake(const char *pub_ep, const char *router_ep)
{
    void *ctx = zmq_ctx_new();
    fake_t f = {zmq_socket(ctx, ZMQ_XPUB), zmq_socket(ctx, ZMQ_ROUTER), 0};
    int zero = 0;
    zmq_setsockopt(f.pub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(f.router, ZMQ_LINGER, &zero, sizeof zero);
    if (bind_print(f.pub, pub_ep, "pub") != 0 || bind_print(f.router, router_ep, "router") != 0)
        return 1;

    body_t id = {NULL, 0};
    int subscribed = 0, greeted = 0, injected = 0;
    int64_t both_at = 0, next_hb = 0;
    while (!stop) {
        zmq_pollitem_t it[2] = {{f.pub, 0, ZMQ_POLLIN, 0}, {f.router, 0, ZMQ_POLLIN, 0}};
        zmq_poll(it, 2, 20);
        if (it[0].revents & ZMQ_POLLIN) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, f.pub, ZMQ_DONTWAIT) >= 0 && zmq_msg_size(&m) > 0 &&
                ((char *)zmq_msg_data(&m))[0] == 1)
                subscribed = 1;
            zmq_msg_close(&m);
        }
        if (it[1].revents & ZMQ_POLLIN) {
            zmq_msg_t parts[2];
            int n = 0, more = 1;
            while (more) {
                zmq_msg_t tmp, *m = n < 2 ? &parts[n] : &tmp;
                zmq_msg_init(m);
                if (zmq_msg_recv(m, f.router, 0) < 0)
                    break;
                more = zmq_msg_more(m);
                if (m == &tmp)
                    zmq_msg_close(m);
                else
                    n++;
            }
            ekv_msg_t req;
            if (n == 2 &&
                ekv_msg_decode(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), &req) == EKV_OK) {
                if (req.type == EKV_MSG_HELLO) {
                    free(id.p);
                    id = copy(zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]));
                    ekv_msg_t r = {.type = EKV_MSG_HELLO_REPLY,
                                   .req_id = req.req_id,
                                   .seq = f.seq,
                                   .time_us = now_us()};
                    body_t b = encode(&r);
                    body_t fr[2] = {id, b};
                    send_frames(f.router, fr, 2);
                    free(b.p);
                    greeted = 1;
                    fprintf(stderr, "wire_inject: HELLO from %s answered\n", req.text.ptr);
                } else if (req.type == EKV_MSG_TIME) { /* the clock's round trip, as coord.c */
                    ekv_msg_t r = {
                        .type = EKV_MSG_TIME_REPLY, .req_id = req.req_id, .time_us = now_us()};
                    body_t b = encode(&r);
                    body_t fr[2] = {copy(zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0])), b};
                    send_frames(f.router, fr, 2);
                    free(fr[0].p);
                    free(b.p);
                } else {
                    fprintf(stderr, "wire_inject: ignoring %s from the PoP\n",
                            ekv_msg_type_name(req.type));
                }
                ekv_msg_fini(&req);
            }
            for (int i = 0; i < n; i++)
                zmq_msg_close(&parts[i]);
        }
        int64_t now = mono_ms();
        if (now >= next_hb) {
            heartbeat(&f);
            next_hb = now + 100;
        }
        if (subscribed && greeted && !both_at)
            both_at = now;
        /* Some heartbeats after both, so the PoP is ready (and past its slow-joiner window). */
        if (both_at && !injected && now >= both_at + 500) {
            int ignored = 0;
            int n = inject_pub(&f) + inject_dealer(&f, &id, &ignored);
            ekv_msg_t c = change_msg(1, WIRE_KEY, WIRE_VALUE);
            body_t b = encode(&c);
            publish(&f, EKV_KV_DEFAULT_NS, b);
            free(b.p);
            f.seq = 1;
            heartbeat(&f);
            injected = 1;
            printf("expect_malformed %d\nsent_ignored %d\nchange_seq 1\n", n, ignored);
            fflush(stdout);
        }
    }
    free(id.p);
    zmq_close(f.pub);
    zmq_close(f.router);
    zmq_ctx_term(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (argc == 3 && strcmp(argv[1], "router") == 0)
        return run_router(argv[2]);
    if (argc == 3 && strcmp(argv[1], "flags") == 0)
        return run_flags(argv[2]);
    if (argc == 3 && strcmp(argv[1], "oversized") == 0)
        return run_oversized(argv[2]);
    if (argc == 4 && strcmp(argv[1], "fake-coordinator") == 0)
        return run_fake(argv[2], argv[3]);
    fprintf(stderr, "usage: wire_inject router ENDPOINT\n"
                    "       wire_inject flags ENDPOINT\n"
                    "       wire_inject oversized ENDPOINT\n"
                    "       wire_inject fake-coordinator PUB_ENDPOINT ROUTER_ENDPOINT\n");
    return 2;
}
