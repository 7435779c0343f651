/* link_model_test: unit tests of the link model's random transit times (node/link).
 *
 * What an experimenter relies on: without jitter every message takes exactly the one-way
 * delay; each jitter distribution has the mean, spread and bounds docs/topology.md promises
 * (uniform on [0, J], normal with deviation J clamped at 0, pareto J x (U^(-1/S) - 1));
 * losses cost one retransmission timeout each, so the mean extra is rto x p / (1 - p); a seed
 * repeats a run exactly and another seed does not; delivery stays FIFO under jitter, however
 * the draws fall; and the jitter specs of the topology file parse or are refused.
 *
 * Statistics use enough samples that the tolerances are many standard errors wide: a correct
 * model passes with every seed, a wrong formula fails. Time is injected; nothing sleeps. */
#include <math.h>
#include <stdint.h>

#include "ekv_err.h"
#include "ekv_test.h"
#include "link.h"

#define MS 1000 /* microseconds */

typedef struct {
    double mean, sd;
    int64_t min, max;
} summary_t;

/* Draws n transit times from a fresh link with model m and seed; summarises them. */
static summary_t sample(const ekv_link_model_t *m, uint64_t seed, int n)
{
    ekv_link_t *l = ekv_link_new(0);
    ekv_link_set_model(l, m, seed);
    double sum = 0, sum2 = 0;
    summary_t s = {0, 0, INT64_MAX, INT64_MIN};
    for (int i = 0; i < n; i++) {
        int64_t t = ekv_link_sample_us(l);
        sum += (double)t;
        sum2 += (double)t * (double)t;
        if (t < s.min)
            s.min = t;
        if (t > s.max)
            s.max = t;
    }
    s.mean = sum / n;
    s.sd = sqrt(sum2 / n - s.mean * s.mean);
    ekv_link_destroy(&l);
    return s;
}

/* |got - want| <= tol, printing both on failure. */
static void test_no_jitter_is_exact_delay(void)
{
    ekv_link_model_t m = {.delay_us = 20 * MS, .jitter = EKV_JITTER_NONE, .rto_us = 200 * MS};
    summary_t s = sample(&m, 7, 10000);
    CHECK_EQ(s.min, 20 * MS);
    CHECK_EQ(s.max, 20 * MS);

    /* The delay of a plain link is the model's delay. */
    ekv_link_t *l = ekv_link_new(35 * MS);
    CHECK_EQ(ekv_link_sample_us(l), 35 * MS);
    CHECK_EQ(ekv_link_model(l)->delay_us, 35 * MS);
    ekv_link_destroy(&l);
}

static void test_uniform(void)
{
    const int64_t d = 20 * MS, j = 10 * MS;
    ekv_link_model_t m = {.delay_us = d, .jitter = EKV_JITTER_UNIFORM, .jitter_us = j};
    summary_t s = sample(&m, 42, 100000);
    /* Mean delay + J/2: the extra within 2% of J/2 (its standard error is ~0.2%). */
    CHECK_NEAR(s.mean - d, j / 2.0, 0.02 * j / 2.0);
    /* Every sample in [delay, delay + J], and the range is actually used. */
    CHECK_GE(s.min, d);
    CHECK_LE(s.max, d + j);
    CHECK_LT(s.min, d + j / 100);
    CHECK_GT(s.max, d + j - j / 100);
    /* A uniform spread: deviation J / sqrt(12). */
    CHECK_NEAR(s.sd, j / sqrt(12.0), 0.03 * j / sqrt(12.0));
}

static void test_normal(void)
{
    const int64_t d = 100 * MS, j = 5 * MS;
    ekv_link_model_t m = {.delay_us = d, .jitter = EKV_JITTER_NORMAL, .jitter_us = j};
    summary_t s = sample(&m, 3, 100000);
    /* delay >> J: no clamping; mean = delay (within 3% of J), deviation = J (within 3%). */
    CHECK_NEAR(s.mean, (double)d, 0.03 * j);
    CHECK_NEAR(s.sd, (double)j, 0.03 * j);
    CHECK_LT(s.min, d - 3 * j); /* both tails are there */
    CHECK_GT(s.max, d + 3 * j);

    /* delay < J: the total is clamped at 0, never negative; about P(Z < -0.2) = 42% of the
     * draws are clamped, and the others keep their spread. */
    ekv_link_model_t m2 = {.delay_us = 1 * MS, .jitter = EKV_JITTER_NORMAL, .jitter_us = 5 * MS};
    ekv_link_t *l = ekv_link_new(0);
    ekv_link_set_model(l, &m2, 11);
    int zeros = 0, n = 100000;
    int64_t max = 0;
    for (int i = 0; i < n; i++) {
        int64_t t = ekv_link_sample_us(l);
        CHECK_GE(t, 0);
        zeros += t == 0;
        if (t > max)
            max = t;
    }
    CHECK_NEAR((double)zeros / n, 0.4207, 0.01);
    CHECK_GT(max, 1 * MS + 3 * 5 * MS);
    ekv_link_destroy(&l);
}

static void test_pareto(void)
{
    const int64_t d = 30 * MS, j = 10 * MS;
    const double shape = 3.0;
    ekv_link_model_t m = {
        .delay_us = d, .jitter = EKV_JITTER_PARETO, .jitter_us = j, .shape = shape};
    summary_t s = sample(&m, 5, 200000);
    /* Extra = J (U^(-1/S) - 1): mean J / (S - 1), minimum 0, heavy right tail. */
    CHECK_NEAR(s.mean - d, j / (shape - 1), 0.05 * j / (shape - 1));
    CHECK_GE(s.min, d);
    CHECK_LT(s.min, d + j / 1000);
    /* P(extra > 3J) = 4^-3 = 1/64: over 200k draws the tail reaches well past that. */
    CHECK_GT(s.max, d + 3 * j);
}

static void test_loss_as_retransmissions(void)
{
    const int64_t d = 10 * MS, rto = 200 * MS;
    const double p = 0.2;
    ekv_link_model_t m = {.delay_us = d, .loss = p, .rto_us = rto};
    ekv_link_t *l = ekv_link_new(0);
    ekv_link_set_model(l, &m, 99);
    int n = 200000, lost = 0;
    double extra = 0;
    for (int i = 0; i < n; i++) {
        int64_t t = ekv_link_sample_us(l);
        CHECK_GE(t, d);
        /* Without jitter, each transmission lost costs exactly one rto. */
        CHECK_EQ((t - d) % rto, 0);
        extra += (double)(t - d);
        lost += t - d >= rto;
    }
    ekv_link_destroy(&l);
    /* Geometric number of losses: mean extra rto p / (1 - p) = 50 ms (within 5%). */
    CHECK_NEAR(extra / n, rto * p / (1 - p), 0.05 * rto * p / (1 - p));
    /* At least one loss with probability p. */
    CHECK_NEAR((double)lost / n, p, 0.01);

    /* No loss: never an rto. */
    ekv_link_model_t m0 = {.delay_us = d, .loss = 0, .rto_us = rto};
    summary_t s = sample(&m0, 99, 10000);
    CHECK_EQ(s.max, d);
}

static void test_seed_repeats_run(void)
{
    ekv_link_model_t m = {.delay_us = 5 * MS,
                          .jitter = EKV_JITTER_PARETO,
                          .jitter_us = 2 * MS,
                          .shape = 1.5,
                          .loss = 0.1,
                          .rto_us = 100 * MS};
    ekv_link_t *a = ekv_link_new(0), *b = ekv_link_new(0), *c = ekv_link_new(0);
    ekv_link_set_model(a, &m, 1234);
    ekv_link_set_model(b, &m, 1234);
    ekv_link_set_model(c, &m, 1235);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t ta = ekv_link_sample_us(a), tb = ekv_link_sample_us(b), tc = ekv_link_sample_us(c);
        CHECK_EQ(ta, tb);
        differ += ta != tc;
    }
    CHECK_GT(differ, 900);

    /* Setting the model again reseeds: the run starts over. */
    int64_t first[50];
    ekv_link_set_model(a, &m, 77);
    for (int i = 0; i < 50; i++)
        first[i] = ekv_link_sample_us(a);
    ekv_link_set_model(a, &m, 77);
    for (int i = 0; i < 50; i++)
        CHECK_EQ(ekv_link_sample_us(a), first[i]);
    ekv_link_destroy(&a);
    ekv_link_destroy(&b);
    ekv_link_destroy(&c);
}

static void test_fifo_under_jitter(void)
{
    const int64_t d = 10 * MS, j = 50 * MS;
    const int n = 2000;
    ekv_link_model_t m = {.delay_us = d, .jitter = EKV_JITTER_UNIFORM, .jitter_us = j};
    ekv_link_t *l = ekv_link_new(0);
    ekv_link_t *raw = ekv_link_new(0); /* same draws, to see what jitter alone would do */
    ekv_link_set_model(l, &m, 2024);
    ekv_link_set_model(raw, &m, 2024);
    static int items[2000];
    int64_t prev_due = INT64_MIN, prev_raw = INT64_MIN, due[2000];
    int would_overtake = 0;
    for (int i = 0; i < n; i++) {
        int64_t sent = 1000000 + (int64_t)i * MS; /* one message every millisecond */
        items[i] = i;
        due[i] = ekv_link_push(l, sent, sent, &items[i]);
        int64_t raw_due = sent + ekv_link_sample_us(raw);
        would_overtake += raw_due < prev_raw;
        prev_raw = raw_due > prev_raw ? raw_due : prev_raw;
        CHECK_GE(due[i], sent + d);
        CHECK_LE(due[i], sent + d + j);
        CHECK_GE(due[i], prev_due);
        /* It never waits longer than the slowest message ahead of it requires. */
        CHECK_EQ(due[i], raw_due > prev_due ? raw_due : prev_due);
        prev_due = due[i];
    }
    /* The jitter (50 draws per 1 ms) would reorder most messages: FIFO was exercised. */
    CHECK_GT(would_overtake, n / 2);
    CHECK_EQ(ekv_link_pending(l), n);

    /* Popping at increasing times hands the messages out in the order they were sent, each
     * exactly when due. */
    int next = 0;
    for (int64_t now = 1000000; next < n; now += 100) {
        void *got;
        while (ekv_link_pop(l, now, &got)) {
            CHECK(got == &items[next]);
            CHECK_LE(due[next], now);
            CHECK_GT(due[next], now - 100);
            next++;
        }
    }
    CHECK_EQ(ekv_link_pending(l), 0);
    ekv_link_destroy(&l);
    ekv_link_destroy(&raw);
}

static void test_parse_jitter(void)
{
    ekv_link_model_t m = {.delay_us = 7 * MS, .jitter = EKV_JITTER_UNIFORM, .jitter_us = 1};
    CHECK_EQ(ekv_link_parse_jitter("none", &m), EKV_OK);
    CHECK_EQ(m.jitter, EKV_JITTER_NONE);
    CHECK_EQ(m.delay_us, 7 * MS); /* the delay is not the jitter's business */

    CHECK_EQ(ekv_link_parse_jitter("uniform:5", &m), EKV_OK);
    CHECK_EQ(m.jitter, EKV_JITTER_UNIFORM);
    CHECK_EQ(m.jitter_us, 5 * MS);

    CHECK_EQ(ekv_link_parse_jitter("normal:2.5", &m), EKV_OK);
    CHECK_EQ(m.jitter, EKV_JITTER_NORMAL);
    CHECK_EQ(m.jitter_us, 2500);

    CHECK_EQ(ekv_link_parse_jitter("pareto:3:1.5", &m), EKV_OK);
    CHECK_EQ(m.jitter, EKV_JITTER_PARETO);
    CHECK_EQ(m.jitter_us, 3 * MS);
    CHECK_NEAR(m.shape, 1.5, 1e-9);

    /* A parsed spec behaves as parsed: uniform:5 stays within [delay, delay + 5 ms]. */
    CHECK_EQ(ekv_link_parse_jitter("uniform:5", &m), EKV_OK);
    summary_t s = sample(&m, 8, 10000);
    CHECK_GE(s.min, 7 * MS);
    CHECK_LE(s.max, 12 * MS);
    CHECK_GT(s.max, 11 * MS);

    static const char *bad[] = {"pareto:3:1", "pareto:3", "uniform", "uniform:-1",
                                "foo:1",      "normal",   "",        "uniform:abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_link_model_t b = {0};
        int rc = ekv_link_parse_jitter(bad[i], &b);
        if (rc != EKV_EINVAL)
            EKV_FAIL_("ekv_link_parse_jitter(\"%s\") = %d, want EKV_EINVAL", bad[i], rc);
    }
}

int main(void)
{
    EKV_TEST_RUN(test_no_jitter_is_exact_delay);
    EKV_TEST_RUN(test_uniform);
    EKV_TEST_RUN(test_normal);
    EKV_TEST_RUN(test_pareto);
    EKV_TEST_RUN(test_loss_as_retransmissions);
    EKV_TEST_RUN(test_seed_repeats_run);
    EKV_TEST_RUN(test_fifo_under_jitter);
    EKV_TEST_RUN(test_parse_jitter);
    EKV_TEST_DONE();
}
