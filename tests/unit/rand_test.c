/* rand_test: unit tests of the simulation's random draws (common/ekv_rand).
 *
 * A run must repeat exactly from its seed, so: one seed gives one sequence (two generators in
 * step), another seed another, and seed 0 does not stick the generator at 0. The
 * distributions are checked on 200,000 draws against their known moments and shapes, with
 * tolerances of several standard errors (a correct generator fails none of them; the seeds
 * are fixed, so the result never changes from run to run): uniform mean 1/2 and variance 1/12,
 * all draws strictly inside (0, 1); [0, n) covers every value about equally; normal mean 0,
 * deviation 1, 95.4% within two deviations; exponential mean 1 / rate and median ln 2 / rate
 * (a Poisson process's gaps); pareto's median 2^(1/shape) - 1; zipf's rank frequencies
 * against 1 / (k + 1)^s over the harmonic sum. The zipf table is destroyed; no leaks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ekv_rand.h"
#include "ekv_test.h"

#define N 200000

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_same_seed_same_sequence(void)
{
    ekv_rand_t a, b, c, z;
    ekv_rand_init(&a, 12345);
    ekv_rand_init(&b, 12345);
    ekv_rand_init(&c, 12346);
    ekv_rand_init(&z, 0);
    int differ = 0, zeros = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = ekv_rand_u64(&a);
        CHECK(x == ekv_rand_u64(&b));
        differ += x != ekv_rand_u64(&c);
        zeros += ekv_rand_u64(&z) == 0;
    }
    CHECK_GE(differ, 999);
    CHECK_EQ(zeros, 0);
    /* Re-seeding restarts the sequence. */
    ekv_rand_init(&a, 77);
    uint64_t first = ekv_rand_u64(&a);
    ekv_rand_init(&a, 77);
    CHECK(ekv_rand_u64(&a) == first);
}

static void test_unit_and_below(void)
{
    ekv_rand_t r;
    ekv_rand_init(&r, 1);
    double sum = 0, sq = 0;
    for (int i = 0; i < N; i++) {
        double u = ekv_rand_unit(&r);
        CHECK(u > 0 && u < 1);
        sum += u;
        sq += u * u;
    }
    double mean = sum / N, var = sq / N - mean * mean;
    CHECK_NEAR(mean, 0.5, 5 * sqrt(1.0 / 12 / N));
    CHECK_NEAR(var, 1.0 / 12, 0.002);
    int count[10] = {0};
    for (int i = 0; i < N; i++) {
        uint64_t k = ekv_rand_below(&r, 10);
        CHECK_LT(k, 10);
        count[k]++;
    }
    for (int k = 0; k < 10; k++) /* binomial: sd = sqrt(N * 0.1 * 0.9) ~ 134 */
        CHECK_NEAR(count[k], N / 10, 700);
}

static void test_normal(void)
{
    ekv_rand_t r;
    ekv_rand_init(&r, 2);
    double sum = 0, sq = 0;
    int within2 = 0;
    for (int i = 0; i < N; i++) {
        double x = ekv_rand_normal(&r);
        sum += x;
        sq += x * x;
        within2 += fabs(x) < 2;
    }
    CHECK_NEAR(sum / N, 0, 5 / sqrt(N));
    CHECK_NEAR(sqrt(sq / N), 1, 0.01);
    CHECK_NEAR((double)within2 / N, 0.9545, 0.003);
}

/* Gaps of a Poisson process of rate 50: mean 1/50, median ln 2 / 50, none negative. */
static void test_exponential(void)
{
    ekv_rand_t r;
    ekv_rand_init(&r, 3);
    static double v[N];
    double sum = 0;
    for (int i = 0; i < N; i++) {
        v[i] = ekv_rand_exp(&r, 50);
        CHECK(v[i] >= 0 && isfinite(v[i]));
        sum += v[i];
    }
    qsort(v, N, sizeof *v, by_double);
    CHECK_NEAR(sum / N, 1.0 / 50, 5 * (1.0 / 50) / sqrt(N));
    CHECK_NEAR(v[N / 2], log(2) / 50, 0.0003);
    /* Memorylessness in one number: P(gap > 2 / rate) = e^-2. */
    size_t beyond = 0;
    for (int i = 0; i < N; i++)
        beyond += v[i] > 2.0 / 50;
    CHECK_NEAR((double)beyond / N, exp(-2), 0.004);
}

static void test_pareto(void)
{
    ekv_rand_t r;
    ekv_rand_init(&r, 4);
    static double v[N];
    for (int i = 0; i < N; i++) {
        v[i] = ekv_rand_pareto(&r, 2.5);
        CHECK(v[i] >= 0);
    }
    qsort(v, N, sizeof *v, by_double);
    CHECK_NEAR(v[N / 2], pow(2, 1 / 2.5) - 1, 0.01);
    CHECK_NEAR(v[N * 9 / 10], pow(10, 1 / 2.5) - 1, 0.03);
}

/* Zipf over 100 keys with exponent 1: rank k has probability 1 / ((k + 1) H_100). */
static void test_zipf(void)
{
    enum { K = 100 };
    ekv_zipf_t *z = ekv_zipf_new(K, 1.0);
    ekv_rand_t r;
    ekv_rand_init(&r, 5);
    int count[K] = {0};
    for (int i = 0; i < N; i++) {
        size_t k = ekv_zipf_pick(z, &r);
        CHECK_LT(k, K);
        count[k]++;
    }
    double h = 0;
    for (int k = 1; k <= K; k++)
        h += 1.0 / k;
    for (int k = 0; k < K; k++) {
        double p = 1.0 / ((k + 1) * h), sd = sqrt(N * p * (1 - p));
        CHECK_NEAR(count[k], N * p, 5 * sd + 1);
    }
    ekv_zipf_destroy(&z);
    CHECK(z == NULL);
    ekv_zipf_destroy(&z); /* no-op */
    /* One key: always rank 0. */
    z = ekv_zipf_new(1, 1.2);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(ekv_zipf_pick(z, &r), 0);
    ekv_zipf_destroy(&z);
}

int main(void)
{
    EKV_TEST_RUN(test_same_seed_same_sequence);
    EKV_TEST_RUN(test_unit_and_below);
    EKV_TEST_RUN(test_normal);
    EKV_TEST_RUN(test_exponential);
    EKV_TEST_RUN(test_pareto);
    EKV_TEST_RUN(test_zipf);
    EKV_TEST_DONE();
}
