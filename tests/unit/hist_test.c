/* hist_test: unit tests of the latency/size histogram (common/ekv_hist).
 *
 * The simulator's reports quote percentiles from these histograms, so what matters is that
 * an empty one says 0, small values are exact, large ones are within 1% of the truth, the
 * extremes and the mean are exact, and odd input (negative, huge) neither crashes nor skews
 * the result. The quantile convention is not pinned down: cases are built so that every
 * reasonable rank convention gives the same true answer. */
#include <math.h>
#include <stdint.h>

#include "ekv_hist.h"
#include "ekv_test.h"

static ekv_hist_t h; /* one big fixed array: kept off the stack */

/* |got - want| <= 1% of want. */
#define CHECK_WITHIN_1PCT(got, want)                                                               \
    do {                                                                                           \
        double g_ = (double)(got), w_ = (double)(want);                                            \
        if (!(fabs(g_ - w_) <= 0.01 * w_))                                                         \
            EKV_FAIL_("%s within 1%% of %s (%.1f vs %.1f)", #got, #want, g_, w_);                  \
    } while (0)

static void test_empty(void)
{
    ekv_hist_init(&h);
    CHECK_EQ(h.count, 0);
    CHECK_EQ(ekv_hist_quantile(&h, 0.0), 0);
    CHECK_EQ(ekv_hist_quantile(&h, 0.5), 0);
    CHECK_EQ(ekv_hist_quantile(&h, 0.99), 0);
    CHECK_EQ(ekv_hist_quantile(&h, 1.0), 0);
    CHECK(ekv_hist_mean(&h) == 0.0);
}

static void test_exact_below_256(void)
{
    /* Every value 0..255 ten times: the quantile in the middle of v's block is exactly v. */
    ekv_hist_init(&h);
    for (int rep = 0; rep < 10; rep++)
        for (int v = 0; v < 256; v++)
            ekv_hist_record(&h, v);
    CHECK_EQ(h.count, 2560);
    for (int v = 0; v < 256; v++)
        CHECK_EQ(ekv_hist_quantile(&h, (v * 10 + 5) / 2560.0), v);
    CHECK_EQ(ekv_hist_quantile(&h, 0.0), 0);
    CHECK_EQ(ekv_hist_quantile(&h, 1.0), 255);

    /* A few distinct small values: no bucket rounding at all. */
    ekv_hist_init(&h);
    for (int i = 0; i < 200; i++)
        ekv_hist_record(&h, 7);
    for (int i = 0; i < 600; i++)
        ekv_hist_record(&h, 42);
    for (int i = 0; i < 200; i++)
        ekv_hist_record(&h, 255);
    CHECK_EQ(ekv_hist_quantile(&h, 0.10), 7);
    CHECK_EQ(ekv_hist_quantile(&h, 0.50), 42);
    CHECK_EQ(ekv_hist_quantile(&h, 0.90), 255);
    CHECK_EQ(h.min, 7);
    CHECK_EQ(h.max, 255);
}

static void test_uniform_to_a_million(void)
{
    const int64_t n = 1000000;
    ekv_hist_init(&h);
    for (int64_t v = 1; v <= n; v++)
        ekv_hist_record(&h, v);
    CHECK_EQ(h.count, (uint64_t)n);
    CHECK_WITHIN_1PCT(ekv_hist_quantile(&h, 0.50), 500000);
    CHECK_WITHIN_1PCT(ekv_hist_quantile(&h, 0.90), 900000);
    CHECK_WITHIN_1PCT(ekv_hist_quantile(&h, 0.99), 990000);
    CHECK_WITHIN_1PCT(ekv_hist_quantile(&h, 0.999), 999000);
    CHECK_WITHIN_1PCT(ekv_hist_quantile(&h, 0.01), 10000);
    CHECK_EQ(h.min, 1);
    CHECK_EQ(h.max, (uint64_t)n);
    CHECK_EQ(ekv_hist_quantile(&h, 0.0), 1);
    CHECK_EQ(ekv_hist_quantile(&h, 1.0), (uint64_t)n);
    CHECK(ekv_hist_mean(&h) == 500000.5);

    /* Quantiles never go down as q goes up. */
    uint64_t prev = 0;
    for (int i = 0; i <= 1000; i++) {
        uint64_t q = ekv_hist_quantile(&h, i / 1000.0);
        CHECK_GE(q, prev);
        prev = q;
    }
}

/* Large values: a bucket is at most 1/128 of its values wide and a percentile reports its
 * midpoint, so the answer is within half of that, 0.4%. 2063 sits at the top of the bucket
 * [2048, 2064), where reporting the bucket's lower bound instead would be 0.7% off. */
static void test_single_values_within_resolution(void)
{
    static const int64_t vals[] = {256, 257, 300, 511, 512, 1000, 2063, 4097, 65535, 123456789};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        /* With one value the clamp to min/max makes it exact; with two values a bucket apart
         * the middle rank shows the bucket's own value. */
        ekv_hist_init(&h);
        ekv_hist_record(&h, vals[i]);
        CHECK_EQ(ekv_hist_quantile(&h, 0.5), (uint64_t)vals[i]);
        ekv_hist_init(&h);
        ekv_hist_record(&h, 0);
        for (int k = 0; k < 3; k++)
            ekv_hist_record(&h, vals[i]);
        ekv_hist_record(&h, vals[i] * 4);
        uint64_t got = ekv_hist_quantile(&h, 0.5);
        double err = fabs((double)got - (double)vals[i]) / (double)vals[i];
        if (err > 0.004)
            EKV_FAIL_("value %" PRId64 " reported as %" PRIu64, vals[i], got);
    }
}

static void test_min_max_mean_exact(void)
{
    ekv_hist_init(&h);
    ekv_hist_record(&h, 123457);
    ekv_hist_record(&h, 98765431);
    ekv_hist_record(&h, 1000001);
    ekv_hist_record(&h, 333);
    CHECK_EQ(h.min, 333);
    CHECK_EQ(h.max, 98765431);
    CHECK_EQ(ekv_hist_quantile(&h, 0.0), 333);
    CHECK_EQ(ekv_hist_quantile(&h, 1.0), 98765431);
    CHECK_EQ(h.sum, 123457 + 98765431 + 1000001 + 333);
    CHECK(ekv_hist_mean(&h) == (123457.0 + 98765431.0 + 1000001.0 + 333.0) / 4.0);
}

static void test_negative_counts_as_zero(void)
{
    ekv_hist_init(&h);
    ekv_hist_record(&h, -5);
    ekv_hist_record(&h, INT64_MIN);
    CHECK_EQ(h.count, 2);
    CHECK_EQ(h.min, 0);
    CHECK_EQ(h.max, 0);
    CHECK_EQ(h.sum, 0);
    CHECK_EQ(ekv_hist_quantile(&h, 0.5), 0);
    CHECK_EQ(ekv_hist_quantile(&h, 1.0), 0);
    CHECK(ekv_hist_mean(&h) == 0.0);

    ekv_hist_record(&h, 10);
    ekv_hist_record(&h, 10);
    CHECK_EQ(h.min, 0);
    CHECK_EQ(h.max, 10);
    CHECK(ekv_hist_mean(&h) == 5.0);
    CHECK_EQ(ekv_hist_quantile(&h, 0.25), 0);
    CHECK_EQ(ekv_hist_quantile(&h, 0.75), 10);
}

static void test_huge_values(void)
{
    const int64_t huge = 1000000000000000LL; /* 1e15 */
    ekv_hist_init(&h);
    ekv_hist_record(&h, 1000);
    ekv_hist_record(&h, huge);
    CHECK_EQ(h.max, (uint64_t)huge);
    CHECK_EQ(ekv_hist_quantile(&h, 1.0), (uint64_t)huge);
    CHECK_WITHIN_1PCT(ekv_hist_quantile(&h, 0.99), huge);
    CHECK_EQ(ekv_hist_quantile(&h, 0.0), 1000);
    CHECK(ekv_hist_mean(&h) == (1000.0 + 1e15) / 2.0);

    /* Many huge values: the middle one is within 1%, and the largest int64 is recorded. */
    ekv_hist_init(&h);
    for (int i = 1; i <= 1000; i++)
        ekv_hist_record(&h, huge / 1000 * i);
    CHECK_WITHIN_1PCT(ekv_hist_quantile(&h, 0.5), huge / 2);
    ekv_hist_record(&h, INT64_MAX);
    CHECK_EQ(h.max, (uint64_t)INT64_MAX);
    CHECK_EQ(ekv_hist_quantile(&h, 1.0), (uint64_t)INT64_MAX);
    CHECK_EQ(h.count, 1001);
}

int main(void)
{
    EKV_TEST_RUN(test_empty);
    EKV_TEST_RUN(test_exact_below_256);
    EKV_TEST_RUN(test_uniform_to_a_million);
    EKV_TEST_RUN(test_single_values_within_resolution);
    EKV_TEST_RUN(test_min_max_mean_exact);
    EKV_TEST_RUN(test_negative_counts_as_zero);
    EKV_TEST_RUN(test_huge_values);
    EKV_TEST_DONE();
}
