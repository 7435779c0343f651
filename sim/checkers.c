/* checkers: the consistency checkers over a recorded history (checkers.h has the rules).
 *
 * Design: one pass classifies every operation (counts by status) and gives each judged get
 * its version interval [lo, hi]; the 404s' hi comes from an index of the deletes by key and
 * start. The per-client and per-PoP checkers are one sweep: "reference" operations (writes,
 * or earlier gets) sorted by group and end, "probe" gets sorted by group and start; a probe
 * is older when the largest reference version that ended before it began exceeds its hi.
 * Staleness, p_fresh and convergence use the acknowledged writes of each key in commit order
 * with a running max of their versions. Lost updates join each RMW put to its get. Every
 * array here is a private copy; the history is only read. */
#include "checkers.h"

#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_mem.h"

#define PAIR_WINDOW 256 /* lost-update examples: pairs this close in start order */

typedef struct {
    const ekv_hist_op_t *op;
    uint64_t lo, hi; /* version interval (writes: lo = hi = seq) */
} rec_t;

typedef struct {
    uint64_t grp; /* (client or PoP) << 32 | key */
    int64_t t;    /* end (references) or start (probes) */
    uint64_t v;   /* reference: version it saw or wrote; probe: hi */
    const ekv_hist_op_t *op;
} item_t;

typedef struct {
    uint32_t key;
    int64_t t; /* commit (writes) or start (deletes) */
    uint64_t v;
    uint64_t vmax; /* running max of v over the key so far (UINT64_MAX: unknown) */
    const ekv_hist_op_t *op;
} kidx_t;

static int is_write(const ekv_hist_op_t *o)
{
    return o->op == EKV_HOP_PUT || o->op == EKV_HOP_DELETE;
}

static int ok2xx(int status)
{
    return status >= 200 && status < 300;
}

static int acked(const ekv_hist_op_t *o)
{
    return is_write(o) && ok2xx(o->status) && o->seq != 0;
}

/* May have committed at a version we do not know. */
static int unknown(const ekv_hist_op_t *o)
{
    return is_write(o) && !acked(o) && (o->status == 0 || o->status >= 500 || ok2xx(o->status));
}

static int answered_get(const ekv_hist_op_t *o)
{
    return o->op == EKV_HOP_GET && (o->status == 200 || o->status == 404);
}

/* A 200 without a version cannot be placed among the writes. */
static int judged_get(const ekv_hist_op_t *o)
{
    return answered_get(o) && (o->status == 404 || o->seq != 0);
}

static int cmp_item(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    if (x->grp != y->grp)
        return x->grp < y->grp ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return 0;
}

static int cmp_kidx(const void *a, const void *b)
{
    const kidx_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return 0;
}

/* ---- examples --------------------------------------------------------------------------- */

static const ekv_hist_op_t *later_op(const ekv_chk_example_t *e)
{
    return e->nops == 4 ? &e->ops[2] : &e->ops[1];
}

static int cmp_example(const ekv_chk_example_t *a, const ekv_chk_example_t *b)
{
    const ekv_hist_op_t *x = later_op(a), *y = later_op(b);
    if (a->span_us != b->span_us)
        return a->span_us < b->span_us ? -1 : 1;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    if (x->client != y->client)
        return x->client < y->client ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return 0;
}

/* Keeps e if it is among the EKV_CHK_EXAMPLES smallest so far (insertion, smallest first). */
static void offer(ekv_chk_kind_t *k, const ekv_chk_example_t *e)
{
    size_t i = k->nex;
    if (i == EKV_CHK_EXAMPLES) {
        if (cmp_example(e, &k->ex[i - 1]) >= 0)
            return;
        i--;
    } else {
        k->nex++;
    }
    while (i > 0 && cmp_example(e, &k->ex[i - 1]) < 0) {
        k->ex[i] = k->ex[i - 1];
        i--;
    }
    k->ex[i] = *e;
}

static void offer2(ekv_chk_kind_t *k, const ekv_hist_op_t *a, const ekv_hist_op_t *b,
                   int64_t span_us)
{
    ekv_chk_example_t e = {.nops = 2, .span_us = span_us};
    e.ops[0] = *a;
    e.ops[1] = *b;
    offer(k, &e);
}

/* ---- version intervals of gets ---------------------------------------------------------- */

/* Deletes (acknowledged or unknown) by key and start, with the running max of their versions
 * (UINT64_MAX once an unknown one has begun). */
static kidx_t *delete_index(const ekv_history_t *h, size_t *n_out)
{
    kidx_t *d = ekv_calloc(h->n ? h->n : 1, sizeof *d);
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++) {
        const ekv_hist_op_t *o = &h->ops[i];
        if (o->op != EKV_HOP_DELETE || !(acked(o) || unknown(o)))
            continue;
        d[n++] = (kidx_t){o->key, o->start_us, acked(o) ? o->seq : UINT64_MAX, 0, o};
    }
    qsort(d, n, sizeof *d, cmp_kidx);
    for (size_t i = 0; i < n; i++) {
        uint64_t prev = (i > 0 && d[i - 1].key == d[i].key) ? d[i - 1].vmax : 0;
        d[i].vmax = d[i].v > prev ? d[i].v : prev;
    }
    *n_out = n;
    return d;
}

/* The running max at the last entry of key with t < before; 0 when none. */
static uint64_t vmax_before(const kidx_t *x, size_t n, uint32_t key, int64_t before)
{
    size_t lo = 0, hi = n; /* first entry not < (key, before) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid].key < key || (x[mid].key == key && x[mid].t < before))
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo > 0 && x[lo - 1].key == key) ? x[lo - 1].vmax : 0;
}

static uint64_t get_hi(const ekv_hist_op_t *g, const kidx_t *dels, size_t ndels,
                       const ekv_chk_opts_t *opts)
{
    if (g->status == 200)
        return g->seq;
    if (opts->may_expire && g->key < opts->nmay_expire && opts->may_expire[g->key])
        return UINT64_MAX;
    return vmax_before(dels, ndels, g->key, g->end_us);
}

/* ---- read-your-writes and monotonic reads ----------------------------------------------- */

/* refs sorted by (grp, end), probes by (grp, start): see the file comment. The references
 * that ended before the probe began are kept as a stack with decreasing versions (a later
 * reference with a version at least as large hides the earlier ones), so its bottom is the
 * largest version and the last entry above the probe's hi is the one that ended last. */
static void sweep(ekv_chk_kind_t *k, item_t *refs, size_t nrefs, item_t *probes, size_t np)
{
    qsort(refs, nrefs, sizeof *refs, cmp_item);
    qsort(probes, np, sizeof *probes, cmp_item);
    const item_t **st = ekv_calloc(nrefs ? nrefs : 1, sizeof *st);
    size_t j = 0, top = 0;
    for (size_t i = 0; i < np; i++) {
        const item_t *p = &probes[i];
        if (i == 0 || p->grp != probes[i - 1].grp) {
            while (j < nrefs && refs[j].grp < p->grp)
                j++;
            top = 0;
        }
        for (; j < nrefs && refs[j].grp == p->grp && refs[j].t < p->t; j++) {
            while (top > 0 && st[top - 1]->v <= refs[j].v)
                top--;
            st[top++] = &refs[j];
        }
        if (top == 0 || st[0]->v <= p->v)
            continue;
        k->count++;
        size_t lo = 0, hi = top; /* the last entry with v > p->v: st[0] qualifies */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (st[mid]->v > p->v)
                lo = mid;
            else
                hi = mid;
        }
        offer2(k, st[lo]->op, p->op, p->t - st[lo]->t);
    }
    free(st);
}

static uint64_t grp_of(uint32_t who, uint32_t key)
{
    return (uint64_t)who << 32 | key;
}

static void check_sessions(ekv_checkers_t *c, const ekv_history_t *h, const rec_t *gets,
                           size_t ngets)
{
    item_t *refs = ekv_calloc(h->n ? h->n : 1, sizeof *refs);
    item_t *probes = ekv_calloc(ngets ? ngets : 1, sizeof *probes);
    size_t nr = 0;
    for (size_t i = 0; i < h->n; i++) {
        const ekv_hist_op_t *o = &h->ops[i];
        if (acked(o))
            refs[nr++] = (item_t){grp_of(o->client, o->key), o->end_us, o->seq, o};
    }
    for (size_t i = 0; i < ngets; i++) {
        const ekv_hist_op_t *o = gets[i].op;
        probes[i] = (item_t){grp_of(o->client, o->key), o->start_us, gets[i].hi, o};
    }
    sweep(&c->ryw, refs, nr, probes, ngets);

    for (int by_pop = 0; by_pop < 2; by_pop++) {
        for (size_t i = 0; i < ngets; i++) {
            const ekv_hist_op_t *o = gets[i].op;
            uint64_t g = grp_of(by_pop ? o->pop : o->client, o->key);
            refs[i] = (item_t){g, o->end_us, gets[i].lo, o};
            probes[i] = (item_t){g, o->start_us, gets[i].hi, o};
        }
        sweep(by_pop ? &c->mono_pop : &c->mono_client, refs, ngets, probes, ngets);
    }
    free(refs);
    free(probes);
}

/* ---- staleness, p_fresh, convergence ---------------------------------------------------- */

/* The first entry of key's run [b, e) whose running max exceeds v (e when none). */
static size_t first_above(const kidx_t *w, size_t b, size_t e, uint64_t v)
{
    while (b < e) {
        size_t mid = b + (e - b) / 2;
        if (w[mid].vmax > v)
            e = mid;
        else
            b = mid + 1;
    }
    return b;
}

static double sim_ms(int64_t us, double time_scale)
{
    return (double)us / 1000.0 * time_scale;
}

static void judge_fresh(ekv_checkers_t *c, const rec_t *g, const kidx_t *w, size_t b, size_t e,
                        const ekv_chk_opts_t *opts)
{
    /* w[b, e): the key's writes committed strictly before the get began */
    const ekv_hist_op_t *o = g->op;
    size_t newest = first_above(w, b, e, w[e - 1].vmax - 1);
    double dt = sim_ms(o->start_us - w[newest].t, opts->time_scale);
    size_t bin = (size_t)(dt / opts->fresh_bin_ms);
    int fresh = g->hi >= w[e - 1].vmax;
    if (bin < EKV_CHK_FRESH_BINS) {
        c->fresh_n[bin]++;
        c->fresh_hit[bin] += (uint64_t)fresh;
    }
    if (fresh)
        return;
    size_t f = first_above(w, b, e, g->hi); /* the first newer version */
    int64_t age_us = o->start_us - w[f].t;
    double age = sim_ms(age_us, opts->time_scale);
    double conv = sim_ms(o->end_us - w[f].t, opts->time_scale);
    c->stale_reads++;
    c->stale_age_max_ms = age > c->stale_age_max_ms ? age : c->stale_age_max_ms;
    c->convergence_ms = conv > c->convergence_ms ? conv : c->convergence_ms;
    if (age > opts->bound_ms) {
        c->stale.count++;
        offer2(&c->stale, w[f].op, o, age_us);
    }
}

static void check_staleness(ekv_checkers_t *c, const ekv_history_t *h, const rec_t *gets,
                            size_t ngets, const ekv_chk_opts_t *opts)
{
    kidx_t *w = ekv_calloc(h->n ? h->n : 1, sizeof *w);
    size_t nw = 0;
    for (size_t i = 0; i < h->n; i++) {
        const ekv_hist_op_t *o = &h->ops[i];
        if (acked(o))
            w[nw++] = (kidx_t){o->key, o->commit_us, o->seq, 0, o};
    }
    qsort(w, nw, sizeof *w, cmp_kidx);
    for (size_t i = 0; i < nw; i++) {
        uint64_t prev = (i > 0 && w[i - 1].key == w[i].key) ? w[i - 1].vmax : 0;
        w[i].vmax = w[i].v > prev ? w[i].v : prev;
    }
    for (size_t i = 0; i < ngets; i++) {
        const ekv_hist_op_t *o = gets[i].op;
        size_t lo = 0, hi = nw, b, e; /* [b, e): key's writes with commit < start */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (w[mid].key < o->key)
                lo = mid + 1;
            else
                hi = mid;
        }
        b = lo;
        for (lo = b, hi = nw; lo < hi;) {
            size_t mid = lo + (hi - lo) / 2;
            if (w[mid].key == o->key && w[mid].t < o->start_us)
                lo = mid + 1;
            else
                hi = mid;
        }
        e = lo;
        if (e > b)
            judge_fresh(c, &gets[i], w, b, e, opts);
    }
    free(w);
}

/* ---- lost updates ----------------------------------------------------------------------- */

typedef struct {
    const ekv_hist_op_t *get, *put;
} rmw_t;

static int cmp_rmw_get(const void *a, const void *b)
{
    const ekv_hist_op_t *x = *(const ekv_hist_op_t *const *)a;
    const ekv_hist_op_t *y = *(const ekv_hist_op_t *const *)b;
    if (x->client != y->client)
        return x->client < y->client ? -1 : 1;
    if (x->rmw != y->rmw)
        return x->rmw < y->rmw ? -1 : 1;
    return 0;
}

static int cmp_rmw(const void *a, const void *b)
{
    const rmw_t *x = a, *y = b;
    if (x->put->key != y->put->key)
        return x->put->key < y->put->key ? -1 : 1;
    if (x->get->value != y->get->value)
        return x->get->value < y->get->value ? -1 : 1;
    if (x->get->start_us != y->get->start_us)
        return x->get->start_us < y->get->start_us ? -1 : 1;
    return 0;
}

static int is_increment(const ekv_hist_op_t *o)
{
    return o->op == EKV_HOP_PUT && o->counter && o->rmw != 0 && ok2xx(o->status);
}

static void offer_pair(ekv_chk_kind_t *k, const rmw_t *a, const rmw_t *b)
{
    ekv_chk_example_t e = {.nops = 4};
    e.ops[0] = *a->get, e.ops[1] = *a->put, e.ops[2] = *b->get, e.ops[3] = *b->put;
    int64_t first = e.ops[0].start_us, last = e.ops[0].end_us;
    for (int i = 1; i < 4; i++) {
        first = e.ops[i].start_us < first ? e.ops[i].start_us : first;
        last = e.ops[i].end_us > last ? e.ops[i].end_us : last;
    }
    e.span_us = last - first;
    offer(k, &e);
}

/* Pairs of RMWs of one key that read the same value v and both wrote v + 1. */
static void lost_pairs(ekv_checkers_t *c, const ekv_history_t *h)
{
    const ekv_hist_op_t **gets = ekv_calloc(h->n ? h->n : 1, sizeof *gets);
    rmw_t *r = ekv_calloc(h->n ? h->n : 1, sizeof *r);
    size_t ng = 0, nr = 0;
    for (size_t i = 0; i < h->n; i++) {
        const ekv_hist_op_t *o = &h->ops[i];
        if (o->op == EKV_HOP_GET && o->rmw != 0 && o->counter && answered_get(o))
            gets[ng++] = o;
    }
    qsort(gets, ng, sizeof *gets, cmp_rmw_get);
    for (size_t i = 0; i < h->n; i++) {
        const ekv_hist_op_t *o = &h->ops[i];
        if (!is_increment(o))
            continue;
        const ekv_hist_op_t **g = bsearch(&o, gets, ng, sizeof *gets, cmp_rmw_get);
        if (g && (*g)->key == o->key && o->value == (*g)->value + 1)
            r[nr++] = (rmw_t){*g, o};
    }
    qsort(r, nr, sizeof *r, cmp_rmw);
    for (size_t b = 0, e; b < nr; b = e) { /* [b, e): one key, one value read */
        for (e = b + 1;
             e < nr && r[e].put->key == r[b].put->key && r[e].get->value == r[b].get->value; e++)
            ;
        uint64_t m = e - b;
        c->lost_pairs.count += m * (m - 1) / 2;
        for (size_t i = b; i < e; i++)
            for (size_t j = i + 1; j < e && j - i <= PAIR_WINDOW; j++)
                offer_pair(&c->lost_pairs, &r[i], &r[j]);
    }
    free(gets);
    free(r);
}

static int cmp_final(const void *a, const void *b)
{
    const ekv_chk_final_t *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_counter(const void *a, const void *b)
{
    const ekv_chk_counter_t *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Per counter key in opts->finals: acknowledged increments - (final - initial). */
static void lost_counts(ekv_checkers_t *c, const ekv_history_t *h, const ekv_chk_opts_t *opts)
{
    ekv_chk_final_t *f = ekv_calloc(opts->nfinals ? opts->nfinals : 1, sizeof *f);
    if (opts->nfinals)
        memcpy(f, opts->finals, opts->nfinals * sizeof *f);
    qsort(f, opts->nfinals, sizeof *f, cmp_final);
    c->counters = ekv_calloc(opts->nfinals ? opts->nfinals : 1, sizeof *c->counters);
    for (size_t i = 0; i < opts->nfinals; i++) {
        if (c->ncounters && c->counters[c->ncounters - 1].key == f[i].key)
            continue; /* a key given twice counts once, with its first entry */
        c->counters[c->ncounters++] = (ekv_chk_counter_t){f[i].key, 0, f[i].initial, f[i].final, 0};
    }
    for (size_t i = 0; i < h->n; i++) {
        const ekv_hist_op_t *o = &h->ops[i];
        ekv_chk_counter_t k = {.key = o->key}, *hit;
        if (is_increment(o) &&
            (hit = bsearch(&k, c->counters, c->ncounters, sizeof k, cmp_counter)))
            hit->increments++;
    }
    for (size_t j = 0; j < c->ncounters; j++) {
        ekv_chk_counter_t *k = &c->counters[j];
        k->lost = k->increments - (k->final - k->initial);
        c->increments += k->increments;
        c->lost_updates += k->lost;
    }
    free(f);
}

/* ---- statuses --------------------------------------------------------------------------- */

static void count_failure(ekv_checkers_t *c, const ekv_hist_op_t *o)
{
    for (size_t i = 0; i < c->nfailures; i++) {
        if (c->failures[i].op == o->op && c->failures[i].status == o->status) {
            c->failures[i].count++;
            return;
        }
    }
    if (c->nfailures == EKV_CHK_STATUS_KEEP) {
        c->failures_other++;
        return;
    }
    c->failures[c->nfailures++] = (ekv_chk_status_t){o->op, o->status, 1};
}

static void count_statuses(ekv_checkers_t *c, const ekv_history_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const ekv_hist_op_t *o = &h->ops[i];
        int failed;
        if (o->op == EKV_HOP_GET) {
            c->gets++;
            failed = !answered_get(o);
            c->gets_judged += (uint64_t)judged_get(o);
        } else if (is_write(o)) {
            c->writes++;
            failed = !ok2xx(o->status);
            c->writes_ok += (uint64_t)!failed;
            c->rate_limited_writes += (uint64_t)(o->status == 429);
            c->writes_failed += (uint64_t)(failed && o->status != 429);
        } else {
            failed = !ok2xx(o->status);
        }
        if (failed)
            count_failure(c, o);
    }
}

/* ---- entry points ----------------------------------------------------------------------- */

int ekv_checkers_run(ekv_checkers_t *out, const ekv_history_t *h, const ekv_chk_opts_t *opts)
{
    memset(out, 0, sizeof *out);
    if (!h || !opts || (h->n && !h->ops) || !(opts->time_scale > 0) || !(opts->bound_ms >= 0) ||
        !(opts->fresh_bin_ms > 0) || (opts->nfinals && !opts->finals))
        return EKV_EINVAL;
    out->bound_ms = opts->bound_ms;
    out->fresh_bin_ms = opts->fresh_bin_ms;
    count_statuses(out, h);

    size_t ndels, ngets = 0;
    kidx_t *dels = delete_index(h, &ndels);
    rec_t *gets = ekv_calloc(h->n ? h->n : 1, sizeof *gets);
    for (size_t i = 0; i < h->n; i++) {
        const ekv_hist_op_t *o = &h->ops[i];
        if (judged_get(o))
            gets[ngets++] = (rec_t){o, o->status == 200 ? o->seq : 0, get_hi(o, dels, ndels, opts)};
    }
    free(dels);
    check_sessions(out, h, gets, ngets);
    check_staleness(out, h, gets, ngets, opts);
    free(gets);
    lost_pairs(out, h);
    lost_counts(out, h, opts);
    return EKV_OK;
}

void ekv_checkers_fini(ekv_checkers_t *c)
{
    if (!c)
        return;
    free(c->counters);
    c->counters = NULL;
    c->ncounters = 0;
}

double ekv_checkers_p_fresh_at(const ekv_checkers_t *c, double t_ms)
{
    if (!(t_ms >= 0) || !(c->fresh_bin_ms > 0))
        return -1;
    double b = t_ms / c->fresh_bin_ms;
    if (b >= EKV_CHK_FRESH_BINS)
        return -1;
    size_t i = (size_t)b;
    return c->fresh_n[i] ? (double)c->fresh_hit[i] / (double)c->fresh_n[i] : -1;
}

uint64_t ekv_checkers_monotonic_violations(const ekv_checkers_t *c)
{
    return c->mono_client.count + c->mono_pop.count;
}
