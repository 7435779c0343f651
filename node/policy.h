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

#endif
