/* fanout_floor: the bare-libzmq floor of edgekv's fan-out, for scripts/bench/fanout.
 *
 *   fanout_floor N RATE COUNT MSG_BYTES [WARMUP]
 *
 * One PUB process and N SUB processes (fork), each with its own ZeroMQ context as each PoP
 * has, on tcp://127.0.0.1 with the high-water marks edgekv uses (100000 both ways). Every
 * message is two frames like an edgekv CHANGE: a 32-byte topic frame and a body that makes
 * the pair MSG_BYTES long; the body carries the sequence number and the send time. The PUB
 * sends COUNT messages open-loop at RATE per second (scheduled on CLOCK_MONOTONIC, never
 * catching up in bursts), stamping each with CLOCK_REALTIME just before zmq_send - as the
 * coordinator stamps a change's commit time just before publishing it. Each SUB blocks in
 * zmq_recv and stamps CLOCK_REALTIME when a body arrives, into memory shared with the parent.
 * Per message: latency to the LAST SUB = max over SUBs of receipt - send.
 *
 * The first WARMUP messages (default 50) are sent but not counted, as the edgekv side of the
 * benchmark discards nothing but starts on warm connections. Before sending, the PUB repeats
 * a hello until every SUB has seen one (no slow-joiner losses). Prints one JSON object:
 *   {"n":N,"rate":R,"count":C,"msg_bytes":B,"p50_us":..,"p99_us":..,"max_us":..,
 *    "mean_us":..,"missing":M,"late_sends":L}
 * PIN_CPUS=1 places SUB i on CPU i mod n alone, as `edgekv up` places PoP i (topology
 * defaults.pin_cpus, on by default), so the floor gets the same placement as the PoPs.
 * SAMPLES=FILE appends each counted message's latency (us) to FILE, one a line.
 * BENCH_START_MONO_US=T (CLOCK_MONOTONIC microseconds) starts the schedule at T instead of
 * once every SUB has joined, so that it interleaves with other writers started together
 * (scripts/bench/redis); a T already past when the SUBs have joined ends it with status 2.
 * subs_cpu_us: CPU time (both threads) of all SUB processes together from
 * their first message to their last (warm-up included); cpu_us_per_delivery: that over
 * (WARMUP + COUNT) x N; subs_runqueue_wait_us: the time their threads spent runnable but
 * waiting for a CPU over the same span (from /proc/self/task/N/schedstat).
 * missing: (message, SUB) pairs never received; late_sends: messages sent more than 1 ms
 * after their schedule (the sender itself could not keep the rate).
 * Children die with the parent (PR_SET_PDEATHSIG) and are reaped, or killed by pid after a
 * timeout, on every exit path. */
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ekv_cpu.h"

#define TOPIC_BYTES 32
#define HWM         100000
#define SEQ_HELLO   0          /* sync messages before the run */
#define SEQ_END     UINT64_MAX /* the run is over: SUBs exit */

typedef struct {
    char endpoint[128]; /* where the PUB listens, set once bound */
    atomic_int bound;   /* endpoint is valid */
    atomic_int ready;   /* SUBs that have seen a hello */
    int64_t *cpu;       /* [4 sub]: its CPU time at its first numbered message, [+1] at its
                           last - the cost of the deliveries alone; [+2], [+3]: its time
                           waiting on a runqueue, likewise */
    int64_t recv_us[];  /* [sub * count + seq - 1]: receipt time, 0 = never */
} shared_t;

static int64_t now_us(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until_mono(int64_t t_us)
{
    struct timespec ts = {(time_t)(t_us / 1000000), (long)(t_us % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
        ;
}

/* This process's threads from /proc/self/task/N/schedstat: time on a CPU and time waiting
 * on a runqueue (microseconds), the same accounting scripts/bench/fanout reads for PoPs. */
static void sched_us(int64_t *run, int64_t *wait)
{
    *run = *wait = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300];
        unsigned long long r, w;
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (f && fscanf(f, "%llu %llu", &r, &w) == 2)
            *run += (int64_t)(r / 1000), *wait += (int64_t)(w / 1000);
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
}

/* One SUB: connect, report the first hello, stamp every numbered message until the end. */
static int sub_main(shared_t *sh, int index, uint64_t count)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    while (!atomic_load(&sh->bound))
        usleep(1000);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_SUB);
    int linger = 0, hwm = HWM;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(s, sh->endpoint) != 0)
        return 1;
    int said_ready = 0;
    char topic[TOPIC_BYTES + 1], body[65536];
    for (;;) {
        if (zmq_recv(s, topic, sizeof topic, 0) < 0)
            continue;
        int len = zmq_recv(s, body, sizeof body, 0);
        int64_t t = now_us(CLOCK_REALTIME);
        if (len < 16)
            continue;
        uint64_t seq;
        memcpy(&seq, body, sizeof seq);
        if (seq == SEQ_END)
            break;
        if (seq == SEQ_HELLO) {
            if (!said_ready++)
                atomic_fetch_add(&sh->ready, 1);
        } else if (seq <= count) {
            sh->recv_us[(size_t)index * count + seq - 1] = t;
            if (seq == 1)
                sched_us(&sh->cpu[4 * index], &sh->cpu[4 * index + 2]);
            if (seq == count)
                sched_us(&sh->cpu[4 * index + 1], &sh->cpu[4 * index + 3]);
        }
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

static void send_msg(void *pub, char *body, size_t body_len, uint64_t seq, int64_t *sent_us)
{
    static const char topic[TOPIC_BYTES] = "00000000000000000000000000000000";
    memcpy(body, &seq, sizeof seq);
    int64_t t = now_us(CLOCK_REALTIME);
    memcpy(body + 8, &t, sizeof t);
    zmq_send(pub, topic, TOPIC_BYTES, ZMQ_SNDMORE);
    zmq_send(pub, body, body_len, 0);
    if (sent_us)
        *sent_us = t;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Waits for every child up to deadline (monotonic us), then kills what is left by pid. */
static void reap(pid_t *pids, int n, int64_t deadline)
{
    int left = n;
    while (left > 0 && now_us(CLOCK_MONOTONIC) < deadline) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p > 0) {
            for (int i = 0; i < n; i++)
                if (pids[i] == p)
                    pids[i] = 0, left--;
        } else {
            usleep(2000);
        }
    }
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
}

static void report(const shared_t *sh, const int64_t *sent, int n, uint64_t count, uint64_t warm,
                   double rate, size_t msg_bytes, uint64_t late)
{
    int64_t *lat = malloc(count * sizeof *lat), cpu = 0, wait = 0;
    for (int s = 0; s < n; s++) {
        const int64_t *c = &sh->cpu[4 * s];
        cpu += c[1] > c[0] ? c[1] - c[0] : 0;
        wait += c[3] > c[2] ? c[3] - c[2] : 0;
    }
    uint64_t missing = 0, m = 0;
    double sum = 0;
    for (uint64_t i = warm; i < count; i++) {
        int64_t last = 0;
        int complete = 1;
        for (int s = 0; s < n; s++) {
            int64_t t = sh->recv_us[(size_t)s * count + i];
            if (!t)
                complete = 0, missing++;
            else if (t > last)
                last = t;
        }
        if (complete) {
            lat[m] = last - sent[i];
            sum += (double)lat[m++];
        }
    }
    const char *path = getenv("SAMPLES"); /* per-message samples, to pool runs */
    FILE *f = path ? fopen(path, "a") : NULL;
    for (uint64_t i = 0; f && i < m; i++)
        fprintf(f, "%" PRId64 "\n", lat[i]);
    if (f)
        fclose(f);
    qsort(lat, m, sizeof *lat, cmp_i64);
    printf("{\"n\":%d,\"rate\":%g,\"count\":%" PRIu64 ",\"msg_bytes\":%zu,\"p50_us\":%" PRId64
           ",\"p99_us\":%" PRId64 ",\"max_us\":%" PRId64 ",\"mean_us\":%.0f,\"missing\":%" PRIu64
           ",\"late_sends\":%" PRIu64 ",\"subs_cpu_us\":%" PRId64
           ",\"cpu_us_per_delivery\":%.1f,\"subs_runqueue_wait_us\":%" PRId64 "}\n",
           n, rate, count - warm, msg_bytes, m ? lat[(m - 1) / 2] : -1,
           m ? lat[(size_t)((double)(m - 1) * 0.99)] : -1, m ? lat[m - 1] : -1, m ? sum / m : 0.0,
           missing, late, cpu, (double)cpu / ((double)count * n), wait);
    free(lat);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: fanout_floor N RATE COUNT MSG_BYTES [WARMUP]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    double rate = atof(argv[2]);
    uint64_t warm = argc > 5 ? strtoull(argv[5], NULL, 10) : 50;
    uint64_t count = strtoull(argv[3], NULL, 10) + warm;
    size_t msg_bytes = strtoull(argv[4], NULL, 10);
    if (n < 1 || rate <= 0 || msg_bytes < TOPIC_BYTES + 16 || msg_bytes > 65536) {
        fprintf(stderr, "fanout_floor: N >= 1, RATE > 0, MSG_BYTES in %d..65536\n",
                TOPIC_BYTES + 16);
        return 2;
    }
    size_t shm_len = sizeof(shared_t) + ((size_t)n * count + 4 * (size_t)n) * sizeof(int64_t);
    shared_t *sh = mmap(NULL, shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    sh->cpu = sh->recv_us + (size_t)n * count;
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    const char *pin = getenv("PIN_CPUS");
    int pinned = pin && !strcmp(pin, "1");
    for (int i = 0; i < n; i++) {
        int cpu = pinned ? ekv_cpu_spread((size_t)i) : -1;
        pids[i] = fork();
        if (pids[i] == 0) {
            if (cpu >= 0 && ekv_cpu_pin(cpu) != 0)
                perror("fanout_floor: sched_setaffinity");
            _exit(sub_main(sh, i, count));
        }
        if (pids[i] < 0) {
            perror("fork");
            reap(pids, i, 0);
            return 1;
        }
    }
    /* Children exist before any ZeroMQ context: a context must not cross a fork. */
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0, hwm = HWM;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    size_t eplen = sizeof sh->endpoint;
    int rc = 1;
    if (zmq_bind(pub, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, sh->endpoint, &eplen) != 0)
        goto out;
    atomic_store(&sh->bound, 1);
    char *body = calloc(1, msg_bytes - TOPIC_BYTES);
    memset(body + 16, 'v', msg_bytes - TOPIC_BYTES - 16);
    int64_t give_up = now_us(CLOCK_MONOTONIC) + 60000000;
    while (atomic_load(&sh->ready) < n && now_us(CLOCK_MONOTONIC) < give_up) {
        send_msg(pub, body, msg_bytes - TOPIC_BYTES, SEQ_HELLO, NULL);
        usleep(10000);
    }
    if (atomic_load(&sh->ready) < n) {
        fprintf(stderr, "fanout_floor: only %d of %d SUBs joined\n", atomic_load(&sh->ready), n);
        free(body);
        goto out;
    }
    usleep(200000); /* the last hellos drain */
    int64_t start = now_us(CLOCK_MONOTONIC);
    const char *at = getenv("BENCH_START_MONO_US");
    if (at && *at) {
        if (atoll(at) <= start) {
            fprintf(stderr, "fanout_floor: BENCH_START_MONO_US=%s has passed (now %" PRId64 ")\n",
                    at, start);
            free(body);
            rc = 2;
            goto out;
        }
        start = atoll(at);
    }
    int64_t *sent = calloc(count, sizeof *sent);
    uint64_t late = 0;
    for (uint64_t i = 0; i < count; i++) {
        int64_t due = start + (int64_t)((double)i * 1e6 / rate);
        sleep_until_mono(due);
        late += i >= warm && now_us(CLOCK_MONOTONIC) - due > 1000;
        send_msg(pub, body, msg_bytes - TOPIC_BYTES, i + 1, &sent[i]);
    }
    /* Let the SUBs receive what is in flight, then end them. */
    usleep(1000000);
    for (int k = 0; k < 20; k++) {
        send_msg(pub, body, msg_bytes - TOPIC_BYTES, SEQ_END, NULL);
        usleep(20000);
    }
    reap(pids, n, now_us(CLOCK_MONOTONIC) + 5000000);
    report(sh, sent, n, count, warm, rate, msg_bytes, late);
    free(sent);
    free(body);
    rc = 0;
out:
    reap(pids, n, now_us(CLOCK_MONOTONIC));
    zmq_close(pub);
    zmq_ctx_term(ctx);
    free(pids);
    munmap(sh, shm_len);
    return rc;
}
