/* ekv_hash: the one non-cryptographic hash of the project, 64-bit FNV-1a, for hash tables
 * and digests. Not for anything an attacker must not be able to collide on purpose. */
#ifndef EKV_HASH_H
#define EKV_HASH_H

#include <stddef.h>
#include <stdint.h>

#define EKV_FNV_SEED 0xcbf29ce484222325ull

/* Continues hash h over p[0..n). Start with EKV_FNV_SEED. */
static inline uint64_t ekv_fnv1a(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* A (namespace, key) pair: the namespace, a separator byte that keeps ("ab", "c") and
 * ("a", "bc") apart, then the key. */
static inline uint64_t ekv_hash_ns_key(const char *ns, size_t ns_len, const char *key,
                                       size_t key_len)
{
    uint64_t h = ekv_fnv1a(ns, ns_len, EKV_FNV_SEED);
    h = ekv_fnv1a("\xff", 1, h);
    return ekv_fnv1a(key, key_len, h);
}

#endif
