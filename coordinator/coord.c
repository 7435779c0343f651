/* coord: the loop, group commit, fan-out, node requests and housekeeping (see coord.h);
 * the namespaces are in coord_ns.c. */
#include "coord_int.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ekv_cpu.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_sec.h"
#include "ekv_time.h"
#include "ekv_zev.h"
#include "committer.h"

#define CATCHUP_MAX_BYTES  (8u * 1024 * 1024)
#define SWEEP_BATCH        1000
#define HELLO_HEARTBEAT_US 20000 /* a heartbeat this soon after a hello */
/* Catch-up replies are paced (cfg.catchup_bytes_per_s, with a burst of as much), so that
 * many PoPs catching up at once get "busy" and ask again instead of making the coordinator
 * queue gigabytes for them. */

/* A node's WRITE waiting for its group. */
typedef struct {
    commit_t cm;
    zmq_msg_t peer; /* ROUTER identity */
    ekv_msg_t msg;  /* the decoded request (owns its bytes) */
} router_write_t;

/* ---- group commit ------------------------------------------------------------------------ */

static void start_group(ekv_coord_t *c);
static void start_now(ekv_coord_t *c);

static size_t unit_bytes(const commit_t *cm)
{
    size_t b = 0;
    for (size_t i = 0; i < cm->n; i++)
        b += cm->changes[i].key.len + cm->changes[i].meta.len + cm->changes[i].value.len;
    return b;
}

int coord_busy(const ekv_coord_t *c)
{
    return c->queued >= c->cfg.max_queued || c->queued_bytes >= COORD_MAX_QUEUED_BYTES;
}

void coord_submit(ekv_coord_t *c, commit_t *cm)
{
    cm->next = NULL;
    c->queued_bytes += unit_bytes(cm);
    if (c->queue_tail)
        c->queue_tail->next = cm;
    else
        c->queue_head = cm;
    c->queue_tail = cm;
    c->queued += cm->n;
    if (!ekv_fine_timer_pending(c->linger) || c->queued >= c->last_group)
        event_active(c->flush_ev, EV_TIMEOUT, 0);
}

/* The linger is over: whatever has gathered goes, however little. */
static void on_linger(void *arg)
{
    ekv_coord_t *c = arg;
    if (c->queue_head && !ekv_committer_busy(c->committer))
        start_now(c);
}

int coord_rate_allow(ekv_coord_t *c, ekv_bytes_t ns, ekv_bytes_t key)
{
    return ekv_ratelimit_allow(c->rate, ns, key, ekv_mono_us());
}

/* On the commit thread the moment a group is durable: stamp each change with that moment and
 * publish it, so the fan-out starts without waiting for the loop to wake up. */
static void publish_group(void *arg, const ekv_msg_t *all, size_t n, char **bodies,
                          const size_t *lens, int64_t commit_us)
{
    ekv_coord_t *c = arg;
    pthread_mutex_lock(&c->pub_mu);
    for (size_t i = 0; i < n; i++) {
        if (!bodies[i])
            continue; /* a sweeper's delete that a newer write overtook */
        ekv_msg_set_commit_time(bodies[i], lens[i], commit_us);
        const void *frames[2] = {all[i].ns.ptr, bodies[i]};
        size_t flens[2] = {all[i].ns.len, lens[i]};
        if (ekv_zev_send(c->pub, frames, flens, 2) == EKV_OK)
            c->st.published++, c->st.published_bytes += flens[0] + flens[1];
        c->published_seq = all[i].seq; /* offered to PUB (dropped at its HWM or not) */
    }
    pthread_mutex_unlock(&c->pub_mu);
}

uint64_t coord_published(ekv_coord_t *c, uint64_t *changes, uint64_t *bytes)
{
    pthread_mutex_lock(&c->pub_mu);
    uint64_t seq = c->published_seq;
    if (changes)
        *changes = c->st.published;
    if (bytes)
        *bytes = c->st.published_bytes;
    pthread_mutex_unlock(&c->pub_mu);
    return seq;
}

/* Hands every queued unit (up to max_batch drafts, whole units) to the committer. */
static void start_now(ekv_coord_t *c)
{
    ekv_fine_timer_cancel(c->linger);
    c->group_started_us = ekv_mono_us();
    commit_t *last = c->queue_head;
    size_t n = last->n;
    while (last->next && n + last->next->n <= (size_t)c->cfg.max_batch) {
        last = last->next;
        n += last->n;
    }
    c->inflight = c->queue_head;
    c->queue_head = last->next;
    last->next = NULL;
    if (!c->queue_head)
        c->queue_tail = NULL;
    c->queued -= n;
    for (commit_t *cm = c->inflight; cm; cm = cm->next)
        c->queued_bytes -= unit_bytes(cm);
    ekv_msg_t *all = ekv_calloc(n ? n : 1, sizeof *all);
    size_t i = 0;
    for (commit_t *cm = c->inflight; cm; cm = cm->next)
        for (size_t j = 0; j < cm->n; j++)
            all[i++] = cm->changes[j]; /* shallow: bytes stay with the submitters */
    ekv_committer_start(c->committer, all, n);
}

static void start_group(ekv_coord_t *c)
{
    if (!c->queue_head || ekv_committer_busy(c->committer))
        return;
    /* Lingering: see ekv_commit_linger_us (committer.h). */
    int64_t wait =
        ekv_commit_linger_us(c->queued, c->last_group, (size_t)c->cfg.max_batch, c->last_commit_us);
    if (wait && ekv_fine_timer_pending(c->linger))
        return; /* the linger timer ends the wait */
    if (wait) {
        if (ekv_fine_timer_set(c->linger, wait) == EKV_OK)
            return;
        ekv_warn("linger timer: %s; committing at once", strerror(errno));
    }
    start_now(c);
}

/* On the loop thread once the group is durable and published: complete each unit. */
static void group_done(void *arg, ekv_msg_t *all, size_t n, char **bodies, size_t *lens, int rc,
                       int64_t commit_us)
{
    (void)lens;
    ekv_coord_t *c = arg;
    commit_t *cm = c->inflight;
    c->inflight = NULL;
    c->last_group = n >= 2 ? n + c->queued : 0; /* writers seen: this group and the next */
    c->last_commit_us = ekv_mono_us() - c->group_started_us;
    ekv_debug("group of %zu committed in %lld us, done %lld us after its fsync, %zu queued", n,
              (long long)c->last_commit_us, (long long)(ekv_now_us() - commit_us), c->queued);
    size_t i = 0;
    for (commit_t *next; cm; cm = next) {
        next = cm->next;
        for (size_t j = 0; j < cm->n && rc == EKV_OK; j++, i++) {
            cm->changes[j].seq = all[i].seq;
            if (bodies[i])
                cm->changes[j].time_us = commit_us;
            free(bodies[i]);
        }
        cm->done(c, cm, rc);
    }
    c->st.commits += rc == EKV_OK;
    free(all);
    free(bodies);
    free(lens);
    ekv_zev_kick(c->router_zev);
    start_group(c); /* what arrived meanwhile is the next group */
}

/* Commits everything queued before returning (at shutdown). */
static void flush_sync(ekv_coord_t *c)
{
    while (c->queue_head || ekv_committer_busy(c->committer)) {
        c->last_group = 0; /* no lingering here */
        start_group(c);
        ekv_committer_wait(c->committer);
    }
}

/* ---- node requests ----------------------------------------------------------------------- */

static void send_to(ekv_coord_t *c, zmq_msg_t *peer, const ekv_msg_t *reply)
{
    char *body;
    size_t len;
    if (ekv_msg_encode(reply, &body, &len) != EKV_OK) {
        ekv_error("cannot encode %s", ekv_msg_type_name(reply->type));
        return;
    }
    const void *frames[2] = {zmq_msg_data(peer), body};
    size_t lens[2] = {zmq_msg_size(peer), len};
    if (ekv_zev_send(c->router, frames, lens, 2) != EKV_OK)
        ekv_warn("reply %s dropped (peer gone or full)", ekv_msg_type_name(reply->type));
    free(body);
}

static void reply_write(ekv_coord_t *c, zmq_msg_t *peer, uint64_t req_id, int status,
                        const char *text, uint64_t seq, int64_t commit_us)
{
    ekv_msg_t r = {.type = EKV_MSG_WRITE_REPLY,
                   .req_id = req_id,
                   .status = status,
                   .seq = seq,
                   .time_us = commit_us};
    r.text.ptr = text ? text : "";
    r.text.len = strlen(r.text.ptr);
    send_to(c, peer, &r);
    if (status != 200 && status < 600)
        c->st.errors[status]++;
}

static void router_write_done(ekv_coord_t *c, commit_t *cm, int rc)
{
    router_write_t *w = cm->arg;
    if (rc == EKV_OK)
        reply_write(c, &w->peer, w->msg.req_id, 200, NULL, w->msg.seq, w->msg.time_us);
    else
        reply_write(c, &w->peer, w->msg.req_id, 503, "Storage unavailable", 0, 0);
    zmq_msg_close(&w->peer);
    ekv_msg_fini(&w->msg);
    free(w);
}

/* Validates a WRITE from a node with the shared KV rules; fills err when refused. */
static int validate_write(ekv_coord_t *c, const ekv_msg_t *w, ekv_kv_error_t *err)
{
    if (w->op != EKV_OP_PUT && w->op != EKV_OP_DELETE) {
        ekv_kv_err_set(err, 400, "Invalid operation");
        return EKV_EINVAL;
    }
    if (!coord_ns_find(c, w->ns.ptr, w->ns.len)) {
        ekv_kv_err_set(err, 404, "namespace not found");
        err->code = EKV_REST_NS_NOT_FOUND;
        return EKV_EINVAL;
    }
    if (ekv_kv_check_key(w->key.ptr, w->key.len, err) != EKV_OK)
        return EKV_EINVAL;
    if (w->op == EKV_OP_PUT) {
        if (ekv_kv_check_value(w->value.len, err) != EKV_OK)
            return EKV_EINVAL;
        if ((w->flags & EKV_MSG_F_METADATA) &&
            ekv_kv_check_metadata(w->meta.ptr, w->meta.len, err) != EKV_OK)
            return EKV_EINVAL;
        if (!ekv_store_live(w->expiration, coord_now_s(c))) {
            ekv_kv_err_set(err, 400,
                           "Invalid expiration of %lld. Please specify integer "
                           "greater than the current number of seconds since the "
                           "UNIX epoch.",
                           (long long)w->expiration);
            return EKV_EINVAL;
        }
    }
    if (!coord_rate_allow(c, w->ns, w->key)) {
        ekv_kv_err_rate_limited(err);
        return EKV_EINVAL;
    }
    return EKV_OK;
}

static void handle_write(ekv_coord_t *c, zmq_msg_t *peer, ekv_msg_t *m)
{
    ekv_kv_error_t err;
    if (coord_busy(c)) {
        c->st.busy++;
        reply_write(c, peer, m->req_id, 503, COORD_BUSY_MESSAGE, 0, 0);
        return;
    }
    if (validate_write(c, m, &err) != EKV_OK) {
        reply_write(c, peer, m->req_id, err.status, err.message, 0, 0);
        return;
    }
    /* A node's put carries no flag but metadata; its delete none and no expiration, so it is
     * unconditional and drops no expiry-index entry. */
    m->flags &= m->op == EKV_OP_PUT ? EKV_MSG_F_METADATA : 0;
    if (m->op == EKV_OP_DELETE)
        m->expiration = 0;
    m->op == EKV_OP_PUT ? c->st.writes++ : c->st.deletes++;
    c->st.bytes_in += m->value.len;
    router_write_t *w = ekv_calloc(1, sizeof *w);
    zmq_msg_init(&w->peer);
    zmq_msg_move(&w->peer, peer);
    w->msg = *m;
    memset(m, 0, sizeof *m);
    w->cm = (commit_t){&w->msg, 1, router_write_done, w, NULL};
    coord_submit(c, &w->cm);
}

int64_t coord_now_s(const ekv_coord_t *c)
{
    (void)c;
    return ekv_now_us() / 1000000;
}

int64_t coord_expiration(const ekv_coord_t *c, int64_t expiration)
{
    return ekv_kv_scale_expiration(expiration, coord_now_s(c), c->cfg.time_scale);
}

int coord_read(ekv_coord_t *c, ekv_bytes_t ns, ekv_bytes_t key, ekv_msg_t *m, uint64_t *as_of)
{
    uint64_t seq;
    int rc = ekv_store_get_at(c->store, ns, key, m, as_of ? as_of : &seq);
    c->st.reads++;
    if (rc == EKV_OK && !ekv_store_live(m->expiration, coord_now_s(c))) {
        ekv_msg_fini(m);
        rc = EKV_ENOTFOUND;
    }
    return rc;
}

/* Reads see what is durable: a write is readable once its group is committed. */
static void answer_read(ekv_coord_t *c, zmq_msg_t *peer, const ekv_msg_t *q)
{
    /* The sequence first, then the key: a "not found" carries a version no newer than what
     * the read saw, so it can never outrank a put committed in between. */
    ekv_msg_t r = {.type = EKV_MSG_READ_REPLY, .req_id = q->req_id, .status = 200};
    ekv_msg_t cur;
    int rc = coord_read(c, q->ns, q->key, &cur, &r.seq);
    if (rc == EKV_OK) {
        r.flags = EKV_MSG_F_FOUND | (cur.flags & EKV_MSG_F_METADATA);
        r.seq = cur.seq;
        r.time_us = cur.time_us;
        r.expiration = cur.expiration;
        r.meta = cur.meta;
        r.value = cur.value;
        c->st.bytes_out += cur.value.len;
    } else if (rc != EKV_OK && rc != EKV_ENOTFOUND) {
        r.status = 503;
        r.text.ptr = "Storage unavailable";
        r.text.len = strlen(r.text.ptr);
    }
    send_to(c, peer, &r);
    if (rc == EKV_OK)
        ekv_msg_fini(&cur);
}

/* Sends a page of encoded records as a CATCHUP_REPLY or LIST_REPLY. */
static void send_page(ekv_coord_t *c, zmq_msg_t *peer, int type, uint64_t req_id, uint8_t flags,
                      const ekv_page_t *page)
{
    char *out;
    size_t len;
    ekv_bytes_t cursor = {page->cursor ? page->cursor : "", page->cursor_len};
    /* The sequence read before the page's scan, never after it: a snapshot's base must not
     * cover a change the scan missed (the node resumes the log after it). */
    uint64_t seq = page->seq ? page->seq : ekv_store_last_seq(c->store);
    int rc = type == EKV_MSG_LIST_REPLY
                 ? ekv_msg_encode_list_reply_raw(req_id, seq, flags, cursor, page->items, page->n,
                                                 &out, &len)
                 : ekv_msg_encode_catchup_raw(req_id, seq, flags, cursor, page->items, page->n,
                                              &out, &len);
    if (rc != EKV_OK)
        return;
    const void *frames[2] = {zmq_msg_data(peer), out};
    size_t lens[2] = {zmq_msg_size(peer), len};
    ekv_zev_send(c->router, frames, lens, 2);
    free(out);
}

/* 1 when a catch-up reply may be sent now (the pacing bucket has bytes left). */
static int catchup_allowed(ekv_coord_t *c)
{
    int64_t now = ekv_mono_us();
    int64_t rate = c->cfg.catchup_bytes_per_s;
    int64_t add = (int64_t)((double)(now - c->catchup_refill_us) * (double)rate / 1e6);
    if (add > 0) {
        c->catchup_tokens += add;
        if (c->catchup_tokens > rate)
            c->catchup_tokens = rate;
        c->catchup_refill_us = now;
    }
    return c->catchup_tokens > 0;
}

static size_t page_bytes(const ekv_page_t *p)
{
    size_t b = 0;
    for (size_t i = 0; i < p->n; i++)
        b += p->items[i].len;
    return b;
}

/* Streams the change log after m->seq; a node older than the log (or continuing a snapshot)
 * gets a snapshot page instead, flagged EKV_MSG_F_SNAPSHOT, with the cursor of the next. */
static void handle_catchup(ekv_coord_t *c, zmq_msg_t *peer, const ekv_msg_t *m)
{
    ekv_page_t page;
    if (!catchup_allowed(c)) {
        c->st.busy++;
        ekv_page_t none = {0};
        send_page(c, peer, EKV_MSG_CATCHUP_REPLY, m->req_id, EKV_MSG_F_BUSY, &none);
        return;
    }
    uint64_t first = ekv_store_log_first(c->store);
    /* A node with nothing (seq 0) wants the current state, not the whole history. */
    int snapshot = m->key.len > 0 || (first > 0 && (m->seq == 0 || m->seq + 1 < first));
    c->st.catchups++;
    if (snapshot) {
        c->st.snapshots++;
        ekv_store_snapshot_read(c->store, m->key, EKV_MSG_MAX_CHANGES, CATCHUP_MAX_BYTES, &page);
        send_page(c, peer, EKV_MSG_CATCHUP_REPLY, m->req_id,
                  EKV_MSG_F_SNAPSHOT | (page.more ? EKV_MSG_F_MORE : 0), &page);
    } else {
        ekv_store_log_read(c->store, m->seq, EKV_MSG_MAX_CHANGES, CATCHUP_MAX_BYTES, &page);
        free(page.cursor);
        page.cursor = NULL;
        page.cursor_len = 0;
        send_page(c, peer, EKV_MSG_CATCHUP_REPLY, m->req_id, page.more ? EKV_MSG_F_MORE : 0, &page);
    }
    c->catchup_tokens -= (int64_t)page_bytes(&page);
    ekv_page_fini(&page);
}

/* Lists keys for a PoP; the node validated limit, prefix and cursor with the shared rules,
 * so out-of-range input from a misbehaving peer is clamped rather than trusted. */
static void handle_list(ekv_coord_t *c, zmq_msg_t *peer, const ekv_msg_t *m)
{
    ekv_page_t page = {0};
    size_t limit = m->seq < 1 ? 1 : m->seq > EKV_KV_LIST_LIMIT ? EKV_KV_LIST_LIMIT : m->seq;
    if (coord_ns_find(c, m->ns.ptr, m->ns.len) && m->key.len <= EKV_KV_MAX_PREFIX)
        ekv_store_list(c->store, m->ns, m->key, m->text, limit, coord_now_s(c), &page);
    c->st.lists++;
    send_page(c, peer, EKV_MSG_LIST_REPLY, m->req_id, page.more ? EKV_MSG_F_MORE : 0, &page);
    ekv_page_fini(&page);
}

static void dispatch(ekv_coord_t *c, zmq_msg_t *peer, ekv_msg_t *m)
{
    if (m->type == EKV_MSG_TIME) {
        /* At once, before anything else: the time a PoP's clock is set by must not include
         * a wait of ours (the PoP's filter prefers short trips, but needs some). */
        ekv_msg_t r = {.type = EKV_MSG_TIME_REPLY, .req_id = m->req_id, .time_us = ekv_now_us()};
        send_to(c, peer, &r);
    } else if (m->type == EKV_MSG_WRITE) {
        handle_write(c, peer, m);
    } else if (m->type == EKV_MSG_READ) {
        answer_read(c, peer, m);
    } else if (m->type == EKV_MSG_HELLO) {
        ekv_info("hello from node %s (last seq %llu)", m->text.ptr, (unsigned long long)m->seq);
        ekv_msg_t r = {.type = EKV_MSG_HELLO_REPLY,
                       .req_id = m->req_id,
                       .seq = coord_published(c, NULL, NULL),
                       .time_us = ekv_now_us(),
                       .epoch = ekv_store_epoch(c->store)};
        send_to(c, peer, &r);
        /* A new PoP is ready once it has heard a heartbeat on its subscription: send one soon
         * rather than after a whole period (long with slow heartbeats); one for a burst. */
        if (!event_pending(c->hello_hb_ev, EV_TIMEOUT, NULL)) {
            struct timeval soon = {0, HELLO_HEARTBEAT_US};
            event_add(c->hello_hb_ev, &soon);
        }
    } else if (m->type == EKV_MSG_CATCHUP) {
        handle_catchup(c, peer, m);
    } else if (m->type == EKV_MSG_LIST) {
        handle_list(c, peer, m);
    } else {
        c->st.malformed++;
        ekv_warn("dropped an unexpected %s", ekv_msg_type_name(m->type));
    }
}

static void on_router(void *sock, void *arg)
{
    ekv_coord_t *c = arg;
    zmq_msg_t parts[2];
    int nparts = 2, rc = ekv_zev_recv_routed(sock, parts);
    if (rc == EKV_EAGAIN || rc == EKV_EIO)
        return;
    if (rc == EKV_EMALFORMED)
        nparts = 0; /* closed already */
    ekv_msg_t m;
    if (rc == EKV_OK)
        rc = ekv_msg_decode(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), &m);
    if (rc == EKV_OK) {
        dispatch(c, &parts[0], &m);
        ekv_msg_fini(&m);
    } else {
        c->st.malformed++;
        ekv_warn("dropped a malformed request: %s", ekv_strerror(rc));
    }
    for (int i = 0; i < nparts; i++)
        zmq_msg_close(&parts[i]);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_coord_t *c = arg;
    start_group(c);
}

/* ---- housekeeping ------------------------------------------------------------------------ */

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_coord_t *c = arg;
    char *body;
    size_t len;
    /* Under pub_mu from the sequence to the send: the heartbeat follows on PUB every change
     * it announces. */
    pthread_mutex_lock(&c->pub_mu);
    ekv_msg_t hb = {.type = EKV_MSG_HEARTBEAT,
                    .seq = c->published_seq,
                    .time_us = ekv_now_us(),
                    .epoch = ekv_store_epoch(c->store)};
    if (ekv_msg_encode(&hb, &body, &len) == EKV_OK) {
        const void *frames[2] = {EKV_MSG_TOPIC_HEARTBEAT, body};
        size_t lens[2] = {strlen(EKV_MSG_TOPIC_HEARTBEAT), len};
        ekv_zev_send(c->pub, frames, lens, 2);
        free(body);
    }
    pthread_mutex_unlock(&c->pub_mu);
}

typedef struct {
    commit_t cm;
    ekv_msg_t *heads; /* expired records, turned into delete drafts */
} sweep_t;

static void sweep_done(ekv_coord_t *c, commit_t *cm, int rc)
{
    sweep_t *s = cm->arg;
    for (size_t i = 0; i < cm->n; i++) {
        c->st.expired += rc == EKV_OK && s->heads[i].seq != 0;
        ekv_msg_fini(&s->heads[i]);
    }
    free(s->heads);
    free(s);
}

/* Deletes keys past their expiration, as published changes; the delete keeps the record's
 * expiration so the store drops its expiry-index entry in the same batch. */
static void sweep_expired(ekv_coord_t *c)
{
    sweep_t *s = ekv_calloc(1, sizeof *s);
    size_t n = 0;
    ekv_store_expired(c->store, coord_now_s(c), SWEEP_BATCH, &s->heads, &n);
    if (n == 0) {
        free(s->heads);
        free(s);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        s->heads[i].op = EKV_OP_DELETE;
        s->heads[i].flags = EKV_STORE_F_IF_EXPIRES; /* a put that commits first wins */
    }
    s->cm = (commit_t){s->heads, n, sweep_done, s, NULL};
    coord_submit(c, &s->cm);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_coord_t *c = arg;
    sweep_expired(c);
    uint64_t dropped;
    ekv_store_log_trim(c->store, c->cfg.log_keep, c->cfg.log_max_age_s * 1000000, ekv_now_us(),
                       &dropped);
    if (dropped)
        ekv_debug("trimmed %llu change-log entries", (unsigned long long)dropped);
    ekv_ratelimit_prune(c->rate, ekv_mono_us());
}

/* ---- lifecycle --------------------------------------------------------------------------- */

void ekv_coord_config_defaults(ekv_coord_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->pub_endpoint = "tcp://127.0.0.1:8781";
    cfg->router_endpoint = "tcp://127.0.0.1:8782";
    cfg->http_host = "127.0.0.1";
    cfg->http_port = 8780;
    cfg->durability = EKV_STORE_FSYNC;
    cfg->heartbeat_ms = 100;
    cfg->max_batch = 1024;
    cfg->pub_hwm = 100000;
    cfg->rate_limit_us = 1000000;
    cfg->log_keep = 1000000;
    cfg->log_max_age_s = 86400;
    cfg->sweep_ms = 1000;
    cfg->account_id = "0123456789abcdef0123456789abcdef";
    cfg->commit_cpu = EKV_COMMIT_CPU_AUTO;
    cfg->max_queued = COORD_MAX_QUEUED;
    cfg->catchup_bytes_per_s = 128 * 1024 * 1024;
    cfg->time_scale = 1.0;
    cfg->pub_rate_kbps = 100000;
    cfg->pub_recov_ms = 1000;
}

static int bind_socket(void *sock, const char *ep, char *bound, size_t blen, char *errbuf,
                       size_t errlen)
{
    if (zmq_bind(sock, ep) != 0) {
        snprintf(errbuf, errlen, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
        return EKV_EIO;
    }
    size_t len = blen;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, bound, &len);
    return EKV_OK;
}

static int open_sockets(ekv_coord_t *c, char *errbuf, size_t errlen)
{
    c->zctx = zmq_ctx_new();
    c->pub = zmq_socket(c->zctx, ZMQ_PUB);
    c->router = zmq_socket(c->zctx, ZMQ_ROUTER);
    int linger = 0, hwm = c->cfg.pub_hwm;
    zmq_setsockopt(c->pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    /* Over PGM (epgm://, UDP multicast) one send reaches every PoP. The rate caps what PGM
     * sends and, times the recovery interval, sizes the window a NAK can still repair from;
     * what falls out of it is found by the PoPs' gap detection and caught up over TCP. ZeroMQ's
     * default rate, 100 kbit/s, would pace a burst of changes to a crawl. */
    if (!strncmp(c->cfg.pub_endpoint, "epgm://", 7) || !strncmp(c->cfg.pub_endpoint, "pgm://", 6)) {
        zmq_setsockopt(c->pub, ZMQ_RATE, &c->cfg.pub_rate_kbps, sizeof(int));
        zmq_setsockopt(c->pub, ZMQ_RECOVERY_IVL, &c->cfg.pub_recov_ms, sizeof(int));
    }
    zmq_setsockopt(c->router, ZMQ_LINGER, &linger, sizeof linger);
    /* A peer sending a frame larger than any valid request is disconnected by ZeroMQ before
     * the frame is buffered whole. */
    int64_t maxmsg = EKV_MSG_MAX_BODY;
    zmq_setsockopt(c->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* With server keys both sockets speak CURVE, and the ZAP handler, bound first, admits
     * only the world's client key. */
    if (c->cfg.sec && c->cfg.sec->server) {
        c->zap = ekv_zap_start(c->zctx, c->base, c->cfg.sec, errbuf, errlen);
        if (!c->zap)
            return EKV_EIO;
        if (ekv_sec_server(c->pub, c->cfg.sec) != EKV_OK ||
            ekv_sec_server(c->router, c->cfg.sec) != EKV_OK) {
            snprintf(errbuf, errlen, "cannot make the sockets CURVE servers: %s",
                     zmq_strerror(zmq_errno()));
            return EKV_EIO;
        }
    }
    if (bind_socket(c->pub, c->cfg.pub_endpoint, c->pub_ep, sizeof c->pub_ep, errbuf, errlen) ||
        bind_socket(c->router, c->cfg.router_endpoint, c->router_ep, sizeof c->router_ep, errbuf,
                    errlen))
        return EKV_EIO;
    return EKV_OK;
}

static struct event *add_timer(ekv_coord_t *c, int ms, event_callback_fn fn)
{
    struct event *ev = event_new(c->base, -1, EV_PERSIST, fn, c);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(ev, &tv);
    return ev;
}

/* Puts the loop and the commit thread on the CPU that takes the data disk's completion
 * interrupts (or the one configured). An fsync then completes on the CPU where its thread
 * waits, not with a wakeup of a halted CPU; and the loop's hand-off to the commit thread and
 * back stays on that CPU too (docs/performance-log.md, "the commit thread on the disk's CPU"). */
static void place_commit(ekv_coord_t *c)
{
    int cpu = c->cfg.commit_cpu;
    char dev[64] = "";
    if (cpu == EKV_COMMIT_CPU_AUTO)
        cpu = c->cfg.durability == EKV_STORE_FSYNC
                  ? ekv_cpu_of_disk(c->cfg.data_dir, dev, sizeof dev)
                  : EKV_COMMIT_CPU_NONE;
    if (cpu < 0)
        return;
    int rc = ekv_committer_pin(c->committer, cpu);
    if (rc == 0)
        rc = ekv_cpu_pin_thread(pthread_self(), cpu);
    if (rc != 0)
        ekv_warn("cannot run the loop and commit thread on CPU %d: %s", cpu, strerror(rc));
    else if (dev[0])
        ekv_info("loop and commit thread on CPU %d, which completes %s's I/O", cpu, dev);
    else
        ekv_info("loop and commit thread on CPU %d", cpu);
}

ekv_coord_t *ekv_coord_new(struct event_base *base, const ekv_coord_config_t *cfg, char *errbuf,
                           size_t errlen)
{
    ekv_coord_t *c = ekv_calloc(1, sizeof *c);
    pthread_mutex_init(&c->pub_mu, NULL);
    c->base = base;
    c->cfg = *cfg;
    c->rate = ekv_ratelimit_new(cfg->rate_limit_us);
    c->catchup_tokens = cfg->catchup_bytes_per_s;
    c->catchup_refill_us = ekv_mono_us();
    c->store = ekv_store_open(cfg->data_dir, cfg->durability, errbuf, errlen);
    if (!c->store || coord_ns_load(c, errbuf, errlen) != EKV_OK)
        goto fail;
    c->published_seq = ekv_store_last_seq(c->store);
    c->committer = ekv_committer_new(base, c->store, publish_group, group_done, c);
    if (open_sockets(c, errbuf, errlen) != EKV_OK || coord_rest_open(c, errbuf, errlen) != EKV_OK)
        goto fail;
    place_commit(c); /* after the sockets: ZeroMQ's I/O thread stays unpinned */
    c->flush_ev = event_new(base, -1, 0, on_flush, c);
    c->linger = ekv_fine_timer_new(base, on_linger, c);
    if (!c->linger) {
        snprintf(errbuf, errlen, "timerfd_create: %s", strerror(errno));
        goto fail;
    }
    event_priority_set(c->flush_ev, COORD_PRIO_BACKGROUND);
    c->router_zev = ekv_zev_new(base, c->router, 256, on_router, c);
    if (!c->router_zev) {
        snprintf(errbuf, errlen, "cannot watch the ROUTER socket: %s", strerror(errno));
        goto fail;
    }
    c->hb_ev = add_timer(c, cfg->heartbeat_ms, on_heartbeat);
    c->hello_hb_ev = evtimer_new(base, on_heartbeat, c);
    c->sweep_ev = add_timer(c, cfg->sweep_ms, on_sweep);
    coord_ns_resume(c);
    ekv_info("coordinator up: seq %llu, %zu namespaces, pub %s, router %s, http port %d",
             (unsigned long long)ekv_store_last_seq(c->store), c->nns, c->pub_ep, c->router_ep,
             c->http_port);
    return c;
fail:
    ekv_coord_destroy(&c);
    return NULL;
}

void ekv_coord_destroy(ekv_coord_t **self_p)
{
    ekv_coord_t *c = *self_p;
    if (!c)
        return;
    if (c->committer) {
        c->stopping = 1; /* namespace deletions stop after their step in flight */
        flush_sync(c);   /* commit and answer what was received before the stop */
        ekv_committer_destroy(&c->committer);
    }
    if (c->flush_ev)
        event_free(c->flush_ev);
    ekv_fine_timer_free(&c->linger);
    if (c->hb_ev)
        event_free(c->hb_ev);
    if (c->hello_hb_ev)
        event_free(c->hello_hb_ev);
    if (c->sweep_ev)
        event_free(c->sweep_ev);
    ekv_zev_destroy(&c->router_zev);
    ekv_zap_destroy(&c->zap);
    if (c->http)
        evhttp_free(c->http);
    if (c->pub)
        zmq_close(c->pub);
    if (c->router)
        zmq_close(c->router);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    ekv_store_destroy(&c->store);
    ekv_ratelimit_destroy(&c->rate);
    free(c->ns);
    pthread_mutex_destroy(&c->pub_mu);
    free(c);
    *self_p = NULL;
}

int ekv_coord_write_ready(const ekv_coord_t *c, const char *path)
{
    char http[128] = "";
    if (c->http)
        snprintf(http, sizeof http, "http://%s:%d", c->cfg.http_host, c->http_port);
    json_t *j =
        json_pack("{s:i, s:s, s:s, s:s, s:I}", "pid", (int)getpid(), "http", http, "pub", c->pub_ep,
                  "router", c->router_ep, "seq", (json_int_t)ekv_store_last_seq(c->store));
    char *text = json_dumps(j, JSON_COMPACT);
    int rc = ekv_file_write_atomic(path, text, strlen(text));
    free(text);
    json_decref(j);
    return rc;
}
