/* floor_transport: fanout_floor over another ZeroMQ transport, for scripts/bench/fanout and
 * scripts/bench/redis (`fanout_floor_epgm`, tests/bench/epgm.tests.cmake).
 *
 * fanout_floor.c is compiled a second time with zmq_bind and zmq_connect renamed to the two
 * functions below, so the floor over epgm is the same program as over TCP, byte for byte,
 * except for its socket set-up. With FLOOR_ENDPOINT set (e.g. epgm://lo;239.192.0.9:7001)
 * the PUB binds that endpoint instead of its own tcp://127.0.0.1:*, and PUB and SUBs set the
 * PGM rate (FLOOR_RATE_KBPS, kilobits a second) and recovery interval (FLOOR_RECOVERY_MS)
 * first, as edgekv's coordinator and PoPs do with --pub-rate-kbps and --pub-recovery-ms: the
 * receive window a SUB keeps is computed from both. Unset, the program is the TCP floor. */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int ekv_floor_bind(void *sock, const char *ep);
int ekv_floor_connect(void *sock, const char *ep);

static void set_pgm(void *sock, const char *ep)
{
    if (strncmp(ep, "epgm://", 7) != 0 && strncmp(ep, "pgm://", 6) != 0)
        return;
    const char *rate = getenv("FLOOR_RATE_KBPS"), *ivl = getenv("FLOOR_RECOVERY_MS");
    int v;
    if (rate && (v = atoi(rate)) > 0)
        zmq_setsockopt(sock, ZMQ_RATE, &v, sizeof v);
    if (ivl && (v = atoi(ivl)) > 0)
        zmq_setsockopt(sock, ZMQ_RECOVERY_IVL, &v, sizeof v);
}

int ekv_floor_bind(void *sock, const char *ep)
{
    const char *over = getenv("FLOOR_ENDPOINT");
    if (over && *over)
        ep = over;
    set_pgm(sock, ep);
    return zmq_bind(sock, ep);
}

int ekv_floor_connect(void *sock, const char *ep)
{
    set_pgm(sock, ep);
    return zmq_connect(sock, ep);
}
