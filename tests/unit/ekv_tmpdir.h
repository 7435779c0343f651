/* ekv_tmpdir: the temporary folders of a test program that needs real files (a RocksDB
 * store): one mkdtemp folder per run, a fresh subfolder per test, all removed at exit (by the
 * process that made them only, so a forked child's exit leaves them to its parent). */
#ifndef EKV_TMPDIR_H
#define EKV_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char ekv_tmpdir_top[64];
static pid_t ekv_tmpdir_owner;
static int ekv_tmpdir_count;

static int ekv_tmpdir_remove_one(const char *path, const struct stat *st, int flag,
                                 struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void ekv_tmpdir_remove(void)
{
    if (ekv_tmpdir_top[0] && getpid() == ekv_tmpdir_owner)
        nftw(ekv_tmpdir_top, ekv_tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes /tmp/ekv-NAME.XXXXXX and removes it at exit; 0, or -1 after perror. */
static inline int ekv_tmpdir_init(const char *name)
{
    snprintf(ekv_tmpdir_top, sizeof ekv_tmpdir_top, "/tmp/ekv-%s.XXXXXX", name);
    if (!mkdtemp(ekv_tmpdir_top)) {
        perror("mkdtemp");
        return -1;
    }
    ekv_tmpdir_owner = getpid();
    atexit(ekv_tmpdir_remove);
    return 0;
}

/* The path of a new, not yet existing folder under it, in buf. */
static inline const char *ekv_tmpdir_new(char *buf, size_t size)
{
    snprintf(buf, size, "%s/db%d", ekv_tmpdir_top, ekv_tmpdir_count++);
    return buf;
}

#endif
