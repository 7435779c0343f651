/* ekv_rand: the seeded random draws of the simulation (logic only, no I/O).
 *
 * One generator, xorshift64*: fast, statistically good enough for delays and workloads, and
 * reproducible from its seed, so an experiment or a link model repeats exactly. On top of it
 * the distributions the simulation draws from: uniform on (0, 1) and on [0, n), the standard
 * normal (Box-Muller), the exponential gap between arrivals of a Poisson process, the pareto
 * tail of link jitter, and zipf over a key space (a cumulative table searched by bisection).
 * Users: the load generator (sim/loadgen.c: arrivals, keys) and the link model
 * (node/link.c: jitter, loss). Each owns its ekv_rand_t; the zipf table is a heap object. */
#ifndef EKV_RAND_H
#define EKV_RAND_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s; /* xorshift64* state, never 0 */
} ekv_rand_t;

/* Seeds r; seed 0 (which would stick xorshift at 0) takes a fixed non-zero seed instead. */
void ekv_rand_init(ekv_rand_t *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t ekv_rand_u64(ekv_rand_t *r);
/* Uniform on the open interval (0, 1): never 0, so log() of it is finite. */
double ekv_rand_unit(ekv_rand_t *r);
/* Uniform on [0, n) (n > 0), by remainder: its bias, below n / 2^64, does not matter here. */
uint64_t ekv_rand_below(ekv_rand_t *r, uint64_t n);
/* Standard normal: mean 0, deviation 1. Draws two units. */
double ekv_rand_normal(ekv_rand_t *r);
/* Exponential with the given rate (> 0): the time to the next arrival of a Poisson process
 * of rate arrivals per unit of time, in that unit. */
double ekv_rand_exp(ekv_rand_t *r, double rate);
/* Pareto (Lomax) with minimum 0 and scale 1: U^(-1/shape) - 1; mean 1 / (shape - 1) when
 * shape > 1. */
double ekv_rand_pareto(ekv_rand_t *r, double shape);

typedef struct ekv_zipf ekv_zipf_t;

/* Zipf over ranks 0 .. n-1 (n > 0): rank k drawn with probability proportional to
 * 1 / (k + 1)^s. Holds a table of n doubles. */
ekv_zipf_t *ekv_zipf_new(size_t n, double s);
/* One rank (draws one unit from r). */
size_t ekv_zipf_pick(const ekv_zipf_t *z, ekv_rand_t *r);
void ekv_zipf_destroy(ekv_zipf_t **self_p);

#endif
