/* analysis: visibility percentiles, stale reads and t-visibility (see analysis.h).
 *
 * Writes are sorted twice: by key then commit time (to find, for a read, the newest version
 * of its key committed before it began, by binary search) and by sequence (to find a change's
 * commit time for a visibility record). Everything else is one pass. Convergence sorts a copy
 * of the visibility records by (PoP, sequence) and looks each pre-recovery change up there. */
#include "analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_mem.h"

/* qsort, which must not be handed a NULL array even when it is empty. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

static int by_key_time(const void *a, const void *b)
{
    const ekv_write_rec_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->commit_us < y->commit_us ? -1 : x->commit_us > y->commit_us;
}

static int by_seq(const void *a, const void *b)
{
    const ekv_write_rec_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantile of sorted values (nearest rank); 0 when empty. */
static double quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)ceil(q * (double)n);
    return v[i == 0 ? 0 : i - 1];
}

/* The newest write of key committed strictly before t, or NULL. */
static const ekv_write_rec_t *newest_before(const ekv_write_rec_t *w, size_t n, uint32_t key,
                                            int64_t t)
{
    size_t lo = 0, hi = n; /* first index with (key, time) >= (key, t) */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w[mid].key < key || (w[mid].key == key && w[mid].commit_us < t))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && w[lo - 1].key == key ? &w[lo - 1] : NULL;
}

static const ekv_write_rec_t *find_seq(const ekv_write_rec_t *w, size_t n, uint64_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && w[lo].seq == seq ? &w[lo] : NULL;
}

typedef struct {
    double *v;
    size_t n, cap;
} vec_t;

static void push(vec_t *v, double x)
{
    if (v->n == v->cap)
        v->v = ekv_realloc(v->v, (v->cap = v->cap ? v->cap * 2 : 256) * sizeof *v->v);
    v->v[v->n++] = x;
}

/* Percentiles and CDF of one PoP's delays (sorted in place, then freed). */
static void summarize(vec_t *d, double *p50, double *p90, double *p99, double *max, double *cdf)
{
    sort(d->v, d->n, sizeof *d->v, by_double);
    *p50 = quantile(d->v, d->n, 0.5);
    *p90 = quantile(d->v, d->n, 0.9);
    *p99 = quantile(d->v, d->n, 0.99);
    *max = d->n ? d->v[d->n - 1] : 0;
    for (int q = 0; q <= 20; q++)
        cdf[q] = q == 0 ? (d->n ? d->v[0] : 0) : quantile(d->v, d->n, q / 20.0);
    free(d->v);
}

static void visibility(const ekv_write_rec_t *by_s, size_t nw, const ekv_vis_rec_t *vis,
                       size_t nvis, double scale, ekv_results_t *out)
{
    vec_t *d = ekv_calloc(out->npops ? out->npops : 1, sizeof *d);
    vec_t *sv = ekv_calloc(out->npops ? out->npops : 1, sizeof *sv);
    for (size_t i = 0; i < nvis; i++) {
        const ekv_write_rec_t *w = find_seq(by_s, nw, vis[i].seq);
        if (!w || vis[i].pop >= out->npops)
            continue;
        push(&d[vis[i].pop], (double)(vis[i].visible_us - w->commit_us) / 1000.0 * scale);
        /* Served before the commit's stamp only by clock reads: counted as at once. */
        if (vis[i].served_us > 0)
            push(&sv[vis[i].pop],
                 fmax(0, (double)(vis[i].served_us - w->commit_us) / 1000.0 * scale));
    }
    for (size_t p = 0; p < out->npops; p++) {
        ekv_pop_result_t *r = &out->pops[p];
        r->changes = d[p].n;
        r->served_changes = sv[p].n;
        summarize(&d[p], &r->p50, &r->p90, &r->p99, &r->max, r->cdf);
        summarize(&sv[p], &r->served_p50, &r->served_p90, &r->served_p99, &r->served_max,
                  r->served_cdf);
    }
    free(d);
    free(sv);
}

static void reads_pass(const ekv_write_rec_t *by_k, size_t nw, const ekv_read_rec_t *reads,
                       size_t nreads, double scale, double bin_ms, ekv_results_t *out)
{
    vec_t *ages = ekv_calloc(out->npops, sizeof *ages);
    uint64_t fresh[EKV_TVIS_BINS] = {0};
    /* The per-PoP series: EKV_SERIES_BINS equal bins from the first read's start to the last's. */
    int64_t t0 = nreads ? reads[0].start_us : 0, t1 = t0;
    for (size_t i = 0; i < nreads; i++) {
        t0 = reads[i].start_us < t0 ? reads[i].start_us : t0;
        t1 = reads[i].start_us > t1 ? reads[i].start_us : t1;
    }
    double series_us = (double)(t1 - t0) / EKV_SERIES_BINS;
    out->series_bin_s = series_us / 1e6 * scale;
    for (size_t i = 0; i < nreads; i++) {
        const ekv_read_rec_t *r = &reads[i];
        if (r->pop >= out->npops)
            continue;
        ekv_pop_result_t *p = &out->pops[r->pop];
        p->reads++;
        out->reads++;
        if (!r->ok) {
            p->failed_reads++;
            continue;
        }
        size_t sb = series_us > 0 ? (size_t)((double)(r->start_us - t0) / series_us) : 0;
        sb = sb < EKV_SERIES_BINS ? sb : EKV_SERIES_BINS - 1; /* the last read ends the span */
        p->read_series[sb]++;
        const ekv_write_rec_t *w = newest_before(by_k, nw, r->key, r->start_us);
        if (!w)
            continue; /* nothing committed yet: any answer is current */
        double t_ms = (double)(r->start_us - w->commit_us) / 1000.0 * scale;
        int is_fresh = r->seq >= w->seq;
        size_t bin = (size_t)(t_ms / bin_ms);
        if (bin < EKV_TVIS_BINS) {
            out->tvis_n[bin]++;
            fresh[bin] += (uint64_t)is_fresh;
        }
        if (is_fresh) {
            p->hits_fresh++;
        } else {
            p->stale_reads++;
            p->stale_series[sb]++;
            out->stale_reads++;
            push(&ages[r->pop], t_ms);
        }
    }
    for (size_t b = 0; b < EKV_TVIS_BINS; b++) {
        out->tvis_t_ms[b] = (double)(b + 1) * bin_ms;
        out->tvis_p[b] = out->tvis_n[b] ? (double)fresh[b] / (double)out->tvis_n[b] : -1;
    }
    out->tvis_bins = EKV_TVIS_BINS;
    for (size_t p = 0; p < out->npops; p++) {
        sort(ages[p].v, ages[p].n, sizeof *ages[p].v, by_double);
        out->pops[p].stale_age_p50 = quantile(ages[p].v, ages[p].n, 0.5);
        out->pops[p].stale_age_max = ages[p].n ? ages[p].v[ages[p].n - 1] : 0;
        free(ages[p].v);
    }
    free(ages);
}

void ekv_analyze(ekv_write_rec_t *writes, size_t nwrites, ekv_read_rec_t *reads, size_t nreads,
                 ekv_vis_rec_t *vis, size_t nvis, size_t npops, double time_scale, double bin_ms,
                 ekv_results_t *out)
{
    memset(out, 0, sizeof *out);
    out->npops = npops;
    out->pops = ekv_calloc(npops ? npops : 1, sizeof *out->pops);
    out->writes = nwrites;
    ekv_write_rec_t *by_s = ekv_malloc((nwrites ? nwrites : 1) * sizeof *by_s);
    if (nwrites)
        memcpy(by_s, writes, nwrites * sizeof *by_s);
    sort(by_s, nwrites, sizeof *by_s, by_seq);
    sort(writes, nwrites, sizeof *writes, by_key_time);
    visibility(by_s, nwrites, vis, nvis, time_scale, out);
    reads_pass(writes, nwrites, reads, nreads, time_scale, bin_ms > 0 ? bin_ms : 1, out);
    free(by_s);
}

void ekv_results_fini(ekv_results_t *r)
{
    free(r->pops);
    memset(r, 0, sizeof *r);
}

double ekv_ttl_stale_ratio(double w, double r, double ttl)
{
    if (w <= 0 || r <= 0 || ttl <= 0)
        return 0;
    return r * (ttl - (1.0 - exp(-w * ttl)) / w) / (1.0 + r * ttl);
}

static int by_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* How many of the sorted times are <= t. */
static size_t count_le(const int64_t *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void ekv_version_lag(const ekv_write_rec_t *writes, size_t nwrites, const ekv_vis_rec_t *vis,
                     size_t nvis, int64_t start_us, int64_t end_us, double time_scale,
                     ekv_results_t *out)
{
    int64_t *commits = ekv_malloc((nwrites ? nwrites : 1) * sizeof *commits);
    for (size_t i = 0; i < nwrites; i++)
        commits[i] = writes[i].commit_us;
    sort(commits, nwrites, sizeof *commits, by_i64);
    /* Per PoP, the times its first sightings of the experiment's changes happened. */
    size_t np = out->npops;
    int64_t **seen = ekv_calloc(np ? np : 1, sizeof *seen);
    size_t *ns = ekv_calloc(np ? np : 1, sizeof *ns);
    for (size_t i = 0; i < nvis; i++)
        if (vis[i].pop < np)
            ns[vis[i].pop]++;
    for (size_t p = 0; p < np; p++)
        seen[p] = ekv_malloc((ns[p] ? ns[p] : 1) * sizeof **seen), ns[p] = 0;
    for (size_t i = 0; i < nvis; i++)
        if (vis[i].pop < np)
            seen[vis[i].pop][ns[vis[i].pop]++] = vis[i].visible_us;
    for (size_t p = 0; p < np; p++)
        sort(seen[p], ns[p], sizeof **seen, by_i64);
    for (int k = 0; k < EKV_LAG_POINTS; k++) {
        int64_t t = start_us + (end_us - start_us) * (k + 1) / EKV_LAG_POINTS;
        size_t committed = count_le(commits, nwrites, t);
        double sum = 0, max = 0;
        for (size_t p = 0; p < np; p++) {
            size_t v = count_le(seen[p], ns[p], t);
            double lag = committed > v ? (double)(committed - v) : 0;
            out->pops[p].lag[k] = (float)lag;
            sum += lag;
            max = lag > max ? lag : max;
        }
        out->lag_t_s[k] = (double)(t - start_us) / 1e6 * time_scale;
        out->lag_mean[k] = np ? sum / (double)np : 0;
        out->lag_max[k] = max;
    }
    for (size_t p = 0; p < np; p++)
        free(seen[p]);
    free(seen);
    free(ns);
    free(commits);
}

double ekv_tvis_bin_ms(int pushes, double max_delay_ms, double cache_ttl_s)
{
    if (pushes)
        return fmax(0.5, max_delay_ms * 2 / EKV_TVIS_BINS);
    return fmax(1.0, (max_delay_ms + cache_ttl_s * 1000) / EKV_TVIS_BINS);
}

static int by_pop_seq(const void *a, const void *b)
{
    const ekv_vis_rec_t *x = a, *y = b;
    if (x->pop != y->pop)
        return x->pop < y->pop ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* When PoP pop first saw seq, or -1. vis is sorted by (pop, seq). */
static int64_t seen_at(const ekv_vis_rec_t *vis, size_t n, uint16_t pop, uint64_t seq)
{
    ekv_vis_rec_t key = {pop, seq, 0, 0};
    const ekv_vis_rec_t *v = n ? bsearch(&key, vis, n, sizeof *vis, by_pop_seq) : NULL;
    return v ? v->visible_us : -1;
}

/* Microseconds from at until PoP p had every change committed before at; -1 if never. */
static int64_t caught_up_us(const ekv_write_rec_t *w, size_t nw, const ekv_vis_rec_t *vis,
                            size_t nvis, size_t p, int64_t at)
{
    int64_t worst = 0;
    for (size_t i = 0; i < nw; i++) {
        if (w[i].commit_us >= at)
            continue;
        int64_t s = seen_at(vis, nvis, (uint16_t)p, w[i].seq);
        if (s < 0)
            return -1;
        worst = s - at > worst ? s - at : worst;
    }
    return worst;
}

void ekv_convergence(const ekv_write_rec_t *writes, size_t nwrites, const ekv_vis_rec_t *vis,
                     size_t nvis, size_t npops, const ekv_recovery_t *rec, size_t n,
                     double time_scale, double *out_ms)
{
    ekv_vis_rec_t *sorted = ekv_malloc((nvis ? nvis : 1) * sizeof *sorted);
    if (nvis)
        memcpy(sorted, vis, nvis * sizeof *sorted);
    sort(sorted, nvis, sizeof *sorted, by_pop_seq);
    for (size_t i = 0; i < n; i++) {
        int64_t worst = rec[i].at_us ? 0 : -1;
        for (size_t p = 0; p < npops && worst >= 0; p++) {
            if (rec[i].pop >= 0 && (size_t)rec[i].pop != p)
                continue;
            int64_t t = caught_up_us(writes, nwrites, sorted, nvis, p, rec[i].at_us);
            worst = t < 0 ? -1 : t > worst ? t : worst;
        }
        out_ms[i] = worst < 0 ? -1 : (double)worst / 1000.0 * time_scale;
    }
    free(sorted);
}

/* ---- the kv world's t-visibility (analysis.h) -------------------------------------------
 *
 * A cycle starts when a copy is stored (by a miss or a refresh). With L = late x ttl and
 * N(x) the requests in (0, x], a copy is refreshed at the first request past L that is at
 * least the hot-th hit, so its fresh life D ends after x > L only if every late request
 * came too early in the count: P(D > x) = e^{-y} P(N(L) >= hot) + P(N(x) < hot), with
 * y = rate (x - L); D = ttl when no refresh came. A copy that expired waits 1/rate on average
 * for the next request, which misses. A request in the fresh life x into it is served age x,
 * one in the expired wait age 0, so P(age <= a) = (E[min(a, D)] + P(D = ttl)/rate) / cycle. */

/* P(Poisson(mu) <= k - 1), the chance that fewer than k requests came (k >= 1). */
static double poisson_below(double mu, int k)
{
    double term = exp(-mu), sum = term;
    for (int j = 1; j < k; j++)
        sum += term *= mu / j;
    return sum;
}

/* L: when a hot copy's hits start refreshing it; ttl when there is no refresh-ahead. */
static double late_s(const ekv_cache_model_t *m)
{
    return m->hot > 0 && m->late < 1 ? fmax(0, m->late) * m->ttl : m->ttl;
}

/* P(D > x) for L <= x <= ttl. */
static double life_survival(const ekv_cache_model_t *m, double x)
{
    double L = late_s(m), mu = m->rate * L, y = m->rate * (x - L);
    if (x <= L)
        return 1;
    return exp(-y) * (1 - poisson_below(mu, m->hot)) + poisson_below(mu + y, m->hot);
}

/* E[min(a, D)] for 0 <= a <= ttl: a up to L, then L plus the integral of P(D > x) from L, in
 * closed form (the integral of P(Poisson(mu + y) <= j) over y is a difference of the CDFs
 * of Poisson(mu) and Poisson(mu + y) at j). */
static double life_mean_upto(const ekv_cache_model_t *m, double a)
{
    double L = late_s(m);
    if (a <= L)
        return a;
    double mu = m->rate * L, y = m->rate * (a - L);
    double s = (1 - exp(-y)) * (1 - poisson_below(mu, m->hot));
    for (int j = 1; j <= m->hot; j++)
        s += poisson_below(mu, j) - poisson_below(mu + y, j);
    return L + s / m->rate;
}

double ekv_cache_cycle_s(const ekv_cache_model_t *m)
{
    if (m->rate <= 0 || m->ttl <= 0)
        return INFINITY;
    return life_mean_upto(m, m->ttl) + life_survival(m, m->ttl) / m->rate;
}

double ekv_cache_miss_share(const ekv_cache_model_t *m)
{
    if (m->rate <= 0 || m->ttl <= 0)
        return 1;
    /* one miss per cycle that ended by expiry, rate x cycle requests per cycle */
    return life_survival(m, m->ttl) / (m->rate * ekv_cache_cycle_s(m));
}

double ekv_cache_age_cdf(const ekv_cache_model_t *m, double a)
{
    if (a < 0)
        return 0;
    if (m->rate <= 0 || m->ttl <= 0 || a >= m->ttl)
        return 1;
    return (life_mean_upto(m, a) + life_survival(m, m->ttl) / m->rate) / ekv_cache_cycle_s(m);
}

double ekv_kv_tier_rate(const ekv_kv_model_t *m)
{
    return m->pops ? (double)m->pops / ekv_cache_cycle_s(&m->pop) : 0;
}

/* Steps of the midpoint rule over the PoP copy's age: the integrand has kinks but no jumps,
 * so the error is O(step^2), below 1e-6 for cacheTtls of minutes. */
#define KV_STEPS 4096

/* P(age of the PoP copy + age of the tier copy at its fetch < t), the tier's rate given. */
static double fresh_through(const ekv_cache_model_t *p, const ekv_cache_model_t *tier, double t)
{
    /* fresh when age(PoP copy) + age(tier copy at the PoP's fetch) < t: the PoP's age is 0
     * with the miss share, else has density P(D > a) / cycle on (0, ttl) */
    double cycle = ekv_cache_cycle_s(p), upto = fmin(t, p->ttl), h = upto / KV_STEPS;
    double sum = ekv_cache_miss_share(p) * ekv_cache_age_cdf(tier, t);
    for (int i = 0; i < KV_STEPS; i++) {
        double a = (i + 0.5) * h;
        sum += life_survival(p, a) / cycle * ekv_cache_age_cdf(tier, t - a) * h;
    }
    return fmin(1, sum);
}

double ekv_kv_fresh_at(const ekv_kv_model_t *m, double t)
{
    const ekv_cache_model_t *p = &m->pop;
    if (t <= 0)
        return 0;
    if (!m->pops || p->rate <= 0)
        return ekv_cache_age_cdf(p, t);
    ekv_cache_model_t tier = m->tier;
    tier.rate = ekv_kv_tier_rate(m);
    return fresh_through(p, &tier, t);
}

double ekv_kv_stale_ratio(const ekv_kv_model_t *m, double w)
{
    if (w <= 0)
        return 0;
    /* P(fresh at t) = 1 from the PoP's ttl plus the tier's on */
    double end = m->pop.ttl + (m->pops ? m->tier.ttl : 0), h = end / 1024, sum = 0;
    for (int i = 0; i < 1024; i++) {
        double t = (i + 0.5) * h;
        sum += w * exp(-w * t) * (1 - ekv_kv_fresh_at(m, t)) * h;
    }
    return sum;
}

/* ---- the predicted t-visibility of a run (analysis.h) -----------------------------------
 *
 * Per key and PoP the chance f(t) that a read t after the key's newest commit returns it, by
 * policy (analysis.h); the run's curve weighs it by the density of such reads, r w e^{-wt}.
 * Evaluated at TVIS_SUB midpoints per bin and summed, numerator and denominator apart, so a
 * bin's value is the expected share of its reads that were fresh. Under ttl and kv, f is
 * tabulated once per key bucket and kind of PoP (tier, read weight, policy) on CONV_POINTS
 * points (through a tier the convolution of the two ages, O(points^2)) and interpolated at
 * each PoP's t minus its delay to the origin: 10,000 zipf keys (about 150 buckets) and 300
 * kv PoPs behind 9 tiers take about 0.15 s. */

#define TVIS_SUB    4    /* evaluation points per bin */
#define CONV_POINTS 256  /* table of one PoP kind's f over the bins' span */
#define KEY_RATIO   1.05 /* keys whose rates differ by less are taken together */

int ekv_tvis_parse_jitter(const char *s, ekv_tvis_link_t *l)
{
    char kind[16];
    double a = 0, b = 0;
    int n = sscanf(s, "%15[a-z]:%lf:%lf", kind, &a, &b);
    if (n == 1 && !strcmp(kind, "none"))
        l->jitter = EKV_TVIS_JITTER_NONE;
    else if (n == 2 && a >= 0 && !strcmp(kind, "uniform"))
        l->jitter = EKV_TVIS_JITTER_UNIFORM;
    else if (n == 2 && a >= 0 && !strcmp(kind, "normal"))
        l->jitter = EKV_TVIS_JITTER_NORMAL;
    else if (n == 3 && a >= 0 && b > 0 && !strcmp(kind, "pareto"))
        l->jitter = EKV_TVIS_JITTER_PARETO;
    else
        return -1;
    l->jitter_ms = a;
    l->shape = b;
    return 0;
}

/* P(delay + jitter <= t): one transmission. */
static double jitter_cdf(const ekv_tvis_link_t *l, double t)
{
    double x = t - l->delay_ms, j = l->jitter_ms;
    if (l->jitter == EKV_TVIS_JITTER_NORMAL) /* clamped at 0: nothing arrives before 0 */
        return t < 0 ? 0 : j > 0 ? 0.5 * erfc(-x / (j * M_SQRT2)) : x >= 0;
    if (x < 0)
        return 0;
    if (l->jitter == EKV_TVIS_JITTER_UNIFORM)
        return j > 0 && x < j ? x / j : 1;
    if (l->jitter == EKV_TVIS_JITTER_PARETO)
        return j > 0 ? 1 - pow(1 + x / j, -l->shape) : 1;
    return 1;
}

double ekv_tvis_arrival_cdf(const ekv_tvis_link_t *l, double t_ms)
{
    /* k losses cost k rtos: P(k) = (1 - loss) loss^k */
    double loss = fmin(fmax(l->loss, 0), 0.9), pk = 1 - loss, sum = 0;
    for (int k = 0; k < 400 && pk > 1e-12; k++, pk *= loss)
        sum += pk * jitter_cdf(l, t_ms - k * l->rto_ms);
    return fmin(1, sum);
}

/* The PoP's cache model for a key read r times a second there. */
static ekv_cache_model_t pop_model(const ekv_tvis_world_t *w, const ekv_tvis_pop_t *p, double r)
{
    int kv = p->policy == EKV_TVIS_KV;
    return (ekv_cache_model_t){r, w->cache_ttl_s, kv ? w->hot : 0, kv ? w->late : 0};
}

/* The tier's model for key k: it sees every fetch of the PoPs behind it (their cycles). */
static ekv_cache_model_t tier_model(const ekv_tvis_world_t *w, int ti, const ekv_tvis_keys_t *k)
{
    const ekv_tvis_tier_t *t = &w->tiers[ti];
    ekv_cache_model_t m = {0, t->ttl_s, t->hot, t->late};
    for (size_t i = 0; i < w->npops; i++) {
        const ekv_tvis_pop_t *p = &w->pops[i];
        double r = p->reads * k->read_rate;
        if (p->tier == ti && r > 0 && p->policy >= EKV_TVIS_TTL) {
            ekv_cache_model_t pm = pop_model(w, p, r);
            m.rate += 1 / ekv_cache_cycle_s(&pm);
        }
    }
    return m;
}

/* A read before the change arrived is fresh when the PoP holds no copy: the chance it holds
 * one t_ms after the commit (push policies). */
static double held(const ekv_tvis_world_t *w, const ekv_tvis_pop_t *p, const ekv_tvis_keys_t *k,
                   double t_ms)
{
    double r = p->reads * k->read_rate, wr = k->write_rate, T = w->cache_ttl_s;
    if (p->policy == EKV_TVIS_INVALIDATE) {
        /* held when a read came since the previous change's invalidation arrived (X - d
         * before the commit, X exponential) and within cacheTtl */
        double c = fmax(0, p->link.delay_ms - t_ms) / 1000;
        return r > 0 ? exp(-wr * c) * r / (wr + r) * (1 - exp(-(wr + r) * T)) : 0;
    }
    /* push keeps a copy once read (push-all: or written); the run's first one misses */
    double x = (r + (p->policy == EKV_TVIS_PUSH_ALL ? wr : 0)) * w->duration_s;
    return x > 1e-9 ? 1 - (1 - exp(-x)) / x : 0;
}

/* The one-way delay from the data's origin (ttl, kv): through the tier when there is one. */
static double origin_ms(const ekv_tvis_world_t *w, const ekv_tvis_pop_t *p)
{
    int t = p->tier >= 0 && (size_t)p->tier < w->ntiers;
    return p->link.delay_ms + (t ? w->tiers[p->tier].delay_ms : 0);
}

static int tiered(const ekv_tvis_world_t *w, const ekv_tvis_pop_t *p)
{
    return p->tier >= 0 && (size_t)p->tier < w->ntiers && !w->tiers[p->tier].purge;
}

/* A PoP without tier or refresh-ahead, d seconds from the coordinator: a cycle is the wait
 * for a miss (1/r), the fetch's round trip 2d, whose reads join the fetch and get data that
 * left the coordinator d after the miss, and the copy's life T. Of the 1 + r (2d + T) reads
 * of a cycle, those whose data left less than t before them are fresh: the miss, the joiners
 * after d - t, and the hits up to t - d into the life (t in seconds). */
static double fresh_direct(double r, double T, double d, double t)
{
    if (r <= 0)
        return 1;
    return (1 + r * fmin(2 * d, d + t) + r * fmax(0, fmin(T, t - d))) / (1 + r * (2 * d + T));
}

/* 1 when the PoP's f has fresh_direct's closed form. */
static int direct(const ekv_tvis_world_t *w, const ekv_tvis_pop_t *p)
{
    return !tiered(w, p) && (p->policy == EKV_TVIS_TTL || w->hot <= 0 || w->late >= 1);
}

double ekv_tvis_fresh(const ekv_tvis_world_t *w, size_t pop, const ekv_tvis_keys_t *k, double t_ms)
{
    const ekv_tvis_pop_t *p = &w->pops[pop];
    if (p->policy < EKV_TVIS_TTL) {
        double a = ekv_tvis_arrival_cdf(&p->link, t_ms);
        return a + (1 - a) * (1 - held(w, p, k, t_ms));
    }
    /* the data left the origin the delay after the read's fetch: a miss is fresh at once */
    ekv_cache_model_t pm = pop_model(w, p, p->reads * k->read_rate);
    double x = (t_ms - origin_ms(w, p)) / 1000, f;
    if (direct(w, p)) {
        f = fresh_direct(pm.rate, pm.ttl, origin_ms(w, p) / 1000, t_ms / 1000);
    } else if (!tiered(w, p)) {
        f = x >= 0 ? ekv_cache_age_cdf(&pm, x) : ekv_cache_miss_share(&pm);
    } else {
        ekv_cache_model_t tm = tier_model(w, p->tier, k);
        f = pm.rate <= 0 ? ekv_cache_age_cdf(&tm, x)
            : x > 0      ? fresh_through(&pm, &tm, x)
                         : ekv_cache_miss_share(&pm) * ekv_cache_miss_share(&tm);
    }
    return p->own + (1 - p->own) * f;
}

static int by_rates(const void *a, const void *b)
{
    const ekv_tvis_keys_t *x = a, *y = b;
    if (x->write_rate != y->write_rate)
        return x->write_rate < y->write_rate ? -1 : 1;
    return x->read_rate < y->read_rate ? -1 : x->read_rate > y->read_rate;
}

/* The keys that are read and written, those within KEY_RATIO of a bucket's first in both
 * rates taken together (count-weighted mean rates); their number in *n. */
static ekv_tvis_keys_t *key_buckets(const ekv_tvis_keys_t *k, size_t nk, size_t *n)
{
    ekv_tvis_keys_t *s = ekv_malloc((nk ? nk : 1) * sizeof *s);
    size_t m = 0;
    for (size_t i = 0; i < nk; i++)
        if (k[i].count > 0 && k[i].read_rate > 0 && k[i].write_rate > 0)
            s[m++] = k[i];
    sort(s, m, sizeof *s, by_rates);
    *n = 0;
    for (size_t i = 0; i < m;) {
        ekv_tvis_keys_t first = s[i], b = {0, 0, 0};
        for (; i < m && s[i].write_rate <= first.write_rate * KEY_RATIO &&
               s[i].read_rate <= first.read_rate * KEY_RATIO &&
               s[i].read_rate >= first.read_rate / KEY_RATIO;
             i++) {
            b.count += s[i].count;
            b.read_rate += s[i].count * s[i].read_rate;
            b.write_rate += s[i].count * s[i].write_rate;
        }
        b.read_rate /= b.count;
        b.write_rate /= b.count;
        s[(*n)++] = b; /* never past i: each bucket takes at least one key */
    }
    return s;
}

/* One PoP kind's tabulated f for a key bucket: P(fresh) at x = n h seconds past the delay to
 * the origin (x <= 0: f[0], a miss all the way to the origin). */
typedef struct {
    int tier, policy; /* what it depends on, with the PoP's read weight */
    double reads;
    double f[CONV_POINTS + 1];
} tab_t;

/* Through a tier: the convolution of the PoP copy's and the tier copy's ages. */
static void conv_fill(tab_t *c, const ekv_cache_model_t *pm, const ekv_cache_model_t *tm, double h)
{
    double dens[CONV_POINTS], g[CONV_POINTS]; /* at midpoints (j + 0.5) h */
    double cycle = ekv_cache_cycle_s(pm), miss = ekv_cache_miss_share(pm);
    for (int j = 0; j < CONV_POINTS; j++) {
        double a = (j + 0.5) * h;
        dens[j] = a < pm->ttl ? life_survival(pm, a) / cycle * h : 0;
        g[j] = ekv_cache_age_cdf(tm, a);
    }
    for (int n = 0; n <= CONV_POINTS; n++) {
        double s = miss * ekv_cache_age_cdf(tm, n * h);
        for (int j = 0; j < n; j++)
            s += dens[j] * g[n - 1 - j];
        c->f[n] = fmin(1, s);
    }
}

static double tab_at(const tab_t *c, double x, double h)
{
    if (x <= 0)
        return c->f[0];
    double u = x / h;
    int n = (int)u;
    if (n >= CONV_POINTS)
        return c->f[CONV_POINTS];
    return c->f[n] + (u - n) * (c->f[n + 1] - c->f[n]);
}

/* The table for PoP p (ttl, kv) and key bucket k among the bucket's, made when missing. */
static const tab_t *tab_for(const ekv_tvis_world_t *w, const ekv_tvis_pop_t *p,
                            const ekv_tvis_keys_t *k, tab_t *tabs, size_t *ntabs, double h)
{
    int tier = tiered(w, p) ? p->tier : -1;
    for (size_t i = 0; i < *ntabs; i++)
        if (tabs[i].tier == tier && tabs[i].policy == (int)p->policy && tabs[i].reads == p->reads)
            return &tabs[i];
    tab_t *c = &tabs[(*ntabs)++];
    *c = (tab_t){.tier = tier, .policy = (int)p->policy, .reads = p->reads};
    ekv_cache_model_t pm = pop_model(w, p, p->reads * k->read_rate);
    if (tier >= 0) {
        ekv_cache_model_t tm = tier_model(w, tier, k);
        conv_fill(c, &pm, &tm, h);
    } else {
        for (int n = 0; n <= CONV_POINTS; n++)
            c->f[n] = ekv_cache_age_cdf(&pm, n * h);
    }
    return c;
}

static const tab_t no_tab; /* marks a PoP of fresh_direct's closed form */

/* Adds PoP i's reads of key bucket k to the sums at the points t[j]; ew[j] is the bucket's
 * weight count w e^{-wt} there (times the PoP's read rate: the density of such reads). */
static void add_pop(const ekv_tvis_world_t *w, size_t i, const ekv_tvis_keys_t *k, const double *t,
                    const double *ew, size_t np, const double *arrival, const tab_t *tab, double h,
                    double *num, double *den)
{
    const ekv_tvis_pop_t *p = &w->pops[i];
    double r = p->reads * k->read_rate, origin = origin_ms(w, p);
    double hold = p->policy < EKV_TVIS_TTL ? held(w, p, k, 0) : 0;
    for (size_t j = 0; j < np; j++) {
        double wt = ew[j] * r, f;
        if (!tab) {
            if (p->policy == EKV_TVIS_INVALIDATE)
                hold = held(w, p, k, t[j]);
            f = arrival[j] + (1 - arrival[j]) * (1 - hold);
        } else if (tab == &no_tab) {
            f = p->own + (1 - p->own) * fresh_direct(r, w->cache_ttl_s, origin / 1000, t[j] / 1000);
        } else {
            f = p->own + (1 - p->own) * tab_at(tab, (t[j] - origin) / 1000, h);
        }
        num[j] += wt * f;
        den[j] += wt;
    }
}

void ekv_tvis_predict(const ekv_tvis_world_t *w, double bin_ms, size_t nbins, double *p)
{
    size_t np = nbins * TVIS_SUB, nb, ntabs;
    double *t = ekv_calloc(np + 1, sizeof *t), *ew = ekv_calloc(np + 1, sizeof *ew);
    double *num = ekv_calloc(np + 1, sizeof *num), *den = ekv_calloc(np + 1, sizeof *den);
    double *arrival = ekv_calloc(w->npops * np + 1, sizeof *arrival);
    double h = (double)nbins * bin_ms / 1000 / CONV_POINTS; /* seconds */
    for (size_t j = 0; j < np; j++)
        t[j] = ((double)j + 0.5) * bin_ms / TVIS_SUB;
    for (size_t i = 0; i < w->npops; i++)
        for (size_t j = 0; w->pops[i].policy < EKV_TVIS_TTL && j < np; j++)
            arrival[i * np + j] = ekv_tvis_arrival_cdf(&w->pops[i].link, t[j]);
    ekv_tvis_keys_t *keys = key_buckets(w->keys, w->nkeys, &nb);
    tab_t *tabs = ekv_malloc((w->npops ? w->npops : 1) * sizeof *tabs);
    for (size_t b = 0; b < nb; b++) {
        const ekv_tvis_keys_t *k = &keys[b];
        for (size_t j = 0; j < np; j++)
            ew[j] = k->count * k->write_rate * exp(-k->write_rate * t[j] / 1000);
        ntabs = 0; /* tables hold for one bucket's rates */
        for (size_t i = 0; i < w->npops; i++) {
            const ekv_tvis_pop_t *pp = &w->pops[i];
            if (pp->reads <= 0)
                continue;
            const tab_t *tab = pp->policy < EKV_TVIS_TTL ? NULL
                               : direct(w, pp)           ? &no_tab
                                                         : tab_for(w, pp, k, tabs, &ntabs, h);
            add_pop(w, i, k, t, ew, np, &arrival[i * np], tab, h, num, den);
        }
    }
    for (size_t b = 0; b < nbins; b++) {
        double n = 0, d = 0;
        for (size_t j = b * TVIS_SUB; j < (b + 1) * TVIS_SUB; j++)
            n += num[j], d += den[j];
        p[b] = d > 0 ? fmin(1, fmax(0, n / d)) : -1;
    }
    free(tabs);
    free(keys);
    free(arrival);
    free(den);
    free(num);
    free(ew);
    free(t);
}
