/* ui_poll: how `edgekv ui` keeps up with the world without the browser polling it.
 *
 * Three kinds of request, each on a keep-alive connection of the server's own per node:
 *   - /_edgekv/look of the watched key and /stats (rates, and the 429s summed over the world),
 *     every period_us when nothing happens
 *     (max(1 s, nodes / 15 s): 300 nodes cost 30 small requests a second in all), and a look
 *     again when a copy's cacheTtl runs out, so the page sees it go stale on time; nothing
 *     while no page is open;
 *   - one long-polled /_edgekv/wait for the next sequence on one node (the detector): a
 *     write made anywhere, by the page or not, answers it at once, at no cost while idle;
 *   - for the write followed (a "wave"), a /_edgekv/wait of its sequence on every node,
 *     answered when it arrives there, followed at once by a look: under push that look shows
 *     the node serving it; under kv and ttl the node's older copy keeps being served until it
 *     expires, when the look scheduled for then shows it.
 * And one of the coordinator's: a REST read of the watched key, for its version (key_seq), when
 * the key changes or the detector sees a write, which may be of any key (one at a time).
 * A node that does not answer (stopped, killed, partitioned from nothing: the link fault
 * cuts the coordinator, not us) is shown as not answering; its connection retries at the
 * next period. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_kv.h"
#include "ekv_time.h"
#include "look.h"
#include "ui_int.h"

#define CONN_TIMEOUT_S 3
#define WAIT_MS        60000 /* a wave's waits: longer than any test's partition */
#define DETECT_MS      30000
#define TICK_US        50000
#define FETCH_LOOK_US  250000 /* looks while a node fetches the key */

/* A new connection to a node's (or the coordinator's) HTTP address; NULL when unusable. */
static struct evhttp_connection *connect_url(ui_t *ui, const char *url, int timeout_s)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    int port = u ? evhttp_uri_get_port(u) : -1;
    struct evhttp_connection *c = NULL;
    if (host && port > 0) {
        c = evhttp_connection_base_new(ui->base, NULL, host, (uint16_t)port);
        evhttp_connection_set_timeout(c, timeout_s);
        evhttp_connection_set_retries(c, 0);
    }
    if (u)
        evhttp_uri_free(u);
    return c;
}

/* Sends GET path on *conn (made on first use); 0 when sent. */
static int get(ui_t *ui, ui_node_t *nd, struct evhttp_connection **conn, int timeout_s,
               const char *path, void (*cb)(struct evhttp_request *, void *), void *arg)
{
    if (!*conn && !(*conn = connect_url(ui, nd->proc->url, timeout_s)))
        return -1;
    struct evhttp_request *req = evhttp_request_new(cb, arg);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
    ui_add_auth(ui, req);
    return evhttp_make_request(*conn, req, EVHTTP_REQ_GET, path) == 0 ? 0 : -1;
}

/* The reply's JSON when it is a 200 with a JSON object, else NULL (the caller decrefs). */
static json_t *reply_json(struct evhttp_request *req)
{
    if (!req || evhttp_request_get_response_code(req) != 200)
        return NULL;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
    json_t *j = p ? json_loadb(p, len, 0, NULL) : NULL;
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static long long jint(json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* The next look: at the period, or when the copy's cacheTtl runs out if that comes first
 * (its expiry is in simulated ms: real = simulated / time_scale), or soon while it fetches. */
static int64_t next_look_in(const ui_t *ui, const ui_node_t *nd)
{
    int64_t in = ui->period_us;
    if (!strcmp(nd->state, "fresh") && nd->expires_us) {
        int64_t e = nd->expires_us - ekv_now_us() + 20000;
        if (e < in)
            in = e < 20000 ? 20000 : e;
    }
    if (nd->fetching && in > FETCH_LOOK_US) /* the page sees the fetch end soon */
        in = FETCH_LOOK_US;
    return in;
}

/* When node nd started serving the followed write, now that a look shows it does: under push,
 * push-all and invalidate from its arrival (ARCHITECTURE: Visibility); under ttl and kv a read
 * there may have fetched it before we looked, which the page cannot know: from now. */
static int64_t serving_since(const ui_node_t *nd)
{
    const char *p = nd->proc->policy;
    int push = !nd->tier && (!strncmp(p, "push", 4) || !strcmp(p, "invalidate"));
    return push && nd->arrived_us ? nd->arrived_us : ekv_now_us();
}

static void on_look(struct evhttp_request *req, void *arg)
{
    ui_node_t *nd = arg;
    ui_t *ui = nd->ui;
    nd->busy--;
    json_t *j = reply_json(req);
    if (!j) {
        nd->dirty |= nd->answered;
        nd->answered = 0;
        nd->next_look = ekv_mono_us() + ui->period_us;
        return;
    }
    const char *s = json_string_value(json_object_get(j, "state"));
    json_t *exp = json_object_get(j, "expires_in_ms");
    /* the expiry as a moment (real time), so that a look that finds the same copy changes
     * nothing and sends nothing; 1 ms of rounding is not a change */
    int64_t expires =
        json_is_number(exp)
            ? ekv_now_us() + (int64_t)(json_number_value(exp) / ui->st->time_scale * 1000.0)
            : 0;
    long long seq = jint(j, "seq");
    int neg = json_is_true(json_object_get(j, "negative"));
    int fetching = json_is_true(json_object_get(j, "fetching"));
    int64_t de = expires - nd->expires_us;
    nd->dirty |= !nd->answered || strcmp(nd->state, s ? s : "") || seq != nd->seq ||
                 neg != nd->negative || fetching != nd->fetching || de > 1000 || de < -1000;
    snprintf(nd->state, sizeof nd->state, "%s", s ? s : "");
    nd->seq = seq;
    nd->negative = neg;
    nd->fetching = fetching;
    nd->commit_us = jint(j, "commit_us");
    nd->expires_us = expires;
    nd->answered = 1;
    if (ui->wave_seq && !nd->serving_us && !strcmp(nd->state, "fresh") && nd->seq >= ui->wave_seq)
        nd->serving_us = serving_since(nd);
    nd->next_look = ekv_mono_us() + next_look_in(ui, nd);
    json_decref(j);
}

void ui_poll_look_now(ui_t *ui, size_t i)
{
    ui_node_t *nd = &ui->nodes[i];
    if (!ui->key[0])
        return;
    char ekey[UI_KEY_MAX * 3 + 1], path[UI_KEY_MAX * 3 + 64];
    ekv_look_pct(ekey, sizeof ekey, ui->key);
    snprintf(path, sizeof path, "/_edgekv/look?key=%s", ekey);
    nd->next_look = ekv_mono_us() + ui->period_us; /* until it answers */
    if (get(ui, nd, &nd->conn, CONN_TIMEOUT_S, path, on_look, nd) == 0)
        nd->busy++;
}

/* Per-second rate of a counter that went from *old to now over dt seconds. */
static double rate(uint64_t *old, uint64_t now, double dt, int first)
{
    double r = first || now < *old || dt <= 0 ? 0 : (double)(now - *old) / dt;
    *old = now;
    return r;
}

/* The world's 429s: every node's counter summed as it grows, so the total never goes back
 * when a node restarts (its counter starts again at 0; what it counted since is added). */
static void count_429s(ui_t *ui, ui_node_t *nd, uint64_t now)
{
    if (now == nd->rate_limited)
        return;
    ui->rate_limited += now > nd->rate_limited ? now - nd->rate_limited : now;
    nd->rate_limited = now;
    nd->dirty = 1;
    ui->world_dirty = 1;
}

static void on_stats(struct evhttp_request *req, void *arg)
{
    ui_node_t *nd = arg;
    ui_t *ui = nd->ui;
    nd->busy--;
    json_t *j = reply_json(req);
    int64_t mono = ekv_mono_us();
    nd->next_stats = mono + ui->period_us;
    if (!j) {
        nd->dirty |= nd->answered;
        nd->answered = 0;
        if (!nd->fault[0] && !ui->st->remote && !ekv_proc_alive(nd->proc)) /* attached: no pid */
            snprintf(nd->fault, sizeof nd->fault, "down");
        return;
    }
    int first = nd->stats_at == 0;
    double dt = (double)(mono - nd->stats_at) / 1e6;
    uint64_t hits = (uint64_t)jint(j, "hits"), stale = (uint64_t)jint(j, "stale_hits");
    uint64_t reads = hits + stale + (uint64_t)jint(j, "misses");
    uint64_t old_reads = nd->reads, old_hits = nd->hits;
    double old_rates = nd->rps + nd->stale_ps + nd->unavail_ps;
    nd->rps = rate(&nd->reads, reads, dt, first);
    nd->stale_ps = rate(&nd->stale, stale, dt, first);
    nd->unavail_ps = rate(&nd->unavailable, (uint64_t)jint(j, "unavailable"), dt, first);
    nd->hits = hits;
    count_429s(ui, nd, (uint64_t)jint(j, "rate_limited"));
    /* the hit ratio of the reads since the last poll; the last one stays when none came */
    if (!first && reads > old_reads)
        nd->hit_ratio = (double)(hits - old_hits + 0.0) / (double)(reads - old_reads);
    nd->stats_at = mono;
    /* idle nodes send nothing: only a change of rates (or of answering) is news */
    nd->dirty |= !nd->answered || old_rates != nd->rps + nd->stale_ps + nd->unavail_ps;
    nd->answered = 1;
    /* the detector starts from the sequence the world is at */
    long long applied = jint(j, "applied_seq");
    if (applied > ui->known_seq && (size_t)nd->id == ui->dnode && !ui->detecting)
        ui->known_seq = applied;
    json_decref(j);
}

static void on_wait(struct evhttp_request *req, void *arg)
{
    ui_node_t *nd = arg;
    nd->waiting = 0;
    json_t *j = reply_json(req);
    if (!j)
        return; /* not in time, or no answer: the page shows no arrival */
    ui_t *ui = nd->ui;
    if (jint(j, "seq") == ui->wave_seq && !nd->arrived_us) {
        nd->arrived_us = jint(j, "visible_us");
        nd->dirty = 1;
        /* Under push and push-all a change replaces the cached copy as it arrives (push-all
         * stores it even without one): when the write is of the watched key the node serves
         * it from now, and the look that follows confirms it. */
        const char *p = nd->proc->policy;
        if (ui->wave_watched && !nd->tier &&
            (!strcmp(p, "push-all") || (!strcmp(p, "push") && !strcmp(nd->state, "fresh")))) {
            snprintf(nd->state, sizeof nd->state, "fresh");
            nd->seq = ui->wave_seq;
            nd->negative = 0;
            nd->commit_us = ui->wave_commit_us;
            nd->serving_us = nd->arrived_us;
        }
        ui_flush_soon(ui);
        ui_poll_look_now(ui, (size_t)nd->id);
    }
    json_decref(j);
}

void ui_poll_reset(ui_node_t *nd)
{
    /* libevent frees the requests in flight without calling them back */
    if (nd->conn)
        evhttp_connection_free(nd->conn);
    if (nd->wconn)
        evhttp_connection_free(nd->wconn);
    nd->conn = nd->wconn = NULL;
    nd->busy = nd->waiting = 0;
    nd->next_look = nd->next_stats = 0;
    nd->stats_at = 0;
    nd->rate_limited = 0; /* a restarted process counts from 0 */
}

/* ---- the watched key's version at the coordinator ------------------------------------------ */

static void ask_key_seq(ui_t *ui);

static void on_key_seq(struct evhttp_request *req, void *arg)
{
    ui_t *ui = arg;
    ui->key_asking = 0;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    const char *ver =
        code == 200 ? evhttp_find_header(evhttp_request_get_input_headers(req), "X-Edgekv-Version")
                    : NULL;
    /* an answer to an older question (another key, or before the page's write) is dropped */
    if (ui->key_asked_gen == ui->key_gen && (ver || code == 404)) {
        long long v = ver ? strtoll(ver, NULL, 10) : 0;
        /* asked after the write was committed: an older version (or none, where there was
         * none before) means it was not a write of the key; a newer one says nothing (written
         * again since), nor does none where there was one (deleted: by this write?) */
        if (ui->key_asked_wave == ui->wave_seq)
            ui->wave_other = ui->wave_seq > 0 && v < ui->wave_seq && (v > 0 || !ui->key_seq);
        ui->key_seq = v;
        ui->wave_watched = ui->wave_seq > 0 && v == ui->wave_seq;
        ui->world_dirty = 1;
        ui_flush_soon(ui);
    } else if (!ver && code != 404) {
        fprintf(stderr, "edgekv ui: the coordinator answered %d for the watched key\n", code);
    }
    if (ui->key_again)
        ask_key_seq(ui);
}

/* One REST read of the watched key at the coordinator (its version is in X-Edgekv-Version, a
 * 404 is none), as `edgekv look` makes; a second question while it is out waits for it. */
static void ask_key_seq(ui_t *ui)
{
    ui->key_again = 0;
    if (!ui->key[0])
        return;
    if (ui->nclients == 0) { /* nobody to show it to: asked when a page comes (on_tick) */
        ui->key_stale = 1;
        return;
    }
    ui->key_stale = 0;
    if (ui->key_asking) {
        ui->key_again = 1;
        return;
    }
    if (!ui->cconn && !(ui->cconn = connect_url(ui, ui->st->coord.url, CONN_TIMEOUT_S)))
        return;
    char ekey[UI_KEY_MAX * 3 + 1], path[UI_KEY_MAX * 3 + 128];
    ekv_look_pct(ekey, sizeof ekey, ui->key);
    snprintf(path, sizeof path, "/client/v4/accounts/look/storage/kv/namespaces/%s/values/%s",
             EKV_KV_DEFAULT_NS, ekey);
    struct evhttp_request *req = evhttp_request_new(on_key_seq, ui);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
    ui_add_auth(ui, req);
    ui->key_asked_gen = ui->key_gen;
    ui->key_asked_wave = ui->wave_seq;
    ui->key_asking = evhttp_make_request(ui->cconn, req, EVHTTP_REQ_GET, path) == 0;
}

void ui_poll_key_changed(ui_t *ui)
{
    ui->key_gen++;
    ui->key_seq = 0;
    ui->wave_watched = ui->wave_other = 0;
    ui->world_dirty = 1;
    ask_key_seq(ui);
}

/* ---- the write followed -------------------------------------------------------------------- */

void ui_poll_wave(ui_t *ui, long long seq, int64_t commit_us, const char *from, int watched)
{
    if (seq <= 0 || seq < ui->wave_seq)
        return;
    if (watched && seq > ui->key_seq) { /* the page's write: its answer is the newest */
        ui->key_seq = seq;
        ui->key_gen++;
    }
    if (seq == ui->wave_seq) { /* the detector saw the page's own write first: say whose */
        snprintf(ui->wave_from, sizeof ui->wave_from, "%s", from);
        ui->wave_watched = ui->key_seq == seq;
        ui->wave_other &= !ui->wave_watched;
        ui->world_dirty = 1;
        return;
    }
    ui->wave_seq = seq;
    ui->wave_commit_us = commit_us;
    ui->wave_started_us = ekv_now_us();
    snprintf(ui->wave_from, sizeof ui->wave_from, "%s", from);
    ui->wave_watched = ui->key_seq == seq;
    ui->wave_other = 0;
    if (!ui->wave_watched) /* of the watched key, or of another: the coordinator knows */
        ask_key_seq(ui);
    if (seq > ui->known_seq)
        ui->known_seq = seq;
    ui->world_dirty = 1;
    char path[96];
    snprintf(path, sizeof path, "/_edgekv/wait?seq=%lld&timeout_ms=%d", seq, WAIT_MS);
    for (size_t i = 0; i < ui->n; i++) {
        ui_node_t *nd = &ui->nodes[i];
        nd->arrived_us = nd->serving_us = 0;
        nd->dirty = 1;
        if (nd->waiting && nd->wconn) { /* the older write's wait goes */
            evhttp_connection_free(nd->wconn);
            nd->wconn = NULL;
        }
        nd->waiting = get(ui, nd, &nd->wconn, WAIT_MS / 1000 + 5, path, on_wait, nd) == 0;
    }
}

static void detect(ui_t *ui);

static void on_detect(struct evhttp_request *req, void *arg)
{
    ui_t *ui = arg;
    ui->detecting = 0;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    json_t *j = reply_json(req);
    if (j) {
        long long seq = jint(j, "seq");
        if (seq > ui->known_seq)
            ui->known_seq = seq;
        if (seq > ui->wave_seq)
            ui_poll_wave(ui, seq, jint(j, "commit_us"), "elsewhere", 0);
        json_decref(j);
    } else if (code != 504) {
        /* no answer: ask the next node after a second, on a new connection (freed then, not
         * here: libevent may still use this one when this callback returns) */
        ui->dnode = (ui->dnode + 1) % ui->n;
        ui->detect_retry = ekv_mono_us() + 1000000;
        ui->dconn_drop = 1;
        return;
    }
    detect(ui);
}

static void detect(ui_t *ui)
{
    if (ui->detecting || ui->known_seq < 0 || ekv_mono_us() < ui->detect_retry)
        return;
    if (ui->dconn_drop && ui->dconn)
        evhttp_connection_free(ui->dconn);
    if (ui->dconn_drop)
        ui->dconn = NULL;
    ui->dconn_drop = 0;
    char path[96];
    snprintf(path, sizeof path, "/_edgekv/wait?seq=%lld&timeout_ms=%d", ui->known_seq + 1,
             DETECT_MS);
    ui->detecting =
        get(ui, &ui->nodes[ui->dnode], &ui->dconn, DETECT_MS / 1000 + 5, path, on_detect, ui) == 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ui_t *ui = arg;
    int64_t mono = ekv_mono_us();
    if (ui->key_stale && ui->nclients > 0)
        ask_key_seq(ui);
    /* with no page open nothing is asked but the detector (the followed write is kept) */
    for (size_t i = 0; ui->nclients > 0 && i < ui->n; i++) {
        ui_node_t *nd = &ui->nodes[i];
        if (nd->busy)
            continue;
        if (ui->key[0] && nd->next_look <= mono)
            ui_poll_look_now(ui, i);
        if (nd->next_stats <= mono) {
            nd->next_stats = mono + ui->period_us;
            if (get(ui, nd, &nd->conn, CONN_TIMEOUT_S, "/stats", on_stats, nd) == 0)
                nd->busy++;
        }
    }
    detect(ui);
}

void ui_poll_start(ui_t *ui)
{
    /* spread the first requests over one period so they do not all come at once */
    int64_t mono = ekv_mono_us();
    ui->known_seq = -1; /* until a stats says (a new world is at 0: its first write counts) */
    for (size_t i = 0; i < ui->n; i++)
        ui->nodes[i].next_look = ui->nodes[i].next_stats =
            mono + (int64_t)((double)ui->period_us * (double)i / (double)ui->n);
    ui->nodes[0].next_stats = mono; /* the detector's node first: it gives the sequence */
    ui->tick = event_new(ui->base, -1, EV_PERSIST, on_tick, ui);
    struct timeval tv = {0, TICK_US};
    event_add(ui->tick, &tv);
}

void ui_poll_stop(ui_t *ui)
{
    if (ui->tick)
        event_free(ui->tick);
    ui->tick = NULL;
    for (size_t i = 0; i < ui->n; i++)
        ui_poll_reset(&ui->nodes[i]);
    if (ui->dconn)
        evhttp_connection_free(ui->dconn);
    ui->dconn = NULL;
    if (ui->cconn)
        evhttp_connection_free(ui->cconn);
    ui->cconn = NULL;
}
