/* ekv_mem: allocation wrappers that abort on out-of-memory. */
#include "ekv_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ekv_oom(size_t n)
{
    fprintf(stderr, "edgekv: out of memory allocating %zu bytes\n", n);
    abort();
}

void *ekv_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        ekv_oom(n);
    return p;
}

void *ekv_calloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        ekv_oom(count * n);
    return p;
}

void *ekv_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        ekv_oom(n);
    return q;
}

char *ekv_strdup(const char *s)
{
    return ekv_memdup(s, strlen(s));
}

char *ekv_memdup(const void *p, size_t n)
{
    char *q = ekv_malloc(n + 1);
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}
