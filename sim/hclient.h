/* hclient: the CLI's HTTP client, on libevent: runs a set of requests concurrently, each on
 * its own connection, and waits for all of them.
 *
 * Every request carries the world's bearer token when there is one (ekv_hc_set_token): the
 * daemons of a secure world answer their admin paths 401 without it.
 *
 * Ownership: the caller owns the request array; response fields are malloc'd by the client
 * and released with ekv_hc_req_fini(). */
#ifndef EKV_HCLIENT_H
#define EKV_HCLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ekv_hc_req {
    const char *method; /* "GET", "PUT", "POST" or "DELETE" */
    char url[2304];     /* http://HOST:PORT/PATH[?QUERY] (a 512-byte key encoded fits) */
    const char *body;   /* request body (borrowed), may be NULL */
    size_t body_len;
    const char *const *headers; /* more request headers: name, value, ..., NULL (borrowed) */
    int status;                 /* response status; 0 when no response (refused, timed out) */
    char *resp;                 /* response body, NUL-terminated (owned) */
    size_t resp_len;
    char *version;   /* X-Edgekv-Version response header (owned), or NULL */
    char *commit_us; /* X-Edgekv-Commit-Us response header (owned), or NULL */
    int64_t done_us; /* CLOCK_REALTIME microseconds when the response was complete */
    /* Optional: called as soon as this request is answered (or failed), in answer order. */
    void (*on_done)(void *arg, struct ekv_hc_req *r);
    void *arg;
} ekv_hc_req_t;

/* The bearer token every request carries (`Authorization: Bearer TOKEN`) unless its headers
 * name an Authorization of their own; NULL (the default) sends none. Borrowed: it must outlive
 * every ekv_hc_run. main.c sets the world's (keys.json) once. */
void ekv_hc_set_token(const char *token);

/* Room for "Bearer " and a token of up to 256 characters. */
#define EKV_HC_AUTH_MAX 272
/* Writes the Authorization value "Bearer TOKEN" into buf; 1, or 0 when it does not fit. For
 * the CLI's other clients (loadgen, ui) that make their evhttp requests themselves. */
int ekv_hc_bearer(char *buf, size_t n, const char *token);

/* Runs all n requests concurrently; returns when each has an answer or timeout_ms passed.
 * Always returns EKV_OK; per-request failure shows as status 0. */
int ekv_hc_run(ekv_hc_req_t *reqs, size_t n, int timeout_ms);
void ekv_hc_req_fini(ekv_hc_req_t *r);

#endif
