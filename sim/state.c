/* state: the running topology's record, as JSON (jansson), and process identity checks. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"

const char *ekv_state_dir(void)
{
    const char *h = getenv("EDGEKV_HOME");
    return h && *h ? h : ".edgekv";
}

static void state_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/state.json", ekv_state_dir());
}

static json_t *proc_json(const ekv_proc_t *p)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:f, s:s}", "name", p->name, "city", p->city,
                          "url", p->url, "pid", p->pid, "start", (json_int_t)p->start, "delay_ms",
                          p->delay_ms, "policy", p->policy);
    if (p->tier[0])
        json_object_set_new(j, "tier", json_string(p->tier));
    if (p->serve[0])
        json_object_set_new(j, "serve", json_string(p->serve));
    if (p->host[0])
        json_object_set_new(j, "host", json_string(p->host));
    return j;
}

static void copy_str(json_t *o, const char *k, char *dst, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));
    snprintf(dst, n, "%s", s ? s : "");
}

/* remote: an attached world's record, with no pid but a URL. */
static int proc_from(json_t *o, ekv_proc_t *p, int remote)
{
    if (!json_is_object(o))
        return -1;
    copy_str(o, "name", p->name, sizeof p->name);
    copy_str(o, "city", p->city, sizeof p->city);
    copy_str(o, "url", p->url, sizeof p->url);
    copy_str(o, "policy", p->policy, sizeof p->policy);
    copy_str(o, "tier", p->tier, sizeof p->tier);
    copy_str(o, "serve", p->serve, sizeof p->serve);
    copy_str(o, "host", p->host, sizeof p->host);
    p->pid = (int)json_integer_value(json_object_get(o, "pid"));
    p->start = (unsigned long long)json_integer_value(json_object_get(o, "start"));
    p->delay_ms = json_number_value(json_object_get(o, "delay_ms"));
    if (remote) { /* never a pid of this machine's */
        p->pid = 0;
        p->start = 0;
        return p->name[0] && p->url[0] ? 0 : -1;
    }
    return p->pid > 0 ? 0 : -1;
}

int ekv_state_save(const ekv_state_t *st)
{
    json_t *pops = json_array(), *tiers = json_array();
    for (size_t i = 0; i < st->npops; i++)
        json_array_append_new(pops, proc_json(&st->pops[i]));
    for (size_t i = 0; i < st->ntiers; i++)
        json_array_append_new(tiers, proc_json(&st->tiers[i]));
    json_t *j = json_pack("{s:s, s:f, s:s, s:s, s:o, s:o}", "topology", st->topology, "time_scale",
                          st->time_scale, "pub", st->pub, "router", st->router, "coordinator",
                          proc_json(&st->coord), "pops", pops);
    if (st->ntiers)
        json_object_set_new(j, "tiers", tiers);
    else
        json_decref(tiers);
    if (st->ui.pid > 0)
        json_object_set_new(j, "ui", proc_json(&st->ui));
    if (st->remote)
        json_object_set_new(j, "remote", json_true());
    json_object_set_new(j, "secure", json_boolean(st->secure));
    if (st->nhosts) {
        json_t *hosts = json_array();
        for (size_t i = 0; i < st->nhosts; i++)
            json_array_append_new(hosts, json_pack("{s:s, s:s, s:f}", "name", st->hosts[i].name,
                                                   "address", st->hosts[i].address, "clock_skew_ms",
                                                   st->hosts[i].clock_skew_ms));
        json_object_set_new(j, "hosts", hosts);
    }
    if (st->netns) {
        json_t *hosts = json_array();
        for (size_t i = 0; i < st->nhosts; i++)
            json_array_append_new(hosts,
                                  json_pack("{s:s, s:s, s:s, s:b}", "host", st->hosts[i].name, "ns",
                                            st->hosts[i].ns, "veth", st->hosts[i].veth,
                                            "partitioned", st->hosts[i].partitioned));
        json_object_set_new(j, "netns",
                            json_pack("{s:s, s:s, s:b, s:o}", "bridge", st->bridge, "address",
                                      st->bridge_address, "netem", st->netem, "hosts", hosts));
    }
    char *text = json_dumps(j, JSON_INDENT(2));
    char path[1100];
    state_path(path, sizeof path);
    mkdir(ekv_state_dir(), 0755);
    int rc = ekv_file_write_atomic(path, text, strlen(text));
    free(text);
    json_decref(j);
    return rc;
}

/* The state in j; NULL when it is not one. remote: an attached world's (pids ignored). */
static ekv_state_t *state_from(json_t *j, int remote)
{
    ekv_state_t *st = ekv_calloc(1, sizeof *st);
    st->remote = remote || json_is_true(json_object_get(j, "remote"));
    st->secure = json_is_true(json_object_get(j, "secure"));
    copy_str(j, "topology", st->topology, sizeof st->topology);
    copy_str(j, "pub", st->pub, sizeof st->pub);
    copy_str(j, "router", st->router, sizeof st->router);
    st->time_scale = json_number_value(json_object_get(j, "time_scale"));
    json_t *pops = json_object_get(j, "pops");
    int bad = proc_from(json_object_get(j, "coordinator"), &st->coord, st->remote) ||
              !json_is_array(pops);
    st->pops = ekv_calloc(json_array_size(pops), sizeof *st->pops);
    for (size_t i = 0; !bad && i < json_array_size(pops); i++, st->npops++)
        bad = proc_from(json_array_get(pops, i), &st->pops[i], st->remote);
    json_t *tiers = json_object_get(j, "tiers"); /* absent: a world without tiers */
    st->tiers = ekv_calloc(json_array_size(tiers) + 1, sizeof *st->tiers);
    for (size_t i = 0; !bad && i < json_array_size(tiers); i++, st->ntiers++)
        bad = proc_from(json_array_get(tiers, i), &st->tiers[i], st->remote);
    if (!bad && !st->remote && json_object_get(j, "ui")) /* absent: up without --ui */
        bad = proc_from(json_object_get(j, "ui"), &st->ui, 0);
    json_t *hosts = json_object_get(j, "hosts"); /* absent: a state file from before hosts */
    for (size_t i = 0; i < json_array_size(hosts) && i < EKV_STATE_MAX_HOSTS; i++, st->nhosts++) {
        json_t *h = json_array_get(hosts, i);
        copy_str(h, "name", st->hosts[i].name, sizeof st->hosts[i].name);
        copy_str(h, "address", st->hosts[i].address, sizeof st->hosts[i].address);
        st->hosts[i].clock_skew_ms = json_number_value(json_object_get(h, "clock_skew_ms"));
    }
    json_t *ns = json_object_get(j, "netns"); /* absent: no namespaces */
    if (json_is_object(ns)) {
        st->netns = 1;
        copy_str(ns, "bridge", st->bridge, sizeof st->bridge);
        copy_str(ns, "address", st->bridge_address, sizeof st->bridge_address);
        st->netem = json_is_true(json_object_get(ns, "netem"));
        json_t *nh = json_object_get(ns, "hosts");
        for (size_t i = 0; i < json_array_size(nh) && i < st->nhosts; i++) {
            json_t *h = json_array_get(nh, i);
            copy_str(h, "ns", st->hosts[i].ns, sizeof st->hosts[i].ns);
            copy_str(h, "veth", st->hosts[i].veth, sizeof st->hosts[i].veth);
            st->hosts[i].partitioned = json_is_true(json_object_get(h, "partitioned"));
        }
    }
    if (bad) {
        ekv_state_destroy(&st);
        return NULL;
    }
    if (st->time_scale <= 0)
        st->time_scale = 1;
    return st;
}

int ekv_state_load(ekv_state_t **out)
{
    char path[1100];
    state_path(path, sizeof path);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        return access(path, F_OK) == 0 ? EKV_EINVAL : EKV_ENOTFOUND;
    ekv_state_t *st = state_from(j, 0);
    json_decref(j);
    if (!st)
        return EKV_EINVAL;
    *out = st;
    return EKV_OK;
}

int ekv_state_attach(const char *path, ekv_state_t **out, char *err, size_t errlen)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) {
        snprintf(err, errlen, "%s:%d: %s", path, e.line, e.text);
        return EKV_EINVAL;
    }
    ekv_state_t *st = json_is_object(j) ? state_from(j, 1) : NULL;
    json_decref(j);
    if (!st || st->npops == 0) {
        snprintf(err, errlen,
                 "%s: not a world to attach: it needs a coordinator and at least one PoP, each "
                 "with a name and a url (state.json's format)",
                 path);
        ekv_state_destroy(&st);
        return EKV_EINVAL;
    }
    if (!realpath(path, st->topology))
        snprintf(st->topology, sizeof st->topology, "%s", path);
    *out = st;
    return EKV_OK;
}

int ekv_state_remove(void)
{
    char path[1100];
    state_path(path, sizeof path);
    return unlink(path) == 0 || errno == ENOENT ? EKV_OK : EKV_EIO;
}

void ekv_state_destroy(ekv_state_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->pops);
    free((*self_p)->tiers);
    free(*self_p);
    *self_p = NULL;
}

/* The state letter of a /proc stat file ('Z', 'R'...), into buf's copy; 0 when unreadable. */
static char stat_state(const char *path, char *buf, size_t size, char **after)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return 0;
    *after = p + 2;
    return p[2];
}

/* 1 when some thread of pid other than a zombie is still there. A killed process whose main
 * thread has exited can keep another (in fsync, say) for a while, holding its files and the
 * store's lock: it is not gone until that thread is. */
static int threads_left(int pid)
{
    char path[96], buf[1024], *after;
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int left = 0;
    for (struct dirent *e; !left && (e = readdir(d));) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.16s/stat", pid, e->d_name);
        char st = stat_state(path, buf, sizeof buf, &after);
        left = st != 0 && st != 'Z' && st != 'X';
    }
    closedir(d);
    return left;
}

unsigned long long ekv_proc_start_time(int pid)
{
    char path[64], buf[1024], *p;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    char st = stat_state(path, buf, sizeof buf, &p);
    if (st == 0 || ((st == 'Z' || st == 'X') && !threads_left(pid)))
        return 0;
    /* p is at field 3, the state */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

int ekv_proc_alive(const ekv_proc_t *p)
{
    return p->pid > 0 && p->start != 0 && ekv_proc_start_time(p->pid) == p->start;
}

const char *ekv_proc_cpus(int pid, char *buf, size_t len)
{
    static const char field[] = "\nCpus_allowed_list:";
    char path[64], *text;
    size_t n;
    snprintf(buf, len, "-");
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (ekv_file_read(path, 1 << 16, &text, &n) != EKV_OK)
        return buf;
    const char *at = strstr(text, field);
    if (at) {
        at += strlen(field);
        at += strspn(at, " \t");
        snprintf(buf, len, "%.*s", (int)strcspn(at, "\n"), at);
    }
    free(text);
    return buf;
}

static int wait_gone(const ekv_proc_t *p, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        if (!ekv_proc_alive(p))
            return 1;
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    }
    return !ekv_proc_alive(p);
}

/* The pid is pinned first (a pidfd) and its start time checked after: the pidfd cannot be
 * moved to a process that reuses the pid later, so the signal reaches the checked process or
 * none. Without pidfds (before Linux 5.3) the check comes just before kill(). */
int ekv_proc_signal(const ekv_proc_t *p, int sig)
{
    if (p->pid <= 0 || p->start == 0)
        return -1;
    int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (fd < 0 && errno != ENOSYS)
        return -1; /* no such process */
    int rc = -1;
    if (ekv_proc_alive(p))
        rc = fd >= 0 ? (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) : kill(p->pid, sig);
    if (fd >= 0)
        close(fd);
    return rc == 0 ? 0 : -1;
}

int ekv_proc_stop(const ekv_proc_t *p, int grace_ms)
{
    if (ekv_proc_signal(p, SIGTERM) != 0)
        return 0;
    if (wait_gone(p, grace_ms))
        return 0;
    ekv_proc_signal(p, SIGKILL);
    wait_gone(p, 2000);
    return 1;
}
