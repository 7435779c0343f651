/* http_admin: the PoP's own endpoints (not Workers KV):
 *   GET /_edgekv/health             readiness, policy, delay, sequence state, the
 *                                   refresh-ahead settings and the clock (the coordinator's
 *                                   as estimated here: offset_us, rtt_us, samples) (JSON)
 *   GET /stats, /_edgekv/stats      counters, cache, visibility-delay summary (JSON)
 *   GET /metrics                    the same in Prometheus text format, with the clock's
 *                                   offset and round trip (and a tier's CURVE refusals)
 *   GET /_edgekv/visibility?from=I  first-visibility records by insertion index I onwards:
 *                                   {"records": [[seq, commit_us, visible_us, served_us],
 *                                    ...], "next": I', "lost": records already overwritten};
 *                                   served_us: when a read here first returned the change
 *                                   (null: not yet, or no longer known)
 *   POST /_edgekv/fault?partition=1|0[&delay_ms=D][&jitter=SPEC][&loss=P]
 *                                   fault control: cut or restore the link to the coordinator,
 *                                   change the link model on the fly (simulated units)
 *   GET /_edgekv/entries?max=N      digest of the live positive entries (for edgekv verify)
 *                                   and a sample of N entries with their versions
 *   GET /_edgekv/look?ns=NS&key=K   what this PoP would serve for key K (percent-encoded as
 *                                   the binding sends it) now, without fetching and without
 *                                   touching the copy (no LRU move, no read counted):
 *                                   {"state": "fresh"|"stale"|"absent", "fetching" (an
 *                                    origin read of it in flight), "negative", "seq",
 *                                    "commit_us", "age_ms" (since commit), "cached_ms" (since
 *                                    stored), "reads", "expires_in_ms" (until its cacheTtl
 *                                    runs out, negative once stale; null: never), "expiration"}
 *   GET /_edgekv/wait?seq=N[&timeout_ms=T][&served=1]
 *                                   waits until change N is visible here (served=1: until a
 *                                   read here returned it); answers with its commit,
 *                                   visibility and served times (JSON), 504 on timeout
 * Times in replies are real microseconds unless named *_ms (simulated milliseconds). */
#include <event2/buffer.h>
#include <event2/http.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_digest.h"
#include "ekv_err.h"
#include "ekv_kv.h"
#include "ekv_sec.h"
#include "ekv_time.h"
#include "http_text.h"
#include "node_int.h"
#include "replica.h"

static void send_json(struct evhttp_request *req, int status, json_t *j)
{
    node_http_json(req, status, j, 1);
}

/* The core finished a wait: when the change became visible here, or 504. */
static void wait_done(ekv_node_t *n, void *ctx, const node_result_t *r)
{
    (void)n;
    struct evhttp_request *req = ctx;
    uint64_t seq = r->seq;
    const vis_t *v = r->vis;
    if (!v) {
        json_t *j = json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "error", "not visible in time");
        char *text = json_dumps(j, JSON_COMPACT);
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "%s\n", text);
        node_http_send(req, 504, "Not visible in time", b);
        evbuffer_free(b);
        free(text);
        json_decref(j);
        return;
    }
    json_t *j = json_pack("{s:I, s:I, s:I, s:I}", "seq", (json_int_t)seq, "commit_us",
                          (json_int_t)v->commit_us, "visible_us", (json_int_t)v->visible_us,
                          "delay_us", (json_int_t)(v->visible_us - v->commit_us));
    json_object_set_new(j, "served_us",
                        r->served_us ? json_integer((json_int_t)r->served_us) : json_null());
    send_json(req, 200, j);
}

static void do_wait(ekv_node_t *n, struct evhttp_request *req, struct evkeyvalq *q)
{
    const char *s = evhttp_find_header(q, "seq");
    const char *t = evhttp_find_header(q, "timeout_ms");
    const char *sv = evhttp_find_header(q, "served");
    char *end = NULL;
    unsigned long long seq = s ? strtoull(s, &end, 10) : 0;
    long timeout = t ? strtol(t, NULL, 10) : 10000;
    if (!s || *end || seq == 0 || timeout <= 0 || timeout > 600000 ||
        (sv && strcmp(sv, "0") && strcmp(sv, "1"))) {
        node_http_fail(req, 400,
                       "wait needs seq=N (N > 0), timeout_ms in 1..600000 and served=0|1");
        return;
    }
    node_wait(n, seq, sv && sv[0] == '1', (int)timeout, wait_done, req);
}

/* Collectors poll this during a run; the ring keeps the last VIS_RING records. */
static void do_visibility(ekv_node_t *n, struct evhttp_request *req, struct evkeyvalq *q)
{
    const char *f = evhttp_find_header(q, "from");
    uint64_t from = f ? strtoull(f, NULL, 10) : 0, oldest = ekv_vis_oldest(n->vis);
    uint64_t next = ekv_vis_next(n->vis);
    uint64_t lost = from < oldest ? oldest - from : 0;
    if (from < oldest)
        from = oldest;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "{\"records\":[");
    for (uint64_t i = from; i < next; i++) {
        const vis_t *v = ekv_vis_at(n->vis, i);
        int64_t served = ekv_served_at(n->served, v->seq);
        evbuffer_add_printf(b, "%s[%" PRIu64 ",%" PRId64 ",%" PRId64 ",", i > from ? "," : "",
                            v->seq, v->commit_us, v->visible_us);
        if (served)
            evbuffer_add_printf(b, "%" PRId64 "]", served);
        else
            evbuffer_add_printf(b, "null]");
    }
    evbuffer_add_printf(b, "],\"next\":%" PRIu64 ",\"lost\":%" PRIu64 "}\n", next, lost);
    node_http_header(req, "Content-Type", "application/json");
    node_http_send(req, 200, "OK", b);
    evbuffer_free(b);
}

/* The raw (still percent-encoded) value of parameter name in a query string; NULL if none. */
static const char *raw_param(const char *query, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        if (plen > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            *len = plen - nl - 1;
            return p + nl + 1;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* Simulated milliseconds of a real duration in microseconds. */
static json_t *sim_ms(const ekv_node_t *n, int64_t real_us)
{
    return json_real(floor((double)real_us * n->cfg.time_scale) / 1000.0);
}

/* The cached copy of (ns, key) as a read now would find it, peeked: nothing changes. */
static json_t *look_json(ekv_node_t *n, const char *ns, const char *key, size_t klen)
{
    int64_t now = node_now_us(n);
    ekv_cache_item_t it;
    json_t *j = json_pack("{s:s, s:s, s:o}", "pop", n->cfg.name, "policy",
                          ekv_policy_name(n->cfg.policy), "key", node_text_json(key, klen));
    json_object_set_new(
        j, "fetching",
        json_boolean(node_fetching(n, (ekv_bytes_t){ns, strlen(ns)}, (ekv_bytes_t){key, klen})));
    if (ekv_cache_peek(n->cache, (ekv_bytes_t){ns, strlen(ns)}, (ekv_bytes_t){key, klen}, now,
                       &it) != EKV_OK) {
        json_object_set_new(j, "state", json_string("absent"));
        json_object_set_new(j, "negative", json_false());
        const char *none[] = {"seq",   "commit_us",     "age_ms",    "cached_ms",
                              "reads", "expires_in_ms", "expiration"};
        for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
            json_object_set_new(j, none[i], json_null());
        return j;
    }
    int fresh = it.fresh_until_us > now;
    json_object_set_new(j, "state", json_string(fresh ? "fresh" : "stale"));
    json_object_set_new(j, "negative", json_boolean(it.negative));
    json_object_set_new(j, "seq", json_integer((json_int_t)it.seq));
    json_object_set_new(j, "commit_us", json_integer((json_int_t)it.commit_us));
    json_object_set_new(j, "age_ms",
                        it.commit_us > 0 ? sim_ms(n, now - it.commit_us) : json_null());
    json_object_set_new(j, "cached_ms", sim_ms(n, now - it.stored_us));
    json_object_set_new(j, "reads", json_integer((json_int_t)it.reads));
    json_object_set_new(j, "expires_in_ms",
                        it.fresh_until_us == INT64_MAX ? json_null()
                                                       : sim_ms(n, it.fresh_until_us - now));
    json_object_set_new(j, "expiration",
                        it.expiration ? json_integer((json_int_t)it.expiration) : json_null());
    return j;
}

static void do_look(ekv_node_t *n, struct evhttp_request *req, struct evkeyvalq *q)
{
    const char *ns = evhttp_find_header(q, "ns"), *raw;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    size_t rlen = 0, klen = 0;
    char *key = NULL;
    ekv_kv_error_t err = {0};
    ns = ns ? ns : n->cfg.default_ns;
    if (!node_ns_ok(ns, strlen(ns)))
        ekv_kv_err_set(&err, 400, "Invalid namespace id");
    else if (!(raw = raw_param(query, "key", &rlen)))
        ekv_kv_err_set(&err, 400, "look needs key=K (percent-encoded)");
    else if (ekv_kv_decode_key(raw, rlen, &key, &klen, &err) == EKV_OK)
        ekv_kv_check_key(key, klen, &err);
    if (err.status)
        node_http_fail(req, err.status, err.message);
    else
        send_json(req, 200, look_json(n, ns, key, klen));
    free(key);
}

/* A whole decimal number in lo..hi; 0 if so. strtod alone takes "inf", "nan" and 1e300,
 * which no conversion to an integer survives. */
static int parse_real(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = s && *s ? strtod(s, &end) : NAN;
    if (!end || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void do_fault(ekv_node_t *n, struct evhttp_request *req, struct evkeyvalq *q)
{
    const char *part = evhttp_find_header(q, "partition"), *d = evhttp_find_header(q, "delay_ms");
    const char *j = evhttp_find_header(q, "jitter"), *l = evhttp_find_header(q, "loss");
    ekv_link_model_t m = n->cfg.link;
    double delay = 0, loss = 0;
    /* the same range as edgekv-node --delay-ms */
    if ((part && strcmp(part, "0") && strcmp(part, "1")) ||
        (d && parse_real(d, 0, 600000, &delay)) || (j && ekv_link_parse_jitter(j, &m) != 0) ||
        (l && parse_real(l, 0, 0.9, &loss))) {
        node_http_fail(req, 400,
                       "fault takes partition=0|1, delay_ms=0..600000, jitter=SPEC, loss=0..0.9");
        return;
    }
    if (part)
        node_set_partition(n, part[0] == '1');
    if (d || j || l) {
        if (d)
            m.delay_us = (int64_t)(delay * 1000.0);
        if (l)
            m.loss = loss;
        node_set_link(n, &m);
    }
    send_json(req, 200,
              json_pack("{s:b, s:f}", "partitioned", n->partitioned, "delay_ms",
                        n->cfg.link.delay_us / 1000.0));
}

typedef struct {
    uint64_t digest, count; /* digest: XOR over live positive entries */
    json_t *sample;         /* entries: the first `left` entries */
    size_t left;
    int64_t now;
} walk_t;

static int visit(void *arg, ekv_bytes_t ns, ekv_bytes_t key, const ekv_cache_item_t *it)
{
    walk_t *w = arg;
    if (!node_ns_ok(ns.ptr, ns.len))
        return 0; /* cached list replies (kv) live under namespaces no client can name */
    if (!it->negative) {
        w->digest ^= ekv_digest_entry(ns.ptr, ns.len, key.ptr, key.len, it->seq);
        w->count++;
    }
    if (w->sample && w->left > 0) {
        w->left--;
        json_array_append_new(w->sample, json_pack("{s:o, s:o, s:I, s:b, s:b}", "ns",
                                                   node_text_json(ns.ptr, ns.len), "key",
                                                   node_text_json(key.ptr, key.len), "seq",
                                                   (json_int_t)it->seq, "negative", it->negative,
                                                   "fresh", it->fresh_until_us > w->now));
    }
    return 0;
}

/* digest of every live entry, and a sample of entries (most recently used first) */
static void do_entries(ekv_node_t *n, struct evhttp_request *req, struct evkeyvalq *q)
{
    const char *m = evhttp_find_header(q, "max");
    walk_t w = {0, 0, json_array(), m ? strtoul(m, NULL, 10) : 100, node_now_us(n)};
    ekv_cache_visit(n->cache, w.now, visit, &w);
    char d[32];
    snprintf(d, sizeof d, "%016" PRIx64, w.digest);
    send_json(req, 200,
              json_pack("{s:s, s:s, s:I, s:I, s:b, s:o}", "policy", ekv_policy_name(n->cfg.policy),
                        "digest", d, "entries", (json_int_t)w.count, "applied_seq",
                        (json_int_t)ekv_replica_applied(n->replica), "coordinator_up",
                        node_coordinator_up(n), "sample", w.sample));
}

static void do_health(ekv_node_t *n, struct evhttp_request *req)
{
    json_t *j = json_pack(
        "{s:s, s:b, s:b, s:b, s:s, s:f, s:f, s:I, s:I, s:i, s:f}", "name", n->cfg.name, "ready",
        n->ready_written, "coordinator_up", node_coordinator_up(n), "partitioned", n->partitioned,
        "policy", ekv_policy_name(n->cfg.policy), "delay_ms", n->cfg.link.delay_us / 1000.0,
        "time_scale", n->cfg.time_scale, "applied_seq", (json_int_t)ekv_replica_applied(n->replica),
        "announced_seq", (json_int_t)ekv_replica_announced(n->replica), "refresh_hot_reads",
        n->cfg.refresh_hot_reads, "refresh_late", n->cfg.refresh_late);
    /* The coordinator's clock as estimated here: offset = coordinator minus this host. */
    json_object_set_new(j, "clock",
                        json_pack("{s:I, s:I, s:I}", "offset_us",
                                  (json_int_t)ekv_clock_offset_us(&n->clock), "rtt_us",
                                  (json_int_t)ekv_clock_rtt_us(&n->clock), "samples",
                                  (json_int_t)ekv_clock_samples(&n->clock)));
    send_json(req, n->ready_written ? 200 : 503, j);
}

/* The formatter does not settle on one layout for this list. */
/* clang-format off */
#define COUNTERS(X)                                                                               \
    X(hits) X(misses) X(stale_hits) X(coalesced) X(origin_reads) X(origin_writes)                 \
    X(origin_errors) X(unavailable) X(changes_applied) X(changes_ignored) X(gaps) X(catchups)     \
    X(malformed) X(lists) X(bulk_gets) X(refreshes) X(refresh_hits) X(list_hits)               \
    X(list_misses) X(tier_reads) X(tier_hits) X(tier_requests) X(purges) X(rate_limited)
/* clang-format on */

static json_t *stats_json(ekv_node_t *n)
{
    ekv_cache_stats_t cs;
    ekv_cache_stats(n->cache, &cs);
    const ekv_hist_t *h = ekv_vis_delays(n->vis);
    json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "name", n->cfg.name, "policy",
                          ekv_policy_name(n->cfg.policy), "applied_seq",
                          (json_int_t)ekv_replica_applied(n->replica), "announced_seq",
                          (json_int_t)ekv_replica_announced(n->replica));
#define SET(f) json_object_set_new(j, #f, json_integer((json_int_t)n->st.f));
    COUNTERS(SET)
#undef SET
    ekv_replica_stats_t rs;
    ekv_replica_stats(n->replica, &rs);
    json_object_set_new(j, "replica",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "epoch",
                                  (json_int_t)ekv_replica_epoch(n->replica), "catchups_lost",
                                  (json_int_t)rs.lost, "catchups_busy", (json_int_t)rs.busy,
                                  "snapshots", (json_int_t)rs.snapshots, "resyncs",
                                  (json_int_t)rs.resyncs, "max_seq",
                                  (json_int_t)ekv_replica_max(n->replica), "sub_probes",
                                  (json_int_t)rs.probes, "sub_reopens", (json_int_t)rs.reopens));
    json_object_set_new(j, "cache",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "entries", (json_int_t)cs.entries,
                                  "bytes", (json_int_t)cs.bytes, "cap_bytes",
                                  (json_int_t)n->cfg.cache_bytes, "evictions",
                                  (json_int_t)cs.evictions, "expired", (json_int_t)cs.expired));
    json_object_set_new(j, "visibility_us",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", "count", (json_int_t)h->count,
                                  "p50", (json_int_t)ekv_hist_quantile(h, 0.5), "p90",
                                  (json_int_t)ekv_hist_quantile(h, 0.9), "p99",
                                  (json_int_t)ekv_hist_quantile(h, 0.99), "max", (json_int_t)h->max,
                                  "mean", ekv_hist_mean(h)));
    return j;
}

static void do_metrics(ekv_node_t *n, struct evhttp_request *req)
{
    /* HELP texts by counter name (docs/metrics.md); every counter needs one. */
    static const struct {
        const char *name, *help;
    } help[] = {
        {"hits", "Reads served from a fresh cached copy."},
        {"misses", "Reads not served from cache, fetched from origin."},
        {"stale_hits", "Reads served from a copy past its cacheTtl while origin was unreachable."},
        {"coalesced", "Misses that joined a fetch of the same key already under way."},
        {"origin_reads", "Reads sent to origin (the coordinator or the regional tier)."},
        {"origin_writes", "Writes and deletes forwarded to the coordinator."},
        {"origin_errors", "Requests to origin that timed out or failed."},
        {"unavailable", "Requests answered 503 at once: coordinator unreachable."},
        {"changes_applied", "Published changes applied."},
        {"changes_ignored", "Published changes dropped: before the baseline or already applied."},
        {"gaps", "Gaps found in the change sequence."},
        {"catchups", "Catch-up requests sent to fill a gap."},
        {"malformed", "Malformed wire messages received and dropped."},
        {"lists", "List requests served."},
        {"bulk_gets", "Bulk get requests served."},
        {"refreshes", "Background refreshes of hot copies sent (policy kv)."},
        {"refresh_hits", "Hits served from a copy a refresh stored (policy kv)."},
        {"list_hits", "Lists served from the list cache (policy kv)."},
        {"list_misses", "Lists not in the list cache (policy kv)."},
        {"tier_reads", "Origin reads sent to the regional tier."},
        {"tier_hits", "Origin reads the regional tier answered from its cache."},
        {"tier_requests", "Tier role: reads received from PoPs."},
        {"purges", "Tier role, purge on write: copies dropped by changes."},
        {"rate_limited", "Requests answered 429 Too Many Requests (a write over a rate limit)."},
    };
#define ONE(f) +1
    _Static_assert(sizeof help / sizeof *help == 0 COUNTERS(ONE), "a counter without HELP");
#undef ONE
    ekv_cache_stats_t cs;
    ekv_cache_stats(n->cache, &cs);
    ekv_replica_stats_t rs;
    ekv_replica_stats(n->replica, &rs);
    const ekv_hist_t *h = ekv_vis_delays(n->vis);
    struct evbuffer *b = evbuffer_new();
    const char *pop = n->cfg.name;
    const char *text;
#define PROM(f)                                                                                    \
    text = "";                                                                                     \
    for (size_t i = 0; i < sizeof help / sizeof *help; i++)                                        \
        if (!strcmp(help[i].name, #f))                                                             \
            text = help[i].help;                                                                   \
    evbuffer_add_printf(b,                                                                         \
                        "# HELP edgekv_pop_" #f "_total %s\n"                                      \
                        "# TYPE edgekv_pop_" #f "_total counter\n"                                 \
                        "edgekv_pop_" #f "_total{pop=\"%s\"} %" PRIu64 "\n",                       \
                        text, pop, n->st.f);
    COUNTERS(PROM)
#undef PROM
    evbuffer_add_printf(
        b,
        "# HELP edgekv_pop_cache_entries Entries in the cache.\n"
        "# TYPE edgekv_pop_cache_entries gauge\nedgekv_pop_cache_entries{pop=\"%s\"} %" PRIu64 "\n"
        "# HELP edgekv_pop_cache_bytes Bytes the cache holds, as its cap counts them.\n"
        "# TYPE edgekv_pop_cache_bytes gauge\nedgekv_pop_cache_bytes{pop=\"%s\"} %" PRIu64 "\n"
        "# HELP edgekv_pop_cache_evictions_total Entries evicted to stay under the cap.\n"
        "# TYPE edgekv_pop_cache_evictions_total counter\n"
        "edgekv_pop_cache_evictions_total{pop=\"%s\"} %" PRIu64 "\n"
        "# HELP edgekv_pop_applied_sequence The last change sequence number applied.\n"
        "# TYPE edgekv_pop_applied_sequence gauge\n"
        "edgekv_pop_applied_sequence{pop=\"%s\"} %" PRIu64 "\n"
        "# HELP edgekv_pop_sub_probes_total Hellos sent because the subscription was silent.\n"
        "# TYPE edgekv_pop_sub_probes_total counter\n"
        "edgekv_pop_sub_probes_total{pop=\"%s\"} %" PRIu64 "\n"
        "# HELP edgekv_pop_sub_reopens_total Subscriptions reopened: silent while the "
        "coordinator answered.\n"
        "# TYPE edgekv_pop_sub_reopens_total counter\n"
        "edgekv_pop_sub_reopens_total{pop=\"%s\"} %" PRIu64 "\n"
        "# HELP edgekv_pop_visibility_seconds Real seconds from a change's commit to its "
        "visibility here.\n"
        "# TYPE edgekv_pop_visibility_seconds summary\n",
        pop, cs.entries, pop, cs.bytes, pop, cs.evictions, pop, ekv_replica_applied(n->replica),
        pop, rs.probes, pop, rs.reopens);
    static const double qs[] = {0.5, 0.9, 0.99, 1.0};
    for (int i = 0; i < 4; i++)
        evbuffer_add_printf(b, "edgekv_pop_visibility_seconds{pop=\"%s\",quantile=\"%g\"} %.6f\n",
                            pop, qs[i], ekv_hist_quantile(h, qs[i]) / 1e6);
    evbuffer_add_printf(b,
                        "edgekv_pop_visibility_seconds_sum{pop=\"%s\"} %.6f\n"
                        "edgekv_pop_visibility_seconds_count{pop=\"%s\"} %" PRIu64 "\n",
                        pop, h->sum / 1e6, pop, h->count);
    evbuffer_add_printf(
        b,
        /* Seconds, as Prometheus names units (promtool refuses _us), to the microsecond. */
        "# HELP edgekv_pop_clock_offset_seconds The coordinator's clock minus this host's, as "
        "estimated.\n"
        "# TYPE edgekv_pop_clock_offset_seconds gauge\n"
        "edgekv_pop_clock_offset_seconds{pop=\"%s\"} %.6f\n"
        "# HELP edgekv_pop_clock_rtt_seconds Round trip of the clock sample the estimate is "
        "from.\n"
        "# TYPE edgekv_pop_clock_rtt_seconds gauge\n"
        "edgekv_pop_clock_rtt_seconds{pop=\"%s\"} %.6f\n",
        pop, (double)ekv_clock_offset_us(&n->clock) / 1e6, pop,
        (double)ekv_clock_rtt_us(&n->clock) / 1e6);
    if (n->cfg.tier_role)
        evbuffer_add_printf(b,
                            "# HELP edgekv_zap_denied_total CURVE clients refused: not the "
                            "world's client key.\n"
                            "# TYPE edgekv_zap_denied_total counter\n"
                            "edgekv_zap_denied_total{pop=\"%s\"} %" PRIu64 "\n",
                            pop, ekv_zap_denied(n->zap));
    node_http_header(req, "Content-Type", "text/plain; version=0.0.4");
    node_http_send(req, 200, "OK", b);
    evbuffer_free(b);
}

int node_http_admin(ekv_node_t *n, struct evhttp_request *req, const char *path,
                    struct evkeyvalq *q)
{
    if (!strcmp(path, "/_edgekv/fault") && evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
        do_fault(n, req, q);
        return 1;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET)
        return 0;
    if (!strcmp(path, "/_edgekv/health"))
        do_health(n, req);
    else if (!strcmp(path, "/stats") || !strcmp(path, "/_edgekv/stats"))
        send_json(req, 200, stats_json(n));
    else if (!strcmp(path, "/metrics"))
        do_metrics(n, req);
    else if (!strcmp(path, "/_edgekv/wait"))
        do_wait(n, req, q);
    else if (!strcmp(path, "/_edgekv/visibility"))
        do_visibility(n, req, q);
    else if (!strcmp(path, "/_edgekv/entries"))
        do_entries(n, req, q);
    else if (!strcmp(path, "/_edgekv/look"))
        do_look(n, req, q);
    else if (!strncmp(path, "/_edgekv/", 9))
        node_http_fail(req, 404, "Unknown edgekv endpoint");
    else
        return 0;
    return 1;
}
