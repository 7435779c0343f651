/* ratelimit: the same-key write rate limit of Workers KV (logic only, time passed in).
 *
 * A write to a key is allowed when no write to that key was allowed in the last interval
 * (1 s by default, so 1 write per second per key); a refused write does not count. The table
 * holds only keys written within the last interval: ekv_ratelimit_prune() drops the rest, so
 * memory follows the recent write rate, not the key space. An interval of 0 turns it off. */
#ifndef EKV_RATELIMIT_H
#define EKV_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "ekv_msg.h"

typedef struct ekv_ratelimit ekv_ratelimit_t;

ekv_ratelimit_t *ekv_ratelimit_new(int64_t interval_us);
void ekv_ratelimit_destroy(ekv_ratelimit_t **self_p);

/* 1 when a write to (ns, key) at now_us is allowed (and recorded), 0 when refused. */
int ekv_ratelimit_allow(ekv_ratelimit_t *self, ekv_bytes_t ns, ekv_bytes_t key, int64_t now_us);
/* Forgets writes older than the interval. */
void ekv_ratelimit_prune(ekv_ratelimit_t *self, int64_t now_us);
/* Keys currently remembered. */
size_t ekv_ratelimit_size(const ekv_ratelimit_t *self);

#endif
