/* coord_bench: load and reference measurements for scripts/bench/coordinator.
 *
 *   coord_bench raw DIR single|batchB SECONDS
 *       synced RocksDB writes of 100-byte values straight to a fresh database: one put per
 *       synced write, or B puts per synced write batch (batch100, batch64, ...); prints
 *       "puts_per_s N".
 *   coord_bench writers ROUTER_ENDPOINT N SECONDS
 *       N concurrent writers, each with one WRITE of a 100-byte value in flight, the next
 *       sent when the previous is acknowledged (status 200), all on one DEALER; prints
 *       "acks_per_s N" counted after a 0.5 s warm-up.
 *   coord_bench null ENDPOINT_FILE
 *       a coordinator that does nothing: a ROUTER on 127.0.0.1 that acknowledges every WRITE
 *       at once (status 200), stores nothing and publishes nothing, until SIGTERM or SIGINT.
 *       Writes its endpoint to ENDPOINT_FILE. `writers` against it measures what the
 *       protocol and the load generator alone allow on this machine.
 * Each runs in one thread (plus ZeroMQ's I/O thread), so it takes one core at most. */
#include <rocksdb/c.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ekv_kv.h"
#include "ekv_mem.h"
#include "ekv_msg.h"
#include "ekv_time.h"

static int raw(const char *dir, const char *mode, double seconds)
{
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    char *err = NULL;
    rocksdb_t *db = rocksdb_open(o, dir, &err);
    if (err) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    rocksdb_writeoptions_t *w = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(w, 1);
    int per = 1;
    if (strcmp(mode, "single") != 0 && (sscanf(mode, "batch%d", &per) != 1 || per < 1)) {
        fprintf(stderr, "raw: mode is single or batchB (B >= 1), not %s\n", mode);
        return 2;
    }
    char value[100], key[32];
    memset(value, 'v', sizeof value);
    uint64_t puts = 0;
    int64_t start = ekv_mono_us(), end = start + (int64_t)(seconds * 1e6);
    while (ekv_mono_us() < end) {
        rocksdb_writebatch_t *b = rocksdb_writebatch_create();
        for (int i = 0; i < per; i++) {
            int n = snprintf(key, sizeof key, "k%llu", (unsigned long long)puts++);
            rocksdb_writebatch_put(b, key, (size_t)n, value, sizeof value);
        }
        rocksdb_write(db, w, b, &err);
        rocksdb_writebatch_destroy(b);
        if (err) {
            fprintf(stderr, "write: %s\n", err);
            return 1;
        }
    }
    printf("puts_per_s %.0f\n", puts / ((ekv_mono_us() - start) / 1e6));
    rocksdb_writeoptions_destroy(w);
    rocksdb_close(db);
    rocksdb_options_destroy(o);
    return 0;
}

/* Sends writer w's next write; req_id carries the writer so its ack finds it again. */
static void send_write(void *s, int writer, uint64_t i)
{
    char key[48], value[100];
    memset(value, 'v', sizeof value);
    snprintf(key, sizeof key, "bench-%d-%llu-%lld", writer, (unsigned long long)i,
             (long long)ekv_now_us());
    ekv_msg_t m = {.type = EKV_MSG_WRITE, .req_id = (i << 16) | (uint64_t)writer, .op = EKV_OP_PUT};
    m.ns = (ekv_bytes_t){EKV_KV_DEFAULT_NS, strlen(EKV_KV_DEFAULT_NS)};
    m.key = (ekv_bytes_t){key, strlen(key)};
    m.value = (ekv_bytes_t){value, sizeof value};
    char *body;
    size_t len;
    ekv_msg_encode(&m, &body, &len);
    zmq_send(s, body, len, 0);
    free(body);
}

/* N writers, each with exactly one write in flight, multiplexed on one DEALER socket so the
 * generator's own cost stays small next to the coordinator's. */
static int writers(const char *ep, int n, double seconds)
{
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(sock, ep);
    uint64_t acks = 0, failed = 0, seq = 1;
    for (int w = 0; w < n; w++)
        send_write(sock, w, seq++);
    int64_t start = ekv_mono_us(), warm = start + 500000, end = warm + (int64_t)(seconds * 1e6);
    int64_t counted_from = 0;
    char buf[4096];
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    for (int64_t now = start; now < end; now = ekv_mono_us()) {
        if (!counted_from && now >= warm) {
            counted_from = now;
            acks = failed = 0;
        }
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;
        int len;
        while ((len = zmq_recv(sock, buf, sizeof buf, ZMQ_DONTWAIT)) > 0) {
            ekv_msg_t r;
            if (ekv_msg_decode(buf, (size_t)len, &r) != 0)
                continue;
            r.status == 200 ? acks++ : failed++;
            send_write(sock, (int)(r.req_id & 0xffff), seq++);
            ekv_msg_fini(&r);
        }
    }
    double secs = (ekv_mono_us() - counted_from) / 1e6;
    printf("acks_per_s %.0f\n", acks / secs);
    if (failed)
        fprintf(stderr, "%llu writes refused\n", (unsigned long long)failed);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return failed ? 1 : 0;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

/* The do-nothing coordinator: every WRITE is acknowledged as soon as it is read. */
static int null_coordinator(const char *endpoint_file)
{
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: zmq_poll returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    char ep[256];
    size_t eplen = sizeof ep;
    FILE *f = NULL;
    if (zmq_bind(sock, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &eplen) != 0 ||
        !(f = fopen(endpoint_file, "w")) || fprintf(f, "%s\n", ep) < 0 || fclose(f) != 0) {
        fprintf(stderr, "null: cannot bind or write %s\n", endpoint_file);
        return 1;
    }
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    char body[4096];
    while (!stop) {
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;
        zmq_msg_t peer;
        zmq_msg_init(&peer);
        while (zmq_msg_recv(&peer, sock, ZMQ_DONTWAIT) >= 0) {
            int len = zmq_msg_more(&peer) ? zmq_recv(sock, body, sizeof body, 0) : -1;
            ekv_msg_t m;
            if (len > 0 && (size_t)len <= sizeof body && ekv_msg_decode(body, (size_t)len, &m) == 0) {
                ekv_msg_t r = {.type = EKV_MSG_WRITE_REPLY,
                               .req_id = m.req_id,
                               .status = 200,
                               .seq = 1,
                               .time_us = ekv_now_us()};
                char *out;
                size_t n;
                if (ekv_msg_encode(&r, &out, &n) == 0) {
                    zmq_send(sock, zmq_msg_data(&peer), zmq_msg_size(&peer), ZMQ_SNDMORE);
                    zmq_send(sock, out, n, 0);
                    free(out);
                }
                ekv_msg_fini(&m);
            }
        }
        zmq_msg_close(&peer);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "raw"))
        return raw(argv[2], argv[3], atof(argv[4]));
    if (argc == 5 && !strcmp(argv[1], "writers"))
        return writers(argv[2], atoi(argv[3]), atof(argv[4]));
    if (argc == 3 && !strcmp(argv[1], "null"))
        return null_coordinator(argv[2]);
    fprintf(stderr, "usage: coord_bench raw DIR single|batchB SECONDS\n"
                    "       coord_bench writers ROUTER_ENDPOINT N SECONDS\n"
                    "       coord_bench null ENDPOINT_FILE\n");
    return 2;
}
