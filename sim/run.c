/* run: `edgekv run EXPERIMENT [--topology FILE] [--out DIR] [--check]`.
 *
 * For each policy of the experiment: launch the topology in a private state folder under the
 * output folder (ephemeral ports, the policy forced on every PoP), drive the workload and the
 * fault timeline (loadgen.c), collect, stop everything, and analyse (analysis.c). Then write
 * results.json, report.html and CSV files of the raw records into the output folder, print
 * the summary, and check the experiment's assertions (--check: exit 1 when one fails). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkers.h"
#include "ekv_kv.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "faults.h"
#include "hclient.h"
#include "launch.h"
#include "loadgen.h"
#include "report.h"
#include "run.h"

typedef struct {
    const ekv_topo_t *t;
    ekv_state_t *st;
} fault_ctx_t;

static int apply_fault(void *arg, const ekv_fault_t *f)
{
    fault_ctx_t *fc = arg;
    return ekv_fault_apply(fc->t, fc->st, f);
}

static int in_list(const char (*names)[64], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return 1;
    return 0;
}

static int has_pop(const ekv_topo_t *t, const char *name)
{
    for (size_t j = 0; j < t->npops; j++)
        if (!strcmp(t->pops[j].name, name))
            return 1;
    return 0;
}

/* The PoPs named by key groups, clients and pop_weights. */
static int check_group_names(const ekv_experiment_t *e, const ekv_topo_t *t)
{
    const char *bad = NULL;
    for (size_t g = 0; g < e->ngroups && !bad; g++) {
        for (size_t i = 0; i < e->groups[g].nwriters && !bad; i++)
            bad = has_pop(t, e->groups[g].writers[i]) ? NULL : e->groups[g].writers[i];
        for (size_t i = 0; i < e->groups[g].nreaders && !bad; i++)
            bad = has_pop(t, e->groups[g].readers[i]) ? NULL : e->groups[g].readers[i];
    }
    for (size_t i = 0; i < e->nhomes && !bad; i++)
        bad = has_pop(t, e->homes[i]) ? NULL : e->homes[i];
    for (size_t i = 0; i < e->nweights && !bad; i++)
        bad = has_pop(t, e->weights[i].pop) ? NULL : e->weights[i].pop;
    for (size_t i = 0; i < e->nfaults && !bad; i++) /* reroute: both ends are PoPs */
        if (e->faults[i].kind == EKV_FAULT_REROUTE)
            bad = !has_pop(t, e->faults[i].pop)  ? e->faults[i].pop
                  : !has_pop(t, e->faults[i].to) ? e->faults[i].to
                                                 : NULL;
    if (bad)
        fprintf(stderr, "edgekv: the experiment names PoP '%s', which the topology lacks\n", bad);
    return bad ? -1 : 0;
}

/* Every PoP named by the experiment must exist in the topology. */
static int check_names(const ekv_experiment_t *e, const ekv_topo_t *t)
{
    if (check_group_names(e, t) != 0)
        return -1;
    for (size_t i = 0; i < e->nwriters + e->nreaders + e->nfaults; i++) {
        const char *name = i < e->nwriters ? e->writers[i]
                           : i < e->nwriters + e->nreaders
                               ? e->readers[i - e->nwriters]
                               : e->faults[i - e->nwriters - e->nreaders].pop;
        size_t j = 0, k = 0;
        while (j < t->npops && strcmp(t->pops[j].name, name) != 0)
            j++;
        int fault = i >= e->nwriters + e->nreaders; /* faults may also name a tier */
        while (fault && k < t->ntiers && strcmp(t->tiers[k].name, name) != 0)
            k++;
        if (j == t->npops && (!fault || k == t->ntiers) && name[0]) {
            fprintf(stderr, "edgekv: the experiment names %s '%s', which the topology lacks\n",
                    fault ? "PoP or tier" : "PoP", name);
            return -1;
        }
    }
    return 0;
}

/* Writes one CSV file of the run: header, then row(f, i) for each of n records. Through a
 * new temporary file renamed onto the name, so a link planted there is replaced, not followed. */
static void write_csv(const char *dir, const char *policy, const char *what, const char *header,
                      size_t n, void (*row)(FILE *, size_t, const void *), const void *arg)
{
    char path[PATH_MAX + 64], tmp[EKV_FILE_TMP_MAX];
    snprintf(path, sizeof path, "%s/%s-%s.csv", dir, policy, what);
    FILE *f = ekv_file_out_open(path, tmp);
    if (!f) {
        fprintf(stderr, "edgekv: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "%s\n", header);
    for (size_t i = 0; i < n; i++)
        row(f, i, arg);
    if (ekv_file_out_close(f, tmp, path) != EKV_OK)
        fprintf(stderr, "edgekv: cannot write %s\n", path);
}

typedef struct {
    const ekv_topo_t *t;
    const ekv_load_result_t *r;
} csv_ctx_t;

static void write_row(FILE *f, size_t i, const void *arg)
{
    const ekv_write_rec_t *w = &((const csv_ctx_t *)arg)->r->writes[i];
    fprintf(f, "k%07u,%llu,%lld\n", w->key, (unsigned long long)w->seq, (long long)w->commit_us);
}

static void read_row(FILE *f, size_t i, const void *arg)
{
    const csv_ctx_t *c = arg;
    const ekv_read_rec_t *x = &c->r->reads[i];
    fprintf(f, "%s,k%07u,%lld,%lld,%d,%llu\n", c->t->pops[x->pop].name, x->key,
            (long long)x->start_us, (long long)x->end_us, x->ok, (unsigned long long)x->seq);
}

static void vis_row(FILE *f, size_t i, const void *arg)
{
    const csv_ctx_t *c = arg;
    const ekv_vis_rec_t *v = &c->r->vis[i];
    fprintf(f, "%s,%llu,%lld,", c->t->pops[v->pop].name, (unsigned long long)v->seq,
            (long long)v->visible_us);
    if (v->served_us) /* empty: no read there returned it during the run */
        fprintf(f, "%lld", (long long)v->served_us);
    fputc('\n', f);
}

static void hist_row(FILE *f, size_t i, const void *arg)
{
    static const char *ops[] = {"get", "put", "delete", "list"};
    const csv_ctx_t *c = arg;
    const ekv_hist_op_t *x = &c->r->hist.ops[i];
    fprintf(f, "%u,%s,%s,%u,%d,%lld,%lld,%llu,%lld,%lld,%u\n", x->client, c->t->pops[x->pop].name,
            ops[x->op & 3], x->key, x->status, (long long)x->start_us, (long long)x->end_us,
            (unsigned long long)x->seq, (long long)x->commit_us, (long long)x->value, x->rmw);
}

static void write_csvs(const char *dir, const char *policy, const ekv_topo_t *t,
                       const ekv_load_result_t *r)
{
    csv_ctx_t c = {t, r};
    write_csv(dir, policy, "history",
              "client,pop,op,key,status,start_us,end_us,seq,commit_us,"
              "value,rmw",
              r->hist.n, hist_row, &c);
    write_csv(dir, policy, "writes", "key,seq,commit_us", r->nwrites, write_row, &c);
    write_csv(dir, policy, "reads", "pop,key,start_us,end_us,ok,seq", r->nreads, read_row, &c);
    write_csv(dir, policy, "visibility", "pop,seq,visible_us,served_us", r->nvis, vis_row, &c);
}

/* Every PoP's /stats (null where it did not answer): taken before and after the load. */
static json_t *pop_stats(const ekv_state_t *st)
{
    size_t n = st->npops;
    ekv_hc_req_t *r = ekv_calloc(n ? n : 1, sizeof *r);
    for (size_t i = 0; i < n; i++) {
        r[i].method = "GET";
        snprintf(r[i].url, sizeof r[i].url, "%s/stats", st->pops[i].url);
    }
    ekv_hc_run(r, n, 10000);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = r[i].status == 200 ? json_loads(r[i].resp, 0, NULL) : NULL;
        json_array_append_new(a, j ? j : json_null());
        ekv_hc_req_fini(&r[i]);
    }
    free(r);
    return a;
}

/* The cache counters the load moved, over every PoP: after minus before. */
static json_t *cache_delta(json_t *before, json_t *after)
{
    static const char *names[] = {"hits", "misses", "origin_reads", "tier_reads"};
    json_int_t sum[4] = {0};
    for (size_t i = 0; i < json_array_size(after); i++)
        for (int k = 0; k < 4; k++)
            sum[k] += json_integer_value(json_object_get(json_array_get(after, i), names[k])) -
                      json_integer_value(json_object_get(json_array_get(before, i), names[k]));
    return json_pack("{s:I, s:I, s:I, s:I, s:f}", "hits", sum[0], "misses", sum[1], "origin_reads",
                     sum[2], "tier_reads", sum[3], "hit_ratio",
                     sum[0] + sum[1] ? (double)sum[0] / (double)(sum[0] + sum[1]) : 0.0);
}

/* The counter keys of the experiment, in key order; their number in *n. */
static uint32_t *counter_keys(const ekv_experiment_t *e, size_t *n)
{
    size_t cap = 0;
    for (size_t g = 0; g < e->ngroups; g++)
        cap += e->groups[g].counter ? (size_t)e->groups[g].count : 0;
    uint32_t *keys = ekv_calloc(cap ? cap : 1, sizeof *keys);
    *n = 0;
    for (size_t g = 0; g < e->ngroups; g++)
        for (long k = 0; e->groups[g].counter && k < e->groups[g].count; k++)
            keys[(*n)++] = (uint32_t)(e->groups[g].first_key + k);
    return keys;
}

/* Reads the counters' values from the coordinator (the central store), 64 at a time: val[i]
 * for keys[i] (not found: 0); ok[i] = 0 where the coordinator did not answer. */
static void read_counters(const ekv_experiment_t *e, const ekv_state_t *st, const uint32_t *keys,
                          size_t n, int64_t *val, uint8_t *ok)
{
    ekv_hc_req_t r[64];
    for (size_t k0 = 0; k0 < n; k0 += 64) {
        size_t m = n - k0 < 64 ? n - k0 : 64;
        memset(r, 0, sizeof r);
        for (size_t i = 0; i < m; i++) {
            char name[256], enc[800];
            ekv_experiment_key_name(e, keys[k0 + i], name, sizeof name);
            size_t o = 0;
            for (const char *c = name; *c && o + 4 < sizeof enc; c++)
                o += (size_t)snprintf(enc + o, sizeof enc - o,
                                      isalnum((unsigned char)*c) || strchr("-._~", *c) ? "%c"
                                                                                       : "%%%02X",
                                      (unsigned char)*c);
            r[i].method = "GET";
            snprintf(r[i].url, sizeof r[i].url,
                     "%s/client/v4/accounts/edgekv/storage/kv/namespaces/%s/values/%s",
                     st->coord.url, EKV_KV_DEFAULT_NS, enc);
        }
        ekv_hc_run(r, m, 10000);
        for (size_t i = 0; i < m; i++) {
            const ekv_group_t *g = ekv_experiment_group_of(e, keys[k0 + i]);
            val[k0 + i] = r[i].status == 200 && r[i].resp && g
                              ? ekv_experiment_counter_value(g, r[i].resp, r[i].resp_len)
                              : 0;
            ok[k0 + i] = r[i].status == 200 || r[i].status == 404;
            ekv_hc_req_fini(&r[i]);
        }
    }
}

/* The counters' values before the load (a reused output folder, or a running world, keeps
 * earlier values) and after it; keys the coordinator did not answer for are not judged. */
typedef struct {
    uint32_t *keys;
    size_t n;
    int64_t *initial;
    uint8_t *ok;
} counters_t;

static void counters_before(const ekv_experiment_t *e, const ekv_state_t *st, counters_t *c)
{
    c->keys = counter_keys(e, &c->n);
    c->initial = ekv_calloc(c->n + 1, sizeof *c->initial);
    c->ok = ekv_calloc(c->n + 1, 1);
    read_counters(e, st, c->keys, c->n, c->initial, c->ok);
}

static ekv_chk_final_t *counters_after(const ekv_experiment_t *e, const ekv_state_t *st,
                                       const counters_t *c, size_t *nf)
{
    int64_t *val = ekv_calloc(c->n + 1, sizeof *val);
    uint8_t *ok = ekv_calloc(c->n + 1, 1);
    read_counters(e, st, c->keys, c->n, val, ok);
    ekv_chk_final_t *f = ekv_calloc(c->n + 1, sizeof *f);
    *nf = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->ok[i] && ok[i])
            f[(*nf)++] = (ekv_chk_final_t){c->keys[i], c->initial[i], val[i]};
    free(val);
    free(ok);
    return f;
}

static void counters_fini(counters_t *c)
{
    free(c->keys);
    free(c->initial);
    free(c->ok);
}

/* Cache counters of every PoP and the coordinator's fan-out counters, before the stop. */
static void collect_counters(const ekv_state_t *st, uint64_t writes, ekv_run_t *run)
{
    size_t n = st->npops;
    ekv_hc_req_t *r = ekv_calloc(n + 1, sizeof *r);
    for (size_t i = 0; i <= n; i++) {
        r[i].method = "GET";
        snprintf(r[i].url, sizeof r[i].url, "%s%s", i < n ? st->pops[i].url : st->coord.url,
                 i < n ? "/stats" : "/health");
    }
    ekv_hc_run(r, n + 1, 10000);
    run->pop_extra = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = r[i].status == 200 ? json_loads(r[i].resp, 0, NULL) : NULL;
        json_int_t hits = json_integer_value(json_object_get(j, "hits"));
        json_int_t misses = json_integer_value(json_object_get(j, "misses"));
        json_array_append_new(
            run->pop_extra,
            j ? json_pack("{s:I, s:I, s:I, s:f}", "hits", hits, "misses", misses, "origin_reads",
                          json_integer_value(json_object_get(j, "origin_reads")), "hit_ratio",
                          hits + misses ? (double)hits / (double)(hits + misses) : 0.0)
              : json_object());
        json_decref(j);
    }
    json_t *h = r[n].status == 200 ? json_loads(r[n].resp, 0, NULL) : NULL;
    double per = writes ? (double)n / (double)writes : 0;
    run->extra = json_pack("{s:f, s:f}", "fanout_messages_per_write",
                           (double)json_integer_value(json_object_get(h, "published")) * per,
                           "fanout_bytes_per_write",
                           (double)json_integer_value(json_object_get(h, "published_bytes")) * per);
    json_decref(h);
    for (size_t i = 0; i <= n; i++)
        ekv_hc_req_fini(&r[i]);
    free(r);
}

/* Convergence after each recovery (continue, heal, restart, slow, coordinator restart), by
 * ekv_convergence; null when it never converged within the run or is no recovery. */
static json_t *convergence(const ekv_experiment_t *e, const ekv_topo_t *t,
                           const ekv_load_result_t *lr, double scale)
{
    ekv_recovery_t *rec = ekv_calloc(e->nfaults ? e->nfaults : 1, sizeof *rec);
    double *ms = ekv_calloc(e->nfaults ? e->nfaults : 1, sizeof *ms);
    for (size_t f = 0; f < e->nfaults; f++) {
        const ekv_fault_t *x = &e->faults[f];
        int recovery = x->kind == EKV_FAULT_CONTINUE || x->kind == EKV_FAULT_HEAL ||
                       x->kind == EKV_FAULT_RESTART || x->kind == EKV_FAULT_SLOW ||
                       x->kind == EKV_FAULT_COORD_RESTART;
        rec[f].at_us = recovery ? lr->fault_us[f] : 0;
        rec[f].pop = -1;
        for (size_t p = 0; x->pop[0] && p < t->npops; p++)
            if (!strcmp(t->pops[p].name, x->pop))
                rec[f].pop = (int)p;
    }
    ekv_convergence(lr->writes, lr->nwrites, lr->vis, lr->nvis, t->npops, rec, e->nfaults, scale,
                    ms);
    json_t *out = json_array();
    for (size_t f = 0; f < e->nfaults; f++) {
        const ekv_fault_t *x = &e->faults[f];
        json_t *row = json_pack("{s:s, s:s, s:f, s:b}", "action", ekv_fault_name(x->kind), "pop",
                                x->pop, "at_s", x->at_s, "applied", lr->fault_us[f] != 0);
        json_object_set_new(row, "convergence_ms", ms[f] < 0 ? json_null() : json_real(ms[f]));
        json_array_append_new(out, row);
    }
    free(rec);
    free(ms);
    return out;
}

/* Counterexamples name their PoP and key (the history holds numbers). */
static void name_examples(const ekv_experiment_t *e, const ekv_topo_t *t, json_t *checkers)
{
    const char *k;
    json_t *kind, *ex, *op;
    size_t i, j;
    char name[256];
    json_object_foreach(checkers, k, kind)
    {
        json_array_foreach(json_object_get(kind, "examples"), i, ex)
        {
            json_array_foreach(json_object_get(ex, "ops"), j, op)
            {
                size_t pop = (size_t)json_integer_value(json_object_get(op, "pop"));
                if (pop < t->npops)
                    json_object_set_new(op, "pop_name", json_string(t->pops[pop].name));
                ekv_experiment_key_name(e, (long)json_integer_value(json_object_get(op, "key")),
                                        name, sizeof name);
                json_object_set_new(op, "key_name", json_string(name));
            }
        }
    }
}

/* The checkers over the run's history (checkers.h): metrics, counts and the smallest
 * counterexamples. p_fresh bins are a quarter of the largest t_ms asserted on (1 s when
 * none): p_fresh_at(t) is then over the reads t to 1.25 t after the newest write. */
static json_t *consistency(const ekv_experiment_t *e, const ekv_topo_t *t,
                           const ekv_load_result_t *lr, const ekv_chk_final_t *finals,
                           size_t nfinals, double scale)
{
    double t_max = 0;
    for (size_t i = 0; i < e->nasserts; i++)
        t_max = fmax(t_max, e->asserts[i].t_ms);
    ekv_chk_opts_t o = {.time_scale = scale,
                        .bound_ms = e->stale_bound_ms,
                        .fresh_bin_ms = t_max > 0 ? t_max / 4 : 1000,
                        .finals = finals,
                        .nfinals = nfinals,
                        .may_expire = lr->may_expire,
                        .nmay_expire = (size_t)e->keys_total};
    ekv_checkers_t c;
    if (ekv_checkers_run(&c, &lr->hist, &o) != EKV_OK) {
        ekv_checkers_fini(&c);
        return json_null();
    }
    json_t *j = ekv_checkers_json(&c);
    name_examples(e, t, json_object_get(j, "checkers"));
    size_t i;
    json_t *row;
    char name[256];
    json_array_foreach(json_object_get(j, "counters"), i, row)
    {
        ekv_experiment_key_name(e, (long)json_integer_value(json_object_get(row, "key")), name,
                                sizeof name);
        json_object_set_new(row, "key_name", json_string(name));
    }
    json_object_set_new(j, "bulk_reads", json_integer((json_int_t)lr->bulk_reads));
    json_object_set_new(j, "bulk_failed", json_integer((json_int_t)lr->bulk_failed));
    json_object_set_new(j, "list_pages", json_integer((json_int_t)lr->list_pages));
    json_object_set_new(j, "list_failed", json_integer((json_int_t)lr->list_failed));
    ekv_checkers_fini(&c);
    return j;
}

/* ---- the predicted t-visibility (analysis.h, ekv_tvis_predict) ------------------------ */

/* Why the model does not cover the run, or NULL when it does. */
static const char *unpredicted(const ekv_experiment_t *e)
{
    if (e->ngroups)
        return "key groups (clients, per-group rates and phases) are not modelled: only the "
               "flat workload is";
    if (e->nfaults)
        return "faults during the run are not modelled";
    double hottest = e->keys > 0 ? e->write_rate : 0; /* the share of the first key */
    if (e->dist == EKV_DIST_ZIPF) {
        double h = 0;
        for (long k = 0; k < e->keys; k++)
            h += 1 / pow((double)(k + 1), e->zipf_s);
        hottest /= h;
    } else if (e->keys > 0) {
        hottest /= (double)e->keys;
    }
    if (e->write_rate_limit > 0 && hottest > e->write_rate_limit)
        return "the per-key write limit refuses some writes, which the model does not know";
    return NULL;
}

static ekv_tvis_policy_t tvis_policy(const char *name)
{
    static const char *names[] = {"push", "push-all", "invalidate", "ttl", "kv"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, names[i]))
            return (ekv_tvis_policy_t)i;
    return EKV_TVIS_KV; /* the loader accepts only those */
}

/* PoP i as the model sees it: its policy, reads, link and tier. */
static ekv_tvis_pop_t tvis_pop(const ekv_topo_t *t, size_t i, int reads)
{
    const ekv_topo_pop_t *tp = &t->pops[i];
    ekv_tvis_pop_t p = {.policy = tvis_policy(ekv_topo_policy(t, tp)), .reads = reads, .tier = -1};
    p.link.delay_ms = ekv_topo_delay_ms(t, tp);
    p.link.loss = ekv_topo_loss(t, tp);
    p.link.rto_ms = t->rto_ms;
    ekv_tvis_parse_jitter(ekv_topo_jitter(t, tp), &p.link); /* checked by the loader */
    const ekv_topo_tier_t *tier = ekv_topo_pop_tier(t, tp);
    if (tier && p.policy >= EKV_TVIS_TTL) {
        p.tier = (int)(tier - t->tiers);
        p.link.delay_ms = ekv_topo_pop_tier_delay_ms(t, tp, tier);
    }
    return p;
}

/* The run's predicted t-visibility at its bins, into r (after ekv_analyze), or the reason
 * there is none. */
static void predict(const ekv_experiment_t *e, const ekv_topo_t *t, const int *reader,
                    const int *writer, double bin_ms, ekv_results_t *r)
{
    const char *why = unpredicted(e);
    if (why) {
        snprintf(r->tvis_pred_note, sizeof r->tvis_pred_note, "%s", why);
        return;
    }
    ekv_tvis_pop_t *pops = ekv_calloc(t->npops + 1, sizeof *pops);
    ekv_tvis_tier_t *tiers = ekv_calloc(t->ntiers + 1, sizeof *tiers);
    ekv_tvis_keys_t *keys = ekv_calloc((size_t)e->keys + 1, sizeof *keys);
    size_t nwriters = 0;
    for (size_t i = 0; i < t->npops; i++)
        nwriters += writer[i] != 0;
    for (size_t i = 0; i < t->npops; i++) { /* writers take turns (loadgen.c) */
        pops[i] = tvis_pop(t, i, reader[i]);
        pops[i].own = writer[i] ? 1.0 / (double)nwriters : 0;
    }
    for (size_t i = 0; i < t->ntiers; i++)
        tiers[i] = (ekv_tvis_tier_t){ekv_topo_tier_cache_ttl(t, &t->tiers[i]), t->refresh_hot_reads,
                                     t->refresh_late, ekv_topo_tier_delay_ms(t, &t->tiers[i]),
                                     t->tier_purge_on_write};
    /* key k's share of the reads and writes: zipf over ranks 1..keys, or uniform */
    double h = 0;
    for (long k = 0; k < e->keys; k++)
        h += e->dist == EKV_DIST_ZIPF ? 1 / pow((double)(k + 1), e->zipf_s) : 1;
    for (long k = 0; k < e->keys; k++) {
        double share = (e->dist == EKV_DIST_ZIPF ? 1 / pow((double)(k + 1), e->zipf_s) : 1) / h;
        keys[k] = (ekv_tvis_keys_t){1, e->read_rate * share, e->write_rate * share};
    }
    ekv_tvis_world_t w = {.pops = pops,
                          .npops = t->npops,
                          .tiers = tiers,
                          .ntiers = t->ntiers,
                          .keys = keys,
                          .nkeys = (size_t)e->keys,
                          .cache_ttl_s = e->cache_ttl,
                          .hot = t->refresh_hot_reads,
                          .late = t->refresh_late,
                          .duration_s = e->duration_s};
    ekv_tvis_predict(&w, bin_ms, EKV_TVIS_BINS, r->tvis_pred);
    r->tvis_pred_ok = 1;
    /* The model is the caches' steady state; they start empty, so the first cache lives of
     * a run serve younger copies than it expects. */
    double life = 0;
    for (size_t i = 0; i < t->npops; i++)
        if (pops[i].policy >= EKV_TVIS_TTL)
            life = fmax(life, e->cache_ttl + (pops[i].tier >= 0 && !t->tier_purge_on_write
                                                  ? tiers[pops[i].tier].ttl_s
                                                  : 0));
    if (e->duration_s < 4 * life)
        snprintf(r->tvis_pred_note, sizeof r->tvis_pred_note,
                 "a caveat: the run (%g s) is short against the caches' lives (%g s with the "
                 "tier's); they start empty and the model is their steady state",
                 e->duration_s, life);
    free(keys);
    free(tiers);
    free(pops);
}

/* A copy of the topology for one run: this policy everywhere, ephemeral ports. */
static ekv_topo_t *run_topology(const ekv_topo_t *t, const ekv_experiment_t *e, const char *policy)
{
    ekv_topo_t *c = ekv_malloc(sizeof *c);
    *c = *t;
    c->pops = ekv_malloc(t->npops * sizeof *c->pops);
    memcpy(c->pops, t->pops, t->npops * sizeof *c->pops);
    snprintf(c->policy, sizeof c->policy, "%s", policy);
    for (size_t i = 0; i < c->npops; i++)
        c->pops[i].policy[0] = '\0';
    ekv_topo_retier(c); /* under push and the like, PoPs read from the coordinator */
    c->coord.http_port = c->coord.pub_port = c->coord.router_port = 0;
    c->http_port_base = 0;
    if (e->time_scale > 0)
        c->time_scale = e->time_scale;
    c->write_rate_limit = e->write_rate_limit;
    c->coord.api_rate_limit = 0; /* the account's limit is off for experiments */
    c->seed = e->seed;
    return c;
}

/* One run: on a topology launched for it with this policy, or on the running one (then the
 * topology, its policies and its time scale are as they run, and it is left running). */
static int one_run(const ekv_experiment_t *e, const ekv_topo_t *base, const char *topo_path,
                   const char *policy, const char *out, int progress, ekv_run_t *run,
                   const ekv_state_t *running)
{
    ekv_topo_t *t = run_topology(base, e, policy);
    ekv_state_t st;
    int rc = EKV_OK;
    if (running) {
        st = *running;
        /* As it runs: a PoP a fault restarts comes back with its own policy and settings. */
        memcpy(t->pops, base->pops, base->npops * sizeof *t->pops);
        snprintf(t->policy, sizeof t->policy, "%s", base->policy);
        t->time_scale = base->time_scale;
        t->write_rate_limit = base->write_rate_limit;
        t->seed = base->seed;
        fprintf(stderr, "edgekv: running on the topology already up (%zu PoPs)\n", t->npops);
    } else {
        char home[PATH_MAX + 32];
        snprintf(home, sizeof home, "%s/state-%s", out, policy);
        setenv("EDGEKV_HOME", home, 1);
        fprintf(stderr, "edgekv: policy %s: starting %zu PoPs\n", policy, t->npops);
        rc = ekv_launch_start(t, topo_path, &st);
    }
    if (rc != EKV_OK) {
        free(t->pops);
        free(t);
        return rc;
    }
    char(*urls)[128] = ekv_calloc(t->npops, sizeof *urls);
    char(*names)[64] = ekv_calloc(t->npops, sizeof *names);
    int *reader = ekv_calloc(t->npops, sizeof *reader),
        *writer = ekv_calloc(t->npops, sizeof *writer);
    double max_delay = 0;
    for (size_t i = 0; i < t->npops; i++) {
        snprintf(urls[i], sizeof urls[i], "%s", st.pops[i].url);
        snprintf(names[i], sizeof names[i], "%s", t->pops[i].name);
        reader[i] = e->nreaders == 0 || in_list(e->readers, e->nreaders, t->pops[i].name);
        writer[i] = e->writers_all ||
                    (e->nwriters ? in_list(e->writers, e->nwriters, t->pops[i].name) : i == 0);
        max_delay = fmax(max_delay, st.pops[i].delay_ms);
    }
    fault_ctx_t fc = {t, &st};
    ekv_load_config_t cfg = {e,
                             t->npops,
                             urls,
                             reader,
                             writer,
                             t->time_scale,
                             (int)(1000 + 4 * max_delay / t->time_scale),
                             progress,
                             (const char(*)[64])names,
                             apply_fault,
                             &fc};
    ekv_load_result_t lr;
    json_t *before = pop_stats(&st), *cache = NULL;
    size_t nfinals = 0;
    ekv_chk_final_t *finals = NULL;
    counters_t counters = {0};
    counters_before(e, &st, &counters);
    rc = ekv_load_run(&cfg, &lr);
    if (rc == EKV_OK) {
        collect_counters(&st, lr.nwrites, run);
        json_t *after = pop_stats(&st);
        cache = cache_delta(before, after);
        json_decref(after);
        finals = counters_after(e, &st, &counters, &nfinals);
    }
    counters_fini(&counters);
    json_decref(before);
    if (!running)
        ekv_launch_stop(&st);
    if (rc == EKV_OK) {
        json_object_set_new(run->extra, "faults", convergence(e, t, &lr, t->time_scale));
        json_object_set_new(run->extra, "cache", cache);
        cache = NULL;
        json_object_set_new(run->extra, "consistency",
                            consistency(e, t, &lr, finals, nfinals, t->time_scale));
        write_csvs(out, policy, t, &lr);
        snprintf(run->policy, sizeof run->policy, "%s", policy);
        run->write_errors = lr.write_errors;
        double bin_ms = ekv_tvis_bin_ms(!strcmp(policy, "push") || !strcmp(policy, "push-all"),
                                        max_delay, e->cache_ttl);
        ekv_analyze(lr.writes, lr.nwrites, lr.reads, lr.nreads, lr.vis, lr.nvis, t->npops,
                    t->time_scale, bin_ms, &run->res);
        ekv_version_lag(lr.writes, lr.nwrites, lr.vis, lr.nvis, lr.start_us, lr.end_us,
                        t->time_scale, &run->res);
        predict(e, t, reader, writer, bin_ms, &run->res);
        if (lr.vis_lost)
            fprintf(stderr, "edgekv: %llu visibility records were overwritten before collection\n",
                    (unsigned long long)lr.vis_lost);
    }
    json_decref(cache);
    free(finals);
    ekv_load_result_fini(&lr);
    free(names);
    free(urls);
    free(reader);
    free(writer);
    free(t->pops);
    free(t);
    return rc;
}

/* ---- assertions -------------------------------------------------------------------------- */

/* p_fresh_at: the p of the bin holding t_ms; found only when that bin has reads. */
static double p_fresh_at(json_t *cons, double t_ms, int *found)
{
    json_t *bins = json_object_get(cons, "p_fresh");
    double bin = json_number_value(json_object_get(cons, "p_fresh_bin_ms"));
    for (size_t i = 0; bin > 0 && i < json_array_size(bins); i++) {
        json_t *b = json_array_get(bins, i);
        double t0 = json_number_value(json_object_get(b, "t_ms"));
        if (t_ms >= t0 && t_ms < t0 + bin) {
            *found = 1;
            return json_number_value(json_object_get(b, "p"));
        }
    }
    return NAN;
}

/* The use-case metrics: from the checkers (consistency) and the cache counters' deltas. */
static double use_case_metric(json_t *run, const ekv_assert_t *a, int *found)
{
    json_t *cons = json_object_get(run, "consistency"), *cache = json_object_get(run, "cache");
    if (!strcmp(a->metric, "p_fresh_at"))
        return p_fresh_at(cons, a->t_ms, found);
    json_t *v = json_object_get(cons, a->metric);
    if (!v)
        v = json_object_get(cache, a->metric);
    *found = json_is_number(v);
    return *found ? json_number_value(v) : NAN;
}

static double metric_of(json_t *run, const ekv_assert_t *a, int *found)
{
    json_t *pops = json_object_get(run, "pops");
    double worst = -INFINITY;
    *found = 0;
    if (strcmp(a->metric, "stale_ratio") && strcmp(a->metric, "stale_reads") &&
        strcmp(a->metric, "failed_reads") && strncmp(a->metric, "visibility_", 11))
        return use_case_metric(run, a, found);
    if (!strcmp(a->metric, "stale_ratio") && !a->pop[0]) {
        *found = 1;
        return json_number_value(json_object_get(run, "stale_ratio"));
    }
    for (size_t i = 0; i < json_array_size(pops); i++) {
        json_t *p = json_array_get(pops, i), *v = json_object_get(p, "visibility_ms");
        if (a->pop[0] && strcmp(a->pop, json_string_value(json_object_get(p, "name"))))
            continue;
        double x = !strncmp(a->metric, "visibility_", 11)
                       ? json_number_value(
                             json_object_get(v, a->metric[11] == 'p' && a->metric[12] == '5' ? "p50"
                                                : a->metric[11] == 'p'                       ? "p99"
                                                                       : "max"))
                       : json_number_value(json_object_get(p, a->metric));
        worst = fmax(worst, x);
        *found = 1;
    }
    if (!strcmp(a->metric, "stale_reads") || !strcmp(a->metric, "failed_reads")) {
        if (!a->pop[0]) /* totals over every PoP */
            return (double)json_integer_value(json_object_get(run, a->metric));
    }
    return worst;
}

static int check_asserts(const ekv_experiment_t *e, json_t *results)
{
    static const char *ops[] = {"<", "<=", ">", ">="};
    int failed = 0;
    json_t *runs = json_object_get(results, "runs"), *out = json_array();
    for (size_t i = 0; i < e->nasserts; i++) {
        const ekv_assert_t *a = &e->asserts[i];
        for (size_t r = 0; r < json_array_size(runs); r++) {
            json_t *run = json_array_get(runs, r);
            const char *pol = json_string_value(json_object_get(run, "policy"));
            if (a->policy[0] && strcmp(a->policy, pol))
                continue;
            int found;
            double v = metric_of(run, a, &found);
            int ok = found && (a->op == EKV_OP_LT   ? v < a->value
                               : a->op == EKV_OP_LE ? v <= a->value
                               : a->op == EKV_OP_GT ? v > a->value
                                                    : v >= a->value);
            char t[48] = "";
            if (a->t_ms > 0 || !strcmp(a->metric, "p_fresh_at"))
                snprintf(t, sizeof t, "(t=%g ms)", a->t_ms);
            printf("assert (line %d) %s%s%s%s %s %g [%s]: %g -> %s\n", a->line, a->metric, t,
                   a->pop[0] ? " at " : "", a->pop, ops[a->op], a->value, pol, v,
                   ok ? "ok" : "FAILED");
            json_t *row = json_pack("{s:i, s:s, s:s, s:f, s:b}", "line", a->line, "metric",
                                    a->metric, "policy", pol, "limit", a->value, "ok", ok);
            /* a metric a run lacks (an empty p_fresh bin) is null, and fails */
            json_object_set_new(row, "value", isfinite(v) ? json_real(v) : json_null());
            if (!strcmp(a->metric, "p_fresh_at"))
                json_object_set_new(row, "t_ms", json_real(a->t_ms));
            json_array_append_new(out, row);
            failed += !ok;
        }
    }
    json_object_set_new(results, "assertions", out);
    return failed;
}

/* ---- the command ------------------------------------------------------------------------- */

/* The output folder: given, or results/NAME-STAMP. The loader refuses names that are not one
 * path component, and this builder keeps to one anyway: every character but letters, digits,
 * '-', '_' and '.' becomes '_', and so does a leading '.'. */
static int make_out(char *out, size_t len, const char *given, const char *name)
{
    if (given) {
        snprintf(out, len, "%s", given);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        char stamp[32], safe[64];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        size_t n = 0;
        for (; name[n] && n < sizeof safe - 1; n++)
            safe[n] = isalnum((unsigned char)name[n]) || strchr("-_.", name[n]) ? name[n] : '_';
        safe[n] = '\0';
        if (safe[0] == '.')
            safe[0] = '_';
        mkdir("results", 0755);
        snprintf(out, len, "results/%s-%s", safe, stamp);
    }
    if (ekv_file_mkdirs(out) != EKV_OK) {
        fprintf(stderr, "edgekv: cannot create %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

static int parse(int argc, char **argv, const char **exp, const char **topo, const char **out,
                 int *check)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--topology") && i + 1 < argc)
            *topo = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            *out = argv[++i];
        else if (!strcmp(argv[i], "--check"))
            *check = 1;
        else if (argv[i][0] != '-' && !*exp)
            *exp = argv[i];
        else
            return -1;
    }
    return *exp ? 0 : -1;
}

int ekv_cmd_run(int argc, char **argv)
{
    const char *exp_path = NULL, *topo_path = "topology.yaml", *given_out = NULL;
    int check = 0;
    if (parse(argc, argv, &exp_path, &topo_path, &given_out, &check) != 0) {
        fprintf(stderr, "usage: edgekv run EXPERIMENT [--topology FILE] [--out DIR] [--check]\n");
        return 2;
    }
    char err[1024], out[PATH_MAX];
    ekv_experiment_t *e = ekv_experiment_load(exp_path, err, sizeof err);
    ekv_topo_t *t = e ? ekv_topo_load(topo_path, err, sizeof err) : NULL;
    if (!e || !t) {
        fprintf(stderr, "edgekv: %s\n", err);
        ekv_experiment_destroy(&e);
        return 1;
    }
    int rc = 1;
    size_t nruns = e->npolicies ? e->npolicies : 1;
    ekv_run_t *runs = ekv_calloc(nruns, sizeof *runs);
    ekv_state_t *running = NULL; /* no policies to compare: use a topology that is up */
    if (e->npolicies == 0 && ekv_state_load(&running) == EKV_OK &&
        ekv_proc_alive(&running->coord)) {
        ekv_topo_destroy(&t);
        topo_path = running->topology;
        t = ekv_topo_load(topo_path, err, sizeof err);
        if (!t || t->npops != running->npops) {
            fprintf(stderr, "edgekv: the running topology does not match %s\n", topo_path);
            ekv_state_destroy(&running);
            goto done;
        }
    } else {
        ekv_state_destroy(&running);
    }
    if (check_names(e, t) != 0 || make_out(out, sizeof out, given_out, e->name) != 0)
        goto done;
    size_t done_runs = 0;
    for (; done_runs < nruns; done_runs++) {
        const char *policy = e->npolicies ? e->policies[done_runs] : t->policy;
        if (one_run(e, t, topo_path, policy, out, isatty(2), &runs[done_runs], running) != EKV_OK) {
            fprintf(stderr, "edgekv: the %s run failed\n", policy);
            break;
        }
    }
    if (done_runs == nruns) {
        double scale = running ? t->time_scale : e->time_scale > 0 ? e->time_scale : t->time_scale;
        json_t *results = ekv_report_json(e, t, scale, runs, nruns);
        ekv_report_summary(stdout, results);
        int failed = check_asserts(e, results);
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/results.json", out);
        char *text = json_dumps(results, JSON_INDENT(2));
        if (!text || ekv_file_write_atomic(path, text, strlen(text)) != EKV_OK)
            fprintf(stderr, "edgekv: cannot write %s\n", path);
        free(text);
        if (ekv_report_html(out, results) != EKV_OK)
            fprintf(stderr, "edgekv: cannot write %s/report.html\n", out);
        printf("\nresults: %s/results.json\nreport:  %s/report.html\n", out, out);
        json_decref(results);
        rc = check && failed ? 1 : 0;
    }
    for (size_t i = 0; i < nruns; i++) {
        ekv_results_fini(&runs[i].res);
        json_decref(runs[i].extra);
        json_decref(runs[i].pop_extra);
    }
done:
    ekv_state_destroy(&running);
    free(runs);
    ekv_experiment_destroy(&e);
    ekv_topo_destroy(&t);
    return rc;
}
