/* ekv_rand: xorshift64* and the distributions drawn from it (see ekv_rand.h). */
#include "ekv_rand.h"

#include <math.h>
#include <stdlib.h>

#include "ekv_mem.h"

struct ekv_zipf {
    double *cdf; /* cumulative probability of ranks 0..k; the last is 1 (up to rounding) */
    size_t n;
};

void ekv_rand_init(ekv_rand_t *r, uint64_t seed)
{
    r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t ekv_rand_u64(ekv_rand_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

double ekv_rand_unit(ekv_rand_t *r)
{
    return ((double)(ekv_rand_u64(r) >> 11) + 0.5) / 9007199254740992.0; /* 53 bits */
}

uint64_t ekv_rand_below(ekv_rand_t *r, uint64_t n)
{
    return ekv_rand_u64(r) % n;
}

double ekv_rand_normal(ekv_rand_t *r)
{
    double radius = sqrt(-2.0 * log(ekv_rand_unit(r)));
    return radius * cos(2.0 * M_PI * ekv_rand_unit(r));
}

double ekv_rand_exp(ekv_rand_t *r, double rate)
{
    return -log(ekv_rand_unit(r)) / rate;
}

double ekv_rand_pareto(ekv_rand_t *r, double shape)
{
    return pow(ekv_rand_unit(r), -1.0 / shape) - 1.0;
}

ekv_zipf_t *ekv_zipf_new(size_t n, double s)
{
    ekv_zipf_t *z = ekv_calloc(1, sizeof *z);
    z->n = n ? n : 1;
    z->cdf = ekv_malloc(z->n * sizeof *z->cdf);
    double sum = 0, acc = 0;
    for (size_t i = 0; i < z->n; i++)
        sum += 1.0 / pow((double)(i + 1), s);
    for (size_t i = 0; i < z->n; i++)
        z->cdf[i] = (acc += 1.0 / pow((double)(i + 1), s) / sum);
    return z;
}

size_t ekv_zipf_pick(const ekv_zipf_t *z, ekv_rand_t *r)
{
    double u = ekv_rand_unit(r);
    size_t lo = 0, hi = z->n - 1; /* the first rank whose cumulative probability reaches u */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void ekv_zipf_destroy(ekv_zipf_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->cdf);
    free(*self_p);
    *self_p = NULL;
}
