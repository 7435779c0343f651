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
 * FNV-1a over the namespace number and the key, recomputed when the table grows (rare) rather
 * than stored. Namespace ids (32 bytes each) are interned in a small table and an entry keeps
 * a 16-bit number instead; with narrow length, expiration and time fields the header is 64
 * bytes, so an entry costs 72 bytes beyond its key, metadata and value, counting its bucket
 * (with 16 bytes of key and 100 of value, one 192-byte malloc chunk; 80 would take 208).
 *
 * Times: a copy's stored-at time is a uint32 of milliseconds since the cache's base time, and
 * its fresh-until time a uint32 life from then (see life_encode): both rounded down, so a copy
 * is never fresh longer than asked, and a time more than 1 ms before its fresh-until time
 * still finds it fresh (1 s for lives past ~24.8 days, which are kept in seconds). The base is set
 * so the present sits mid-range; a store more than ~24 days away from it moves the base and
 * rewrites every entry's times (rebase; every ~24 days of uptime, one pass over the entries): a
 * copy stored before the new base counts as stored at it (its age for refresh-ahead is capped at
 * ~24 days) with its fresh-until time kept. The read count saturates at 255: a --refresh-hot-reads
 * above 255 behaves as 255.
 *
 * Namespaces: the id comes from a request header, so any client can name new ones (a miss in
 * an unknown namespace caches a negative entry). The table is a hash of at most
 * EKV_CACHE_MAX_NS names, each counting its entries: a name goes when its last entry does,
 * and a new name arriving at a full table evicts cold entries until one has gone. So the
 * table never outgrows the cap, and the cap never stops a namespace from being cached. */
#include "cache.h"

#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_hash.h"
#include "ekv_mem.h"

typedef struct entry entry_t;

struct entry {
    entry_t *chain;       /* next in the hash bucket */
    entry_t *prev, *next; /* LRU neighbours (head = most recent) */
    uint64_t seq;         /* version */
    int64_t commit_us;    /* commit time of the version */
    uint32_t stored;      /* when this copy was stored: ms since the cache's base_us */
    uint32_t life;        /* fresh for this long from stored (life_encode) */
    uint32_t expiration;  /* epoch seconds, 0 = none (clamped to 2106) */
    uint32_t vlen;        /* value length */
    uint16_t klen;        /* key length (keys are at most 512 bytes) */
    uint16_t mlen;        /* metadata length (at most 1024) */
    uint16_t ns;          /* interned namespace number */
    uint8_t flags;        /* F_NEGATIVE, F_META, F_REFRESHED */
    uint8_t reads;        /* client reads since stored (saturates at 255) */
    char data[];          /* key, then metadata, then value */
};

/* 64 bytes: with a 16-byte key and a 100-byte value an entry fills a 192-byte malloc chunk */
_Static_assert(sizeof(entry_t) <= 64, "cache entry header grew past 64 bytes");

typedef struct {
    char *id;         /* namespace id (owned); NULL while the slot is free */
    size_t len;       /* id length */
    uint32_t entries; /* entries in this namespace, plus one while a store into it runs */
    uint16_t next;    /* next in its hash chain (or the free list): slot + 1, 0 for none */
} ns_name_t;

#define NS_BUCKETS 4096 /* hash chains of namespace names (a power of two) */

#define F_NEGATIVE  1
#define F_META      2
#define F_REFRESHED 4

/* Lives: below LIFE_SECONDS in milliseconds; with that bit set, the rest in seconds (up to 68
 * years; a cacheTtl may be 1e9 s), so only lives past ~24.8 days lose sub-second precision.
 * LIFE_NEVER: fresh for ever (fresh_until_us INT64_MAX). */
#define LIFE_SECONDS 0x80000000u
#define LIFE_NEVER   UINT32_MAX

/* A new base is this many ms before the store that sets it: ~24.8 days of room either way. */
#define HALF_MS ((int64_t)1 << 31)

struct ekv_cache {
    ns_name_t *names;     /* interned namespaces; an entry's ns indexes this */
    size_t nnames;        /* slots in use or freed (the array's length) */
    size_t nlive;         /* slots holding a name: at most EKV_CACHE_MAX_NS */
    uint16_t *ns_heads;   /* NS_BUCKETS chains of names: slot + 1, 0 for none */
    uint16_t ns_free;     /* the first free slot + 1, 0 for none */
    entry_t **buckets;    /* hash index */
    size_t nbuckets;      /* power of two */
    entry_t *head, *tail; /* LRU list */
    size_t max_bytes;     /* cap */
    int64_t base_us;      /* entries' stored times count from here (see rebase) */
    ekv_cache_stats_t st; /* counters */
};

/* A life of d microseconds from the stored time, rounded down. */
static uint32_t life_encode(uint64_t d)
{
    if (d / 1000 < LIFE_SECONDS)
        return (uint32_t)(d / 1000);
    uint64_t s = d / 1000000;
    return s < LIFE_NEVER - LIFE_SECONDS ? LIFE_SECONDS | (uint32_t)s : LIFE_NEVER - 1;
}

static int64_t life_us(uint32_t life)
{
    if (life & LIFE_SECONDS)
        return (int64_t)(life & ~LIFE_SECONDS) * 1000000;
    return (int64_t)life * 1000;
}

/* Times of e for a cache whose base is base_us. */
static int64_t stored_us(int64_t base_us, const entry_t *e)
{
    return base_us + (int64_t)e->stored * 1000;
}

static int64_t fresh_until_us(int64_t base_us, const entry_t *e)
{
    return e->life == LIFE_NEVER ? INT64_MAX : stored_us(base_us, e) + life_us(e->life);
}

/* Sets e's fresh-until time to until_us, rounded down to what the encoding holds; a time
 * before its stored time is its stored time (stale from then on either way). */
static void set_fresh_until(int64_t base_us, entry_t *e, int64_t until_us)
{
    int64_t from = stored_us(base_us, e);
    if (until_us == INT64_MAX)
        e->life = LIFE_NEVER;
    else if (until_us <= from)
        e->life = 0;
    else /* unsigned: the difference of two int64 values always fits */
        e->life = life_encode((uint64_t)until_us - (uint64_t)from);
}

/* A stored time of now_us: ms since base_us (rounded down), clamped into the uint32 range. */
static uint32_t stored_ms(int64_t base_us, int64_t now_us)
{
    if (now_us <= base_us)
        return 0;
    int64_t ms = (now_us - base_us) / 1000;
    return ms >= (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* Before a store at now_us: unless now_us is within range of the base, a base that puts it
 * HALF_MS on. Moving it rewrites each entry's stored time (clamped into the range) and life
 * (keeping its fresh-until time, rounded down; one already past before the new base is
 * past at the base, as it cannot be earlier than its stored time). */
static void rebase(ekv_cache_t *c, int64_t now_us)
{
    if (c->st.entries == 0) { /* nothing to rewrite */
        c->base_us = now_us - HALF_MS * 1000;
        return;
    }
    if (now_us >= c->base_us && (now_us - c->base_us) / 1000 < (int64_t)UINT32_MAX)
        return;
    /* a whole number of ms, so entries within range keep their lives exactly */
    int64_t base = c->base_us + (now_us - HALF_MS * 1000 - c->base_us) / 1000 * 1000;
    for (entry_t *e = c->head; e; e = e->next) {
        int64_t fresh = fresh_until_us(c->base_us, e);
        e->stored = stored_ms(base, stored_us(c->base_us, e));
        set_fresh_until(base, e, fresh);
    }
    c->base_us = base;
}

size_t ekv_cache_entry_size(size_t ns_len, size_t key_len, size_t meta_len, size_t value_len)
{
    (void)ns_len; /* interned: a namespace is paid for once, not per entry */
    /* one bucket pointer per entry at load factor 1, plus the entry and its bytes */
    return sizeof(entry_t) + sizeof(entry_t *) + key_len + meta_len + value_len;
}

static uint16_t *ns_chain(const ekv_cache_t *c, const char *id, size_t len)
{
    return &c->ns_heads[ekv_fnv1a(id, len, EKV_FNV_SEED) & (NS_BUCKETS - 1)];
}

/* The number of namespace ns, or -1 when it holds no entries. */
static int ns_number(const ekv_cache_t *c, ekv_bytes_t ns)
{
    for (uint16_t s = *ns_chain(c, ns.ptr, ns.len); s; s = c->names[s - 1].next)
        if (c->names[s - 1].len == ns.len && memcmp(c->names[s - 1].id, ns.ptr, ns.len) == 0)
            return s - 1;
    return -1;
}

static void drop_entry(ekv_cache_t *c, entry_t *e);

/* The number of namespace ns, interned when new; at a full table the coldest entries go
 * until a name is free. -1 only when every name is held by a store under way (never). */
static int ns_intern(ekv_cache_t *c, ekv_bytes_t ns)
{
    int n = ns_number(c, ns);
    if (n >= 0)
        return n;
    while (c->nlive >= EKV_CACHE_MAX_NS && c->tail) {
        c->st.evictions++;
        drop_entry(c, c->tail);
    }
    if (c->nlive >= EKV_CACHE_MAX_NS)
        return -1;
    if (c->ns_free) {
        n = c->ns_free - 1;
        c->ns_free = c->names[n].next;
    } else {
        c->names = ekv_realloc(c->names, (c->nnames + 1) * sizeof *c->names);
        n = (int)c->nnames++;
    }
    uint16_t *chain = ns_chain(c, ns.ptr, ns.len);
    c->names[n] = (ns_name_t){ekv_memdup(ns.ptr, ns.len), ns.len, 0, *chain};
    *chain = (uint16_t)(n + 1);
    c->nlive++;
    return n;
}

/* One entry (or store) of namespace n less; the name goes with its last entry. */
static void ns_release(ekv_cache_t *c, int n)
{
    ns_name_t *name = &c->names[n];
    if (--name->entries > 0)
        return;
    uint16_t *s = ns_chain(c, name->id, name->len);
    while (*s != n + 1)
        s = &c->names[*s - 1].next;
    *s = name->next;
    free(name->id);
    *name = (ns_name_t){NULL, 0, 0, c->ns_free};
    c->ns_free = (uint16_t)(n + 1);
    c->nlive--;
}

static uint64_t hash_of(int ns, const char *key, size_t len)
{
    uint16_t n = (uint16_t)ns;
    return ekv_fnv1a(key, len, ekv_fnv1a(&n, sizeof n, EKV_FNV_SEED));
}

static uint64_t entry_hash(const entry_t *e)
{
    return hash_of(e->ns, e->data, e->klen);
}

static entry_t **find_slot(const ekv_cache_t *c, int ns, ekv_bytes_t key, uint64_t h)
{
    entry_t **slot = &c->buckets[h & (c->nbuckets - 1)];
    while (*slot && !((*slot)->ns == ns && (*slot)->klen == key.len &&
                      memcmp((*slot)->data, key.ptr, key.len) == 0))
        slot = &(*slot)->chain;
    return slot;
}

/* The slot of (ns, key), or NULL when its namespace was never stored. */
static entry_t **lookup_slot(const ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key)
{
    int n = ns_number(c, ns);
    return n < 0 ? NULL : find_slot(c, n, key, hash_of(n, key.ptr, key.len));
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
    ns_release(c, e->ns);
    free(e);
}

static void drop_entry(ekv_cache_t *c, entry_t *e)
{
    entry_t **slot = &c->buckets[entry_hash(e) & (c->nbuckets - 1)];
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
            uint64_t h = entry_hash(e);
            e->chain = b[h & (n - 1)];
            b[h & (n - 1)] = e;
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
    c->ns_heads = ekv_calloc(NS_BUCKETS, sizeof *c->ns_heads);
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
    for (size_t i = 0; i < c->nnames; i++)
        free(c->names[i].id);
    free(c->names);
    free(c->ns_heads);
    free(c->buckets);
    free(c);
    *self_p = NULL;
}

static int is_expired(const entry_t *e, int64_t now_us)
{
    return e->expiration != 0 && now_us >= (int64_t)e->expiration * 1000000;
}

static void fill_item(const ekv_cache_t *c, const entry_t *e, ekv_cache_item_t *it)
{
    it->seq = e->seq;
    it->commit_us = e->commit_us;
    it->expiration = e->expiration;
    it->fresh_until_us = fresh_until_us(c->base_us, e);
    it->stored_us = stored_us(c->base_us, e);
    it->reads = e->reads;
    it->refreshed = (e->flags & F_REFRESHED) != 0;
    it->negative = (e->flags & F_NEGATIVE) != 0;
    it->has_meta = (e->flags & F_META) != 0;
    it->meta.ptr = e->data + e->klen;
    it->meta.len = e->mlen;
    it->value.ptr = e->data + e->klen + e->mlen;
    it->value.len = e->vlen;
}

/* The live entry of (ns, key), made most recent; NULL when absent or expired (dropped). */
static entry_t *touch(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us)
{
    entry_t **slot = lookup_slot(c, ns, key);
    if (!slot || !*slot)
        return NULL;
    if (is_expired(*slot, now_us)) {
        c->st.expired++;
        drop(c, slot);
        return NULL;
    }
    entry_t *e = *slot;
    lru_unlink(c, e);
    lru_push_head(c, e);
    return e;
}

int ekv_cache_lookup(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us,
                     ekv_cache_item_t *item)
{
    entry_t *e = touch(c, ns, key, now_us);
    if (!e)
        return EKV_ENOTFOUND;
    fill_item(c, e, item);
    return EKV_OK;
}

int ekv_cache_read(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us,
                   ekv_cache_item_t *item)
{
    entry_t *e = touch(c, ns, key, now_us);
    if (!e)
        return EKV_ENOTFOUND;
    if (e->reads < UINT8_MAX)
        e->reads++;
    fill_item(c, e, item);
    return EKV_OK;
}

int ekv_cache_peek(const ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us,
                   ekv_cache_item_t *item)
{
    entry_t **slot = lookup_slot(c, ns, key);
    if (!slot || !*slot || is_expired(*slot, now_us))
        return EKV_ENOTFOUND;
    fill_item(c, *slot, item);
    return EKV_OK;
}

static entry_t *build(const ekv_cache_t *c, int ns, ekv_bytes_t key, const ekv_cache_item_t *it,
                      int64_t now_us)
{
    size_t ml = it->has_meta ? it->meta.len : 0;
    size_t vl = it->negative ? 0 : it->value.len;
    entry_t *e = ekv_malloc(sizeof *e + key.len + ml + vl);
    memset(e, 0, sizeof *e);
    e->seq = it->seq;
    e->commit_us = it->commit_us;
    e->expiration = it->expiration <= 0           ? 0
                    : it->expiration > UINT32_MAX ? UINT32_MAX
                                                  : (uint32_t)it->expiration;
    e->stored = stored_ms(c->base_us, now_us);
    set_fresh_until(c->base_us, e, it->fresh_until_us);
    e->klen = (uint16_t)key.len;
    e->mlen = (uint16_t)ml;
    e->vlen = (uint32_t)vl;
    e->ns = (uint16_t)ns;
    e->flags = (uint8_t)((it->negative ? F_NEGATIVE : 0) | (it->has_meta ? F_META : 0) |
                         (it->refreshed ? F_REFRESHED : 0));
    if (key.len)
        memcpy(e->data, key.ptr, key.len);
    if (ml)
        memcpy(e->data + key.len, it->meta.ptr, ml);
    if (vl)
        memcpy(e->data + key.len + ml, it->value.ptr, vl);
    return e;
}

int ekv_cache_store(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, const ekv_cache_item_t *it,
                    int64_t now_us)
{
    if (key.len > UINT16_MAX || (it->has_meta && it->meta.len > UINT16_MAX) ||
        (!it->negative && it->value.len > UINT32_MAX))
        return EKV_ETOOBIG;
    int n = ns_intern(c, ns);
    if (n < 0)
        return EKV_ETOOBIG;
    c->names[n].entries++; /* held: the drops below must not free its number */
    uint64_t h = hash_of(n, key.ptr, key.len);
    entry_t **slot = find_slot(c, n, key, h);
    if (*slot && (*slot)->seq > it->seq) {
        ns_release(c, n);
        return EKV_EEXIST;
    }
    rebase(c, now_us);
    entry_t *e = build(c, n, key, it, now_us);
    size_t need = size_of(e);
    if (need > c->max_bytes) {
        free(e);
        if (*slot)
            drop(c, slot);
        ns_release(c, n);
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
    return EKV_OK; /* the hold on n is now the new entry's */
}

int ekv_cache_remove(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key)
{
    entry_t **slot = lookup_slot(c, ns, key);
    if (!slot || !*slot)
        return EKV_ENOTFOUND;
    drop(c, slot);
    return EKV_OK;
}

void ekv_cache_lower_fresh(ekv_cache_t *c, ekv_bytes_t ns, ekv_bytes_t key, int64_t until_us)
{
    entry_t **slot = lookup_slot(c, ns, key);
    entry_t *e = slot ? *slot : NULL;
    if (e && fresh_until_us(c->base_us, e) > until_us)
        set_fresh_until(c->base_us, e, until_us);
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
    out->namespaces = c->nlive;
}

void ekv_cache_visit(const ekv_cache_t *c, int64_t now_us,
                     int (*fn)(void *arg, ekv_bytes_t ns, ekv_bytes_t key,
                               const ekv_cache_item_t *item),
                     void *arg)
{
    for (const entry_t *e = c->head; e; e = e->next) {
        if (is_expired(e, now_us))
            continue;
        ekv_cache_item_t it;
        fill_item(c, e, &it);
        const ns_name_t *n = &c->names[e->ns];
        if (fn(arg, (ekv_bytes_t){n->id, n->len}, (ekv_bytes_t){e->data, e->klen}, &it))
            return;
    }
}
