/* zygote_fuzz: libFuzzer target of the zygote's request parser (node/zygote_req).
 *
 * The input is what `edgekv-node --zygote` may read on its standard input. The parser must
 * answer EKV_OK, EKV_EAGAIN or EKV_EMALFORMED, and an accepted request must be exactly what
 * a plain walk over the same bytes finds: the fields up to `used`, the log second, the
 * arguments after the count, as many as it says, each ending at its own NUL. Every request
 * in the input is parsed in turn, as the zygote does. Any broken promise aborts, which
 * libFuzzer reports with the input as reproducer. replay_main.c feeds the committed corpus to
 * the same entry point under ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "zygote_req.h"

static void fail(const char *what)
{
    fprintf(stderr, "zygote_fuzz: %s\n", what);
    abort();
}

/* The next NUL-terminated field of buf[0, len) at *at, or NULL; the plain walk. */
static char *next(char *buf, size_t len, size_t *at)
{
    for (size_t i = *at; i < len; i++)
        if (buf[i] == '\0') {
            char *f = buf + *at;
            *at = i + 1;
            return f;
        }
    return NULL;
}

static void check(char *buf, size_t len, const ekv_zygote_req_t *req, size_t used)
{
    size_t at = 0;
    char *cpu = next(buf, len, &at), *log = next(buf, len, &at), *count = next(buf, len, &at);
    if (!count || req->log != log || req->cpu != atoi(cpu))
        fail("the first three fields differ from the walk");
    if (req->argc < 1 || req->argc > EKV_ZYGOTE_MAX_ARGS || req->argc != strtol(count, NULL, 10))
        fail("the argument count differs from its field");
    for (int i = 0; i < req->argc; i++)
        if (req->argv[i] != next(buf, len, &at))
            fail("an argument differs from the walk");
    if (req->argv[req->argc] != NULL)
        fail("argv is not NULL-terminated");
    if (used != at || used > len)
        fail("the request's length differs from the walk");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    ekv_zygote_req_t *req = malloc(sizeof *req);
    size_t off = 0;
    while (req) {
        size_t used = 0;
        int rc = ekv_zygote_parse(buf + off, size - off, req, &used);
        if (rc == EKV_OK) {
            check(buf + off, size - off, req, used);
            off += used;
            continue;
        }
        if (rc != EKV_EAGAIN && rc != EKV_EMALFORMED)
            fail("an answer other than OK, EAGAIN or EMALFORMED");
        break;
    }
    free(req);
    free(buf);
    return 0;
}
