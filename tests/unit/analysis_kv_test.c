/* analysis_kv_test: the kv world's t-visibility model (sim/analysis.h, "the kv world").
 *
 * Three kinds of checks:
 *   - cases with a closed form worked out by hand: a cache without refresh-ahead (its age is
 *     0 with probability 1/(1 + rT), else uniform on [0, T]; docs/consistency.md's
 *     P(fresh at t) = 1 - rT/(1 + rT) (1 - t/T)); refresh-ahead at the first late hit
 *     (hot = 1: the cycle is L + 1/r); hot = 2 through the formula of the docs; a PoP and a
 *     tier without refresh-ahead (atom-plus-uniform convolved with atom-plus-uniform);
 *   - ekv_kv_stale_ratio against ekv_ttl_stale_ratio where both apply;
 *   - Monte Carlo simulations of the mechanism as node/node.c implements it (a copy lives
 *     ttl from its fetch; a hit that is at least the hot-th since the copy was stored and
 *     comes at least late x ttl after it is served the copy and refreshes it), which the
 *     renewal derivation must match: one cache alone (exact up to sampling), and twelve PoPs
 *     behind one tier, where the model takes the tier's requests as Poisson (the approximation
 *     theory_kv_test.sh relies on: within 0.005 here). */
#include <math.h>
#include <stdint.h>

#include "analysis.h"
#include "ekv_test.h"

/* ---- closed forms ------------------------------------------------------------------------ */

static void test_no_refresh(void)
{
    ekv_cache_model_t c = {.rate = 0.1, .ttl = 30}; /* rT = 3 */
    CHECK_NEAR(ekv_cache_cycle_s(&c), 40, 1e-9);
    CHECK_NEAR(ekv_cache_miss_share(&c), 0.25, 1e-12);
    CHECK_NEAR(ekv_cache_age_cdf(&c, 0), 0.25, 1e-12);
    CHECK_NEAR(ekv_cache_age_cdf(&c, 12), (12 + 10) / 40.0, 1e-12);
    CHECK_NEAR(ekv_cache_age_cdf(&c, 30), 1, 1e-12);
    CHECK_NEAR(ekv_cache_age_cdf(&c, -1), 0, 1e-12);
    /* late or hot alone do not refresh: hot = 0 is off, late 1 never comes */
    ekv_cache_model_t off = {.rate = 0.1, .ttl = 30, .hot = 0, .late = 0.5};
    CHECK_NEAR(ekv_cache_cycle_s(&off), 40, 1e-9);
    off = (ekv_cache_model_t){.rate = 0.1, .ttl = 30, .hot = 2, .late = 1};
    CHECK_NEAR(ekv_cache_cycle_s(&off), 40, 1e-9);
    /* No tier: P(fresh at t) = 1 - rT/(1 + rT) (1 - t/T) on (0, T], 1 after. */
    ekv_kv_model_t m = {.pop = c};
    for (double t = 0.5; t < 40; t += 1.5)
        CHECK_NEAR(ekv_kv_fresh_at(&m, t), t < 30 ? 1 - 0.75 * (1 - t / 30) : 1, 1e-12);
    CHECK_NEAR(ekv_kv_fresh_at(&m, 0), 0, 1e-12);
    CHECK_NEAR(ekv_kv_tier_rate(&m), 0, 1e-12);
}

static void test_refresh_first_late_hit(void)
{
    /* hot = 1: the first request after L refreshes, so the fresh life is L + E truncated at
     * T (E exponential of rate r), and a cycle lasts L + 1/r whichever way it ends. */
    ekv_cache_model_t c = {.rate = 0.1, .ttl = 30, .hot = 1, .late = 0.8};
    CHECK_NEAR(ekv_cache_cycle_s(&c), 24 + 10, 1e-9);
    CHECK_NEAR(ekv_cache_miss_share(&c), exp(-0.6) / (0.1 * 34), 1e-12);
    /* a <= L: (a + P(D = T)/r) / cycle; past L the mean life up to a is L + (1 - e^{-y})/r */
    CHECK_NEAR(ekv_cache_age_cdf(&c, 10), (10 + exp(-0.6) / 0.1) / 34, 1e-12);
    CHECK_NEAR(ekv_cache_age_cdf(&c, 27), (24 + (1 - exp(-0.3)) / 0.1 + exp(-0.6) / 0.1) / 34,
               1e-12);
}

static void test_refresh_two_hits(void)
{
    /* hot = 2 (the shipped default): P(D > x) = (1 - q0) e^{-y} + q0 e^{-y} (1 + y) with
     * q0 = e^{-rL} (no hit before L) and y = r (x - L); by hand for r = 0.1, T = 30,
     * late 0.8: P(D = T) = 0.578684, E[D] = 28.622470, cycle 34.409309. */
    ekv_cache_model_t c = {.rate = 0.1, .ttl = 30, .hot = 2, .late = 0.8};
    CHECK_NEAR(ekv_cache_cycle_s(&c), 34.409309, 1e-6);
    CHECK_NEAR(ekv_cache_miss_share(&c), 0.168177, 1e-6);
    CHECK_NEAR(ekv_cache_age_cdf(&c, 10), 0.458796, 1e-6);
    CHECK_NEAR(ekv_cache_age_cdf(&c, 27), 0.941959, 1e-6);
    /* More hits needed, fewer refreshes: the cycle grows towards T + 1/r. */
    ekv_cache_model_t h3 = c, h9 = c;
    h3.hot = 3;
    h9.hot = 9;
    CHECK(ekv_cache_cycle_s(&h3) > ekv_cache_cycle_s(&c));
    CHECK(ekv_cache_cycle_s(&h9) > ekv_cache_cycle_s(&h3));
    CHECK(ekv_cache_cycle_s(&h9) < 40);
}

/* P(U1 + U2 < t), U1 uniform on [0, a], U2 on [0, b], a >= b. */
static double uniform_sum_cdf(double t, double a, double b)
{
    if (t <= 0)
        return 0;
    if (t <= b)
        return t * t / (2 * a * b);
    if (t <= a)
        return (t - b / 2) / a;
    if (t <= a + b)
        return 1 - (a + b - t) * (a + b - t) / (2 * a * b);
    return 1;
}

static void test_tier_no_refresh(void)
{
    /* 12 PoPs of r = 0.1, T = 30 ask the tier at 12/40 per second; the tier (T2 = 10, no
     * refresh) serves age 0 with p2 = 1/(1 + R T2) = 0.25, else uniform on [0, 10]. */
    ekv_kv_model_t m = {.pop = {.rate = 0.1, .ttl = 30}, .pops = 12, .tier = {.ttl = 10}};
    CHECK_NEAR(ekv_kv_tier_rate(&m), 0.3, 1e-12);
    double p1 = 0.25, p2 = 0.25;
    for (double t = 0.25; t < 45; t += 0.75) {
        double g2 = p2 + (1 - p2) * fmin(t / 10, 1);
        double want =
            p1 * g2 + (1 - p1) * (p2 * fmin(t / 30, 1) + (1 - p2) * uniform_sum_cdf(t, 30, 10));
        CHECK_NEAR(ekv_kv_fresh_at(&m, t), want, 2e-6);
    }
    /* The tier only adds staleness. */
    ekv_kv_model_t alone = {.pop = m.pop};
    for (double t = 1; t < 40; t += 3)
        CHECK(ekv_kv_fresh_at(&m, t) <= ekv_kv_fresh_at(&alone, t) + 1e-12);
}

static void test_stale_ratio(void)
{
    /* Without a tier or refresh-ahead it is the ttl formula. */
    ekv_kv_model_t m = {.pop = {.rate = 1.0 / 3, .ttl = 30}};
    CHECK_NEAR(ekv_kv_stale_ratio(&m, 1.0 / 30), ekv_ttl_stale_ratio(1.0 / 30, 1.0 / 3, 30), 1e-5);
    m.pop.rate = 0.1;
    CHECK_NEAR(ekv_kv_stale_ratio(&m, 0.5), ekv_ttl_stale_ratio(0.5, 0.1, 30), 1e-5);
    CHECK_NEAR(ekv_kv_stale_ratio(&m, 0), 0, 1e-12);
    /* A tier adds staleness. */
    ekv_kv_model_t t = {.pop = m.pop, .pops = 12, .tier = {.ttl = 10}};
    CHECK(ekv_kv_stale_ratio(&t, 1.0 / 30) > ekv_kv_stale_ratio(&m, 1.0 / 30) + 0.01);
}

/* ---- Monte Carlo of the mechanism ---------------------------------------------------------- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static double uniform01(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return ((double)(g_rng >> 11) + 0.5) / 9007199254740992.0;
}

static double expo(double rate)
{
    return -log(uniform01()) / rate;
}

typedef struct {
    double stored, fresh_until, origin; /* origin: when the data left the coordinator */
    int reads, valid;
} copy_t;

/* A request at now to a cache of model m holding c; fetch() supplies the data's origin time
 * on a miss or refresh. Returns the origin time of what the request is served. */
static double ask(copy_t *c, const ekv_cache_model_t *m, double now, double (*fetch)(double),
                  uint64_t *fetches)
{
    if (c->valid && now < c->fresh_until) {
        double served = c->origin;
        c->reads++;
        if (m->hot > 0 && c->reads >= m->hot && now - c->stored >= m->late * m->ttl) {
            *c = (copy_t){now, now + m->ttl, fetch(now), 0, 1};
            ++*fetches;
        }
        return served;
    }
    *c = (copy_t){now, now + m->ttl, fetch(now), 0, 1};
    ++*fetches;
    return c->origin;
}

static double from_origin(double now)
{
    return now;
}

static void test_mc_one_cache(void)
{
    ekv_cache_model_t models[] = {{.rate = 0.1, .ttl = 30, .hot = 2, .late = 0.8},
                                  {.rate = 0.5, .ttl = 30, .hot = 2, .late = 0.8},
                                  {.rate = 0.2, .ttl = 60, .hot = 3, .late = 0.5},
                                  {.rate = 0.05, .ttl = 30, .hot = 0, .late = 0.8}};
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        const ekv_cache_model_t *m = &models[k];
        copy_t c = {0};
        uint64_t n = 0, fetches = 0, le[6] = {0};
        double now = 0, ages[6];
        for (int i = 0; i < 6; i++)
            ages[i] = m->ttl * (i + 0.5) / 6;
        while (n < 400000) {
            now += expo(m->rate);
            double age = now - ask(&c, m, now, from_origin, &fetches);
            n++;
            for (int i = 0; i < 6; i++)
                le[i] += age <= ages[i];
        }
        CHECK_NEAR(now / (double)fetches, ekv_cache_cycle_s(m), 0.01 * ekv_cache_cycle_s(m));
        for (int i = 0; i < 6; i++)
            CHECK_NEAR((double)le[i] / (double)n, ekv_cache_age_cdf(m, ages[i]), 0.004);
    }
}

/* The tier the PoPs fetch through (test_mc_tier). */
static copy_t g_tier;
static ekv_cache_model_t g_tier_model;
static uint64_t g_tier_fetches;

static double from_tier(double now)
{
    return ask(&g_tier, &g_tier_model, now, from_origin, &g_tier_fetches);
}

static void test_mc_tier(void)
{
    /* The scenario's world: 12 PoPs reading at 0.1 per second, T = 30 (with and without
     * refresh-ahead at the PoPs), a tier with T2 = 10 and the shipped refresh-ahead. */
    for (int refresh = 0; refresh <= 1; refresh++) {
        enum { POPS = 12 };
        ekv_kv_model_t m = {.pop = {.rate = 0.1, .ttl = 30, .hot = refresh ? 2 : 0, .late = 0.8},
                            .pops = POPS,
                            .tier = {.ttl = 10, .hot = 2, .late = 0.8}};
        g_tier = (copy_t){0};
        g_tier_model = m.tier;
        g_tier_fetches = 0;
        copy_t pops[POPS] = {{0}};
        double next[POPS], now = 0;
        for (int j = 0; j < POPS; j++)
            next[j] = expo(m.pop.rate);
        static const double ts[] = {0.3, 2, 5, 9, 12, 18, 25, 29, 33, 37};
        uint64_t n = 0, fresh[10] = {0}, fetches = 0;
        while (n < 1500000) {
            int j = 0;
            for (int i = 1; i < POPS; i++)
                j = next[i] < next[j] ? i : j;
            now = next[j];
            next[j] += expo(m.pop.rate);
            double age = now - ask(&pops[j], &m.pop, now, from_tier, &fetches);
            if (now < 2000)
                continue; /* from an empty cache to the steady state */
            n++;
            for (int i = 0; i < 10; i++)
                fresh[i] += age < ts[i];
        }
        for (int i = 0; i < 10; i++)
            CHECK_NEAR((double)fresh[i] / (double)n, ekv_kv_fresh_at(&m, ts[i]), 0.005);
        CHECK_NEAR((double)fetches / now, ekv_kv_tier_rate(&m), 0.01 * ekv_kv_tier_rate(&m));
    }
}

int main(void)
{
    EKV_TEST_RUN(test_no_refresh);
    EKV_TEST_RUN(test_refresh_first_late_hit);
    EKV_TEST_RUN(test_refresh_two_hits);
    EKV_TEST_RUN(test_tier_no_refresh);
    EKV_TEST_RUN(test_stale_ratio);
    EKV_TEST_RUN(test_mc_one_cache);
    EKV_TEST_RUN(test_mc_tier);
    EKV_TEST_DONE();
}
