/* kvcli: `edgekv kv`, wrangler 4's KV commands against the running world.
 *
 *   edgekv kv namespace create NAME | list | delete | rename [OLD] --new-name NEW
 *   edgekv kv key put KEY [VALUE] | get KEY | list | delete KEY
 *   edgekv kv bulk put | delete | get FILE                   (kvcli_bulk.c)
 *
 * Flags, messages, JSON shapes and exit codes are wrangler 4's (packages/wrangler/src/kv), so
 * a script written for `wrangler kv ... --remote` runs against edgekv with the command renamed:
 * lists and gets print JSON (JSON.stringify's two-space indent), writes print wrangler's
 * lines, errors print "✘ [ERROR] ..." on stderr and exit 1, usage errors too. The test
 * compat.kvcli_wrangler holds the output to the pinned wrangler's (tests/compat), line by line.
 *
 * --binding reads the wrangler configuration (kvcli_io.c) and, like `edgekv dev`, takes a
 * configured id that is no edgekv namespace for the namespace titled "wrangler:<id>".
 *
 * The store is the coordinator's REST API (KV-SPEC section 3; its url in state.json), what
 * wrangler --remote talks to. With --pop NAME every call goes through that PoP's binding
 * surface instead (section 4): reads show what a Worker there would read (its cached copy,
 * stale or not, until the copy's cacheTtl), writes are the binding's (1 write/s per key).
 * The PoP knows no namespaces, so with --pop the namespace is first looked up at the
 * coordinator: an unknown one is the REST API's 404, not an empty PoP answer.
 *
 * There is no local storage: --remote is accepted and changes nothing, --local is refused.
 * A key put with --metadata goes to the REST API's bulk write (a raw PUT carries no metadata,
 * and hclient writes no multipart); a PoP put carries it in CF-KV-Metadata. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_base64.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "kvcli.h"
#include "kvcli_int.h"
#include "look.h"

typedef struct verb verb_t;

struct verb {
    const char *group, *name;
    int min_pos, max_pos;
    int needs_ns;      /* takes exactly one of --binding and --namespace-id */
    const char *flags; /* the flags it takes besides the common ones, each in spaces */
    int (*run)(kv_ctx_t *c, const kv_args_t *a);
    const char *usage;
};

/* ---- shared steps -------------------------------------------------------------------------- */

static int ns_all(kv_ctx_t *c, json_t **all);

/* `edgekv dev`'s mapping (docs/dev.md): a configured id that is no edgekv namespace stands for
 * the namespace titled "wrangler:<id>", so --binding finds the data the user's Worker wrote. */
static int map_like_dev(kv_ctx_t *c)
{
    json_t *all, *it;
    size_t i;
    char title[100], id[64] = "";
    if (ns_all(c, &all) != 0)
        return 1;
    snprintf(title, sizeof title, "wrangler:%s", c->ns);
    json_array_foreach(all, i, it)
    {
        const char *t = json_string_value(json_object_get(it, "title"));
        const char *nid = json_string_value(json_object_get(it, "id"));
        if (nid && !strcmp(nid, c->ns)) {
            *id = '\0'; /* an edgekv namespace: taken as it is */
            break;
        }
        if (t && nid && !strcmp(t, title))
            snprintf(id, sizeof id, "%s", nid);
    }
    if (*id) {
        snprintf(c->ns, sizeof c->ns, "%s", id);
        ekv_look_pct(c->ns_enc, sizeof c->ns_enc, id);
    }
    json_decref(all);
    return 0;
}

/* How wrangler names the namespace in its messages: by binding when the command named one. */
static void set_label(kv_ctx_t *c, const kv_args_t *a)
{
    if (a->binding)
        snprintf(c->label, sizeof c->label, "binding: \"%.500s\" (id: \"%s\")", a->binding, c->ns);
    else
        snprintf(c->label, sizeof c->label, "id: \"%s\"", c->ns);
}

int kv_need_ns(kv_ctx_t *c, const kv_args_t *a)
{
    char err[512];
    if (kv_resolve_ns(c, a, err, sizeof err) != 0)
        return kv_error("%s", err);
    if (a->binding && map_like_dev(c) != 0)
        return 1;
    set_label(c, a);
    if (!c->pop)
        return 0;
    /* A PoP answers "not found" for a namespace nobody created: ask the coordinator first. */
    char path[256];
    json_t *env;
    snprintf(path, sizeof path, "/%s", c->ns_enc);
    if (kv_rest(c, "GET", path, NULL, NULL, 0, &env) != 0)
        return 1;
    json_decref(env);
    return 0;
}

/* "?expiration=N&expiration_ttl=N" as wrangler sends them (only non-zero ones), "" if none. */
static void expiry_query(const kv_args_t *a, char *q, size_t n, const char *first)
{
    int exp = a->expiration && strtoll(a->expiration, NULL, 10) != 0;
    int ttl = a->ttl && strtoll(a->ttl, NULL, 10) != 0;
    snprintf(q, n, "%s%s%s%s%s%s", exp || ttl ? first : "", exp ? "expiration=" : "",
             exp ? a->expiration : "", exp && ttl ? "&" : "", ttl ? "expiration_ttl=" : "",
             ttl ? a->ttl : "");
}

/* ---- kv namespace -------------------------------------------------------------------------- */

/* wrangler's getValidBindingName: a JavaScript identifier from a name, else "KV". */
static void binding_name(const char *name, char *out, size_t n)
{
    size_t o = 0;
    if (isdigit((unsigned char)*name) && o + 1 < n)
        out[o++] = '_';
    for (const char *p = name; *p && o + 1 < n; p++) {
        char ch = (*p == '-' || isspace((unsigned char)*p)) ? '_' : *p;
        if (!isalnum((unsigned char)ch) && ch != '_')
            continue;
        if (ch == '_' && o > 0 && out[o - 1] == '_')
            continue;
        out[o++] = ch;
    }
    out[o] = '\0';
    if (strspn(out, "_") == o)
        snprintf(out, n, "KV");
}

static int ns_create(kv_ctx_t *c, const kv_args_t *a)
{
    char title[1100], binding[600];
    snprintf(title, sizeof title, "%s%s%s%s", a->env ? a->env : "", a->env ? "-" : "", a->pos[0],
             a->preview == 1 ? "_preview" : "");
    binding_name(a->binding ? a->binding : a->pos[0], binding, sizeof binding);
    puts(KV_REMOTE_LINE);
    printf("\xf0\x9f\x8c\x80 Creating namespace with title \"%s\"\n", title); /* 🌀 */
    fflush(stdout);
    json_t *env, *body = json_pack("{s:s}", "title", title);
    c->quiet_code = 10014; /* wrangler words a taken title itself */
    int rc = kv_rest_json(c, "POST", "", body, &env);
    c->quiet_code = 0;
    json_decref(body);
    if (rc == 2) {
        json_decref(env);
        return kv_error("A KV namespace with the title \"%s\" already exists.\nYou can list "
                        "existing namespaces with their IDs by running:\n  edgekv kv namespace "
                        "list\nOr choose a different namespace name.",
                        title);
    }
    if (rc != 0)
        return 1;
    const char *id = json_string_value(json_object_get(json_object_get(env, "result"), "id"));
    printf("\xe2\x9c\xa8 Success!\n"); /* ✨ */
    printf("To access your new KV Namespace in your Worker, add the following snippet to your "
           "configuration file%s%s%s:\n",
           a->env ? " in the \"" : "", a->env ? a->env : "", a->env ? "\" environment" : "");
    json_t *snippet = json_pack("{s:[{s:s, s:s}]}", "kv_namespaces", "binding", binding,
                                a->preview == 1 ? "preview_id" : "id", id ? id : "");
    kv_print_json(snippet);
    json_decref(snippet);
    json_decref(env);
    return 0;
}

/* Every namespace, as wrangler pages through them (100 a page, by title). */
static int ns_all(kv_ctx_t *c, json_t **all)
{
    *all = json_array();
    for (int page = 1;; page++) {
        char q[96];
        json_t *env;
        snprintf(q, sizeof q, "?per_page=100&order=title&direction=asc&page=%d", page);
        if (kv_rest(c, "GET", "", q, NULL, 0, &env) != 0) {
            json_decref(*all);
            return 1;
        }
        json_t *res = json_object_get(env, "result");
        json_array_extend(*all, res);
        size_t got = json_array_size(res);
        json_decref(env);
        if (got < 100)
            return 0;
    }
}

static int ns_list(kv_ctx_t *c, const kv_args_t *a)
{
    (void)a;
    json_t *all;
    if (ns_all(c, &all) != 0)
        return 1;
    kv_print_json(all);
    json_decref(all);
    return 0;
}

static int ns_delete(kv_ctx_t *c, const kv_args_t *a)
{
    char err[512], path[256];
    puts(KV_REMOTE_LINE);
    if (kv_resolve_ns(c, a, err, sizeof err) != 0)
        return kv_error("Not able to delete namespace.\n%s", err);
    if (a->binding && map_like_dev(c) != 0)
        return 1;
    set_label(c, a);
    printf("About to delete remote KV namespace %s.\nThis action is irreversible and "
           "will permanently delete all data in the KV namespace.\n\n",
           c->label);
    if (!a->skip_confirm && !kv_confirmed("Ok to proceed?")) {
        printf("Not deleting KV namespace %s.\n", c->label);
        return 0;
    }
    printf("Deleting KV namespace %s.\n", c->label);
    fflush(stdout);
    snprintf(path, sizeof path, "/%s", c->ns_enc);
    json_t *env;
    if (kv_rest(c, "DELETE", path, NULL, NULL, 0, &env) != 0)
        return 1;
    json_decref(env);
    printf("Deleted KV namespace %s.\n", c->label);
    return 0;
}

/* The id of the namespace titled title into id ("" when none); 1 after printing an error. */
static int titled(kv_ctx_t *c, const char *title, char *id, size_t n)
{
    json_t *all, *it;
    size_t i;
    *id = '\0';
    if (ns_all(c, &all) != 0)
        return 1;
    json_array_foreach(all, i, it)
    {
        const char *t = json_string_value(json_object_get(it, "title"));
        const char *nid = json_string_value(json_object_get(it, "id"));
        if (t && nid && !strcmp(t, title)) {
            snprintf(id, n, "%s", nid);
            break;
        }
    }
    json_decref(all);
    return 0;
}

static int ns_rename(kv_ctx_t *c, const kv_args_t *a)
{
    const char *old = a->npos ? a->pos[0] : NULL;
    if (old && a->ns_id)
        return kv_error("Cannot specify both old-name and --namespace-id. Use either old-name (as "
                        "first argument) or --namespace-id flag, not both.");
    if (!old && !a->ns_id)
        return kv_error("Either old-name (as first argument) or --namespace-id must be "
                        "specified");
    if (!a->new_name)
        return kv_error("Missing required argument: new-name");
    if (strlen(a->new_name) > 512)
        return kv_error("new-name must be 512 characters or less (current: %zu)",
                        strlen(a->new_name));
    puts(KV_REMOTE_LINE);
    char id[64] = "", path[256];
    if (a->ns_id)
        snprintf(id, sizeof id, "%s", a->ns_id);
    else if (titled(c, old, id, sizeof id) != 0)
        return 1;
    if (!*id)
        return kv_error("No namespace found with the name \"%s\". Use --namespace-id instead or "
                        "check available namespaces with \"edgekv kv namespace list\".",
                        old);
    printf("Renaming KV namespace %s to \"%s\".\n", id, a->new_name);
    fflush(stdout);
    char enc[200];
    ekv_look_pct(enc, sizeof enc, id);
    snprintf(path, sizeof path, "/%s", enc);
    json_t *env, *body = json_pack("{s:s}", "title", a->new_name);
    int rc = kv_rest_json(c, "PUT", path, body, &env);
    json_decref(body);
    if (rc != 0)
        return 1;
    const char *t = json_string_value(json_object_get(json_object_get(env, "result"), "title"));
    printf("\xe2\x9c\xa8 Successfully renamed namespace to \"%s\"\n", t ? t : a->new_name);
    json_decref(env);
    return 0;
}

/* ---- kv key -------------------------------------------------------------------------------- */

int kv_write_one(kv_ctx_t *c, const kv_args_t *a, const char *key, const char *value, size_t n,
                 const json_t *meta)
{
    char enc[1600], q[128];
    ekv_look_pct(enc, sizeof enc, key);
    char *mtext = meta ? json_dumps(meta, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    int rc;
    if (c->pop) {
        char target[2048];
        expiry_query(a, q, sizeof q, "&");
        snprintf(target, sizeof target, "/%s?urlencoded=true%s", enc, q);
        kv_reply_t r;
        rc = kv_pop(c, "PUT", target, mtext, value, n, &r);
        if (rc == 0 && r.status != 200)
            rc = kv_pop_failed(c, "PUT", target, &r);
        kv_reply_fini(&r);
    } else if (!meta) { /* wrangler: a raw body */
        char path[2048];
        expiry_query(a, q, sizeof q, "?");
        snprintf(path, sizeof path, "/%s/values/%s", c->ns_enc, enc);
        json_t *env;
        rc = kv_rest(c, "PUT", path, q, value, n, &env);
        json_decref(env);
    } else { /* the bulk write carries metadata as JSON; base64 keeps any bytes */
        char *b64 = ekv_b64_encode(value, n, EKV_B64_STD), path[256];
        json_t *item = json_pack("{s:s, s:s, s:b, s:O}", "key", key, "value", b64, "base64", 1,
                                 "metadata", meta);
        if (a->expiration && strtoll(a->expiration, NULL, 10))
            json_object_set_new(item, "expiration", json_integer(strtoll(a->expiration, NULL, 10)));
        if (a->ttl && strtoll(a->ttl, NULL, 10))
            json_object_set_new(item, "expiration_ttl", json_integer(strtoll(a->ttl, NULL, 10)));
        json_t *env, *body = json_pack("[o]", item);
        snprintf(path, sizeof path, "/%s/bulk", c->ns_enc);
        rc = kv_rest_json(c, "PUT", path, body, &env);
        json_decref(body);
        json_decref(env);
        free(b64);
    }
    free(mtext);
    return rc;
}

static int key_put(kv_ctx_t *c, const kv_args_t *a)
{
    const char *key = a->pos[0], *value = a->npos > 1 ? a->pos[1] : NULL;
    if (!value == !a->path)
        return kv_error(value ? "Arguments value and path are mutually exclusive"
                              : "Exactly one of the arguments value and path is required");
    json_t *meta = NULL;
    if (a->metadata) {
        json_error_t e;
        if (!(meta = json_loads(a->metadata, JSON_DECODE_ANY, &e)))
            return kv_error("--metadata is not JSON: %s", e.text);
    }
    char *buf = NULL;
    size_t n = value ? strlen(value) : 0;
    puts(KV_REMOTE_LINE);
    int rc = kv_need_ns(c, a);
    if (rc == 0 && a->path && ekv_file_read(a->path, KV_MAX_FILE, &buf, &n) != EKV_OK)
        rc = kv_error("Could not read file: %s", a->path);
    if (rc == 0) {
        char *mlog = meta ? json_dumps(meta, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (a->path)
            printf("Writing the contents of %s to the key \"%s\" on namespace %s%s%s%s.\n", a->path,
                   key, c->label, mlog ? " with metadata \"" : "", mlog ? mlog : "",
                   mlog ? "\"" : "");
        else
            printf("Writing the value \"%s\" to key \"%s\" on namespace %s%s%s%s.\n", value, key,
                   c->label, mlog ? " with metadata \"" : "", mlog ? mlog : "", mlog ? "\"" : "");
        fflush(stdout);
        free(mlog);
        rc = kv_write_one(c, a, key, buf ? buf : value, n, meta);
    }
    free(buf);
    json_decref(meta);
    return rc;
}

static int key_get(kv_ctx_t *c, const kv_args_t *a)
{
    if (kv_need_ns(c, a) != 0)
        return 1;
    char enc[1600], *value = NULL;
    size_t n = 0;
    ekv_look_pct(enc, sizeof enc, a->pos[0]);
    if (c->pop) {
        char target[2048];
        snprintf(target, sizeof target, "/%s?urlencoded=true", enc);
        kv_reply_t r;
        if (kv_pop(c, "GET", target, NULL, NULL, 0, &r) != 0)
            return 1;
        if (r.status != 200) {
            kv_error("Failed to fetch %s%s - %d: %s", c->pop->url, target, r.status,
                     kv_status_text(r.status));
            kv_reply_fini(&r);
            return 1;
        }
        value = r.body;
        n = r.len;
    } else if (kv_rest_value(c, enc, &value, &n) != 0) {
        return 1;
    }
    fwrite(value, 1, n, stdout);
    if (a->text)
        putchar('\n');
    free(value);
    return 0;
}

/* A PoP's list page as the API's: metadata arrives there as JSON text. */
static void pop_keys_as_api(json_t *keys, json_t *out)
{
    json_t *k;
    size_t i;
    json_array_foreach(keys, i, k)
    {
        json_t *m = json_object_get(k, "metadata");
        if (json_is_string(m))
            json_object_set_new(k, "metadata",
                                json_loads(json_string_value(m), JSON_DECODE_ANY, NULL));
        json_array_append(out, k);
    }
}

/* One page of keys after cursor (prefix percent-encoded) into all, through the PoP or the API;
 * cursor becomes the next page's ("" after the last). 1 after printing an error. */
static int list_page(kv_ctx_t *c, const char *prefix, char *cursor, size_t n, json_t *all)
{
    char ecur[1100], q[2800];
    ekv_look_pct(ecur, sizeof ecur, cursor);
    const char *next = NULL;
    json_t *got = NULL;
    if (c->pop) {
        snprintf(q, sizeof q, "/?prefix=%s%s%s", prefix, *cursor ? "&cursor=" : "", ecur);
        kv_reply_t r;
        int rc = kv_pop(c, "GET", q, NULL, NULL, 0, &r);
        if (rc == 0 && r.status != 200)
            rc = kv_pop_failed(c, "GET", q, &r);
        got = rc == 0 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
        kv_reply_fini(&r);
        if (rc != 0)
            return 1;
        pop_keys_as_api(json_object_get(got, "keys"), all);
        if (!json_is_true(json_object_get(got, "list_complete")))
            next = json_string_value(json_object_get(got, "cursor"));
    } else {
        char path[256];
        snprintf(path, sizeof path, "/%s/keys", c->ns_enc);
        snprintf(q, sizeof q, "?prefix=%s%s%s", prefix, *cursor ? "&cursor=" : "", ecur);
        if (kv_rest(c, "GET", path, q, NULL, 0, &got) != 0)
            return 1;
        json_array_extend(all, json_object_get(got, "result"));
        next = json_string_value(json_object_get(json_object_get(got, "result_info"), "cursor"));
    }
    snprintf(cursor, n, "%s", next ? next : "");
    json_decref(got);
    return 0;
}

static int key_list(kv_ctx_t *c, const kv_args_t *a)
{
    if (kv_need_ns(c, a) != 0)
        return 1;
    char prefix[1600], cursor[1024] = "";
    ekv_look_pct(prefix, sizeof prefix, a->prefix ? a->prefix : "");
    json_t *all = json_array();
    do {
        if (list_page(c, prefix, cursor, sizeof cursor, all) != 0) {
            json_decref(all);
            return 1;
        }
    } while (*cursor);
    kv_print_json(all);
    json_decref(all);
    return 0;
}

static int key_delete(kv_ctx_t *c, const kv_args_t *a)
{
    puts(KV_REMOTE_LINE);
    if (kv_need_ns(c, a) != 0)
        return 1;
    printf("Deleting the key \"%s\" on namespace %s.\n", a->pos[0], c->label);
    fflush(stdout);
    char enc[1600], target[2048];
    ekv_look_pct(enc, sizeof enc, a->pos[0]);
    if (c->pop) {
        snprintf(target, sizeof target, "/%s?urlencoded=true", enc);
        kv_reply_t r;
        int rc = kv_pop(c, "DELETE", target, NULL, NULL, 0, &r);
        if (rc == 0 && r.status != 200)
            rc = kv_pop_failed(c, "DELETE", target, &r);
        kv_reply_fini(&r);
        return rc;
    }
    json_t *env;
    snprintf(target, sizeof target, "/%s/values/%s", c->ns_enc, enc);
    int rc = kv_rest(c, "DELETE", target, NULL, NULL, 0, &env);
    json_decref(env);
    return rc;
}

/* ---- the command line ---------------------------------------------------------------------- */

#define NS_FLAGS " binding namespace-id preview "
#define COMMON   " config env pop local remote "

static const verb_t VERBS[] = {
    {"namespace", "create", 1, 1, 0, " preview binding ", ns_create, "namespace create NAME"},
    {"namespace", "list", 0, 0, 0, " ", ns_list, "namespace list"},
    {"namespace", "delete", 0, 0, 1, NS_FLAGS "skip-confirmation ", ns_delete,
     "namespace delete NS [--skip-confirmation]"},
    {"namespace", "rename", 0, 1, 0, " namespace-id new-name ", ns_rename,
     "namespace rename [OLD_NAME] [--namespace-id ID] --new-name NEW_NAME"},
    {"key", "put", 1, 2, 1, NS_FLAGS "ttl expiration metadata path ", key_put,
     "key put KEY [VALUE] NS [--path FILE] [--metadata JSON] [--ttl S] [--expiration T]"},
    {"key", "get", 1, 1, 1, NS_FLAGS "text ", key_get, "key get KEY NS [--text]"},
    {"key", "list", 0, 0, 1, NS_FLAGS "prefix ", key_list, "key list NS [--prefix P]"},
    {"key", "delete", 1, 1, 1, NS_FLAGS, key_delete, "key delete KEY NS"},
    {"bulk", "put", 1, 1, 1, NS_FLAGS, kv_bulk_put, "bulk put FILE NS"},
    {"bulk", "delete", 1, 1, 1, NS_FLAGS "force ", kv_bulk_delete, "bulk delete FILE NS [--force]"},
    {"bulk", "get", 1, 1, 1, NS_FLAGS, kv_bulk_get, "bulk get FILE NS"},
};
#define NVERBS (sizeof VERBS / sizeof VERBS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: edgekv kv COMMAND [--pop NAME] [--config FILE] [--env ENV]\n");
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  %s\n", VERBS[i].usage);
    fprintf(f, "NS is --binding NAME (through wrangler.json or wrangler.jsonc, --preview for its\n"
               "preview_id) or --namespace-id ID. Against the coordinator's REST API; with --pop\n"
               "NAME through that PoP's binding, its cached view. See docs/kv-cli.md.\n");
}

static int usage_error(const verb_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* wrangler's message for a command line it refuses, after our usage line. Returns 1. */
static int usage_error(const verb_t *v, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "usage: edgekv kv %s%s\n", v->usage,
            v->needs_ns ? "\n  NS: --binding NAME | --namespace-id ID" : "");
    return kv_error("%s", msg);
}

static int has_flag(const char *list, const char *name)
{
    char pat[80];
    snprintf(pat, sizeof pat, " %s ", name);
    return strstr(list, pat) != NULL;
}

/* Sets one flag; -1 after a usage error. *i moves past a value taken from the next word. */
static int set_flag(const verb_t *v, kv_args_t *a, const char *name, const char *value, int argc,
                    char **argv, int *i)
{
    static const char *const bools[] = {"preview", "text",   "force",
                                        "local",   "remote", "skip-confirmation"};
    int *bool_at[] = {&a->preview, &a->text, &a->force, &a->local, &a->remote, &a->skip_confirm};
    for (size_t b = 0; b < sizeof bools / sizeof bools[0]; b++) {
        if (strcmp(name, bools[b]))
            continue;
        if (!value && *i + 1 < argc &&
            (!strcmp(argv[*i + 1], "true") || !strcmp(argv[*i + 1], "false")))
            value = argv[++*i];
        *bool_at[b] = !value || strcmp(value, "false") != 0;
        return 0;
    }
    static const char *const strs[] = {"config",       "env",  "pop",       "binding",
                                       "namespace-id", "path", "metadata",  "prefix",
                                       "new-name",     "ttl",  "expiration"};
    const char **str_at[] = {&a->config,   &a->env,  &a->pop,       &a->binding,
                             &a->ns_id,    &a->path, &a->metadata,  &a->prefix,
                             &a->new_name, &a->ttl,  &a->expiration};
    for (size_t s = 0; s < sizeof strs / sizeof strs[0]; s++) {
        if (strcmp(name, strs[s]))
            continue;
        if (!value && *i + 1 >= argc)
            return usage_error(v, "Not enough arguments following: %s", name) ? -1 : -1;
        *str_at[s] = value ? value : argv[++*i];
        return 0;
    }
    return -1; /* not reached: the name was checked against the verb's flags */
}

/* What wrangler (yargs) refuses once every word is read; 1 after the message. */
static int check_args(const verb_t *v, const kv_args_t *a)
{
    if (a->npos < v->min_pos)
        return usage_error(v, "Not enough non-option arguments: got %d, need at least %d", a->npos,
                           v->min_pos);
    if (a->local && a->remote)
        return usage_error(v, "Arguments local and remote are mutually exclusive");
    if (a->local)
        return kv_error("edgekv has no local storage: the running world is the store. Drop "
                        "--local (every command acts as wrangler's --remote).");
    const char *nums[] = {a->ttl, a->expiration}, *names[] = {"ttl", "expiration"};
    for (int n = 0; n < 2; n++) {
        char *end = NULL;
        if (nums[n])
            strtoll(nums[n], &end, 10);
        if (nums[n] && (!*nums[n] || *end))
            return usage_error(v, "Invalid --%s \"%s\": a whole number of seconds", names[n],
                               nums[n]);
    }
    if (v->needs_ns) { /* wrangler's demandOneOfOption("binding", "namespace-id") */
        if (a->binding && a->ns_id)
            return usage_error(v, "Arguments binding and namespace-id are mutually exclusive");
        if (!a->binding && !a->ns_id)
            return usage_error(v, "Exactly one of the arguments binding and namespace-id is "
                                  "required");
    }
    return 0;
}

static int parse(const verb_t *v, int argc, char **argv, kv_args_t *a)
{
    *a = (kv_args_t){.preview = -1};
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '-' || !w[1]) {
            if (a->npos == v->max_pos)
                return usage_error(v, "Unknown argument: %s", w);
            a->pos[a->npos++] = w;
            continue;
        }
        char name[64];
        const char *eq = strchr(w, '='), *body = w + (w[1] == '-' ? 2 : 1);
        snprintf(name, sizeof name, "%.*s", (int)((eq ? eq : w + strlen(w)) - body), body);
        static const char *const alias[][2] = {
            {"c", "config"}, {"e", "env"}, {"f", "force"}, {"y", "skip-confirmation"}};
        for (size_t k = 0; k < sizeof alias / sizeof alias[0]; k++)
            if (!strcmp(name, alias[k][0]))
                snprintf(name, sizeof name, "%s", alias[k][1]);
        if (!has_flag(v->flags, name) && !has_flag(COMMON, name))
            return usage_error(v, "Unknown argument: %s", name);
        if (set_flag(v, a, name, eq ? eq + 1 : NULL, argc, argv, &i) != 0)
            return 1;
    }
    return check_args(v, a);
}

/* The world, the PoP, the account and the configuration the command needs; 1 after an error. */
static int setup(kv_ctx_t *c, const verb_t *v, const kv_args_t *a)
{
    if (ekv_state_load(&c->st) != EKV_OK || !c->st->coord.url[0])
        return kv_error("Nothing is running in %s: start a world with `edgekv up`.",
                        ekv_state_dir());
    for (size_t i = 0; a->pop && i < c->st->npops && !c->pop; i++)
        if (!strcmp(c->st->pops[i].name, a->pop))
            c->pop = &c->st->pops[i];
    if (a->pop && !c->pop) {
        char names[2048] = "";
        for (size_t i = 0, o = 0; i < c->st->npops && o < sizeof names - 70; i++)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "",
                                  c->st->pops[i].name);
        return kv_error("There is no PoP named \"%s\" in this world. Its PoPs: %s", a->pop, names);
    }
    /* Only a --binding needs the configuration; --config asks for it outright. */
    if ((a->config || (v->needs_ns && a->binding)) && kv_conf_load(c, a->config) != 0)
        return 1;
    const char *acct = getenv("CLOUDFLARE_ACCOUNT_ID");
    if (!acct || !*acct)
        acct = json_string_value(json_object_get(c->conf, "account_id"));
    ekv_look_pct(c->account, sizeof c->account, acct && *acct ? acct : "edgekv");
    return 0;
}

int ekv_cmd_kv(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    const verb_t *v = NULL;
    for (size_t i = 0; argc >= 3 && i < NVERBS && !v; i++)
        if (!strcmp(VERBS[i].group, argv[1]) && !strcmp(VERBS[i].name, argv[2]))
            v = &VERBS[i];
    if (!v) {
        usage(stderr);
        if (argc < 3)
            return kv_error("Not enough arguments: edgekv kv GROUP VERB");
        return kv_error("Unknown command: edgekv kv %s %s", argv[1], argv[2]);
    }
    kv_args_t a;
    if (parse(v, argc - 3, argv + 3, &a) != 0)
        return 1;
    /* wrangler's key get and key list default --preview to false: a binding with both ids reads
     * its id; the writes insist on a choice. */
    if (a.preview < 0 && !strcmp(v->group, "key") && strcmp(v->name, "put") &&
        strcmp(v->name, "delete"))
        a.preview = 0;
    kv_ctx_t c = {0};
    int rc = setup(&c, v, &a);
    if (rc == 0)
        rc = v->run(&c, &a);
    fflush(stdout);
    json_decref(c.conf);
    ekv_state_destroy(&c.st);
    return rc;
}
