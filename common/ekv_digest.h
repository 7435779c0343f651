/* ekv_digest: an order-independent digest of a key-value state, for `edgekv verify`.
 *
 * Each live entry contributes a 64-bit FNV-1a hash of (namespace, key, version); entries are
 * combined by XOR, so a coordinator walking its store in key order and a PoP walking its
 * cache in LRU order agree exactly when they hold the same versions of the same keys. */
#ifndef EKV_DIGEST_H
#define EKV_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "ekv_hash.h"

static inline uint64_t ekv_digest_entry(const char *ns, size_t ns_len, const char *key,
                                        size_t key_len, uint64_t seq)
{
    uint8_t le[8]; /* the version, least significant byte first */
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(seq >> (8 * i));
    return ekv_fnv1a(le, 8, ekv_hash_ns_key(ns, ns_len, key, key_len));
}

#endif
