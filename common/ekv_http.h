/* ekv_http: serving evhttp so that bad clients cannot bring a daemon down or tie it up.
 *
 * libevent's evhttp only has a per-read inactivity timeout (a client sending one byte a second
 * never trips it), no cap on connections and a 413 for oversized headers. A guard adds, for the
 * one HTTP server of a daemon:
 *   - a deadline for each whole request (request line, headers and body) from its first byte,
 *     answered with 408 and closed; a shorter idle timeout between requests of a kept-alive
 *     connection (closed silently);
 *   - a cap on concurrent client connections: beyond it, a new connection gets 503 naming the
 *     cap and is closed without its request being read or parsed; serving resumes as soon as
 *     connections close;
 *   - a cap on the request line plus headers, answered with 431;
 *   - counters for /metrics (ekv_http_metrics).
 * The time a handler takes (an origin fetch, a commit, a long poll) is never counted against
 * the client. Only the public libevent 2.1 API is used; see ekv_http.c for how.
 *
 * Ownership: a daemon's main creates the guard before the daemon object and destroys it after
 * the daemon (and so its evhttp) is gone, before the event base. While it lives, the guard is
 * the process's guard: ekv_http_serve(), called where the daemon opens its server, finds it
 * there (the daemons' configuration structs belong to other modules). Without a guard,
 * ekv_http_serve() serves plain evhttp.
 * Handlers must not set their own evhttp_request_set_on_complete_cb: the guard's marks the
 * end of a reply (without it the connection would go unguarded from then on). */
#ifndef EKV_HTTP_H
#define EKV_HTTP_H

#include <stddef.h>

struct evhttp;
struct evhttp_request;
struct evbuffer;
struct event_base;

#define EKV_HTTP_MAX_CONNECTIONS  4096  /* default cap of concurrent client connections */
#define EKV_HTTP_REQUEST_TIMEOUT  10000 /* default ms for a whole request */
#define EKV_HTTP_IDLE_TIMEOUT     60000 /* default ms a kept-alive connection may sit idle */
#define EKV_HTTP_MAX_HEADER_BYTES 16384 /* default cap of request line plus headers */
#define EKV_HTTP_LINGER_MS        1000  /* a rejected client's bytes are read and dropped */

typedef struct {
    int max_connections;    /* concurrent client connections; more are answered 503 */
    int request_timeout_ms; /* first byte to last byte of a request; then 408 */
    int idle_timeout_ms;    /* between requests (and before the first one); then closed */
    int max_header_bytes;   /* request line plus headers; more is answered 431 */
} ekv_http_limits_t;

typedef struct ekv_http_guard ekv_http_guard_t;

/* The guard's limits as a daemon's options read them (ekv_opts: whole numbers are long). */
typedef struct {
    long max_connections, request_timeout_ms, idle_timeout_ms;
} ekv_http_opts_t;

/* The rows of those options for the ekv_opts table of an options struct `type` whose field
 * `field` is an ekv_http_opts_t (needs ekv_opts.h and stddef.h). */
#define EKV_HTTP_OPT_ROWS(type, field)                                                             \
    {"max-connections",                                                                            \
     EKV_OPT_INT,                                                                                  \
     offsetof(type, field.max_connections),                                                        \
     "N",                                                                                          \
     .help = "concurrent HTTP clients; more get 503",                                              \
     .min = 1,                                                                                     \
     .max = 1000000},                                                                              \
        {"request-timeout-ms",                                                                     \
         EKV_OPT_INT,                                                                              \
         offsetof(type, field.request_timeout_ms),                                                 \
         "N",                                                                                      \
         .help = "a request (headers and body) not received in N ms\ngets 408",                    \
         .min = 1,                                                                                 \
         .max = 3600000},                                                                          \
    {                                                                                              \
        "idle-timeout-ms", EKV_OPT_INT, offsetof(type, field.idle_timeout_ms), "N",                \
            .help = "a kept-alive connection idle for N ms is closed", .min = 1, .max = 3600000    \
    }

/* The defaults of those options; and the limits they give (the rest at their defaults). */
void ekv_http_opts_defaults(ekv_http_opts_t *o);
void ekv_http_opts_limits(const ekv_http_opts_t *o, ekv_http_limits_t *l);

/* Fills l with the defaults above. */
void ekv_http_limits_defaults(ekv_http_limits_t *l);

/* 1 when req speaks HTTP/1.0 or 1.1; otherwise answers it 505 as HTTP/1.1 (and closes) and
 * returns 0. Handlers call it first: evhttp would echo any other version in its reply. */
int ekv_http_version_ok(struct evhttp_request *req);

/* 1 when req carries "Authorization: Bearer TOKEN" with exactly token (compared in time
 * independent of where they differ); 1 for a NULL token (none required). */
int ekv_http_bearer_ok(struct evhttp_request *req, const char *token);
/* Answers req 401 with WWW-Authenticate: Bearer realm="edgekv" and a JSON error body. */
void ekv_http_unauthorized(struct evhttp_request *req);

/* Creates the process's guard. Raises the soft RLIMIT_NOFILE to the hard limit and lowers
 * max_connections (with a warning) when the descriptors left for connections are fewer.
 * Returns NULL with a message in errbuf when the limits are out of range, when another guard
 * exists, or when too few descriptors are left. The caller destroys it. */
ekv_http_guard_t *ekv_http_guard_new(struct event_base *base, const ekv_http_limits_t *l,
                                     char *errbuf, size_t errlen);

/* Closes the connections refused but still being drained and frees the guard; no-op on
 * NULL. Call it after the evhttp it serves was freed. */
void ekv_http_guard_destroy(ekv_http_guard_t **self_p);

/* Serves http on host:port (0 = any free port) with cb as the handler of every request, under
 * the process's guard if there is one; stores the bound port in *bound. Returns EKV_OK, or
 * EKV_EIO (cannot listen) / EKV_EINVAL (the guard serves a server already) with a message in
 * errbuf. */
int ekv_http_serve(struct evhttp *http, const char *host, int port,
                   void (*cb)(struct evhttp_request *, void *), void *arg, int *bound, char *errbuf,
                   size_t errlen);

/* Appends the guard's gauges and counters in Prometheus text format to out; labels (may be
 * NULL or "") is added to every sample, e.g. pop="near". Appends nothing without a guard. */
void ekv_http_metrics(struct evbuffer *out, const char *labels);

#endif
