/* ekv_file: atomic writes and bounded reads of small files (see ekv_file.h). */
#include "ekv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_mem.h"

/* Creates a new temporary file beside path, its name in tmp. O_EXCL | O_NOFOLLOW: whatever
 * already lies at a name (a symbolic link planted there, a file left by a crash) is never
 * opened, the next name is tried instead. Returns the descriptor, or -1. */
static int open_tmp(const char *path, char *tmp, size_t len)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (int attempt = 0; attempt < 100; attempt++) {
        int n =
            snprintf(tmp, len, "%s.tmp.%d.%lx%x", path, (int)getpid(), (long)ts.tv_nsec, counter++);
        if (n < 0 || (size_t)n >= len)
            return -1;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

int ekv_file_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[EKV_FILE_TMP_MAX];
    int fd = open_tmp(path, tmp, sizeof tmp);
    if (fd < 0)
        return EKV_EIO;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return EKV_EIO;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return EKV_EIO;
    }
    return EKV_OK;
}

FILE *ekv_file_out_open(const char *path, char tmp[EKV_FILE_TMP_MAX])
{
    int fd = open_tmp(path, tmp, EKV_FILE_TMP_MAX);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
    }
    return f;
}

int ekv_file_out_close(FILE *f, const char *tmp, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return EKV_EIO;
    }
    return EKV_OK;
}

int ekv_file_read(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? EKV_ENOTFOUND : EKV_EIO;
    size_t cap = 4096, n = 0;
    char *buf = ekv_malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= max)
                break;
            cap = cap * 2 > max ? max : cap * 2;
            buf = ekv_realloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    int err = ferror(f), more = !feof(f) && n >= max;
    fclose(f);
    if (err || more) {
        free(buf);
        return err ? EKV_EIO : EKV_ETOOBIG;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return EKV_OK;
}

int ekv_file_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return EKV_EINVAL;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(buf, 0755);
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return EKV_EIO;
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? EKV_OK : EKV_EIO;
}
