/* ui_api: the requests `edgekv ui`'s server takes (ui.c, docs/ui.md), parsed and checked
 * without I/O, so that every handler's input is checked in one place and fuzzed
 * (tests/browser/ui_api_fuzz.c). Whether a named node exists is the server's to say (404). */
#ifndef EKV_UI_API_H
#define EKV_UI_API_H

#include "experiment.h"

#define UI_API_KEY_MAX   512  /* KV-SPEC: a key is 1 to 512 bytes */
#define UI_API_VALUE_MAX 4096 /* a value typed on the page */

typedef enum { UI_API_GET, UI_API_HEAD, UI_API_POST, UI_API_OTHER } ui_api_method_t;

typedef enum {
    UI_API_FILE,   /* one of the page's files */
    UI_API_EVENTS, /* the SSE stream */
    UI_API_WORLD,  /* GET /api/world */
    UI_API_WATCH,  /* POST /api/watch?key= */
    UI_API_WRITE,  /* POST /api/write?key=&value=[&via=] */
    UI_API_FAULT   /* POST /api/fault?action=&node=[&delay_ms=] */
} ui_api_kind_t;

typedef struct {
    ui_api_kind_t kind;
    const char *file, *type;          /* FILE: its name in sim/ui/ and Content-Type (static) */
    char key[UI_API_KEY_MAX + 1];     /* WATCH, WRITE */
    char value[UI_API_VALUE_MAX + 1]; /* WRITE */
    char node[64];                    /* WRITE: via, "" for the first PoP; FAULT: the node */
    ekv_fault_kind_t action;          /* FAULT: never a coordinator fault */
    double delay_ms;                  /* FAULT slow: 0..600000 */
} ui_api_req_t;

/* Parses a request from its method, path and query (NULL: none) as evhttp gives them. Returns
 * 0 with *out filled, else the HTTP status to answer (400, 404 or 405) with a one-line reason
 * in *why (a static string). */
int ui_api_parse(ui_api_method_t method, const char *path, const char *query, ui_api_req_t *out,
                 const char **why);

#endif
