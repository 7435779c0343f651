/* tier: the regional tier role of a node (KV-SPEC 5.1; node_int.h).
 *
 * A tier is a node like a PoP, with its cache, its links to the coordinator and its replica
 * tracker; what it adds is a ROUTER bound at cfg.serve_endpoint where the PoPs that read
 * through it send their origin READs. Each READ is answered with node_read(ns, key,
 * tier_cache_ttl): a fresh copy at once, else one fetch from the coordinator that concurrent
 * misses of the key join, and the copy (found or not) is cached for the tier's cacheTtl. The
 * reply is the READ_REPLY the coordinator would send, and a 200 carries in its text how the
 * tier served it ("HIT", "MISS", "EXPIRED", "STALE"), so PoPs can count tier hits.
 *
 * The PoP <-> tier delay is paid on the PoP's side (its tier links); the tier answers at once.
 * Anything else than a READ on the ROUTER is dropped and counted as malformed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_sec.h"
#include "node_int.h"

/* Who asked: the PoP's routing identity and its request id. */
typedef struct {
    uint64_t req_id;
    size_t id_len;
    char id[];
} tier_ask_t;

static void tier_reply(ekv_node_t *n, void *ctx, const node_result_t *r)
{
    tier_ask_t *a = ctx;
    ekv_msg_t m = {.type = EKV_MSG_READ_REPLY, .req_id = a->req_id, .status = r->status};
    const char *text = r->status == 200 ? r->cache_status : r->message;
    if (r->status == 200) {
        const ekv_cache_item_t *it = r->item;
        m.seq = it->seq;
        m.time_us = it->commit_us;
        m.expiration = it->expiration;
        if (!it->negative) {
            m.flags = EKV_MSG_F_FOUND | (it->has_meta ? EKV_MSG_F_METADATA : 0);
            m.meta = it->meta;
            m.value = it->value;
        }
    }
    m.text = (ekv_bytes_t){text ? text : "", text ? strlen(text) : 0};
    char *body;
    size_t len;
    if (n->router && ekv_msg_encode(&m, &body, &len) == EKV_OK) {
        const void *frames[2] = {a->id, body};
        size_t lens[2] = {a->id_len, len};
        if (ekv_zev_send(n->router, frames, lens, 2) != EKV_OK)
            ekv_warn("reply to a PoP dropped (queue full)");
        free(body);
        ekv_zev_kick(n->router_zev);
    }
    free(a);
}

static void on_router(void *sock, void *arg)
{
    ekv_node_t *n = arg;
    zmq_msg_t parts[2];
    int nparts = 2, rc = ekv_zev_recv_routed(sock, parts);
    if (rc == EKV_EAGAIN || rc == EKV_EIO)
        return;
    if (rc == EKV_EMALFORMED)
        nparts = 0; /* closed already */
    ekv_msg_t m;
    if (rc == EKV_OK)
        rc = ekv_msg_decode(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), &m);
    if (rc == EKV_OK && m.type != EKV_MSG_READ) {
        ekv_msg_fini(&m);
        rc = EKV_EMALFORMED;
    }
    if (rc == EKV_OK) {
        n->st.tier_requests++;
        size_t id_len = zmq_msg_size(&parts[0]);
        tier_ask_t *a = ekv_malloc(sizeof *a + id_len);
        a->req_id = m.req_id;
        a->id_len = id_len;
        memcpy(a->id, zmq_msg_data(&parts[0]), id_len);
        node_read(n, m.ns, m.key, n->cfg.tier_cache_ttl, tier_reply, a);
        ekv_msg_fini(&m);
    } else {
        n->st.malformed++;
        ekv_warn("dropped a request that is no READ: %s", ekv_strerror(rc));
    }
    for (int i = 0; i < nparts; i++)
        zmq_msg_close(&parts[i]);
}

int node_tier_open(ekv_node_t *n, char *errbuf, size_t errlen)
{
    n->router = zmq_socket(n->zctx, ZMQ_ROUTER);
    int linger = 0, hwm = 100000;
    zmq_setsockopt(n->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(n->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(n->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    /* As the coordinator's ROUTER: CURVE with server keys, the ZAP handler bound first. */
    if (n->cfg.sec && n->cfg.sec->server) {
        n->zap = ekv_zap_start(n->zctx, n->base, n->cfg.sec, errbuf, errlen);
        if (!n->zap)
            return EKV_EIO;
        if (ekv_sec_server(n->router, n->cfg.sec) != EKV_OK) {
            snprintf(errbuf, errlen, "cannot make the tier's ROUTER a CURVE server: %s",
                     zmq_strerror(zmq_errno()));
            return EKV_EIO;
        }
    }
    if (zmq_bind(n->router, n->cfg.serve_endpoint) != 0) {
        snprintf(errbuf, errlen, "cannot bind %s: %s", n->cfg.serve_endpoint,
                 zmq_strerror(zmq_errno()));
        return EKV_EIO;
    }
    size_t len = sizeof n->serve_bound;
    if (zmq_getsockopt(n->router, ZMQ_LAST_ENDPOINT, n->serve_bound, &len) != 0)
        snprintf(n->serve_bound, sizeof n->serve_bound, "%s", n->cfg.serve_endpoint);
    n->router_zev = ekv_zev_new(n->base, n->router, 256, on_router, n);
    if (!n->router_zev) {
        snprintf(errbuf, errlen, "cannot watch the tier's ROUTER");
        return EKV_EIO;
    }
    ekv_info("tier: serving PoPs' reads at %s, cacheTtl %lld s%s", n->serve_bound,
             (long long)n->cfg.tier_cache_ttl, n->cfg.purge_on_write ? ", purge on write" : "");
    return EKV_OK;
}

void node_tier_close(ekv_node_t *n)
{
    ekv_zev_destroy(&n->router_zev);
    ekv_zap_destroy(&n->zap);
    if (n->router)
        zmq_close(n->router);
    n->router = NULL;
}
