/* tvis_predict_test: the predicted t-visibility of a run (sim/analysis.h, ekv_tvis_predict).
 *
 * Hand-made worlds whose answer is worked out here:
 *   - one key: the curve is that key's f(t) (ttl, no tier: 1 - rT/(1 + rT) (1 - t/T)); with
 *     a link delay the fetch's round trip counted; a writer PoP fresh with its own writes;
 *   - two keys of different rates: weighted by r w e^{-wt} as the formula says (numbers
 *     computed by hand below);
 *   - push: a step at each PoP's delay, read-weighted over PoPs; uniform jitter turns the
 *     step into a ramp; a PoP without a copy serves a miss, fresh;
 *   - invalidate: before the arrival a read is stale only when the PoP holds a copy;
 *   - through a tier: ekv_tvis_fresh is ekv_kv_fresh_at for identical PoPs, and the bins'
 *     tabulated convolution follows it;
 *   - 10,000 zipf keys and 300 PoPs behind 9 tiers: predicted within a second. */
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "analysis.h"
#include "ekv_test.h"

static double p_bins[6000];

/* One ttl PoP reading from the coordinator at 0 ms. */
static ekv_tvis_world_t ttl_world(const ekv_tvis_pop_t *pop, const ekv_tvis_keys_t *k, size_t nk)
{
    return (ekv_tvis_world_t){
        .pops = pop, .npops = 1, .keys = k, .nkeys = nk, .cache_ttl_s = 30, .duration_s = 600};
}

static void test_one_key(void)
{
    ekv_tvis_pop_t pop = {.policy = EKV_TVIS_TTL, .reads = 1, .tier = -1};
    ekv_tvis_keys_t k = {1, 0.1, 1e-6}; /* rT = 3; writes so rare that e^{-wt} is flat */
    ekv_tvis_world_t w = ttl_world(&pop, &k, 1);
    ekv_tvis_predict(&w, 1000, 40, p_bins);
    for (int b = 0; b < 30; b++) /* f is linear in a bin: its average is f at the middle */
        CHECK_NEAR(p_bins[b], 1 - 0.75 * (1 - (b + 0.5) / 30), 1e-6);
    for (int b = 30; b < 40; b++)
        CHECK_NEAR(p_bins[b], 1, 1e-9);
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 12000), 1 - 0.75 * 0.6, 1e-9);
    /* a key nobody writes is no read t after a write */
    k.write_rate = 0;
    ekv_tvis_predict(&w, 1000, 40, p_bins);
    CHECK_NEAR(p_bins[3], -1, 0);
}

static void test_round_trip_and_own_writes(void)
{
    /* 100 ms from the coordinator, r = 10/s, T = 2 s: a cycle holds the miss, the 2 reads
     * that join its 200 ms fetch and the 20 hits, 23 reads. A read t after the write gets
     * data that left the coordinator after it when it is the miss or a joiner past 100 - t
     * ms; a hit when its copy's data left less than t before it. */
    ekv_tvis_pop_t pop = {
        .policy = EKV_TVIS_TTL, .reads = 1, .link = {.delay_ms = 100}, .tier = -1};
    ekv_tvis_keys_t k = {1, 10, 1e-6};
    ekv_tvis_world_t w = ttl_world(&pop, &k, 1);
    w.cache_ttl_s = 2;
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 50), (1 + 10 * 0.15) / 23, 1e-12);
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 1000), (1 + 2 + 9) / 23.0, 1e-12);
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 2200), 1, 1e-12);
    ekv_tvis_predict(&w, 100, 30, p_bins); /* linear in each bin: the middle's value */
    CHECK_NEAR(p_bins[0], (1 + 10 * 0.15) / 23, 1e-6);
    CHECK_NEAR(p_bins[9], (1 + 2 + 10 * 0.85) / 23, 1e-6);
    /* a PoP through which half the writes go holds its own: fresh then */
    pop.own = 0.5;
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 1000), 0.5 + 0.5 * 12 / 23.0, 1e-12);
    ekv_tvis_predict(&w, 100, 30, p_bins);
    CHECK_NEAR(p_bins[9], 0.5 + 0.5 * (1 + 2 + 10 * 0.85) / 23, 1e-6);
    /* under push it does not: its write's reply comes back with the change */
    pop.policy = EKV_TVIS_PUSH;
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 1000), 1, 0);
    CHECK(ekv_tvis_fresh(&w, 0, &k, 50) < 0.01);
}

static void test_two_keys(void)
{
    ekv_tvis_pop_t pop = {.policy = EKV_TVIS_TTL, .reads = 1, .tier = -1};
    /* A: r = 1, w = 1 (rho = 30/31); B: r = 0.1, w = 0.05 (rho = 3/4); T = 30 s.
     * t = 1 s:  fA = 2/31 = 0.064516, fB = 0.275; weights 1 e^{-1} = 0.367879 and
     *           0.005 e^{-0.05} = 0.004756: P = 0.067203.
     * t = 10 s: fA = 11/31 = 0.354839, fB = 0.5; weights e^{-10} = 4.540e-5 and
     *           0.005 e^{-0.5} = 0.0030327: P = 0.497859. */
    ekv_tvis_keys_t k[2] = {{1, 1, 1}, {1, 0.1, 0.05}};
    ekv_tvis_world_t w = ttl_world(&pop, k, 2);
    ekv_tvis_predict(&w, 2, 5001, p_bins); /* bins 2 ms wide: 1 s ends bin 499 */
    CHECK_NEAR(p_bins[499], 0.067203, 2e-4);
    CHECK_NEAR(p_bins[500], 0.067203, 2e-4);
    CHECK_NEAR(p_bins[4999], 0.497859, 2e-4);
    /* a hundred keys alike count as one of count 100 */
    ekv_tvis_keys_t many[101];
    for (int i = 0; i < 100; i++)
        many[i] = (ekv_tvis_keys_t){1, 1, 1};
    many[100] = (ekv_tvis_keys_t){100, 0.1, 0.05};
    ekv_tvis_world_t wm = ttl_world(&pop, many, 101);
    double one[50];
    ekv_tvis_predict(&wm, 200, 50, one);
    ekv_tvis_predict(&w, 200, 50, p_bins);
    for (int b = 0; b < 50; b++)
        CHECK_NEAR(one[b], p_bins[b], 1e-9);
}

static void test_push_steps(void)
{
    /* PoPs at 20 and 60 ms, read weights 1 and 3; a key read 10 (30) times a second over
     * 1000 s is held: 1/10000 (1/30000) of the reads miss; it is rarely written */
    ekv_tvis_pop_t pops[2] = {
        {.policy = EKV_TVIS_PUSH, .reads = 1, .link = {.delay_ms = 20}, .tier = -1},
        {.policy = EKV_TVIS_PUSH, .reads = 3, .link = {.delay_ms = 60}, .tier = -1}};
    ekv_tvis_keys_t k = {1, 10, 0.01};
    ekv_tvis_world_t w = {
        .pops = pops, .npops = 2, .keys = &k, .nkeys = 1, .cache_ttl_s = 30, .duration_s = 1000};
    double miss = 1e-4, miss3 = 1 / 30000.0;
    ekv_tvis_predict(&w, 10, 10, p_bins);
    CHECK_NEAR(p_bins[0], (miss + 3 * miss3) / 4, 1e-12);
    CHECK_NEAR(p_bins[1], (miss + 3 * miss3) / 4, 1e-12);
    for (int b = 2; b < 6; b++)
        CHECK_NEAR(p_bins[b], (1 + 3 * miss3) / 4, 1e-12);
    for (int b = 6; b < 10; b++)
        CHECK_NEAR(p_bins[b], 1, 1e-12);
    /* uniform:20 on the first: arrival ramps over [20, 40]; bin [20, 30) averages 1/4 (up
     * to e^{-wt} changing by 1e-4 across the bin) */
    CHECK(ekv_tvis_parse_jitter("uniform:20", &pops[0].link) == 0);
    CHECK_EQ(pops[0].link.jitter, EKV_TVIS_JITTER_UNIFORM);
    ekv_tvis_predict(&w, 10, 10, p_bins);
    double a = 0.25;
    CHECK_NEAR(p_bins[2], (a + (1 - a) * miss + 3 * miss3) / 4, 1e-5);
    a = 0.75;
    CHECK_NEAR(p_bins[3], (a + (1 - a) * miss + 3 * miss3) / 4, 1e-5);
    CHECK_NEAR(p_bins[4], (1 + 3 * miss3) / 4, 1e-12);
    /* a PoP nobody reads the key at long: mostly misses, fresh before the arrival */
    k.read_rate = 0.001; /* r D = 1 (PoP 1), 3 (PoP 2) */
    ekv_tvis_predict(&w, 10, 10, p_bins);
    double m1 = 1 - exp(-1.0), m3 = (1 - exp(-3.0)) / 3;
    CHECK_NEAR(p_bins[0], (m1 + 3 * m3) / 4, 1e-9);
    CHECK(ekv_tvis_parse_jitter("pareto:5", &pops[0].link) != 0);
    CHECK(ekv_tvis_parse_jitter("pareto:5:1.5", &pops[0].link) == 0);
    CHECK_NEAR(ekv_tvis_arrival_cdf(&pops[0].link, 25), 1 - pow(2, -1.5), 1e-12);
    /* loss 0.5, rto 100: half arrive at 20, a quarter at 120, ... */
    ekv_tvis_link_t lossy = {.delay_ms = 20, .loss = 0.5, .rto_ms = 100};
    CHECK_NEAR(ekv_tvis_arrival_cdf(&lossy, 19), 0, 0);
    CHECK_NEAR(ekv_tvis_arrival_cdf(&lossy, 20), 0.5, 1e-12);
    CHECK_NEAR(ekv_tvis_arrival_cdf(&lossy, 150), 0.75, 1e-12);
}

static void test_invalidate(void)
{
    /* before the invalidation arrives (100 ms), a read is stale when the PoP holds a copy:
     * fetched by a read since the previous change's invalidation came, within cacheTtl */
    ekv_tvis_pop_t pop = {
        .policy = EKV_TVIS_INVALIDATE, .reads = 1, .link = {.delay_ms = 100}, .tier = -1};
    ekv_tvis_keys_t k = {1, 1, 0.5};
    ekv_tvis_world_t w = ttl_world(&pop, &k, 1);
    double held = exp(-0.5 * 0.06) * (1 / 1.5) * (1 - exp(-1.5 * 30));
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 40), 1 - held, 1e-12);
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 100), 1, 0);
    ekv_tvis_predict(&w, 20, 10, p_bins);
    /* the nearer the arrival, the likelier a read came since the previous one */
    CHECK_NEAR(p_bins[0], ekv_tvis_fresh(&w, 0, &k, 10), 1e-5);
    CHECK(p_bins[4] < p_bins[0]);
    CHECK_NEAR(p_bins[5], 1, 0);
}

static void test_through_tier(void)
{
    /* twelve kv PoPs at 0 ms behind one tier: ekv_kv_fresh_at's world */
    ekv_tvis_pop_t pops[12];
    for (int i = 0; i < 12; i++)
        pops[i] = (ekv_tvis_pop_t){.policy = EKV_TVIS_KV, .reads = 1, .tier = 0};
    ekv_tvis_tier_t tier = {.ttl_s = 10, .hot = 2, .late = 0.8};
    ekv_tvis_keys_t k = {1, 0.1, 1e-6};
    ekv_tvis_world_t w = {.pops = pops,
                          .npops = 12,
                          .tiers = &tier,
                          .ntiers = 1,
                          .keys = &k,
                          .nkeys = 1,
                          .cache_ttl_s = 30,
                          .hot = 2,
                          .late = 0.8,
                          .duration_s = 600};
    ekv_kv_model_t m = {.pop = {0.1, 30, 2, 0.8}, .pops = 12, .tier = {0, 10, 2, 0.8}};
    for (double t = 0.5; t < 40; t += 3.7)
        CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, t * 1000), ekv_kv_fresh_at(&m, t), 1e-9);
    ekv_tvis_predict(&w, 1000, 45, p_bins);
    for (int b = 0; b < 45; b++)
        CHECK_NEAR(p_bins[b], ekv_tvis_fresh(&w, 0, &k, (b + 0.5) * 1000), 4e-3);
    /* a tier whose copies a change drops adds no staleness: the PoP's own curve */
    tier.purge = 1;
    ekv_cache_model_t pm = {0.1, 30, 2, 0.8};
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 12000), ekv_cache_age_cdf(&pm, 12), 1e-12);
    /* delays shift it: 30 ms to the tier, 50 ms on to the coordinator */
    tier.purge = 0;
    tier.delay_ms = 50;
    pops[0].link.delay_ms = 30;
    CHECK_NEAR(ekv_tvis_fresh(&w, 0, &k, 12080), ekv_tvis_fresh(&w, 1, &k, 12050), 1e-9);
    CHECK_NEAR(ekv_tvis_fresh(&w, 1, &k, 12050), ekv_kv_fresh_at(&m, 12), 1e-9);
}

static void test_big_world_is_cheap(void)
{
    enum { KEYS = 10000, POPS = 300, TIERS = 9 };
    static ekv_tvis_keys_t k[KEYS];
    static ekv_tvis_pop_t pops[POPS];
    ekv_tvis_tier_t tiers[TIERS];
    double h = 0;
    for (int i = 0; i < KEYS; i++)
        h += 1.0 / (i + 1);
    for (int i = 0; i < KEYS; i++) /* zipf 1: 2000 reads and 50 writes a second in all */
        k[i] = (ekv_tvis_keys_t){1, 2000 / h / (i + 1), 50 / h / (i + 1)};
    for (int i = 0; i < TIERS; i++)
        tiers[i] = (ekv_tvis_tier_t){.ttl_s = 60, .hot = 2, .late = 0.8, .delay_ms = 20};
    for (int i = 0; i < POPS; i++)
        pops[i] = (ekv_tvis_pop_t){
            .policy = EKV_TVIS_KV, .reads = 1, .link = {.delay_ms = 1 + i % 97}, .tier = i % TIERS};
    ekv_tvis_world_t w = {.pops = pops,
                          .npops = POPS,
                          .tiers = tiers,
                          .ntiers = TIERS,
                          .keys = k,
                          .nkeys = KEYS,
                          .cache_ttl_s = 60,
                          .hot = 2,
                          .late = 0.8,
                          .duration_s = 600};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ekv_tvis_predict(&w, ekv_tvis_bin_ms(0, 120, 60), EKV_TVIS_BINS, p_bins);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    fprintf(stderr, "   10,000 keys x 300 PoPs (kv, 9 tiers): %.3f s\n", s);
    CHECK(s < 3); /* well under a second optimised; sanitizer builds are slower */
    for (int b = 1; b < EKV_TVIS_BINS; b++) /* fresher the longer after the write */
        CHECK(p_bins[b] >= p_bins[b - 1] - 1e-6);
    CHECK(p_bins[0] >= 0 && p_bins[EKV_TVIS_BINS - 1] <= 1);
    /* the same pops under ttl without tiers */
    for (int i = 0; i < POPS; i++)
        pops[i].policy = EKV_TVIS_TTL, pops[i].tier = -1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ekv_tvis_predict(&w, ekv_tvis_bin_ms(0, 120, 60), EKV_TVIS_BINS, p_bins);
    clock_gettime(CLOCK_MONOTONIC, &b);
    s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    fprintf(stderr, "   10,000 keys x 300 PoPs (ttl): %.3f s\n", s);
    CHECK(s < 3);
}

int main(void)
{
    EKV_TEST_RUN(test_one_key);
    EKV_TEST_RUN(test_round_trip_and_own_writes);
    EKV_TEST_RUN(test_two_keys);
    EKV_TEST_RUN(test_push_steps);
    EKV_TEST_RUN(test_invalidate);
    EKV_TEST_RUN(test_through_tier);
    EKV_TEST_RUN(test_big_world_is_cheap);
    EKV_TEST_DONE();
}
