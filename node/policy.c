/* policy: the propagation policies (see policy.h). */
#include "policy.h"

#include <string.h>

#include "ekv_err.h"

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
