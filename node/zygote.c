/* zygote: many PoPs forked from one loaded edgekv-node (see zygote.h). */
#include "zygote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_daemon.h"
#include "ekv_mem.h"

#define MAX_RECORD (1 << 20) /* bytes of one request: far more than any PoP's options */
#define MAX_ARGS   256

typedef struct {
    char *buf;            /* everything read from fd 0 so far */
    size_t len, cap, pos; /* bytes held, allocated, and consumed by whole records */
    int eof;
} input_t;

/* Reads more of fd 0; 0 at end of input. */
static int fill(input_t *in)
{
    if (in->len == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 65536;
        in->buf = ekv_realloc(in->buf, in->cap);
    }
    ssize_t n;
    do
        n = read(0, in->buf + in->len, in->cap - in->len);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        in->eof = 1;
        return 0;
    }
    in->len += (size_t)n;
    return 1;
}

/* The offset of the next NUL-terminated field, reading on as needed (the buffer may move);
 * -1 at the end of the input. */
static long field(input_t *in, size_t *at)
{
    for (;;) {
        char *nul = *at < in->len ? memchr(in->buf + *at, '\0', in->len - *at) : NULL;
        if (nul) {
            long f = (long)*at;
            *at = (size_t)(nul - in->buf) + 1;
            return f;
        }
        if (in->len - in->pos > MAX_RECORD || in->eof || !fill(in))
            return -1;
    }
}

/* Answers one line on fd 1: the child's pid, or -1 and why. */
static void answer(pid_t pid, const char *why)
{
    char line[256];
    int n = why ? snprintf(line, sizeof line, "-1 %s\n", why)
                : snprintf(line, sizeof line, "%d\n", (int)pid);
    if (write(1, line, (size_t)n) != n)
        _exit(1); /* the launcher is gone: it can no longer learn the pids */
}

int ekv_node_zygote(int (*pop_main)(int, char **))
{
    input_t in = {0};
    long off[MAX_ARGS + 3];
    char *argv[MAX_ARGS + 1];
    for (;;) {
        if (in.pos > 0) { /* keep only the unread rest */
            memmove(in.buf, in.buf + in.pos, in.len - in.pos);
            in.len -= in.pos;
            in.pos = 0;
        }
        /* A request: CPU (-1: any), log file, argument count, then the arguments. */
        size_t at = 0;
        off[0] = field(&in, &at);
        if (off[0] < 0)
            break;
        off[1] = field(&in, &at);
        off[2] = field(&in, &at);
        long argc = off[2] >= 0 ? strtol(in.buf + off[2], NULL, 10) : -1;
        int ok = off[1] >= 0 && argc >= 1 && argc <= MAX_ARGS;
        for (long i = 0; ok && i < argc; i++)
            ok = (off[3 + i] = field(&in, &at)) >= 0;
        if (!ok) {
            answer(-1, "malformed request");
            break;
        }
        for (long i = 0; i < argc; i++)
            argv[i] = in.buf + off[3 + i];
        argv[argc] = NULL;
        pid_t pid = fork();
        if (pid == 0) { /* the PoP's own session, output and CPU, then the PoP itself */
            ekv_daemon_detach(in.buf + off[1], atoi(in.buf + off[0]), "edgekv-node");
            exit(pop_main((int)argc, argv));
        }
        answer(pid, pid < 0 ? strerror(errno) : NULL);
        in.pos = at;
    }
    int rc = in.len > in.pos ? 1 : 0; /* a partial request at the end */
    free(in.buf);
    return rc;
}
