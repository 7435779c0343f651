/* cache: hash index + LRU + byte cap (see cache.h).
 *
 * Eviction: when a store would take the cache past max_bytes, entries are dropped from the
 * tail of the LRU list (least recently used first) until the new entry fits. Lookups and
 * stores move an entry to the head. This is plain LRU: the workloads edgekv models (zipf key
 * popularity) keep their hot set at the head, and every decision is O(1).
 *
 * Expiry: an entry past its absolute expiration is treated as absent the moment it is looked
 * up (lazy), and ekv_cache_expire_some() walks a bounded number of entries from the cold end
 * on a timer (active), so memory held by dead entries is reclaimed without a full scan.
 *
 * The index is a power-of-two array of chains, doubled when entries exceed buckets; hashes are
 * FNV-1a over the namespace-prefixed key and kept in the entry so resizing never rehashes
 * bytes. */
#include "cache.h"

#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_mem.h"

typedef struct entry entry_t;

struct entry {
    entry_t *chain;       /* next in the hash bucket */
    entry_t *prev, *next; /* LRU neighbours (head = most recent) */
    uint64_t hash;        /* hash of the full key */
    uint64_t seq;         /* version */
    int64_t commit_us;    /* commit time of the version */
    int64_t expiration;   /* epoch seconds, 0 = none */
    int64_t fresh_until;  /* microseconds */
    uint32_t klen;        /* length of the full key (ns length byte + ns + key) */
    uint32_t mlen;        /* metadata length */
    uint32_t vlen;        /* value length */
    uint8_t flags;        /* F_NEGATIVE, F_META */
    char data[];          /* full key, then metadata, then value */
};

#define F_NEGATIVE 1
#define F_META     2

struct ekv_cache {
    entry_t **buckets;   /* hash index */
    size_t nbuckets;     /* power of two */
    entry_t *head, *tail;/* LRU list */
    size_t max_bytes;    /* cap */
    ekv_cache_stats_t st;/* counters */
};

size_t ekv_cache_entry_size(size_t ns_len, size_t key_len, size_t meta_len, size_t value_len)
{
    /* one bucket pointer per entry at load factor 1, plus the entry and its bytes */
    return sizeof(entry_t) + sizeof(entry_t *) + 1 + ns_len + key_len + meta_len + value_len;
}

static uint64_t fnv1a(const char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 0x100000001b3ull;
    return h;
}

/* Hashes the full key [ns length][ns][key] without building it. */
static uint64_t hash_of(ekv_bytes_t ns, ekv_bytes_t key)
{
    uint8_t nl = (uint8_t)(ns.len > 255 ? 255 : ns.len);
    uint64_t h = fnv1a((const char *)&nl, 1, 0xcbf29ce484222325ull);
    return fnv1a(key.ptr, key.len, fnv1a(ns.ptr, nl, h));
}

static int same_key(const entry_t *e, ekv_bytes_t ns, ekv_bytes_t key)
{
    size_t nl = ns.len > 255 ? 255 : ns.len;
    return e->klen == 1 + nl + key.len && (uint8_t)e->data[0] == nl &&
           memcmp(e->data + 1, ns.ptr, nl) == 0 && memcmp(e->data + 1 + nl, key.ptr, key.len) == 0;
}

static entry_t **find_slot(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, uint64_t h)
{
    entry_t **slot = &c->buckets[h & (c->nbuckets - 1)];
    while (*slot && !((*slot)->hash == h && same_key(*slot, ns, key)))
        slot = &(*slot)->chain;
    return slot;
}

static size_t size_of(const entry_t *e)
{
    return sizeof(entry_t) + sizeof(entry_t *) + e->klen + e->mlen + e->vlen;
}

static void lru_unlink(ekv_cache_t *c, entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_head(ekv_cache_t *c, entry_t *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* Unlinks e from its chain (slot points at the link to it) and the LRU, and frees it. */
static void drop(ekv_cache_t *c, entry_t **slot)
{
    entry_t *e = *slot;
    *slot = e->chain;
    lru_unlink(c, e);
    c->st.entries--;
    c->st.bytes -= size_of(e);
    free(e);
}

static void drop_entry(ekv_cache_t *c, entry_t *e)
{
    entry_t **slot = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*slot != e)
        slot = &(*slot)->chain;
    drop(c, slot);
}

static void grow(ekv_cache_t *c)
{
    size_t n = c->nbuckets * 2;
    entry_t **b = ekv_calloc(n, sizeof *b);
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry_t *e = c->buckets[i];
        while (e) {
            entry_t *next = e->chain;
            e->chain = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

ekv_cache_t *ekv_cache_new(size_t max_bytes)
{
    ekv_cache_t *c = ekv_calloc(1, sizeof *c);
    c->nbuckets = 1024;
    c->buckets = ekv_calloc(c->nbuckets, sizeof *c->buckets);
    c->max_bytes = max_bytes;
    return c;
}

void ekv_cache_destroy(ekv_cache_t **self_p)
{
    ekv_cache_t *c = *self_p;
    if (!c)
        return;
    for (entry_t *e = c->head, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    free(c->buckets);
    free(c);
    *self_p = NULL;
}

static int is_expired(const entry_t *e, int64_t now_us)
{
    return e->expiration != 0 && now_us >= e->expiration * 1000000;
}

static void fill_item(const entry_t *e, ekv_cache_item_t *it)
{
    it->seq = e->seq;
    it->commit_us = e->commit_us;
    it->expiration = e->expiration;
    it->fresh_until_us = e->fresh_until;
    it->negative = (e->flags & F_NEGATIVE) != 0;
    it->has_meta = (e->flags & F_META) != 0;
    it->meta.ptr = e->data + e->klen;
    it->meta.len = e->mlen;
    it->value.ptr = e->data + e->klen + e->mlen;
    it->value.len = e->vlen;
}

int ekv_cache_lookup(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us,
                     ekv_cache_item_t *item)
{
    entry_t **slot = find_slot(c, ns, key, hash_of(ns, key));
    if (!*slot)
        return EKV_ENOTFOUND;
    if (is_expired(*slot, now_us)) {
        c->st.expired++;
        drop(c, slot);
        return EKV_ENOTFOUND;
    }
    entry_t *e = *slot;
    lru_unlink(c, e);
    lru_push_head(c, e);
    fill_item(e, item);
    return EKV_OK;
}

static entry_t *build(ekv_bytes_t ns, ekv_bytes_t key, const ekv_cache_item_t *it, uint64_t h)
{
    size_t nl = ns.len > 255 ? 255 : ns.len;
    size_t ml = it->has_meta ? it->meta.len : 0;
    size_t vl = it->negative ? 0 : it->value.len;
    entry_t *e = ekv_malloc(sizeof *e + 1 + nl + key.len + ml + vl);
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->seq = it->seq;
    e->commit_us = it->commit_us;
    e->expiration = it->expiration;
    e->fresh_until = it->fresh_until_us;
    e->klen = (uint32_t)(1 + nl + key.len);
    e->mlen = (uint32_t)ml;
    e->vlen = (uint32_t)vl;
    e->flags = (uint8_t)((it->negative ? F_NEGATIVE : 0) | (it->has_meta ? F_META : 0));
    char *p = e->data;
    *p++ = (char)nl;
    memcpy(p, ns.ptr, nl);
    p += nl;
    if (key.len)
        memcpy(p, key.ptr, key.len);
    p += key.len;
    if (ml)
        memcpy(p, it->meta.ptr, ml);
    if (vl)
        memcpy(p + ml, it->value.ptr, vl);
    return e;
}

int ekv_cache_store(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, const ekv_cache_item_t *it,
                    int64_t now_us)
{
    (void)now_us;
    uint64_t h = hash_of(ns, key);
    entry_t **slot = find_slot(c, ns, key, h);
    if (*slot && (*slot)->seq > it->seq)
        return EKV_EEXIST;
    entry_t *e = build(ns, key, it, h);
    size_t need = size_of(e);
    if (need > c->max_bytes) {
        free(e);
        if (*slot)
            drop(c, slot);
        return EKV_ETOOBIG;
    }
    if (*slot)
        drop(c, slot);
    while (c->st.bytes + need > c->max_bytes && c->tail) {
        c->st.evictions++;
        drop_entry(c, c->tail);
    }
    if (c->st.entries + 1 > c->nbuckets)
        grow(c);
    entry_t **b = &c->buckets[h & (c->nbuckets - 1)];
    e->chain = *b;
    *b = e;
    lru_push_head(c, e);
    c->st.entries++;
    c->st.bytes += need;
    return EKV_OK;
}

int ekv_cache_remove(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key)
{
    entry_t **slot = find_slot(c, ns, key, hash_of(ns, key));
    if (!*slot)
        return EKV_ENOTFOUND;
    drop(c, slot);
    return EKV_OK;
}

void ekv_cache_lower_fresh(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, int64_t until_us)
{
    entry_t *e = *find_slot(c, ns, key, hash_of(ns, key));
    if (e && e->fresh_until > until_us)
        e->fresh_until = until_us;
}

size_t ekv_cache_expire_some(ekv_cache_t *c, int64_t now_us, size_t budget)
{
    size_t dropped = 0;
    entry_t *e = c->tail;
    while (e && budget-- > 0) {
        entry_t *prev = e->prev;
        if (is_expired(e, now_us)) {
            drop_entry(c, e);
            c->st.expired++;
            dropped++;
        }
        e = prev;
    }
    return dropped;
}

void ekv_cache_stats(const ekv_cache_t *c, ekv_cache_stats_t *out)
{
    *out = c->st;
}
