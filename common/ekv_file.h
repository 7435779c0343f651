/* ekv_file: small file helpers shared by the daemons and the CLI. */
#ifndef EKV_FILE_H
#define EKV_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Room for a temporary file's name: the target's path and a suffix. */
#define EKV_FILE_TMP_MAX 4200

/* Writes len bytes to path atomically (a temporary file in the same folder, fsync, rename),
 * so a reader sees the old content or the new, never half. The temporary file is created
 * exclusively and never through a symbolic link, and the rename replaces whatever was at path
 * (a link included) instead of writing through it. Returns EKV_OK or EKV_EIO. */
int ekv_file_write_atomic(const char *path, const void *data, size_t len);

/* The same for output written as a stream (reports, CSV files): opens a new temporary file
 * beside path (its name in tmp) for writing; NULL on error. ekv_file_out_close closes it and
 * renames it onto path (EKV_OK), or removes it when a write or the rename failed (EKV_EIO). */
FILE *ekv_file_out_open(const char *path, char tmp[EKV_FILE_TMP_MAX]);
int ekv_file_out_close(FILE *f, const char *tmp, const char *path);

/* Reads a whole file into a new NUL-terminated buffer (*out, freed by the caller) of *len
 * bytes. Returns EKV_OK, EKV_ENOTFOUND, EKV_ETOOBIG past max bytes, or EKV_EIO. */
int ekv_file_read(const char *path, size_t max, char **out, size_t *len);

/* Creates folder path and any missing parents (mode 0755). EKV_OK when it exists after. */
int ekv_file_mkdirs(const char *path);

#endif
