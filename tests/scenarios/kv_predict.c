/* kv_predict: the kv world's predictions for theory_kv_test.sh (sim/analysis.h, "the kv
 * world"), so the scenario checks its measurements against the C model the unit test pins.
 *
 * Usage: kv_predict POP_RATE POP_TTL POP_HOT POP_LATE POPS TIER_TTL TIER_HOT TIER_LATE W
 *   per key: reads per second at each reader PoP, the PoPs' cacheTtl (s) and refresh-ahead
 *   (hot 0 = off), how many reader PoPs share the tier, the tier's cacheTtl and refresh-ahead,
 *   and writes per second. Prints one line of figures
 *     model pop_cycle_s pop_miss tier_rate tier_cycle_s tier_miss stale_ratio
 *   then, for each time t (seconds) read from stdin, "t P(fresh at t)". */
#include <stdio.h>
#include <stdlib.h>

#include "analysis.h"

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: kv_predict POP_RATE POP_TTL POP_HOT POP_LATE POPS TIER_TTL "
                        "TIER_HOT TIER_LATE W < times\n");
        return 2;
    }
    ekv_kv_model_t m = {
        .pop = {.rate = atof(argv[1]),
                .ttl = atof(argv[2]),
                .hot = atoi(argv[3]),
                .late = atof(argv[4])},
        .pops = (size_t)atol(argv[5]),
        .tier = {.ttl = atof(argv[6]), .hot = atoi(argv[7]), .late = atof(argv[8])}};
    double w = atof(argv[9]);
    ekv_cache_model_t tier = m.tier;
    tier.rate = ekv_kv_tier_rate(&m);
    printf("model %.6f %.6f %.6f %.6f %.6f %.6f\n", ekv_cache_cycle_s(&m.pop),
           ekv_cache_miss_share(&m.pop), tier.rate, ekv_cache_cycle_s(&tier),
           ekv_cache_miss_share(&tier), ekv_kv_stale_ratio(&m, w));
    double t;
    while (scanf("%lf", &t) == 1)
        printf("%.6f %.6f\n", t, ekv_kv_fresh_at(&m, t));
    return 0;
}
