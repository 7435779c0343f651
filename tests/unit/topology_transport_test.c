/* topology_transport_test: coordinator.transport in topology.yaml (sim/topology, issue 31).
 *
 * What a user notices: a world without the setting publishes over TCP; an epgm world gets
 * exactly the group, port, interface, rate, recovery interval and set-up written, with the
 * documented defaults for the rest; and every mistake (a kind that does not exist, a group
 * that is not multicast, an interface off loopback, epgm without a group, a field that does
 * not exist, values out of range) is "t.yaml:LINE: problem" on the line to fix. */
#include <stdio.h>
#include <string.h>

#include "ekv_test.h"
#include "topology.h"

#define POPS "pops:\n  - {name: a, delay_ms: 0}\n"

static ekv_topo_t *parse(const char *text, char *err, size_t errlen)
{
    return ekv_topo_parse("t.yaml", text, strlen(text), err, errlen);
}

/* Parsing text must fail with "t.yaml:LINE: " and a problem containing needle. */
static void expect_error(const char *text, int line, const char *needle)
{
    char err[512] = "", prefix[32];
    ekv_topo_t *t = parse(text, err, sizeof err);
    if (t) {
        ekv_topo_destroy(&t);
        EKV_FAIL_("accepted, expected an error on line %d:\n%s", line, text);
    }
    snprintf(prefix, sizeof prefix, "t.yaml:%d: ", line);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, needle))
        EKV_FAIL_("error \"%s\", expected \"%s...%s...\"", err, prefix, needle);
}

static void test_default_is_tcp(void)
{
    char err[512] = "";
    ekv_topo_t *t = parse("coordinator:\n  city: Frankfurt\n" POPS, err, sizeof err);
    CHECK(t != NULL);
    CHECK_STR(t->coord.transport.kind, "tcp");
    CHECK_STR(t->coord.transport.interface, "127.0.0.1");
    CHECK_EQ(t->coord.transport.rate_kbps, 100000);
    CHECK_EQ(t->coord.transport.recovery_ms, 1000);
    CHECK_EQ(t->coord.transport.setup, 0);
    ekv_topo_destroy(&t);
}

static void test_epgm(void)
{
    char err[512] = "";
    ekv_topo_t *t = parse("coordinator:\n"
                          "  transport:\n"
                          "    kind: epgm\n"
                          "    group: 239.192.0.1\n"
                          "    port: 7121\n"
                          "    rate_kbps: 50000\n"
                          "    recovery_ms: 250\n"
                          "    setup: true\n" POPS,
                          err, sizeof err);
    CHECK(t != NULL);
    const ekv_topo_transport_t *tr = &t->coord.transport;
    CHECK_STR(tr->kind, "epgm");
    CHECK_STR(tr->group, "239.192.0.1");
    CHECK_EQ(tr->port, 7121);
    CHECK_STR(tr->interface, "127.0.0.1");
    CHECK_EQ(tr->rate_kbps, 50000);
    CHECK_EQ(tr->recovery_ms, 250);
    CHECK_EQ(tr->setup, 1);
    ekv_topo_destroy(&t);

    /* The flow style the tests and benchmarks write; port 0 is picked at `up`. */
    t = parse(
        "coordinator:\n  transport: {kind: epgm, group: 224.0.0.251, interface: 127.0.0.1}\n" POPS,
        err, sizeof err);
    CHECK(t != NULL);
    CHECK_STR(t->coord.transport.group, "224.0.0.251");
    CHECK_EQ(t->coord.transport.port, 0);
    ekv_topo_destroy(&t);
}

static void test_errors(void)
{
    expect_error("coordinator:\n  transport:\n    kind: udp\n" POPS, 3, "not one of tcp, epgm");
    expect_error("coordinator:\n  transport:\n    kind: epgm\n    group: 10.0.0.1\n" POPS, 4,
                 "'10.0.0.1' is not multicast");
    expect_error("coordinator:\n  transport:\n    kind: epgm\n    group: 240.0.0.1\n" POPS, 4,
                 "is not multicast");
    expect_error(
        "coordinator:\n  transport: {kind: epgm, group: 239.1.1.1, interface: 10.1.1.1}\n" POPS, 2,
        "'10.1.1.1' is not loopback");
    expect_error("coordinator:\n  transport:\n    kind: epgm\n" POPS, 3, "epgm needs a group");
    expect_error("coordinator:\n  transport:\n    kind: epgm\n    grup: 239.1.1.1\n" POPS, 4,
                 "coordinator.transport: unknown field 'grup'");
    expect_error("coordinator:\n  transport:\n    port: 70000\n" POPS, 3, "transport.port");
    expect_error("coordinator:\n  transport:\n    rate_kbps: 10\n" POPS, 3, "transport.rate_kbps");
    expect_error("coordinator:\n  transport:\n    recovery_ms: 5\n" POPS, 3,
                 "transport.recovery_ms");
    expect_error("coordinator:\n  transport: epgm\n" POPS, 2, "coordinator.transport");
}

int main(void)
{
    EKV_TEST_RUN(test_default_is_tcp);
    EKV_TEST_RUN(test_epgm);
    EKV_TEST_RUN(test_errors);
    EKV_TEST_DONE();
}
