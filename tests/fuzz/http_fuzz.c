/* http_fuzz: libFuzzer target of both HTTP servers end to end (REST API and PoP binding).
 *
 * One process holds a real coordinator (RocksDB in a temporary folder, no fsync) and a real
 * PoP node connected to it by ZeroMQ (ipc sockets in that folder), on one event loop, each
 * serving its real evhttp handlers on 127.0.0.1. The daemons serve under the HTTP guard
 * (ekv_http.h), which takes one server per process: HTTP_FUZZ_GUARDED picks the server it wraps
 * ('C' coordinator, target http_rest; 'P' PoP, target http_node), the other serves on plain evhttp.
 *
 * An input is up to MAX_REQUESTS requests separated by a line "%%". A request is
 *     S METHOD TARGET [VERSION]        S: C coordinator or P PoP (structured)
 *     Header: value ...                    c or p: the whole block is sent as raw bytes
 *     <empty line>
 *     body...
 * A structured request is sent as HTTP/1.1 with CRLF line ends, its own Content-Length (any
 * Content-Length or Transfer-Encoding of the input is dropped, and NUL bytes outside the body,
 * which evhttp would take for line ends: one request, one reply) and "{ns}" in the target and
 * header values replaced by the input's namespace: a fresh one each input, also the PoP's
 * default namespace. A raw block goes to the socket as it is, whose sending side is then shut
 * down. Each request has a connection of its own.
 *
 * Every reply (the inputs' and the harness's own) must be well-formed: a status line
 * "HTTP/1.x NNN reason" and header fields without control characters or folding, framing by
 * Content-Length (or chunked, or close) with nothing after the reply, a body complete once
 * the head is; a JSON body (application/json) valid UTF-8 JSON, a charset=utf-8 body valid
 * UTF-8; a text/plain error carrying its reason phrase as the body (KV-SPEC section 2); a
 * JSON reply under /client/v4 the Cloudflare envelope, success exactly on 200 (section 3).
 * A server may instead close without a reply, or not reply within the deadline (a request
 * parked by /_edgekv/wait, an origin read cut off by a fault), which is not a finding. Any
 * broken promise aborts with the request and reply on stderr, and libFuzzer keeps the input.
 * HTTP_FUZZ_TOLERATE=head,version lets a long run go past known findings, both evhttp's ways
 * that the servers take as they are: head, it sends whatever body a handler gives a reply to
 * HEAD (without a Content-Length), and both servers give one; version, its status line echoes
 * the request's version, "HTTP/0.9" or "HTTP/1.-96" (for HTTP/1.160: the minor is a char).
 * HTTP_FUZZ_VERBOSE prints every exchange.
 *
 * After each input the state it left is undone: namespaces other than the default deleted
 * (with their keys), the default namespace's keys deleted, the PoP's link restored if the
 * input used /_edgekv/fault; so that an input's outcome depends on that input alone (up to
 * timing). Leaks: run under AddressSanitizer; the servers are torn down at exit. */
#include <errno.h>
#include <event2/event.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coord.h"
#include "ekv_http.h"
#include "ekv_kv.h"
#include "ekv_log.h"
#include "ekv_loop.h"
#include "ekv_time.h"
#include "node.h"

#ifndef HTTP_FUZZ_GUARDED
#define HTTP_FUZZ_GUARDED 'C'
#endif

#define MAX_REQUESTS    8
#define DEADLINE_MS     1000 /* a structured request's reply */
#define RAW_DEADLINE_MS 300  /* a raw block's replies */
#define MAX_REPLY       (64u << 20)
#define REST_NS         "/client/v4/accounts/fuzz/storage/kv/namespaces"

enum { TOLERATE_HEAD = 1, TOLERATE_VERSION = 2 }; /* HTTP_FUZZ_TOLERATE=head,version */

static struct {
    ekv_loop_t *loop;
    struct event_base *base;
    ekv_coord_t *coord;
    ekv_node_t *node;
    ekv_http_guard_t *guard;
    char dir[64];     /* temporary folder: RocksDB and the ready files */
    int port[2];      /* HTTP ports: coordinator, PoP */
    char ns[33];      /* the input's namespace; the PoP's default_ns points here */
    unsigned serial;  /* titles of the harness's namespaces */
    const char *what; /* the request being checked, for the report */
    int verbose;      /* HTTP_FUZZ_VERBOSE set: every exchange on stderr */
    int tolerate;     /* TOLERATE_* named in HTTP_FUZZ_TOLERATE: known findings that pass */
    size_t what_len;
} H;

/* ---- findings ---------------------------------------------------------------------------- */

static void dump(const char *label, const char *p, size_t n)
{
    fprintf(stderr, "%s (%zu bytes):\n", label, n);
    fwrite(p, 1, n < 2048 ? n : 2048, stderr);
    fprintf(stderr, "%s\n", n > 2048 ? "\n[...]" : "");
}

static void fail(const char *why, const char *reply, size_t len)
{
    fprintf(stderr, "http_fuzz: %s\n", why);
    dump("request", H.what ? H.what : "", H.what_len);
    dump("reply", reply, len);
    abort();
}

static void die(const char *why)
{
    fprintf(stderr, "http_fuzz: setup: %s\n", why);
    abort();
}

/* ---- reply checks ------------------------------------------------------------------------ */

typedef struct {
    int status;
    const char *reason, *ctype; /* reason phrase; Content-Type value (NULL: none) */
    size_t reason_len, ctype_len;
    char *body; /* owned */
    size_t body_len;
    int close;   /* Connection: close */
    size_t used; /* bytes of the reply on the wire */
} reply_t;

static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], need, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        unsigned cp = c & (0x3f >> need);
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* RFC 9110 field-value and reason-phrase characters: HTAB, SP, VCHAR, obs-text. */
static int text_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c != '\t' && (c < 0x20 || c == 0x7f))
            return 0;
    }
    return 1;
}

static int token_ok(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || strchr("!#$%&'*+-.^_`|~", p[i])))
            return 0;
    return 1;
}

static int name_is(const char *p, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* A decimal field value (the whole of it). */
static int parse_size(const char *p, size_t n, size_t *out)
{
    size_t v = 0;
    if (n == 0 || n > 15)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (size_t)(p[i] - '0');
    }
    *out = v;
    return 0;
}

enum { P_MORE = 0, P_DONE = 1 };

/* Decodes a chunked body at p[0, n); P_DONE with r->used set, P_MORE, or fail(). */
static int dechunk(const char *buf, size_t blen, const char *p, size_t n, reply_t *r)
{
    size_t at = 0;
    for (;;) {
        const char *crlf = memmem(p + at, n - at, "\r\n", 2);
        if (!crlf)
            goto more;
        size_t size = 0, i = at, end = (size_t)(crlf - p);
        for (; i < end && strchr("0123456789abcdefABCDEF", p[i]); i++)
            size = size * 16 + (size_t)(p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
        if (i == at || i - at > 8 || (i < end && p[i] != ';'))
            fail("malformed chunk size line", buf, blen);
        at = end + 2;
        if (size == 0) { /* no trailer fields are sent */
            if (n - at < 2)
                goto more;
            if (memcmp(p + at, "\r\n", 2) != 0)
                fail("chunked body not ended by an empty line", buf, blen);
            r->used = (size_t)(p - buf) + at + 2;
            return P_DONE;
        }
        if (n - at < size + 2)
            goto more;
        if (memcmp(p + at + size, "\r\n", 2) != 0)
            fail("chunk not followed by CRLF", buf, blen);
        r->body = realloc(r->body, r->body_len + size + 1);
        memcpy(r->body + r->body_len, p + at, size);
        r->body_len += size;
        at += size + 2;
    }
more:
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    return P_MORE;
}

/* Parses one reply at buf[0, len). P_DONE fills *r (the caller frees r->body); P_MORE when
 * more bytes are needed; a malformed head fails. head: the request was HEAD; eof: the server
 * closed (which ends a body that has no length). */
static int parse_reply(const char *buf, size_t len, int head, int eof, reply_t *r)
{
    memset(r, 0, sizeof *r);
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) {
        if (len > EKV_HTTP_MAX_HEADER_BYTES * 4)
            fail("reply head without an end", buf, len);
        return P_MORE;
    }
    const char *line = buf, *stop = end + 2;
    const char *eol = memmem(line, (size_t)(stop - line), "\r\n", 2);
    size_t n = (size_t)(eol - line), v = 8; /* v: the space after the version */
    if (n >= 9 && (!memcmp(line, "HTTP/1.0 ", 9) || !memcmp(line, "HTTP/1.1 ", 9))) {
        /* the versions a server may answer with */
    } else if (!(H.tolerate & TOLERATE_VERSION) || n < 5 || memcmp(line, "HTTP/", 5) != 0) {
        fail("status line not of HTTP/1.0 or HTTP/1.1", buf, len);
    } else { /* a known finding: evhttp echoes the request's version, even HTTP/1.-96 */
        for (v = 5; v < n && strchr("0123456789.-", line[v]); v++)
            ;
    }
    if (n < v + 5 || line[v] != ' ' || line[v + 4] != ' ' || line[v + 1] < '1' ||
        line[v + 1] > '5' || line[v + 2] < '0' || line[v + 2] > '9' || line[v + 3] < '0' ||
        line[v + 3] > '9')
        fail("malformed status line", buf, len);
    r->status = (line[v + 1] - '0') * 100 + (line[v + 2] - '0') * 10 + (line[v + 3] - '0');
    r->reason = line + v + 5;
    r->reason_len = n - v - 5;
    if (!text_ok(r->reason, r->reason_len))
        fail("control character in the reason phrase", buf, len);
    int have_len = 0, chunked = 0;
    size_t clen = 0;
    for (line = eol + 2; line < stop; line = eol + 2) {
        eol = memmem(line, (size_t)(stop - line), "\r\n", 2);
        n = (size_t)(eol - line);
        const char *colon = memchr(line, ':', n);
        if (line[0] == ' ' || line[0] == '\t')
            fail("folded header line (obs-fold)", buf, len);
        if (!colon || !token_ok(line, (size_t)(colon - line)))
            fail("malformed header line", buf, len);
        const char *v = colon + 1, *vend = eol;
        if (!text_ok(v, (size_t)(vend - v)))
            fail("control character in a header value", buf, len);
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        size_t nlen = (size_t)(colon - line), vlen = (size_t)(vend - v), x;
        if (name_is(line, nlen, "Content-Length")) {
            if (parse_size(v, vlen, &x) != 0 || (have_len && x != clen))
                fail("bad or conflicting Content-Length", buf, len);
            have_len = 1, clen = x;
        } else if (name_is(line, nlen, "Transfer-Encoding")) {
            if (vlen != 7 || strncasecmp(v, "chunked", 7) != 0)
                fail("unexpected Transfer-Encoding", buf, len);
            chunked = 1;
        } else if (name_is(line, nlen, "Connection")) {
            r->close = vlen == 5 && strncasecmp(v, "close", 5) == 0;
        } else if (name_is(line, nlen, "Content-Type")) {
            if (r->ctype)
                fail("two Content-Type fields", buf, len);
            r->ctype = v, r->ctype_len = vlen;
        }
    }
    if (chunked && have_len)
        fail("both Content-Length and chunked", buf, len);
    size_t hlen = (size_t)(end - buf) + 4, avail = len - hlen;
    r->used = hlen;
    if (head || r->status < 200 || r->status == 204 || r->status == 304) {
        if (r->status < 200 && (have_len || chunked))
            fail("framing fields on an interim reply", buf, len);
        return P_DONE;
    }
    if (chunked)
        return dechunk(buf, len, buf + hlen, avail, r);
    if (!have_len) { /* delimited by the close */
        if (!eof)
            return P_MORE;
        clen = avail;
    }
    if (avail < clen)
        return P_MORE;
    r->body = malloc(clen + 1);
    memcpy(r->body, buf + hlen, clen);
    r->body_len = clen;
    r->used = hlen + clen;
    return P_DONE;
}

static int ctype_is(const reply_t *r, const char *type)
{
    size_t n = strlen(type);
    return r->ctype && r->ctype_len >= n && strncasecmp(r->ctype, type, n) == 0 &&
           (r->ctype_len == n || r->ctype[n] == ';' || r->ctype[n] == ' ');
}

/* The Cloudflare envelope: success exactly on 200, errors with a code and a message. */
static void check_envelope(const reply_t *r, json_t *j, const char *buf, size_t len)
{
    json_t *ok = json_object_get(j, "success"), *errs = json_object_get(j, "errors");
    if (!json_is_object(j) || !json_is_boolean(ok) || !json_is_array(errs) ||
        !json_is_array(json_object_get(j, "messages")) || !json_object_get(j, "result"))
        fail("REST reply without the envelope", buf, len);
    if (json_is_true(ok) != (r->status == 200) || json_is_true(ok) != !json_array_size(errs))
        fail("REST success, status and errors disagree", buf, len);
    for (size_t i = 0; i < json_array_size(errs); i++) {
        json_t *e = json_array_get(errs, i);
        if (!json_is_integer(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "message")))
            fail("REST error without code and message", buf, len);
    }
}

/* Checks the body of a complete reply; returns the parsed JSON body or NULL (caller's). */
static json_t *check_body(const reply_t *r, int rest, const char *buf, size_t len)
{
    json_t *j = NULL;
    if (r->ctype && (r->ctype_len > 256 || memmem(r->ctype, r->ctype_len, "charset=utf-8", 13)) &&
        !utf8_valid((const unsigned char *)r->body, r->body_len))
        fail("charset=utf-8 body that is not UTF-8", buf, len);
    if (ctype_is(r, "application/json")) {
        json_error_t err;
        j = json_loadb(r->body, r->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (!j) {
            fprintf(stderr, "json: %s at %d\n", err.text, err.position);
            fail("JSON reply that does not parse", buf, len);
        }
        if (!utf8_valid((const unsigned char *)r->body, r->body_len))
            fail("JSON reply that is not UTF-8", buf, len);
        if (rest)
            check_envelope(r, j, buf, len);
    }
    if (r->status >= 400 && r->ctype_len == 25 &&
        strncasecmp(r->ctype, "text/plain; charset=utf-8", 25) == 0 &&
        (r->body_len != r->reason_len + 1 || memcmp(r->body, r->reason, r->reason_len) != 0 ||
         r->body[r->reason_len] != '\n'))
        fail("error body differs from the reason phrase", buf, len);
    return j;
}

/* ---- the client side: one connection per request ---------------------------------------- */

typedef struct {
    int fd;
    struct event *wev, *rev;
    const char *out; /* the request bytes (borrowed) */
    size_t out_len, sent;
    int raw;  /* shut down the sending side once sent */
    int head; /* the request is HEAD */
    char *in; /* reply bytes */
    size_t in_len, in_cap;
    int eof, done;
} exch_t;

/* 1 when a final reply (a raw block: the connection) is complete. */
static int reply_complete(const exch_t *x)
{
    if (x->raw)
        return x->eof;
    size_t at = 0;
    while (at < x->in_len) {
        reply_t r;
        int rc = parse_reply(x->in + at, x->in_len - at, x->head, x->eof, &r);
        free(r.body);
        if (rc == P_MORE)
            return 0;
        at += r.used;
        if (r.status >= 200)
            return 1;
    }
    return 0;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    exch_t *x = arg;
    ssize_t n = send(fd, x->out + x->sent, x->out_len - x->sent, MSG_NOSIGNAL);
    if (n > 0)
        x->sent += (size_t)n;
    else if (n < 0 && errno != EAGAIN && errno != EINTR)
        x->sent = x->out_len; /* the server closed: read what it said */
    if (x->sent == x->out_len) {
        event_del(x->wev);
        if (x->raw)
            shutdown(fd, SHUT_WR);
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    exch_t *x = arg;
    for (;;) {
        if (x->in_cap - x->in_len < 65536) {
            x->in_cap = x->in_cap * 2 + 65536;
            x->in = realloc(x->in, x->in_cap);
        }
        ssize_t n = recv(fd, x->in + x->in_len, x->in_cap - x->in_len, 0);
        if (n > 0) {
            x->in_len += (size_t)n;
            if (x->in_len > MAX_REPLY)
                fail("reply larger than any the servers make", x->in, 4096);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            x->eof = 1; /* a reset counts as a close */
        break;
    }
    x->done = x->eof || reply_complete(x);
    if (x->done)
        event_base_loopbreak(H.base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(H.base);
}

/* Runs the loop until x is done or ms pass. */
static void run_until(exch_t *x, int ms)
{
    struct event *t = evtimer_new(H.base, on_deadline, NULL);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(t, &tv);
    while (!x->done && event_pending(t, EV_TIMEOUT, NULL))
        event_base_loop(H.base, 0);
    event_free(t);
}

/* Checks every reply in x->in; the last one goes to *r (its body the caller's) and its JSON
 * body to *j (when j is not NULL). Returns 1 when a final reply came. */
static int check_all(exch_t *x, int rest, reply_t *r, json_t **j)
{
    int got = 0;
    size_t at = 0;
    while (at < x->in_len) {
        reply_t one;
        if (parse_reply(x->in + at, x->in_len - at, x->head, x->eof, &one) != P_DONE) {
            free(one.body);
            if (!x->raw) /* a raw block's connection may close anywhere */
                fail(x->eof ? "connection closed inside the reply" : "reply stalled half-sent",
                     x->in, x->in_len);
            break;
        }
        json_t *body = x->head ? NULL : check_body(&one, rest, x->in + at, one.used);
        at += one.used;
        if (!x->raw && one.status >= 200 && at != x->in_len) {
            if (!x->head)
                fail("bytes after the reply", x->in, x->in_len);
            /* A body after a HEAD reply would be read as the next reply on the connection;
             * evhttp sends one with its own errors too, but closes the connection after. */
            if (!one.close && !(H.tolerate & TOLERATE_HEAD))
                fail("a reply to HEAD carries a body", x->in, x->in_len);
            at = x->in_len; /* the body is not a reply */
        }
        if (got)
            free(r->body);
        *r = one, got = 1;
        if (j) {
            json_decref(*j);
            *j = body;
        } else {
            json_decref(body);
        }
    }
    if (got && r->status < 200) {
        free(r->body);
        got = 0;
    }
    return got;
}

/* Sends req to server s (0 coordinator, 1 PoP) and waits for the reply; rest: check the
 * REST envelope. Returns 1 with the last reply in *r (its body the caller's), 0 when none
 * came. *j gets its parsed JSON body (NULL when none) when j is not NULL. */
static int exchange(int s, const char *req, size_t len, int raw, int head, reply_t *r, json_t **j,
                    int rest)
{
    exch_t x = {.out = req, .out_len = len, .raw = raw, .head = head};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)H.port[s])};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    x.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (x.fd < 0 || (connect(x.fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS))
        die("cannot connect to a server");
    H.what = req;
    H.what_len = len;
    int64_t t0 = ekv_mono_us();
    x.wev = event_new(H.base, x.fd, EV_WRITE | EV_PERSIST, on_writable, &x);
    x.rev = event_new(H.base, x.fd, EV_READ | EV_PERSIST, on_readable, &x);
    event_add(x.wev, NULL);
    event_add(x.rev, NULL);
    run_until(&x, raw ? RAW_DEADLINE_MS : DEADLINE_MS);
    if (!x.done && x.in_len)
        run_until(&x, DEADLINE_MS); /* a reply under way gets more time */
    event_free(x.wev);
    event_free(x.rev);
    close(x.fd);
    if (j)
        *j = NULL;
    int got = check_all(&x, rest, r, j);
    if (H.verbose) /* HTTP_FUZZ_VERBOSE=1: what was sent and what came back */
        fprintf(stderr, "%c %.*s (%.3f ms)\n  -> %.*s\n", "CP"[s], (int)strcspn(req, "\r\n"), req,
                (double)(ekv_mono_us() - t0) / 1000, (int)(x.in_len < 300 ? x.in_len : 300),
                x.in ? x.in : "(none)");
    free(x.in);
    H.what = ""; /* req is the caller's and may go */
    H.what_len = 0;
    return got;
}

/* ---- inputs ------------------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const char *p, size_t n)
{
    if (b->cap - b->len < n + 1) {
        b->cap = (b->cap + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends p[0, n) with every "{ns}" replaced by the input's namespace. */
static void put_subst(buf_t *b, const char *p, size_t n)
{
    const char *at;
    while ((at = memmem(p, n, "{ns}", 4)) != NULL) {
        put(b, p, (size_t)(at - p));
        put(b, H.ns, strlen(H.ns));
        n -= (size_t)(at - p) + 4;
        p = at + 4;
    }
    put(b, p, n);
}

/* put_subst without NUL bytes: evhttp reads a line only up to its first NUL, so one with a NUL
 * would end the headers early and the rest would be parsed as a second request. */
static void put_line(buf_t *b, const char *p, size_t n)
{
    const char *nul;
    while ((nul = memchr(p, '\0', n)) != NULL) {
        put_subst(b, p, (size_t)(nul - p));
        n -= (size_t)(nul - p) + 1;
        p = nul + 1;
    }
    put_subst(b, p, n);
}

/* The next line of p[*at, n) without its LF (and CR); NULL at the end. */
static const char *next_line(const char *p, size_t n, size_t *at, size_t *len)
{
    if (*at >= n)
        return NULL;
    const char *s = p + *at, *lf = memchr(s, '\n', n - *at);
    size_t l = lf ? (size_t)(lf - s) : n - *at;
    *at += l + (lf != NULL);
    if (l && s[l - 1] == '\r')
        l--;
    *len = l;
    return s;
}

/* Builds a structured request from block p[0, n) (after the server letter). */
static void build(const char *p, size_t n, buf_t *out, int *head)
{
    size_t at = 0, l;
    const char *line = next_line(p, n, &at, &l);
    if (!line)
        line = "GET /", l = 5;
    while (l && *line == ' ')
        line++, l--;
    put_line(out, line, l);
    int spaces = 0;
    for (size_t i = 0; i < out->len; i++)
        spaces += out->p[i] == ' ';
    if (spaces < 2)
        put(out, " HTTP/1.1", 9), spaces++;
    /* HEAD as evhttp sees it: a valid request line (any other gets a 400 with a body) */
    *head = spaces == 2 && out->len > 14 && memcmp(out->p, "HEAD ", 5) == 0 &&
            (!memcmp(out->p + out->len - 9, " HTTP/1.1", 9) ||
             !memcmp(out->p + out->len - 9, " HTTP/1.0", 9));
    put(out, "\r\n", 2);
    while ((line = next_line(p, n, &at, &l)) != NULL && l > 0) {
        const char *colon = memchr(line, ':', l);
        size_t nl = colon ? (size_t)(colon - line) : l;
        if (name_is(line, nl, "Content-Length") || name_is(line, nl, "Transfer-Encoding"))
            continue;
        size_t before = out->len;
        put_line(out, line, l);
        if (out->len == before)
            continue; /* all NUL: an empty line would end the headers */
        put(out, "\r\n", 2);
    }
    char cl[48];
    size_t body = at < n ? n - at : 0;
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n\r\n", body);
    put(out, cl, strlen(cl));
    put(out, p + at, body);
}

/* Sends one block of an input. */
static void run_block(const char *p, size_t n)
{
    if (n == 0)
        return;
    int s = p[0] == 'P' || p[0] == 'p' || (p[0] != 'C' && p[0] != 'c' && (p[0] & 1));
    int raw = p[0] == 'c' || p[0] == 'p';
    p++, n--;
    if (n && *p == ' ')
        p++, n--;
    buf_t req = {0};
    int head = 0;
    if (raw)
        put(&req, p, n);
    else
        build(p, n, &req, &head);
    size_t tlen = req.len;
    const char *sp = memchr(req.p, ' ', tlen);
    int rest = !raw && s == 0 && sp && !strncmp(sp + 1, "/client/v4", 10);
    reply_t r;
    if (exchange(s, req.p ? req.p : "", req.len, raw, head, &r, NULL, rest))
        free(r.body);
    free(req.p);
}

/* ---- the harness's own requests and the reset between inputs ----------------------------- */

/* A structured request of the harness; returns the status (0: no reply) and the JSON body. */
static int call(int s, const char *method, const char *target, const char *body, json_t **j)
{
    buf_t req = {0};
    char head[1024];
    snprintf(head, sizeof head, "%s %s", method, target);
    put(&req, head, strlen(head));
    put(&req, "\n\n", 2);
    if (body)
        put(&req, body, strlen(body));
    buf_t out = {0};
    int is_head = 0;
    build(req.p, req.len, &out, &is_head);
    reply_t r;
    int got = exchange(s, out.p, out.len, 0, 0, &r, j, s == 0);
    free(req.p);
    free(out.p);
    if (!got)
        return 0;
    free(r.body);
    return r.status;
}

static void new_namespace(void)
{
    for (int tries = 0; tries < 10; tries++) {
        char body[64];
        snprintf(body, sizeof body, "{\"title\": \"http-fuzz-%u\"}", ++H.serial);
        json_t *j = NULL;
        int st = call(0, "POST", REST_NS, body, &j);
        const char *id = json_string_value(json_object_get(json_object_get(j, "result"), "id"));
        if (st == 200 && id && strlen(id) == 32) {
            snprintf(H.ns, sizeof H.ns, "%s", id);
            json_decref(j);
            return;
        }
        json_decref(j);
    }
    die("cannot create a namespace");
}

/* Deletes every key of the default namespace, a page at a time. */
static void wipe_default(void)
{
    for (int pages = 0; pages < 100; pages++) {
        json_t *j = NULL;
        if (call(0, "GET", REST_NS "/" EKV_KV_DEFAULT_NS "/keys?limit=1000", NULL, &j) != 200) {
            json_decref(j);
            return; /* the input deleted it */
        }
        json_t *names = json_array(), *e;
        size_t i;
        json_array_foreach(json_object_get(j, "result"), i, e)
            json_array_append(names, json_object_get(e, "name"));
        json_decref(j);
        if (json_array_size(names) == 0) {
            json_decref(names);
            return;
        }
        char *text = json_dumps(names, JSON_COMPACT);
        json_decref(names);
        int st = call(0, "POST", REST_NS "/" EKV_KV_DEFAULT_NS "/bulk/delete", text, NULL);
        free(text);
        if (st != 200)
            return;
    }
}

/* Undoes what an input did: see the top of the file. */
static void reset(int faulted)
{
    if (faulted && call(1, "POST", "/_edgekv/fault?partition=0&delay_ms=0&jitter=none&loss=0", NULL,
                        NULL) != 200)
        fail("the PoP refuses to restore its link after this input", "", 0);
    json_t *j = NULL, *e;
    size_t i;
    if (call(0, "GET", REST_NS "?per_page=1000", NULL, &j) != 200)
        fail("the namespace list fails after this input", "", 0); /* a finding, not set-up */
    json_array_foreach(json_object_get(j, "result"), i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        char target[256];
        if (!id || !strcmp(id, EKV_KV_DEFAULT_NS) || strlen(id) != 32)
            continue;
        snprintf(target, sizeof target, REST_NS "/%s", id);
        call(0, "DELETE", target, NULL, NULL);
    }
    json_decref(j);
    wipe_default();
    new_namespace();
}

/* ---- set-up and tear-down ---------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    ekv_node_destroy(&H.node);
    ekv_coord_destroy(&H.coord);
    ekv_http_guard_destroy(&H.guard);
    ekv_loop_destroy(&H.loop);
    if (H.dir[0])
        nftw(H.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs the loop until path exists (a ready file), at most 20 s. */
static json_t *await_file(const char *path)
{
    for (int i = 0; i < 2000; i++) {
        json_t *j = json_load_file(path, 0, NULL);
        if (j)
            return j;
        struct event *t = evtimer_new(H.base, on_deadline, NULL);
        struct timeval tv = {0, 10000};
        event_add(t, &tv);
        event_base_loop(H.base, 0);
        event_free(t);
    }
    die("a server did not become ready");
    return NULL;
}

static int url_port(json_t *j, const char *field)
{
    const char *url = json_string_value(json_object_get(j, field));
    const char *colon = url ? strrchr(url, ':') : NULL;
    return colon ? atoi(colon + 1) : 0;
}

/* The configurations' strings must outlive the servers. */
static char db_dir[96], pub_ep[128], router_ep[128], coord_ready[96], pop_ready[96];

static void start_coordinator(void)
{
    ekv_coord_config_t cfg;
    char err[512] = "";
    ekv_coord_config_defaults(&cfg);
    cfg.data_dir = db_dir;
    cfg.pub_endpoint = pub_ep;
    cfg.router_endpoint = router_ep;
    cfg.http_port = 0;
    cfg.durability = EKV_STORE_NONE;
    cfg.commit_cpu = EKV_COMMIT_CPU_NONE;
    H.coord = ekv_coord_new(H.base, &cfg, err, sizeof err);
    if (!H.coord || ekv_coord_write_ready(H.coord, coord_ready) != 0)
        die(err[0] ? err : "cannot write the coordinator's ready file");
    json_t *j = json_load_file(coord_ready, 0, NULL);
    H.port[0] = url_port(j, "http");
    json_decref(j);
}

/* ZeroMQ connects lazily: the PoP may start before the coordinator. */
static void start_node(void)
{
    ekv_node_config_t cfg;
    char err[512] = "";
    ekv_node_config_defaults(&cfg);
    cfg.name = "fuzz";
    cfg.http_port = 0;
    cfg.pub_endpoint = pub_ep;
    cfg.router_endpoint = router_ep;
    cfg.default_ns = H.ns;                /* rewritten for each input */
    cfg.coordinator_timeout_ms = 3600000; /* a slow input must not take the origin down */
    cfg.origin_timeout_ms = 200;          /* inside the deadline: a cut-off read is answered */
    cfg.ready_file = pop_ready;
    H.node = ekv_node_new(H.base, &cfg, err, sizeof err);
    if (!H.node)
        die(err);
}

static void setup(void)
{
    ekv_log_init("http_fuzz", EKV_LOG_ERROR);
    H.verbose = getenv("HTTP_FUZZ_VERBOSE") != NULL;
    const char *tol = getenv("HTTP_FUZZ_TOLERATE");
    H.tolerate = (tol && strstr(tol, "head") ? TOLERATE_HEAD : 0) |
                 (tol && strstr(tol, "version") ? TOLERATE_VERSION : 0);
    snprintf(H.dir, sizeof H.dir, "/tmp/ekv-http-fuzz-XXXXXX");
    if (!mkdtemp(H.dir))
        die("mkdtemp");
    snprintf(db_dir, sizeof db_dir, "%s/db", H.dir);
    snprintf(pub_ep, sizeof pub_ep, "ipc://%s/pub", H.dir);
    snprintf(router_ep, sizeof router_ep, "ipc://%s/router", H.dir);
    snprintf(coord_ready, sizeof coord_ready, "%s/coordinator.json", H.dir);
    snprintf(pop_ready, sizeof pop_ready, "%s/pop.json", H.dir);
    snprintf(H.ns, sizeof H.ns, "%s", EKV_KV_DEFAULT_NS);
    H.loop = ekv_loop_new(3);
    H.base = ekv_loop_base(H.loop);
    ekv_http_limits_t lim;
    ekv_http_limits_defaults(&lim);
    char err[512] = "";
    /* The guard takes the first server served after it is made: the other one goes first. */
    if (HTTP_FUZZ_GUARDED == 'C')
        start_node();
    else
        start_coordinator();
    if (!(H.guard = ekv_http_guard_new(H.base, &lim, err, sizeof err)))
        die(err);
    if (HTTP_FUZZ_GUARDED == 'C')
        start_coordinator();
    else
        start_node();
    json_t *j = await_file(pop_ready);
    H.port[1] = url_port(j, "url");
    json_decref(j);
    /* After the servers: RocksDB's own exit handlers, registered as it opened, run after. */
    atexit(teardown);
    new_namespace();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!H.loop)
        setup();
    const char *p = (const char *)data, *end = p + size;
    int faulted = memmem(p, size, "fault", 5) != NULL;
    for (int i = 0; i < MAX_REQUESTS && p < end; i++) {
        const char *sep = memmem(p, (size_t)(end - p), "\n%%\n", 4);
        const char *stop = sep ? sep : end;
        run_block(p, (size_t)(stop - p));
        p = sep ? sep + 4 : end;
    }
    reset(faulted);
    return 0;
}
