/* ekv_args: strict parsing of command-line values shared by the programs.
 * Each returns 0 on success and -1 when the whole string is not a valid value in range. */
#ifndef EKV_ARGS_H
#define EKV_ARGS_H

#include <stddef.h>

int ekv_args_int(const char *s, long lo, long hi, long *out);
int ekv_args_double(const char *s, double lo, double hi, double *out);
/* "HOST:PORT" into host (hlen bytes) and port (0..65535). */
int ekv_args_hostport(const char *s, char *host, size_t hlen, int *port);
/* The same check alone, for an option table's .check: a host under 256 bytes. */
int ekv_args_is_hostport(const char *s);
/* A name of 1..63 characters from [A-Za-z0-9_.-]. */
int ekv_args_name(const char *s);

#endif
