/* ui_api: `edgekv ui`'s requests, parsed and checked (see ui_api.h). */
#include "ui_api.h"

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

#include "ekv_args.h"

static const struct {
    const char *path, *file, *type;
} files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
    {"/land-110m.json", "land-110m.json", "application/json"},
};

/* A key as KV-SPEC allows (1..512 bytes, not "." or ".."); the nodes check the rest. */
static int key_ok(const char *k)
{
    return k && *k && strlen(k) <= UI_API_KEY_MAX && strcmp(k, ".") && strcmp(k, "..");
}

static int fail(const char **why, const char *reason, int status)
{
    *why = reason;
    return status;
}

static int watch(struct evkeyvalq *q, ui_api_req_t *r, const char **why)
{
    const char *k = evhttp_find_header(q, "key");
    if (!key_ok(k))
        return fail(why, "watch needs key=K (1 to 512 bytes)", 400);
    strcpy(r->key, k);
    return 0;
}

static int write_req(struct evkeyvalq *q, ui_api_req_t *r, const char **why)
{
    const char *k = evhttp_find_header(q, "key"), *v = evhttp_find_header(q, "value");
    const char *via = evhttp_find_header(q, "via");
    if (!key_ok(k) || !v || strlen(v) > UI_API_VALUE_MAX)
        return fail(why, "write needs key=K (1 to 512 bytes) and value=V (up to 4096 bytes)", 400);
    if (via && strlen(via) >= sizeof r->node)
        return fail(why, "no PoP by that name (writes go through a PoP)", 404);
    strcpy(r->key, k);
    strcpy(r->value, v);
    strcpy(r->node, via ? via : "");
    return 0;
}

static int fault(struct evkeyvalq *q, ui_api_req_t *r, const char **why)
{
    const char *a = evhttp_find_header(q, "action"), *name = evhttp_find_header(q, "node");
    const char *d = evhttp_find_header(q, "delay_ms");
    if (!a || !name || ekv_fault_parse(a, &r->action) != 0 || r->action == EKV_FAULT_COORD_KILL ||
        r->action == EKV_FAULT_COORD_RESTART || r->action == EKV_FAULT_REROUTE ||
        (r->action == EKV_FAULT_SLOW && (!d || ekv_args_double(d, 0, 600000, &r->delay_ms) != 0)))
        return fail(why,
                    "fault needs action=stop|continue|kill|restart|partition|heal|slow and "
                    "node=NAME (slow: delay_ms=0..600000)",
                    400);
    if (!*name || strlen(name) >= sizeof r->node)
        return fail(why, "no PoP or tier by that name", 404);
    strcpy(r->node, name);
    return 0;
}

static int api(ui_api_method_t m, const char *path, struct evkeyvalq *q, ui_api_req_t *r,
               const char **why)
{
    if (m == UI_API_GET && !strcmp(path, "/events"))
        r->kind = UI_API_EVENTS;
    else if (m == UI_API_GET && !strcmp(path, "/api/world"))
        r->kind = UI_API_WORLD;
    else if (m == UI_API_POST && !strcmp(path, "/api/watch"))
        return r->kind = UI_API_WATCH, watch(q, r, why);
    else if (m == UI_API_POST && !strcmp(path, "/api/write"))
        return r->kind = UI_API_WRITE, write_req(q, r, why);
    else if (m == UI_API_POST && !strcmp(path, "/api/fault"))
        return r->kind = UI_API_FAULT, fault(q, r, why);
    else
        return fail(why, "see docs/ui.md for the API", 405);
    return 0;
}

int ui_api_parse(ui_api_method_t m, const char *path, const char *query, ui_api_req_t *r,
                 const char **why)
{
    memset(r, 0, sizeof *r);
    *why = "";
    if (!path)
        return fail(why, "malformed request target", 400);
    if (query && strstr(query, "%00")) /* a NUL would cut a key or value short */
        return fail(why, "NUL bytes are not accepted", 400);
    if (!strncmp(path, "/api/", 5) || !strcmp(path, "/events")) {
        struct evkeyvalq q;
        TAILQ_INIT(&q);
        int rc = query && evhttp_parse_query_str(query, &q) != 0
                     ? fail(why, "malformed request target", 400)
                     : api(m, path, &q, r, why);
        evhttp_clear_headers(&q);
        return rc;
    }
    if (m != UI_API_GET && m != UI_API_HEAD)
        return fail(why, "the page only takes GET", 405);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(path, files[i].path)) {
            r->kind = UI_API_FILE;
            r->file = files[i].file;
            r->type = files[i].type;
            return 0;
        }
    return fail(why, "no such page", 404);
}
