/* verify: `edgekv verify [--samples N]`: after the writes have stopped, compare every PoP with
 * the coordinator and report any difference.
 *   push-all PoPs hold a full replica: their digest of (namespace, key, version) over every
 *   live entry must equal the coordinator's digest of its store, entry count included;
 *   other PoPs hold what they read: a sample of their entries (N per PoP, most recently used
 *   first) is checked against the coordinator's current version of each key. Under ttl, kv and
 *   invalidate an older version still within its cacheTtl is allowed (that is the policy),
 *   and reported as such; anything else older is a difference.
 * Regional tiers, when the topology has them, are checked after the PoPs the same way (a tier
 * caches what its PoPs read through it).
 * Exits 1 when a PoP differs. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_mem.h"
#include "hclient.h"
#include "look.h"
#include "state.h"
#include "verify.h"

#define CHUNK 128

typedef struct {
    uint64_t ok, allowed, differ;
} tally_t;

/* Checks a PoP's sampled entries against the coordinator's current versions. */
/* Under ttl, kv and invalidate an older copy is allowed while it is fresh (within cacheTtl), and
 * past it as long as the PoP reaches the coordinator: the next read fetches anew then, so no
 * reader can get it. Cut off, that copy would be served (STALE): a difference. */
static void check_sample(const ekv_state_t *st, json_t *sample, const char *policy, int origin_up,
                         tally_t *t)
{
    size_t n = json_array_size(sample);
    int lenient = !strcmp(policy, "ttl") || !strcmp(policy, "kv") || !strcmp(policy, "invalidate");
    for (size_t base = 0; base < n; base += CHUNK) {
        size_t m = n - base < CHUNK ? n - base : CHUNK;
        ekv_hc_req_t *r = ekv_calloc(m, sizeof *r);
        for (size_t i = 0; i < m; i++) {
            json_t *e = json_array_get(sample, base + i);
            char key[1600];
            ekv_look_pct(key, sizeof key, json_string_value(json_object_get(e, "key")));
            r[i].method = "GET";
            snprintf(r[i].url, sizeof r[i].url,
                     "%s/client/v4/accounts/verify/storage/kv/namespaces/%s/values/%s",
                     st->coord.url, json_string_value(json_object_get(e, "ns")), key);
        }
        ekv_hc_run(r, m, 15000);
        for (size_t i = 0; i < m; i++) {
            json_t *e = json_array_get(sample, base + i);
            uint64_t have = (uint64_t)json_integer_value(json_object_get(e, "seq"));
            uint64_t truth =
                r[i].status == 200 && r[i].version ? strtoull(r[i].version, NULL, 10) : 0;
            int neg = json_is_true(json_object_get(e, "negative"));
            int same = neg ? (r[i].status == 404 || truth <= have) : truth == have;
            if (same)
                t->ok++;
            else if (lenient && (origin_up || json_is_true(json_object_get(e, "fresh"))))
                t->allowed++;
            else
                t->differ++;
            ekv_hc_req_fini(&r[i]);
        }
        free(r);
    }
}

int ekv_cmd_verify(int argc, char **argv)
{
    long samples = 100;
    if (argc == 3 && !strcmp(argv[1], "--samples"))
        samples = strtol(argv[2], NULL, 10);
    else if (argc != 1) {
        fprintf(stderr, "usage: edgekv verify [--samples N]\n");
        return 2;
    }
    ekv_state_t *st = NULL;
    if (ekv_state_load(&st) != 0) {
        fprintf(stderr, "edgekv: nothing is running; start a topology with `edgekv up`\n");
        return 1;
    }
    ekv_hc_req_t cd = {.method = "GET"};
    snprintf(cd.url, sizeof cd.url, "%s/_edgekv/digest", st->coord.url);
    ekv_hc_run(&cd, 1, 60000);
    json_t *coord = cd.status == 200 ? json_loads(cd.resp, 0, NULL) : NULL;
    ekv_hc_req_fini(&cd);
    if (!coord) {
        fprintf(stderr, "edgekv: the coordinator did not answer\n");
        ekv_state_destroy(&st);
        return 1;
    }
    const char *cdig = json_string_value(json_object_get(coord, "digest"));
    json_int_t centries = json_integer_value(json_object_get(coord, "entries"));
    printf("coordinator: %lld live keys, digest %s, seq %lld\n", (long long)centries, cdig,
           (long long)json_integer_value(json_object_get(coord, "seq")));
    /* PoPs, then tiers: every node that caches what readers get. */
    size_t n = st->npops + st->ntiers;
    const ekv_proc_t **nodes = ekv_calloc(n ? n : 1, sizeof *nodes);
    for (size_t i = 0; i < n; i++)
        nodes[i] = i < st->npops ? &st->pops[i] : &st->tiers[i - st->npops];
    ekv_hc_req_t *r = ekv_calloc(n ? n : 1, sizeof *r);
    for (size_t i = 0; i < n; i++) {
        r[i].method = "GET";
        snprintf(r[i].url, sizeof r[i].url, "%s/_edgekv/entries?max=%ld", nodes[i]->url, samples);
    }
    ekv_hc_run(r, n, 30000);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *j = r[i].status == 200 ? json_loads(r[i].resp, 0, NULL) : NULL;
        const char *pol = json_string_value(json_object_get(j, "policy"));
        char label[80];
        snprintf(label, sizeof label, "%s%s", nodes[i]->name, i < st->npops ? "" : " (tier)");
        printf("  %-10s %-10s ", label, pol ? pol : "?");
        if (!j || !pol) {
            printf("no answer: DIFFERS\n");
            bad++;
        } else if (!strcmp(pol, "push-all")) {
            int same = !strcmp(json_string_value(json_object_get(j, "digest")), cdig) &&
                       json_integer_value(json_object_get(j, "entries")) == centries;
            printf("replica of %lld keys, digest %s: %s\n",
                   (long long)json_integer_value(json_object_get(j, "entries")),
                   json_string_value(json_object_get(j, "digest")), same ? "same" : "DIFFERS");
            bad += !same;
        } else {
            tally_t t = {0, 0, 0};
            check_sample(st, json_object_get(j, "sample"), pol,
                         json_is_true(json_object_get(j, "coordinator_up")), &t);
            printf("%llu sampled entries: %llu current, %llu older but never served, %llu %s\n",
                   (unsigned long long)(t.ok + t.allowed + t.differ), (unsigned long long)t.ok,
                   (unsigned long long)t.allowed, (unsigned long long)t.differ,
                   t.differ ? "DIFFER" : "differ");
            bad += t.differ > 0;
        }
        json_decref(j);
        ekv_hc_req_fini(&r[i]);
    }
    printf("%s\n", bad ? "verify: some PoPs differ from the coordinator"
                       : "verify: every PoP agrees with the coordinator");
    free(r);
    free(nodes);
    json_decref(coord);
    ekv_state_destroy(&st);
    return bad ? 1 : 0;
}
