/* topology_test: unit tests of the topology loader (sim/topology).
 *
 * A user writes topology.yaml by hand, so what they notice is: a valid file yields exactly
 * the fields written plus the documented defaults; delays follow from distance (or the
 * override); and every mistake is reported as "FILE:LINE: problem" with the line they need to
 * fix. Errors are checked for the exact "t.yaml:LINE: " prefix and a distinctive part of the
 * problem. The project's own topology.yaml is loaded too, to guard the default world.
 *
 * Finding topology.yaml: argv[1] when given; else derived from __FILE__, which CMake passes
 * as an absolute path ending in tests/unit/topology_test.c; else that check is skipped with
 * a note. Every parsed topology is destroyed; the program runs clean under valgrind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_test.h"
#include "topology.h"
#include "yaml_test.h"

static const char *g_topology_path; /* the project's topology.yaml, NULL when unknown */

static ekv_topo_t *parse(const char *text, char *err, size_t errlen)
{
    return ekv_topo_parse("t.yaml", text, strlen(text), err, errlen);
}

/* Parses text that must be valid; the test fails with the loader's message otherwise. */
static ekv_topo_t *parse_ok(const char *text)
{
    char err[512] = "";
    ekv_topo_t *p = parse(text, err, sizeof err);
    if (!p)
        EKV_FAIL_("valid text rejected: %s\n%s", err, text);
    return p;
}

/* Parsing text must fail with "t.yaml:LINE: " followed by a problem containing needle. */
#define EXPECT_ERROR(text, line, needle)                                                           \
    EXPECT_PARSE_ERROR(ekv_topo_t, parse, ekv_topo_destroy, text, line, needle)

/* ---- valid files ------------------------------------------------------------------------ */

static const char SMALL[] =                           /* line numbers on the right */
    "# a small world\n"                               /* 1 */
    "coordinator:\n"                                  /* 2 */
    "  city: Frankfurt\n"                             /* 3 */
    "  iata: FRA\n"                                   /* 4 */
    "  lat: 50.1109\n"                                /* 5 */
    "  lon: 8.6821\n"                                 /* 6 */
    "  http_port: 0\n"                                /* 7 */
    "  pub_port: 9001\n"                              /* 8 */
    "  router_port: 9002\n"                           /* 9 */
    "pops:\n"                                         /* 10 */
    "  - name: jfk\n"                                 /* 11 */
    "    city: New York\n"                            /* 12 */
    "    iata: JFK\n"                                 /* 13 */
    "    lat: 40.7128\n"                              /* 14 */
    "    lon: -74.0060\n"                             /* 15 */
    "  - name: syd\n"                                 /* 16 */
    "    city: Sydney\n"                              /* 17 */
    "    iata: SYD\n"                                 /* 18 */
    "    lat: -33.8688\n"                             /* 19 */
    "    lon: 151.2093\n"                             /* 20 */
    "    delay_ms: 140\n"                             /* 21 */
    "    policy: ttl\n"                               /* 22 */
    "  - {name: fra-2, lat: 50.1109, lon: 8.6821}\n"; /* 23 */

static void test_valid_with_defaults(void)
{
    ekv_topo_t *t = parse_ok(SMALL);

    CHECK_STR(t->coord.city, "Frankfurt");
    CHECK_STR(t->coord.iata, "FRA");
    CHECK_NEAR(t->coord.lat, 50.1109, 1e-12);
    CHECK_NEAR(t->coord.lon, 8.6821, 1e-12);
    CHECK_EQ(t->coord.http_port, 0);
    CHECK_EQ(t->coord.pub_port, 9001);
    CHECK_EQ(t->coord.router_port, 9002);
    /* Absent sections and fields take the documented defaults. */
    CHECK_STR(t->coord.host, "127.0.0.1");
    CHECK_STR(t->policy, "push");
    CHECK_NEAR(t->cache_ttl, 60, 0);
    CHECK_NEAR(t->cache_mb, 64, 0);
    CHECK_NEAR(t->route_factor, 1.5, 0);
    CHECK_NEAR(t->time_scale, 1, 0);
    CHECK_EQ(t->http_port_base, 0);
    CHECK_EQ(t->pin_cpus, 1);
    CHECK_NEAR(t->coord.heartbeat_ms, 100, 0);
    CHECK_STR(t->coord.durability, "fsync"); /* the coordinator's own default */

    CHECK_EQ(t->npops, 3);
    const ekv_topo_pop_t *jfk = &t->pops[0], *syd = &t->pops[1], *fra = &t->pops[2];
    CHECK_STR(jfk->name, "jfk");
    CHECK_STR(jfk->city, "New York");
    CHECK_STR(jfk->iata, "JFK");
    CHECK_NEAR(jfk->lat, 40.7128, 1e-12);
    CHECK_NEAR(jfk->lon, -74.0060, 1e-12);
    CHECK_EQ(jfk->has_delay, 0);
    CHECK_STR(jfk->policy, "");
    CHECK_EQ(jfk->line, 11);
    CHECK_STR(ekv_topo_policy(t, jfk), "push");

    CHECK_STR(syd->name, "syd");
    CHECK_STR(syd->city, "Sydney");
    CHECK_EQ(syd->has_delay, 1);
    CHECK_NEAR(syd->delay_ms, 140, 0);
    CHECK_STR(syd->policy, "ttl");
    CHECK_EQ(syd->line, 16);
    CHECK_STR(ekv_topo_policy(t, syd), "ttl");

    CHECK_STR(fra->name, "fra-2");
    CHECK_STR(fra->city, "");
    CHECK_EQ(fra->line, 23);

    /* Delay from distance at the default route factor; the override wins over distance. */
    double km = ekv_topo_distance_km(50.1109, 8.6821, 40.7128, -74.0060);
    CHECK_NEAR(ekv_topo_delay_ms(t, jfk), km / 200.0 * 1.5, 1e-9);
    CHECK_NEAR(ekv_topo_delay_ms(t, syd), 140, 0);
    CHECK_NEAR(ekv_topo_delay_ms(t, fra), 0, 1e-9);
    ekv_topo_destroy(&t);
    CHECK(t == NULL);
    ekv_topo_destroy(&t); /* no-op on NULL */
}

static void test_valid_with_every_setting(void)
{
    static const char text[] = "coordinator:\n"
                               "  host: localhost\n"
                               "  lat: 0\n"
                               "  lon: 0\n"
                               "  heartbeat_ms: 5000\n"
                               "  durability: wal\n"
                               "defaults:\n"
                               "  policy: invalidate\n"
                               "  cache_ttl: 5\n"
                               "  cache_mb: 16.5\n"
                               "  route_factor: 2\n"
                               "  time_scale: 10\n"
                               "  http_port_base: 8800\n"
                               "  pin_cpus: false\n"
                               "pops:\n"
                               "  - name: a1\n"
                               "    lat: 0\n"
                               "    lon: 90\n"
                               "  - name: b-2\n"
                               "    delay_ms: 0\n"
                               "    policy: push-all\n";
    ekv_topo_t *t = parse_ok(text);
    CHECK_STR(t->coord.host, "localhost");
    CHECK_NEAR(t->coord.heartbeat_ms, 5000, 0);
    CHECK_STR(t->coord.durability, "wal");
    CHECK_STR(t->policy, "invalidate");
    CHECK_NEAR(t->cache_ttl, 5, 0);
    CHECK_NEAR(t->cache_mb, 16.5, 0);
    CHECK_NEAR(t->route_factor, 2, 0);
    CHECK_NEAR(t->time_scale, 10, 0);
    CHECK_EQ(t->http_port_base, 8800);
    CHECK_EQ(t->pin_cpus, 0);
    CHECK_EQ(t->npops, 2);
    /* A quarter of the equator is 10007.5 km; at route factor 2 that is 100.075 ms. */
    CHECK_NEAR(ekv_topo_delay_ms(t, &t->pops[0]), 10007.543 / 200.0 * 2, 0.01);
    CHECK_STR(ekv_topo_policy(t, &t->pops[0]), "invalidate");
    /* delay_ms 0 is an override too (a PoP next to the origin), not "absent". */
    CHECK_EQ(t->pops[1].has_delay, 1);
    CHECK_NEAR(ekv_topo_delay_ms(t, &t->pops[1]), 0, 0);
    CHECK_STR(ekv_topo_policy(t, &t->pops[1]), "push-all");
    ekv_topo_destroy(&t);
}

static void test_distance(void)
{
    double km = ekv_topo_distance_km(50.1109, 8.6821, 40.7128, -74.0060); /* FRA - NYC */
    printf("topology: Frankfurt - New York %.1f km\n", km);
    CHECK(km >= 6150 && km <= 6250);
    CHECK_NEAR(ekv_topo_distance_km(40.7128, -74.0060, 50.1109, 8.6821), km, 1e-9);
    CHECK_NEAR(ekv_topo_distance_km(12.5, 45, 12.5, 45), 0, 1e-9);
    /* Antipodes: half the circumference, 6371 * pi. */
    CHECK_NEAR(ekv_topo_distance_km(0, 0, 0, 180), 6371.0 * M_PI, 1e-6);
    CHECK_NEAR(ekv_topo_distance_km(90, 0, -90, 0), 6371.0 * M_PI, 1e-6);
    /* Across the date line the short way round: 1 degree of longitude at the equator. */
    CHECK_NEAR(ekv_topo_distance_km(0, 179.5, 0, -179.5), 6371.0 * M_PI / 180.0, 1e-6);
}

static void test_route_factor_scales_delay(void)
{
    static const char text[] = "coordinator: {lat: 50.1109, lon: 8.6821}\n"
                               "defaults: {route_factor: 1.0}\n"
                               "pops:\n"
                               "  - {name: jfk, lat: 40.7128, lon: -74.0060}\n"
                               "  - {name: near, lat: 40.7128, lon: -74.0060, delay_ms: 3.5}\n";
    ekv_topo_t *t = parse_ok(text);
    double km = ekv_topo_distance_km(50.1109, 8.6821, 40.7128, -74.0060);
    double d1 = ekv_topo_delay_ms(t, &t->pops[0]);
    CHECK_NEAR(d1, km / 200.0, 1e-9);
    CHECK(d1 > 30.7 && d1 < 31.3); /* light in fiber across the Atlantic: about 31 ms */
    t->route_factor = 3;
    CHECK_NEAR(ekv_topo_delay_ms(t, &t->pops[0]), 3 * d1, 1e-9);
    CHECK_NEAR(ekv_topo_delay_ms(t, &t->pops[1]), 3.5, 0);
    ekv_topo_destroy(&t);
}

/* ---- errors: file, line, problem ---------------------------------------------------------- */

static void test_error_unknown_section(void)
{
    EXPECT_ERROR("pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n"
                 "colour: red\n",
                 3, "unknown section 'colour'");
    EXPECT_ERROR("coordinator:\n"
                 "  city: X\n"
                 "  citty: Y\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 3, "unknown field 'citty'");
    EXPECT_ERROR("defaults:\n"
                 "  cache_ttl: 5\n"
                 "  ttl: 5\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 3, "unknown field 'ttl'");
}

static void test_error_unknown_pop_field(void)
{
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 1\n"
                 "    lon: 2\n"
                 "  - name: b\n"
                 "    latt: 1\n"
                 "    lon: 2\n",
                 6, "unknown field 'latt'");
}

static void test_error_numbers(void)
{
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 91\n"
                 "    lon: 2\n",
                 3, "lat: expected a number in -90..90, got '91'");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 1\n"
                 "    lon: east\n",
                 4, "got 'east'");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 1\n"
                 "    lon: -180.5\n",
                 4, "lon: expected a number in -180..180");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: .nan\n"
                 "    lon: 1\n",
                 3, "lat:");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 12abc\n"
                 "    lon: 1\n",
                 3, "got '12abc'");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: []\n"
                 "    lon: 1\n",
                 3, "lat:");
    EXPECT_ERROR("defaults:\n"
                 "  route_factor: 0.5\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "route_factor");
    EXPECT_ERROR("coordinator:\n"
                 "  http_port: 80.5\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "http_port");
    EXPECT_ERROR("coordinator:\n"
                 "  pub_port: 70000\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "pub_port");
    EXPECT_ERROR("coordinator:\n"
                 "  heartbeat_ms: 5\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "heartbeat_ms: expected a number in 10..10000");
    EXPECT_ERROR("defaults:\n"
                 "  pin_cpus: 2\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "defaults.pin_cpus: expected true or false");
}

static void test_error_duplicate_name(void)
{
    EXPECT_ERROR("pops:\n"
                 "  - name: ams\n"
                 "    lat: 1\n"
                 "    lon: 2\n"
                 "  - name: lhr\n"
                 "    delay_ms: 5\n"
                 "  - name: ams\n"
                 "    lat: 3\n"
                 "    lon: 4\n",
                 7, "name already used on line 2");
}

static void test_error_invalid_name(void)
{
    EXPECT_ERROR("pops:\n"
                 "  - name: Bad Name\n"
                 "    lat: 1\n"
                 "    lon: 2\n",
                 2, "'Bad Name' must be lowercase letters, digits and '-'");
    EXPECT_ERROR("pops:\n"
                 "  - name: \"\"\n"
                 "    lat: 1\n"
                 "    lon: 2\n",
                 2, "name: '' must be");
    EXPECT_ERROR("pops:\n"
                 "  - name: a_b\n"
                 "    lat: 1\n"
                 "    lon: 2\n",
                 2, "'a_b'");
    EXPECT_ERROR("pops:\n"
                 "  - city: Nowhere\n"
                 "    lat: 1\n"
                 "    lon: 2\n",
                 2, "'name' is required");
}

static void test_error_bad_policy(void)
{
    EXPECT_ERROR("defaults:\n"
                 "  policy: fastest\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "'fastest' is not one of push, push-all, invalidate, ttl");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 1\n"
                 "    lon: 2\n"
                 "    policy: PUSH\n",
                 5, "'PUSH' is not one of");
}

/* Every mode the coordinator knows is accepted; anything else names the line and the modes. */
/* Refresh-ahead's settings: edgekv-node's defaults, values, and their mistakes on their line. */
static void test_refresh_settings(void)
{
    char err[256] = "";
    ekv_topo_t *t = parse("pops: [{name: a, delay_ms: 0}]\n", err, sizeof err);
    CHECK(t != NULL);
    CHECK_EQ(t->refresh_hot_reads, 2);
    CHECK_NEAR(t->refresh_late, 0.8, 0);
    ekv_topo_destroy(&t);
    t = parse("defaults: {refresh_hot_reads: 0, refresh_late: 0.5}\n"
              "pops: [{name: a, delay_ms: 0}]\n",
              err, sizeof err);
    if (!t)
        EKV_FAIL_("refresh settings rejected: %s", err);
    CHECK_EQ(t->refresh_hot_reads, 0);
    CHECK_NEAR(t->refresh_late, 0.5, 0);
    ekv_topo_destroy(&t);
    EXPECT_ERROR("defaults:\n  refresh_hot_reads: 256\npops: [{name: a, delay_ms: 0}]\n", 2,
                 "defaults.refresh_hot_reads");
    EXPECT_ERROR("defaults:\n  refresh_hot_reads: 1.5\npops: [{name: a, delay_ms: 0}]\n", 2,
                 "defaults.refresh_hot_reads: a whole number of reads is expected");
    EXPECT_ERROR("defaults:\n\n  refresh_late: 1.2\npops: [{name: a, delay_ms: 0}]\n", 3,
                 "defaults.refresh_late");
}

static void test_durability(void)
{
    static const char *const modes[] = {"fsync", "wal", "none"};
    for (int i = 0; i < 3; i++) {
        char text[128], err[256] = "";
        snprintf(text, sizeof text,
                 "coordinator: {durability: %s}\npops: [{name: a, delay_ms: 0}]\n", modes[i]);
        ekv_topo_t *t = parse(text, err, sizeof err);
        if (!t)
            EKV_FAIL_("durability %s rejected: %s", modes[i], err);
        CHECK_STR(t->coord.durability, modes[i]);
        ekv_topo_destroy(&t);
    }
    EXPECT_ERROR("coordinator:\n"
                 "  city: Frankfurt\n"
                 "  durability: always\n"
                 "pops:\n"
                 "  - {name: a, delay_ms: 0}\n",
                 3, "coordinator.durability: 'always' is not one of fsync, wal, none");
    EXPECT_ERROR("coordinator:\n"
                 "  durability: FSYNC\n"
                 "pops:\n"
                 "  - {name: a, delay_ms: 0}\n",
                 2, "'FSYNC' is not one of");
    EXPECT_ERROR("coordinator:\n"
                 "  durability: [fsync]\n"
                 "pops:\n"
                 "  - {name: a, delay_ms: 0}\n",
                 2, "coordinator.durability: expected text");
    EXPECT_ERROR("coordinator:\n"
                 "  durability: fsync-before-every-acknowledgement\n"
                 "pops:\n"
                 "  - {name: a, delay_ms: 0}\n",
                 2, "coordinator.durability: expected text of at most 15 characters");
}

static void test_error_missing_pops(void)
{
    EXPECT_ERROR("# no PoPs here\n"
                 "coordinator:\n"
                 "  city: Frankfurt\n",
                 2, "the 'pops' list is missing");
    EXPECT_ERROR("pops: []\n", 1, "expected 1..");
    EXPECT_ERROR("pops:\n"
                 "  name: a\n",
                 2, "pops: expected a list");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 1\n",
                 2, "pop a: give lat and lon, or delay_ms");
    EXPECT_ERROR("- a\n- b\n", 1, "top level: expected a mapping");
}

static void test_error_empty_file(void)
{
    EXPECT_ERROR("", 1, "the file is empty");
    EXPECT_ERROR("# only a comment\n\n", 1, "the file is empty");
}

static void test_error_yaml_syntax(void)
{
    /* The unclosed bracket is noticed where the file ends, on line 3. */
    EXPECT_ERROR("pops: [\n"
                 "  {name: a, lat: 1, lon: 2}\n",
                 3, "did not find expected ',' or ']'");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "\tlat: 1\n",
                 3, "tab");
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 1\n"
                 "  lon: 2\n",
                 4, "did not find expected '-' indicator");
    EXPECT_ERROR("coordinator: {city: X\n"
                 "pops: [{name: a, lat: 1, lon: 2}]\n",
                 2, "did not find expected ',' or '}'");
}

static void test_error_non_loopback_host(void)
{
    /* host first, so the line of the field and of its section are the same line 2. */
    EXPECT_ERROR("coordinator:\n"
                 "  host: 0.0.0.0\n"
                 "  city: X\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2,
                 "coordinator.host is an address outside loopback (0.0.0.0): list it under "
                 "hosts: and name it");
    EXPECT_ERROR("coordinator:\n"
                 "  host: 192.168.1.10\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "loopback");
    /* Loopback forms are accepted. */
    char err[256] = "";
    static const char ok[] = "coordinator: {host: 127.0.0.2}\n"
                             "pops: [{name: a, lat: 1, lon: 2}]\n";
    ekv_topo_t *t = parse(ok, err, sizeof err);
    if (!t)
        EKV_FAIL_("loopback host rejected: %s", err);
    CHECK_STR(t->coord.host, "127.0.0.2");
    /* Without hosts: one host "local" at that address runs every process. */
    CHECK_EQ(t->nhosts, 1);
    CHECK_EQ(t->hosts_given, 0);
    CHECK_STR(t->hosts[0].name, "local");
    CHECK_STR(t->hosts[0].address, "127.0.0.2");
    CHECK_EQ(t->coord.host_index, 0);
    CHECK_EQ(t->pops[0].host_index, 0);
    CHECK_STR(ekv_topo_address(t, t->pops[0].host_index), "127.0.0.2");
    ekv_topo_destroy(&t);
    /* A name without a hosts: section names nothing. */
    EXPECT_ERROR("coordinator:\n"
                 "  city: X\n"
                 "  host: h1\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 3, "no host named 'h1' (there is no hosts: section)");
}

/* ---- hosts ------------------------------------------------------------------------------- */

static const char HOSTS[] =                                    /* line numbers on the right */
    "hosts:\n"                                                 /* 1 */
    "  - {name: h1, address: 127.0.0.1}\n"                     /* 2 */
    "  - name: h2\n"                                           /* 3 */
    "    address: 127.0.0.2\n"                                 /* 4 */
    "    clock_skew_ms: 50\n"                                  /* 5 */
    "  - {name: h3, address: 10.77.0.3, clock_skew_ms: -50}\n" /* 6 */
    "coordinator:\n"                                           /* 7 */
    "  host: h2\n"                                             /* 8 */
    "tiers:\n"                                                 /* 9 */
    "  - {name: ams, lat: 52, lon: 5, host: h3}\n"             /* 10 */
    "  - {name: par, lat: 48, lon: 2}\n"                       /* 11 */
    "pops:\n"                                                  /* 12 */
    "  - {name: a, delay_ms: 5, host: h1}\n"                   /* 13 */
    "  - {name: b, delay_ms: 5}\n"                             /* 14 */
    "  - {name: c, delay_ms: 5, host: h3}\n";                  /* 15 */

static void test_hosts(void)
{
    ekv_topo_t *t = parse_ok(HOSTS);
    CHECK_EQ(t->hosts_given, 1);
    CHECK_EQ(t->nhosts, 3);
    CHECK_STR(t->hosts[0].name, "h1");
    CHECK_STR(t->hosts[1].address, "127.0.0.2");
    CHECK_NEAR(t->hosts[0].skew_ms, 0, 0);
    CHECK_NEAR(t->hosts[1].skew_ms, 50, 0);
    CHECK_NEAR(t->hosts[2].skew_ms, -50, 0);
    CHECK_EQ(t->hosts[1].line, 3);
    /* Named hosts; a tier or PoP without one runs on the coordinator's. */
    CHECK_EQ(t->coord.host_index, 1);
    CHECK_EQ(t->tiers[0].host_index, 2);
    CHECK_EQ(t->tiers[1].host_index, 1);
    CHECK_EQ(t->pops[0].host_index, 0);
    CHECK_EQ(t->pops[1].host_index, 1);
    CHECK_EQ(t->pops[2].host_index, 2);
    CHECK_STR(ekv_topo_address(t, t->coord.host_index), "127.0.0.2");
    CHECK_STR(ekv_topo_address(t, t->pops[2].host_index), "10.77.0.3");
    ekv_topo_destroy(&t);

    /* Without coordinator.host the coordinator runs on the first host; so does every process
     * that names none. */
    t = parse_ok("hosts: [{name: h1, address: 127.0.0.5}, {name: h2, address: 127.0.0.6}]\n"
                 "pops: [{name: a, delay_ms: 1}, {name: b, delay_ms: 1, host: h2}]\n");
    CHECK_EQ(t->coord.host_index, 0);
    CHECK_STR(t->coord.host, "h1");
    CHECK_EQ(t->pops[0].host_index, 0);
    CHECK_EQ(t->pops[1].host_index, 1);
    ekv_topo_destroy(&t);

    /* coordinator.host may also give a listed host's address. */
    t = parse_ok("hosts: [{name: h1, address: 127.0.0.5}, {name: h2, address: 127.0.0.6}]\n"
                 "coordinator: {host: 127.0.0.6}\n"
                 "pops: [{name: a, delay_ms: 1}]\n");
    CHECK_EQ(t->coord.host_index, 1);
    CHECK_EQ(t->pops[0].host_index, 1);
    ekv_topo_destroy(&t);

    /* Loopback or not is `edgekv up`'s question; the loader's helper answers it. */
    CHECK(ekv_topo_is_loopback("127.0.0.3"));
    CHECK(ekv_topo_is_loopback("localhost"));
    CHECK(!ekv_topo_is_loopback("10.77.0.2"));
    CHECK(!ekv_topo_is_loopback("0.0.0.0"));
}

static void test_host_errors(void)
{
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: 127.0.0.1}\n"
                 "  - {name: h1, address: 127.0.0.2}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 3, "host name 'h1' is used twice");
    EXPECT_ERROR("hosts:\n"
                 "  - name: h1\n"
                 "    address: foo\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 3, "host address must be an IPv4 address (got 'foo')");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: \"::1\"}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "host address must be an IPv4 address (got '::1')");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: 10.0.0.1}\n"
                 "  - {name: h2, address: 10.0.0.1}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 3, "hosts h1 and h2 have the same address 10.0.0.1");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: 127.0.0.1}\n"
                 "  - {name: h2, address: 127.0.0.2}\n"
                 "  - {name: h3, address: 127.0.0.3}\n"
                 "pops:\n"
                 "  - {name: a, delay_ms: 1}\n"
                 "  - name: b\n"
                 "    delay_ms: 1\n"
                 "    host: h9\n",
                 9, "no host named 'h9' (hosts: h1, h2, h3)");
    EXPECT_ERROR("hosts: [{name: h1, address: 127.0.0.1}]\n"
                 "coordinator:\n"
                 "  host: h2\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 3, "no host named 'h2' (hosts: h1)");
    EXPECT_ERROR("hosts: [{name: h1, address: 127.0.0.1}]\n"
                 "tiers:\n"
                 "  - {name: ams, lat: 1, lon: 2,\n"
                 "     host: hx}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 4, "no host named 'hx' (hosts: h1)");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: 127.0.0.1}\n"
                 "  - {name: fra, address: 127.0.0.2}\n"
                 "pops: [{name: fra, delay_ms: 1}]\n",
                 3, "host name 'fra' is also a PoP's");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: ams, address: 127.0.0.1}\n"
                 "tiers: [{name: ams, lat: 1, lon: 2}]\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "host name 'ams' is also a tier's");
    EXPECT_ERROR("coordinator:\n"
                 "  city: X\n"
                 "  host: 10.0.0.1\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 3,
                 "coordinator.host is an address outside loopback (10.0.0.1): list it under "
                 "hosts: and name it");
    EXPECT_ERROR("hosts:\n"
                 "  - name: h1\n"
                 "    address: 127.0.0.1\n"
                 "    clock_skew_ms: 60001\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 4, "clock_skew_ms must be between -60000 and 60000");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: 127.0.0.1, clock_skew_ms: fast}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "clock_skew_ms must be between -60000 and 60000");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: 127.0.0.1, clock_skew_ms: .nan}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "clock_skew_ms must be between -60000 and 60000");
    /* A process's host: needs a hosts: section to name. */
    EXPECT_ERROR("pops:\n"
                 "  - {name: a, delay_ms: 1}\n"
                 "  - {name: b, delay_ms: 1, host: h2}\n",
                 3, "pop b: host 'h2' needs a hosts: section");
    /* The list's own shape. */
    EXPECT_ERROR("hosts: []\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 1, "hosts: expected 1..64 hosts, got 0");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "host h1: 'address' is required");
    EXPECT_ERROR("hosts:\n"
                 "  - {address: 127.0.0.1}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "host: 'name' is required");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: H1, address: 127.0.0.1}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "name: 'H1' must be lowercase letters");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: 127.0.0.1, cpus: 4}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "host: unknown field 'cpus'");
    EXPECT_ERROR("hosts: [{name: h1, address: 127.0.0.1}]\n"
                 "pops: [{name: a, delay_ms: 1}]\n"
                 "hosts: [{name: h2, address: 127.0.0.2}]\n",
                 3, "section 'hosts' given twice (first on line 1)");
}

/* `netns:` and a host's delay_ms (`up --netns [--netem]`): the defaults, the given values,
 * and the bridge's address checked against the hosts' network. */
static void test_netns(void)
{
    ekv_topo_t *t = parse_ok("hosts:\n"
                             "  - {name: h1, address: 10.77.0.1}\n"
                             "  - {name: h2, address: 10.77.0.2, delay_ms: 12.5}\n"
                             "pops: [{name: a, delay_ms: 20, host: h2}]\n");
    CHECK(t && t->netns_prefix == 24 && !strcmp(t->netns_bridge, "10.77.0.254"));
    CHECK(t && t->hosts[0].delay_ms == 0 && t->hosts[1].delay_ms == 12.5);
    ekv_topo_destroy(&t);
    t = parse_ok("hosts: [{name: h1, address: 10.9.8.7}]\n"
                 "netns: {prefix: 16, bridge_address: 10.9.0.1}\n"
                 "pops: [{name: a, delay_ms: 20}]\n");
    CHECK(t && t->netns_prefix == 16 && !strcmp(t->netns_bridge, "10.9.0.1"));
    ekv_topo_destroy(&t);
    t = parse_ok("hosts: [{name: h1, address: 10.9.8.7}]\n"
                 "netns: {prefix: 30}\n"
                 "pops: [{name: a, delay_ms: 20}]\n");
    CHECK(t && !strcmp(t->netns_bridge, "10.9.8.6")); /* 10.9.8.4/30: .5 and .6 usable */
    ekv_topo_destroy(&t);
    CHECK(ekv_topo_in_network("10.77.0.3", "10.77.0.254", 24));
    CHECK(!ekv_topo_in_network("10.78.0.3", "10.77.0.254", 24));
    CHECK(!ekv_topo_in_network("foo", "10.77.0.254", 24));
    EXPECT_ERROR("hosts: [{name: h1, address: 10.77.0.1}]\n"
                 "netns:\n"
                 "  bridge_address: 10.78.0.1\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 3, "netns.bridge_address 10.78.0.1 is outside the hosts' network 10.77.0.0/24");
    EXPECT_ERROR("hosts: [{name: h1, address: 10.77.0.1}]\n"
                 "netns:\n"
                 "  bridge_address: 10.77.0.1\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 3, "netns.bridge_address 10.77.0.1 is host h1's");
    EXPECT_ERROR("hosts: [{name: h1, address: 10.77.0.1}]\n"
                 "netns:\n"
                 "  prefix: 31\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 3, "netns.prefix");
    EXPECT_ERROR("hosts: [{name: h1, address: 10.77.0.1}]\n"
                 "netns: {bridge: x}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "netns: unknown field 'bridge' (expected prefix, bridge_address)");
    EXPECT_ERROR("hosts:\n"
                 "  - {name: h1, address: 10.77.0.1, delay_ms: -1}\n"
                 "pops: [{name: a, delay_ms: 1}]\n",
                 2, "delay_ms");
}

/* A short error buffer gets a truncated, terminated message and nothing past its end. */
static void test_error_buffer_truncated(void)
{
    char buf[32];
    memset(buf, 'Z', sizeof buf);
    ekv_topo_t *t = ekv_topo_parse("t.yaml", "pops: []\n", 9, buf, 12);
    CHECK(t == NULL);
    CHECK_EQ(strlen(buf), 11);
    CHECK_MEM(buf, 11, "t.yaml:1: p", 11);
    for (size_t i = 12; i < sizeof buf; i++)
        CHECK_EQ(buf[i], 'Z');
}

/* ekv_topo_load names the file it was given, for read errors and for content errors. */
static void test_load_names_the_file(void)
{
    char err[512] = "";
    ekv_topo_t *t = ekv_topo_load("/nonexistent/edgekv/topology.yaml", err, sizeof err);
    CHECK(t == NULL);
    CHECK(strstr(err, "/nonexistent/edgekv/topology.yaml") == err);

    char path[] = "/tmp/ekv_topology_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    static const char text[] =
        "pops:\n  - {name: a, lat: 1, lon: 2}\n  - {name: a, lat: 1, lon: 2}\n";
    CHECK_EQ(write(fd, text, sizeof text - 1), (long)(sizeof text - 1));
    close(fd);
    t = ekv_topo_load(path, err, sizeof err);
    unlink(path);
    CHECK(t == NULL);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s:3: ", path);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, "already used on line 2"))
        EKV_FAIL_("error \"%s\", expected \"%s...\"", err, prefix);
}

/* ---- the project's default world -------------------------------------------------------- */

enum { EUROPE, N_AMERICA, S_AMERICA, AFRICA, ASIA, OCEANIA, N_CONTINENTS };
static const char *const CONTINENT[] = {"Europe", "North America", "South America",
                                        "Africa", "Asia",          "Oceania"};

/* A rough continent by lat/lon box; -1 when in none (an ocean, Antarctica). */
static int continent_of(double lat, double lon)
{
    if (lat >= 36 && lat <= 72 && lon >= -25 && lon <= 45)
        return EUROPE;
    if (lat >= 7 && lat <= 84 && lon >= -170 && lon <= -50)
        return N_AMERICA;
    if (lat >= -56 && lat < 13 && lon >= -82 && lon <= -34)
        return S_AMERICA;
    if (lat >= -35 && lat < 37 && lon >= -18 && lon <= 52)
        return AFRICA;
    if (lat >= -50 && lat <= -10 && lon >= 110 && lon <= 180)
        return OCEANIA;
    if (lat >= -11 && lat <= 78 && lon > 45 && lon <= 180)
        return ASIA;
    return -1;
}

static void test_default_world(void)
{
    if (!g_topology_path) {
        printf("topology: SKIPPED the default-world check: pass the path of topology.yaml\n");
        return;
    }
    char err[512] = "";
    ekv_topo_t *t = ekv_topo_load(g_topology_path, err, sizeof err);
    if (!t)
        EKV_FAIL_("the project's topology.yaml does not load: %s", err);
    printf("topology: %s has %zu PoPs\n", g_topology_path, t->npops);
    CHECK_GE(t->npops, 24);
    CHECK(t->coord.city[0] != '\0');
    CHECK_EQ(strlen(t->coord.iata), 3);

    int seen[N_CONTINENTS] = {0};
    for (size_t i = 0; i < t->npops; i++) {
        const ekv_topo_pop_t *p = &t->pops[i];
        if (!p->city[0] || strlen(p->iata) != 3)
            EKV_FAIL_("PoP %s (line %d) lacks a city or a 3-letter IATA code", p->name, p->line);
        for (int k = 0; k < 3; k++)
            CHECK(p->iata[k] >= 'A' && p->iata[k] <= 'Z');
        /* Coordinates are given (not a delay override), and not the (0, 0) placeholder. */
        if (p->has_delay || (p->lat == 0 && p->lon == 0))
            EKV_FAIL_("PoP %s (line %d) has no real lat/lon", p->name, p->line);
        int k = continent_of(p->lat, p->lon);
        if (k < 0)
            EKV_FAIL_("PoP %s at (%.4f, %.4f) is on no continent", p->name, p->lat, p->lon);
        seen[k]++;
    }
    int continents = 0;
    for (int k = 0; k < N_CONTINENTS; k++) {
        printf("topology:   %-14s %d PoPs\n", CONTINENT[k], seen[k]);
        continents += seen[k] > 0;
    }
    CHECK_GE(continents, 6);
    ekv_topo_destroy(&t);
}

/* ---- regional tiers --------------------------------------------------------------------- */

static const char TIERED[] =                                      /* line numbers on the right */
    "coordinator: {city: Frankfurt, lat: 50.1109, lon: 8.6821}\n" /* 1 */
    "defaults:\n"                                                 /* 2 */
    "  tier_cache_ttl: 90\n"                                      /* 3 */
    "  tier_purge_on_write: true\n"                               /* 4 */
    "  policy: kv\n"                                              /* 5 */
    "pops:\n"                                                     /* 6 */
    "  - {name: lhr, lat: 51.47, lon: -0.45}\n"                   /* 7 */
    "  - {name: cdg, lat: 49.01, lon: 2.55, tier: ams}\n"         /* 8 */
    "  - {name: nrt, lat: 35.77, lon: 140.39}\n"                  /* 9 */
    "  - {name: jfk, lat: 40.64, lon: -73.78, tier: sin}\n"       /* 10 */
    "tiers:\n"                                                    /* 11 */
    "  - {name: ams, city: Amsterdam, iata: AMS, lat: 52.31, lon: 4.76}\n"       /* 12 */
    "  - {name: sin, city: Singapore, lat: 1.36, lon: 103.99, cache_ttl: 300,\n" /* 13 */
    "     delay_ms: 80}\n";                                                      /* 14 */

static void test_tiers(void)
{
    char err[256] = "";
    ekv_topo_t *t = parse_ok(TIERED);
    CHECK_EQ(t->ntiers, 2);
    CHECK_NEAR(t->tier_cache_ttl, 90, 0);
    CHECK_EQ(t->tier_purge_on_write, 1);
    const ekv_topo_tier_t *ams = &t->tiers[0], *sin = &t->tiers[1];
    CHECK_STR(ams->name, "ams");
    CHECK_STR(ams->city, "Amsterdam");
    CHECK_STR(ams->iata, "AMS");
    CHECK_EQ(ams->line, 12);
    CHECK_EQ(sin->line, 13);
    /* Each tier's cacheTtl: its own, else the default. */
    CHECK_NEAR(ekv_topo_tier_cache_ttl(t, ams), 90, 0);
    CHECK_NEAR(ekv_topo_tier_cache_ttl(t, sin), 300, 0);
    /* The tier's delay to the coordinator: from distance, or its override. */
    double km = ekv_topo_distance_km(50.1109, 8.6821, 52.31, 4.76);
    CHECK_NEAR(ekv_topo_tier_delay_ms(t, ams), km / 200.0 * 1.5, 1e-9);
    CHECK_NEAR(ekv_topo_tier_delay_ms(t, sin), 80, 0);
    /* Nearest tier unless named: lhr -> ams, nrt -> sin; cdg and jfk name theirs (jfk's is
     * not its nearest). */
    CHECK(ekv_topo_pop_tier(t, &t->pops[0]) == ams);
    CHECK(ekv_topo_pop_tier(t, &t->pops[1]) == ams);
    CHECK(ekv_topo_pop_tier(t, &t->pops[2]) == sin);
    CHECK(ekv_topo_pop_tier(t, &t->pops[3]) == sin);
    CHECK_STR(t->pops[3].tier, "sin");
    km = ekv_topo_distance_km(40.64, -73.78, 1.36, 103.99);
    CHECK_NEAR(ekv_topo_pop_tier_delay_ms(t, &t->pops[3], sin), km / 200.0 * 1.5, 1e-9);

    /* A run under push (edgekv run's policy for every PoP): no PoP reads through a tier, or
     * a tier's copy, older than a change the PoP applied, would be served as current. Under
     * ttl again the named and the nearest tiers come back. */
    snprintf(t->policy, sizeof t->policy, "push");
    ekv_topo_retier(t);
    for (size_t i = 0; i < t->npops; i++)
        CHECK(ekv_topo_pop_tier(t, &t->pops[i]) == NULL);
    snprintf(t->policy, sizeof t->policy, "ttl");
    ekv_topo_retier(t);
    CHECK(ekv_topo_pop_tier(t, &t->pops[0]) == ams);
    CHECK(ekv_topo_pop_tier(t, &t->pops[2]) == sin);
    CHECK(ekv_topo_pop_tier(t, &t->pops[3]) == sin); /* named, not its nearest */
    ekv_topo_destroy(&t);

    /* No tiers: every PoP reads from the coordinator, and the defaults hold. */
    t = parse(SMALL, err, sizeof err);
    CHECK(t != NULL);
    CHECK_EQ(t->ntiers, 0);
    CHECK_NEAR(t->tier_cache_ttl, 60, 0);
    CHECK_EQ(t->tier_purge_on_write, 0);
    for (size_t i = 0; i < t->npops; i++)
        CHECK(ekv_topo_pop_tier(t, &t->pops[i]) == NULL);
    ekv_topo_destroy(&t);
}

static void test_tier_errors(void)
{
    /* An unknown tier name, on the line of `tier:` (the tiers follow the PoPs here). */
    EXPECT_ERROR("pops:\n"
                 "  - name: a\n"
                 "    lat: 1\n"
                 "    lon: 2\n"
                 "    tier: nowhere\n"
                 "tiers:\n"
                 "  - {name: t1, lat: 1, lon: 2}\n",
                 5, "no tier named 'nowhere'");
    EXPECT_ERROR("pops:\n"
                 "  - {name: a, lat: 1, lon: 2, tier: t1}\n",
                 2, "no tier named 't1'");
    /* Names are unique across tiers and PoPs. */
    EXPECT_ERROR("tiers:\n"
                 "  - {name: t1, lat: 1, lon: 2}\n"
                 "  - {name: t1, lat: 3, lon: 4}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 3, "name already used on line 2");
    EXPECT_ERROR("tiers:\n"
                 "  - {name: a, lat: 1, lon: 2}\n"
                 "pops:\n"
                 "  - {name: b, lat: 1, lon: 2}\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 5, "used by both a tier and a PoP");
    EXPECT_ERROR("tiers:\n"
                 "  - {name: T1, lat: 1, lon: 2}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "must be lowercase");
    /* Fields: known, typed, in range; coordinates required. */
    EXPECT_ERROR("tiers:\n"
                 "  - {name: t1, lat: 1, lon: 2, colour: red}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "tier: unknown field 'colour'");
    EXPECT_ERROR("tiers:\n"
                 "  - name: t1\n"
                 "    lat: 1\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "lat and lon are required");
    EXPECT_ERROR("tiers:\n"
                 "  - {lat: 1, lon: 2}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "'name' is required");
    EXPECT_ERROR("tiers:\n"
                 "  - {name: t1, lat: 95, lon: 2}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "lat");
    EXPECT_ERROR("tiers:\n"
                 "  - name: t1\n"
                 "    lat: 1\n"
                 "    lon: 2\n"
                 "    cache_ttl: 0\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 5, "cache_ttl");
    EXPECT_ERROR("tiers:\n"
                 "  - name: t1\n"
                 "    lat: 1\n"
                 "    lon: 2\n"
                 "    delay_ms: -1\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 5, "delay_ms");
    EXPECT_ERROR("tiers: {name: t1}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 1, "expected a list of tiers");
    EXPECT_ERROR("tiers:\n"
                 "  - {name: t1, lat: 1, lon: 2}\n"
                 "tiers:\n"
                 "  - {name: t2, lat: 1, lon: 2}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 3, "given twice");
    EXPECT_ERROR("defaults:\n"
                 "  tier_cache_ttl: 0\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "defaults.tier_cache_ttl");
    EXPECT_ERROR("defaults:\n"
                 "  tier_purge_on_write: maybe\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n",
                 2, "defaults.tier_purge_on_write");
    /* A PoP that reads through a tier needs coordinates (nearest tier, delay to it). */
    EXPECT_ERROR("defaults: {policy: kv}\n"
                 "tiers:\n"
                 "  - {name: t1, lat: 1, lon: 2}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2}\n"
                 "  - {name: b, delay_ms: 5}\n",
                 6, "give lat and lon");
    EXPECT_ERROR("tiers:\n"
                 "  - {name: t1, lat: 1, lon: 2}\n"
                 "pops:\n"
                 "  - {name: b, delay_ms: 5, tier: t1, policy: ttl}\n",
                 4, "reads through tier t1, so give lat and lon");
    /* Tiers serve pulling PoPs only: a pushing PoP may not name one, and reads from the
     * coordinator when it names none. */
    EXPECT_ERROR("tiers:\n"
                 "  - {name: t1, lat: 1, lon: 2}\n"
                 "pops:\n"
                 "  - {name: a, lat: 1, lon: 2, policy: push, tier: t1}\n",
                 4, "policy push keeps copies current");
    EXPECT_ERROR("defaults:\n"
                 "  policy: invalidate\n"
                 "tiers:\n"
                 "  - {name: t1, lat: 1, lon: 2}\n"
                 "pops:\n"
                 "  - name: a\n"
                 "    lat: 1\n"
                 "    lon: 2\n"
                 "    tier: t1\n",
                 9, "tiers serve ttl and kv PoPs only");
    {
        char e2[256] = "";
        ekv_topo_t *m = parse("defaults: {policy: push}\n"
                              "tiers:\n"
                              "  - {name: t1, lat: 1, lon: 2}\n"
                              "pops:\n"
                              "  - {name: a, lat: 1, lon: 2}\n"
                              "  - {name: b, lat: 1, lon: 2, policy: kv}\n"
                              "  - {name: c, delay_ms: 4}\n",
                              e2, sizeof e2);
        if (!m)
            EKV_FAIL_("a push world with tiers rejected: %s", e2);
        CHECK(ekv_topo_pop_tier(m, &m->pops[0]) == NULL);
        CHECK(ekv_topo_pop_tier(m, &m->pops[1]) == &m->tiers[0]);
        CHECK(ekv_topo_pop_tier(m, &m->pops[2]) == NULL); /* pushes: needs no coordinates */
        ekv_topo_destroy(&m);
    }
    /* Without tiers a PoP may still give only a delay. */
    char err[256] = "";
    ekv_topo_t *t = parse("pops:\n  - {name: b, delay_ms: 5}\n", err, sizeof err);
    CHECK(t != NULL);
    ekv_topo_destroy(&t);
}

/* ---- a section given twice -------------------------------------------------------------- */

/* YAML allows a mapping key twice only by mistake. Either the file is rejected, naming a line,
 * or the later list wins; what must not happen is a mix of both lists (or memory corruption:
 * run under valgrind or ASan). Run last: a failure here may be a crash. */
static void test_pops_section_twice(void)
{
    static const char text[] = "pops:\n"
                               "  - {name: a, lat: 1, lon: 2}\n"
                               "pops:\n"
                               "  - {name: b, lat: 1, lon: 2}\n"
                               "  - {name: c, lat: 1, lon: 2}\n";
    char err[256] = "";
    ekv_topo_t *t = parse(text, err, sizeof err);
    if (!t) {
        CHECK(strncmp(err, "t.yaml:", 7) == 0);
        return;
    }
    size_t n = t->npops;
    int ok = n == 2 && !strcmp(t->pops[0].name, "b") && !strcmp(t->pops[1].name, "c");
    ekv_topo_destroy(&t);
    if (!ok)
        EKV_FAIL_("two 'pops' sections gave %zu PoPs, expected an error or the last list (2)", n);
}

/* The world file of the folder arg loads, with at least one PoP. */
static void loads(const char *file, void *arg)
{
    char path[4500], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", (const char *)arg, file);
    ekv_topo_t *t = ekv_topo_load(path, err, sizeof err);
    if (!t)
        EKV_FAIL_("%s does not load: %s", path, err);
    CHECK_GE(t->npops, 1);
    printf("topology: %s: %zu PoPs, %zu tiers, policy %s\n", file, t->npops, t->ntiers, t->policy);
    ekv_topo_destroy(&t);
}

/* Every world shipped in sim/topologies/ loads (they are what `edgekv up FILE` users start). */
static void test_shipped_worlds(void)
{
    if (!g_topology_path) {
        printf("topology: SKIPPED the shipped worlds: pass the path of topology.yaml\n");
        return;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%.*s/sim/topologies",
             (int)(strlen(g_topology_path) - strlen("/topology.yaml")), g_topology_path);
    CHECK_GE(ekv_test_each_yaml(dir, loads, dir), 3);
}

static void find_topology(int argc, char **argv)
{
    static char path[4096];
    g_topology_path = argc > 1 ? argv[1]
                               : ekv_test_project_path(__FILE__, "/tests/unit/topology_test.c",
                                                       "/topology.yaml", path, sizeof path);
}

int main(int argc, char **argv)
{
    find_topology(argc, argv);
    EKV_TEST_RUN(test_valid_with_defaults);
    EKV_TEST_RUN(test_valid_with_every_setting);
    EKV_TEST_RUN(test_distance);
    EKV_TEST_RUN(test_route_factor_scales_delay);
    EKV_TEST_RUN(test_error_unknown_section);
    EKV_TEST_RUN(test_error_unknown_pop_field);
    EKV_TEST_RUN(test_error_numbers);
    EKV_TEST_RUN(test_error_duplicate_name);
    EKV_TEST_RUN(test_error_invalid_name);
    EKV_TEST_RUN(test_error_bad_policy);
    EKV_TEST_RUN(test_durability);
    EKV_TEST_RUN(test_refresh_settings);
    EKV_TEST_RUN(test_error_missing_pops);
    EKV_TEST_RUN(test_error_empty_file);
    EKV_TEST_RUN(test_error_yaml_syntax);
    EKV_TEST_RUN(test_error_non_loopback_host);
    EKV_TEST_RUN(test_error_buffer_truncated);
    EKV_TEST_RUN(test_load_names_the_file);
    EKV_TEST_RUN(test_default_world);
    EKV_TEST_RUN(test_shipped_worlds);
    EKV_TEST_RUN(test_tiers);
    EKV_TEST_RUN(test_tier_errors);
    EKV_TEST_RUN(test_pops_section_twice);
    EKV_TEST_RUN(test_hosts);
    EKV_TEST_RUN(test_host_errors);
    EKV_TEST_RUN(test_netns);
    EKV_TEST_DONE();
}
