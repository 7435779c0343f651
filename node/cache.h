/* cache: a PoP's local cache of key-value entries (logic only: no I/O, time passed in).
 *
 * Design: a chained hash index over entries keyed by (namespace, key), plus one LRU list.
 * Each entry is one allocation holding its header, key, metadata and value, and its size is
 * counted against a byte cap; storing past the cap evicts from the cold end of the LRU.
 * Entries are positive (a value) or negative (known not to exist). Each carries its version
 * (the coordinator's sequence number), commit time, absolute expiration and fresh-until time
 * (from cacheTtl), and for refresh-ahead the time it was stored and how often it was read
 * since (ekv_cache_read). Expiration always wins: an expired entry is never returned and is dropped
 * when seen (lazily) or by ekv_cache_expire_some() (incrementally).
 *
 * Invariants: bytes == sum of entry sizes <= max_bytes after every store; a store never
 * replaces an entry with an older version; entries span at most EKV_CACHE_MAX_NS namespaces. Items
 * returned by lookup are borrowed until the next call that changes the cache. */
#ifndef EKV_CACHE_H
#define EKV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "ekv_msg.h"

typedef struct ekv_cache ekv_cache_t;

typedef struct {
    uint64_t seq;           /* version: coordinator sequence number (0 = unknown) */
    int64_t commit_us;      /* commit time of this version */
    int64_t expiration;     /* absolute expiration, epoch seconds; 0 = none */
    int64_t fresh_until_us; /* served without revalidation until then; INT64_MAX = always
                               (kept rounded down: to the ms, the s past a ~24.8-day life) */
    int64_t stored_us;      /* lookups: when this copy was stored, to the ms (store ignores) */
    uint32_t reads;         /* lookups: reads of this copy since stored, at most 255 (store
                               ignores) */
    int refreshed;          /* 1: stored by a refresh ahead of its expiry */
    int negative;           /* 1: the key is known not to exist */
    int has_meta;           /* 1: meta holds metadata JSON */
    ekv_bytes_t meta;       /* metadata JSON text */
    ekv_bytes_t value;      /* value bytes */
} ekv_cache_item_t;

typedef struct {
    uint64_t entries;    /* entries held */
    uint64_t bytes;      /* bytes counted against the cap */
    uint64_t evictions;  /* entries evicted for space */
    uint64_t expired;    /* entries dropped past their expiration */
    uint64_t namespaces; /* namespaces holding entries (at most EKV_CACHE_MAX_NS) */
} ekv_cache_stats_t;

/* Namespaces the cache holds entries of at once; storing into one more evicts the least
 * recently used entries until a namespace has none left. */
#define EKV_CACHE_MAX_NS 4096

/* A new empty cache holding at most max_bytes of entries. */
ekv_cache_t *ekv_cache_new(size_t max_bytes);
void ekv_cache_destroy(ekv_cache_t **self_p);

/* Looks up (ns, key) at time now_us. EKV_OK fills *item (borrowed) and marks the entry most
 * recently used; EKV_ENOTFOUND when absent or expired (an expired entry is dropped). */
int ekv_cache_lookup(ekv_cache_t *self, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us,
                     ekv_cache_item_t *item);

/* As ekv_cache_lookup, for a read a client made: the entry's read count goes up by one
 * (*item shows the count with this read), so refresh-ahead can tell hot copies. */
int ekv_cache_read(ekv_cache_t *self, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us,
                   ekv_cache_item_t *item);

/* As ekv_cache_lookup without any side effect: the LRU order, the read count and the entry
 * stay as they are, even when the entry is past its expiration (EKV_ENOTFOUND then). */
int ekv_cache_peek(const ekv_cache_t *self, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us,
                   ekv_cache_item_t *item);

/* Stores a copy of *item for (ns, key), stored at now_us with no reads yet. Returns EKV_OK,
 * EKV_EEXIST when the cache holds a newer version (nothing changes), or EKV_ETOOBIG when the entry
 * alone exceeds the cap. */
int ekv_cache_store(ekv_cache_t *self, ekv_bytes_t ns, ekv_bytes_t key,
                    const ekv_cache_item_t *item, int64_t now_us);

/* Drops (ns, key); EKV_ENOTFOUND when absent. */
int ekv_cache_remove(ekv_cache_t *self, ekv_bytes_t ns, ekv_bytes_t key);

/* Sets the fresh-until time of (ns, key) to at most until_us (a lower cacheTtl lowers it). */
void ekv_cache_lower_fresh(ekv_cache_t *self, ekv_bytes_t ns, ekv_bytes_t key, int64_t until_us);

/* Examines up to `budget` entries from the cold end and drops expired ones; returns how many
 * were dropped. Call periodically so expired entries do not wait for eviction. */
size_t ekv_cache_expire_some(ekv_cache_t *self, int64_t now_us, size_t budget);

void ekv_cache_stats(const ekv_cache_t *self, ekv_cache_stats_t *out);

/* Calls fn for each entry not expired at now_us, most recently used first, until fn returns
 * non-zero. Items are borrowed for the call; fn must not change the cache. */
void ekv_cache_visit(const ekv_cache_t *self, int64_t now_us,
                     int (*fn)(void *arg, ekv_bytes_t ns, ekv_bytes_t key,
                               const ekv_cache_item_t *item),
                     void *arg);

/* Bytes an entry of these sizes costs against the cap (header + key + meta + value). */
size_t ekv_cache_entry_size(size_t ns_len, size_t key_len, size_t meta_len, size_t value_len);

#endif
