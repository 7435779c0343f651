/* ekv_file: small file helpers shared by the daemons and the CLI. */
#ifndef EKV_FILE_H
#define EKV_FILE_H

#include <stddef.h>

/* Writes len bytes to path atomically (a temporary file in the same folder, fsync, rename),
 * so a reader sees the old content or the new, never half. Returns EKV_OK or EKV_EIO. */
int ekv_file_write_atomic(const char *path, const void *data, size_t len);

/* Reads a whole file into a new NUL-terminated buffer (*out, freed by the caller) of *len
 * bytes. Returns EKV_OK, EKV_ENOTFOUND, EKV_ETOOBIG past max bytes, or EKV_EIO. */
int ekv_file_read(const char *path, size_t max, char **out, size_t *len);

/* Creates folder path and any missing parents (mode 0755). EKV_OK when it exists after. */
int ekv_file_mkdirs(const char *path);

#endif
