/* policy: the propagation policies (see policy.h). */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_hash.h"
#include "ekv_mem.h"

static const char *names[] = {"push", "push-all", "invalidate", "ttl", "kv"};
#define NPOLICIES (int)(sizeof names / sizeof names[0])

int ekv_policy_parse(const char *s, ekv_policy_t *out)
{
    for (int i = 0; i < NPOLICIES; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (ekv_policy_t)i;
            return EKV_OK;
        }
    return EKV_EINVAL;
}

const char *ekv_policy_name(ekv_policy_t p)
{
    return (unsigned)p < (unsigned)NPOLICIES ? names[p] : "unknown";
}

int ekv_policy_pushes(ekv_policy_t p)
{
    return p != EKV_POLICY_TTL && p != EKV_POLICY_KV;
}

void ekv_policy_apply(ekv_cache_t *cache, ekv_policy_t policy, const ekv_msg_t *c, int64_t now_us)
{
    if (policy == EKV_POLICY_KV)
        return; /* not even a lookup: a change must not warm the copy in the LRU */
    ekv_cache_item_t cur;
    int present = ekv_cache_lookup(cache, c->ns, c->key, now_us, &cur) == EKV_OK;
    switch (policy) {
    case EKV_POLICY_TTL:
    case EKV_POLICY_KV: /* cached copies, found or not, live out their cacheTtl */
        return;
    case EKV_POLICY_INVALIDATE:
        if (present && cur.seq < c->seq)
            ekv_cache_remove(cache, c->ns, c->key);
        return;
    case EKV_POLICY_PUSH:
        if (!present)
            return;
        break;
    case EKV_POLICY_PUSH_ALL:
        break;
    }
    ekv_cache_item_t it = {.seq = c->seq,
                           .commit_us = c->time_us,
                           .expiration = c->expiration,
                           .fresh_until_us = INT64_MAX,
                           .negative = c->op == EKV_OP_DELETE,
                           .has_meta = (c->flags & EKV_MSG_F_METADATA) != 0,
                           .meta = c->meta,
                           .value = c->value};
    ekv_cache_store(cache, c->ns, c->key, &it, now_us);
}

/* ---- served visibility (policy.h) ----------------------------------------------------- */

typedef struct skey skey_t;

/* A key with changes seen and not yet served here. */
struct skey {
    skey_t *chain;                      /* next in the hash bucket */
    skey_t *older, *newer;              /* in the order keys were first held */
    uint64_t seqs[EKV_SERVED_PER_KEY];  /* pending changes, ascending */
    size_t n;                           /* how many */
    size_t ns_len, key_len;
    char data[];                        /* namespace, then key */
};

typedef struct {
    uint64_t seq;      /* 0: empty */
    int64_t served_us; /* first served */
} sslot_t;

struct ekv_served {
    sslot_t *ring;          /* served times, by seq mod ring_cap */
    size_t ring_cap;        /* a power of two */
    skey_t **buckets;       /* pending keys, by hash; as many as max_keys rounded up */
    size_t nbuckets;        /* a power of two */
    skey_t *oldest, *newest;
    size_t nkeys, max_keys;
};

ekv_served_t *ekv_served_new(size_t ring_cap, size_t max_keys)
{
    if (ring_cap < 2 || (ring_cap & (ring_cap - 1)) || max_keys < 1)
        return NULL;
    ekv_served_t *s = ekv_calloc(1, sizeof *s);
    s->ring = ekv_calloc(ring_cap, sizeof *s->ring);
    s->ring_cap = ring_cap;
    for (s->nbuckets = 1; s->nbuckets < max_keys; s->nbuckets *= 2)
        ;
    s->buckets = ekv_calloc(s->nbuckets, sizeof *s->buckets);
    s->max_keys = max_keys;
    return s;
}

void ekv_served_destroy(ekv_served_t **self_p)
{
    ekv_served_t *s = *self_p;
    if (!s)
        return;
    for (skey_t *k = s->oldest, *next; k; k = next) {
        next = k->newer;
        free(k);
    }
    free(s->buckets);
    free(s->ring);
    free(s);
    *self_p = NULL;
}

static skey_t **skey_slot(ekv_served_t *s, ekv_bytes_t ns, ekv_bytes_t key)
{
    skey_t **b = &s->buckets[ekv_hash_ns_key(ns.ptr, ns.len, key.ptr, key.len) &
                             (s->nbuckets - 1)];
    while (*b && !((*b)->ns_len == ns.len && (*b)->key_len == key.len &&
                   !memcmp((*b)->data, ns.ptr, ns.len) &&
                   !memcmp((*b)->data + ns.len, key.ptr, key.len)))
        b = &(*b)->chain;
    return b;
}

/* Unlinks the key (slot: the link to it) and frees it. */
static void skey_drop(ekv_served_t *s, skey_t **slot)
{
    skey_t *k = *slot;
    *slot = k->chain;
    if (k->older)
        k->older->newer = k->newer;
    else
        s->oldest = k->newer;
    if (k->newer)
        k->newer->older = k->older;
    else
        s->newest = k->older;
    s->nkeys--;
    free(k);
}

void ekv_served_pending(ekv_served_t *s, ekv_bytes_t ns, ekv_bytes_t key, uint64_t seq)
{
    if (ekv_served_at(s, seq))
        return;
    skey_t **slot = skey_slot(s, ns, key);
    if (!*slot) {
        if (s->nkeys == s->max_keys) { /* the key waiting longest is forgotten */
            skey_t *o = s->oldest;
            skey_drop(s, skey_slot(s, (ekv_bytes_t){o->data, o->ns_len},
                                   (ekv_bytes_t){o->data + o->ns_len, o->key_len}));
            slot = skey_slot(s, ns, key);
        }
        skey_t *k = ekv_calloc(1, sizeof *k + ns.len + key.len);
        k->ns_len = ns.len;
        k->key_len = key.len;
        memcpy(k->data, ns.ptr, ns.len);
        memcpy(k->data + ns.len, key.ptr, key.len);
        k->older = s->newest;
        if (s->newest)
            s->newest->newer = k;
        else
            s->oldest = k;
        s->newest = k;
        *slot = k;
        s->nkeys++;
    }
    skey_t *k = *slot;
    size_t i = k->n;
    while (i > 0 && k->seqs[i - 1] >= seq) { /* catch-up may deliver out of order */
        if (k->seqs[i - 1] == seq)
            return;
        i--;
    }
    if (k->n == EKV_SERVED_PER_KEY) { /* full: the oldest pending change is forgotten */
        if (i == 0)
            return;
        memmove(k->seqs, k->seqs + 1, (i - 1) * sizeof *k->seqs);
        k->seqs[i - 1] = seq;
        return;
    }
    memmove(k->seqs + i + 1, k->seqs + i, (k->n - i) * sizeof *k->seqs);
    k->seqs[i] = seq;
    k->n++;
}

int ekv_served_mark(ekv_served_t *s, uint64_t seq, int64_t now_us)
{
    sslot_t *sl = &s->ring[seq & (s->ring_cap - 1)];
    if (sl->seq == seq)
        return 0;
    *sl = (sslot_t){seq, now_us};
    return 1;
}

size_t ekv_served_read(ekv_served_t *s, ekv_bytes_t ns, ekv_bytes_t key, uint64_t version,
                       int64_t now_us)
{
    if (s->nkeys == 0) /* the common case: nothing is waiting to be served */
        return 0;
    skey_t **slot = skey_slot(s, ns, key);
    skey_t *k = *slot;
    if (!k || k->seqs[0] > version)
        return 0;
    size_t done = 0;
    while (done < k->n && k->seqs[done] <= version)
        ekv_served_mark(s, k->seqs[done++], now_us);
    k->n -= done;
    memmove(k->seqs, k->seqs + done, k->n * sizeof *k->seqs);
    if (k->n == 0)
        skey_drop(s, slot);
    return done;
}

int64_t ekv_served_at(const ekv_served_t *s, uint64_t seq)
{
    const sslot_t *sl = &s->ring[seq & (s->ring_cap - 1)];
    return sl->seq == seq ? sl->served_us : 0;
}

size_t ekv_served_keys(const ekv_served_t *s)
{
    return s->nkeys;
}
