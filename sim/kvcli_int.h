/* kvcli_int: what the `edgekv kv` commands (kvcli.c, kvcli_bulk.c) share with each other and
 * with their I/O (kvcli_io.c). */
#ifndef EKV_KVCLI_INT_H
#define EKV_KVCLI_INT_H

#include <jansson.h>
#include <stddef.h>

#include "state.h"

#define KV_MAX_FILE    (110u * 1024 * 1024) /* a value or bulk file: the API's 100 MB and some */
#define KV_REMOTE_LINE "Resource location: remote \n" /* wrangler 4's, and a blank line */

/* The command line, as wrangler's flags spell it. */
typedef struct {
    const char *pos[2]; /* positional arguments after GROUP VERB */
    int npos;
    const char *config, *env, *pop, *binding, *ns_id, *path, *metadata, *prefix, *new_name;
    const char *ttl, *expiration; /* numbers, checked */
    int preview;                  /* -1 not given, 0 --preview false, 1 --preview */
    int text, force, local, remote, skip_confirm;
} kv_args_t;

/* One command's world: where to send requests and which namespace. */
typedef struct {
    ekv_state_t *st;          /* the running world (owned) */
    const ekv_proc_t *pop;    /* --pop: the PoP every call goes through; NULL: the REST API */
    char account[200];        /* account id, percent-encoded */
    json_t *conf;             /* the wrangler configuration (owned), NULL when none was read */
    char conf_path[1024];     /* its file */
    char ns[64], ns_enc[200]; /* the namespace id acted on, and percent-encoded */
    char label[700];          /* wrangler's words for it: id: "ID" or binding: "B" (id: "ID") */
    int quiet_code;           /* an API error code kv_rest leaves to its caller (0: none) */
} kv_ctx_t;

/* A PoP's answer. */
typedef struct {
    int status; /* 0: no answer */
    char *body; /* owned, NUL-terminated */
    size_t len;
} kv_reply_t;

/* wrangler's "✘ [ERROR] ..." on stderr; returns 1 (the exit code). */
int kv_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* wrangler's "▲ [WARNING] ..." on stderr. */
void kv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* wrangler's confirm(): asks on a terminal (1 for yes), takes its fallback (yes) elsewhere. */
int kv_confirmed(const char *question);
/* j as JSON.stringify(j, null, 2) prints it, and a newline, on stdout. */
void kv_print_json(const json_t *j);

/* Reads the wrangler configuration: path, else wrangler.json, wrangler.jsonc or wrangler.toml in
 * the current folder (none is fine: c->conf stays NULL). TOML is refused with a pointer. 0, or
 * 1 after printing the error (unreadable, TOML, not JSON: file, line and column). */
int kv_conf_load(kv_ctx_t *c, const char *path);
/* Sets c->ns from --namespace-id or --binding (wrangler's rules, --preview and --env); -1 with
 * wrangler's message in err when it cannot. */
int kv_resolve_ns(kv_ctx_t *c, const kv_args_t *a, char *err, size_t n);

/* One REST call: path under .../storage/kv/namespaces, query with its '?' (or NULL). 0 with the
 * reply's envelope (*envelope, owned by the caller) when it says success; 2 with the envelope,
 * nothing printed, when its first error has c->quiet_code; else 1 after printing wrangler's API
 * error. */
int kv_rest(const kv_ctx_t *c, const char *method, const char *path, const char *query,
            const char *body, size_t len, json_t **envelope);
/* kv_rest with body as its JSON text. */
int kv_rest_json(const kv_ctx_t *c, const char *method, const char *path, json_t *body,
                 json_t **envelope);
/* The raw value of a key (key_enc percent-encoded) of c->ns: 0 with *out (owned) and *len, or 1
 * after printing wrangler's "Failed to fetch URL - STATUS: TEXT". */
int kv_rest_value(const kv_ctx_t *c, const char *key_enc, char **out, size_t *len);
const char *kv_status_text(int status);

/* One binding call to c->pop, target being path and query, with c->ns in X-Edgekv-Namespace and
 * meta (may be NULL) in CF-KV-Metadata. 0 with any status in *out (kv_reply_fini it), or 1 after
 * printing the error when the PoP did not answer. */
int kv_pop(const kv_ctx_t *c, const char *method, const char *target, const char *meta,
           const char *body, size_t len, kv_reply_t *out);
/* Prints a PoP's refusal (its message and status); returns 1. */
int kv_pop_failed(const kv_ctx_t *c, const char *method, const char *target, const kv_reply_t *r);
void kv_reply_fini(kv_reply_t *r);

/* Sets c->ns for a key or bulk command (--binding mapped as `edgekv dev` maps it; with --pop,
 * checked at the coordinator); 1 after printing why not. */
int kv_need_ns(kv_ctx_t *c, const kv_args_t *a);
/* Writes key = value (n bytes) with meta (may be NULL) and a's --ttl and --expiration, through
 * c->pop or the REST API; 1 after printing the error. */
int kv_write_one(kv_ctx_t *c, const kv_args_t *a, const char *key, const char *value, size_t n,
                 const json_t *meta);

/* The bulk commands (kvcli_bulk.c): 0, or 1 after printing the error. */
int kv_bulk_put(kv_ctx_t *c, const kv_args_t *a);
int kv_bulk_delete(kv_ctx_t *c, const kv_args_t *a);
int kv_bulk_get(kv_ctx_t *c, const kv_args_t *a);

#endif
