/* node: the core of one PoP (node.h, node_int.h): its requests to the coordinator in flight
 * (reads, writes, lists; the core's own hellos and catch-ups for node_changes.c), the waiters
 * for visibility, replies and heartbeats, and the lifecycle. The change stream is followed in
 * node_changes.c, the links and sockets are node_link.c's. */
#include "node_int.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_hash.h"
#include "ekv_kv.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "replica.h"

#define TICK_US       20000 /* request timeouts and waiters are checked this often while any exist */
#define READS_BUCKETS 4096  /* index of origin reads in flight, by key */

/* A request this PoP sent to the coordinator and awaits an answer to. */
typedef struct {
    node_done_fn done; /* who asked (NULL for the core's own requests) */
    void *ctx;
} asker_t;

struct pending {
    uint64_t req_id;     /* correlation id */
    ekv_msg_type_t kind; /* EKV_MSG_READ, WRITE, LIST, HELLO or CATCHUP */
    asker_t asker;       /* completion of the request */
    asker_t *followers;  /* READ: later misses of the same key, completed too */
    size_t nfollowers;
    ekv_msg_t *write; /* WRITE: the request as sent (for read-your-writes) */
    char *list_key;   /* LIST (kv): where its reply is cached (owned) */
    size_t list_key_len;
    char *ns, *key; /* READ: what was asked (owned) */
    size_t ns_len, key_len;
    int64_t cache_ttl_s;      /* READ: cacheTtl of the asking read */
    int refresh;              /* READ: a refresh-ahead nobody waits for (kv) */
    int via_tier;             /* READ: sent to the regional tier, not the coordinator */
    const char *cache_status; /* READ: "MISS" or "EXPIRED" */
    int64_t deadline_us;      /* fail with 503 after this (monotonic) */
    pending_t *key_chain;     /* READ: next in the reads-in-flight index */
    int indexed;              /* READ: listed in that index */
    unsigned gen;             /* HELLO, CATCHUP: the node's gen when asked */
    pending_t *chain;         /* next in the id bucket */
    pending_t *older, *newer; /* deadline order (FIFO: the timeout is constant) */
};

/* A node_wait parked until a sequence becomes visible. */
struct waiter {
    uint64_t seq;
    int served; /* waits for the first read returning seq, not its arrival */
    asker_t asker;
    int64_t deadline_us; /* monotonic */
    waiter_t *next;
};

/* ---- configuration ----------------------------------------------------------------------- */

void ekv_node_config_defaults(ekv_node_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->name = "pop";
    cfg->http_host = "127.0.0.1";
    cfg->pub_endpoint = "tcp://127.0.0.1:8781";
    cfg->router_endpoint = "tcp://127.0.0.1:8782";
    cfg->policy = EKV_POLICY_PUSH;
    cfg->default_ns = EKV_KV_DEFAULT_NS;
    cfg->cache_bytes = 64u << 20;
    cfg->min_cache_ttl = EKV_KV_MIN_CACHE_TTL;
    cfg->origin_timeout_ms = 5000;
    cfg->refresh_hot_reads = 2;
    cfg->refresh_late = 0.8;
    cfg->time_scale = 1.0;
    cfg->link.rto_us = 200000;
    cfg->seed = 1;
    cfg->coordinator_timeout_ms = 1000;
    cfg->tier_link.rto_us = 200000;
    cfg->tier_cache_ttl = EKV_KV_CACHE_TTL;
}

static void handle_down(ekv_node_t *n, ekv_msg_t *m, int64_t now);

/* Sends a request (its req_id from p) on the link to the coordinator, or for a READ through
 * a tier to the tier. */
static void send_request(ekv_node_t *n, pending_t *p, ekv_msg_t *msg)
{
    msg->req_id = p->req_id;
    node_link_send(n, p->via_tier, msg);
}

/* ---- housekeeping tick -------------------------------------------------------------------- */

/* The tick runs only while requests or waiters are outstanding: an idle PoP has no timer at
 * all (300 PoPs on one machine must cost next to nothing when idle). */
void node_tick_arm(ekv_node_t *n)
{
    if (!event_pending(n->tick_ev, EV_TIMEOUT, NULL)) {
        struct timeval tick = {0, TICK_US};
        event_add(n->tick_ev, &tick);
    }
}

/* ---- pending requests -------------------------------------------------------------------- */

static pending_t *pending_new(ekv_node_t *n, ekv_msg_type_t kind, node_done_fn done, void *ctx)
{
    pending_t *p = ekv_calloc(1, sizeof *p);
    p->req_id = ++n->next_req_id;
    p->kind = kind;
    p->asker = (asker_t){done, ctx};
    p->deadline_us =
        ekv_mono_us() + (int64_t)n->cfg.origin_timeout_ms * 1000 + 2 * ekv_link_delay_us(n->up);
    size_t b = p->req_id & (n->npend_buckets - 1);
    p->chain = n->pend[b];
    n->pend[b] = p;
    p->older = n->newest;
    if (n->newest)
        n->newest->newer = p;
    else
        n->oldest = p;
    n->newest = p;
    node_tick_arm(n);
    return p;
}

/* A hello or catch-up of the core's own (nobody waits for it), tagged with the store
 * generation it is asked of: replies from a store replaced meanwhile are ignored. */
void node_send_own(ekv_node_t *n, ekv_msg_t *msg)
{
    pending_t *p = pending_new(n, msg->type, NULL, NULL);
    p->gen = n->gen;
    send_request(n, p, msg);
}

/* ---- reads in flight, by key (concurrent misses of one key share one origin fetch) -------- */

static size_t key_bucket(ekv_bytes_t ns, ekv_bytes_t key)
{
    return ekv_hash_ns_key(ns.ptr, ns.len, key.ptr, key.len) & (READS_BUCKETS - 1);
}

static pending_t *read_find(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key)
{
    for (pending_t *p = n->reads_idx[key_bucket(ns, key)]; p; p = p->key_chain)
        if (p->ns_len == ns.len && p->key_len == key.len && !memcmp(p->ns, ns.ptr, ns.len) &&
            !memcmp(p->key, key.ptr, key.len))
            return p;
    return NULL;
}

static void read_index(ekv_node_t *n, pending_t *p)
{
    pending_t **b = &n->reads_idx[key_bucket((ekv_bytes_t){p->ns, p->ns_len},
                                             (ekv_bytes_t){p->key, p->key_len})];
    p->key_chain = *b;
    *b = p;
    p->indexed = 1;
}

static void read_unindex(ekv_node_t *n, pending_t *p)
{
    if (!p->indexed)
        return;
    pending_t **b = &n->reads_idx[key_bucket((ekv_bytes_t){p->ns, p->ns_len},
                                             (ekv_bytes_t){p->key, p->key_len})];
    while (*b && *b != p)
        b = &(*b)->key_chain;
    if (*b)
        *b = p->key_chain;
    p->indexed = 0;
}

/* Removes the pending request with this id from the table and returns it (NULL if none). */
static pending_t *pending_take(ekv_node_t *n, uint64_t id)
{
    pending_t **slot = &n->pend[id & (n->npend_buckets - 1)];
    while (*slot && (*slot)->req_id != id)
        slot = &(*slot)->chain;
    pending_t *p = *slot;
    if (!p)
        return NULL;
    *slot = p->chain;
    read_unindex(n, p);
    if (p->older)
        p->older->newer = p->newer;
    else
        n->oldest = p->newer;
    if (p->newer)
        p->newer->older = p->older;
    else
        n->newest = p->older;
    return p;
}

static void pending_free(pending_t *p)
{
    if (p->write) {
        ekv_msg_fini(p->write);
        free(p->write);
    }
    free(p->ns);
    free(p->key);
    free(p->list_key);
    free(p->followers);
    free(p);
}

/* Completes one asker (if any) with r. */
static void complete(ekv_node_t *n, const asker_t *a, const node_result_t *r)
{
    if (a->done)
        a->done(n, a->ctx, r);
}

/* Completes a request and every follower with a failure. */
static void fail_pending(ekv_node_t *n, pending_t *p, int status, const char *message)
{
    node_result_t r = {.status = status, .message = message};
    complete(n, &p->asker, &r);
    for (size_t i = 0; i < p->nfollowers; i++)
        complete(n, &p->followers[i], &r);
}

/* ---- visibility -------------------------------------------------------------------------- */

/* Answers the waiters of seq that want what w_served says, if it is visible that way now;
 * returns how many were. */
static int answer_waiters(ekv_node_t *n, uint64_t seq, int w_served)
{
    const vis_t *v = ekv_vis_find(n->vis, seq);
    int64_t served = ekv_served_at(n->served, seq), answered = 0;
    if (!v || (w_served && !served))
        return 0;
    for (waiter_t **w = &n->waiters; *w;) {
        if ((*w)->seq != seq || (*w)->served != w_served) {
            w = &(*w)->next;
            continue;
        }
        waiter_t *done = *w;
        *w = done->next;
        node_result_t r = {.status = 200, .seq = seq, .vis = v, .served_us = served};
        complete(n, &done->asker, &r);
        free(done);
        answered++;
    }
    return (int)answered;
}

/* Records the first time seq became visible here and answers its waiters. */
void node_record_visible(ekv_node_t *n, uint64_t seq, int64_t commit_us, int64_t now)
{
    if (ekv_vis_record(n->vis, seq, commit_us, now))
        answer_waiters(n, seq, 0);
}

/* Change c arrived (now): under a pushing policy a read here returns it from now on; under
 * ttl and kv only once the cached copy is gone or refreshed and a read fetched it. */
void node_note_change(ekv_node_t *n, const ekv_msg_t *c, int64_t now)
{
    if (!ekv_policy_pushes(n->cfg.policy))
        ekv_served_pending(n->served, c->ns, c->key, c->seq);
    else if (ekv_served_mark(n->served, c->seq, now))
        answer_waiters(n, c->seq, 1);
}

/* A read here returned version of (ns, key): the changes of the key it includes are served. */
static void note_served(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key, uint64_t version,
                        int64_t now)
{
    if (!ekv_served_read(n->served, ns, key, version, now) || !n->waiters)
        return;
    for (waiter_t *w = n->waiters, *next; w; w = next) {
        next = w->next; /* answering frees w, and maybe others of its seq */
        if (w->served && ekv_served_at(n->served, w->seq) && answer_waiters(n, w->seq, 1))
            next = n->waiters; /* the list changed: start over (answered ones are gone) */
    }
}

void node_wait(ekv_node_t *n, uint64_t seq, int served, int timeout_ms, node_done_fn done,
               void *ctx)
{
    const vis_t *v = ekv_vis_find(n->vis, seq);
    int64_t served_us = ekv_served_at(n->served, seq);
    if (v && (!served || served_us)) {
        node_result_t r = {.status = 200, .seq = seq, .vis = v, .served_us = served_us};
        done(n, ctx, &r);
        return;
    }
    waiter_t *w = ekv_calloc(1, sizeof *w);
    w->seq = seq;
    w->served = served;
    w->asker = (asker_t){done, ctx};
    w->deadline_us = ekv_mono_us() + (int64_t)timeout_ms * 1000;
    w->next = n->waiters;
    n->waiters = w;
    node_tick_arm(n);
}

int64_t node_fresh_until(const ekv_node_t *n, int64_t now_us, int64_t cache_ttl_s)
{
    /* Under push and push-all, updates keep entries current: they stay fresh. */
    if (n->cfg.policy == EKV_POLICY_PUSH || n->cfg.policy == EKV_POLICY_PUSH_ALL)
        return INT64_MAX;
    /* cacheTtl has no practical maximum: a lifetime past the representable end is "always" */
    double life_us = (double)cache_ttl_s * 1e6 / n->cfg.time_scale;
    if (!(life_us < (double)(INT64_MAX - now_us)))
        return INT64_MAX;
    return now_us + (int64_t)life_us;
}

/* ---- requests of the HTTP surface ----------------------------------------------------- */

/* Whether reads can go to origin: the coordinator while it sends heartbeats; for a PoP with
 * a tier, the tier unless the PoP is cut off (the tier has copies of its own while the
 * coordinator is down, and answers STALE or 503 itself when it has none). */
static int origin_up(const ekv_node_t *n)
{
    return n->tier_dealer ? !n->partitioned && ekv_replica_ready(n->replica)
                          : node_coordinator_up(n);
}

/* Sends an origin READ of (ns, key) and lists it among the reads in flight, so later misses
 * of the key join it. */
static pending_t *fetch(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key, int64_t cache_ttl_s,
                        const char *cache_status, node_done_fn done, void *ctx)
{
    n->st.origin_reads++;
    pending_t *p = pending_new(n, EKV_MSG_READ, done, ctx);
    if (n->tier_dealer) { /* through the regional tier (no fallback: an outage is a 503) */
        p->via_tier = 1;
        n->st.tier_reads++;
    }
    p->ns = ekv_memdup(ns.ptr, ns.len);
    p->ns_len = ns.len;
    p->key = ekv_memdup(key.ptr, key.len);
    p->key_len = key.len;
    p->cache_ttl_s = cache_ttl_s;
    p->cache_status = cache_status;
    read_index(n, p);
    ekv_msg_t m = {.type = EKV_MSG_READ, .ns = ns, .key = key};
    send_request(n, p, &m);
    return p;
}

/* Refresh-ahead (kv, KV-SPEC 5.1): a copy read at least refresh_hot_reads times since it was
 * stored (this read included) is hot; read when at least refresh_late of its cacheTtl has
 * passed, it is late. Such a read is served from the copy at once, and the key is fetched in
 * the background; the reply replaces the copy (a newer version, or the same one fresh for
 * another cacheTtl), so a hot key does not go to origin on a reader's time. One fetch per key
 * at a time: a miss or refresh of the key already in flight is enough. */
static void refresh_ahead(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key,
                          const ekv_cache_item_t *it, int64_t fresh_until, int64_t now,
                          int64_t cache_ttl_s)
{
    if (n->cfg.policy != EKV_POLICY_KV || n->cfg.refresh_hot_reads <= 0 ||
        it->reads < (uint32_t)n->cfg.refresh_hot_reads || fresh_until == INT64_MAX)
        return;
    double life = (double)(fresh_until - it->stored_us);
    if ((double)(now - it->stored_us) < n->cfg.refresh_late * life || read_find(n, ns, key) ||
        !origin_up(n))
        return;
    n->st.refreshes++;
    /* a miss that joins it had lost its copy meanwhile (expired or evicted) */
    pending_t *p = fetch(n, ns, key, cache_ttl_s, "EXPIRED", NULL, NULL);
    p->refresh = 1;
}

int node_fetching(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key)
{
    return read_find(n, ns, key) != NULL;
}

void node_read(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key, int64_t cache_ttl_s,
               node_done_fn done, void *ctx)
{
    int64_t now = node_now_us(n);
    ekv_cache_item_t it;
    node_result_t r = {.status = 200, .item = &it};
    int cached = ekv_cache_read(n->cache, ns, key, now, &it) == EKV_OK;
    if (cached && it.fresh_until_us > now) {
        n->st.hits++;
        n->st.refresh_hits += it.refreshed;
        int64_t fresh = it.fresh_until_us;
        if (fresh != INT64_MAX) { /* a lower cacheTtl lowers this copy's life */
            int64_t lower = node_fresh_until(n, now, cache_ttl_s);
            ekv_cache_lower_fresh(n->cache, ns, key, lower);
            fresh = lower < fresh ? lower : fresh;
        }
        r.cache_status = "HIT";
        ekv_cache_item_t copy = it; /* the served item is borrowed by done only */
        done(n, ctx, &r);
        note_served(n, ns, key, copy.seq, now);
        refresh_ahead(n, ns, key, &copy, fresh, now, cache_ttl_s);
        return;
    }
    if (!origin_up(n)) {
        /* Cut off from origin: a stale copy beats an error (never past its expiration). */
        if (cached) {
            n->st.stale_hits++;
            r.cache_status = "STALE";
            note_served(n, ns, key, it.seq, now);
        } else {
            n->st.unavailable++;
            r = (node_result_t){.status = 503, .message = "Coordinator unavailable"};
        }
        done(n, ctx, &r);
        return;
    }
    n->st.misses++;
    pending_t *inflight = read_find(n, ns, key);
    if (inflight) { /* join the fetch already under way */
        n->st.coalesced++;
        inflight->followers = ekv_realloc(inflight->followers,
                                          (inflight->nfollowers + 1) * sizeof *inflight->followers);
        inflight->followers[inflight->nfollowers++] = (asker_t){done, ctx};
        return;
    }
    fetch(n, ns, key, cache_ttl_s, cached ? "EXPIRED" : "MISS", done, ctx);
}

/* An origin read came back: the copy is cached and served, unless the cache meanwhile got a
 * newer version (a push that overtook the reply): then that one is served. */
static void read_done(ekv_node_t *n, pending_t *p, const ekv_msg_t *m)
{
    /* A tier's 200 names how it served the read: its cache status. */
    if (p->via_tier && m->status == 200 && m->text.len == 3 && !memcmp(m->text.ptr, "HIT", 3))
        n->st.tier_hits++;
    if (m->status != 200) {
        fail_pending(n, p, m->status, m->text.len ? m->text.ptr : "Origin error");
        return;
    }
    int64_t now = node_now_us(n);
    ekv_cache_item_t it = {.seq = m->seq,
                           .commit_us = m->time_us,
                           .expiration = m->expiration,
                           .fresh_until_us = node_fresh_until(n, now, p->cache_ttl_s),
                           .refreshed = p->refresh,
                           .negative = !(m->flags & EKV_MSG_F_FOUND),
                           .has_meta = (m->flags & EKV_MSG_F_METADATA) != 0,
                           .meta = m->meta,
                           .value = m->value};
    ekv_bytes_t ns = {p->ns, p->ns_len}, key = {p->key, p->key_len};
    ekv_cache_item_t newer;
    node_result_t r = {.status = 200, .item = &it, .cache_status = p->cache_status};
    if (ekv_cache_store(n->cache, ns, key, &it, now) == EKV_EEXIST &&
        ekv_cache_lookup(n->cache, ns, key, now, &newer) == EKV_OK)
        r.item = &newer;
    uint64_t version = r.item->seq; /* the item is borrowed until the next cache change */
    complete(n, &p->asker, &r);
    for (size_t i = 0; i < p->nfollowers; i++)
        complete(n, &p->followers[i], &r);
    if (p->asker.done || p->nfollowers) /* a refresh alone is no read */
        note_served(n, ns, key, version, now);
}

/* ---- the list cache (kv) -----------------------------------------------------------------
 *
 * A list reply is cached in the PoP's cache itself, so its bytes count against the same cap
 * and leave by the same LRU: the encoded LIST_REPLY is the value of an entry whose namespace
 * is the listed one behind a byte no namespace id may hold (LIST_NS_MARK) and whose key is
 * the namespace's list generation, the limit, the prefix and the start. It is fresh for the
 * default cacheTtl. A write acknowledged here bumps its namespace's generation, so the lists
 * cached before it are found no more (they age out of the LRU); generations are a fixed array
 * by namespace hash, so a shared slot only drops some other namespace's lists early. */

#define LIST_NS_MARK '\x01' /* node_ns_ok refuses it: no real namespace starts with it */
#define LIST_NS_MAX  80     /* namespace ids are at most 64 bytes (node_ns_ok) */

static uint64_t *list_gen(ekv_node_t *n, ekv_bytes_t ns)
{
    return &n->list_gen[ekv_fnv1a(ns.ptr, ns.len, EKV_FNV_SEED) & (LIST_GENS - 1)];
}

/* The cache namespace of ns's lists, in buf (at least ns.len + 1 bytes). */
static ekv_bytes_t list_ns(ekv_bytes_t ns, char *buf)
{
    buf[0] = LIST_NS_MARK;
    memcpy(buf + 1, ns.ptr, ns.len);
    return (ekv_bytes_t){buf, ns.len + 1};
}

/* The cache key of a listing: generation, limit, prefix length, prefix, start. New. */
static char *list_key(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t prefix, ekv_bytes_t after,
                      uint64_t limit, size_t *len)
{
    uint64_t head[3] = {*list_gen(n, ns), limit, prefix.len};
    *len = sizeof head + prefix.len + after.len;
    char *k = ekv_malloc(*len);
    memcpy(k, head, sizeof head);
    memcpy(k + sizeof head, prefix.ptr, prefix.len);
    memcpy(k + sizeof head + prefix.len, after.ptr, after.len);
    return k;
}

/* Serves a fresh cached listing; 0 when there is none. */
static int list_from_cache(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key, node_done_fn done,
                           void *ctx)
{
    char buf[LIST_NS_MAX];
    ekv_cache_item_t it;
    int64_t now = node_now_us(n);
    ekv_msg_t m;
    if (ns.len >= sizeof buf ||
        ekv_cache_lookup(n->cache, list_ns(ns, buf), key, now, &it) != EKV_OK ||
        it.fresh_until_us <= now || ekv_msg_decode(it.value.ptr, it.value.len, &m) != EKV_OK)
        return 0;
    n->st.list_hits++;
    node_result_t r = {.status = 200, .list = &m};
    done(n, ctx, &r);
    ekv_msg_fini(&m);
    return 1;
}

static void list_store(ekv_node_t *n, const pending_t *p, const ekv_msg_t *reply)
{
    char buf[LIST_NS_MAX], *body;
    size_t len;
    if (p->ns_len >= sizeof buf || ekv_msg_encode(reply, &body, &len) != EKV_OK)
        return;
    int64_t now = node_now_us(n);
    ekv_cache_item_t it = {.fresh_until_us = node_fresh_until(n, now, EKV_KV_CACHE_TTL),
                           .value = {body, len}};
    ekv_cache_store(n->cache, list_ns((ekv_bytes_t){p->ns, p->ns_len}, buf),
                    (ekv_bytes_t){p->list_key, p->list_key_len}, &it, now);
    free(body);
}

void node_write(ekv_node_t *n, ekv_msg_t *w, node_done_fn done, void *ctx)
{
    if (!node_coordinator_up(n)) {
        n->st.unavailable++;
        ekv_msg_fini(w);
        free(w);
        node_result_t r = {.status = 503, .message = "Coordinator unavailable"};
        done(n, ctx, &r);
        return;
    }
    n->st.origin_writes++;
    pending_t *p = pending_new(n, EKV_MSG_WRITE, done, ctx);
    p->write = w;
    send_request(n, p, w);
}

/* A write was answered. Read-your-writes: the writer sees its write as soon as it is
 * acknowledged. */
static void write_done(ekv_node_t *n, pending_t *p, const ekv_msg_t *m)
{
    if (m->status != 200) {
        fail_pending(n, p, m->status, m->text.len ? m->text.ptr : "Write failed");
        return;
    }
    const ekv_msg_t *w = p->write;
    int64_t now = node_now_us(n);
    ekv_cache_item_t it = {.seq = m->seq,
                           .commit_us = m->time_us,
                           .expiration = w->expiration,
                           .fresh_until_us = node_fresh_until(n, now, EKV_KV_CACHE_TTL),
                           .negative = w->op == EKV_OP_DELETE,
                           .has_meta = (w->flags & EKV_MSG_F_METADATA) != 0,
                           .meta = w->meta,
                           .value = w->value};
    ekv_cache_store(n->cache, w->ns, w->key, &it, now);
    (*list_gen(n, w->ns))++; /* this PoP's lists of the namespace include the write now */
    if (ekv_served_mark(n->served, m->seq, now)) /* read-your-writes: served from now on */
        answer_waiters(n, m->seq, 1);
    node_result_t r = {.status = 200, .seq = m->seq, .commit_us = m->time_us};
    complete(n, &p->asker, &r);
}

void node_list(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t prefix, ekv_bytes_t after, uint64_t limit,
               node_done_fn done, void *ctx)
{
    char *lkey = NULL;
    size_t lkey_len = 0;
    if (n->cfg.policy == EKV_POLICY_KV) {
        lkey = list_key(n, ns, prefix, after, limit, &lkey_len);
        if (list_from_cache(n, ns, (ekv_bytes_t){lkey, lkey_len}, done, ctx)) {
            free(lkey);
            return;
        }
    }
    if (!node_coordinator_up(n)) {
        free(lkey);
        n->st.unavailable++;
        node_result_t r = {.status = 503, .message = "Coordinator unavailable"};
        done(n, ctx, &r);
        return;
    }
    n->st.lists++;
    n->st.list_misses += lkey != NULL;
    pending_t *p = pending_new(n, EKV_MSG_LIST, done, ctx);
    if (lkey) {
        p->list_key = lkey;
        p->list_key_len = lkey_len;
        p->ns = ekv_memdup(ns.ptr, ns.len);
        p->ns_len = ns.len;
    }
    ekv_msg_t m = {.type = EKV_MSG_LIST, .seq = limit, .ns = ns, .key = prefix, .text = after};
    send_request(n, p, &m);
}

void node_deliver(ekv_node_t *n, ekv_msg_t *m, int64_t now_us)
{
    handle_down(n, m, now_us);
}

uint64_t node_next_req_id(const ekv_node_t *n)
{
    return n->next_req_id + 1;
}

/* ---- replies and heartbeats -------------------------------------------------------------- */

void node_write_ready(ekv_node_t *n)
{
    /* After the clock's burst too: a probe right after `up` measures corrected delays. A
     * coordinator that leaves a TIME unanswered for a second (one that does not know it) is
     * not waited for: the PoP runs on its own clock, and says so. */
    if (n->ready_written || !ekv_replica_ready(n->replica) || !n->heartbeat_seen)
        return;
    if (ekv_clock_samples(&n->clock) < EKV_CLOCK_BURST) {
        if (!ekv_clock_lost(&n->clock))
            return;
        ekv_warn("clock: no answer to TIME from the coordinator; ready on this host's clock "
                 "(%" PRIu64 " samples)",
                 ekv_clock_samples(&n->clock));
    }
    n->ready_written = 1;
    ekv_info("ready: http://%s:%d, delay %.3f ms, policy %s", n->cfg.http_host, n->http_port,
             n->cfg.link.delay_us / 1000.0, ekv_policy_name(n->cfg.policy));
    if (!n->cfg.ready_file)
        return;
    char url[128];
    snprintf(url, sizeof url, "http://%s:%d", n->cfg.http_host, n->http_port);
    json_t *j = json_pack("{s:i, s:s, s:s, s:f}", "pid", (int)getpid(), "name", n->cfg.name, "url",
                          url, "delay_ms", n->cfg.link.delay_us / 1000.0);
    if (n->cfg.tier_role)
        json_object_set_new(j, "serve", json_string(n->serve_bound));
    char *text = json_dumps(j, JSON_COMPACT);
    if (ekv_file_write_atomic(n->cfg.ready_file, text, strlen(text)) != EKV_OK)
        ekv_error("cannot write %s", n->cfg.ready_file);
    free(text);
    json_decref(j);
}

static void on_heartbeat(ekv_node_t *n, const ekv_msg_t *hb)
{
    n->heartbeat_seen = 1;
    n->last_heartbeat_us = ekv_mono_us();
    /* Incremental expiry rides on the heartbeat rather than a timer of its own; reads expire
     * lazily in any case. */
    ekv_cache_expire_some(n->cache, node_now_us(n), 256);
    node_link_clock_poll(n);
    int what = ekv_replica_heartbeat(n->replica, hb->seq, hb->epoch);
    if (what == EKV_REPLICA_CATCHUP)
        n->st.gaps++; /* a silent gap: changes were published that never reached us */
    node_act(n, what);
    node_write_ready(n);
}

static void on_reply(ekv_node_t *n, ekv_msg_t *m)
{
    pending_t *p = pending_take(n, m->req_id);
    if (!p)
        return; /* timed out already */
    switch (m->type) {
    case EKV_MSG_HELLO_REPLY:
        if (p->gen != n->gen)
            break; /* said to a store since replaced */
        node_act(n, ekv_replica_hello(n->replica, m->seq, m->epoch));
        node_link_clock_poll(n); /* the burst starts with the first hello answered */
        node_write_ready(n);
        break;
    case EKV_MSG_WRITE_REPLY:
        if (m->status == 200)
            node_record_visible(n, m->seq, m->time_us, node_now_us(n));
        write_done(n, p, m);
        break;
    case EKV_MSG_READ_REPLY:
        read_done(n, p, m);
        break;
    case EKV_MSG_LIST_REPLY: {
        node_result_t r = {
            .status = m->status ? m->status : 200, .message = "Origin error", .list = m};
        if (p->list_key && r.status == 200)
            list_store(n, p, m);
        complete(n, &p->asker, &r);
        break;
    }
    case EKV_MSG_CATCHUP_REPLY:
        if (p->gen == n->gen) /* else: asked of a store since replaced */
            node_on_catchup_reply(n, m);
        break;
    default:
        break;
    }
    pending_free(p);
}

static void handle_down(ekv_node_t *n, ekv_msg_t *m, int64_t now)
{
    switch (m->type) {
    case EKV_MSG_CHANGE:
        node_on_change(n, m, now);
        break;
    case EKV_MSG_HEARTBEAT:
        on_heartbeat(n, m);
        break;
    case EKV_MSG_HELLO_REPLY:
    case EKV_MSG_WRITE_REPLY:
    case EKV_MSG_READ_REPLY:
    case EKV_MSG_LIST_REPLY:
    case EKV_MSG_CATCHUP_REPLY:
        on_reply(n, m);
        break;
    default:
        n->st.malformed++;
        ekv_warn("dropped an unexpected %s", ekv_msg_type_name(m->type));
    }
}

/* ---- housekeeping ------------------------------------------------------------------------ */

static void expire_pending(ekv_node_t *n, int64_t mono)
{
    while (n->oldest && n->oldest->deadline_us <= mono) {
        pending_t *p = pending_take(n, n->oldest->req_id);
        n->st.origin_errors++;
        fail_pending(n, p, 503,
                     p->via_tier ? "Regional tier unavailable" : "Coordinator unavailable");
        /* A lost catch-up is asked again (the PoP would otherwise stay behind until some
         * new change showed the gap); so is a lost hello. */
        if (p->kind == EKV_MSG_CATCHUP && p->gen == n->gen)
            node_act(n, ekv_replica_catchup_lost(n->replica));
        if (p->kind == EKV_MSG_HELLO && p->gen == n->gen) {
            ekv_warn("no answer from the coordinator yet; saying hello again");
            node_say_hello(n);
        }
        pending_free(p);
    }
}

static void expire_waiters(ekv_node_t *n, int64_t mono)
{
    for (waiter_t **w = &n->waiters; *w;) {
        if ((*w)->deadline_us > mono) {
            w = &(*w)->next;
            continue;
        }
        waiter_t *done = *w;
        *w = done->next;
        node_result_t r = {.status = 200, .seq = done->seq, .vis = NULL};
        complete(n, &done->asker, &r);
        free(done);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_node_t *n = arg;
    int64_t mono = ekv_mono_us();
    expire_pending(n, mono);
    expire_waiters(n, mono);
    node_act(n, ekv_replica_due(n->replica, node_now_us(n)));
    if (!n->oldest && !n->waiters && ekv_replica_next_due(n->replica) == INT64_MAX)
        event_del(n->tick_ev);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

ekv_node_t *ekv_node_new(struct event_base *base, const ekv_node_config_t *cfg, char *errbuf,
                         size_t errlen)
{
    ekv_node_t *n = ekv_calloc(1, sizeof *n);
    ekv_clock_init(&n->clock);
    n->base = base;
    n->cfg = *cfg;
    n->cache = ekv_cache_new(cfg->cache_bytes);
    n->replica = ekv_replica_new(cfg->policy == EKV_POLICY_PUSH_ALL);
    ekv_link_model_t model = node_link_scaled(cfg->link, cfg->time_scale);
    n->up = ekv_link_new(model.delay_us);
    n->down = ekv_link_new(model.delay_us);
    ekv_link_set_model(n->up, &model, cfg->seed);
    ekv_link_set_model(n->down, &model, cfg->seed * 0x9e3779b97f4a7c15ull + 1);
    if (cfg->tier_endpoint) {
        ekv_link_model_t tm = node_link_scaled(cfg->tier_link, cfg->time_scale);
        n->tier_up = ekv_link_new(tm.delay_us);
        n->tier_down = ekv_link_new(tm.delay_us);
        ekv_link_set_model(n->tier_up, &tm, cfg->seed * 0xbf58476d1ce4e5b9ull + 2);
        ekv_link_set_model(n->tier_down, &tm, cfg->seed * 0x94d049bb133111ebull + 3);
    }
    n->reads_idx = ekv_calloc(READS_BUCKETS, sizeof *n->reads_idx);
    n->npend_buckets = 4096;
    n->pend = ekv_calloc(n->npend_buckets, sizeof *n->pend);
    n->vis = ekv_vis_new(VIS_RING);
    n->served = ekv_served_new(VIS_RING, SERVED_KEYS);
    n->link_armed = INT64_MAX;
    n->link_timer = ekv_fine_timer_new(base, node_link_on_timer, n);
    if (!n->link_timer) {
        snprintf(errbuf, errlen, "timerfd_create: %s", strerror(errno));
        goto fail;
    }
    n->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, n);
    if (node_link_open(n, errbuf, errlen) != EKV_OK ||
        node_http_open(n, errbuf, errlen) != EKV_OK ||
        (cfg->tier_role && node_tier_open(n, errbuf, errlen) != EKV_OK))
        goto fail;
    n->sub_zev = ekv_zev_new(base, n->sub, 256, node_link_on_sub, n);
    n->dealer_zev = ekv_zev_new(base, n->dealer, 256, node_link_on_dealer, n);
    if (n->tier_dealer)
        n->tier_dealer_zev = ekv_zev_new(base, n->tier_dealer, 256, node_link_on_tier, n);
    if (!n->sub_zev || !n->dealer_zev || (n->tier_dealer && !n->tier_dealer_zev)) {
        snprintf(errbuf, errlen, "cannot watch the ZeroMQ sockets: %s", strerror(errno));
        goto fail;
    }
    node_say_hello(n);
    return n;
fail:
    ekv_node_destroy(&n);
    return NULL;
}

void ekv_node_destroy(ekv_node_t **self_p)
{
    ekv_node_t *n = *self_p;
    if (!n)
        return;
    while (n->oldest) {
        pending_t *p = pending_take(n, n->oldest->req_id);
        fail_pending(n, p, 503, "PoP shutting down");
        pending_free(p);
    }
    expire_waiters(n, INT64_MAX);
    node_tier_close(n);
    ekv_zev_destroy(&n->sub_zev);
    ekv_zev_destroy(&n->dealer_zev);
    ekv_zev_destroy(&n->tier_dealer_zev);
    node_http_close(n);
    ekv_fine_timer_free(&n->link_timer);
    if (n->tick_ev)
        event_free(n->tick_ev);
    node_link_drain(n);
    ekv_link_destroy(&n->up);
    ekv_link_destroy(&n->down);
    if (n->tier_up) {
        ekv_link_destroy(&n->tier_up);
        ekv_link_destroy(&n->tier_down);
    }
    free(n->spare_msg);
    if (n->sub)
        zmq_close(n->sub);
    if (n->dealer)
        zmq_close(n->dealer);
    if (n->tier_dealer)
        zmq_close(n->tier_dealer);
    if (n->zctx)
        zmq_ctx_term(n->zctx);
    ekv_cache_destroy(&n->cache);
    free(n->reads_idx);
    ekv_replica_destroy(&n->replica);
    ekv_vis_destroy(&n->vis);
    ekv_served_destroy(&n->served);
    free(n->pend);
    free(n);
    *self_p = NULL;
}
