/* ekv_msg: the wire messages between the coordinator and PoP nodes, and their msgpack codec.
 *
 * Every message body is one msgpack array: [version, type, fields...], where the fields and
 * their order are fixed per type (docs/PROTOCOL.md lists them). The decoder accepts exactly
 * EKV_MSG_VERSION, checks the element count and the msgpack type of every field, and copies
 * every byte string into memory owned by the decoded message, so a message outlives its input
 * buffer. Malformed input is an error code, never a crash; this decoder is a fuzzing target.
 *
 * Frames on the sockets (ZeroMQ multipart):
 *   PUB/SUB:      [topic][body]   topic = namespace id for CHANGE, EKV_MSG_TOPIC_HEARTBEAT
 *   DEALER/ROUTER: [body]          (ROUTER prepends the peer identity)
 *
 * Ownership: ekv_msg_t is a plain struct; byte strings set by the caller for encoding are
 * borrowed. A message filled by ekv_msg_decode() owns its strings and catch-up entries until
 * ekv_msg_fini(). */
#ifndef EKV_MSG_H
#define EKV_MSG_H

#include <stddef.h>
#include <stdint.h>

#define EKV_MSG_VERSION 1
/* Largest body accepted: a 25 MiB value plus metadata, key and framing, with headroom. */
#define EKV_MSG_MAX_BODY (32u * 1024 * 1024)
/* Largest catch-up reply body (many changes). */
#define EKV_MSG_MAX_BATCH_BODY (64u * 1024 * 1024)
/* Most changes one catch-up reply carries. */
#define EKV_MSG_MAX_CHANGES 4096
/* Topic frame of heartbeats on PUB; namespace ids are hex, so this never collides. */
#define EKV_MSG_TOPIC_HEARTBEAT "!hb"

typedef enum {
    EKV_MSG_HELLO = 1,         /* node -> coordinator: name, last applied seq */
    EKV_MSG_HELLO_REPLY = 2,   /* coordinator -> node: latest seq, coordinator time, epoch */
    EKV_MSG_CHANGE = 3,        /* coordinator PUB: one committed change */
    EKV_MSG_WRITE = 4,         /* node -> coordinator: put or delete of one key */
    EKV_MSG_WRITE_REPLY = 5,   /* coordinator -> node: status, seq and commit time */
    EKV_MSG_READ = 6,          /* node -> coordinator: origin read of one key */
    EKV_MSG_READ_REPLY = 7,    /* coordinator -> node: the value or not found */
    EKV_MSG_CATCHUP = 8,       /* node -> coordinator: changes after seq (key: snapshot
                                  cursor when continuing a snapshot) */
    EKV_MSG_CATCHUP_REPLY = 9, /* coordinator -> node: a run of changes or snapshot entries,
                                  key: cursor of the next snapshot page */
    EKV_MSG_HEARTBEAT = 10,    /* coordinator PUB: latest seq, coordinator time, epoch */
    EKV_MSG_LIST = 11,         /* node -> coordinator: keys of ns with prefix (key) after
                                  text (exclusive), at most seq of them */
    EKV_MSG_LIST_REPLY = 12,   /* coordinator -> node: CHANGE heads (no values), MORE flag,
                                  key: the last key returned */
    EKV_MSG_TIME = 13,         /* node -> coordinator: what time is it (clock offset) */
    EKV_MSG_TIME_REPLY = 14,   /* coordinator -> node: its clock when it answered */
} ekv_msg_type_t;

typedef enum {
    EKV_OP_PUT = 1,
    EKV_OP_DELETE = 2,
} ekv_op_t;

/* Flag bits of ekv_msg_t.flags. */
#define EKV_MSG_F_METADATA 0x01 /* metadata is present (it may be JSON null) */
#define EKV_MSG_F_FOUND    0x02 /* READ_REPLY: the key exists */
#define EKV_MSG_F_MORE     0x04 /* CATCHUP_REPLY: more changes follow in another reply */
#define EKV_MSG_F_SNAPSHOT 0x08 /* CATCHUP_REPLY: entries are a snapshot, not the log */
#define EKV_MSG_F_BUSY     0x10 /* CATCHUP_REPLY: refused for now (no entries): ask again later */

typedef struct {
    const char *ptr; /* bytes, not NUL-terminated for encoding; decoded ones carry a NUL */
    size_t len;      /* byte count */
} ekv_bytes_t;

typedef struct ekv_msg ekv_msg_t;

struct ekv_msg {
    ekv_msg_type_t type; /* which message */
    uint64_t req_id;     /* request/reply correlation (HELLO, WRITE, READ, CATCHUP, TIME and
                            the replies) */
    uint64_t seq;        /* change seq; latest seq in HELLO_REPLY/HEARTBEAT; from-seq in
                            CATCHUP; last applied in HELLO */
    int64_t time_us;     /* commit time (CHANGE, WRITE_REPLY, READ_REPLY: of the version);
                            sender's clock (HELLO_REPLY, HEARTBEAT, TIME_REPLY) */
    int32_t status;      /* reply status, HTTP-style (200, 404, 429, 503...) */
    uint8_t op;          /* ekv_op_t for CHANGE and WRITE */
    uint8_t flags;       /* EKV_MSG_F_* */
    int64_t expiration;  /* absolute expiration, epoch seconds; 0 = none */
    uint64_t epoch;      /* HELLO_REPLY, HEARTBEAT: identity of the coordinator's store; it
                            changes when the sequence may have gone backwards */
    ekv_bytes_t ns;      /* namespace id */
    ekv_bytes_t key;     /* key bytes (already decoded) */
    ekv_bytes_t value;   /* value bytes */
    ekv_bytes_t meta;    /* metadata as JSON text, valid when EKV_MSG_F_METADATA */
    ekv_bytes_t text;    /* HELLO: node name; replies: error message */
    ekv_msg_t *changes;  /* CATCHUP_REPLY: decoded CHANGE messages (owned when decoded) */
    size_t nchanges;     /* number of entries in changes */
    void *owned_;        /* decoder-owned storage; released by ekv_msg_fini() */
};

/* Encodes msg into a new buffer (*out, *outlen), which the caller frees with free().
 * Returns EKV_OK, EKV_ETYPE for an unknown type, or EKV_ETOOBIG past the body limits. */
int ekv_msg_encode(const ekv_msg_t *msg, char **out, size_t *outlen);

/* Encodes a CATCHUP_REPLY whose changes are already-encoded CHANGE bodies (as stored in the
 * coordinator's change log), without decoding them. Same results as ekv_msg_encode(). */
int ekv_msg_encode_catchup_raw(uint64_t req_id, uint64_t latest_seq, uint8_t flags,
                               ekv_bytes_t cursor, const ekv_bytes_t *bodies, size_t n, char **out,
                               size_t *outlen);
/* The same for a LIST_REPLY (same layout: req_id, latest_seq, flags, cursor, bodies). */
int ekv_msg_encode_list_reply_raw(uint64_t req_id, uint64_t latest_seq, uint8_t flags,
                                  ekv_bytes_t cursor, const ekv_bytes_t *bodies, size_t n,
                                  char **out, size_t *outlen);

/* Rewrites the commit time inside an encoded CHANGE body in place (the field has a fixed
 * width and offset), so the coordinator can stamp the moment the change became durable
 * after the synced write returns; the body's checksum is updated with it (in O(log len), no
 * pass over the value). EKV_EMALFORMED if body is not an encoded CHANGE. */
int ekv_msg_set_commit_time(char *body, size_t len, int64_t time_us);

/* Decodes one body of len bytes into *msg (zeroed first). On success the message owns copies
 * of all its bytes: release with ekv_msg_fini(). On failure *msg holds nothing to release
 * and the result is EKV_ETRUNCATED, EKV_EMALFORMED, EKV_EVERSION, EKV_ETYPE or EKV_ETOOBIG.
 * A CHANGE (alone or as a catch-up or list entry) whose CRC-32 does not match its bytes is
 * EKV_EMALFORMED (docs/PROTOCOL.md). */
int ekv_msg_decode(const void *buf, size_t len, ekv_msg_t *msg);

/* Decodes an encoded CHANGE without its value (value.len is 0): for listing keys with their
 * metadata and expiration without copying values. EKV_ETYPE when it is not a CHANGE. The
 * checksum is not verified (the coordinator reads its own store here). */
int ekv_msg_decode_change_head(const void *buf, size_t len, ekv_msg_t *m);

/* Releases what ekv_msg_decode() allocated; leaves *msg zeroed. Safe on a zeroed message. */
void ekv_msg_fini(ekv_msg_t *msg);

/* Returns the name of a message type ("CHANGE"...) or "UNKNOWN". */
const char *ekv_msg_type_name(int type);

#endif
