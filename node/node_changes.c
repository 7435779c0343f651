/* node_changes: how a PoP follows the coordinator's change stream (node_int.h). Changes
 * pushed on the SUB socket are applied to the cache under the policy and recorded as visible;
 * the replica tracker (replica.h) decides when a gap needs a catch-up, a heartbeat shows a
 * silent gap, or the coordinator's store was replaced (resync: the cache is dropped and the
 * PoP says hello again as a new one). Catch-up replies carry log entries, or snapshot pages
 * when the log no longer reaches back; after the last page, cached keys the snapshot did not
 * carry were deleted meanwhile and are dropped (reconcile). Requests go out through the core
 * (node_send_own), tagged with the store generation so replies to an old store are ignored. */
#include "node_int.h"

#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "replica.h"

static void request_catchup(ekv_node_t *n)
{
    uint64_t from;
    ekv_bytes_t cursor;
    if (ekv_replica_catchup_request(n->replica, &from, &cursor) != EKV_OK)
        return; /* one at a time */
    n->st.catchups++;
    ekv_msg_t m = {.type = EKV_MSG_CATCHUP, .seq = from, .key = cursor};
    node_send_own(n, &m);
}

void node_say_hello(ekv_node_t *n)
{
    ekv_msg_t m = {.type = EKV_MSG_HELLO, .seq = ekv_replica_applied(n->replica)};
    m.text.ptr = n->cfg.name;
    m.text.len = strlen(n->cfg.name);
    node_send_own(n, &m);
}

/* The coordinator's store is not the one this PoP followed (wiped, or restarted after
 * losing commits): sequence numbers may repeat, so nothing held can be trusted. Start over
 * as a new PoP: an empty cache, and hello for the new tip. */
static void resync(ekv_node_t *n)
{
    ekv_warn("the coordinator's store changed (epoch %016llx before); dropping the cache and "
             "starting over",
             (unsigned long long)ekv_replica_epoch(n->replica));
    n->st.resyncs++;
    n->gen++; /* replies to requests of the old store are ignored */
    ekv_cache_destroy(&n->cache);
    n->cache = ekv_cache_new(n->cfg.cache_bytes);
    ekv_served_destroy(&n->served); /* sequence numbers may repeat */
    n->served = ekv_served_new(VIS_RING, SERVED_KEYS);
    ekv_replica_reset(n->replica);
    node_say_hello(n);
}

void node_act(ekv_node_t *n, int what)
{
    if (what & EKV_REPLICA_RESYNC)
        resync(n);
    else if (what & EKV_REPLICA_CATCHUP)
        request_catchup(n);
    if (ekv_replica_next_due(n->replica) != INT64_MAX)
        node_tick_arm(n); /* a paused catch-up is asked again from the tick */
}

/* Applies change c to the cache under the policy; a tier purging on write (the older
 * documented Workers KV behaviour, KV-SPEC 5.1) drops its older copy of the key, so its PoPs'
 * next misses fetch the new version. */
static void apply_change(ekv_node_t *n, const ekv_msg_t *c, int64_t now)
{
    ekv_policy_apply(n->cache, n->cfg.policy, c, now);
    ekv_cache_item_t cur;
    if (n->cfg.tier_role && n->cfg.purge_on_write &&
        ekv_cache_lookup(n->cache, c->ns, c->key, now, &cur) == EKV_OK && cur.seq < c->seq) {
        ekv_cache_remove(n->cache, c->ns, c->key);
        n->st.purges++;
    }
}

void node_on_change(ekv_node_t *n, const ekv_msg_t *c, int64_t now)
{
    int apply;
    int what = ekv_replica_change(n->replica, c->seq, &apply);
    if (!apply) {
        n->st.changes_ignored++; /* before our baseline, or already applied */
        return;
    }
    apply_change(n, c, now);
    n->st.changes_applied++;
    node_record_visible(n, c->seq, c->time_us, now);
    node_note_change(n, c, now);
    if (what) {
        n->st.gaps++;
        ekv_warn("gap: applied %llu, got %llu; catching up",
                 (unsigned long long)ekv_replica_applied(n->replica), (unsigned long long)c->seq);
    }
    node_act(n, what);
}

typedef struct {
    const ekv_replica_t *replica;
    uint64_t base;
    ekv_bytes_t *ns, *key; /* entries to drop (borrowed from the cache until the first drop) */
    size_t n, cap;
} reconcile_t;

static int reconcile_visit(void *arg, ekv_bytes_t ns, ekv_bytes_t key, const ekv_cache_item_t *it)
{
    reconcile_t *r = arg;
    if (it->negative || it->seq > r->base || ekv_replica_snapshot_carried(r->replica, ns, key))
        return 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->ns = ekv_realloc(r->ns, r->cap * sizeof *r->ns);
        r->key = ekv_realloc(r->key, r->cap * sizeof *r->key);
    }
    r->ns[r->n] = (ekv_bytes_t){ekv_memdup(ns.ptr, ns.len), ns.len};
    r->key[r->n++] = (ekv_bytes_t){ekv_memdup(key.ptr, key.len), key.len};
    return 0;
}

/* After the last snapshot page: a cached key at or below the base that the snapshot did not
 * carry was deleted while this PoP was behind. Under ttl and kv changes are not applied at all,
 * so cached copies live out their cacheTtl as they would without the snapshot. */
static void reconcile(ekv_node_t *n)
{
    reconcile_t r = {n->replica, ekv_replica_snapshot_base(n->replica), NULL, NULL, 0, 0};
    if (ekv_policy_pushes(n->cfg.policy))
        ekv_cache_visit(n->cache, node_now_us(n), reconcile_visit, &r);
    for (size_t i = 0; i < r.n; i++) {
        ekv_cache_remove(n->cache, r.ns[i], r.key[i]);
        free((void *)r.ns[i].ptr);
        free((void *)r.key[i].ptr);
    }
    if (r.n)
        ekv_info("snapshot: dropped %zu cached keys deleted meanwhile", r.n);
    free(r.ns);
    free(r.key);
    ekv_replica_snapshot_clear(n->replica);
}

/* A snapshot page: current records, applied under the policy (versions keep newer pushes);
 * they are initial state, not deliveries, so no visibility is recorded. After the last page
 * the node stands at the base the snapshot reflects and fetches the log tail after it. */
static void on_snapshot_page(ekv_node_t *n, const ekv_msg_t *r)
{
    int64_t now = node_now_us(n);
    ekv_cache_item_t it;
    for (size_t i = 0; i < r->nchanges; i++) {
        const ekv_msg_t *c = &r->changes[i];
        ekv_policy_apply(n->cache, n->cfg.policy, c, now);
        if (ekv_cache_lookup(n->cache, c->ns, c->key, now, &it) == EKV_OK)
            ekv_replica_snapshot_saw(n->replica, c->ns, c->key);
    }
    int finished;
    int what =
        ekv_replica_snapshot_page(n->replica, r->seq, r->key, r->flags & EKV_MSG_F_MORE, &finished);
    if (finished) {
        ekv_info("snapshot loaded; resuming from seq %llu",
                 (unsigned long long)ekv_replica_snapshot_base(n->replica));
        reconcile(n);
    }
    node_act(n, what); /* the next page, or the log tail */
}

void node_on_catchup_reply(ekv_node_t *n, const ekv_msg_t *r)
{
    int64_t now = node_now_us(n);
    if (r->flags & EKV_MSG_F_BUSY) {
        ekv_replica_catchup_busy(n->replica, now);
        node_act(n, 0);
        return;
    }
    if (r->flags & EKV_MSG_F_SNAPSHOT) {
        on_snapshot_page(n, r);
        return;
    }
    for (size_t i = 0; i < r->nchanges; i++) {
        const ekv_msg_t *c = &r->changes[i];
        if (ekv_replica_log_entry(n->replica, c->seq)) {
            now = node_now_us(n);
            apply_change(n, c, now);
            node_record_visible(n, c->seq, c->time_us, now);
            node_note_change(n, c, now);
            n->st.changes_applied++;
        }
    }
    node_act(n, ekv_replica_log_done(n->replica, r->flags & EKV_MSG_F_MORE, node_now_us(n)));
}
