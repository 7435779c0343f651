/* ui_api_fuzz: libFuzzer target of `edgekv ui`'s request parser (sim/ui_api.c, ui_api_parse),
 * which checks every handler's input before the server acts on it.
 *
 * An input is a method byte ('G' GET, 'H' HEAD, 'P' POST, anything else another method), then
 * a request target "PATH[?QUERY]" (no NUL: evhttp never gives one). The parser must answer
 * 0 or 400, 404, 405 with a reason, the same twice, and keep its promises on 0: a file from the
 * page's four; a key of 1 to 512 bytes, not "." or ".."; a value of at most 4096 bytes; a
 * fault that is not the coordinator's, with a finite delay in 0..600000 for slow; names that fit.
 * A broken promise aborts. replay_main.c feeds the committed corpus under ctest. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui_api.h"

static void fail(const char *what)
{
    fprintf(stderr, "ui_api_fuzz: %s\n", what);
    abort();
}

static void check_ok(const ui_api_req_t *r)
{
    size_t kl = strlen(r->key);
    switch (r->kind) {
    case UI_API_FILE:
        if (!r->file || !r->type || !strcmp(r->file, "") || strchr(r->file, '/'))
            fail("a file outside the page");
        break;
    case UI_API_WATCH:
    case UI_API_WRITE:
        if (kl == 0 || kl > UI_API_KEY_MAX || !strcmp(r->key, ".") || !strcmp(r->key, ".."))
            fail("a key KV-SPEC refuses");
        if (strlen(r->value) > UI_API_VALUE_MAX || strlen(r->node) >= sizeof r->node)
            fail("a value or PoP name too long");
        break;
    case UI_API_FAULT:
        if (r->action == EKV_FAULT_COORD_KILL || r->action == EKV_FAULT_COORD_RESTART ||
            r->action >= EKV_FAULT_COUNT || !r->node[0])
            fail("a coordinator fault, or one without a node");
        if (r->action == EKV_FAULT_SLOW &&
            (!isfinite(r->delay_ms) || r->delay_ms < 0 || r->delay_ms > 600000))
            fail("a delay out of range");
        break;
    case UI_API_EVENTS:
    case UI_API_WORLD:
        break;
    default:
        fail("an unknown kind");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || memchr(data, 0, size))
        return 0;
    static const ui_api_method_t methods[] = {UI_API_GET, UI_API_HEAD, UI_API_POST};
    const char *m = strchr("GHP", data[0]);
    ui_api_method_t method = m ? methods[m - "GHP"] : UI_API_OTHER;
    char *target = malloc(size);
    memcpy(target, data + 1, size - 1);
    target[size - 1] = '\0';
    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    static ui_api_req_t r1, r2;
    const char *why1 = NULL, *why2 = NULL;
    int s1 = ui_api_parse(method, target, q, &r1, &why1);
    int s2 = ui_api_parse(method, target, q, &r2, &why2);
    if (s1 != s2 || (s1 == 0 && memcmp(&r1, &r2, sizeof r1)))
        fail("two answers to one request");
    if (s1 != 0 && s1 != 400 && s1 != 404 && s1 != 405)
        fail("a status other than 400, 404, 405");
    if (s1 != 0 && (!why1 || !*why1))
        fail("an error without a reason");
    if (s1 == 0)
        check_ok(&r1);
    free(target);
    return 0;
}
