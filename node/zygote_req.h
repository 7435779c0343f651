/* zygote_req: one request of the zygote's protocol (zygote.h), parsed from a buffer.
 *
 * A request is NUL-terminated fields, one after another: the CPU to pin the PoP to (decimal;
 * -1: any), its log file, the argument count, then the arguments (argv[0] first). No I/O: the
 * zygote reads, this parses; the fuzz target (tests/fuzz/zygote_fuzz.c) calls it directly. */
#ifndef EKV_NODE_ZYGOTE_REQ_H
#define EKV_NODE_ZYGOTE_REQ_H

#include <stddef.h>

#define EKV_ZYGOTE_MAX_ARGS 256

typedef struct {
    int cpu;                             /* as atoi reads the first field */
    const char *log;                     /* points into the buffer */
    int argc;                            /* 1 .. EKV_ZYGOTE_MAX_ARGS */
    char *argv[EKV_ZYGOTE_MAX_ARGS + 1]; /* into the buffer; argv[argc] is NULL */
} ekv_zygote_req_t;

/* Parses the request at the start of buf[0, len):
 *   EKV_OK: *req filled, *used = its length in bytes;
 *   EKV_EAGAIN: buf holds only the start of a request (read more);
 *   EKV_EMALFORMED: the argument count is not a number from 1 to EKV_ZYGOTE_MAX_ARGS. */
int ekv_zygote_parse(char *buf, size_t len, ekv_zygote_req_t *req, size_t *used);

#endif
