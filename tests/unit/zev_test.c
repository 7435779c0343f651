/* zev_test: unit tests of ZMQ_FD under libevent (common/ekv_zev).
 *
 * ZMQ_FD signals only when the socket's command mailbox gets a command, not once per
 * message, so a watcher that stops draining early stalls for good. What matters: every
 * message waiting is received, in order, also when there are more than the per-turn budget
 * (the rest resume on a later turn), and messages sent later wake the watcher again. */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_test.h"
#include "ekv_zev.h"

static int received, in_order = 1;

static void on_msg(void *sock, void *arg)
{
    (void)arg;
    zmq_msg_t parts[2];
    int n, truncated;
    if (ekv_zev_recv(sock, parts, 2, &n, &truncated) != EKV_OK)
        return;
    int seq = -1;
    if (n == 1 && zmq_msg_size(&parts[0]) < 16) {
        char buf[16] = "";
        memcpy(buf, zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]));
        sscanf(buf, "%d", &seq);
    }
    if (seq != received)
        in_order = 0;
    received++;
    for (int i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
}

static void send_n(void *sock, int from, int count)
{
    for (int i = from; i < from + count; i++) {
        char buf[16];
        int len = snprintf(buf, sizeof buf, "%d", i);
        CHECK_EQ(zmq_send(sock, buf, (size_t)len, 0), len);
    }
}

static void run_for(struct event_base *base, int ms)
{
    struct timeval tv = {0, ms * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void test_drains_past_the_budget(void)
{
    void *ctx = zmq_ctx_new();
    void *rx = zmq_socket(ctx, ZMQ_PULL), *tx = zmq_socket(ctx, ZMQ_PUSH);
    int hwm = 0;
    zmq_setsockopt(rx, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(tx, ZMQ_SNDHWM, &hwm, sizeof hwm);
    CHECK_EQ(zmq_bind(rx, "inproc://zev-test"), 0);
    CHECK_EQ(zmq_connect(tx, "inproc://zev-test"), 0);
    struct event_base *base = event_base_new();

    /* Waiting before the watcher exists: 1,000 messages, a budget of 64 per turn. */
    send_n(tx, 0, 1000);
    ekv_zev_t *z = ekv_zev_new(base, rx, 64, on_msg, NULL);
    CHECK(z != NULL);
    run_for(base, 200);
    CHECK_EQ(received, 1000);
    CHECK(in_order);

    /* Sent while it watches: woken again, everything arrives. */
    send_n(tx, 1000, 10);
    run_for(base, 100);
    CHECK_EQ(received, 1010);
    send_n(tx, 1010, 300);
    run_for(base, 200);
    CHECK_EQ(received, 1310);
    CHECK(in_order);

    ekv_zev_destroy(&z);
    CHECK(z == NULL);
    event_base_free(base);
    zmq_close(tx);
    zmq_close(rx);
    zmq_ctx_term(ctx);
}

int main(void)
{
    EKV_TEST_RUN(test_drains_past_the_budget);
    EKV_TEST_DONE();
}
