/* sec_test: the daemons' security settings (common/ekv_sec).
 *
 * The environment: good keys load into the roles they make (server, client, both), every bad
 * variable is refused with a message naming it (not Z85, half a role, a secret that is not
 * its public key's, a token too short, too long or with a space). The loopback rule: a table
 * of hosts and endpoints, and the refusal messages the daemons print. The ZAP handler with
 * real sockets in one process: a CURVE ROUTER behind it receives from a DEALER holding the
 * world's client key, nothing from one with another key (counted as denied), and nothing from
 * a plain DEALER. */
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_sec.h"
#include "ekv_test.h"
#include "ekv_time.h"

static char srv_pub[41], srv_sec[41], cli_pub[41], cli_sec[41], other_pub[41], other_sec[41];

static void clear_env(void)
{
    unsetenv("EDGEKV_TOKEN");
    unsetenv("EDGEKV_CURVE_SERVER_SECRET");
    unsetenv("EDGEKV_CURVE_CLIENT_KEY");
    unsetenv("EDGEKV_CURVE_SERVER_KEY");
    unsetenv("EDGEKV_CURVE_CLIENT_SECRET");
}

/* Loading fails with exactly the message want. */
static void check_refused(const char *want)
{
    ekv_sec_t sec;
    char err[512] = "";
    CHECK_EQ(ekv_sec_load(&sec, err, sizeof err), EKV_EINVAL);
    CHECK_STR(err, want);
}

static void test_nothing_set(void)
{
    clear_env();
    setenv("EDGEKV_TOKEN", "", 1); /* empty counts as unset */
    ekv_sec_t sec;
    char err[256] = "";
    CHECK_EQ(ekv_sec_load(&sec, err, sizeof err), EKV_OK);
    CHECK(!sec.has_token && !sec.server && !sec.client);
}

static void test_roles(void)
{
    clear_env();
    setenv("EDGEKV_TOKEN", "0123456789abcdef", 1);
    setenv("EDGEKV_CURVE_SERVER_SECRET", srv_sec, 1);
    setenv("EDGEKV_CURVE_CLIENT_KEY", cli_pub, 1);
    ekv_sec_t sec;
    char err[256] = "";
    uint8_t want[32];
    CHECK_EQ(ekv_sec_load(&sec, err, sizeof err), EKV_OK);
    CHECK(sec.has_token && sec.server && !sec.client);
    CHECK_STR(sec.token, "0123456789abcdef");
    zmq_z85_decode(want, cli_pub);
    CHECK_MEM(sec.allowed_client, 32, want, 32);
    /* A tier: both roles; the client public key is derived from its secret. */
    setenv("EDGEKV_CURVE_SERVER_KEY", srv_pub, 1);
    setenv("EDGEKV_CURVE_CLIENT_SECRET", cli_sec, 1);
    CHECK_EQ(ekv_sec_load(&sec, err, sizeof err), EKV_OK);
    CHECK(sec.server && sec.client);
    CHECK_MEM(sec.client_public, 32, want, 32);
    zmq_z85_decode(want, srv_pub);
    CHECK_MEM(sec.server_public, 32, want, 32);
}

static void test_bad_variables(void)
{
    clear_env();
    setenv("EDGEKV_CURVE_SERVER_KEY", "short", 1);
    setenv("EDGEKV_CURVE_CLIENT_SECRET", cli_sec, 1);
    check_refused("EDGEKV_CURVE_SERVER_KEY is not a Z85 CURVE key (40 characters)");
    char bad[41];
    memcpy(bad, srv_pub, 41);
    bad[7] = '"'; /* not in Z85's alphabet */
    setenv("EDGEKV_CURVE_SERVER_KEY", bad, 1);
    check_refused("EDGEKV_CURVE_SERVER_KEY is not a Z85 CURVE key (40 characters)");
    setenv("EDGEKV_CURVE_SERVER_KEY", srv_pub, 1);
    setenv("EDGEKV_CURVE_CLIENT_SECRET", "x", 1);
    check_refused("EDGEKV_CURVE_CLIENT_SECRET is not a Z85 CURVE key (40 characters)");
    unsetenv("EDGEKV_CURVE_CLIENT_SECRET");
    check_refused("EDGEKV_CURVE_SERVER_KEY is set without EDGEKV_CURVE_CLIENT_SECRET (a CURVE "
                  "client needs both)");
    clear_env();
    setenv("EDGEKV_CURVE_CLIENT_KEY", cli_pub, 1);
    check_refused("EDGEKV_CURVE_CLIENT_KEY is set without EDGEKV_CURVE_SERVER_SECRET (a CURVE "
                  "server needs both)");
    setenv("EDGEKV_CURVE_SERVER_SECRET", "0123456789012345678901234567890123456789012", 1);
    check_refused("EDGEKV_CURVE_SERVER_SECRET is not a Z85 CURVE key (40 characters)");
    /* All four, the server secret not the server key's. */
    setenv("EDGEKV_CURVE_SERVER_SECRET", other_sec, 1);
    setenv("EDGEKV_CURVE_SERVER_KEY", srv_pub, 1);
    setenv("EDGEKV_CURVE_CLIENT_SECRET", cli_sec, 1);
    check_refused("EDGEKV_CURVE_SERVER_SECRET is not the secret of EDGEKV_CURVE_SERVER_KEY");
    setenv("EDGEKV_CURVE_SERVER_SECRET", srv_sec, 1);
    setenv("EDGEKV_CURVE_CLIENT_KEY", other_pub, 1);
    check_refused("EDGEKV_CURVE_CLIENT_SECRET is not the secret of EDGEKV_CURVE_CLIENT_KEY");
    clear_env();
    const char *tokens[] = {"fifteen-chars..", "has a space in the middle", "tab\tinside-the-token",
                            NULL};
    for (int i = 0; tokens[i]; i++) {
        setenv("EDGEKV_TOKEN", tokens[i], 1);
        check_refused("EDGEKV_TOKEN is not 16 to 256 visible ASCII characters");
    }
    char long_token[258];
    memset(long_token, 'a', 257);
    long_token[257] = '\0';
    setenv("EDGEKV_TOKEN", long_token, 1);
    check_refused("EDGEKV_TOKEN is not 16 to 256 visible ASCII characters");
    long_token[256] = '\0'; /* 256: the longest */
    setenv("EDGEKV_TOKEN", long_token, 1);
    ekv_sec_t sec;
    char err[256];
    CHECK_EQ(ekv_sec_load(&sec, err, sizeof err), EKV_OK);
    CHECK_EQ(strlen(sec.token), 256);
    clear_env();
}

static void test_loopback_table(void)
{
    static const struct {
        const char *host;
        int loopback;
    } hosts[] = {
        {"127.0.0.1", 1},
        {"127.3.2.1", 1},
        {"localhost", 1},
        {"LocalHost", 1},
        {"::1", 1},
        {"[::1]", 1},
        {"::ffff:127.0.0.2", 1},
        {"0.0.0.0", 0},
        {"*", 0},
        {"10.77.0.1", 0},
        {"128.0.0.1", 0},
        {"::", 0},
        {"lo", 0},
        {"eth0", 0},
        {"", 0},
        {"localhost.example.com", 0},
        {"126.255.255.255", 0},
    };
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        if (ekv_sec_host_is_loopback(hosts[i].host) != hosts[i].loopback)
            CHECK_STR(hosts[i].host, hosts[i].loopback ? "(a loopback host)" : "(not loopback)");
    static const struct {
        const char *ep;
        int loopback;
    } eps[] = {
        {"tcp://127.0.0.1:8781", 1},
        {"tcp://127.0.0.1:*", 1},
        {"tcp://[::1]:8781", 1},
        {"tcp://localhost:0", 1},
        {"ipc:///tmp/edgekv.sock", 1},
        {"inproc://x", 1},
        {"tcp://10.77.0.1:0;127.0.0.1:8781", 1}, /* connects to the part after ';' */
        {"tcp://127.0.0.1:0;10.77.0.1:8781", 0},
        {"tcp://*:8781", 0},
        {"tcp://0.0.0.0:8781", 0},
        {"tcp://eth0:8781", 0},
        {"tcp://10.77.0.1:8781", 0},
        {"epgm://lo;239.192.0.1:5555", 0},
        {"udp://127.0.0.1:5555", 0},
        {"tcp://", 0},
    };
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
        if (ekv_sec_endpoint_is_loopback(eps[i].ep) != eps[i].loopback)
            CHECK_STR(eps[i].ep, eps[i].loopback ? "(a loopback endpoint)" : "(not loopback)");
    CHECK(ekv_sec_endpoint_is_pgm("epgm://eth0;239.1.1.1:5555"));
    CHECK(ekv_sec_endpoint_is_pgm("pgm://eth0;239.1.1.1:5555"));
    CHECK(!ekv_sec_endpoint_is_pgm("tcp://127.0.0.1:1"));
}

static void test_refusals(void)
{
    ekv_sec_t none = {0}, keyed = {0};
    keyed.has_token = keyed.server = keyed.client = 1;
    char err[512] = "";
    CHECK_EQ(ekv_sec_check_http(&none, "--http", "127.0.0.2:0", "127.0.0.2", err, sizeof err),
             EKV_OK);
    CHECK_EQ(ekv_sec_check_http(&none, "--http", "10.77.0.1:8780", "10.77.0.1", err, sizeof err),
             EKV_EINVAL);
    CHECK_STR(err, "--http 10.77.0.1:8780 is not a loopback address: set EDGEKV_TOKEN (the "
                   "bearer token every request must carry); `edgekv keys` makes one");
    CHECK_EQ(ekv_sec_check_http(&keyed, "--http", "0.0.0.0:80", "0.0.0.0", err, sizeof err),
             EKV_OK);
    CHECK_EQ(ekv_sec_check_bind(&none, "--pub", "tcp://127.0.0.1:*", err, sizeof err), EKV_OK);
    CHECK_EQ(ekv_sec_check_bind(&none, "--pub", "tcp://10.77.0.1:8781", err, sizeof err),
             EKV_EINVAL);
    CHECK_STR(err, "--pub tcp://10.77.0.1:8781 is not a loopback address: set "
                   "EDGEKV_CURVE_SERVER_SECRET and EDGEKV_CURVE_CLIENT_KEY (CURVE keys; `edgekv "
                   "keys` makes them)");
    CHECK_EQ(ekv_sec_check_connect(&none, "--router", "tcp://*:1", err, sizeof err), EKV_EINVAL);
    CHECK_STR(err, "--router tcp://*:1 is not a loopback address: set EDGEKV_CURVE_SERVER_KEY "
                   "and EDGEKV_CURVE_CLIENT_SECRET (CURVE keys; `edgekv keys` makes them)");
    CHECK_EQ(ekv_sec_check_bind(&keyed, "--serve", "tcp://0.0.0.0:0", err, sizeof err), EKV_OK);
    CHECK_EQ(ekv_sec_check_connect(&keyed, "--pub", "tcp://10.0.0.1:1", err, sizeof err), EKV_OK);
    /* PGM: left alone without keys (a private namespace's multicast), refused with them. */
    CHECK_EQ(ekv_sec_check_bind(&none, "--pub", "epgm://lo;239.1.1.1:5555", err, sizeof err),
             EKV_OK);
    CHECK_EQ(ekv_sec_check_bind(&keyed, "--pub", "epgm://lo;239.1.1.1:5555", err, sizeof err),
             EKV_EINVAL);
    CHECK_STR(err, "--pub epgm://lo;239.1.1.1:5555: CURVE does not apply to epgm; a world with "
                   "keys publishes over tcp");
    CHECK_EQ(ekv_sec_check_connect(&keyed, "--pub", "epgm://lo;239.1.1.1:5555", err, sizeof err),
             EKV_EINVAL);
}

/* Runs the loop (the ZAP handler) and polls the router for up to ms; the body received, or
 * -1 when nothing came. */
static int receive(struct event_base *base, void *router, int ms)
{
    int64_t end = ekv_mono_us() + (int64_t)ms * 1000;
    while (ekv_mono_us() < end) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        zmq_pollitem_t it = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 5) == 1) {
            char id[256], body[16];
            int idn = zmq_recv(router, id, sizeof id, 0);
            int n = zmq_recv(router, body, sizeof body, 0);
            CHECK_GT(idn, 0);
            return n == 1 ? body[0] : -2;
        }
    }
    return -1;
}

/* A DEALER with the given client keypair (NULL: plain) sends one byte to the router. */
static void *dealer(void *ctx, const char *ep, const char *pub, const char *secret, char byte)
{
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    if (pub) {
        ekv_sec_t sec = {0};
        sec.client = 1;
        zmq_z85_decode(sec.server_public, srv_pub);
        zmq_z85_decode(sec.client_public, pub);
        zmq_z85_decode(sec.client_secret, secret);
        CHECK_EQ(ekv_sec_client(d, &sec), EKV_OK);
    }
    CHECK_EQ(zmq_connect(d, ep), 0);
    CHECK_EQ(zmq_send(d, &byte, 1, ZMQ_DONTWAIT), 1);
    return d;
}

static void test_zap(void)
{
    clear_env();
    setenv("EDGEKV_CURVE_SERVER_SECRET", srv_sec, 1);
    setenv("EDGEKV_CURVE_CLIENT_KEY", cli_pub, 1);
    ekv_sec_t sec;
    char err[256] = "";
    CHECK_EQ(ekv_sec_load(&sec, err, sizeof err), EKV_OK);
    clear_env();
    void *ctx = zmq_ctx_new();
    struct event_base *base = event_base_new();
    ekv_zap_t *zap = ekv_zap_start(ctx, base, &sec, err, sizeof err);
    CHECK(zap != NULL);
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    CHECK_EQ(ekv_sec_server(router, &sec), EKV_OK);
    CHECK_EQ(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
    char ep[256];
    size_t len = sizeof ep;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &len);

    void *good = dealer(ctx, ep, cli_pub, cli_sec, 'g');
    CHECK_EQ(receive(base, router, 2000), 'g');
    CHECK_EQ(ekv_zap_denied(zap), 0);
    void *wrong = dealer(ctx, ep, other_pub, other_sec, 'w');
    CHECK_EQ(receive(base, router, 300), -1);
    CHECK_GE(ekv_zap_denied(zap), 1);
    void *plain = dealer(ctx, ep, NULL, NULL, 'p');
    CHECK_EQ(receive(base, router, 300), -1);
    /* The allowed client still gets through after the refusals. */
    CHECK_EQ(zmq_send(good, "h", 1, ZMQ_DONTWAIT), 1);
    CHECK_EQ(receive(base, router, 2000), 'h');

    zmq_close(good);
    zmq_close(wrong);
    zmq_close(plain);
    zmq_close(router);
    ekv_zap_destroy(&zap);
    CHECK(zap == NULL);
    ekv_zap_destroy(&zap); /* no-op on NULL */
    zmq_ctx_term(ctx);
    event_base_free(base);
}

int main(void)
{
    CHECK(zmq_has("curve"));
    CHECK_EQ(zmq_curve_keypair(srv_pub, srv_sec), 0);
    CHECK_EQ(zmq_curve_keypair(cli_pub, cli_sec), 0);
    CHECK_EQ(zmq_curve_keypair(other_pub, other_sec), 0);
    EKV_TEST_RUN(test_nothing_set);
    EKV_TEST_RUN(test_roles);
    EKV_TEST_RUN(test_bad_variables);
    EKV_TEST_RUN(test_loopback_table);
    EKV_TEST_RUN(test_refusals);
    EKV_TEST_RUN(test_zap);
    EKV_TEST_DONE();
}
