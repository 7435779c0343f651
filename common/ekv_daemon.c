/* ekv_daemon: turning a freshly forked child into a daemon (see ekv_daemon.h). */
#include "ekv_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ekv_cpu.h"

void ekv_daemon_detach(const char *logpath, int cpu, const char *who)
{
    setsid();
    /* O_CLOEXEC: only the copies on 0, 1 and 2 reach a program executed next. O_NOFOLLOW: a
     * symbolic link planted at the log's name is not written through; the daemon's output
     * then goes nowhere rather than into the link's target. */
    int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (log < 0)
        fprintf(stderr, "%s: cannot open log %s: %s\n", who, logpath, strerror(errno));
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0)
        dup2(null, 0);
    if (log >= 0 || null >= 0) {
        dup2(log >= 0 ? log : null, 1);
        dup2(log >= 0 ? log : null, 2);
    }
    if (cpu >= 0 && ekv_cpu_pin(cpu) != 0)
        fprintf(stderr, "%s: cannot pin to CPU %d: %s\n", who, cpu, strerror(errno));
}
