/* ekv_fdlimit: raising the soft open-file limit (see ekv_fdlimit.h). */
#include "ekv_fdlimit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "ekv_err.h"

int ekv_fdlimit_raise(char *msg, size_t len)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(msg, len, "open files: cannot read the limit: %s", strerror(errno));
        return EKV_EIO;
    }
    if (rl.rlim_cur == rl.rlim_max) {
        snprintf(msg, len, "open files: limit %llu (the hard limit)",
                 (unsigned long long)rl.rlim_cur);
        return EKV_OK;
    }
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(msg, len, "open files: cannot raise the limit from %llu to %llu: %s",
                 (unsigned long long)was, (unsigned long long)rl.rlim_max, strerror(errno));
        return EKV_EIO;
    }
    snprintf(msg, len, "open files: limit raised from %llu to %llu (the hard limit)",
             (unsigned long long)was, (unsigned long long)rl.rlim_cur);
    return EKV_OK;
}
