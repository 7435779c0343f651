/* zygote_req: parsing one zygote request (see zygote_req.h). */
#include "zygote_req.h"

#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"

/* The field starting at *at, or NULL when its NUL is not in buf yet; *at moves past it. */
static char *field(char *buf, size_t len, size_t *at)
{
    char *nul = *at < len ? memchr(buf + *at, '\0', len - *at) : NULL;
    if (!nul)
        return NULL;
    char *f = buf + *at;
    *at = (size_t)(nul - buf) + 1;
    return f;
}

int ekv_zygote_parse(char *buf, size_t len, ekv_zygote_req_t *req, size_t *used)
{
    size_t at = 0;
    char *cpu = field(buf, len, &at), *log = field(buf, len, &at), *count = field(buf, len, &at);
    if (!count)
        return EKV_EAGAIN;
    long argc = strtol(count, NULL, 10);
    if (argc < 1 || argc > EKV_ZYGOTE_MAX_ARGS)
        return EKV_EMALFORMED;
    for (long i = 0; i < argc; i++)
        if (!(req->argv[i] = field(buf, len, &at)))
            return EKV_EAGAIN;
    req->argv[argc] = NULL;
    req->argc = (int)argc;
    req->cpu = atoi(cpu);
    req->log = log;
    *used = at;
    return EKV_OK;
}
