/* look: `edgekv look KEY [--ns NS] [--json]`: what every PoP and regional tier would serve for
 * KEY now, beside the coordinator's current version.
 *
 * Each node answers /_edgekv/look from its cache without touching it (no LRU move, no read
 * counted, no fetch), so looking changes nothing a reader will see. The coordinator's version
 * comes from a REST read of the key. A copy is fresh (served as is), stale (past its cacheTtl:
 * the next read fetches it again) or absent (the next read is a miss). Rows are sorted by name,
 * tiers marked. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_kv.h"
#include "ekv_mem.h"
#include "hclient.h"
#include "look.h"
#include "state.h"
#include "text.h"

void ekv_look_pct(char *out, size_t size, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

typedef struct {
    const ekv_proc_t *proc;
    int tier;
    json_t *look; /* the node's answer, NULL when none */
} row_t;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const row_t *)a)->proc->name, ((const row_t *)b)->proc->name);
}

/* "12.3 s" from simulated ms, "-" for null. */
static const char *secs(char *buf, size_t size, json_t *ms)
{
    if (!json_is_number(ms))
        return "-";
    snprintf(buf, size, "%.1f s", json_number_value(ms) / 1000.0);
    return buf;
}

static void print_table(const row_t *rows, size_t n, const char *key, int cstatus,
                        const char *cversion)
{
    if (cstatus == 200 && cversion)
        printf("coordinator: %s is version %s\n", key, cversion);
    else if (cstatus == 404)
        printf("coordinator: %s is not found\n", key);
    else
        printf("coordinator: did not answer (%d)\n", cstatus);
    printf("%-16s %-18s %-9s %-20s %10s %11s\n", "POP", "CITY", "STATE", "VERSION", "AGE",
           "EXPIRES IN");
    for (size_t i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        char name[80], ver[32], a[32], e[32];
        snprintf(name, sizeof name, "%s%s", r->proc->name, r->tier ? " (tier)" : "");
        printf("%-16s ", name);
        ekv_text_pad(r->proc->city, 18);
        if (!r->look) {
            printf(" %-9s\n", "no answer");
            continue;
        }
        json_t *seq = json_object_get(r->look, "seq");
        if (!json_is_integer(seq))
            snprintf(ver, sizeof ver, "-");
        else if (json_is_true(json_object_get(r->look, "negative")))
            snprintf(ver, sizeof ver, "not found (%lld)", (long long)json_integer_value(seq));
        else
            snprintf(ver, sizeof ver, "%lld", (long long)json_integer_value(seq));
        const char *state = json_string_value(json_object_get(r->look, "state"));
        printf(" %-9s %-20s %10s %11s\n", state ? state : "?", ver,
               secs(a, sizeof a, json_object_get(r->look, "age_ms")),
               secs(e, sizeof e, json_object_get(r->look, "expires_in_ms")));
    }
}

static void print_json(const row_t *rows, size_t n, const char *key, const char *ns, int cstatus,
                       const char *cversion)
{
    json_t *nodes = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = rows[i].look ? json_deep_copy(rows[i].look) : json_object();
        json_object_set_new(o, "name", json_string(rows[i].proc->name));
        json_object_set_new(o, "city", json_string(rows[i].proc->city));
        json_object_set_new(o, "tier", json_boolean(rows[i].tier));
        json_object_set_new(o, "answered", json_boolean(rows[i].look != NULL));
        json_array_append_new(nodes, o);
    }
    json_t *coord =
        json_pack("{s:i, s:o}", "status", cstatus, "version",
                  cstatus == 200 && cversion ? json_integer((json_int_t)strtoll(cversion, NULL, 10))
                                             : json_null());
    json_t *j = json_pack("{s:s, s:s, s:o, s:o}", "key", key, "ns", ns, "coordinator", coord,
                          "nodes", nodes);
    char *text = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(j);
}

int ekv_cmd_look(int argc, char **argv)
{
    const char *key = NULL, *ns = EKV_KV_DEFAULT_NS;
    int json = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--ns") && i + 1 < argc)
            ns = argv[++i];
        else if (argv[i][0] != '-' && !key)
            key = argv[i];
        else
            bad = 1;
    }
    if (bad || !key || !*key || strlen(key) > 512 || strlen(ns) > 64) {
        fprintf(stderr, "usage: edgekv look KEY [--ns NS] [--json]\n");
        return 2;
    }
    ekv_state_t *st = NULL;
    if (ekv_state_load(&st) != 0 || st->npops == 0) {
        fprintf(stderr, "edgekv: nothing is running; start a topology with `edgekv up`\n");
        ekv_state_destroy(&st);
        return 1;
    }
    char ekey[1600], ens[200];
    ekv_look_pct(ekey, sizeof ekey, key);
    ekv_look_pct(ens, sizeof ens, ns);
    size_t n = st->npops + st->ntiers;
    row_t *rows = ekv_calloc(n, sizeof *rows);
    ekv_hc_req_t *r = ekv_calloc(n + 1, sizeof *r); /* the last one asks the coordinator */
    for (size_t i = 0; i < n; i++) {
        rows[i].tier = i >= st->npops;
        rows[i].proc = rows[i].tier ? &st->tiers[i - st->npops] : &st->pops[i];
        r[i].method = "GET";
        snprintf(r[i].url, sizeof r[i].url, "%s/_edgekv/look?ns=%s&key=%s", rows[i].proc->url, ens,
                 ekey);
    }
    r[n].method = "GET";
    snprintf(r[n].url, sizeof r[n].url,
             "%s/client/v4/accounts/look/storage/kv/namespaces/%s/values/%s", st->coord.url, ens,
             ekey);
    ekv_hc_run(r, n + 1, 15000);
    for (size_t i = 0; i < n; i++)
        rows[i].look = r[i].status == 200 ? json_loads(r[i].resp, 0, NULL) : NULL;
    qsort(rows, n, sizeof *rows, by_name);
    if (json)
        print_json(rows, n, key, ns, r[n].status, r[n].version);
    else
        print_table(rows, n, key, r[n].status, r[n].version);
    for (size_t i = 0; i < n; i++)
        json_decref(rows[i].look);
    for (size_t i = 0; i <= n; i++)
        ekv_hc_req_fini(&r[i]);
    free(r);
    free(rows);
    ekv_state_destroy(&st);
    return 0;
}
