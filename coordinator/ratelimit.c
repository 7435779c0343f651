/* ratelimit: per-key last-write times in a chained hash table (see ratelimit.h). */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "ekv_hash.h"
#include "ekv_mem.h"

typedef struct slot slot_t;
struct slot {
    slot_t *next; /* chain */
    uint64_t hash;
    int64_t last_us; /* time of the last allowed write */
    size_t len;      /* bytes of the key below */
    char key[];      /* [ns length][ns][key] */
};

struct ekv_ratelimit {
    int64_t interval_us;
    slot_t **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
};

static uint64_t hash_of(const char *p, size_t n)
{
    return ekv_fnv1a(p, n, EKV_FNV_SEED);
}

ekv_ratelimit_t *ekv_ratelimit_new(int64_t interval_us)
{
    ekv_ratelimit_t *r = ekv_calloc(1, sizeof *r);
    r->interval_us = interval_us;
    r->nbuckets = 1024;
    r->buckets = ekv_calloc(r->nbuckets, sizeof *r->buckets);
    return r;
}

static void drop_where(ekv_ratelimit_t *r, int64_t before_us)
{
    for (size_t i = 0; i < r->nbuckets; i++) {
        for (slot_t **s = &r->buckets[i]; *s;) {
            if ((*s)->last_us >= before_us) {
                s = &(*s)->next;
                continue;
            }
            slot_t *dead = *s;
            *s = dead->next;
            free(dead);
            r->count--;
        }
    }
}

void ekv_ratelimit_destroy(ekv_ratelimit_t **self_p)
{
    ekv_ratelimit_t *r = *self_p;
    if (!r)
        return;
    drop_where(r, INT64_MAX);
    free(r->buckets);
    free(r);
    *self_p = NULL;
}

static void grow(ekv_ratelimit_t *r)
{
    size_t n = r->nbuckets * 2;
    slot_t **b = ekv_calloc(n, sizeof *b);
    for (size_t i = 0; i < r->nbuckets; i++)
        for (slot_t *s = r->buckets[i], *next; s; s = next) {
            next = s->next;
            s->next = b[s->hash & (n - 1)];
            b[s->hash & (n - 1)] = s;
        }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = n;
}

int ekv_ratelimit_allow(ekv_ratelimit_t *r, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us)
{
    if (r->interval_us <= 0)
        return 1;
    size_t nl = ns.len > 255 ? 255 : ns.len, len = 1 + nl + key.len;
    char stackbuf[1024], *k = len <= sizeof stackbuf ? stackbuf : ekv_malloc(len);
    k[0] = (char)nl;
    memcpy(k + 1, ns.ptr, nl);
    if (key.len)
        memcpy(k + 1 + nl, key.ptr, key.len);
    uint64_t h = hash_of(k, len);
    slot_t **s = &r->buckets[h & (r->nbuckets - 1)];
    while (*s && !((*s)->hash == h && (*s)->len == len && memcmp((*s)->key, k, len) == 0))
        s = &(*s)->next;
    int allowed = 1;
    if (*s) {
        allowed = now_us - (*s)->last_us >= r->interval_us;
        if (allowed)
            (*s)->last_us = now_us;
    } else {
        slot_t *n = ekv_malloc(sizeof *n + len);
        *n = (slot_t){*s, h, now_us, len};
        memcpy(n->key, k, len);
        *s = n;
        if (++r->count > r->nbuckets)
            grow(r);
    }
    if (k != stackbuf)
        free(k);
    return allowed;
}

void ekv_ratelimit_prune(ekv_ratelimit_t *r, int64_t now_us)
{
    if (r->interval_us > 0)
        drop_where(r, now_us - r->interval_us);
}

size_t ekv_ratelimit_size(const ekv_ratelimit_t *r)
{
    return r->count;
}
