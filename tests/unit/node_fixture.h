/* node_fixture: what the node core's unit tests (node_core_test.c, tier_core_test.c) share: a
 * real node whose coordinator is the test. Its HTTP server and sockets exist, but its
 * endpoints lead nowhere; the test hands the core the coordinator's messages (node_deliver)
 * with the request ids the core gave out. Header-only and static inline, so a program that
 * uses a few of them has no unused-function warnings. */
#ifndef EKV_NODE_FIXTURE_H
#define EKV_NODE_FIXTURE_H

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "ekv_test.h"
#include "ekv_time.h"
#include "node_int.h"

#define NS  "0123456789abcdef0123456789abcdef"
#define EPO 0x5eedull /* the coordinator's epoch */

static inline ekv_bytes_t B(const char *s)
{
    return (ekv_bytes_t){s, strlen(s)};
}

typedef struct {
    struct event_base *base;
    ekv_node_t *n;
} fix_t;

/* The configuration of a node named name, under policy, whose coordinator is the test. */
static inline void fix_config(ekv_node_config_t *cfg, const char *name, ekv_policy_t policy,
                              int origin_timeout_ms)
{
    ekv_node_config_defaults(cfg);
    cfg->name = name;
    cfg->pub_endpoint = "tcp://127.0.0.1:1"; /* nobody: the test is the coordinator */
    cfg->router_endpoint = "tcp://127.0.0.1:1";
    cfg->policy = policy;
    cfg->origin_timeout_ms = origin_timeout_ms;
}

/* Builds the node of cfg on a base of its own, and says hello to it and heartbeats it at tip
 * seq 10, so that it counts the coordinator up. */
static inline void fix_start(fix_t *f, const ekv_node_config_t *cfg)
{
    f->base = event_base_new();
    char err[256] = "";
    f->n = ekv_node_new(f->base, cfg, err, sizeof err);
    if (!f->n)
        fprintf(stderr, "node: %s\n", err);
    CHECK(f->n != NULL);
    ekv_msg_t hello = {.type = EKV_MSG_HELLO_REPLY,
                       .req_id = 1, /* the core's first request is its hello */
                       .seq = 10,
                       .time_us = ekv_now_us(),
                       .epoch = EPO};
    node_deliver(f->n, &hello, ekv_now_us());
    ekv_msg_t hb = {.type = EKV_MSG_HEARTBEAT, .seq = 10, .time_us = ekv_now_us(), .epoch = EPO};
    node_deliver(f->n, &hb, ekv_now_us());
    CHECK(node_coordinator_up(f->n));
}

static inline void fix_close(fix_t *f)
{
    ekv_node_destroy(&f->n);
    event_base_free(f->base);
}

/* The coordinator's answer to the core's READ req_id: version seq of value (NULL: not found),
 * with text (NULL: none; a tier says HIT or MISS there). */
static inline void origin_reply(fix_t *f, uint64_t req_id, uint64_t seq, const char *value,
                                const char *text)
{
    ekv_msg_t r = {.type = EKV_MSG_READ_REPLY, .req_id = req_id, .status = 200, .seq = seq};
    if (value) {
        r.flags = EKV_MSG_F_FOUND;
        r.value = B(value);
    }
    if (text)
        r.text = B(text);
    node_deliver(f->n, &r, ekv_now_us());
}

/* The CHANGE of version seq putting value under key (NULL: deleting it), committed now. */
static inline void deliver_change(fix_t *f, uint64_t seq, const char *key, const char *value)
{
    ekv_msg_t c = {.type = EKV_MSG_CHANGE,
                   .seq = seq,
                   .time_us = ekv_now_us(),
                   .op = value ? EKV_OP_PUT : EKV_OP_DELETE,
                   .ns = B(NS),
                   .key = B(key)};
    if (value)
        c.value = B(value);
    node_deliver(f->n, &c, ekv_now_us());
}

#endif
