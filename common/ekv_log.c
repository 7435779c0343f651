/* ekv_log: timestamped log lines on stderr. */
#include "ekv_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static const char *prog = "edgekv";
static int min_lvl = EKV_LOG_INFO;

void ekv_log_init(const char *program, int min_level)
{
    prog = program;
    min_lvl = min_level;
}

void ekv_log(int level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < min_lvl)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s.%06ld %s %s: %s\n", stamp, ts.tv_nsec / 1000, prog, names[level & 3], line);
}
