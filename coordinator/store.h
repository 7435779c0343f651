/* store: the coordinator's durable state in RocksDB (the only file that includes rocksdb/c.h).
 *
 * Column families:
 *   default  meta: "last_seq" (8 bytes big-endian), written in every commit batch
 *   data     [ns length (1 byte)][ns][key] -> encoded CHANGE message of the current version
 *   log      [seq, 8 bytes big-endian]      -> encoded CHANGE message (put or delete)
 * A commit assigns the next gap-free sequence numbers to a group of changes and writes their
 * values, their change-log entries and last_seq in one write batch, synced to disk before
 * returning (EKV_STORE_FSYNC), so an acknowledged change is never lost. The stored record of
 * a key and its log entry are the very bytes published to PoPs, so catch-up sends the log
 * verbatim. Single-threaded: one owner calls everything. */
#ifndef EKV_STORE_H
#define EKV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ekv_msg.h"

typedef struct ekv_store ekv_store_t;

typedef enum {
    EKV_STORE_FSYNC = 0, /* fsync the WAL before acknowledging (default) */
    EKV_STORE_WAL = 1,   /* write the WAL, let the OS flush it */
    EKV_STORE_NONE = 2,  /* no WAL: fastest, loses recent writes on a crash */
} ekv_store_durability_t;

/* Opens (creating if missing) the store in folder dir. Returns NULL and a message in
 * errbuf on failure. */
ekv_store_t *ekv_store_open(const char *dir, ekv_store_durability_t durability, char *errbuf,
                            size_t errlen);
void ekv_store_destroy(ekv_store_t **self_p);

/* The sequence number of the last committed change; 0 for an empty store. */
uint64_t ekv_store_last_seq(const ekv_store_t *self);

/* Commits n CHANGE messages as one durable write batch. Assigns changes[i].seq (consecutive,
 * after the last one) and changes[i].time_us = commit_us, and returns in bodies[i] (malloc'd,
 * the caller frees) and lens[i] each change's encoding as stored and to be published. On
 * failure nothing is committed, no sequence number is used, and bodies are not set. */
int ekv_store_commit(ekv_store_t *self, ekv_msg_t *changes, size_t n, int64_t commit_us,
                     char **bodies, size_t *lens);

/* Reads the current version of (ns, key) into *out (a decoded CHANGE, owned by the caller:
 * ekv_msg_fini). EKV_ENOTFOUND when absent or deleted; EKV_ESTORE on an engine error. */
int ekv_store_get(ekv_store_t *self, ekv_bytes_t ns, ekv_bytes_t key, ekv_msg_t *out);

/* Reads change-log entries with seq > after, at most max_n entries and about max_bytes bytes.
 * *bodies is a malloc'd array of malloc'd encodings (free each, then the array), *n their
 * count. *first_seq is the oldest seq still in the log (0 when empty), so a caller can tell
 * that `after` is older than the log reaches. */
int ekv_store_log_read(ekv_store_t *self, uint64_t after, size_t max_n, size_t max_bytes,
                       ekv_bytes_t **bodies, size_t *n, uint64_t *first_seq);

#endif
