/* kvcli_bulk: `edgekv kv bulk put|delete|get FILE`, wrangler 4's bulk commands (see kvcli.c).
 *
 * The file is what wrangler takes: for put an array of {key, value, expiration?,
 * expiration_ttl?, metadata?, base64?}, checked as wrangler checks it (a wrong item stops the
 * command, an unknown field only warns); for delete and get an array of keys or of objects with
 * a "name" (what `key list` prints). Through the REST API the work goes in wrangler's batches
 * (1000 writes or deletes, 100 gets per request); through a PoP (--pop) one binding call per
 * key for writes, which the binding's 1 write/s per key applies to, and 100 keys per bulk get. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_base64.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "kvcli_int.h"
#include "look.h"

#define BULK_WRITE_BATCH 1000 /* what wrangler sends per bulk write or delete */
#define BULK_GET_BATCH   100  /* the API's most keys per bulk get */

#define MAX_LISTED 12 /* bad items listed in one message, then "..." (as wrangler) */

/* The lines under a message: one per bad item, at most MAX_LISTED. */
typedef struct {
    char text[6144];
    size_t len;
    int n;
} notes_t;

static void note(notes_t *nt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(notes_t *nt, const char *fmt, ...)
{
    if (nt->n++ > MAX_LISTED)
        return;
    char line[1024] = "...";
    if (nt->n <= MAX_LISTED) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
    }
    int w =
        snprintf(nt->text + nt->len, sizeof nt->text - nt->len, "%s%s", nt->len ? "\n" : "", line);
    if (w > 0 && (size_t)w < sizeof nt->text - nt->len)
        nt->len += (size_t)w;
}

/* Reads a JSON file as wrangler's parseJSON does; 1 after printing why not. */
static int read_json_file(const char *path, json_t **out)
{
    char *text;
    size_t len;
    int rc = ekv_file_read(path, KV_MAX_FILE, &text, &len);
    if (rc == EKV_ENOTFOUND) { /* node's message names the absolute path */
        char cwd[2048] = "";
        if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
            cwd[0] = '\0';
        return kv_error("Could not read file: %s\nENOENT: no such file or directory, open "
                        "'%s%s%s'",
                        path, cwd, *cwd ? "/" : "", path);
    }
    if (rc != EKV_OK)
        return kv_error("Could not read file: %s", path);
    json_error_t e;
    *out = json_loadb(text, len, JSON_DECODE_ANY, &e);
    free(text);
    if (!*out)
        return kv_error("%s\n%s:%d:%d", e.text, path, e.line, e.column);
    return 0;
}

static const char *js_type(const json_t *j)
{
    return json_is_number(j) ? "number" : json_is_boolean(j) ? "boolean" : "object";
}

/* bulk delete and get: an array of strings or of objects with a "name" (what key list prints). */
static int read_key_file(const char *path, json_t **keys)
{
    json_t *content, *it;
    size_t i;
    if (read_json_file(path, &content) != 0)
        return 1;
    if (!json_is_array(content)) {
        json_decref(content);
        return kv_error("Unexpected JSON input from \"%s\".\nExpected an array of strings but "
                        "got:\n%s",
                        path, json_is_object(content) ? "[object Object]" : "a single value");
    }
    notes_t bad = {.len = 0};
    *keys = json_array();
    json_array_foreach(content, i, it)
    {
        json_t *k = json_is_object(it) ? json_object_get(it, "name") : it;
        if (json_is_string(k)) {
            json_array_append(*keys, k);
            continue;
        }
        char *s = json_dumps(it, JSON_COMPACT | JSON_ENCODE_ANY);
        note(&bad, "The item at index %zu is type: \"%s\" - %s", i, js_type(it), s ? s : "null");
        free(s);
    }
    json_decref(content);
    if (bad.n) {
        json_decref(*keys);
        return kv_error("Unexpected JSON input from \"%s\".\nExpected an array of strings or "
                        "objects with a \"name\" key.\n%s",
                        path, bad.text);
    }
    return 0;
}

/* wrangler's isKVKeyValue. */
static int is_key_value(const json_t *it)
{
    const json_t *e = json_object_get(it, "expiration"), *t = json_object_get(it, "expiration_ttl");
    const json_t *b = json_object_get(it, "base64"), *m = json_object_get(it, "metadata");
    return json_is_object(it) && json_is_string(json_object_get(it, "key")) &&
           json_is_string(json_object_get(it, "value")) && (!e || json_is_number(e)) &&
           (!t || json_is_number(t)) && (!b || json_is_boolean(b)) &&
           (!m || json_is_object(m) || json_is_array(m) || json_is_null(m));
}

/* Checks a bulk put file as wrangler does: errors stop it, unexpected fields only warn. */
static int check_key_values(const char *file, const json_t *content)
{
    static const char *const known[] = {"key",      "value",  "expiration", "expiration_ttl",
                                        "metadata", "base64", NULL};
    notes_t bad = {.len = 0}, odd = {.len = 0};
    const json_t *it;
    size_t i;
    json_array_foreach(content, i, it)
    {
        if (!is_key_value(it)) {
            char *s = json_dumps(it, JSON_COMPACT | JSON_ENCODE_ANY);
            note(&bad, "The item at index %zu is %s", i, s ? s : "?");
            free(s);
            continue;
        }
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)it, k, v)
        {
            size_t j = 0;
            while (known[j] && strcmp(known[j], k))
                j++;
            if (!known[j])
                note(&odd, "The item at index %zu contains unexpected properties: [\"%s\"].", i, k);
        }
    }
    if (odd.n)
        kv_warn("Unexpected key-value properties in \"%s\".\n%s", file, odd.text);
    if (bad.n)
        return kv_error("Unexpected JSON input from \"%s\".\nEach item in the array should be an "
                        "object that matches:\n\ninterface KeyValue {\n  key: string;\n  value: "
                        "string;\n  expiration?: number;\n  expiration_ttl?: number;\n  "
                        "metadata?: object;\n  base64?: boolean;\n}\n\n%s",
                        file, bad.text);
    return 0;
}

/* One bulk put item through the PoP: the binding's put, one key at a time. */
static int pop_put_item(kv_ctx_t *c, const kv_args_t *a, const json_t *it)
{
    kv_args_t one = *a;
    char exp[32] = "", ttl[32] = "";
    const json_t *e = json_object_get(it, "expiration"), *t = json_object_get(it, "expiration_ttl");
    snprintf(exp, sizeof exp, "%.0f", e ? json_number_value(e) : 0.0);
    snprintf(ttl, sizeof ttl, "%.0f", t ? json_number_value(t) : 0.0);
    one.expiration = exp;
    one.ttl = ttl;
    const char *value = json_string_value(json_object_get(it, "value"));
    char *raw = NULL;
    size_t n = strlen(value);
    if (json_is_true(json_object_get(it, "base64")) && !(raw = ekv_b64_decode(value, n, &n)))
        return kv_error("The value of \"%s\" is not base64",
                        json_string_value(json_object_get(it, "key")));
    int rc = kv_write_one(c, &one, json_string_value(json_object_get(it, "key")), raw ? raw : value,
                          n, json_object_get(it, "metadata"));
    free(raw);
    return rc;
}

/* Sends items (or keys) to the bulk endpoint in wrangler's batches. */
static int rest_batches(kv_ctx_t *c, const char *method, const char *what, const json_t *items)
{
    char path[256];
    snprintf(path, sizeof path, "/%s/bulk%s", c->ns_enc, what);
    for (size_t i = 0; i < json_array_size(items); i += BULK_WRITE_BATCH) {
        json_t *batch = json_array(), *env;
        for (size_t j = i; j < i + BULK_WRITE_BATCH && j < json_array_size(items); j++)
            json_array_append(batch, json_array_get(items, j));
        int rc = kv_rest_json(c, method, path, batch, &env);
        json_decref(batch);
        json_decref(env);
        if (rc != 0)
            return 1;
    }
    return 0;
}

int kv_bulk_put(kv_ctx_t *c, const kv_args_t *a)
{
    json_t *content;
    puts(KV_REMOTE_LINE);
    fflush(stdout);
    if (kv_need_ns(c, a) != 0 || read_json_file(a->pos[0], &content) != 0)
        return 1;
    int rc = 0;
    if (!json_is_array(content))
        rc = kv_error("Unexpected JSON input from \"%s\".\nExpected an array of key-value objects "
                      "but got type \"%s\".",
                      a->pos[0], json_is_string(content) ? "string" : "object");
    else if (check_key_values(a->pos[0], content) != 0)
        rc = 1;
    for (size_t i = 0; rc == 0 && c->pop && i < json_array_size(content); i++)
        rc = pop_put_item(c, a, json_array_get(content, i));
    if (rc == 0 && !c->pop)
        rc = rest_batches(c, "PUT", "", content);
    if (rc == 0)
        puts("Success!");
    json_decref(content);
    return rc;
}

int kv_bulk_delete(kv_ctx_t *c, const kv_args_t *a)
{
    puts(KV_REMOTE_LINE);
    if (kv_need_ns(c, a) != 0)
        return 1;
    if (!a->force) {
        char q[1400];
        snprintf(q, sizeof q,
                 "Are you sure you want to delete all the keys read from \"%s\" from "
                 "kv-namespace %s?",
                 a->pos[0], c->label);
        if (!kv_confirmed(q)) {
            printf("Not deleting keys read from \"%s\".\n", a->pos[0]);
            return 0;
        }
    }
    fflush(stdout);
    json_t *keys;
    if (read_key_file(a->pos[0], &keys) != 0)
        return 1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && c->pop && i < json_array_size(keys); i++) {
        char enc[1600], target[2048];
        ekv_look_pct(enc, sizeof enc, json_string_value(json_array_get(keys, i)));
        snprintf(target, sizeof target, "/%s?urlencoded=true", enc);
        kv_reply_t r;
        rc = kv_pop(c, "DELETE", target, NULL, NULL, 0, &r);
        if (rc == 0 && r.status != 200)
            rc = kv_pop_failed(c, "DELETE", target, &r);
        kv_reply_fini(&r);
    }
    if (rc == 0 && !c->pop)
        rc = rest_batches(c, "POST", "/delete", keys);
    if (rc == 0)
        puts("Success!");
    json_decref(keys);
    return rc;
}

/* One bulk get of up to 100 keys into values (key -> value or null). */
static int get_batch(kv_ctx_t *c, json_t *batch, json_t *values)
{
    json_t *body = json_pack("{s:O}", "keys", batch), *got = NULL, *env = NULL;
    int rc;
    if (c->pop) {
        char *text = json_dumps(body, JSON_COMPACT);
        kv_reply_t r;
        rc = kv_pop(c, "POST", "/bulk/get", NULL, text, strlen(text), &r);
        if (rc == 0 && r.status != 200)
            rc = kv_pop_failed(c, "POST", "/bulk/get", &r);
        if (rc == 0)
            got = json_loadb(r.body, r.len, 0, NULL);
        if (rc == 0 && !json_is_object(got)) /* a macro: its argument is read twice */
            rc = kv_error("PoP %s answered a bulk get with no JSON object", c->pop->name);
        kv_reply_fini(&r);
        free(text);
    } else {
        char path[256];
        snprintf(path, sizeof path, "/%s/bulk/get", c->ns_enc);
        rc = kv_rest_json(c, "POST", path, body, &env);
        got =
            rc == 0 ? json_incref(json_object_get(json_object_get(env, "result"), "values")) : NULL;
    }
    if (rc == 0)
        json_object_update(values, got);
    json_decref(got);
    json_decref(env);
    json_decref(body);
    return rc;
}

int kv_bulk_get(kv_ctx_t *c, const kv_args_t *a)
{
    json_t *keys;
    if (kv_need_ns(c, a) != 0 || read_key_file(a->pos[0], &keys) != 0)
        return 1;
    json_t *values = json_object();
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(keys); i += BULK_GET_BATCH) {
        json_t *batch = json_array();
        for (size_t j = i; j < i + BULK_GET_BATCH && j < json_array_size(keys); j++)
            json_array_append(batch, json_array_get(keys, j));
        rc = get_batch(c, batch, values);
        json_decref(batch);
    }
    if (rc == 0) { /* the API's values as wrangler prints them, then its "\nSuccess!" */
        kv_print_json(values);
        puts("\nSuccess!");
    }
    json_decref(values);
    json_decref(keys);
    return rc;
}
