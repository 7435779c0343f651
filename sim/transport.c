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
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static void netns_undo(void);

void ekv_transport_undo(void)
{
    netns_undo();
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

/* ---- hosts in network namespaces (`up --netns`) ----------------------------------------------
 * Names are made from a hash of $EDGEKV_HOME's real path (X, 4 hex digits), so two worlds in two
 * homes never share one: bridge ekvXbr, veths ekvXhN (N: the host's index; a link name has at
 * most 15 characters), namespaces edgekv-X-HOST. Every step goes through iproute2's `ip`, as an
 * administrator would type it, and is recorded in $EDGEKV_HOME/run/netns before it is done. */

static void netns_path(char *path, size_t len)
{
    snprintf(path, len, "%s/run/netns", ekv_state_dir());
}

/* Runs argv (a program on PATH), its output into out (n bytes, the last line kept when longer);
 * its exit status, or -1 when it could not run. */
static int run_cmd(char *const argv[], char *out, size_t n)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t got = 0;
    char buf[512];
    ssize_t r;
    while ((r = read(fds[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < r && out && n; i++)
            if (got + 1 < n)
                out[got++] = buf[i];
    close(fds[0]);
    if (out && n) {
        out[got] = '\0';
        while (got && out[got - 1] == '\n')
            out[--got] = '\0';
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `ip ARGS...` (up to NULL); -1 with ip's words on stderr when it fails. */
static int ip(const char *first, ...)
{
    char *argv[24] = {"ip"}, out[512];
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 23; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    if (run_cmd(argv, out, sizeof out) == 0)
        return 0;
    fprintf(stderr, "edgekv: ip");
    for (int i = 1; i < argc; i++)
        fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, ": %s\n", out[0] ? out : "failed");
    return -1;
}

/* 1 when a program name is an executable on PATH. */
static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    char dir[PATH_MAX], file[PATH_MAX + 64];
    for (const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p;) {
        size_t len = strcspn(p, ":");
        snprintf(dir, sizeof dir, "%.*s", (int)len, p);
        snprintf(file, sizeof file, "%s/%s", len ? dir : ".", name);
        if (access(file, X_OK) == 0)
            return 1;
        p += len + (p[len] == ':');
    }
    return 0;
}

/* The 4 hex digits of the names (FNV-1a of the home's real path, folded to 16 bits). */
static unsigned home_tag(void)
{
    char real[PATH_MAX];
    const char *home = realpath(ekv_state_dir(), real) ? real : ekv_state_dir();
    uint32_t h = 2166136261u;
    for (const char *c = home; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    return (h ^ (h >> 16)) & 0xffffu;
}

int ekv_netns_check(const ekv_topo_t *t, int secure)
{
    if (geteuid() != 0) {
        fprintf(stderr, "edgekv: --netns needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)\n");
        return -1;
    }
    if (!on_path("ip")) {
        fprintf(stderr, "edgekv: --netns needs iproute2's ip (not found on PATH)\n");
        return -1;
    }
    if (host_netns()) {
        fprintf(stderr,
                "edgekv: --netns adds a bridge and routes to the namespace edgekv runs in, and "
                "this is the host's; run it in one of its own:\n"
                "        sudo unshare -n -m sh -c 'ip link set lo up; edgekv up --netns ...; ...; "
                "edgekv down'\n");
        return -1;
    }
    if (strcmp(t->coord.transport.kind, "tcp") != 0) {
        fprintf(stderr,
                "edgekv: coordinator.transport %s carries no CURVE: a world with "
                "non-loopback hosts publishes over tcp\n",
                t->coord.transport.kind);
        return -1;
    }
    for (size_t i = 0; i < t->nhosts; i++) {
        const ekv_topo_host_t *h = &t->hosts[i];
        if (ekv_topo_is_loopback(h->address) ||
            !ekv_topo_in_network(h->address, t->netns_bridge, t->netns_prefix)) {
            fprintf(stderr,
                    "edgekv: host %s (%s) cannot have a namespace of its own: --netns needs "
                    "every host off loopback, in the network %s/%d (netns: in the topology)\n",
                    h->name, h->address, t->netns_bridge, t->netns_prefix);
            return -1;
        }
        if (!secure) {
            fprintf(stderr,
                    "edgekv: host %s (%s) is not on loopback: run `edgekv keys` first (CURVE "
                    "keys and a bearer token for the world)\n",
                    h->name, h->address);
            return -1;
        }
    }
    return 0;
}

/* Appends one step ("link NAME", "netns NAME") to the record; -1 when it cannot be kept (then
 * nothing is done: what is not recorded could not be undone). */
static int record(const char *kind, const char *name)
{
    char path[PATH_MAX];
    netns_path(path, sizeof path);
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "edgekv: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    int ok = fprintf(f, "%s %s\n", kind, name) > 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* tc qdisc add dev DEV root netem delay MS (in namespace ns unless NULL); -1 with tc's words
 * in why. */
static int netem(const char *ns, const char *dev, double ms, char *why, size_t n)
{
    char delay[32];
    snprintf(delay, sizeof delay, "%gms", ms);
    char *direct[] = {"tc",   "qdisc", "add",   "dev", (char *)dev,
                      "root", "netem", "delay", delay, NULL};
    char *inside[] = {"ip",  "netns",     "exec", (char *)ns, "tc",    "qdisc", "add",
                      "dev", (char *)dev, "root", "netem",    "delay", delay,   NULL};
    return run_cmd(ns ? inside : direct, why, n) == 0 ? 0 : -1;
}

int ekv_netns_setup(const ekv_topo_t *t, ekv_state_t *st, int use_netem)
{
    unsigned tag = home_tag();
    char addr[80], why[512];
    snprintf(st->bridge, sizeof st->bridge, "ekv%04xbr", tag);
    snprintf(st->bridge_address, sizeof st->bridge_address, "%s/%d", t->netns_bridge,
             t->netns_prefix);
    st->netns = 1;
    if (use_netem && !on_path("tc")) {
        fprintf(stderr, "edgekv: --netem needs iproute2's tc (not found on PATH)\n");
        return -1;
    }
    if (record("link", st->bridge) || ip("link", "add", st->bridge, "type", "bridge", NULL) ||
        ip("addr", "add", st->bridge_address, "dev", st->bridge, NULL) ||
        ip("link", "set", st->bridge, "up", NULL))
        return -1;
    /* The kernel says whether it has netem when asked for one: on the bridge, then removed. */
    if (use_netem && netem(NULL, st->bridge, 0, why, sizeof why) != 0) {
        fprintf(stderr, "edgekv: this kernel has no netem (tc: %s): --netem cannot run here\n",
                why);
        return -1;
    }
    char *del[] = {"tc", "qdisc", "del", "dev", st->bridge, "root", NULL};
    if (use_netem)
        run_cmd(del, NULL, 0);
    for (size_t i = 0; i < t->nhosts && i < st->nhosts; i++) {
        ekv_state_host_t *h = &st->hosts[i];
        snprintf(h->ns, sizeof h->ns, "edgekv-%04x-%s", tag, t->hosts[i].name);
        snprintf(h->veth, sizeof h->veth, "ekv%04xh%u", tag & 0xffffu, (unsigned)(i & 63));
        snprintf(addr, sizeof addr, "%s/%d", t->hosts[i].address, t->netns_prefix);
        if (record("netns", h->ns) || ip("netns", "add", h->ns, NULL) || record("link", h->veth) ||
            ip("link", "add", h->veth, "type", "veth", "peer", "name", "eth0", "netns", h->ns,
               NULL) ||
            ip("link", "set", h->veth, "master", st->bridge, "up", NULL) ||
            ip("-n", h->ns, "addr", "add", addr, "dev", "eth0", NULL) ||
            ip("-n", h->ns, "link", "set", "eth0", "up", NULL) ||
            ip("-n", h->ns, "link", "set", "lo", "up", NULL) ||
            ip("-n", h->ns, "route", "add", "default", "via", t->netns_bridge, NULL))
            return -1;
        double d = t->hosts[i].delay_ms; /* one way, on each end of the host's link */
        if (use_netem && d > 0 &&
            (netem(NULL, h->veth, d, why, sizeof why) ||
             netem(h->ns, "eth0", d, why, sizeof why))) {
            fprintf(stderr, "edgekv: netem on host %s's link: %s\n", t->hosts[i].name, why);
            return -1;
        }
    }
    return 0;
}

int ekv_netns_enter(const char *ns)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "edgekv: cannot enter network namespace %s: %s\n", ns, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int ekv_netns_link(const char *veth, int up)
{
    return ip("link", "set", veth, up ? "up" : "down", NULL);
}

/* In reverse order of the record: the veths (explicitly: a deleted namespace frees its end
 * only later), the namespaces, the bridge. What is gone already is no error. */
static void netns_undo(void)
{
    char path[PATH_MAX], *text, out[512];
    size_t len;
    netns_path(path, sizeof path);
    if (ekv_file_read(path, 1 << 20, &text, &len) != EKV_OK)
        return;
    for (char *end = text + len; end > text;) {
        char *line = end;
        while (line > text && line[-1] != '\n')
            line--;
        if (line == end) { /* the newline ending the previous line */
            *--end = '\0';
            continue;
        }
        *end = '\0';
        char kind[8], name[128];
        if (sscanf(line, "%7s %127s", kind, name) == 2) {
            char *del_link[] = {"ip", "link", "del", name, NULL};
            char *del_ns[] = {"ip", "netns", "del", name, NULL};
            char *show_link[] = {"ip", "link", "show", name, NULL};
            char nspath[PATH_MAX];
            snprintf(nspath, sizeof nspath, "/run/netns/%s", name);
            if (!strcmp(kind, "link") && run_cmd(show_link, NULL, 0) == 0 &&
                run_cmd(del_link, out, sizeof out) != 0)
                fprintf(stderr, "edgekv: cannot remove link %s: %s\n", name, out);
            if (!strcmp(kind, "netns") && access(nspath, F_OK) == 0 &&
                run_cmd(del_ns, out, sizeof out) != 0)
                fprintf(stderr, "edgekv: cannot remove namespace %s: %s\n", name, out);
        }
        end = line;
    }
    free(text);
    unlink(path);
}
