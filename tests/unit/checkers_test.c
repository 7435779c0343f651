/* checkers_test: unit tests of the consistency checkers (sim/checkers) on hand-made histories.
 *
 * Each test writes a small history the way the load generator records one (puts and deletes
 * with their versions and commit times, gets with the version they served, RMWs sharing an
 * id), hands it over shuffled, and checks the rules of checkers.h: each kind of violation is
 * found, a clean history passes, the kept counterexamples are the smallest ones in order, a
 * 404 is never judged older when a delete, an unknown write or an expiry could explain it,
 * and lost updates are exactly acknowledged increments minus (final - initial). Times are
 * written in ms from T0. The history is never modified; everything runs clean under ASan. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "checkers.h"
#include "ekv_err.h"
#include "ekv_test.h"

#define MS 1000
#define T0 1700000000000000LL

static uint64_t g_rng = 777;

static size_t pick(size_t n)
{
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (size_t)((g_rng >> 33) % n);
}

static void shuffle(ekv_hist_op_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = pick(i);
        ekv_hist_op_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

static int64_t at(double ms)
{
    return T0 + (int64_t)(ms * MS);
}

/* A write acknowledged at version seq, committed halfway through. */
static ekv_hist_op_t wr(uint8_t op, uint32_t client, uint16_t pop, uint32_t key, double s, double e,
                        uint64_t seq)
{
    return (ekv_hist_op_t){.client = client,
                           .pop = pop,
                           .op = op,
                           .key = key,
                           .status = 200,
                           .start_us = at(s),
                           .end_us = at(e),
                           .seq = seq,
                           .commit_us = (at(s) + at(e)) / 2};
}

static ekv_hist_op_t put(uint32_t client, uint16_t pop, uint32_t key, double s, double e,
                         uint64_t seq)
{
    return wr(EKV_HOP_PUT, client, pop, key, s, e, seq);
}

static ekv_hist_op_t del(uint32_t client, uint16_t pop, uint32_t key, double s, double e,
                         uint64_t seq)
{
    return wr(EKV_HOP_DELETE, client, pop, key, s, e, seq);
}

/* A get that served version seq (0: answered 404). */
static ekv_hist_op_t get(uint32_t client, uint16_t pop, uint32_t key, double s, double e,
                         uint64_t seq)
{
    return (ekv_hist_op_t){.client = client,
                           .pop = pop,
                           .op = EKV_HOP_GET,
                           .key = key,
                           .status = seq ? 200 : 404,
                           .start_us = at(s),
                           .end_us = at(e),
                           .seq = seq};
}

static ekv_chk_opts_t opts(void)
{
    return (ekv_chk_opts_t){.time_scale = 1, .bound_ms = 0, .fresh_bin_ms = 100};
}

/* Runs the checkers on a shuffled copy and checks the history was only read. */
static void run(ekv_checkers_t *c, ekv_hist_op_t *ops, size_t n, const ekv_chk_opts_t *o)
{
    shuffle(ops, n);
    ekv_hist_op_t copy[64];
    CHECK(n <= 64);
    memcpy(copy, ops, n * sizeof *ops);
    ekv_history_t h = {ops, n};
    CHECK_EQ(ekv_checkers_run(c, &h, o), EKV_OK);
    CHECK_MEM(copy, n * sizeof *ops, ops, n * sizeof *ops);
}

/* The same under the default options (opts()). */
static void run_default(ekv_checkers_t *c, ekv_hist_op_t *ops, size_t n)
{
    ekv_chk_opts_t o = opts();
    run(c, ops, n, &o);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_op(const ekv_hist_op_t *o, uint8_t op, uint32_t client, double s, uint64_t seq)
{
    CHECK_EQ(o->op, op);
    CHECK_EQ(o->client, client);
    CHECK_EQ(o->start_us, at(s));
    CHECK_EQ(o->seq, seq);
}

/* ---- clean -------------------------------------------------------------------------------- */

static void test_clean_history_passes(void)
{
    /* Two clients at two PoPs; every read after a commit returns it or newer; a read that
     * overlaps a write may return either version. */
    ekv_hist_op_t h[] = {
        put(1, 0, 7, 0, 10, 1),    get(1, 0, 7, 20, 21, 1),   get(2, 1, 7, 30, 31, 1),
        put(2, 1, 7, 40, 50, 2),   get(1, 0, 7, 45, 46, 1), /* overlaps put 2: either */
        get(2, 1, 7, 60, 61, 2),   get(1, 0, 7, 70, 71, 2),   del(1, 0, 7, 80, 90, 3),
        get(1, 0, 7, 100, 101, 0), get(2, 1, 7, 110, 111, 0), get(3, 2, 8, 5, 6, 0),
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.ryw.count, 0);
    CHECK_EQ(c.mono_client.count, 0);
    CHECK_EQ(c.mono_pop.count, 0);
    CHECK_EQ(c.stale.count, 0);
    CHECK_EQ(c.stale_reads, 0);
    CHECK_EQ(c.lost_pairs.count, 0);
    CHECK_EQ(c.lost_updates, 0);
    CHECK_EQ(c.convergence_ms, 0);
    CHECK_EQ(c.gets, 8);
    CHECK_EQ(c.gets_judged, 8);
    CHECK_EQ(c.writes, 3);
    CHECK_EQ(c.writes_ok, 3);
    CHECK_EQ(c.nfailures, 0);
    CHECK_EQ(c.ryw.nex + c.mono_client.nex + c.mono_pop.nex + c.stale.nex, 0);
    ekv_checkers_fini(&c);
    ekv_checkers_fini(&c);
}

/* ---- read-your-writes --------------------------------------------------------------------- */

static void test_ryw_found_and_example(void)
{
    /* Client 1 writes v2 at PoP 0, is routed to PoP 3, and reads v1 there. */
    ekv_hist_op_t h[] = {
        put(9, 5, 4, 0, 10, 1),  put(1, 0, 4, 20, 30, 2),
        get(1, 3, 4, 25, 26, 1), /* began before the put ended: not a violation */
        get(1, 3, 4, 35, 36, 1), get(2, 3, 4, 37, 38, 1), /* another client: not its write */
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.ryw.count, 1);
    CHECK_EQ(c.ryw.nex, 1);
    const ekv_chk_example_t *e = &c.ryw.ex[0];
    CHECK_EQ(e->nops, 2);
    check_op(&e->ops[0], EKV_HOP_PUT, 1, 20, 2);
    CHECK_EQ(e->ops[0].pop, 0);
    check_op(&e->ops[1], EKV_HOP_GET, 1, 35, 1);
    CHECK_EQ(e->ops[1].pop, 3);
    CHECK_EQ(e->ops[1].key, 4);
    CHECK_EQ(e->span_us, 5 * MS); /* get start - put end */
    ekv_checkers_fini(&c);
}

static void test_ryw_examples_are_smallest(void)
{
    /* Eight violating reads by eight clients with gaps 9, 3, 7, 1, 3, 5, 2, 8 ms, later
     * clients earlier in time: the five kept are 1, 2, 3, 3, 5 in that order, the tie at 3 ms
     * broken by the earlier get (client 4's), not by client number. */
    double gaps[] = {9, 3, 7, 1, 3, 5, 2, 8};
    ekv_hist_op_t h[2 + 2 * N(gaps)];
    size_t n = 0;
    h[n++] = put(100, 0, 1, 0, 1, 1);
    for (size_t i = 0; i < N(gaps); i++) {
        double base = 100.0 * (double)(N(gaps) - i);
        h[n++] = put((uint32_t)i, 0, 1, base, base + 10, 2 + N(gaps) - i);
        h[n++] = get((uint32_t)i, 1, 1, base + 10 + gaps[i], base + 10 + gaps[i] + 1, 1);
    }
    ekv_checkers_t c;
    ekv_chk_opts_t o = opts();
    run(&c, h, n, &o);
    CHECK_EQ(c.ryw.count, 8);
    CHECK_EQ(c.ryw.nex, 5);
    uint32_t want_client[] = {3, 6, 4, 1, 5};
    int64_t want_span[] = {1, 2, 3, 3, 5};
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ(c.ryw.ex[i].ops[1].client, want_client[i]);
        CHECK_EQ(c.ryw.ex[i].span_us, want_span[i] * MS);
    }
    ekv_checkers_fini(&c);
}

static void test_ryw_keeps_the_closest_write(void)
{
    /* A client wrote v2 then v3, then read v1: the example names v3, its last write. */
    ekv_hist_op_t h[] = {
        put(1, 0, 2, 0, 5, 1),
        put(1, 0, 2, 10, 15, 2),
        put(1, 0, 2, 20, 25, 3),
        get(1, 1, 2, 40, 41, 1),
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.ryw.count, 1);
    CHECK_EQ(c.ryw.nex, 1); /* one example per violating get */
    check_op(&c.ryw.ex[0].ops[0], EKV_HOP_PUT, 1, 20, 3);
    CHECK_EQ(c.ryw.ex[0].span_us, 15 * MS);
    ekv_checkers_fini(&c);
}

static void test_ryw_delete_and_404(void)
{
    ekv_hist_op_t h[] = {
        put(1, 0, 3, 0, 10, 1),
        del(1, 0, 3, 20, 30, 2),
        get(1, 1, 3, 40, 41, 0), /* its own delete: fine */
        get(1, 1, 3, 50, 51, 1), /* the value it deleted: older than the delete */
        put(2, 0, 5, 0, 10, 1),
        get(2, 1, 5, 20, 21, 0), /* 404 after its own put, no delete of 5 at all: older */
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.ryw.count, 2);
    CHECK_EQ(c.ryw.nex, 2);
    /* smallest first: 10 ms, then 20 */
    check_op(&c.ryw.ex[0].ops[0], EKV_HOP_PUT, 2, 0, 1);
    check_op(&c.ryw.ex[0].ops[1], EKV_HOP_GET, 2, 20, 0);
    CHECK_EQ(c.ryw.ex[0].ops[1].status, 404);
    check_op(&c.ryw.ex[1].ops[0], EKV_HOP_DELETE, 1, 20, 2);
    check_op(&c.ryw.ex[1].ops[1], EKV_HOP_GET, 1, 50, 1);
    CHECK_EQ(c.ryw.ex[1].span_us, 20 * MS);
    ekv_checkers_fini(&c);
}

static void test_404_explained_is_not_judged(void)
{
    /* Client 1 puts key 6; its later 404 could be another client's delete (acknowledged, or
     * unanswered and maybe committed), or an expiry: never a violation. A delete that began
     * after the get ended cannot explain it. */
    ekv_hist_op_t base[] = {
        put(1, 0, 6, 0, 10, 1),
        get(1, 1, 6, 40, 41, 0),
    };
    ekv_chk_opts_t o = opts();
    ekv_checkers_t c;
    for (int v = 0; v < 5; v++) {
        ekv_hist_op_t h[3] = {base[0], base[1]};
        size_t n = 2;
        uint8_t expire[7] = {0};
        o = opts();
        if (v == 1)
            h[n++] = del(2, 2, 6, 30, 45, 2); /* acknowledged, began before the get ended */
        if (v == 2) {
            h[n] = del(2, 2, 6, 30, 45, 0);
            h[n++].status = 0; /* no answer */
        }
        if (v == 3) {
            expire[6] = 1;
            o.may_expire = expire;
            o.nmay_expire = N(expire);
        }
        if (v == 4)
            h[n++] = del(2, 2, 6, 42, 45, 2); /* began after the get ended */
        run(&c, h, n, &o);
        CHECK_EQ(c.ryw.count, v == 0 || v == 4);
        CHECK_EQ(c.stale_reads, v == 0 || v == 4);
        ekv_checkers_fini(&c);
    }
}

/* ---- monotonic reads ---------------------------------------------------------------------- */

static void test_monotonic_client(void)
{
    ekv_hist_op_t h[] = {
        put(9, 0, 1, 0, 10, 1),  put(9, 0, 1, 20, 30, 2),
        get(1, 0, 1, 40, 41, 2), get(1, 1, 1, 40.5, 42, 1), /* overlaps the first: either order */
        get(1, 1, 1, 50, 51, 1),                            /* after seeing v2: older */
        get(1, 1, 1, 60, 61, 0), /* not found after found, no delete: older */
        get(2, 2, 1, 5, 6, 0),   /* 404 then found: newer */
        get(2, 2, 1, 15, 16, 1),
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.mono_client.count, 2);
    CHECK_EQ(c.mono_client.nex, 2);
    check_op(&c.mono_client.ex[0].ops[0], EKV_HOP_GET, 1, 40, 2);
    check_op(&c.mono_client.ex[0].ops[1], EKV_HOP_GET, 1, 50, 1);
    CHECK_EQ(c.mono_client.ex[0].span_us, 9 * MS);
    /* the 404 is older than v1 too: the earlier get that ended last is the v1 one; the tie
     * at 9 ms goes to the earlier later-get */
    check_op(&c.mono_client.ex[1].ops[0], EKV_HOP_GET, 1, 50, 1);
    check_op(&c.mono_client.ex[1].ops[1], EKV_HOP_GET, 1, 60, 0);
    CHECK_EQ(c.mono_client.ex[1].span_us, 9 * MS);
    CHECK_EQ(ekv_checkers_monotonic_violations(&c), c.mono_client.count + c.mono_pop.count);
    ekv_checkers_fini(&c);
}

static void test_monotonic_deletes(void)
{
    /* v1 at seq 1, a delete at seq 3, v2 at seq 2 in between: after a 404 that could be the
     * delete, v2 is not judged; found v2 then 404 explained by the delete is fine; found v2
     * after the 404 of a never-deleted key is fine (the 404 is judged as version 0 then). */
    ekv_hist_op_t h[] = {
        put(9, 0, 1, 0, 10, 1), put(9, 0, 1, 20, 30, 2), del(9, 0, 1, 40, 50, 3),
        get(1, 0, 1, 60, 61, 0), get(1, 0, 1, 70, 71, 2), get(1, 0, 1, 80, 81, 0),
        get(1, 0, 1, 90, 91, 0),
        /* a found read older than a delete seen before: the delete's 404 is newer */
        put(9, 0, 2, 0, 10, 1), del(9, 0, 2, 20, 30, 2), put(9, 0, 2, 100, 110, 3),
        get(2, 1, 2, 120, 121, 3), get(2, 1, 2, 130, 131, 0), /* only delete 2 < 3: older */
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.mono_client.count, 1);
    check_op(&c.mono_client.ex[0].ops[0], EKV_HOP_GET, 2, 120, 3);
    check_op(&c.mono_client.ex[0].ops[1], EKV_HOP_GET, 2, 130, 0);
    ekv_checkers_fini(&c);
}

static void test_monotonic_pop(void)
{
    /* Different clients at one PoP: the PoP went back; one client never did. */
    ekv_hist_op_t h[] = {
        put(9, 0, 1, 0, 10, 1),  put(9, 0, 1, 20, 30, 2), get(1, 4, 1, 40, 41, 2),
        get(2, 4, 1, 45, 46, 1), get(3, 5, 1, 47, 48, 2), get(4, 6, 1, 49, 50, 1),
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.mono_client.count, 0);
    CHECK_EQ(c.mono_pop.count, 1);
    CHECK_EQ(c.mono_pop.ex[0].ops[0].client, 1);
    CHECK_EQ(c.mono_pop.ex[0].ops[1].client, 2);
    CHECK_EQ(c.mono_pop.ex[0].ops[1].pop, 4);
    CHECK_EQ(c.mono_pop.ex[0].span_us, 4 * MS);
    CHECK_EQ(ekv_checkers_monotonic_violations(&c), 1);
    ekv_checkers_fini(&c);
}

/* ---- bounded staleness, p_fresh, convergence ---------------------------------------------- */

static void test_staleness_bound_and_age(void)
{
    /* v1 commits at 5 ms, v2 at 105, v3 at 205; a read at 355 returns v1: stale since v2, age
     * 250 real ms = 500 simulated at time scale 2; convergence uses its answer, at 365. */
    ekv_hist_op_t h[] = {
        put(1, 0, 1, 0, 10, 1),    put(1, 0, 1, 100, 110, 2), put(1, 0, 1, 200, 210, 3),
        get(2, 1, 1, 355, 365, 1), get(3, 2, 1, 250, 251, 3), get(4, 3, 1, 300, 301, 2),
        get(5, 3, 1, 104, 109, 1), /* began before v2 committed: fresh */
    };
    ekv_chk_opts_t o = opts();
    o.time_scale = 2;
    for (int v = 0; v < 2; v++) {
        o.bound_ms = v ? 600 : 400;
        ekv_checkers_t c;
        run(&c, h, N(h), &o);
        CHECK_EQ(c.stale_reads, 2);
        CHECK_EQ(c.stale_age_max_ms, 500);
        CHECK_EQ(c.convergence_ms, 520);
        /* bound 400: only the 500 ms read (the other: 300 - 205 = 95 ms x 2 = 190) */
        CHECK_EQ(c.stale.count, v ? 0 : 1);
        CHECK_EQ(c.stale.nex, v ? 0 : 1);
        if (!v) {
            check_op(&c.stale.ex[0].ops[0], EKV_HOP_PUT, 1, 100, 2);
            check_op(&c.stale.ex[0].ops[1], EKV_HOP_GET, 2, 355, 1);
            CHECK_EQ(c.stale.ex[0].span_us, 250 * MS);
        }
        ekv_checkers_fini(&c);
    }
}

static void test_p_fresh(void)
{
    /* v1 commits at 5 ms. Reads 0-99 ms after it: 1 of 2 fresh; 100-199: 2 of 2 (a 404 after
     * a delete is fresh); none in 200-299. */
    ekv_hist_op_t h[] = {
        put(1, 0, 1, 0, 10, 1),    get(2, 1, 1, 15, 16, 1), put(1, 0, 2, 0, 10, 1),
        put(1, 0, 2, 20, 30, 2),   get(2, 1, 2, 50, 51, 1), /* 25 ms after v2: stale */
        get(3, 1, 1, 110, 111, 1), del(1, 0, 3, 0, 10, 5),  get(3, 2, 3, 150, 151, 0),
        get(3, 2, 9, 150, 151, 0), /* a key never written: no commit to be fresh about */
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.fresh_n[0], 2);
    CHECK_EQ(c.fresh_hit[0], 1);
    CHECK(ekv_checkers_p_fresh_at(&c, 0) == 0.5);
    CHECK(ekv_checkers_p_fresh_at(&c, 99.9) == 0.5);
    CHECK(ekv_checkers_p_fresh_at(&c, 100) == 1.0);
    CHECK(ekv_checkers_p_fresh_at(&c, 250) == -1);
    CHECK(ekv_checkers_p_fresh_at(&c, 1e9) == -1);
    CHECK_EQ(c.stale_reads, 1);
    CHECK_EQ(c.stale.count, 1); /* bound 0 */
    ekv_checkers_fini(&c);
}

/* ---- lost updates --------------------------------------------------------------------------- */

static ekv_hist_op_t rmw_get(uint32_t client, uint32_t key, uint32_t id, double s, int64_t v)
{
    ekv_hist_op_t o = get(client, (uint16_t)client, key, s, s + 2, v ? (uint64_t)v : 0);
    o.counter = 1, o.rmw = id, o.value = v;
    return o;
}

static ekv_hist_op_t rmw_put(uint32_t client, uint32_t key, uint32_t id, double s, int64_t v,
                             uint64_t seq, int status)
{
    ekv_hist_op_t o = put(client, (uint16_t)client, key, s, s + 5, seq);
    o.counter = 1, o.rmw = id, o.value = v, o.status = status;
    if (status != 200)
        o.seq = 0, o.commit_us = 0;
    return o;
}

static void test_lost_updates_exact(void)
{
    /* Key 1 starts at 10. RMWs 1 and 2 both read 10 and write 11 (one lost); 3 reads 11 and
     * writes 12; 4 is refused (429); 5 gets no answer. RMWs 6, 7, 8 on key 2 all read 0 (404)
     * and write 1: three pairs, two lost. Key 3 has increments but no final: not judged. */
    ekv_hist_op_t h[] = {
        rmw_get(1, 1, 1, 0, 10),  rmw_put(1, 1, 1, 3, 11, 1, 200),
        rmw_get(2, 1, 2, 1, 10),  rmw_put(2, 1, 2, 4, 11, 2, 200),
        rmw_get(3, 1, 3, 20, 11), rmw_put(3, 1, 3, 23, 12, 3, 200),
        rmw_get(4, 1, 4, 40, 12), rmw_put(4, 1, 4, 43, 13, 0, 429),
        rmw_get(5, 1, 5, 60, 12), rmw_put(5, 1, 5, 63, 13, 0, 0),
        rmw_get(6, 2, 6, 0, 0),   rmw_put(6, 2, 6, 10, 1, 1, 200),
        rmw_get(7, 2, 7, 1, 0),   rmw_put(7, 2, 7, 4, 1, 2, 200),
        rmw_get(8, 2, 8, 2, 0),   rmw_put(8, 2, 8, 30, 1, 3, 200),
        rmw_get(9, 3, 9, 0, 0),   rmw_put(9, 3, 9, 3, 1, 1, 200),
    };
    /* The unanswered put 5 did commit: key 1 ends at 13. */
    ekv_chk_final_t finals[] = {{2, 0, 1}, {1, 10, 13}};
    ekv_chk_opts_t o = opts();
    o.finals = finals;
    o.nfinals = N(finals);
    ekv_checkers_t c;
    run(&c, h, N(h), &o);
    CHECK_EQ(c.ncounters, 2);
    CHECK_EQ(c.counters[0].key, 1);
    CHECK_EQ(c.counters[0].increments, 3);
    CHECK_EQ(c.counters[0].lost, 3 - (13 - 10)); /* the unknown write hid the loss */
    CHECK_EQ(c.counters[1].key, 2);
    CHECK_EQ(c.counters[1].increments, 3);
    CHECK_EQ(c.counters[1].lost, 2);
    CHECK_EQ(c.increments, 6);
    CHECK_EQ(c.lost_updates, 2);
    CHECK_EQ(c.rate_limited_writes, 1);
    CHECK_EQ(c.writes_failed, 1);
    /* pairs: (1,2) on key 1; (6,7), (6,8), (7,8) on key 2; key 3 has one RMW */
    CHECK_EQ(c.lost_pairs.count, 4);
    CHECK_EQ(c.lost_pairs.nex, 4);
    const ekv_chk_example_t *e = &c.lost_pairs.ex[0];
    CHECK_EQ(e->nops, 4);
    CHECK_EQ(e->span_us, 9 * MS); /* RMWs 1 and 2: first get at 0 ms, last put ends at 9 */
    CHECK_EQ(e->ops[0].client, 1);
    CHECK_EQ(e->ops[2].client, 2);
    ekv_checkers_fini(&c);
}

static void test_lost_pairs_order(void)
{
    ekv_hist_op_t h[] = {
        rmw_get(6, 2, 6, 0, 0), rmw_put(6, 2, 6, 10, 1, 1, 200),
        rmw_get(7, 2, 7, 1, 0), rmw_put(7, 2, 7, 4, 1, 2, 200),
        rmw_get(8, 2, 8, 2, 0), rmw_put(8, 2, 8, 30, 1, 3, 200),
        rmw_get(9, 2, 9, 3, 0), rmw_put(9, 2, 9, 5, 5, 4, 200), /* not v + 1: no pair */
    };
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.lost_pairs.count, 3);
    /* spans: (6,7) 0..15 = 15; (6,8) 0..35 = 35; (7,8) 1..35 = 34 */
    CHECK_EQ(c.lost_pairs.ex[0].span_us, 15 * MS);
    CHECK_EQ(c.lost_pairs.ex[0].ops[0].client, 6);
    CHECK_EQ(c.lost_pairs.ex[0].ops[1].op, EKV_HOP_PUT);
    CHECK_EQ(c.lost_pairs.ex[0].ops[2].client, 7);
    CHECK_EQ(c.lost_pairs.ex[0].ops[3].value, 1);
    CHECK_EQ(c.lost_pairs.ex[1].span_us, 34 * MS);
    CHECK_EQ(c.lost_pairs.ex[2].span_us, 35 * MS);
    CHECK_EQ(c.lost_updates, 0); /* no finals given: nothing judged */
    CHECK_EQ(c.ncounters, 0);
    ekv_checkers_fini(&c);
}

/* ---- against a brute force ---------------------------------------------------------------- */

/* The rules of checkers.h written the slow way: every (earlier, later) pair. */
static uint64_t bf_hi(const ekv_hist_op_t *h, size_t n, const ekv_hist_op_t *g)
{
    uint64_t hi = g->status == 200 ? g->seq : 0;
    for (size_t i = 0; g->status == 404 && i < n; i++) {
        const ekv_hist_op_t *d = &h[i];
        if (d->op == EKV_HOP_DELETE && d->key == g->key && d->start_us < g->end_us)
            hi = d->status == 0 ? UINT64_MAX : (d->seq > hi ? d->seq : hi);
    }
    return hi;
}

/* kind 0: ryw, 1: per client, 2: per PoP. Returns the count; *span the smallest example's. */
static uint64_t bf_check(const ekv_hist_op_t *h, size_t n, int kind, int64_t *span)
{
    uint64_t count = 0;
    *span = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        const ekv_hist_op_t *g = &h[i];
        if (g->op != EKV_HOP_GET)
            continue;
        uint64_t hi = bf_hi(h, n, g);
        int bad = 0;
        for (size_t j = 0; j < n; j++) {
            const ekv_hist_op_t *r = &h[j];
            int same = kind == 2 ? r->pop == g->pop : r->client == g->client;
            int ref = kind == 0 ? (r->op != EKV_HOP_GET && r->status == 200) : r->op == EKV_HOP_GET;
            uint64_t v = r->op == EKV_HOP_GET && r->status == 404 ? 0 : r->seq;
            if (!same || !ref || r->key != g->key || r->end_us >= g->start_us || v <= hi)
                continue;
            bad = 1;
            *span = g->start_us - r->end_us < *span ? g->start_us - r->end_us : *span;
        }
        count += (uint64_t)bad;
    }
    return count;
}

static void test_random_against_brute_force(void)
{
    for (int round = 0; round < 200; round++) {
        ekv_hist_op_t h[64];
        size_t n = 20 + pick(44);
        for (size_t i = 0; i < n; i++) {
            double s = (double)pick(1000), e = s + 1 + (double)pick(50);
            uint32_t client = (uint32_t)pick(4), key = (uint32_t)pick(3);
            uint16_t pop = (uint16_t)pick(3);
            uint64_t seq = 1 + pick(20);
            size_t what = pick(10);
            if (what < 6)
                h[i] = get(client, pop, key, s, e, pick(4) ? seq : 0);
            else if (what < 9)
                h[i] = put(client, pop, key, s, e, seq);
            else
                h[i] = del(client, pop, key, s, e, seq);
            if (h[i].op == EKV_HOP_DELETE && !pick(4))
                h[i].status = 0, h[i].seq = 0;
        }
        ekv_checkers_t c;
        ekv_chk_opts_t o = opts();
        run(&c, h, n, &o);
        const ekv_chk_kind_t *kinds[] = {&c.ryw, &c.mono_client, &c.mono_pop};
        for (int k = 0; k < 3; k++) {
            int64_t span;
            CHECK_EQ(kinds[k]->count, bf_check(h, n, k, &span));
            if (kinds[k]->count)
                CHECK_EQ(kinds[k]->ex[0].span_us, span);
            for (size_t x = 1; x < kinds[k]->nex; x++)
                CHECK_LE(kinds[k]->ex[x - 1].span_us, kinds[k]->ex[x].span_us);
        }
        ekv_checkers_fini(&c);
    }
}

static void test_large_history(void)
{
    /* 60,000 gets at one PoP, each by its own client: the first saw v2, the rest v1 (each a
     * per-PoP violation against the first); 20,000 RMWs of one counter all read 0 and wrote
     * 1: the counts hold at the size of a real run, in a fraction of a second. */
    size_t ng = 60000, nr = 20000, n = 2 + ng + 2 * nr;
    ekv_hist_op_t *h = calloc(n, sizeof *h);
    CHECK(h != NULL);
    size_t k = 0;
    h[k++] = put(0, 0, 1, 0, 1, 1);
    h[k++] = put(0, 0, 1, 2, 3, 2);
    for (size_t i = 0; i < ng; i++)
        h[k++] = get((uint32_t)(i + 1), 7, 1, 10.0 + (double)i, 10.5 + (double)i, i ? 1 : 2);
    for (size_t i = 0; i < nr; i++) {
        h[k++] = rmw_get((uint32_t)i, 2, (uint32_t)i + 1, (double)i, 0);
        h[k++] = rmw_put((uint32_t)i, 2, (uint32_t)i + 1, (double)i + 3, 1, i + 1, 200);
    }
    ekv_chk_final_t fin = {2, 0, 1};
    ekv_chk_opts_t o = opts();
    o.finals = &fin, o.nfinals = 1;
    ekv_history_t hist = {h, n};
    ekv_checkers_t c;
    CHECK_EQ(ekv_checkers_run(&c, &hist, &o), EKV_OK);
    CHECK_EQ(c.mono_pop.count, ng - 1);
    CHECK_EQ(c.mono_client.count, 0);
    CHECK_EQ(c.mono_pop.ex[0].span_us, 500); /* 0.5 ms after the previous get ended */
    CHECK_EQ(c.lost_pairs.count, (uint64_t)nr * (nr - 1) / 2);
    CHECK_EQ(c.lost_updates, (int64_t)nr - 1);
    CHECK_EQ(c.lost_pairs.nex, EKV_CHK_EXAMPLES);
    ekv_checkers_fini(&c);
    free(h);
}

/* ---- statuses, JSON, arguments -------------------------------------------------------------- */

static void test_statuses(void)
{
    ekv_hist_op_t h[] = {
        put(1, 0, 1, 0, 1, 1),   put(1, 0, 1, 2, 3, 0),   put(1, 0, 1, 4, 5, 0),
        put(1, 0, 1, 6, 7, 0),   del(1, 0, 1, 8, 9, 0),   get(1, 0, 1, 10, 11, 0),
        get(1, 0, 1, 12, 13, 0), get(2, 0, 1, 14, 15, 0),
    };
    h[7].status = 200; /* found, but no version: neither failed nor judged */
    h[1].status = 429, h[2].status = 429, h[3].status = 0, h[4].status = 503;
    h[5].status = 500, h[6].status = 0;
    ekv_checkers_t c;
    run_default(&c, h, N(h));
    CHECK_EQ(c.writes, 5);
    CHECK_EQ(c.writes_ok, 1);
    CHECK_EQ(c.rate_limited_writes, 2);
    CHECK_EQ(c.writes_failed, 2);
    CHECK_EQ(c.gets, 3);
    CHECK_EQ(c.gets_judged, 0);
    CHECK_EQ(c.stale_reads, 0); /* the 200 without a version is not judged older than v1 */
    CHECK_EQ(c.nfailures, 5);
    uint64_t put429 = 0, total = 0;
    for (size_t i = 0; i < c.nfailures; i++) {
        total += c.failures[i].count;
        if (c.failures[i].op == EKV_HOP_PUT && c.failures[i].status == 429)
            put429 = c.failures[i].count;
    }
    CHECK_EQ(put429, 2);
    CHECK_EQ(total, 6);
    CHECK_EQ(c.ryw.count + c.mono_client.count, 0); /* failed gets are judged neither way */
    ekv_checkers_fini(&c);
}

static void test_json(void)
{
    ekv_hist_op_t h[] = {
        put(1, 0, 4, 20, 30, 2),        get(1, 3, 4, 35, 36, 1),         put(2, 0, 5, 0, 1, 0),
        rmw_get(6, 2, 6, 0, 0),         rmw_put(6, 2, 6, 10, 1, 1, 200), rmw_get(7, 2, 7, 1, 0),
        rmw_put(7, 2, 7, 4, 1, 2, 200),
    };
    h[2].status = 429;
    ekv_chk_final_t finals[] = {{2, 0, 1}};
    ekv_chk_opts_t o = opts();
    o.finals = finals, o.nfinals = 1;
    ekv_checkers_t c;
    run(&c, h, N(h), &o);
    json_t *j = ekv_checkers_json(&c);
    CHECK(j != NULL);
    CHECK_EQ(json_integer_value(json_object_get(j, "ryw_violations")), 1);
    CHECK_EQ(json_integer_value(json_object_get(j, "monotonic_violations")), 0);
    CHECK_EQ(json_integer_value(json_object_get(j, "lost_updates")), 1);
    CHECK_EQ(json_integer_value(json_object_get(j, "rate_limited_writes")), 1);
    CHECK(json_is_real(json_object_get(j, "stale_age_max_ms")));
    CHECK(json_is_real(json_object_get(j, "convergence_ms")));
    CHECK(json_is_array(json_object_get(j, "p_fresh")));
    json_t *ryw = json_object_get(json_object_get(j, "checkers"), "read_your_writes");
    json_t *ex = json_array_get(json_object_get(ryw, "examples"), 0);
    json_t *w = json_array_get(json_object_get(ex, "ops"), 0);
    CHECK_STR(json_string_value(json_object_get(w, "op")), "put");
    CHECK_EQ(json_integer_value(json_object_get(w, "start_us")), at(20));
    CHECK_EQ(json_integer_value(json_object_get(w, "commit_us")), at(25));
    json_t *r = json_array_get(json_object_get(ex, "ops"), 1);
    CHECK_EQ(json_integer_value(json_object_get(r, "pop")), 3);
    json_t *lp = json_object_get(json_object_get(j, "checkers"), "lost_update_pairs");
    CHECK_EQ(
        json_array_size(json_object_get(json_array_get(json_object_get(lp, "examples"), 0), "ops")),
        4);
    json_decref(j);
    ekv_checkers_fini(&c);
}

static void test_bad_options(void)
{
    ekv_hist_op_t h[] = {put(1, 0, 1, 0, 1, 1)};
    ekv_history_t hist = {h, 1};
    ekv_checkers_t c;
    ekv_chk_opts_t o = opts();
    o.time_scale = 0;
    CHECK_EQ(ekv_checkers_run(&c, &hist, &o), EKV_EINVAL);
    ekv_checkers_fini(&c);
    o = opts();
    o.fresh_bin_ms = 0;
    CHECK_EQ(ekv_checkers_run(&c, &hist, &o), EKV_EINVAL);
    o = opts();
    o.bound_ms = -1;
    CHECK_EQ(ekv_checkers_run(&c, &hist, &o), EKV_EINVAL);
    o = opts();
    o.nfinals = 1;
    CHECK_EQ(ekv_checkers_run(&c, &hist, &o), EKV_EINVAL);
    ekv_history_t empty = {NULL, 0};
    o = opts();
    CHECK_EQ(ekv_checkers_run(&c, &empty, &o), EKV_OK);
    CHECK_EQ(c.gets + c.writes + c.ryw.count, 0);
    ekv_checkers_fini(&c);
}

int main(void)
{
    EKV_TEST_RUN(test_clean_history_passes);
    EKV_TEST_RUN(test_ryw_found_and_example);
    EKV_TEST_RUN(test_ryw_examples_are_smallest);
    EKV_TEST_RUN(test_ryw_keeps_the_closest_write);
    EKV_TEST_RUN(test_ryw_delete_and_404);
    EKV_TEST_RUN(test_404_explained_is_not_judged);
    EKV_TEST_RUN(test_monotonic_client);
    EKV_TEST_RUN(test_monotonic_deletes);
    EKV_TEST_RUN(test_monotonic_pop);
    EKV_TEST_RUN(test_staleness_bound_and_age);
    EKV_TEST_RUN(test_p_fresh);
    EKV_TEST_RUN(test_lost_updates_exact);
    EKV_TEST_RUN(test_lost_pairs_order);
    EKV_TEST_RUN(test_random_against_brute_force);
    EKV_TEST_RUN(test_large_history);
    EKV_TEST_RUN(test_statuses);
    EKV_TEST_RUN(test_json);
    EKV_TEST_RUN(test_bad_options);
    EKV_TEST_DONE();
}
