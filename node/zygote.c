/* zygote: many PoPs forked from one loaded edgekv-node (see zygote.h). */
#include "zygote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_daemon.h"
#include "ekv_err.h"
#include "ekv_mem.h"
#include "zygote_req.h"

#define MAX_RECORD (1 << 20) /* bytes of one request: far more than any PoP's options */

typedef struct {
    char *buf;       /* read from fd 0 and not yet consumed by whole requests */
    size_t len, cap; /* bytes held, allocated */
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
    if (n <= 0)
        return 0;
    in->len += (size_t)n;
    return 1;
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
    ekv_zygote_req_t req;
    size_t used = 0;
    for (;;) {
        if (used > 0) { /* keep only the unread rest */
            memmove(in.buf, in.buf + used, in.len - used);
            in.len -= used;
            used = 0;
        }
        int rc = ekv_zygote_parse(in.buf, in.len, &req, &used);
        if (rc == EKV_EAGAIN && in.len <= MAX_RECORD && fill(&in))
            continue;
        if (rc != EKV_OK) {
            /* Malformed, too long, or cut short by the end of the input. A first field cut
             * short gets no answer: nothing of a request was there to answer. */
            if (in.len > 0 && memchr(in.buf, '\0', in.len))
                answer(-1, "malformed request");
            break;
        }
        pid_t pid = fork();
        if (pid == 0) { /* the PoP's own session, output and CPU, then the PoP itself */
            ekv_daemon_detach(req.log, req.cpu, "edgekv-node");
            exit(pop_main(req.argc, req.argv));
        }
        answer(pid, pid < 0 ? strerror(errno) : NULL);
    }
    int rc = in.len > 0 ? 1 : 0; /* a partial or malformed request at the end */
    free(in.buf);
    return rc;
}
