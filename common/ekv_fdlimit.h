/* ekv_fdlimit: the open-file limit a daemon starts with.
 *
 * Distributions start processes with a soft RLIMIT_NOFILE of 1024 and a much higher hard
 * limit; 1024 would make the HTTP guard lower its connection cap (ekv_http.h). As Redis and
 * nginx do, a process raises its soft limit to the hard limit once, first thing in main, so
 * every descriptor it (and each child it starts) may need is there from the start. */
#ifndef EKV_FDLIMIT_H
#define EKV_FDLIMIT_H

#include <stddef.h>

/* Raises the soft RLIMIT_NOFILE to the hard limit. Returns EKV_OK with a line saying what the
 * limit is now (and what it was) in msg, or EKV_EIO when the limit cannot be read or set,
 * with the reason in msg; the limit is then unchanged. */
int ekv_fdlimit_raise(char *msg, size_t len);

#endif
