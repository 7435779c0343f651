/* http_hot_test: the PoP's read path without stdio or evhttp's query list gives the same text
 * (node/http_text.h: node_text_u64 / node_text_i64, node_query_ok / node_query_param).
 *
 * What a client would notice if these drifted: a hit's X-Edgekv-Version, X-Edgekv-Commit-Us
 * and Expiration headers written differently from the printf forms they always had; a query
 * string accepted that was answered 400 "Malformed query string" before (or the other way
 * round); a cache_ttl read differently (another parameter's value, not decoded, decoded
 * twice). Numbers are compared with snprintf's: the edges of both types and a million
 * pseudo-random ones of every length. Queries are compared with libevent's own
 * evhttp_parse_query_str and evhttp_find_header: by hand the cases that matter, then two
 * hundred thousand random strings over the characters that mean something to the parser.
 * A hit's Date and Content-Length (node_http_date_length) are compared with evhttp's own on
 * a real evhttp server: the whole reply byte for byte, over HTTP/1.1 kept alive and closed
 * and HTTP/1.0 with and without keep-alive. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ekv_test.h"
#include "http_text.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_u64(void) /* xorshift64: the same sequence every run */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check_u64(uint64_t v)
{
    char got[NODE_TEXT_INT_MAX + 8], want[32];
    memset(got, 'x', sizeof got);
    size_t n = node_text_u64(got, v);
    snprintf(want, sizeof want, "%" PRIu64, v);
    CHECK_STR(got, want);
    CHECK_EQ(n, strlen(want));
    CHECK_EQ(got[NODE_TEXT_INT_MAX], 'x'); /* nothing past the room promised */
}

static void check_i64(int64_t v)
{
    char got[NODE_TEXT_INT_MAX + 8], want[32];
    memset(got, 'x', sizeof got);
    size_t n = node_text_i64(got, v);
    snprintf(want, sizeof want, "%" PRId64, v);
    CHECK_STR(got, want);
    CHECK_EQ(n, strlen(want));
    CHECK_EQ(got[NODE_TEXT_INT_MAX], 'x');
}

static void test_integers_as_printf(void)
{
    const uint64_t edges[] = {0,
                              1,
                              9,
                              10,
                              99,
                              100,
                              999999,
                              1000000,
                              UINT32_MAX,
                              (uint64_t)INT64_MAX,
                              (uint64_t)INT64_MAX + 1,
                              UINT64_MAX - 1,
                              UINT64_MAX};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        check_u64(edges[i]);
        check_i64((int64_t)edges[i]);
        check_i64(-(int64_t)(edges[i] & INT64_MAX));
    }
    check_i64(INT64_MIN);
    check_i64(INT64_MIN + 1);
    check_i64(-1);
    for (int i = 0; i < 1000000; i++) {
        uint64_t v = next_u64() >> (i % 64); /* every number of digits */
        check_u64(v);
        check_i64((int64_t)v);
    }
}

/* q read both ways: accepted alike, and each name's value alike. */
static void check_query(const char *q)
{
    static const char *names[] = {"cache_ttl", "urlencoded", "a", "A", "expiration", "ab"};
    struct evkeyvalq list;
    int theirs = evhttp_parse_query_str(q, &list) == 0;
    if (node_query_ok(q) != theirs)
        EKV_FAIL_("query \"%s\": node_query_ok %d, evhttp %d", q, !theirs, theirs);
    for (size_t i = 0; theirs && i < sizeof names / sizeof *names; i++) {
        char small[4], *alloc;
        const char *want = evhttp_find_header(&list, names[i]);
        const char *got = node_query_param(q, names[i], small, sizeof small, &alloc);
        if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
            EKV_FAIL_("query \"%s\", %s: \"%s\" vs evhttp's \"%s\"", q, names[i],
                      got ? got : "(none)", want ? want : "(none)");
        CHECK(!alloc || got == alloc);
        free(alloc);
    }
    evhttp_clear_headers(&list);
}

static void test_query_as_evhttp(void)
{
    static const char *cases[] = {"",
                                  "cache_ttl=60",
                                  "cache_ttl=",
                                  "cache_ttl",
                                  "=60",
                                  "&",
                                  "&&",
                                  "a=1&",
                                  "a=1&&",
                                  "&a=1",
                                  "a=1&&b=2",
                                  "a=1&b",
                                  "a==1",
                                  "a=1=2",
                                  "CACHE_TTL=61",
                                  "Cache_Ttl=62&cache_ttl=3",
                                  "cache_ttl=1&cache_ttl=2",
                                  "cache%5Fttl=5",
                                  "cache_ttl=%36%30",
                                  "cache_ttl=6%30%",
                                  "cache_ttl=%3",
                                  "cache_ttl=%zz1",
                                  "cache_ttl=+60+",
                                  "cache_ttl=%2B60",
                                  "cache_ttl=%00",
                                  "cache_ttl=%4a%4A",
                                  "urlencoded=true",
                                  "urlencoded=",
                                  "x=1&urlencoded=0&y=2",
                                  "a=%",
                                  "a=%%41",
                                  "a=%e9%",
                                  "cache_ttl=99999999999999999999999999999999999999999999"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_query(cases[i]);
    static const char alphabet[] = "aAb=&%+1F_e4";
    char q[24];
    for (int i = 0; i < 200000; i++) {
        size_t len = next_u64() % sizeof q;
        for (size_t k = 0; k < len; k++)
            q[k] = alphabet[next_u64() % (sizeof alphabet - 1)];
        q[len] = '\0';
        check_query(q);
    }
}

/* A hit's reply: the headers send_item gives, the value, then Date and Content-Length from
 * node_http_date_length ("/ours") or from evhttp ("/theirs"). */
static void hit(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "CF-Cache-Status", "HIT");
    evhttp_add_header(h, "X-Edgekv-Version", "7");
    evhttp_add_header(h, "Content-Type", "application/octet-stream");
    evbuffer_add(evhttp_request_get_output_buffer(req), "0123456789", 10);
    if (!strcmp(evhttp_request_get_uri(req), "/ours"))
        node_http_date_length(req);
    evhttp_send_reply(req, 200, "OK", NULL);
}

/* The reply to one request on a new connection: until the close, or for a kept-alive one
 * until the Content-Length bytes after the head. */
static char *fetch(struct event_base *base, int port, const char *path, const char *version,
                   const char *headers)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char ask[256], *got = calloc(1, 4096);
    size_t len = 0;
    int n = snprintf(ask, sizeof ask, "GET %s %s\r\n%s\r\n", path, version, headers);
    CHECK_EQ(send(fd, ask, (size_t)n, 0), n);
    for (int i = 0; i < 1000; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        ssize_t r = recv(fd, got + len, 4095 - len, MSG_DONTWAIT);
        if (r == 0)
            break;
        if (r > 0)
            len += (size_t)r;
        const char *end = strstr(got, "\r\n\r\n"), *cl = strstr(got, "Content-Length: ");
        if (end && cl && cl < end && len == (size_t)(end + 4 - got) + strtoul(cl + 16, NULL, 10))
            break;
        usleep(1000);
    }
    close(fd);
    return got;
}

static void test_date_length_as_evhttp(void)
{
    static const char *asks[][2] = {{"HTTP/1.1", "Host: x\r\n"},
                                    {"HTTP/1.1", "Host: x\r\nConnection: close\r\n"},
                                    {"HTTP/1.0", ""},
                                    {"HTTP/1.0", "Connection: keep-alive\r\n"}};
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    CHECK(bs);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl);
    evhttp_set_gencb(http, hit, NULL);
    for (size_t i = 0; i < sizeof asks / sizeof *asks; i++) {
        for (int attempt = 0;; attempt++) { /* again if a second ended in between */
            char *ours = fetch(base, ntohs(sa.sin_port), "/ours", asks[i][0], asks[i][1]);
            char *theirs = fetch(base, ntohs(sa.sin_port), "/theirs", asks[i][0], asks[i][1]);
            CHECK(strstr(ours, "\r\n\r\n0123456789"));
            int same = !strcmp(ours, theirs);
            if (!same && attempt == 2)
                EKV_FAIL_("%s %s: ours\n%s\ntheirs\n%s", asks[i][0], asks[i][1], ours, theirs);
            free(ours);
            free(theirs);
            if (same)
                break;
        }
    }
    evhttp_free(http);
    event_base_free(base);
}

int main(void)
{
    EKV_TEST_RUN(test_integers_as_printf);
    EKV_TEST_RUN(test_query_as_evhttp);
    EKV_TEST_RUN(test_date_length_as_evhttp);
    EKV_TEST_DONE();
}
