/* export: a topology as Kubernetes, podman or compose manifests (see export.h).
 *
 * YAML is written as text: every string that comes from the user (names, image, topology)
 * goes out JSON-quoted, which YAML reads as the same string. Numbers of the options files are
 * formatted as sim/launch_nodes.c and sim/launch.c format them for `edgekv up`. */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ekv_base64.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"

#define OPTS_DIR "/etc/edgekv" /* where each container finds its options file */
#define BIN_DIR  "/usr/local/bin"

/* Fixed ports of k8s and compose (a pod or container of its own per daemon). */
#define COORD_HTTP   8780
#define COORD_PUB    8781
#define COORD_ROUTER 8782
#define TIER_SERVE   8790
#define TIER_HTTP    8800
#define POP_HTTP     8801
#define MAX_TIERS    40 /* podman: tier i serves on base + 50 + i, below the PoPs' base + 100 */

typedef enum { ROLE_COORD, ROLE_TIER, ROLE_POP } role_t;

/* One daemon of the world as the engine runs it. */
typedef struct {
    role_t role;
    char id[80];      /* "coordinator", "tier-NAME", "pop-NAME": container, file, service */
    char object[160]; /* k8s: NAME-id, its Deployment's (or StatefulSet's) and Service's name */
    int http;         /* its HTTP port inside its pod */
    int serve;        /* tier: its serve port; coordinator: PUB (ROUTER is PUB + 1) */
    int host_port;    /* podman, compose: its HTTP on 127.0.0.1 of the machine */
    char url[200];    /* world.json: where the CLI reaches it */
    char *options;    /* its options file */
    size_t index;     /* tier or PoP index in the topology */
} daemon_t;

typedef struct {
    const ekv_topo_t *t;
    const ekv_export_opts_t *o;
    daemon_t *d; /* coordinator, tiers, PoPs */
    size_t n;
} world_t;

static int problem(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int problem(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* s JSON-quoted (YAML reads a JSON string as the same string). */
static void q(FILE *f, const char *s)
{
    json_t *j = json_string(s);
    char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    fputs(text ? text : "\"\"", f);
    free(text);
    json_decref(j);
}

/* A line indented by ind spaces. */
static void line(FILE *f, int ind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void line(FILE *f, int ind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(f, "%*s", ind, "");
    vfprintf(f, fmt, ap);
    va_end(ap);
}

static int is_k8s(const world_t *w)
{
    return w->o->kind == EKV_EXPORT_K8S;
}

static int is_podman(const world_t *w)
{
    return w->o->kind == EKV_EXPORT_PODMAN;
}

/* The name other daemons reach d by: its Service (k8s), its compose service, or 127.0.0.1
 * (podman: one pod, one network namespace). */
static void reach(const world_t *w, const daemon_t *d, char *buf, size_t len)
{
    snprintf(buf, len, "%s", is_k8s(w) ? d->object : is_podman(w) ? "127.0.0.1" : d->id);
}

/* Where d's ZeroMQ socket binds: a port of its own pod's loopback (podman), else any. */
static void zbind(const world_t *w, int port, char *buf, size_t len)
{
    snprintf(buf, len, "tcp://%s:%d", is_podman(w) ? "127.0.0.1" : "*", port);
}

/* One option line. */
static void opt(FILE *f, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void opt(FILE *f, const char *name, const char *fmt, ...)
{
    fprintf(f, "--%s", name);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputc(' ', f);
        vfprintf(f, fmt, ap);
        va_end(ap);
    }
    fputc('\n', f);
}

/* The settings every node (PoP or tier) gets from the topology's defaults, as up passes them. */
static void node_common(FILE *f, const ekv_topo_t *t, int host_index)
{
    opt(f, "cache-mb", "%d", (int)ceil(t->cache_mb));
    opt(f, "time-scale", "%g", t->time_scale);
    opt(f, "rto-ms", "%g", t->rto_ms);
    opt(f, "min-cache-ttl", "%d", (int)t->min_cache_ttl);
    /* the coordinator counts as gone after 1 s or three missed heartbeats */
    opt(f, "coordinator-timeout-ms", "%ld", lround(fmax(1000, 3 * t->coord.heartbeat_ms)));
    opt(f, "refresh-hot-reads", "%d", t->refresh_hot_reads);
    opt(f, "refresh-late", "%g", t->refresh_late);
    if (t->hosts[host_index].skew_ms != 0)
        opt(f, "clock-skew-ms", "%g", t->hosts[host_index].skew_ms);
}

static char *coord_options(const world_t *w, const daemon_t *d)
{
    const ekv_topo_t *t = w->t;
    const ekv_topo_coord_t *c = &t->coord;
    char *text = NULL, pub[64], router[64];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f, "# edgekv-coordinator: what `edgekv up` passes, with the cluster's addresses\n");
    opt(f, "data", "/data/db");
    zbind(w, d->serve, pub, sizeof pub);
    zbind(w, d->serve + 1, router, sizeof router);
    if (strcmp(c->transport.kind, "tcp") != 0)
        fprintf(f, "# transport %s: published over tcp here (no multicast between pods)\n",
                c->transport.kind);
    opt(f, "pub", "%s", pub);
    opt(f, "router", "%s", router);
    opt(f, "http", "0.0.0.0:%d", d->http);
    /* the same-key limit is in simulated time (as up: at least 1 when it is on) */
    long rate = lround(t->write_rate_limit * t->time_scale);
    opt(f, "write-rate-limit", "%ld", t->write_rate_limit > 0 && rate < 1 ? 1L : rate);
    opt(f, "heartbeat-ms", "%ld", lround(c->heartbeat_ms));
    opt(f, "durability", "%s", c->durability);
    opt(f, "time-scale", "%g", t->time_scale);
    opt(f, "api-rate-limit", "%ld",
        c->api_rate_limit > 0 ? lround(fmin(1e8, fmax(1, c->api_rate_limit * t->time_scale))) : 0L);
    if (t->hosts[c->host_index].skew_ms != 0)
        opt(f, "clock-skew-ms", "%g", t->hosts[c->host_index].skew_ms);
    fclose(f);
    return text;
}

/* The coordinator's PUB and ROUTER as a node connects to them. */
static void coord_links(const world_t *w, FILE *f)
{
    char host[160];
    reach(w, &w->d[0], host, sizeof host);
    opt(f, "pub", "tcp://%s:%d", host, w->d[0].serve);
    opt(f, "router", "tcp://%s:%d", host, w->d[0].serve + 1);
}

static char *tier_options(const world_t *w, const daemon_t *d)
{
    const ekv_topo_t *t = w->t;
    const ekv_topo_tier_t *tt = &t->tiers[d->index];
    char *text = NULL, serve[64];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f, "# edgekv-node, tier %s: what `edgekv up` passes, with the cluster's addresses\n",
            tt->name);
    opt(f, "role", "tier");
    opt(f, "name", "%s", tt->name);
    opt(f, "http", "0.0.0.0:%d", d->http);
    coord_links(w, f);
    zbind(w, d->serve, serve, sizeof serve);
    opt(f, "serve", "%s", serve);
    opt(f, "delay-ms", "%.4f", ekv_topo_tier_delay_ms(t, tt));
    opt(f, "policy", "kv");
    opt(f, "tier-cache-ttl", "%ld", lround(ekv_topo_tier_cache_ttl(t, tt)));
    opt(f, "jitter", "%s", t->jitter);
    opt(f, "loss", "%g", t->loss);
    opt(f, "seed", "%ld", t->seed + (long)t->npops + (long)d->index);
    if (t->tier_purge_on_write)
        opt(f, "purge-on-write", NULL);
    node_common(f, t, tt->host_index);
    fclose(f);
    return text;
}

static const daemon_t *tier_daemon(const world_t *w, const ekv_topo_tier_t *tier)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->d[i].role == ROLE_TIER && &w->t->tiers[w->d[i].index] == tier)
            return &w->d[i];
    return NULL;
}

static char *pop_options(const world_t *w, const daemon_t *d)
{
    const ekv_topo_t *t = w->t;
    const ekv_topo_pop_t *tp = &t->pops[d->index];
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f, "# edgekv-node, PoP %s: what `edgekv up` passes, with the cluster's addresses\n",
            tp->name);
    opt(f, "name", "%s", tp->name);
    opt(f, "http", "0.0.0.0:%d", d->http);
    coord_links(w, f);
    opt(f, "delay-ms", "%.4f", ekv_topo_delay_ms(t, tp)); /* simulated: the node scales */
    opt(f, "policy", "%s", ekv_topo_policy(t, tp));
    opt(f, "jitter", "%s", ekv_topo_jitter(t, tp));
    opt(f, "loss", "%g", ekv_topo_loss(t, tp));
    opt(f, "seed", "%ld", t->seed + (long)d->index);
    node_common(f, t, tp->host_index);
    /* its reads go through its tier */
    const ekv_topo_tier_t *tier = ekv_topo_pop_tier(t, tp);
    const daemon_t *td = tier ? tier_daemon(w, tier) : NULL;
    if (td) {
        char host[160];
        reach(w, td, host, sizeof host);
        opt(f, "tier", "tcp://%s:%d", host, td->serve);
        opt(f, "tier-delay-ms", "%.4f", ekv_topo_pop_tier_delay_ms(t, tp, tier));
    }
    fclose(f);
    return text;
}

/* Names, ports and URLs of every daemon; then their options. */
static int plan(world_t *w, char *err, size_t errlen)
{
    const ekv_topo_t *t = w->t;
    const ekv_export_opts_t *o = w->o;
    int base = o->port_base;
    if (t->ntiers > MAX_TIERS)
        return problem(err, errlen, EKV_EINVAL, "export handles up to %d tiers (this has %zu)",
                       MAX_TIERS, t->ntiers);
    if (o->kind != EKV_EXPORT_K8S && (base < 1024 || base + 100 + (long)t->npops > 65535))
        return problem(err, errlen, EKV_EINVAL,
                       "--port-base %d: the ports %d..%ld must lie in 1024..65535", base, base,
                       base + 100 + (long)t->npops - 1);
    w->n = 1 + t->ntiers + t->npops;
    w->d = ekv_calloc(w->n, sizeof *w->d);
    for (size_t i = 0; i < w->n; i++) {
        daemon_t *d = &w->d[i];
        int tier = i >= 1 && i < 1 + t->ntiers;
        d->role = i == 0 ? ROLE_COORD : tier ? ROLE_TIER : ROLE_POP;
        d->index = d->role == ROLE_COORD ? 0 : tier ? i - 1 : i - 1 - t->ntiers;
        if (d->role == ROLE_COORD)
            snprintf(d->id, sizeof d->id, "coordinator");
        else
            snprintf(d->id, sizeof d->id, "%s-%s", tier ? "tier" : "pop",
                     tier ? t->tiers[d->index].name : t->pops[d->index].name);
        snprintf(d->object, sizeof d->object, "%s-%s", o->name, d->id);
        if (is_podman(w)) { /* one pod: every port its own */
            int off = d->role == ROLE_COORD ? 0 : tier ? 10 + (int)d->index : 100 + (int)d->index;
            d->http = d->host_port = base + off;
            d->serve = d->role == ROLE_COORD ? base + 1 : base + 50 + (int)d->index;
        } else {
            d->http = d->role == ROLE_COORD ? COORD_HTTP : tier ? TIER_HTTP : POP_HTTP;
            d->serve = d->role == ROLE_COORD ? COORD_PUB : TIER_SERVE;
            d->host_port = base + (d->role == ROLE_COORD ? 0
                                   : tier                ? 10 + (int)d->index
                                                         : 100 + (int)d->index);
        }
        if (is_k8s(w))
            snprintf(d->url, sizeof d->url, "http://%s:%d", d->object, d->http);
        else
            snprintf(d->url, sizeof d->url, "http://127.0.0.1:%d", d->host_port);
    }
    for (size_t i = 0; i < w->n; i++) {
        daemon_t *d = &w->d[i];
        d->options = d->role == ROLE_COORD  ? coord_options(w, d)
                     : d->role == ROLE_TIER ? tier_options(w, d)
                                            : pop_options(w, d);
        if (!d->options)
            return problem(err, errlen, EKV_EIO, "out of memory");
    }
    return EKV_OK;
}

/* ---- the secrets -------------------------------------------------------------------------- */

/* The Secret's keys, the variables they become, and which roles get each: the servers
 * (coordinator, tiers) their secret and the client key they admit, the clients (PoPs, tiers)
 * the server's key and their own secret; PoPs never get the server's secret. */
static const struct {
    const char *key, *env;
    int roles; /* 1 << role_t */
} g_secrets[] = {
    {"token", "EDGEKV_TOKEN", 7},
    {"server-secret", "EDGEKV_CURVE_SERVER_SECRET", 1 << ROLE_COORD | 1 << ROLE_TIER},
    {"client-key", "EDGEKV_CURVE_CLIENT_KEY", 1 << ROLE_COORD | 1 << ROLE_TIER},
    {"server-key", "EDGEKV_CURVE_SERVER_KEY", 1 << ROLE_TIER | 1 << ROLE_POP},
    {"client-secret", "EDGEKV_CURVE_CLIENT_SECRET", 1 << ROLE_TIER | 1 << ROLE_POP},
};
#define NSECRETS (sizeof g_secrets / sizeof *g_secrets)

static const char *secret_value(const ekv_keys_t *k, size_t i)
{
    const char *v[NSECRETS] = {k->token, k->server_secret, k->client_public, k->server_public,
                               k->client_secret};
    return v[i];
}

/* ---- files -------------------------------------------------------------------------------- */

/* Writes text to DIR/name with mode: a new file renamed over the old (never written through
 * a link there). */
static int put_file(const char *dir, const char *name, const char *text, mode_t mode, char *err,
                    size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return problem(err, errlen, EKV_EIO, "cannot write %s: %s", path, strerror(errno));
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    int bad = done < len || fchmod(fd, mode) != 0; /* mode exactly, whatever the umask */
    bad |= close(fd) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return problem(err, errlen, EKV_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return EKV_OK;
}

/* Writes the text a stream collected (and frees it). */
static int put_stream(const char *dir, const char *name, FILE *f, char **text, mode_t mode,
                      char *err, size_t errlen)
{
    fclose(f);
    int rc = put_file(dir, name, *text, mode, err, errlen);
    free(*text);
    *text = NULL;
    return rc;
}

/* world.json: state.json's format without pids, for `edgekv up --attach`. */
static int put_world(const world_t *w, char *err, size_t errlen)
{
    const ekv_topo_t *t = w->t;
    json_t *tiers = json_array(), *pops = json_array();
    for (size_t i = 1; i < w->n; i++) {
        const daemon_t *d = &w->d[i];
        if (d->role == ROLE_TIER) {
            const ekv_topo_tier_t *tt = &t->tiers[d->index];
            char serve[200], host[160];
            reach(w, d, host, sizeof host);
            snprintf(serve, sizeof serve, "tcp://%s:%d", host, d->serve);
            json_array_append_new(tiers, json_pack("{s:s, s:s, s:s, s:s, s:f}", "name", tt->name,
                                                   "city", tt->city, "url", d->url, "serve", serve,
                                                   "delay_ms", ekv_topo_tier_delay_ms(t, tt)));
            continue;
        }
        const ekv_topo_pop_t *tp = &t->pops[d->index];
        const ekv_topo_tier_t *tier = ekv_topo_pop_tier(t, tp);
        json_array_append_new(
            pops, json_pack("{s:s, s:s, s:s, s:f, s:s, s:s}", "name", tp->name, "city", tp->city,
                            "url", d->url, "delay_ms", ekv_topo_delay_ms(t, tp), "policy",
                            ekv_topo_policy(t, tp), "tier", tier ? tier->name : ""));
    }
    json_t *j = json_pack("{s:b, s:f, s:{s:s, s:s, s:s}, s:o, s:o}", "remote", 1, "time_scale",
                          t->time_scale, "coordinator", "name", "coordinator", "city",
                          t->coord.city, "url", w->d[0].url, "tiers", tiers, "pops", pops);
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    if (!text)
        return problem(err, errlen, EKV_EIO, "out of memory");
    size_t n = strlen(text);
    text = ekv_realloc(text, n + 2);
    memcpy(text + n, "\n", 2);
    int rc = put_file(w->o->out, "world.json", text, 0644, err, errlen);
    free(text);
    return rc;
}

/* keys.json beside world.json, so the CLI that attaches sends the world's token. */
static int put_keys(const world_t *w, const ekv_keys_t *k, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/keys.json", w->o->out);
    unlink(path); /* ekv_keys_write creates it exclusively */
    if (ekv_keys_write(path, k, 0) != EKV_OK)
        return problem(err, errlen, EKV_EIO, "cannot write %s", path);
    return EKV_OK;
}

/* ---- YAML pieces -------------------------------------------------------------------------- */

static void labels(FILE *f, int ind, const world_t *w, const char *name)
{
    line(f, ind, "labels:\n");
    if (name) {
        line(f, ind + 2, "app.kubernetes.io/name: ");
        q(f, name);
        fputc('\n', f);
    }
    line(f, ind + 2, "app.kubernetes.io/part-of: ");
    q(f, w->o->name);
    fputc('\n', f);
}

/* A document's start: apiVersion, kind, metadata (name, namespace, labels). */
static void head(FILE *f, const world_t *w, const char *api, const char *kind, const char *name,
                 const char *app)
{
    fprintf(f, "---\napiVersion: %s\nkind: %s\nmetadata:\n  name: ", api, kind);
    q(f, name);
    fputc('\n', f);
    if (w->o->ns && is_k8s(w)) {
        fprintf(f, "  namespace: ");
        q(f, w->o->ns);
        fputc('\n', f);
    }
    labels(f, 2, w, app);
}

static void configmap(FILE *f, const world_t *w, const char *topo_text)
{
    char name[200];
    snprintf(name, sizeof name, "%s-world", w->o->name);
    head(f, w, "v1", "ConfigMap", name, NULL);
    fprintf(f, "data:\n  topology.yaml: ");
    q(f, topo_text);
    fputc('\n', f);
    for (size_t i = 0; i < w->n; i++) {
        fprintf(f, "  %s.options: |\n", w->d[i].id);
        for (const char *s = w->d[i].options; *s;) {
            const char *nl = strchr(s, '\n');
            int n = nl ? (int)(nl - s) : (int)strlen(s);
            fprintf(f, "    %.*s\n", n, s);
            s += n + (nl != NULL);
        }
    }
}

static void pvc(FILE *f, const world_t *w, int ind, const char *storage)
{
    line(f, ind, "spec:\n");
    line(f, ind + 2, "accessModes: [ReadWriteOnce]\n");
    line(f, ind + 2, "resources:\n");
    line(f, ind + 4, "requests:\n");
    line(f, ind + 6, "storage: ");
    q(f, storage);
    fputc('\n', f);
    (void)w;
}

/* One container: the daemon with its options file, its role's secrets as environment. */
static void container(FILE *f, const world_t *w, const daemon_t *d, int ind)
{
    char keys[200];
    snprintf(keys, sizeof keys, "%s-keys", w->o->name);
    line(f, ind, "- name: %s\n", d->id);
    ind += 2;
    line(f, ind, "image: ");
    q(f, w->o->image);
    fputc('\n', f);
    line(f, ind, "command: [\"%s/%s\"]\n", BIN_DIR,
         d->role == ROLE_COORD ? "edgekv-coordinator" : "edgekv-node");
    line(f, ind, "args: [\"--options-file\", \"%s/%s.options\"]\n", OPTS_DIR, d->id);
    line(f, ind, "env:\n");
    for (size_t i = 0; i < NSECRETS; i++) {
        if (!(g_secrets[i].roles & 1 << d->role))
            continue;
        line(f, ind + 2, "- name: %s\n", g_secrets[i].env);
        line(f, ind + 4, "valueFrom:\n");
        line(f, ind + 6, "secretKeyRef: {name: ");
        q(f, keys);
        fprintf(f, ", key: %s}\n", g_secrets[i].key);
    }
    line(f, ind, "ports:\n");
    if (is_podman(w))
        line(f, ind + 2, "- {name: http, containerPort: %d, hostPort: %d, hostIP: 127.0.0.1}\n",
             d->http, d->host_port);
    else
        line(f, ind + 2, "- {name: http, containerPort: %d}\n", d->http);
    if (is_k8s(w) && d->role == ROLE_COORD) {
        line(f, ind + 2, "- {name: pub, containerPort: %d}\n", d->serve);
        line(f, ind + 2, "- {name: router, containerPort: %d}\n", d->serve + 1);
    }
    if (is_k8s(w) && d->role == ROLE_TIER)
        line(f, ind + 2, "- {name: serve, containerPort: %d}\n", d->serve);
    line(f, ind, "volumeMounts:\n");
    line(f, ind + 2, "- {name: options, mountPath: %s, readOnly: true}\n", OPTS_DIR);
    if (d->role == ROLE_COORD)
        line(f, ind + 2, "- {name: data, mountPath: /data}\n");
    if (is_k8s(w)) { /* kube play 4.3 would turn probes into healthchecks the image cannot run */
        line(f, ind, "readinessProbe:\n");
        line(f, ind + 2, "httpGet: {path: %s, port: %d}\n",
             d->role == ROLE_COORD ? "/health" : "/_edgekv/health", d->http);
        line(f, ind + 2, "periodSeconds: 2\n");
    }
}

static void options_volume(FILE *f, const world_t *w, int ind)
{
    line(f, ind, "- name: options\n");
    char name[200];
    snprintf(name, sizeof name, "%s-world", w->o->name);
    line(f, ind + 2, "configMap: {name: ");
    q(f, name);
    fprintf(f, "}\n");
}

/* A Service in front of d (headless for the coordinator: the StatefulSet's). */
static void service(FILE *f, const world_t *w, const daemon_t *d)
{
    head(f, w, "v1", "Service", d->object, d->object);
    fprintf(f, "spec:\n");
    if (d->role == ROLE_COORD)
        fprintf(f, "  clusterIP: None\n");
    fprintf(f, "  selector:\n    app.kubernetes.io/name: ");
    q(f, d->object);
    fprintf(f, "\n  ports:\n    - {name: http, port: %d, targetPort: %d}\n", d->http, d->http);
    if (d->role == ROLE_COORD)
        fprintf(f, "    - {name: pub, port: %d}\n    - {name: router, port: %d}\n", d->serve,
                d->serve + 1);
    if (d->role == ROLE_TIER)
        fprintf(f, "    - {name: serve, port: %d}\n", d->serve);
}

/* The coordinator's StatefulSet, or a node's Deployment. */
static void workload(FILE *f, const world_t *w, const daemon_t *d)
{
    int coord = d->role == ROLE_COORD;
    head(f, w, "apps/v1", coord ? "StatefulSet" : "Deployment", d->object, d->object);
    fprintf(f, "spec:\n  replicas: 1\n");
    if (coord) {
        fprintf(f, "  serviceName: ");
        q(f, d->object);
        fputc('\n', f);
    } else {
        fprintf(f, "  strategy: {type: Recreate}\n"); /* never two with one name */
    }
    fprintf(f, "  selector:\n    matchLabels:\n      app.kubernetes.io/name: ");
    q(f, d->object);
    fprintf(f, "\n  template:\n    metadata:\n");
    labels(f, 6, w, d->object);
    fprintf(f, "    spec:\n");
    fprintf(f,
            "      securityContext: {runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true%s}\n",
            coord ? ", fsGroup: 65534" : "");
    fprintf(f, "      containers:\n");
    container(f, w, d, 8);
    fprintf(f, "      volumes:\n");
    options_volume(f, w, 8);
    if (coord) {
        fprintf(f, "  volumeClaimTemplates:\n    - metadata: {name: data}\n");
        pvc(f, w, 6, w->o->storage);
    }
}

/* ---- the three kinds ---------------------------------------------------------------------- */

static int put_secret_yaml(FILE *f, const world_t *w, const ekv_keys_t *k)
{
    char name[200];
    snprintf(name, sizeof name, "%s-keys", w->o->name);
    head(f, w, "v1", "Secret", name, NULL);
    fprintf(f, "type: Opaque\ndata:\n");
    for (size_t i = 0; i < NSECRETS; i++) {
        const char *v = secret_value(k, i);
        char *b = ekv_b64_encode(v, strlen(v), EKV_B64_STD);
        if (!b)
            return EKV_EIO;
        fprintf(f, "  %s: \"%s\"\n", g_secrets[i].key, b);
        free(b);
    }
    return EKV_OK;
}

static int put_k8s(const world_t *w, const char *topo_text, const ekv_keys_t *k, char *err,
                   size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return problem(err, errlen, EKV_EIO, "out of memory");
    fprintf(f, "# edgekv on Kubernetes (edgekv export k8s): kubectl apply -f edgekv.yaml\n");
    configmap(f, w, topo_text);
    if (put_secret_yaml(f, w, k) != EKV_OK) {
        fclose(f);
        free(text);
        return problem(err, errlen, EKV_EIO, "out of memory");
    }
    for (size_t i = 0; i < w->n; i++) {
        service(f, w, &w->d[i]);
        workload(f, w, &w->d[i]);
    }
    /* the Secret is in it: 0600 */
    return put_stream(w->o->out, "edgekv.yaml", f, &text, 0600, err, errlen);
}

static int put_podman(const world_t *w, const char *topo_text, const ekv_keys_t *k, char *err,
                      size_t errlen)
{
    char *text = NULL, claim[200], pod[200];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return problem(err, errlen, EKV_EIO, "out of memory");
    fprintf(f,
            "# edgekv under podman 4.3 (edgekv export k8s --podman): podman secret create "
            "%s-keys podman-secret.json;\n# podman kube play edgekv-podman.yaml\n",
            w->o->name);
    configmap(f, w, topo_text);
    snprintf(claim, sizeof claim, "%s-coordinator-db", w->o->name);
    head(f, w, "v1", "PersistentVolumeClaim", claim, NULL);
    pvc(f, w, 0, w->o->storage);
    snprintf(pod, sizeof pod, "%s-world", w->o->name);
    head(f, w, "v1", "Pod", pod, pod);
    fprintf(f, "spec:\n  containers:\n");
    for (size_t i = 0; i < w->n; i++)
        container(f, w, &w->d[i], 4);
    fprintf(f, "  volumes:\n");
    options_volume(f, w, 4);
    fprintf(f, "    - name: data\n      persistentVolumeClaim: {claimName: ");
    q(f, claim);
    fprintf(f, "}\n");
    int rc = put_stream(w->o->out, "edgekv-podman.yaml", f, &text, 0644, err, errlen);
    if (rc != EKV_OK)
        return rc;
    /* podman secret create reads a JSON map of base64 values for secretKeyRef */
    json_t *j = json_object();
    for (size_t i = 0; i < NSECRETS; i++) {
        const char *v = secret_value(k, i);
        char *b = ekv_b64_encode(v, strlen(v), EKV_B64_STD);
        json_object_set_new(j, g_secrets[i].key, json_string(b ? b : ""));
        free(b);
    }
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!s)
        return problem(err, errlen, EKV_EIO, "out of memory");
    rc = put_file(w->o->out, "podman-secret.json", s, 0600, err, errlen);
    free(s);
    return rc;
}

static const char *const g_roles[] = {"coordinator", "tier", "pop"};

/* env/ROLE.env (0600): each role's variables only. */
static int put_env_files(const world_t *w, const ekv_keys_t *k, char *err, size_t errlen)
{
    char dir[4096];
    int rc = EKV_OK;
    snprintf(dir, sizeof dir, "%s/env", w->o->out);
    if (ekv_file_mkdirs(dir) != EKV_OK)
        return problem(err, errlen, EKV_EIO, "cannot make %s: %s", dir, strerror(errno));
    for (int r = 0; r < 3 && rc == EKV_OK; r++) {
        char *text = NULL, name[32];
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
            return problem(err, errlen, EKV_EIO, "out of memory");
        for (size_t i = 0; i < NSECRETS; i++)
            if (g_secrets[i].roles & 1 << r)
                fprintf(f, "%s=%s\n", g_secrets[i].env, secret_value(k, i));
        snprintf(name, sizeof name, "%s.env", g_roles[r]);
        rc = put_stream(dir, name, f, &text, 0600, err, errlen);
    }
    return rc;
}

/* options/NAME.options, mounted read-only at /etc/edgekv. */
static int put_options_files(const world_t *w, char *err, size_t errlen)
{
    char dir[4096];
    int rc = EKV_OK;
    snprintf(dir, sizeof dir, "%s/options", w->o->out);
    if (ekv_file_mkdirs(dir) != EKV_OK)
        return problem(err, errlen, EKV_EIO, "cannot make %s: %s", dir, strerror(errno));
    for (size_t i = 0; i < w->n && rc == EKV_OK; i++) {
        char name[100];
        snprintf(name, sizeof name, "%s.options", w->d[i].id);
        rc = put_file(dir, name, w->d[i].options, 0644, err, errlen);
    }
    return rc;
}

static int put_compose(const world_t *w, const ekv_keys_t *k, char *err, size_t errlen)
{
    int rc = put_env_files(w, k, err, errlen);
    if (rc == EKV_OK)
        rc = put_options_files(w, err, errlen);
    if (rc != EKV_OK)
        return rc;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return problem(err, errlen, EKV_EIO, "out of memory");
    fprintf(f, "# edgekv with compose (edgekv export compose): podman-compose up -d, or docker "
               "compose up -d\nname: ");
    q(f, w->o->name);
    fprintf(f, "\nservices:\n");
    for (size_t i = 0; i < w->n; i++) {
        const daemon_t *d = &w->d[i];
        fprintf(f, "  %s:\n    image: ", d->id);
        q(f, w->o->image);
        fprintf(f, "\n    entrypoint: [\"%s/%s\"]\n", BIN_DIR,
                d->role == ROLE_COORD ? "edgekv-coordinator" : "edgekv-node");
        fprintf(f, "    command: [\"--options-file\", \"%s/%s.options\"]\n", OPTS_DIR, d->id);
        fprintf(f, "    env_file: [\"env/%s.env\"]\n", g_roles[d->role]);
        fprintf(f, "    volumes: [\"./options:%s:ro\"%s]\n", OPTS_DIR,
                d->role == ROLE_COORD ? ", \"coordinator-db:/data\"" : "");
        fprintf(f, "    ports: [\"127.0.0.1:%d:%d\"]\n", d->host_port, d->http);
        if (d->role != ROLE_COORD)
            fprintf(f, "    depends_on: [coordinator]\n");
    }
    fprintf(f, "volumes:\n  coordinator-db: {}\n");
    return put_stream(w->o->out, "compose.yaml", f, &text, 0644, err, errlen);
}

int ekv_export_write(const ekv_topo_t *t, const char *topo_text, const ekv_keys_t *k,
                     const ekv_export_opts_t *o, char *err, size_t errlen)
{
    world_t w = {.t = t, .o = o};
    const char *bad = o->name;
    for (const char *s = o->name; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            bad = NULL;
    if (!bad || !*o->name || strlen(o->name) > 30)
        return problem(err, errlen, EKV_EINVAL,
                       "--name '%s': up to 30 characters of a-z, 0-9 and '-'", o->name);
    if (ekv_file_mkdirs(o->out) != EKV_OK)
        return problem(err, errlen, EKV_EIO, "cannot make %s: %s", o->out, strerror(errno));
    int rc = plan(&w, err, errlen);
    if (rc == EKV_OK)
        rc = o->kind == EKV_EXPORT_K8S      ? put_k8s(&w, topo_text, k, err, errlen)
             : o->kind == EKV_EXPORT_PODMAN ? put_podman(&w, topo_text, k, err, errlen)
                                            : put_compose(&w, k, err, errlen);
    if (rc == EKV_OK)
        rc = put_world(&w, err, errlen);
    if (rc == EKV_OK)
        rc = put_keys(&w, k, err, errlen);
    for (size_t i = 0; i < w.n; i++)
        free(w.d[i].options);
    free(w.d);
    return rc;
}

/* ---- the command -------------------------------------------------------------------------- */

static void export_usage(FILE *f)
{
    fprintf(
        f, "usage: edgekv export k8s [TOPOLOGY] [--out DIR] [--image IMAGE] [--name NAME]\n"
           "                         [--namespace NS] [--storage SIZE] [--podman [--port-base N]]\n"
           "       edgekv export compose [TOPOLOGY] [--out DIR] [--image IMAGE] [--name NAME]\n"
           "                         [--port-base N]\n"
           "TOPOLOGY defaults to topology.yaml; the world's keys (`edgekv keys`) are needed.\n"
           "See docs/deploy.md.\n");
}

/* Reads `export KIND [TOPOLOGY] [options]` into o and *topo; 0, or -1 on a mistake. */
static int parse_args(int argc, char **argv, ekv_export_opts_t *o, const char **topo)
{
    int podman = 0, bad = 0;
    int k8s = o->kind == EKV_EXPORT_K8S;
    for (int i = 2; i < argc && !bad; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **dst = !strcmp(a, "--out")                ? &o->out
                           : !strcmp(a, "--image")            ? &o->image
                           : !strcmp(a, "--name")             ? &o->name
                           : !strcmp(a, "--namespace") && k8s ? &o->ns
                           : !strcmp(a, "--storage") && k8s   ? &o->storage
                                                              : NULL;
        if (!strcmp(a, "--podman") && k8s) {
            podman = 1;
        } else if (dst && v) {
            *dst = v;
            i++;
        } else if (!strcmp(a, "--port-base") && v) {
            char *end;
            long n = strtol(v, &end, 10);
            bad = *end || end == v || n < 1024 || n > 65535;
            o->port_base = (int)n;
            i++;
        } else if (a[0] != '-' && !*topo) {
            *topo = a;
        } else {
            bad = 1;
        }
    }
    if (bad || (o->ns && podman))
        return -1;
    if (podman)
        o->kind = EKV_EXPORT_PODMAN;
    if (!o->out)
        o->out = o->kind == EKV_EXPORT_K8S      ? "edgekv-k8s"
                 : o->kind == EKV_EXPORT_PODMAN ? "edgekv-podman"
                                                : "edgekv-compose";
    if (!*topo)
        *topo = "topology.yaml";
    return 0;
}

/* What was written and what to run next. */
static void report(const ekv_export_opts_t *o, const ekv_topo_t *t)
{
    if (strcmp(t->coord.transport.kind, "tcp") != 0)
        printf("note: the topology publishes over %s; exported over tcp (no multicast between "
               "pods)\n",
               t->coord.transport.kind);
    const char *what = o->kind == EKV_EXPORT_K8S      ? "edgekv.yaml (kubectl apply -f)"
                       : o->kind == EKV_EXPORT_PODMAN ? "edgekv-podman.yaml and podman-secret.json"
                                                      : "compose.yaml, options/ and env/";
    printf("wrote %s/%s, world.json and keys.json: %zu tiers, %zu PoPs\n", o->out, what, t->ntiers,
           t->npops);
    if (o->kind == EKV_EXPORT_PODMAN)
        printf("next: podman secret create %s-keys %s/podman-secret.json\n"
               "      podman kube play %s/edgekv-podman.yaml\n"
               "      edgekv up --attach %s/world.json\n",
               o->name, o->out, o->out, o->out);
}

int ekv_cmd_export(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "k8s") != 0 && strcmp(argv[1], "compose") != 0)) {
        int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"));
        export_usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    ekv_export_opts_t o = {.kind = !strcmp(argv[1], "k8s") ? EKV_EXPORT_K8S : EKV_EXPORT_COMPOSE,
                           .image = "localhost/edgekv:latest",
                           .name = "edgekv",
                           .storage = "1Gi",
                           .port_base = EKV_EXPORT_PORT_BASE};
    const char *topo = NULL;
    if (parse_args(argc, argv, &o, &topo) != 0) {
        export_usage(stderr);
        return 2;
    }
    ekv_keys_t keys;
    int rc = ekv_keys_load(&keys);
    if (rc == EKV_ENOTFOUND)
        fprintf(stderr, "edgekv export needs the world's keys: run `edgekv keys`\n");
    if (rc != EKV_OK)
        return 1;
    char err[512], *text = NULL;
    size_t len;
    ekv_topo_t *t = ekv_topo_load(topo, err, sizeof err);
    if (t && ekv_file_read(topo, 1 << 24, &text, &len) != EKV_OK)
        snprintf(err, sizeof err, "cannot read %s", topo);
    else if (t)
        rc = ekv_export_write(t, text, &keys, &o, err, sizeof err);
    memset(&keys, 0, sizeof keys);
    int ok = t && text && rc == EKV_OK;
    free(text);
    if (!ok) {
        fprintf(stderr, "edgekv export: %s\n", err);
        ekv_topo_destroy(&t);
        return 1;
    }
    report(&o, t);
    ekv_topo_destroy(&t);
    return 0;
}
