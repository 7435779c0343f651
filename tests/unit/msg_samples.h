/* msg_samples: what the codec's unit tests share (msg_test.c, msg_change_test.c): sample
 * messages of every type, a field-by-field comparison that knows which fields each type
 * carries, encode and decode helpers that check ownership, and msgpack tree surgery that
 * builds malformed bodies from valid ones (msg_test.c's header says how). */
#ifndef EKV_MSG_SAMPLES_H
#define EKV_MSG_SAMPLES_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ekv_msg.h"

#define T_US 1700000000123456LL /* a commit time, microseconds */
#define MIB  (1024u * 1024u)

#define LIT(s) bytes((s), sizeof(s) - 1)

enum { MAX_SAMPLES = 32 };

typedef struct {
    const char *name;
    ekv_msg_t msg;
} sample_t;

enum {
    C_REQ = 1 << 0,
    C_SEQ = 1 << 1,
    C_TIME = 1 << 2,
    C_STATUS = 1 << 3,
    C_OP = 1 << 4,
    C_FLAGS = 1 << 5,
    C_EXP = 1 << 6,
    C_NS = 1 << 7,
    C_KEY = 1 << 8,
    C_VALUE = 1 << 9,
    C_META = 1 << 10,
    C_TEXT = 1 << 11,
    C_EPOCH = 1 << 12,
};

/* Replaces one node of a tree while packing it. Nodes are numbered in pre-order, the root
 * is 0; maps count as one node. */
typedef void (*emit_fn)(msgpack_packer *pk, const msgpack_object *orig, const void *arg);

typedef struct {
    int target;      /* pre-order index of the node to replace; -1 for none */
    int counter;     /* nodes visited so far */
    emit_fn emit;    /* writes the replacement */
    const void *arg; /* for emit */
} subst_t;

/* A valid encoding, unpacked. The objects point into buf, which must outlive them. */
typedef struct {
    char *buf;
    size_t len;
    msgpack_unpacked up;
    int nodes; /* pre-order node count */
} tree_t;

/* The sample byte strings: binary with NULs, and metadata JSON. */
extern const char NS[33];
extern const char KEY_BIN[8];
extern const char VAL_BIN[26];
extern const char META[28];

/* Name of the case being checked, printed by on_exit_report if a check fails before g_done. */
extern const char *g_case;
extern int g_done;
void on_exit_report(void);

ekv_bytes_t bytes(const char *p, size_t n);
ekv_msg_t change_put(void);
ekv_msg_t change_put_plain(void);
ekv_msg_t change_put_empty(void);
ekv_msg_t change_put_meta_null(void);
ekv_msg_t change_delete(void);
ekv_msg_t write_put(void);
ekv_msg_t write_put_plain(void);
ekv_msg_t write_delete(void);
ekv_msg_t simple(ekv_msg_type_t type, uint64_t req_id, uint64_t seq, int64_t time_us);
size_t samples(sample_t *s);
unsigned carried(int type);
void check_bytes(ekv_bytes_t want, ekv_bytes_t got, bool strict);
void check_msg(const ekv_msg_t *want, const ekv_msg_t *got);
void check_zeroed(const ekv_msg_t *m);
char *encode_ok(const ekv_msg_t *m, size_t *len);
int try_decode(const void *buf, size_t len);
void roundtrip(const ekv_msg_t *m);
/* Entries of the catch-up reply samples. */
extern ekv_msg_t g_one[1];
extern ekv_msg_t g_three[3];
/* Packs o into pk (which writes to a msgpack_sbuffer) with node s->target replaced by
 * s->emit. The checksum of a top-level CHANGE or HEARTBEAT is computed again over what was packed,
 * so a mutated field is refused for itself, not for its checksum (unless the checksum is the node
 * replaced). tree_node: the node of o with pre-order index target, or NULL. */
void pack_node(msgpack_packer *pk, const msgpack_object *o, subst_t *s);
const msgpack_object *tree_node(const msgpack_object *o, int target, int *counter);
void tree_open(tree_t *t, const ekv_msg_t *m);
void tree_close(tree_t *t);
int decode_mutant(const tree_t *t, int target, emit_fn emit, const void *arg);
void emit_uint(msgpack_packer *pk, const msgpack_object *o, const void *arg);
void emit_int(msgpack_packer *pk, const msgpack_object *o, const void *arg);
void emit_str(msgpack_packer *pk, const msgpack_object *o, const void *arg);
void emit_bin(msgpack_packer *pk, const msgpack_object *o, const void *arg);
void emit_float(msgpack_packer *pk, const msgpack_object *o, const void *arg);
void emit_map(msgpack_packer *pk, const msgpack_object *o, const void *arg);
void emit_true(msgpack_packer *pk, const msgpack_object *o, const void *arg);
bool is_int(const msgpack_object *o);
bool is_bytes(const msgpack_object *o);
ekv_bytes_t obj_bytes(const msgpack_object *o);
int find_bytes_node(const tree_t *t, ekv_bytes_t want);
int decode_resized(const tree_t *t, bool drop_last, emit_fn extra, const void *arg);
void fill_pattern(char *p, size_t n, unsigned seed);

#endif
