/* kvcli_io: what `edgekv kv` (kvcli.c) says and whom it asks: wrangler's error lines, the
 * wrangler configuration (JSON or JSONC) and the namespace a --binding names, the REST calls
 * to the coordinator (through hclient) and the binding calls to a PoP.
 *
 * A PoP call carries X-Edgekv-Namespace (and CF-KV-Metadata for a put): the binding surface
 * takes the namespace of a list or a bulk get only from that header.
 *
 * A REST call carries the user's token when they gave one as wrangler takes it
 * (CLOUDFLARE_API_TOKEN), else hclient adds the world's (keys.json), if it has keys. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "hclient.h"
#include "kvcli.h"
#include "kvcli_int.h"
#include "look.h"

#define TIMEOUT_MS 30000
#define MAX_CONF   (4u * 1024 * 1024)

/* ---- what wrangler prints ------------------------------------------------------------------ */

/* wrangler's (esbuild's) message block on stderr: the first line after the mark, then a blank
 * line and every other line indented by two spaces, then a blank line. */
static void block(const char *mark, const char *fmt, va_list ap)
{
    char msg[8192];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char *line = strchr(msg, '\n');
    if (line)
        *line++ = '\0';
    fprintf(stderr, "%s %s\n", mark, msg);
    if (line)
        fputc('\n', stderr);
    while (line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        fprintf(stderr, "  %s\n", line);
        line = next;
    }
    fputc('\n', stderr);
}

int kv_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    block("\xe2\x9c\x98 [ERROR]", fmt, ap); /* ✘ */
    va_end(ap);
    return 1;
}

void kv_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    block("\xe2\x96\xb2 [WARNING]", fmt, ap); /* ▲ */
    va_end(ap);
}

int kv_confirmed(const char *question)
{
    printf("? %s\n", question);
    if (!isatty(0)) {
        printf("\xf0\x9f\xa4\x96 Using fallback value in non-interactive context: yes\n");
        return 1;
    }
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 0;
    return line[0] == 'y' || line[0] == 'Y' || line[0] == '\n';
}

/* JSON.stringify(j, null, 2): jansson's indent of 2 writes the same separators. */
void kv_print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (s)
        puts(s);
    free(s);
}

/* ---- the wrangler configuration ------------------------------------------------------------ */

void ekv_kvcli_jsonc_strip(char *s, size_t n)
{
    size_t comma = (size_t)-1; /* a comma with only blanks after it so far */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') { /* skip the string, escapes included */
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            comma = (size_t)-1;
        } else if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
            for (; i < n && s[i] != '\n'; i++)
                s[i] = ' ';
        } else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            s[i] = s[i + 1] = ' ';
            for (i += 2; i < n && !(s[i] == '*' && i + 1 < n && s[i + 1] == '/'); i++)
                if (s[i] != '\n')
                    s[i] = ' ';
            if (i < n)
                s[i] = s[i + 1] = ' ';
            i++;
        } else if (s[i] == ',') {
            comma = i;
        } else if ((s[i] == '}' || s[i] == ']') && comma != (size_t)-1) {
            s[comma] = ' ';
            comma = (size_t)-1;
        } else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
            comma = (size_t)-1;
        }
    }
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

int kv_conf_load(kv_ctx_t *c, const char *path)
{
    static const char *const names[] = {"wrangler.json", "wrangler.jsonc", "wrangler.toml"};
    if (!path) /* wrangler's order in the current folder */
        for (size_t i = 0; i < 3 && !path; i++)
            if (access(names[i], F_OK) == 0)
                path = names[i];
    if (!path)
        return 0;
    snprintf(c->conf_path, sizeof c->conf_path, "%s", path);
    if (ends_with(path, ".toml"))
        return kv_error("%s: edgekv kv reads wrangler.json and wrangler.jsonc only (Debian ships "
                        "no C TOML library).\nConvert it to wrangler.jsonc, pass --namespace-id, "
                        "or run your Worker with `edgekv dev`, whose Node side reads TOML.",
                        path);
    char *text;
    size_t len;
    if (ekv_file_read(path, MAX_CONF, &text, &len) != EKV_OK)
        return kv_error("Could not read file: %s", path);
    ekv_kvcli_jsonc_strip(text, len);
    json_error_t e;
    c->conf = json_loadb(text, len, 0, &e);
    free(text);
    if (!c->conf)
        return kv_error("%s\n%s:%d:%d", e.text, path, e.line, e.column);
    if (!json_is_object(c->conf))
        return kv_error("%s: the configuration is not a JSON object", path);
    return 0;
}

/* Which of a binding's ids (wrangler's rules): --preview picks preview_id, --preview false
 * picks id, neither the only one there is. */
static int pick_id(const json_t *ns, const kv_args_t *a, const char **id, char *err, size_t n)
{
    const char *b = a->binding;
    const char *pid = json_string_value(json_object_get(ns, "id"));
    const char *ppv = json_string_value(json_object_get(ns, "preview_id"));
    *id = a->preview == 1 || (a->preview < 0 && !pid) ? ppv : pid;
    if (a->preview < 0 && pid && ppv) {
        snprintf(err, n,
                 "%s has both a namespace ID and a preview ID. Specify \"--preview\" or "
                 "\"--preview false\" to avoid writing data to the wrong namespace.",
                 b);
        return -1;
    }
    if (!*id) {
        snprintf(err, n,
                 "No %s ID found for %s. Add one to your wrangler config file to use a separate "
                 "namespace for previewing your worker.",
                 a->preview == 1 ? "preview" : "namespace", b);
        return -1;
    }
    return 0;
}

/* wrangler's getKVNamespaceId: --namespace-id, else the binding's id or preview_id. */
static int ns_from_binding(const kv_ctx_t *c, const kv_args_t *a, const char **id, char *err,
                           size_t n)
{
    const char *b = a->binding;
    const json_t *scope = c->conf; /* none: wrangler 4 reads an empty configuration */
    if (a->env) /* wrangler: kv_namespaces are not inherited, an environment names its own */
        scope = json_object_get(json_object_get(c->conf, "env"), a->env);
    if (a->env && c->conf && !json_is_object(scope)) {
        snprintf(err, n, "No environment \"%s\" in %s (its \"env\" object).", a->env, c->conf_path);
        return -1;
    }
    json_t *list = json_object_get(scope, "kv_namespaces"), *ns = NULL, *it;
    size_t i;
    if (json_array_size(list) == 0) {
        snprintf(err, n,
                 "No KV Namespaces configured! Either use --namespace-id to upload "
                 "directly or add a KV namespace to your wrangler config file.");
        return -1;
    }
    json_array_foreach(list, i, it)
    {
        const char *name = json_string_value(json_object_get(it, "binding"));
        if (name && !strcmp(name, b)) {
            ns = it;
            break;
        }
    }
    if (!ns) {
        snprintf(err, n,
                 "A namespace with binding name \"%s\" was not found in the configured "
                 "\"kv_namespaces\".",
                 b);
        return -1;
    }
    return pick_id(ns, a, id, err, n);
}

int kv_resolve_ns(kv_ctx_t *c, const kv_args_t *a, char *err, size_t n)
{
    const char *id = a->ns_id;
    if (!id && ns_from_binding(c, a, &id, err, n) != 0)
        return -1;
    if (!*id || strlen(id) >= sizeof c->ns) {
        snprintf(err, n, "Invalid namespace id \"%s\"", id);
        return -1;
    }
    snprintf(c->ns, sizeof c->ns, "%s", id);
    ekv_look_pct(c->ns_enc, sizeof c->ns_enc, id);
    return 0;
}

/* ---- the coordinator's REST API ------------------------------------------------------------ */

/* wrangler's APIError: the resource (without the query), then each error with its code. */
static void api_error(const kv_ctx_t *c, const char *path, const ekv_hc_req_t *r, json_t *env)
{
    char notes[4096] = "";
    size_t o = 0, i;
    json_t *errors = json_object_get(env, "errors"), *e;
    json_array_foreach(errors, i, e)
    {
        const char *m = json_string_value(json_object_get(e, "message"));
        int w = snprintf(notes + o, sizeof notes - o, "%s%s [code: %lld]", i ? "\n" : "",
                         m ? m : "?", (long long)json_integer_value(json_object_get(e, "code")));
        if (w < 0 || (size_t)w >= sizeof notes - o)
            break;
        o += (size_t)w;
    }
    if (r->status == 0)
        snprintf(notes, sizeof notes,
                 "No answer from the coordinator at %s: is the world up (`edgekv status`)?",
                 c->st->coord.url);
    else if (!o)
        snprintf(notes, sizeof notes, "HTTP %d: %.200s", r->status, r->resp ? r->resp : "");
    kv_error("A request to the Cloudflare API (/accounts/%s/storage/kv/namespaces%s) failed.\n%s",
             c->account, path, notes);
}

/* 0, or 1 after an error when the URL does not fit hclient's. */
static int rest_url(const kv_ctx_t *c, char *url, size_t n, const char *path, const char *query)
{
    int w = snprintf(url, n, "%s/client/v4/accounts/%s/storage/kv/namespaces%s%s", c->st->coord.url,
                     c->account, path, query ? query : "");
    if (w < 0 || (size_t)w >= n)
        return kv_error("The request to %s is too long for edgekv's HTTP client", path);
    return 0;
}

/* The user's Authorization for the REST API (h: room for one header and the end), or NULL:
 * hclient then sends the world's token. */
static const char *const *user_auth(const char *h[3], char *buf, size_t n)
{
    const char *t = getenv("CLOUDFLARE_API_TOKEN");
    if (!t || !*t || !ekv_hc_bearer(buf, n, t))
        return NULL;
    h[0] = "Authorization";
    h[1] = buf;
    h[2] = NULL;
    return h;
}

int kv_rest(const kv_ctx_t *c, const char *method, const char *path, const char *query,
            const char *body, size_t len, json_t **envelope)
{
    const char *h[3];
    char auth[EKV_HC_AUTH_MAX];
    ekv_hc_req_t r = {.method = method,
                      .body = body,
                      .body_len = len,
                      .headers = user_auth(h, auth, sizeof auth)};
    *envelope = NULL;
    if (rest_url(c, r.url, sizeof r.url, path, query) != 0)
        return 1;
    ekv_hc_run(&r, 1, TIMEOUT_MS);
    json_t *env = r.status ? json_loadb(r.resp, r.resp_len, 0, NULL) : NULL;
    int rc = 0;
    json_t *first = json_array_get(json_object_get(env, "errors"), 0);
    if (!json_is_true(json_object_get(env, "success")) && c->quiet_code &&
        json_integer_value(json_object_get(first, "code")) == c->quiet_code) {
        rc = 2; /* the caller's to say */
    } else if (!json_is_true(json_object_get(env, "success"))) {
        api_error(c, path, &r, env);
        json_decref(env);
        env = NULL;
        rc = 1;
    }
    ekv_hc_req_fini(&r);
    *envelope = env;
    return rc;
}

int kv_rest_json(const kv_ctx_t *c, const char *method, const char *path, json_t *body,
                 json_t **envelope)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = kv_rest(c, method, path, NULL, text, text ? strlen(text) : 0, envelope);
    free(text);
    return rc;
}

const char *kv_status_text(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

int kv_rest_value(const kv_ctx_t *c, const char *key_enc, char **out, size_t *len)
{
    char path[2048];
    snprintf(path, sizeof path, "/%s/values/%s", c->ns_enc, key_enc);
    const char *h[3];
    char auth[EKV_HC_AUTH_MAX];
    ekv_hc_req_t r = {.method = "GET", .headers = user_auth(h, auth, sizeof auth)};
    if (rest_url(c, r.url, sizeof r.url, path, NULL) != 0)
        return 1;
    ekv_hc_run(&r, 1, TIMEOUT_MS);
    int rc = 0;
    if (r.status == 200) {
        *out = r.resp;
        *len = r.resp_len;
        r.resp = NULL;
    } else if (r.status == 0) {
        rc = kv_error("Failed to fetch %s - no answer: is the world up (`edgekv status`)?", r.url);
    } else { /* wrangler's fetchKVGetValue: status and status text */
        rc = kv_error("Failed to fetch %s - %d: %s", r.url, r.status, kv_status_text(r.status));
    }
    ekv_hc_req_fini(&r);
    return rc;
}

/* ---- a PoP's binding surface --------------------------------------------------------------- */

int kv_pop(const kv_ctx_t *c, const char *method, const char *target, const char *meta,
           const char *body, size_t len, kv_reply_t *out)
{
    memset(out, 0, sizeof *out);
    const char *headers[] = {"X-Edgekv-Namespace", c->ns, meta ? "CF-KV-Metadata" : NULL, meta,
                             NULL};
    ekv_hc_req_t r = {.method = method, .body = body, .body_len = len, .headers = headers};
    if (snprintf(r.url, sizeof r.url, "%s%s", c->pop->url, target) >= (int)sizeof r.url)
        return kv_error("A request to PoP %s is too long (%s %s)", c->pop->name, method, target);
    ekv_hc_run(&r, 1, TIMEOUT_MS);
    if (r.status == 0) {
        ekv_hc_req_fini(&r);
        return kv_error("A request to PoP %s (%s %s) got no answer: is it up (`edgekv status`)?",
                        c->pop->name, method, target);
    }
    out->status = r.status;
    out->body = r.resp ? r.resp : ekv_calloc(1, 1);
    out->len = r.resp ? r.resp_len : 0;
    r.resp = NULL;
    ekv_hc_req_fini(&r);
    return 0;
}

int kv_pop_failed(const kv_ctx_t *c, const char *method, const char *target, const kv_reply_t *r)
{
    int n = (int)(r->len < 300 ? r->len : 300); /* the PoP's message, without its newline */
    while (n > 0 && (r->body[n - 1] == '\n' || r->body[n - 1] == '\r'))
        n--;
    return kv_error("A request to PoP %s (%s %s) failed.\n%.*s [status: %d]", c->pop->name, method,
                    target, n ? n : (int)strlen(kv_status_text(r->status)),
                    n ? r->body : kv_status_text(r->status), r->status);
}

void kv_reply_fini(kv_reply_t *r)
{
    free(r->body);
    r->body = NULL;
}
