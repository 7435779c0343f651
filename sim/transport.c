/* transport: the coordinator's PUB over epgm, its group's port and the multicast set-up `up`
 * does when asked (see transport.h).
 *
 * With coordinator.transport.kind epgm the coordinator publishes on
 * epgm://INTERFACE;GROUP:PORT and every PoP and tier subscribes there. Two topologies on one
 * group and port would hear each other's changes, so port 0 takes a UDP port no socket holds.
 * transport.setup turns multicast on at the interface and routes 224.0.0.0/4 through it, but
 * only in a network namespace of edgekv's own (not pid 1's): on the host's loopback that
 * route would swallow every multicast the host sends. What it changed is written to
 * $EDGEKV_HOME/run/multicast and undone by `down` (and when `up` fails). Whatever cannot be
 * done (no root, the host's namespace, a libzmq without PGM) is said, and the topology runs
 * on TCP instead. */

#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "state.h"

static void mcast_path(char *path, size_t len)
{
    snprintf(path, len, "%s/run/multicast", ekv_state_dir());
}

/* The initial network namespace's inode number since Linux 5.8 (PROC_NET_INIT_INO). */
#define INIT_NET_INO 0xEFFFFFF9u

/* 1 when this process runs in the host's network namespace: the initial one, or pid 1's (a
 * container's own). pid 1's may be hidden even from root; then only the initial one counts. */
static int host_netns(void)
{
    struct stat a, b;
    if (stat("/proc/self/ns/net", &a) != 0)
        return 1;
    if (a.st_ino == INIT_NET_INO)
        return 1;
    return stat("/proc/1/ns/net", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* The interface holding IPv4 address addr, into name (IFNAMSIZ bytes); -1 when none does. */
static int iface_of(const char *addr, char *name)
{
    struct in_addr want;
    struct ifaddrs *ifs;
    if (inet_pton(AF_INET, addr, &want) != 1 || getifaddrs(&ifs) != 0)
        return -1;
    int rc = -1;
    for (struct ifaddrs *i = ifs; i && rc; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
            ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr == want.s_addr) {
            snprintf(name, IFNAMSIZ, "%s", i->ifa_name);
            rc = 0;
        }
    freeifaddrs(ifs);
    return rc;
}

/* 224.0.0.0/4 through ifname. */
static void mcast_route(struct rtentry *rt, char *ifname)
{
    memset(rt, 0, sizeof *rt);
    struct sockaddr_in *dst = (struct sockaddr_in *)(void *)&rt->rt_dst;
    struct sockaddr_in *mask = (struct sockaddr_in *)(void *)&rt->rt_genmask;
    dst->sin_family = mask->sin_family = AF_INET;
    dst->sin_addr.s_addr = htonl(0xe0000000u);
    mask->sin_addr.s_addr = htonl(0xf0000000u);
    rt->rt_flags = RTF_UP;
    rt->rt_dev = ifname;
}

/* Sets (on) or clears the interface's multicast flag. */
static int mcast_flag(int fd, const char *ifname, int on, int *was_on)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
        return -1;
    if (was_on)
        *was_on = !!(ifr.ifr_flags & IFF_MULTICAST);
    ifr.ifr_flags = (short)(on ? ifr.ifr_flags | IFF_MULTICAST : ifr.ifr_flags & ~IFF_MULTICAST);
    return ioctl(fd, SIOCSIFFLAGS, &ifr);
}

void ekv_transport_undo(void)
{
    char path[PATH_MAX], ifname[IFNAMSIZ];
    int flag = 0, route = 0;
    mcast_path(path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    int n = fscanf(f, "%15s %d %d", ifname, &flag, &route);
    fclose(f);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct rtentry rt;
    mcast_route(&rt, ifname);
    if (n == 3 && fd >= 0 && route && ioctl(fd, SIOCDELRT, &rt) != 0)
        fprintf(stderr, "edgekv: cannot remove the 224.0.0.0/4 route through %s: %s\n", ifname,
                strerror(errno));
    if (n == 3 && fd >= 0 && flag && mcast_flag(fd, ifname, 0, NULL) != 0)
        fprintf(stderr, "edgekv: cannot turn multicast off at %s: %s\n", ifname, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(path);
}

/* Turns multicast on at the interface holding addr and routes 224.0.0.0/4 through it, and
 * records what it changed. -1 with the reason in why when it cannot. */
static int mcast_setup(const char *addr, char *why, size_t len)
{
    char ifname[IFNAMSIZ], path[PATH_MAX];
    if (host_netns()) {
        snprintf(why, len,
                 "transport.setup changes only a network namespace of edgekv's own, and this is "
                 "the host's (run edgekv under `unshare -n` or `ip netns exec`)");
        return -1;
    }
    if (iface_of(addr, ifname) != 0) {
        snprintf(why, len, "no interface has the address %s", addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), was_on = 1, routed = 0, failed = 1;
    struct rtentry rt;
    mcast_route(&rt, ifname);
    if (fd < 0 || mcast_flag(fd, ifname, 1, &was_on) != 0)
        snprintf(why, len, "cannot turn multicast on at %s: %s (needs root)", ifname,
                 strerror(errno));
    else if ((routed = ioctl(fd, SIOCADDRT, &rt) == 0) || errno == EEXIST)
        failed = 0; /* a route there already is not ours to remove */
    else
        snprintf(why, len, "cannot route 224.0.0.0/4 through %s: %s (needs root)", ifname,
                 strerror(errno));
    if (failed && !was_on && fd >= 0)
        mcast_flag(fd, ifname, 0, NULL);
    if (fd >= 0)
        close(fd);
    if (failed)
        return -1;
    mcast_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s %d %d\n", ifname, !was_on, routed);
        fclose(f);
    }
    return 0;
}

/* A UDP port no socket holds (PGM's receivers share theirs, so another topology's shows). */
static int free_udp_port(void)
{
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    for (int tries = 0; tries < 100; tries++) {
        int port = 20000 + (int)(rand_r(&seed) % 40000), ok = 0;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (fd >= 0) {
            ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
            close(fd);
        }
        if (ok)
            return port;
    }
    return 0;
}

const char *ekv_transport_choose(const ekv_topo_t *t, char *ep, size_t len)
{
    const ekv_topo_transport_t *tr = &t->coord.transport;
    char why[300] = "";
    if (strcmp(tr->kind, "epgm") != 0)
        return NULL;
    int port = tr->port ? tr->port : free_udp_port();
    if (port == 0)
        snprintf(why, sizeof why, "no free UDP port for the group");
    else if (tr->setup)
        mcast_setup(tr->interface, why, sizeof why);
    if (why[0]) {
        fprintf(stderr, "edgekv: cannot publish over epgm: %s; staying on TCP\n", why);
        return NULL;
    }
    snprintf(ep, len, "epgm://%s;%s:%d", tr->interface, tr->group, port);
    return ep;
}

int ekv_transport_refused(char *why, size_t len)
{
    char path[PATH_MAX], *text;
    size_t n;
    snprintf(path, sizeof path, "%s/logs/coordinator.log", ekv_state_dir());
    if (ekv_file_read(path, 1 << 20, &text, &n) != EKV_OK)
        return 0;
    char *at = strstr(text, "cannot bind epgm://");
    if (at)
        snprintf(why, len, "%.*s", (int)strcspn(at, "\n"), at);
    free(text);
    return at != NULL;
}
