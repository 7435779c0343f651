/* store: the coordinator's durable state in RocksDB (the only file that includes rocksdb/c.h).
 *
 * Column families:
 *   default  meta: "last_seq" (8 bytes big-endian), written in every commit batch;
 *            "epoch" (8 bytes BE), the store's identity; "running" (1 byte: durability),
 *            present while a process has the store open
 *   data     [ns length (1 byte)][ns][key] -> encoded CHANGE message of the current version
 *   log      [seq, 8 bytes big-endian]      -> encoded CHANGE message (put or delete)
 *   expiry   [expiration, 8 bytes BE][ns length][ns][key] -> "" (keys to sweep, by time)
 *   ns       [namespace id]                  -> JSON {"title", "created"}
 * A commit assigns the next gap-free sequence numbers to a group of changes and writes their
 * values, change-log entries, expiry-index entries and last_seq in one write batch, synced
 * before returning (EKV_STORE_FSYNC), so an acknowledged change is never lost. The stored
 * record of a key and its log entry are the bytes published to PoPs, so catch-up and
 * snapshots send them verbatim. Keys sort as bytes, which is UTF-8 code-point order.
 * Threads: ekv_store_commit runs on the committer thread, one call at a time; every other
 * function is called from the loop thread, concurrently with a commit (RocksDB is
 * thread-safe; the last sequence number is atomic). */
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

typedef struct {
    char id[33];     /* 32 hex characters */
    char title[513]; /* 1..512 bytes */
    int64_t created; /* epoch seconds */
    int deleting;    /* its deletion has begun (resumed at the next start) */
} ekv_ns_t;

/* A page of encoded records (each malloc'd), as read from a scan. */
typedef struct {
    ekv_bytes_t *items; /* the encodings (owned) */
    size_t n;           /* how many */
    char *cursor;       /* where the next page starts (owned, may be NULL) */
    size_t cursor_len;
    int more;     /* 1 when the scan stopped before the end */
    uint64_t seq; /* the last committed sequence when the scan began: the page reflects
                     every change up to it (and maybe later ones) */
} ekv_page_t;

/* Opens (creating if missing) the store in folder dir. NULL and a message on failure. */
ekv_store_t *ekv_store_open(const char *dir, ekv_store_durability_t durability, char *errbuf,
                            size_t errlen);
void ekv_store_destroy(ekv_store_t **self_p);

/* The sequence number of the last committed change; 0 for an empty store. */
uint64_t ekv_store_last_seq(const ekv_store_t *self);

/* The store's epoch: a random non-zero identity of its sequence. It stays across restarts
 * unless sequence numbers may have been reused: a new or wiped folder, or a previous run
 * under durability wal or none that did not close cleanly (its unsynced commits may be lost
 * and their numbers given to new changes). PoPs resynchronise when it changes. */
uint64_t ekv_store_epoch(const ekv_store_t *self);

/* A draft flag (never stored or sent): the sweeper's delete of an expired record, applied
 * only if the record still expires at the draft's expiration when its batch commits. A put of
 * the same key that commits first (queued before the sweep, or earlier in the same batch)
 * wins, and the delete is dropped. */
#define EKV_STORE_F_IF_EXPIRES 0x80

/* Commits n CHANGE drafts as one durable batch. Assigns changes[i].seq (consecutive) and
 * changes[i].time_us = commit_us, and returns each change's encoding in bodies[i] (malloc'd;
 * the caller frees) and lens[i]. A delete whose expiration field is set also drops that
 * expiry-index entry (the sweeper's deletes). A dropped conditional delete gets seq 0 and
 * bodies[i] NULL. On failure nothing is committed, no sequence number is used, and bodies are
 * not set. */
int ekv_store_commit(ekv_store_t *self, ekv_msg_t *changes, size_t n, int64_t commit_us,
                     char **bodies, size_t *lens);

/* 1 when a record with this expiration (epoch seconds, 0 = none) is live at now_s: expiration
 * always wins, whatever a reader's cache says. */
static inline int ekv_store_live(int64_t expiration, int64_t now_s)
{
    return expiration == 0 || expiration > now_s;
}

/* Reads the current version of (ns, key) into *out (owned by the caller: ekv_msg_fini).
 * Expired records are still returned: the caller compares expiration with its clock.
 * EKV_ENOTFOUND when absent; EKV_ESTORE on an engine error. */
int ekv_store_get(ekv_store_t *self, ekv_bytes_t ns, ekv_bytes_t key, ekv_msg_t *out);

/* ekv_store_get, and in *as_of a sequence the answer holds at: read before the key, so a
 * "not found" is true as of *as_of and a put of the key committed meanwhile has a higher
 * sequence (PoPs cache "not found" with this version; it must never outrank that put). */
int ekv_store_get_at(ekv_store_t *self, ekv_bytes_t ns, ekv_bytes_t key, ekv_msg_t *out,
                     uint64_t *as_of);

/* Lists keys of ns starting with prefix, in byte order, after start_after (exclusive; empty
 * = from the start), skipping records expired at now_s, at most limit. Fills page with
 * encoded CHANGE heads (value left out: decode with ekv_msg_decode_change_head) and sets
 * page->more and page->cursor (the last key returned). */
int ekv_store_list(ekv_store_t *self, ekv_bytes_t ns, ekv_bytes_t prefix, ekv_bytes_t start_after,
                   size_t limit, int64_t now_s, ekv_page_t *page);
void ekv_page_fini(ekv_page_t *page);

/* For tests: fn(arg) runs inside every list and snapshot scan, after the scan has read the
 * sequence it reports (page->seq) and before it opens its iterator, and inside every get
 * right after the key was read, so a test can commit in exactly those windows. NULL
 * removes it. */
void ekv_store_set_scan_hook(ekv_store_t *self, void (*fn)(void *arg), void *arg);

/* Change-log entries with seq > after, at most max_n and about max_bytes. */
int ekv_store_log_read(ekv_store_t *self, uint64_t after, size_t max_n, size_t max_bytes,
                       ekv_page_t *page);
/* Oldest sequence in the log (0 when empty). */
uint64_t ekv_store_log_first(ekv_store_t *self);
/* Drops log entries beyond the newest keep_count, and those committed before
 * now_us - max_age_us (max_age_us 0: no age limit). The newest entry always stays. Returns
 * how many were dropped in *dropped. */
int ekv_store_log_trim(ekv_store_t *self, uint64_t keep_count, int64_t max_age_us, int64_t now_us,
                       uint64_t *dropped);
/* Number of entries in the log. */
uint64_t ekv_store_log_size(ekv_store_t *self);

/* Snapshot page: current records of every namespace after the full data key `after`
 * (empty = from the start), at most max_n and about max_bytes; cursor continues it. */
int ekv_store_snapshot_read(ekv_store_t *self, ekv_bytes_t after, size_t max_n, size_t max_bytes,
                            ekv_page_t *page);

/* Up to max records whose expiration is <= now_s, as decoded heads in *out (each to be
 * ekv_msg_fini'd, then the array freed). Index entries that no longer match their record
 * (overwritten or deleted since) are removed on the way. */
int ekv_store_expired(ekv_store_t *self, int64_t now_s, size_t max, ekv_msg_t **out, size_t *n);

/* Namespaces: all of them, sorted by id (*out malloc'd). */
int ekv_store_ns_list(ekv_store_t *self, ekv_ns_t **out, size_t *n);
/* Creates or renames (synced write). */
int ekv_store_ns_put(ekv_store_t *self, const ekv_ns_t *ns);
/* Removes the namespace record (synced). Its keys are deleted by the caller as changes. */
int ekv_store_ns_delete(ekv_store_t *self, const char *id);

#endif
