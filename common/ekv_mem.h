/* ekv_mem: allocation that never returns NULL.
 *
 * edgekv limits memory by counting bytes (the node cache has a byte cap), not by waiting for
 * malloc to fail, so running out of memory is treated as fatal: these wrappers print a line
 * and abort. */
#ifndef EKV_MEM_H
#define EKV_MEM_H

#include <stddef.h>

void *ekv_malloc(size_t n);               /* malloc that aborts on failure */
void *ekv_calloc(size_t count, size_t n); /* calloc that aborts on failure */
void *ekv_realloc(void *p, size_t n);     /* realloc that aborts on failure */
char *ekv_strdup(const char *s);          /* strdup that aborts on failure */
/* Copies n bytes of p into a new buffer with a trailing NUL (not counted in n). */
char *ekv_memdup(const void *p, size_t n);
/* Reports that n bytes could not be had, and aborts (for allocators other than these). */
_Noreturn void ekv_oom(size_t n);

#endif
