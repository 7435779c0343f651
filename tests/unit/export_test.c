/* Unit tests of edgekv export (sim/export.c): the k8s, podman and compose files of a small
 * world read back with libyaml and jansson. Every object of the right kind and name is there;
 * every reference resolves (secretKeyRef to the Secret's keys or podman-secret.json's, the
 * options volume to the ConfigMap, the options file a container names to a ConfigMap key or a
 * file, a Service's selector to its workload's labels, the claim to the PVC); each daemon's
 * options file holds the options `edgekv up` puts on its command line (sim/launch.c,
 * sim/launch_nodes.c), with the engine's addresses; each role gets only its variables; no
 * secret appears in any argument, options file or manifest outside the Secret; world.json
 * describes the world for `up --attach`. That the daemons accept the files is
 * integration.k8s's part. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "ekv_base64.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_test.h"
#include "ekv_tmpdir.h"
#include "export.h"

/* A tier, a ttl PoP reading through it with its delay given, a push PoP found by distance, a
 * skewed host, a rate limit and purge-on-write: every optional option appears somewhere. */
static const char *const g_topo =
    "hosts:\n"
    "  - {name: h1, address: 127.0.0.1}\n"
    "  - {name: h2, address: 127.0.0.2, clock_skew_ms: 25}\n"
    "coordinator: {host: h1, city: Frankfurt, iata: FRA, lat: 50.1109, lon: 8.6821,\n"
    "              http_port: 0, pub_port: 0, router_port: 0, heartbeat_ms: 500,\n"
    "              durability: wal, api_rate_limit: 1200}\n"
    "defaults: {policy: push, cache_ttl: 60, time_scale: 4, cache_mb: 10.5, loss: 0.01,\n"
    "           rto_ms: 150, seed: 7, write_rate_limit: 0.1, tier_purge_on_write: true,\n"
    "           jitter: 'uniform:2'}\n"
    "tiers:\n"
    "  - {name: ams, host: h2, city: Amsterdam, iata: AMS, lat: 52.3105, lon: 4.7683,\n"
    "     delay_ms: 6, cache_ttl: 90}\n"
    "pops:\n"
    "  - {name: cdg, host: h2, city: Paris, iata: CDG, lat: 49.0097, lon: 2.5479, policy: ttl,\n"
    "     delay_ms: 20}\n"
    "  - {name: fra, city: Frankfurt, iata: FRA, lat: 50.0379, lon: 8.5622, loss: 0}\n";

/* Keys that look like the real ones (export copies them, it does not check them). */
static ekv_keys_t g_keys = {
    .token = "tok-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
    .server_public = "SPUBxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    .server_secret = "SSECxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    .client_public = "CPUBxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    .client_secret = "CSECxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};
static const char *secrets(int i)
{
    const char *s[] = {g_keys.token, g_keys.server_public, g_keys.server_secret,
                       g_keys.client_public, g_keys.client_secret};
    return s[i];
}
#define NKEYS 5

/* What `edgekv up` passes each daemon (sim/launch.c, sim/launch_nodes.c, for g_topo) besides
 * its addresses and ready file, one option a line as the options file has it. */
static const char *const g_coord_want[] = {
    "--data /data/db",    "--write-rate-limit 1", /* 0.1 x 4 rounds to 0: at least 1 */
    "--heartbeat-ms 500", "--durability wal",     "--time-scale 4", "--api-rate-limit 4800", NULL};
static const char *const g_tier_want[] = {"--role tier",
                                          "--name ams",
                                          "--delay-ms 6.0000",
                                          "--policy kv",
                                          "--tier-cache-ttl 90",
                                          "--cache-mb 11",
                                          "--time-scale 4",
                                          "--jitter uniform:2",
                                          "--loss 0.01",
                                          "--rto-ms 150",
                                          "--seed 9",
                                          "--min-cache-ttl 30",
                                          "--purge-on-write",
                                          "--refresh-hot-reads 2",
                                          "--refresh-late 0.8",
                                          "--clock-skew-ms 25",
                                          "--coordinator-timeout-ms 1500",
                                          NULL};
static const char *const g_cdg_want[] = {"--name cdg",
                                         "--delay-ms 20.0000",
                                         "--policy ttl",
                                         "--cache-mb 11",
                                         "--time-scale 4",
                                         "--jitter uniform:2",
                                         "--loss 0.01",
                                         "--rto-ms 150",
                                         "--seed 7",
                                         "--min-cache-ttl 30",
                                         "--refresh-hot-reads 2",
                                         "--refresh-late 0.8",
                                         "--clock-skew-ms 25",
                                         "--coordinator-timeout-ms 1500",
                                         NULL};
static const char *const g_fra_want[] = {"--name fra",
                                         "--policy push",
                                         "--cache-mb 11",
                                         "--time-scale 4",
                                         "--jitter uniform:2",
                                         "--loss 0",
                                         "--rto-ms 150",
                                         "--seed 8",
                                         "--min-cache-ttl 30",
                                         "--refresh-hot-reads 2",
                                         "--refresh-late 0.8",
                                         "--coordinator-timeout-ms 1500",
                                         NULL};

/* ---- YAML read back ---------------------------------------------------------------------- */

#define MAX_DOCS 32
typedef struct {
    yaml_document_t docs[MAX_DOCS];
    int n;
    char *text;
} yfile_t;

static void yload(yfile_t *y, const char *path)
{
    size_t len;
    memset(y, 0, sizeof *y);
    CHECK_EQ(ekv_file_read(path, 1 << 22, &y->text, &len), EKV_OK);
    yaml_parser_t p;
    CHECK(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)y->text, len);
    for (;;) {
        CHECK(y->n < MAX_DOCS);
        if (!yaml_parser_load(&p, &y->docs[y->n]))
            EKV_FAIL_("%s: YAML error: %s at line %zu", path, p.problem, p.problem_mark.line + 1);
        if (!yaml_document_get_root_node(&y->docs[y->n])) {
            yaml_document_delete(&y->docs[y->n]);
            break;
        }
        y->n++;
    }
    yaml_parser_delete(&p);
}

static void yfree(yfile_t *y)
{
    for (int i = 0; i < y->n; i++)
        yaml_document_delete(&y->docs[i]);
    free(y->text);
}

/* The value of key in mapping m; NULL when m is no mapping or has no such key. */
static yaml_node_t *get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

/* The node at a dotted path ("spec.template.spec") under m. */
static yaml_node_t *at(yaml_document_t *d, yaml_node_t *m, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save, *k = strtok_r(buf, ".", &save); k && m; k = strtok_r(NULL, ".", &save))
        m = get(d, m, k);
    return m;
}

static const char *str(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *sat(yaml_document_t *d, yaml_node_t *m, const char *path)
{
    return str(at(d, m, path));
}

static int items(yaml_node_t *n)
{
    return n && n->type == YAML_SEQUENCE_NODE
               ? (int)(n->data.sequence.items.top - n->data.sequence.items.start)
               : 0;
}

static yaml_node_t *item(yaml_document_t *d, yaml_node_t *n, int i)
{
    return yaml_document_get_node(d, n->data.sequence.items.start[i]);
}

/* The document of kind and name, or NULL. */
static yaml_document_t *find(yfile_t *y, const char *kind, const char *name)
{
    for (int i = 0; i < y->n; i++) {
        yaml_node_t *r = yaml_document_get_root_node(&y->docs[i]);
        const char *k = sat(&y->docs[i], r, "kind"), *n = sat(&y->docs[i], r, "metadata.name");
        if (k && n && !strcmp(k, kind) && !strcmp(n, name))
            return &y->docs[i];
    }
    return NULL;
}

static yaml_node_t *root(yaml_document_t *d)
{
    return yaml_document_get_root_node(d);
}

/* ---- checks shared by k8s and podman ------------------------------------------------------ */

/* The text has every line of want; and no secret. */
static void has_lines(const char *text, const char *const *want, const char *what)
{
    for (; *want; want++) {
        char line[200];
        snprintf(line, sizeof line, "\n%s\n", *want);
        char *padded = malloc(strlen(text) + 3);
        sprintf(padded, "\n%s\n", text);
        if (!strstr(padded, line))
            EKV_FAIL_("%s lacks \"%s\":\n%s", what, *want, text);
        free(padded);
    }
}

static void no_secret(const char *text, const char *what)
{
    for (int i = 0; i < NKEYS; i++)
        if (strstr(text, secrets(i)))
            EKV_FAIL_("%s holds a secret (%s)", what, secrets(i));
}

/* The variable names a role gets and the Secret key of each. */
static void check_env(yaml_document_t *d, yaml_node_t *c, const char *id, const char *secret,
                      json_t *keys)
{
    yaml_node_t *env = get(d, c, "env");
    int coord = !strcmp(id, "coordinator"), tier = !strncmp(id, "tier-", 5);
    const char *want_coord[] = {"EDGEKV_TOKEN", "EDGEKV_CURVE_SERVER_SECRET",
                                "EDGEKV_CURVE_CLIENT_KEY", NULL};
    const char *want_pop[] = {"EDGEKV_TOKEN", "EDGEKV_CURVE_SERVER_KEY",
                              "EDGEKV_CURVE_CLIENT_SECRET", NULL};
    const char *want_tier[] = {"EDGEKV_TOKEN",
                               "EDGEKV_CURVE_SERVER_SECRET",
                               "EDGEKV_CURVE_CLIENT_KEY",
                               "EDGEKV_CURVE_SERVER_KEY",
                               "EDGEKV_CURVE_CLIENT_SECRET",
                               NULL};
    const char **want = coord ? want_coord : tier ? want_tier : want_pop;
    int n = 0;
    for (; want[n]; n++) {
        yaml_node_t *e = item(d, env, n);
        CHECK_STR(sat(d, e, "name"), want[n]);
        CHECK(get(d, e, "value") == NULL); /* never the value itself */
        CHECK_STR(sat(d, e, "valueFrom.secretKeyRef.name"), secret);
        const char *key = sat(d, e, "valueFrom.secretKeyRef.key");
        CHECK(key != NULL);
        CHECK(json_object_get(keys, key) != NULL); /* the reference resolves */
    }
    CHECK_EQ(items(env), n);
}

/* A container of daemon id: the daemon, its options file (a key of the ConfigMap), its
 * secrets, the options volume (and the coordinator's data). */
static void check_container(yaml_document_t *d, yaml_node_t *c, const char *id, const char *secret,
                            json_t *keys, json_t *options)
{
    CHECK_STR(sat(d, c, "name"), id);
    yaml_node_t *cmd = get(d, c, "command"), *args = get(d, c, "args");
    CHECK_EQ(items(cmd), 1);
    CHECK_STR(str(item(d, cmd, 0)), !strcmp(id, "coordinator") ? "/usr/local/bin/edgekv-coordinator"
                                                               : "/usr/local/bin/edgekv-node");
    CHECK_EQ(items(args), 2);
    CHECK_STR(str(item(d, args, 0)), "--options-file");
    char want[200];
    snprintf(want, sizeof want, "/etc/edgekv/%s.options", id);
    CHECK_STR(str(item(d, args, 1)), want);
    snprintf(want, sizeof want, "%s.options", id);
    CHECK(json_object_get(options, want) != NULL);
    check_env(d, c, id, secret, keys);
    yaml_node_t *mounts = get(d, c, "volumeMounts");
    CHECK_STR(sat(d, item(d, mounts, 0), "name"), "options");
    CHECK_STR(sat(d, item(d, mounts, 0), "mountPath"), "/etc/edgekv");
    CHECK_STR(sat(d, item(d, mounts, 0), "readOnly"), "true");
    if (!strcmp(id, "coordinator")) {
        CHECK_EQ(items(mounts), 2);
        CHECK_STR(sat(d, item(d, mounts, 1), "name"), "data");
        CHECK_STR(sat(d, item(d, mounts, 1), "mountPath"), "/data");
    } else {
        CHECK_EQ(items(mounts), 1);
    }
}

/* The ConfigMap's data as a JSON object (key: text), and the checks of every options file. */
static json_t *check_configmap(yaml_document_t *cm, const char *world_ns_name)
{
    CHECK(cm != NULL);
    (void)world_ns_name;
    json_t *o = json_object();
    yaml_node_t *data = get(cm, root(cm), "data");
    CHECK(data && data->type == YAML_MAPPING_NODE);
    for (yaml_node_pair_t *p = data->data.mapping.pairs.start; p < data->data.mapping.pairs.top;
         p++)
        json_object_set_new(o, str(yaml_document_get_node(cm, p->key)),
                            json_string(str(yaml_document_get_node(cm, p->value))));
    CHECK_STR(json_string_value(json_object_get(o, "topology.yaml")), g_topo);
    CHECK_EQ(json_object_size(o), 5); /* topology and 4 daemons */
    const char *opt[] = {"coordinator.options", "tier-ams.options", "pop-cdg.options",
                         "pop-fra.options"};
    const char *const *want[] = {g_coord_want, g_tier_want, g_cdg_want, g_fra_want};
    for (int i = 0; i < 4; i++) {
        const char *text = json_string_value(json_object_get(o, opt[i]));
        CHECK(text != NULL);
        has_lines(text, want[i], opt[i]);
        no_secret(text, opt[i]);
        CHECK(strstr(text, "--ready-file") == NULL); /* the engine probes health instead */
    }
    return o;
}

/* ---- k8s ---------------------------------------------------------------------------------- */

static ekv_topo_t *g_t;
static char g_dir[256];

static void export_to(ekv_export_kind_t kind, const char *sub, const char *ns)
{
    char err[512] = "";
    snprintf(g_dir, sizeof g_dir, "%s/%s", ekv_tmpdir_top, sub);
    ekv_export_opts_t o = {.kind = kind,
                           .out = g_dir,
                           .image = "registry.example/edgekv:1",
                           .name = "w1",
                           .ns = ns,
                           .storage = "2Gi",
                           .port_base = 30000};
    int rc = ekv_export_write(g_t, g_topo, &g_keys, &o, err, sizeof err);
    if (rc != EKV_OK)
        EKV_FAIL_("export: %s", err);
}

static void path_of(char *buf, size_t n, const char *file)
{
    snprintf(buf, n, "%s/%s", g_dir, file);
}

static int mode_of(const char *file)
{
    char p[512];
    struct stat st;
    path_of(p, sizeof p, file);
    CHECK_EQ(stat(p, &st), 0);
    return (int)(st.st_mode & 0777);
}

/* The options file's line "--NAME VALUE" for name, copied into buf. */
static const char *option(json_t *options, const char *file, const char *name, char *buf, size_t n)
{
    const char *text = json_string_value(json_object_get(options, file));
    char key[80];
    snprintf(key, sizeof key, "\n--%s ", name);
    char *padded = malloc(strlen(text) + 2);
    sprintf(padded, "\n%s", text);
    const char *s = strstr(padded, key);
    buf[0] = '\0';
    if (s) {
        s += strlen(key);
        snprintf(buf, n, "%.*s", (int)strcspn(s, "\n"), s);
    }
    free(padded);
    return buf;
}

static void test_k8s(void)
{
    export_to(EKV_EXPORT_K8S, "k8s", "edge");
    char p[512];
    path_of(p, sizeof p, "edgekv.yaml");
    CHECK_EQ(mode_of("edgekv.yaml"), 0600); /* it holds the Secret */
    yfile_t y;
    yload(&y, p);
    CHECK_EQ(y.n, 2 + 2 * 4); /* ConfigMap, Secret, a Service and a workload per daemon */
    for (int i = 0; i < y.n; i++)
        CHECK_STR(sat(&y.docs[i], root(&y.docs[i]), "metadata.namespace"), "edge");
    json_t *options = check_configmap(find(&y, "ConfigMap", "w1-world"), NULL);

    /* the Secret: the five keys, base64 of the keys' values */
    yaml_document_t *sec = find(&y, "Secret", "w1-keys");
    CHECK(sec != NULL);
    CHECK_STR(sat(sec, root(sec), "type"), "Opaque");
    json_t *keys = json_object();
    const char *names[] = {"token", "server-key", "server-secret", "client-key", "client-secret"};
    for (int i = 0; i < NKEYS; i++) {
        const char *v = str(get(sec, get(sec, root(sec), "data"), names[i]));
        CHECK(v != NULL);
        size_t len;
        char *dec = ekv_b64_decode(v, strlen(v), &len);
        CHECK(dec != NULL);
        CHECK_STR(dec, secrets(i));
        free(dec);
        json_object_set_new(keys, names[i], json_true());
    }
    /* outside the Secret no value appears */
    char *rest = strdup(y.text);
    char *s = strstr(rest, "kind: Secret");
    CHECK(s != NULL);
    char *end = strstr(s, "---");
    memset(s, ' ', end ? (size_t)(end - s) : strlen(s));
    no_secret(rest, "edgekv.yaml outside the Secret");
    free(rest);

    /* every daemon: Service (selector = the workload's labels) and workload */
    const char *ids[] = {"coordinator", "tier-ams", "pop-cdg", "pop-fra"};
    const int http[] = {8780, 8800, 8801, 8801};
    for (int i = 0; i < 4; i++) {
        char name[100];
        snprintf(name, sizeof name, "w1-%s", ids[i]);
        int coord = i == 0;
        yaml_document_t *svc = find(&y, "Service", name);
        yaml_document_t *w = find(&y, coord ? "StatefulSet" : "Deployment", name);
        CHECK(svc != NULL && w != NULL);
        yaml_node_t *sel = at(svc, root(svc), "spec.selector");
        CHECK_STR(str(get(svc, sel, "app.kubernetes.io/name")), name);
        yaml_node_t *labels = at(w, root(w), "spec.template.metadata.labels");
        CHECK_STR(str(get(w, labels, "app.kubernetes.io/name")), name);
        CHECK_STR(
            str(get(w, at(w, root(w), "spec.selector.matchLabels"), "app.kubernetes.io/name")),
            name);
        CHECK_STR(sat(w, root(w), "spec.replicas"), "1");
        yaml_node_t *spec = at(w, root(w), "spec.template.spec");
        yaml_node_t *cs = get(w, spec, "containers");
        CHECK_EQ(items(cs), 1);
        yaml_node_t *c = item(w, cs, 0);
        CHECK_STR(sat(w, c, "image"), "registry.example/edgekv:1");
        check_container(w, c, ids[i], "w1-keys", keys, options);
        char port[16];
        snprintf(port, sizeof port, "%d", http[i]);
        CHECK_STR(sat(w, c, "readinessProbe.httpGet.path"), coord ? "/health" : "/_edgekv/health");
        CHECK_STR(sat(w, c, "readinessProbe.httpGet.port"), port);
        CHECK_STR(sat(w, spec, "securityContext.runAsUser"), "65534");
        /* the options volume is the ConfigMap */
        yaml_node_t *vols = get(w, spec, "volumes");
        CHECK_EQ(items(vols), 1);
        CHECK_STR(sat(w, item(w, vols, 0), "name"), "options");
        CHECK_STR(sat(w, item(w, vols, 0), "configMap.name"), "w1-world");
        /* the Service's first port is the container's HTTP port */
        yaml_node_t *sp = at(svc, root(svc), "spec.ports");
        CHECK_STR(sat(svc, item(svc, sp, 0), "port"), port);
        if (coord) {
            CHECK_STR(sat(svc, root(svc), "spec.clusterIP"), "None");
            CHECK_STR(sat(w, root(w), "spec.serviceName"), name);
            yaml_node_t *vct = at(w, root(w), "spec.volumeClaimTemplates");
            CHECK_EQ(items(vct), 1);
            CHECK_STR(sat(w, item(w, vct, 0), "metadata.name"), "data"); /* the mount's */
            CHECK_STR(sat(w, item(w, vct, 0), "spec.resources.requests.storage"), "2Gi");
            CHECK_STR(sat(w, spec, "securityContext.fsGroup"), "65534");
        }
    }
    /* addresses: bind any, connect by Service name */
    char v[200];
    CHECK_STR(option(options, "coordinator.options", "http", v, sizeof v), "0.0.0.0:8780");
    CHECK_STR(option(options, "coordinator.options", "pub", v, sizeof v), "tcp://*:8781");
    CHECK_STR(option(options, "coordinator.options", "router", v, sizeof v), "tcp://*:8782");
    CHECK_STR(option(options, "tier-ams.options", "serve", v, sizeof v), "tcp://*:8790");
    CHECK_STR(option(options, "tier-ams.options", "pub", v, sizeof v), "tcp://w1-coordinator:8781");
    CHECK_STR(option(options, "pop-cdg.options", "router", v, sizeof v),
              "tcp://w1-coordinator:8782");
    CHECK_STR(option(options, "pop-cdg.options", "tier", v, sizeof v), "tcp://w1-tier-ams:8790");
    CHECK_STR(option(options, "pop-fra.options", "tier", v, sizeof v), ""); /* push: no tier */
    CHECK_STR(option(options, "pop-fra.options", "http", v, sizeof v), "0.0.0.0:8801");
    json_decref(options);
    json_decref(keys);
    yfree(&y);
}

/* world.json: the URLs the CLI reaches, in state.json's format without pids. */
static void check_world(const char *coord_url, const char *cdg_url, const char *ams_url)
{
    char p[512];
    path_of(p, sizeof p, "world.json");
    json_t *j = json_load_file(p, 0, NULL);
    CHECK(j != NULL);
    CHECK(json_is_true(json_object_get(j, "remote")));
    CHECK(json_number_value(json_object_get(j, "time_scale")) == 4);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "coordinator"), "url")),
              coord_url);
    json_t *pops = json_object_get(j, "pops"), *tiers = json_object_get(j, "tiers");
    CHECK_EQ(json_array_size(pops), 2);
    CHECK_EQ(json_array_size(tiers), 1);
    json_t *cdg = json_array_get(pops, 0);
    CHECK_STR(json_string_value(json_object_get(cdg, "name")), "cdg");
    CHECK_STR(json_string_value(json_object_get(cdg, "url")), cdg_url);
    CHECK_STR(json_string_value(json_object_get(cdg, "tier")), "ams");
    CHECK_STR(json_string_value(json_object_get(cdg, "policy")), "ttl");
    CHECK(json_number_value(json_object_get(cdg, "delay_ms")) == 20);
    CHECK_STR(json_string_value(json_object_get(json_array_get(tiers, 0), "url")), ams_url);
    json_decref(j);
    CHECK_EQ(mode_of("keys.json"), 0600);
}

static void test_k8s_world(void)
{
    export_to(EKV_EXPORT_K8S, "k8s-world", NULL);
    check_world("http://w1-coordinator:8780", "http://w1-pop-cdg:8801", "http://w1-tier-ams:8800");
}

/* ---- podman ------------------------------------------------------------------------------- */

static void test_podman(void)
{
    export_to(EKV_EXPORT_PODMAN, "podman", NULL);
    char p[512];
    path_of(p, sizeof p, "edgekv-podman.yaml");
    yfile_t y;
    yload(&y, p);
    no_secret(y.text, "edgekv-podman.yaml");
    /* what kube play 4.3 reads: ConfigMap, PVC, one Pod, and nothing else */
    CHECK_EQ(y.n, 3);
    json_t *options = check_configmap(find(&y, "ConfigMap", "w1-world"), NULL);
    yaml_document_t *pvc = find(&y, "PersistentVolumeClaim", "w1-coordinator-db");
    CHECK(pvc != NULL);
    CHECK_STR(sat(pvc, root(pvc), "spec.resources.requests.storage"), "2Gi");
    yaml_document_t *pod = find(&y, "Pod", "w1-world");
    CHECK(pod != NULL);

    /* podman-secret.json: base64 values under the keys the containers name */
    CHECK_EQ(mode_of("podman-secret.json"), 0600);
    path_of(p, sizeof p, "podman-secret.json");
    json_t *keys = json_load_file(p, 0, NULL);
    CHECK(keys != NULL);
    CHECK_EQ(json_object_size(keys), NKEYS);
    const char *names[] = {"token", "server-key", "server-secret", "client-key", "client-secret"};
    for (int i = 0; i < NKEYS; i++) {
        const char *v = json_string_value(json_object_get(keys, names[i]));
        CHECK(v != NULL);
        size_t len;
        char *dec = ekv_b64_decode(v, strlen(v), &len);
        CHECK(dec != NULL);
        CHECK_STR(dec, secrets(i));
        free(dec);
    }

    yaml_node_t *spec = get(pod, root(pod), "spec"), *cs = get(pod, spec, "containers");
    const char *ids[] = {"coordinator", "tier-ams", "pop-cdg", "pop-fra"};
    const char *ports[] = {"30000", "30010", "30100", "30101"};
    CHECK_EQ(items(cs), 4);
    for (int i = 0; i < 4; i++) {
        yaml_node_t *c = item(pod, cs, i);
        check_container(pod, c, ids[i], "w1-keys", keys, options);
        CHECK(get(pod, c, "readinessProbe") == NULL); /* kube play: a healthcheck */
        yaml_node_t *port = item(pod, get(pod, c, "ports"), 0);
        CHECK_STR(sat(pod, port, "containerPort"), ports[i]);
        CHECK_STR(sat(pod, port, "hostPort"), ports[i]);
        CHECK_STR(sat(pod, port, "hostIP"), "127.0.0.1");
        char file[100], v[200], want[100];
        snprintf(file, sizeof file, "%s.options", ids[i]);
        snprintf(want, sizeof want, "0.0.0.0:%s", ports[i]);
        CHECK_STR(option(options, file, "http", v, sizeof v), want);
    }
    yaml_node_t *vols = get(pod, spec, "volumes");
    CHECK_EQ(items(vols), 2);
    CHECK_STR(sat(pod, item(pod, vols, 0), "configMap.name"), "w1-world");
    CHECK_STR(sat(pod, item(pod, vols, 1), "name"), "data");
    CHECK_STR(sat(pod, item(pod, vols, 1), "persistentVolumeClaim.claimName"), "w1-coordinator-db");
    /* one pod, one network namespace: ZeroMQ on its loopback */
    char v[200];
    CHECK_STR(option(options, "coordinator.options", "pub", v, sizeof v), "tcp://127.0.0.1:30001");
    CHECK_STR(option(options, "coordinator.options", "router", v, sizeof v),
              "tcp://127.0.0.1:30002");
    CHECK_STR(option(options, "tier-ams.options", "serve", v, sizeof v), "tcp://127.0.0.1:30050");
    CHECK_STR(option(options, "pop-cdg.options", "tier", v, sizeof v), "tcp://127.0.0.1:30050");
    CHECK_STR(option(options, "pop-fra.options", "pub", v, sizeof v), "tcp://127.0.0.1:30001");
    check_world("http://127.0.0.1:30000", "http://127.0.0.1:30100", "http://127.0.0.1:30010");
    json_decref(keys);
    json_decref(options);
    yfree(&y);
}

/* ---- compose ------------------------------------------------------------------------------ */

static void test_compose(void)
{
    export_to(EKV_EXPORT_COMPOSE, "compose", NULL);
    char p[512];
    path_of(p, sizeof p, "compose.yaml");
    yfile_t y;
    yload(&y, p);
    CHECK_EQ(y.n, 1);
    no_secret(y.text, "compose.yaml");
    yaml_document_t *d = &y.docs[0];
    yaml_node_t *services = get(d, root(d), "services");
    CHECK(services && services->type == YAML_MAPPING_NODE);
    const char *ids[] = {"coordinator", "tier-ams", "pop-cdg", "pop-fra"};
    const char *roles[] = {"coordinator", "tier", "pop", "pop"};
    const char *ports[] = {"127.0.0.1:30000:8780", "127.0.0.1:30010:8800", "127.0.0.1:30100:8801",
                           "127.0.0.1:30101:8801"};
    const char *const *want[] = {g_coord_want, g_tier_want, g_cdg_want, g_fra_want};
    for (int i = 0; i < 4; i++) {
        yaml_node_t *s = get(d, services, ids[i]);
        CHECK(s != NULL);
        CHECK_STR(sat(d, s, "image"), "registry.example/edgekv:1");
        char env[64], file[300];
        snprintf(env, sizeof env, "env/%s.env", roles[i]);
        CHECK_STR(str(item(d, get(d, s, "env_file"), 0)), env);
        CHECK_STR(str(item(d, get(d, s, "ports"), 0)), ports[i]);
        CHECK_STR(str(item(d, get(d, s, "volumes"), 0)), "./options:/etc/edgekv:ro");
        yaml_node_t *cmd = get(d, s, "command");
        snprintf(file, sizeof file, "/etc/edgekv/%s.options", ids[i]);
        CHECK_STR(str(item(d, cmd, 1)), file);
        /* the options file the command names, beside compose.yaml */
        char *text;
        size_t len;
        snprintf(file, sizeof file, "%s/options/%s.options", g_dir, ids[i]);
        CHECK_EQ(ekv_file_read(file, 1 << 20, &text, &len), EKV_OK);
        has_lines(text, want[i], file);
        no_secret(text, file);
        free(text);
    }
    CHECK_STR(str(item(d, get(d, get(d, services, "coordinator"), "volumes"), 1)),
              "coordinator-db:/data");
    CHECK(get(d, get(d, root(d), "volumes"), "coordinator-db") != NULL);
    /* compose reaches the others by service name */
    char *text;
    size_t len;
    snprintf(p, sizeof p, "%s/options/pop-cdg.options", g_dir);
    CHECK_EQ(ekv_file_read(p, 1 << 20, &text, &len), EKV_OK);
    CHECK(strstr(text, "\n--pub tcp://coordinator:8781\n") != NULL);
    CHECK(strstr(text, "\n--tier tcp://tier-ams:8790\n") != NULL);
    free(text);
    /* each role's variables only, 0600; a PoP never gets the server's secret */
    const char *env_want[] = {
        "EDGEKV_TOKEN=%s\nEDGEKV_CURVE_SERVER_SECRET=%s\nEDGEKV_CURVE_CLIENT_KEY=%s\n",
        "EDGEKV_TOKEN=%s\nEDGEKV_CURVE_SERVER_SECRET=%s\nEDGEKV_CURVE_CLIENT_KEY=%s\n"
        "EDGEKV_CURVE_SERVER_KEY=%s\nEDGEKV_CURVE_CLIENT_SECRET=%s\n",
        "EDGEKV_TOKEN=%s\nEDGEKV_CURVE_SERVER_KEY=%s\nEDGEKV_CURVE_CLIENT_SECRET=%s\n"};
    char expect[3][1024];
    snprintf(expect[0], sizeof expect[0], env_want[0], g_keys.token, g_keys.server_secret,
             g_keys.client_public);
    snprintf(expect[1], sizeof expect[1], env_want[1], g_keys.token, g_keys.server_secret,
             g_keys.client_public, g_keys.server_public, g_keys.client_secret);
    snprintf(expect[2], sizeof expect[2], env_want[2], g_keys.token, g_keys.server_public,
             g_keys.client_secret);
    const char *envs[] = {"env/coordinator.env", "env/tier.env", "env/pop.env"};
    for (int i = 0; i < 3; i++) {
        path_of(p, sizeof p, envs[i]);
        CHECK_EQ(ekv_file_read(p, 1 << 20, &text, &len), EKV_OK);
        CHECK_STR(text, expect[i]);
        free(text);
        CHECK_EQ(mode_of(envs[i]), 0600);
    }
    check_world("http://127.0.0.1:30000", "http://127.0.0.1:30100", "http://127.0.0.1:30010");
    yfree(&y);
}

static void test_refusals(void)
{
    char err[512];
    ekv_export_opts_t o = {.kind = EKV_EXPORT_PODMAN,
                           .out = ekv_tmpdir_top,
                           .image = "x",
                           .name = "Bad_Name",
                           .storage = "1Gi",
                           .port_base = 30000};
    CHECK_EQ(ekv_export_write(g_t, g_topo, &g_keys, &o, err, sizeof err), EKV_EINVAL);
    CHECK_STR(err, "--name 'Bad_Name': up to 30 characters of a-z, 0-9 and '-'");
    o.name = "ok";
    o.port_base = 65500;
    CHECK_EQ(ekv_export_write(g_t, g_topo, &g_keys, &o, err, sizeof err), EKV_EINVAL);
    CHECK_STR(err, "--port-base 65500: the ports 65500..65601 must lie in 1024..65535");
}

int main(void)
{
    char err[512];
    if (ekv_tmpdir_init("export") != 0)
        return 1;
    g_t = ekv_topo_parse("t.yaml", g_topo, strlen(g_topo), err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "topology: %s\n", err);
        return 1;
    }
    EKV_TEST_RUN(test_k8s);
    EKV_TEST_RUN(test_k8s_world);
    EKV_TEST_RUN(test_podman);
    EKV_TEST_RUN(test_compose);
    EKV_TEST_RUN(test_refusals);
    ekv_topo_destroy(&g_t);
    EKV_TEST_DONE();
}
