/* ekv_digest: an order-independent digest of a key-value state, for `edgekv verify`.
 *
 * Each live entry contributes a 64-bit FNV-1a hash of (namespace, key, version); entries are
 * combined by XOR, so a coordinator walking its store in key order and a PoP walking its
 * cache in LRU order agree exactly when they hold the same versions of the same keys. */
#ifndef EKV_DIGEST_H
#define EKV_DIGEST_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t ekv_digest_entry(const char *ns, size_t ns_len, const char *key,
                                        size_t key_len, uint64_t seq)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < ns_len; i++)
        h = (h ^ (uint8_t)ns[i]) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
    for (size_t i = 0; i < key_len; i++)
        h = (h ^ (uint8_t)key[i]) * 0x100000001b3ull;
    for (int i = 0; i < 8; i++)
        h = (h ^ ((seq >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    return h;
}

#endif
