/* topology_fuzz: libFuzzer target of the topology loader (sim/topology).
 *
 * Any input must parse to a topology or to an error, never a crash, an over-read or a leak.
 * Beyond that the header's contract is checked, and any breach aborts (libFuzzer reports it
 * as a crash with the input as reproducer): a failure leaves "fuzz:LINE: problem" in err with
 * LINE >= 1; a success holds a known durability and 1 or more PoPs, each with a unique valid
 * name, a known policy and a finite, non-negative delay; tiers with unique names no PoP uses,
 * and every ttl or kv PoP reading through one of them (the one it names) when there are any.
 * replay_main.c feeds the committed corpus
 * (corpus/topology) to the same entry point under ctest. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology.h"

static void fail(const char *what)
{
    fprintf(stderr, "topology_fuzz: %s\n", what);
    abort();
}

static int known_policy(const char *p)
{
    return !strcmp(p, "push") || !strcmp(p, "push-all") || !strcmp(p, "invalidate") ||
           !strcmp(p, "ttl") || !strcmp(p, "kv");
}

static void check_error(const char *err)
{
    if (strncmp(err, "fuzz:", 5) != 0)
        fail("error does not start with the file name");
    const char *p = err + 5;
    int line = 0;
    while (*p >= '0' && *p <= '9')
        line = line * 10 + (*p++ - '0');
    if (p == err + 5 || line < 1 || p[0] != ':' || p[1] != ' ' || !p[2])
        fail("error is not 'fuzz:LINE: problem'");
}

static void check_topology(const ekv_topo_t *t)
{
    if (t->npops < 1 || !t->pops)
        fail("accepted without PoPs");
    if (!known_policy(t->policy))
        fail("unknown default policy accepted");
    if (strcmp(t->coord.durability, "fsync") && strcmp(t->coord.durability, "wal") &&
        strcmp(t->coord.durability, "none"))
        fail("unknown durability accepted");
    if (!(t->route_factor >= 1) || !(t->time_scale > 0))
        fail("route_factor or time_scale out of range");
    for (size_t i = 0; i < t->npops; i++) {
        const ekv_topo_pop_t *p = &t->pops[i];
        if (!p->name[0] ||
            strspn(p->name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(p->name))
            fail("invalid PoP name accepted");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->pops[j].name, p->name))
                fail("duplicate PoP name accepted");
        if (!known_policy(ekv_topo_policy(t, p)))
            fail("unknown PoP policy accepted");
        double d = ekv_topo_delay_ms(t, p);
        if (!isfinite(d) || d < 0)
            fail("delay is not a finite non-negative number");
        /* With tiers every ttl or kv PoP reads through one (named or nearest); without tiers,
         * or under a pushing policy, none does. */
        const ekv_topo_tier_t *tier = ekv_topo_pop_tier(t, p);
        const char *pol = ekv_topo_policy(t, p);
        int pulls = !strcmp(pol, "ttl") || !strcmp(pol, "kv");
        if ((tier != NULL) != (t->ntiers > 0 && pulls))
            fail("a tier for a pushing PoP or in a world without tiers, or none for a pulling one");
        if (tier) {
            d = ekv_topo_pop_tier_delay_ms(t, p, tier);
            if (!isfinite(d) || d < 0)
                fail("delay to the tier is not a finite non-negative number");
            if (p->tier[0] && strcmp(p->tier, tier->name) != 0)
                fail("a PoP reads through another tier than the one it names");
        }
    }
    for (size_t i = 0; i < t->ntiers; i++) {
        const ekv_topo_tier_t *tr = &t->tiers[i];
        if (!tr->name[0] ||
            strspn(tr->name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(tr->name))
            fail("invalid tier name accepted");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->tiers[j].name, tr->name))
                fail("duplicate tier name accepted");
        for (size_t j = 0; j < t->npops; j++)
            if (!strcmp(t->pops[j].name, tr->name))
                fail("a tier named like a PoP accepted");
        double d = ekv_topo_tier_delay_ms(t, tr);
        if (!isfinite(d) || d < 0 || !(ekv_topo_tier_cache_ttl(t, tr) >= 1))
            fail("a tier's delay or cacheTtl out of range");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    memset(err, 0, sizeof err);
    ekv_topo_t *t = ekv_topo_parse("fuzz", (const char *)data, size, err, sizeof err);
    if (t)
        check_topology(t);
    else
        check_error(err);
    ekv_topo_destroy(&t);
    if (t)
        fail("destroy did not clear the pointer");
    return 0;
}
