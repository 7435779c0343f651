/* http_write_test: a reply the handler gives at once leaves in the same loop turn
 * (common/ekv_http.c write_now), and everything evhttp did after a reply still happens.
 *
 * One guarded evhttp on 127.0.0.1 and a client socket in the same process; the test runs the
 * loop itself, one turn at a time where it matters. What a client would notice:
 *   - a request answered at once has its whole reply on the client's socket after the one
 *     loop turn that read the request (before, the write waited for the next turn's
 *     writable event: a wakeup and two epoll_ctl calls more per request);
 *   - pipelined requests are answered in order; Connection: close and an HTTP/1.0 request
 *     without keep-alive get their whole reply, then the close, and the guard's count of
 *     connections returns to 0 (its close callback ran; no drift);
 *   - a 4 MiB reply, more than the socket takes at once, arrives whole (the rest through
 *     the write event);
 *   - a reply given later (from a timer, as after an origin fetch) still arrives, and the
 *     connection then serves its next request;
 *   - a kept-alive connection still idles out after a reply written at once (the guard
 *     took it back to IDLE).
 * Run under AddressSanitizer too: evhttp frees the request (and, on close, the connection)
 * inside the guard's callback. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ekv_http.h"
#include "ekv_test.h"

#define BIG (4u << 20)

#define RUN(fn, arg)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "-- %s\n", #fn);                                                           \
        fn(arg);                                                                                   \
        ekv_test_count++;                                                                          \
    } while (0)

static struct event_base *base;
static char *big;
static int served;

static void reply_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "later\n", 6);
    evhttp_send_reply(arg, 200, "OK", b);
    evbuffer_free(b);
}

static void handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    served++;
    if (!strcmp(uri, "/later")) {
        struct timeval tv = {0, 20000};
        event_base_once(base, -1, EV_TIMEOUT, reply_later, req, &tv);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!strcmp(uri, "/big"))
        evbuffer_add(b, big, BIG);
    else
        evbuffer_add_printf(b, "hello %s\n", uri);
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    for (int i = 0; i < 20; i++) /* accepted and attached by the guard's work event */
        event_base_loop(base, EVLOOP_NONBLOCK);
    return fd;
}

static void send_all(int fd, const char *text)
{
    size_t n = strlen(text);
    CHECK_EQ(send(fd, text, n, 0), (ssize_t)n);
}

typedef struct {
    char *buf;
    size_t len, cap;
    int eof;
} inbox_t;

/* Takes what the socket holds now, without waiting. */
static void take(int fd, inbox_t *in)
{
    for (;;) {
        if (in->cap - in->len < 65536) {
            in->cap = in->cap ? in->cap * 2 : 1 << 20;
            in->buf = realloc(in->buf, in->cap + 1);
        }
        ssize_t n = recv(fd, in->buf + in->len, in->cap - in->len, MSG_DONTWAIT);
        if (n > 0) {
            in->len += (size_t)n;
            continue;
        }
        if (n == 0)
            in->eof = 1;
        break;
    }
    in->buf[in->len] = '\0';
}

/* The complete replies at the start of in (each: head, then Content-Length bytes). */
static int replies(const inbox_t *in, size_t *body_len)
{
    int count = 0;
    size_t at = 0;
    for (;;) {
        const char *head = in->buf + at, *end = strstr(head, "\r\n\r\n");
        const char *cl = strstr(head, "Content-Length: ");
        if (!end || !cl || cl > end)
            return count;
        size_t n = strtoul(cl + 16, NULL, 10), whole = (size_t)(end + 4 - head) + n;
        if (at + whole > in->len)
            return count;
        if (body_len)
            *body_len = n;
        at += whole;
        count++;
    }
}

/* Runs the loop until want replies (and the close, if asked) came; 1 when they did. */
static int pump(int fd, inbox_t *in, int want, int eof)
{
    for (int i = 0; i < 2000; i++) {
        take(fd, in);
        if (replies(in, NULL) >= want && (!eof || in->eof))
            return 1;
        struct timeval tv = {0, 5000};
        event_base_loopexit(base, &tv);
        event_base_loop(base, EVLOOP_ONCE);
    }
    return 0;
}

static long open_connections(void)
{
    struct evbuffer *b = evbuffer_new();
    ekv_http_metrics(b, NULL);
    evbuffer_add(b, "", 1);
    const char *m = strstr((const char *)evbuffer_pullup(b, -1), "\nedgekv_http_connections ");
    long n = m ? strtol(m + 25, NULL, 10) : -1;
    evbuffer_free(b);
    return n;
}

static void test_reply_leaves_in_the_same_turn(int port)
{
    int fd = connect_to(port);
    inbox_t in = {0};
    for (int i = 0; i < 3; i++) { /* each request alone on a kept-alive connection */
        in.len = 0;
        send_all(fd, "GET /now HTTP/1.1\r\nHost: x\r\n\r\n");
        event_base_loop(base, EVLOOP_ONCE); /* the turn that reads the request */
        take(fd, &in);
        CHECK_EQ(replies(&in, NULL), 1);
        CHECK(strstr(in.buf, "HTTP/1.1 200 OK\r\n") == in.buf);
        CHECK(strstr(in.buf, "\r\n\r\nhello /now\n"));
    }
    close(fd);
    free(in.buf);
}

static void test_pipelined_in_order(int port)
{
    int fd = connect_to(port);
    inbox_t in = {0};
    send_all(fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(pump(fd, &in, 4, 0));
    const char *a = strstr(in.buf, "hello /a"), *b = strstr(in.buf, "hello /b");
    const char *l = strstr(in.buf, "later\n"), *c = strstr(in.buf, "hello /c");
    CHECK(a && b && l && c && a < b && b < l && l < c);
    close(fd);
    free(in.buf);
}

static void test_close_after_reply(int port)
{
    static const char *asks[] = {
        "GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /old HTTP/1.0\r\n\r\n", /* its body ends with the connection */
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\nConnection: "
        "close\r\n\r\n"};
    static const char *last[] = {"\r\n\r\nhello /bye\n", "\r\n\r\nhello /old\n",
                                 "\r\n\r\nhello /last\n"};
    for (size_t i = 0; i < 3; i++) {
        int fd = connect_to(port);
        inbox_t in = {0};
        send_all(fd, asks[i]);
        CHECK(pump(fd, &in, 0, 1));
        const char *end = strstr(in.buf, last[i]);
        if (!end || end + strlen(last[i]) != in.buf + in.len)
            EKV_FAIL_("case %zu: not the whole reply, then the close: %s", i, in.buf);
        close(fd);
        free(in.buf);
        for (int k = 0; k < 20; k++)
            event_base_loop(base, EVLOOP_NONBLOCK);
        CHECK_EQ(open_connections(), 0);
    }
}

static void test_big_reply_whole(int port)
{
    int fd = connect_to(port);
    inbox_t in = {0};
    size_t body = 0;
    send_all(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(pump(fd, &in, 1, 0));
    CHECK_EQ(replies(&in, &body), 1);
    CHECK_EQ(body, BIG);
    CHECK(!memcmp(in.buf + in.len - BIG, big, BIG));
    send_all(fd, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n"); /* and it serves on */
    CHECK(pump(fd, &in, 2, 0));
    close(fd);
    free(in.buf);
}

static void test_idle_after_reply(int port)
{
    int fd = connect_to(port);
    inbox_t in = {0};
    send_all(fd, "GET /now HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(pump(fd, &in, 1, 0));
    CHECK(pump(fd, &in, 1, 1)); /* closed after the idle timeout (300 ms) */
    close(fd);
    free(in.buf);
}

int main(void)
{
    char err[256];
    big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (char)('a' + i % 26);
    base = event_base_new();
    ekv_http_limits_t lim;
    ekv_http_limits_defaults(&lim);
    lim.idle_timeout_ms = 300;
    ekv_http_guard_t *g = ekv_http_guard_new(base, &lim, err, sizeof err);
    CHECK(g);
    struct evhttp *http = evhttp_new(base);
    int port;
    CHECK_EQ(ekv_http_serve(http, "127.0.0.1", 0, handler, NULL, &port, err, sizeof err), 0);
    RUN(test_reply_leaves_in_the_same_turn, port);
    RUN(test_pipelined_in_order, port);
    RUN(test_close_after_reply, port);
    RUN(test_big_reply_whole, port);
    RUN(test_idle_after_reply, port);
    CHECK_GE(served, 13);
    evhttp_free(http);
    ekv_http_guard_destroy(&g);
    event_base_free(base);
    free(big);
    EKV_TEST_DONE();
}
