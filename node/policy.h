/* policy: how a PoP's cache treats a change arriving from the coordinator (logic only).
 *
 *   push        a change replaces the cached entry of its key; uncached keys stay uncached
 *   push-all    every change is stored, cached or not: a full replica (as Quicksilver)
 *   invalidate  a change drops the cached entry; the next read fetches from origin
 *   ttl         changes are ignored; entries live out their cacheTtl
 *   kv          Workers KV (KV-SPEC 5): changes are ignored as under ttl; on top of that the
 *               node refreshes hot keys ahead of their cacheTtl and caches list results
 * A delete is stored as a negative entry carrying its version (push, push-all), so an older
 * put arriving later (catch-up after a gap) can never resurrect the key. Entries stored by a
 * push never go stale; their freshness is the node's business (node_fresh_until). */
#ifndef EKV_POLICY_H
#define EKV_POLICY_H

#include <stdint.h>

#include "cache.h"
#include "ekv_msg.h"

typedef enum {
    EKV_POLICY_PUSH = 0,
    EKV_POLICY_PUSH_ALL,
    EKV_POLICY_INVALIDATE,
    EKV_POLICY_TTL,
    EKV_POLICY_KV,
} ekv_policy_t;

/* Parses "push", "push-all", "invalidate", "ttl" or "kv"; EKV_EINVAL otherwise. */
int ekv_policy_parse(const char *s, ekv_policy_t *out);
const char *ekv_policy_name(ekv_policy_t p);

/* 1 when changes pushed by the coordinator reach cached copies (push, push-all, invalidate);
 * 0 when copies live out their cacheTtl whatever is written meanwhile (ttl, kv). */
int ekv_policy_pushes(ekv_policy_t p);

/* Applies one CHANGE to the cache at now_us under the policy. */
void ekv_policy_apply(ekv_cache_t *cache, ekv_policy_t policy, const ekv_msg_t *change,
                      int64_t now_us);

/* ---- served visibility -------------------------------------------------------------------
 *
 * When a change became visible to readers here, as opposed to when it arrived: "first
 * served" is the first moment a read at this PoP returned a version >= the change's sequence
 * for its key. Under a pushing policy that is the arrival; under ttl and kv it is when the
 * cached copy expired or was refreshed and a read fetched the new version. The tracker keeps,
 * per key, the changes seen here and not yet served (from CHANGE messages even when the
 * policy does not apply them), and a direct-mapped ring of served times by sequence (a
 * sequence whose slot a newer one took reads as unknown). Memory is bounded: at most
 * EKV_SERVED_PER_KEY pending changes a key (older ones are forgotten, never served) and
 * max_keys keys (the key waiting longest is forgotten first). Logic only; time passed in. */

#define EKV_SERVED_PER_KEY 8

typedef struct ekv_served ekv_served_t;

/* A tracker of ring_cap served times (a power of two >= 2) and max_keys keys (>= 1). */
ekv_served_t *ekv_served_new(size_t ring_cap, size_t max_keys);
void ekv_served_destroy(ekv_served_t **self_p);

/* Change seq of (ns, key) was seen here but no read has returned it yet. */
void ekv_served_pending(ekv_served_t *self, ekv_bytes_t ns, ekv_bytes_t key, uint64_t seq);
/* Change seq is served from now_us on (a pushing policy applied it, or a write made here was
 * acknowledged); 1 if that is news, 0 if it was served already. */
int ekv_served_mark(ekv_served_t *self, uint64_t seq, int64_t now_us);
/* A read of (ns, key) returned version; every pending change of the key at or below it is
 * served now. Returns how many were. */
size_t ekv_served_read(ekv_served_t *self, ekv_bytes_t ns, ekv_bytes_t key, uint64_t version,
                       int64_t now_us);
/* When seq was first served here; 0 if not (yet), or no longer known. */
int64_t ekv_served_at(const ekv_served_t *self, uint64_t seq);
/* Keys with pending changes held now. */
size_t ekv_served_keys(const ekv_served_t *self);

#endif
