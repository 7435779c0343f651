/* msg_samples: the codec tests' shared samples and helpers (see msg_samples.h). */
#include "msg_samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ekv_err.h"
#include "ekv_test.h"

const char NS[33] = "0123456789abcdef0123456789abcdef";
const char KEY_BIN[8] = "k\0e\xffy/\x01";
const char VAL_BIN[26] = "\0\1\2 value \0 with NULs \xff\xfe\x80";
const char META[28] = "{\"owner\":\"ann\",\"n\":[1,2,3]}";

/* Name of the case being checked, printed if a check fails (see on_exit_report). */
const char *g_case = "";
int g_done;

void on_exit_report(void)
{
    if (!g_done)
        fprintf(stderr, "   (while checking case: %s)\n", g_case);
}

ekv_bytes_t bytes(const char *p, size_t n)
{
    ekv_bytes_t b = {p, n};
    return b;
}

/* ---- sample messages --------------------------------------------------------------------- */

ekv_msg_t change_put(void)
{
    ekv_msg_t m = {0};
    m.type = EKV_MSG_CHANGE;
    m.seq = 42;
    m.time_us = T_US;
    m.op = EKV_OP_PUT;
    m.flags = EKV_MSG_F_METADATA;
    m.expiration = 1700000600;
    m.ns = LIT(NS);
    m.key = LIT(KEY_BIN);
    m.value = LIT(VAL_BIN);
    m.meta = LIT(META);
    return m;
}

ekv_msg_t change_put_plain(void)
{
    ekv_msg_t m = change_put();
    m.seq = 43;
    m.flags = 0;
    m.expiration = 0;
    m.meta = bytes(NULL, 0);
    return m;
}

ekv_msg_t change_put_empty(void)
{
    ekv_msg_t m = change_put_plain();
    m.seq = 44;
    m.value = bytes("", 0);
    return m;
}

ekv_msg_t change_put_meta_null(void)
{
    ekv_msg_t m = change_put();
    m.seq = 45;
    m.meta = LIT("null");
    return m;
}

ekv_msg_t change_delete(void)
{
    ekv_msg_t m = {0};
    m.type = EKV_MSG_CHANGE;
    m.seq = 46;
    m.time_us = T_US + 1;
    m.op = EKV_OP_DELETE;
    m.ns = LIT(NS);
    m.key = LIT("gone");
    return m;
}

ekv_msg_t write_put(void)
{
    ekv_msg_t m = change_put();
    m.type = EKV_MSG_WRITE;
    m.seq = 0;
    m.time_us = 0;
    m.req_id = 9001;
    return m;
}

ekv_msg_t write_put_plain(void)
{
    ekv_msg_t m = write_put();
    m.req_id = 9002;
    m.flags = 0;
    m.meta = bytes(NULL, 0);
    m.value = bytes("", 0);
    return m;
}

ekv_msg_t write_delete(void)
{
    ekv_msg_t m = {0};
    m.type = EKV_MSG_WRITE;
    m.req_id = 9003;
    m.op = EKV_OP_DELETE;
    m.ns = LIT(NS);
    m.key = LIT(KEY_BIN);
    return m;
}

ekv_msg_t simple(ekv_msg_type_t type, uint64_t req_id, uint64_t seq, int64_t time_us)
{
    ekv_msg_t m = {0};
    m.type = type;
    m.req_id = req_id;
    m.seq = seq;
    m.time_us = time_us;
    return m;
}

/* Change lists of the catch-up replies; file scope so the samples can point at them. */
ekv_msg_t g_one[1];
ekv_msg_t g_three[3];

size_t samples(sample_t *s)
{
    size_t n = 0;
    ekv_msg_t m;

    m = simple(EKV_MSG_HELLO, 7, 123456789, 0);
    m.text = LIT("pop-fra");
    s[n++] = (sample_t){"HELLO", m};
    m = simple(EKV_MSG_HELLO, 0, 0, 0);
    m.text = bytes("", 0);
    s[n++] = (sample_t){"HELLO empty name", m};
    m = simple(EKV_MSG_HELLO_REPLY, 7, 99887766, T_US);
    m.epoch = 0x1234567890abcdefull;
    s[n++] = (sample_t){"HELLO_REPLY", m};
    m = simple(EKV_MSG_HELLO_REPLY, UINT64_MAX, UINT64_MAX, -1);
    m.epoch = UINT64_MAX;
    s[n++] = (sample_t){"HELLO_REPLY extremes", m};
    s[n++] = (sample_t){"CHANGE put with metadata", change_put()};
    s[n++] = (sample_t){"CHANGE put without metadata", change_put_plain()};
    s[n++] = (sample_t){"CHANGE put empty value", change_put_empty()};
    s[n++] = (sample_t){"CHANGE put metadata null", change_put_meta_null()};
    s[n++] = (sample_t){"CHANGE delete", change_delete()};
    s[n++] = (sample_t){"WRITE put with metadata", write_put()};
    s[n++] = (sample_t){"WRITE put empty value", write_put_plain()};
    s[n++] = (sample_t){"WRITE delete", write_delete()};
    m = simple(EKV_MSG_WRITE_REPLY, 9001, 42, T_US);
    m.status = 200;
    m.text = bytes("", 0);
    s[n++] = (sample_t){"WRITE_REPLY ok", m};
    m = simple(EKV_MSG_WRITE_REPLY, 9002, 0, 0);
    m.status = 429;
    m.text = LIT("Too Many Requests");
    s[n++] = (sample_t){"WRITE_REPLY 429", m};
    m = simple(EKV_MSG_READ, 31337, 0, 0);
    m.ns = LIT(NS);
    m.key = LIT(KEY_BIN);
    s[n++] = (sample_t){"READ", m};
    m = simple(EKV_MSG_READ_REPLY, 31337, 42, T_US);
    m.status = 200;
    m.flags = EKV_MSG_F_FOUND | EKV_MSG_F_METADATA;
    m.expiration = 1700000600;
    m.value = LIT(VAL_BIN);
    m.meta = LIT(META);
    m.text = bytes("", 0);
    s[n++] = (sample_t){"READ_REPLY found", m};
    m = simple(EKV_MSG_READ_REPLY, 31338, 0, 0);
    m.status = 404;
    m.text = LIT("Not Found");
    s[n++] = (sample_t){"READ_REPLY not found", m};
    s[n++] = (sample_t){"CATCHUP", simple(EKV_MSG_CATCHUP, 55, 1000, 0)};
    m = simple(EKV_MSG_CATCHUP, 58, 0, 0);
    m.key = LIT("snapshot-cursor\0/7");
    s[n++] = (sample_t){"CATCHUP with snapshot cursor", m};
    m = simple(EKV_MSG_CATCHUP_REPLY, 55, 1000, 0);
    s[n++] = (sample_t){"CATCHUP_REPLY 0 changes", m};
    g_one[0] = change_put();
    m = simple(EKV_MSG_CATCHUP_REPLY, 56, 42, 0);
    m.flags = EKV_MSG_F_MORE;
    m.changes = g_one;
    m.nchanges = 1;
    s[n++] = (sample_t){"CATCHUP_REPLY 1 change", m};
    g_three[0] = change_put_plain();
    g_three[1] = change_delete();
    g_three[2] = change_put_empty();
    m = simple(EKV_MSG_CATCHUP_REPLY, 57, 46, 0);
    m.flags = EKV_MSG_F_SNAPSHOT | EKV_MSG_F_MORE;
    m.key = LIT("next-page-cursor");
    m.changes = g_three;
    m.nchanges = 3;
    s[n++] = (sample_t){"CATCHUP_REPLY 3 changes with cursor", m};
    m = simple(EKV_MSG_LIST, 71, 1000, 0);
    m.ns = LIT("0123456789abcdef0123456789abcdef");
    m.key = LIT("user:");
    m.text = LIT("user:41");
    s[n++] = (sample_t){"LIST", m};
    m = simple(EKV_MSG_LIST_REPLY, 72, 46, 0);
    m.flags = EKV_MSG_F_MORE;
    m.key = LIT("user:99");
    m.changes = g_three;
    m.nchanges = 3;
    s[n++] = (sample_t){"LIST_REPLY 3 heads with cursor", m};
    m = simple(EKV_MSG_HEARTBEAT, 0, 4242, T_US);
    m.epoch = 77;
    s[n++] = (sample_t){"HEARTBEAT", m};
    s[n++] = (sample_t){"HEARTBEAT extremes", simple(EKV_MSG_HEARTBEAT, 0, UINT64_MAX, INT64_MAX)};
    s[n++] = (sample_t){"TIME", simple(EKV_MSG_TIME, 81, 0, 0)};
    s[n++] = (sample_t){"TIME_REPLY", simple(EKV_MSG_TIME_REPLY, 81, 0, T_US)};
    /* A coordinator clock before the epoch is still a clock (a skewed test host). */
    s[n++] =
        (sample_t){"TIME_REPLY extremes", simple(EKV_MSG_TIME_REPLY, UINT64_MAX, 0, INT64_MIN)};
    return n;
}

/* ---- comparing ----------------------------------------------------------------------------- */

/* The fields ekv_msg.h documents for each type: these must round-trip exactly. Any other
 * field must decode either equal to what was encoded or zero, never as something else. */
unsigned carried(int type)
{
    switch (type) {
    case EKV_MSG_HELLO:
        return C_REQ | C_SEQ | C_TEXT;
    case EKV_MSG_HELLO_REPLY:
        return C_REQ | C_SEQ | C_TIME | C_EPOCH;
    case EKV_MSG_CHANGE:
        return C_SEQ | C_TIME | C_OP | C_FLAGS | C_EXP | C_NS | C_KEY | C_VALUE | C_META;
    case EKV_MSG_WRITE:
        return C_REQ | C_OP | C_FLAGS | C_EXP | C_NS | C_KEY | C_VALUE | C_META;
    case EKV_MSG_WRITE_REPLY:
        return C_REQ | C_STATUS | C_SEQ | C_TIME | C_TEXT;
    case EKV_MSG_READ:
        return C_REQ | C_NS | C_KEY;
    case EKV_MSG_READ_REPLY:
        return C_REQ | C_STATUS | C_FLAGS | C_TIME | C_EXP | C_VALUE | C_META | C_TEXT;
    case EKV_MSG_CATCHUP:
        return C_REQ | C_SEQ | C_KEY; /* key: snapshot cursor */
    case EKV_MSG_CATCHUP_REPLY:
        return C_REQ | C_FLAGS | C_KEY; /* key: cursor of the next snapshot page */
    case EKV_MSG_HEARTBEAT:
        return C_SEQ | C_TIME | C_EPOCH;
    case EKV_MSG_LIST:
        return C_REQ | C_SEQ | C_NS | C_KEY | C_TEXT; /* seq: limit, key: prefix, text: after */
    case EKV_MSG_LIST_REPLY:
        return C_REQ | C_FLAGS | C_KEY; /* key: the last key returned */
    case EKV_MSG_TIME:
        return C_REQ;
    case EKV_MSG_TIME_REPLY:
        return C_REQ | C_TIME;
    }
    return 0;
}

void check_bytes(ekv_bytes_t want, ekv_bytes_t got, bool strict)
{
    if (strict) {
        CHECK(got.ptr != NULL); /* a carried string is always a usable C string */
        CHECK_MEM(got.ptr, got.len, want.ptr, want.len);
    } else if (got.len) {
        CHECK_MEM(got.ptr, got.len, want.ptr, want.len);
    }
    if (got.ptr)
        CHECK_EQ(got.ptr[got.len], '\0');
}

#define CHECK_FIELD_(bit, f)                                                                       \
    do {                                                                                           \
        if (c & (bit))                                                                             \
            CHECK_EQ(got->f, want->f);                                                             \
        else                                                                                       \
            CHECK(got->f == want->f || got->f == 0);                                               \
    } while (0)

void check_msg(const ekv_msg_t *want, const ekv_msg_t *got)
{
    unsigned c = carried(want->type);
    CHECK_EQ(got->type, want->type);
    CHECK_FIELD_(C_REQ, req_id);
    CHECK_FIELD_(C_SEQ, seq);
    CHECK_FIELD_(C_TIME, time_us);
    CHECK_FIELD_(C_STATUS, status);
    CHECK_FIELD_(C_OP, op);
    CHECK_FIELD_(C_FLAGS, flags);
    CHECK_FIELD_(C_EXP, expiration);
    CHECK_FIELD_(C_EPOCH, epoch);
    check_bytes(want->ns, got->ns, c & C_NS);
    check_bytes(want->key, got->key, c & C_KEY);
    check_bytes(want->value, got->value, c & C_VALUE);
    check_bytes(want->meta, got->meta, c & C_META);
    check_bytes(want->text, got->text, c & C_TEXT);
    if (want->type != EKV_MSG_CATCHUP_REPLY && want->type != EKV_MSG_LIST_REPLY) {
        CHECK_EQ(got->nchanges, 0);
        CHECK(got->changes == NULL);
        return;
    }
    CHECK_EQ(got->nchanges, want->nchanges);
    if (got->nchanges)
        CHECK(got->changes != NULL);
    for (size_t i = 0; i < want->nchanges; i++) {
        CHECK_EQ(got->changes[i].type, EKV_MSG_CHANGE);
        check_msg(&want->changes[i], &got->changes[i]);
    }
}

void check_zeroed(const ekv_msg_t *m)
{
    static const ekv_msg_t zero;
    CHECK(memcmp(m, &zero, sizeof zero) == 0);
}

/* ---- encode / decode helpers --------------------------------------------------------------- */

char *encode_ok(const ekv_msg_t *m, size_t *len)
{
    char *buf = NULL;
    *len = 0;
    CHECK_EQ(ekv_msg_encode(m, &buf, len), EKV_OK);
    CHECK(buf != NULL);
    CHECK_GT(*len, 0);
    return buf;
}

/* Decodes a private exact-size copy of buf (so any over-read hits a redzone) into a message
 * prefilled with garbage. On failure checks that nothing is left to release; on success
 * releases it. Returns the decoder's result. */
int try_decode(const void *buf, size_t len)
{
    char *copy = malloc(len ? len : 1);
    CHECK(copy != NULL);
    if (len)
        memcpy(copy, buf, len);
    ekv_msg_t m;
    memset(&m, 0xa5, sizeof m);
    int rc = ekv_msg_decode(copy, len, &m);
    free(copy);
    if (rc == EKV_OK) {
        ekv_msg_fini(&m);
        return rc;
    }
    CHECK_LT(rc, 0);
    CHECK(m.owned_ == NULL);
    CHECK(m.changes == NULL);
    CHECK_EQ(m.nchanges, 0);
    return rc;
}

/* Encodes m, decodes it, frees the encoding, then compares and releases. */
void roundtrip(const ekv_msg_t *m)
{
    size_t len;
    char *buf = encode_ok(m, &len);
    ekv_msg_t got;
    memset(&got, 0xa5, sizeof got);
    CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
    free(buf); /* the decoded message must own copies of its bytes */
    check_msg(m, &got);
    ekv_msg_fini(&got);
    check_zeroed(&got);
}

/* ---- msgpack tree surgery ------------------------------------------------------------------ */

/* A top-level CHANGE of 12 elements or HEARTBEAT of 6 (the last is its checksum). */
static bool is_sealed(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 2 ||
        o->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    uint64_t type = o->via.array.ptr[1].via.u64;
    return (type == EKV_MSG_CHANGE && o->via.array.size == 12) ||
           (type == EKV_MSG_HEARTBEAT && o->via.array.size == 6);
}

void pack_node(msgpack_packer *pk, const msgpack_object *o, subst_t *s)
{
    int idx = s->counter++;
    if (idx == s->target) {
        s->emit(pk, o, s->arg);
        return;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        CHECK_EQ(msgpack_pack_object(pk, *o), 0);
        return;
    }
    msgpack_pack_array(pk, o->via.array.size);
    uint32_t n = o->via.array.size;
    int seal = idx == 0 && is_sealed(o); /* the checksum is made again, not copied */
    for (uint32_t i = 0; i < n - (seal ? 1 : 0); i++)
        pack_node(pk, &o->via.array.ptr[i], s);
    if (seal && s->counter++ == s->target) {
        s->emit(pk, &o->via.array.ptr[n - 1], s->arg);
    } else if (seal) {
        const msgpack_sbuffer *sb = pk->data;
        msgpack_pack_fix_uint32(pk, (uint32_t)crc32_z(0, (const Bytef *)sb->data, sb->size));
    }
}

void tree_open(tree_t *t, const ekv_msg_t *m)
{
    t->buf = encode_ok(m, &t->len);
    msgpack_unpacked_init(&t->up);
    size_t off = 0;
    CHECK_EQ(msgpack_unpack_next(&t->up, t->buf, t->len, &off), MSGPACK_UNPACK_SUCCESS);
    CHECK_EQ(off, t->len);
    CHECK_EQ(t->up.data.type, MSGPACK_OBJECT_ARRAY);
    /* Count the nodes, and check that an unmutated repack still decodes. */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    subst_t s = {-1, 0, NULL, NULL};
    pack_node(&pk, &t->up.data, &s);
    t->nodes = s.counter;
    CHECK_EQ(try_decode(sb.data, sb.size), EKV_OK);
    msgpack_sbuffer_destroy(&sb);
}

void tree_close(tree_t *t)
{
    msgpack_unpacked_destroy(&t->up);
    free(t->buf);
}

const msgpack_object *tree_node(const msgpack_object *o, int target, int *counter)
{
    if ((*counter)++ == target)
        return o;
    if (o->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            const msgpack_object *r = tree_node(&o->via.array.ptr[i], target, counter);
            if (r)
                return r;
        }
    return NULL;
}

/* Packs the tree with node `target` replaced; returns the decoder's result. */
int decode_mutant(const tree_t *t, int target, emit_fn emit, const void *arg)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    subst_t s = {target, 0, emit, arg};
    pack_node(&pk, &t->up.data, &s);
    int rc = try_decode(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

void emit_uint(msgpack_packer *pk, const msgpack_object *o, const void *arg)
{
    (void)o;
    msgpack_pack_uint64(pk, *(const uint64_t *)arg);
}

void emit_int(msgpack_packer *pk, const msgpack_object *o, const void *arg)
{
    (void)o;
    msgpack_pack_int64(pk, *(const int64_t *)arg);
}

void emit_str(msgpack_packer *pk, const msgpack_object *o, const void *arg)
{
    (void)o;
    const char *s = arg;
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

void emit_bin(msgpack_packer *pk, const msgpack_object *o, const void *arg)
{
    (void)o;
    const ekv_bytes_t *b = arg;
    msgpack_pack_bin(pk, b->len);
    if (b->len)
        msgpack_pack_bin_body(pk, b->ptr, b->len);
}

void emit_float(msgpack_packer *pk, const msgpack_object *o, const void *arg)
{
    (void)o, (void)arg;
    msgpack_pack_double(pk, 1.5);
}

void emit_map(msgpack_packer *pk, const msgpack_object *o, const void *arg)
{
    (void)o, (void)arg;
    msgpack_pack_map(pk, 0);
}

void emit_true(msgpack_packer *pk, const msgpack_object *o, const void *arg)
{
    (void)o, (void)arg;
    msgpack_pack_true(pk);
}

bool is_int(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

bool is_bytes(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_BIN || o->type == MSGPACK_OBJECT_STR;
}

ekv_bytes_t obj_bytes(const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_BIN)
        return bytes(o->via.bin.ptr, o->via.bin.size);
    return bytes(o->via.str.ptr, o->via.str.size);
}

/* Index of the first byte-string node equal to want, or -1. */
int find_bytes_node(const tree_t *t, ekv_bytes_t want)
{
    for (int i = 1; i < t->nodes; i++) {
        int counter = 0;
        const msgpack_object *o = tree_node(&t->up.data, i, &counter);
        if (!is_bytes(o))
            continue;
        ekv_bytes_t b = obj_bytes(o);
        if (b.len == want.len && (b.len == 0 || memcmp(b.ptr, want.ptr, b.len) == 0))
            return i;
    }
    return -1;
}

/* Packs the top-level array with its last element dropped, or with `extra` appended. */
int decode_resized(const tree_t *t, bool drop_last, emit_fn extra, const void *arg)
{
    const msgpack_object_array *a = &t->up.data.via.array;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    uint32_t keep = drop_last ? a->size - 1 : a->size;
    msgpack_pack_array(&pk, drop_last ? keep : keep + 1);
    for (uint32_t i = 0; i < keep; i++)
        msgpack_pack_object(&pk, a->ptr[i]);
    if (!drop_last)
        extra(&pk, NULL, arg);
    int rc = try_decode(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

void fill_pattern(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)((i * 31 + seed) % 251); /* includes NULs and high bytes */
}
