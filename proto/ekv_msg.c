/* ekv_msg: msgpack encoding and bounds-checked decoding of the wire messages.
 *
 * Layout of each body, one msgpack array (docs/PROTOCOL.md is the reference):
 *   HELLO          [v, t, req_id, last_seq, name]
 *   HELLO_REPLY    [v, t, req_id, latest_seq, time_us, epoch]
 *   CHANGE         [v, t, commit_us, seq, op, ns, key, expiration, flags, meta, value, crc]
 *                  (commit_us always int64 in 9 bytes at offset 3: see ekv_msg_set_commit_time;
 *                  crc always uint32 in the last 5 bytes: the CRC-32 of every byte before it)
 *   WRITE          [v, t, req_id, op, ns, key, expiration, flags, meta, value]
 *   WRITE_REPLY    [v, t, req_id, status, seq, commit_us, message]
 *   READ           [v, t, req_id, ns, key]
 *   READ_REPLY     [v, t, req_id, status, flags, seq, commit_us, expiration, meta, value,
 *                   message]
 *   CATCHUP        [v, t, req_id, from_seq, cursor]
 *   CATCHUP_REPLY  [v, t, req_id, latest_seq, flags, cursor, [CHANGE body as bin, ...]]
 *   HEARTBEAT      [v, t, latest_seq, time_us, epoch, crc]
 *   LIST           [v, t, req_id, limit, ns, prefix, start_after]
 *   LIST_REPLY     [v, t, req_id, latest_seq, flags, last_key, [CHANGE head as bin, ...]]
 *   TIME           [v, t, req_id]
 *   TIME_REPLY     [v, t, req_id, time_us]
 * Byte strings are msgpack bin (str is accepted too). A catch-up reply embeds each change as
 * its own encoded body, so the coordinator can send change-log entries verbatim.
 *
 * The checksum of a CHANGE: a lossy transport (PGM over
 * multicast, whose receiver in libzmq 4.3.4 can splice the bytes of two changes into one frame
 * after a loss it gave up on) may hand over a body that is well-formed msgpack but not one the
 * coordinator sent. CRC-32 (zlib's) over the whole body before the field makes such a body
 * malformed, so it is dropped and its sequence caught up as a gap. It covers the commit time too:
 * stamping the time in place updates the CRC by zlib's crc32_combine in O(log n), without a pass
 * over the value, and a garbled stamp is caught like any other byte. A HEARTBEAT, also published,
 * carries one too: spliced, it could announce another epoch (the PoP would drop its cache and start
 * over). Every decode of a CHANGE or HEARTBEAT checks it, a catch-up reply's entries included (they
 * are stored bodies, checksum and all), except ekv_msg_decode_change_head, which reads the
 * coordinator's own store and must not pay a pass over a value it leaves out.
 *
 * Decoding runs in two steps. A bounds walk checks the structure first: every container
 * count must fit in the bytes that remain, so a forged header cannot make msgpack-c reserve
 * gigabytes. Then msgpack-c unpacks into a zone, and every field is checked for type and
 * copied into one allocation owned by the message (msgpack objects die with their zone). */
#include "ekv_msg.h"

#include <msgpack.h>
#include <pthread.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_mem.h"

/* Valid bodies are an array of at most 12 fields, holding at most one array (of change
 * bodies); anything deeper or wider is refused before msgpack-c allocates for it. */
#define MAX_DEPTH      2
#define MAX_TOP_FIELDS 16

/* ---- encoding ---------------------------------------------------------------------------- */

static void put_bytes(msgpack_packer *pk, ekv_bytes_t b)
{
    msgpack_pack_bin(pk, b.len);
    if (b.len)
        msgpack_pack_bin_body(pk, b.ptr, b.len);
}

static int field_count(int type)
{
    switch (type) {
    case EKV_MSG_HELLO:
        return 3;
    case EKV_MSG_HELLO_REPLY:
        return 4;
    case EKV_MSG_CHANGE:
        return 10; /* the last is the checksum, packed by ekv_msg_encode */
    case EKV_MSG_WRITE:
        return 8;
    case EKV_MSG_WRITE_REPLY:
        return 5;
    case EKV_MSG_READ:
        return 3;
    case EKV_MSG_READ_REPLY:
        return 9;
    case EKV_MSG_CATCHUP:
        return 3;
    case EKV_MSG_CATCHUP_REPLY:
        return 5;
    case EKV_MSG_HEARTBEAT:
        return 4; /* the last is the checksum, as CHANGE's */
    case EKV_MSG_LIST:
        return 5;
    case EKV_MSG_LIST_REPLY:
        return 5;
    case EKV_MSG_TIME:
        return 1; /* request and reply, no checksum: DEALER/ROUTER is TCP, never spliced */
    case EKV_MSG_TIME_REPLY:
        return 2;
    }
    return -1;
}

static void pack_fields(msgpack_packer *pk, const ekv_msg_t *m)
{
    switch (m->type) {
    case EKV_MSG_HELLO:
        msgpack_pack_uint64(pk, m->req_id);
        msgpack_pack_uint64(pk, m->seq);
        put_bytes(pk, m->text);
        break;
    case EKV_MSG_HELLO_REPLY:
        msgpack_pack_uint64(pk, m->req_id);
        msgpack_pack_uint64(pk, m->seq);
        msgpack_pack_int64(pk, m->time_us);
        msgpack_pack_uint64(pk, m->epoch);
        break;
    case EKV_MSG_CHANGE:
        msgpack_pack_fix_int64(pk, m->time_us);
        msgpack_pack_uint64(pk, m->seq);
        msgpack_pack_uint8(pk, m->op);
        put_bytes(pk, m->ns);
        put_bytes(pk, m->key);
        msgpack_pack_int64(pk, m->expiration);
        msgpack_pack_uint8(pk, m->flags);
        put_bytes(pk, m->meta);
        put_bytes(pk, m->value);
        break; /* the checksum follows, over what is packed so far */
    case EKV_MSG_WRITE:
        msgpack_pack_uint64(pk, m->req_id);
        msgpack_pack_uint8(pk, m->op);
        put_bytes(pk, m->ns);
        put_bytes(pk, m->key);
        msgpack_pack_int64(pk, m->expiration);
        msgpack_pack_uint8(pk, m->flags);
        put_bytes(pk, m->meta);
        put_bytes(pk, m->value);
        break;
    case EKV_MSG_WRITE_REPLY:
        msgpack_pack_uint64(pk, m->req_id);
        msgpack_pack_int32(pk, m->status);
        msgpack_pack_uint64(pk, m->seq);
        msgpack_pack_int64(pk, m->time_us);
        put_bytes(pk, m->text);
        break;
    case EKV_MSG_READ:
        msgpack_pack_uint64(pk, m->req_id);
        put_bytes(pk, m->ns);
        put_bytes(pk, m->key);
        break;
    case EKV_MSG_READ_REPLY:
        msgpack_pack_uint64(pk, m->req_id);
        msgpack_pack_int32(pk, m->status);
        msgpack_pack_uint8(pk, m->flags);
        msgpack_pack_uint64(pk, m->seq);
        msgpack_pack_int64(pk, m->time_us);
        msgpack_pack_int64(pk, m->expiration);
        put_bytes(pk, m->meta);
        put_bytes(pk, m->value);
        put_bytes(pk, m->text);
        break;
    case EKV_MSG_CATCHUP:
        msgpack_pack_uint64(pk, m->req_id);
        msgpack_pack_uint64(pk, m->seq);
        put_bytes(pk, m->key);
        break;
    case EKV_MSG_HEARTBEAT:
        msgpack_pack_uint64(pk, m->seq);
        msgpack_pack_int64(pk, m->time_us);
        msgpack_pack_uint64(pk, m->epoch);
        break;
    case EKV_MSG_LIST:
        msgpack_pack_uint64(pk, m->req_id);
        msgpack_pack_uint64(pk, m->seq);
        put_bytes(pk, m->ns);
        put_bytes(pk, m->key);
        put_bytes(pk, m->text);
        break;
    case EKV_MSG_TIME:
        msgpack_pack_uint64(pk, m->req_id);
        break;
    case EKV_MSG_TIME_REPLY:
        msgpack_pack_uint64(pk, m->req_id);
        msgpack_pack_int64(pk, m->time_us);
        break;
    default:
        break;
    }
}

static int finish(msgpack_sbuffer *sb, size_t limit, char **out, size_t *outlen)
{
    if (sb->size > limit) {
        msgpack_sbuffer_destroy(sb);
        return EKV_ETOOBIG;
    }
    *out = sb->data ? sb->data : ekv_malloc(1);
    *outlen = sb->size;
    return EKV_OK;
}

static int encode_page_raw(int type, uint64_t req_id, uint64_t latest_seq, uint8_t flags,
                           ekv_bytes_t cursor, const ekv_bytes_t *bodies, size_t n, char **out,
                           size_t *outlen)
{
    if (n > EKV_MSG_MAX_CHANGES)
        return EKV_ETOOBIG;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_uint8(&pk, EKV_MSG_VERSION);
    msgpack_pack_uint8(&pk, (uint8_t)type);
    msgpack_pack_uint64(&pk, req_id);
    msgpack_pack_uint64(&pk, latest_seq);
    msgpack_pack_uint8(&pk, flags);
    put_bytes(&pk, cursor);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++)
        put_bytes(&pk, bodies[i]);
    return finish(&sb, EKV_MSG_MAX_BATCH_BODY, out, outlen);
}

int ekv_msg_encode_catchup_raw(uint64_t req_id, uint64_t latest_seq, uint8_t flags,
                               ekv_bytes_t cursor, const ekv_bytes_t *bodies, size_t n, char **out,
                               size_t *outlen)
{
    return encode_page_raw(EKV_MSG_CATCHUP_REPLY, req_id, latest_seq, flags, cursor, bodies, n, out,
                           outlen);
}

int ekv_msg_encode_list_reply_raw(uint64_t req_id, uint64_t latest_seq, uint8_t flags,
                                  ekv_bytes_t cursor, const ekv_bytes_t *bodies, size_t n,
                                  char **out, size_t *outlen)
{
    return encode_page_raw(EKV_MSG_LIST_REPLY, req_id, latest_seq, flags, cursor, bodies, n, out,
                           outlen);
}

/* Encodes a CATCHUP_REPLY or LIST_REPLY from decoded CHANGE messages. */
static int encode_catchup(const ekv_msg_t *m, char **out, size_t *outlen)
{
    if (m->nchanges > EKV_MSG_MAX_CHANGES)
        return EKV_ETOOBIG;
    ekv_bytes_t *bodies = ekv_calloc(m->nchanges, sizeof *bodies);
    int rc = EKV_OK;
    size_t done = 0;
    for (; done < m->nchanges && rc == EKV_OK; done++) {
        if (m->changes[done].type != EKV_MSG_CHANGE) {
            rc = EKV_ETYPE;
            break;
        }
        char *b;
        rc = ekv_msg_encode(&m->changes[done], &b, &bodies[done].len);
        bodies[done].ptr = b;
    }
    if (rc == EKV_OK)
        rc = encode_page_raw(m->type, m->req_id, m->seq, m->flags, m->key, bodies, m->nchanges, out,
                             outlen);
    for (size_t i = 0; i < done; i++)
        free((void *)bodies[i].ptr);
    free(bodies);
    return rc;
}

int ekv_msg_encode(const ekv_msg_t *m, char **out, size_t *outlen)
{
    if (m->type == EKV_MSG_CATCHUP_REPLY || m->type == EKV_MSG_LIST_REPLY)
        return encode_catchup(m, out, outlen);
    int n = field_count(m->type);
    if (n < 0)
        return EKV_ETYPE;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, (size_t)n + 2);
    msgpack_pack_uint8(&pk, EKV_MSG_VERSION);
    msgpack_pack_uint8(&pk, (uint8_t)m->type);
    pack_fields(&pk, m);
    if (m->type == EKV_MSG_CHANGE || m->type == EKV_MSG_HEARTBEAT)
        msgpack_pack_fix_uint32(&pk, (uint32_t)crc32_z(0, (const Bytef *)sb.data, sb.size));
    return finish(&sb, EKV_MSG_MAX_BODY, out, outlen);
}

/* A CHANGE body starts with a fixarray header, the version, the type, then 0xd3 and the
 * commit time as 8 big-endian bytes; it ends with 0xce and the checksum as 4. */
#define COMMIT_OFFSET 3
#define CHANGE_HEAD   0x9c /* fixarray of 12 */
#define SEAL_LEN      5

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* EKV_OK when a decoded CHANGE or HEARTBEAT body ends in the checksum of the rest. */
static int check_seal(const uint8_t *p, size_t len)
{
    if (len < 3 + SEAL_LEN || p[len - SEAL_LEN] != 0xce)
        return EKV_EMALFORMED;
    uLong crc = crc32_z(0, p, len - SEAL_LEN);
    return crc == get_be32(p + len - 4) ? EKV_OK : EKV_EMALFORMED;
}

int ekv_msg_set_commit_time(char *body, size_t len, int64_t time_us)
{
    uint8_t *p = (uint8_t *)body;
    size_t head = COMMIT_OFFSET + 9; /* through the commit time */
    if (len < head + SEAL_LEN || p[0] != CHANGE_HEAD || p[1] != EKV_MSG_VERSION ||
        p[2] != EKV_MSG_CHANGE || p[COMMIT_OFFSET] != 0xd3 || p[len - SEAL_LEN] != 0xce)
        return EKV_EMALFORMED;
    /* CRC-32 is linear: the CRC of a body changes by the change of its head's CRC, carried
     * through the bytes after the head (crc32_combine with a zero second CRC). */
    uLong before = crc32_z(0, p, head);
    uint64_t v = (uint64_t)time_us;
    for (int i = 8; i >= 1; i--, v >>= 8)
        p[COMMIT_OFFSET + i] = (uint8_t)(v & 0xff);
    uLong delta = before ^ crc32_z(0, p, head);
    uint8_t *seal = p + len - 4;
    uint32_t crc =
        get_be32(seal) ^ (uint32_t)crc32_combine(delta, 0, (z_off_t)(len - SEAL_LEN - head));
    for (int i = 3; i >= 0; i--, crc >>= 8)
        seal[i] = (uint8_t)(crc & 0xff);
    return EKV_OK;
}

/* ---- bounds walk ------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p; /* next byte */
    const uint8_t *end;
} walk_t;

static int need(walk_t *w, size_t n)
{
    return (size_t)(w->end - w->p) >= n ? EKV_OK : EKV_ETRUNCATED;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads an n-byte big-endian length after the tag byte, then skips that many payload bytes
 * (plus `extra`, the ext type byte). */
static int skip_sized(walk_t *w, int n, size_t extra)
{
    int rc = need(w, (size_t)n);
    if (rc)
        return rc;
    uint64_t len = be(w->p, n);
    w->p += n;
    if ((uint64_t)(w->end - w->p) < len + extra)
        return EKV_ETRUNCATED;
    w->p += len + extra;
    return EKV_OK;
}

static int walk_value(walk_t *w, int depth);

static int walk_items(walk_t *w, uint64_t count, int depth)
{
    if (depth >= MAX_DEPTH || (depth == 0 && count > MAX_TOP_FIELDS))
        return EKV_EMALFORMED;
    if (count > EKV_MSG_MAX_CHANGES)
        return EKV_ETOOBIG;
    /* Every element takes at least one byte: a count beyond the rest is a lie. */
    if (count > (uint64_t)(w->end - w->p))
        return EKV_ETRUNCATED;
    for (uint64_t i = 0; i < count; i++) {
        int rc = walk_value(w, depth + 1);
        if (rc)
            return rc;
    }
    return EKV_OK;
}

static int walk_counted(walk_t *w, int n, int depth)
{
    int rc = need(w, (size_t)n);
    if (rc)
        return rc;
    uint64_t count = be(w->p, n);
    w->p += n;
    return walk_items(w, count, depth);
}

static int walk_value(walk_t *w, int depth)
{
    int rc = need(w, 1);
    if (rc)
        return rc;
    uint8_t t = *w->p++;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
        return EKV_OK;
    if (t >= 0x80 && t <= 0x8f)
        return EKV_EMALFORMED; /* no message has a map */
    if (t >= 0x90 && t <= 0x9f)
        return walk_items(w, t & 0x0f, depth);
    if (t >= 0xa0 && t <= 0xbf)
        return need(w, t & 0x1f) ? EKV_ETRUNCATED : (w->p += t & 0x1f, EKV_OK);
    switch (t) {
    case 0xc4:
    case 0xd9:
        return skip_sized(w, 1, 0);
    case 0xc5:
    case 0xda:
        return skip_sized(w, 2, 0);
    case 0xc6:
    case 0xdb:
        return skip_sized(w, 4, 0);
    case 0xc7:
        return skip_sized(w, 1, 1);
    case 0xc8:
        return skip_sized(w, 2, 1);
    case 0xc9:
        return skip_sized(w, 4, 1);
    case 0xca:
    case 0xce:
    case 0xd2:
        return need(w, 4) ? EKV_ETRUNCATED : (w->p += 4, EKV_OK);
    case 0xcb:
    case 0xcf:
    case 0xd3:
        return need(w, 8) ? EKV_ETRUNCATED : (w->p += 8, EKV_OK);
    case 0xcc:
    case 0xd0:
        return need(w, 1) ? EKV_ETRUNCATED : (w->p += 1, EKV_OK);
    case 0xcd:
    case 0xd1:
        return need(w, 2) ? EKV_ETRUNCATED : (w->p += 2, EKV_OK);
    case 0xd4:
        return need(w, 2) ? EKV_ETRUNCATED : (w->p += 2, EKV_OK);
    case 0xd5:
        return need(w, 3) ? EKV_ETRUNCATED : (w->p += 3, EKV_OK);
    case 0xd6:
        return need(w, 5) ? EKV_ETRUNCATED : (w->p += 5, EKV_OK);
    case 0xd7:
        return need(w, 9) ? EKV_ETRUNCATED : (w->p += 9, EKV_OK);
    case 0xd8:
        return need(w, 17) ? EKV_ETRUNCATED : (w->p += 17, EKV_OK);
    case 0xdc:
        return walk_counted(w, 2, depth);
    case 0xdd:
        return walk_counted(w, 4, depth);
    case 0xde:
    case 0xdf:
        return EKV_EMALFORMED; /* no message has a map */
    }
    return EKV_EMALFORMED; /* 0xc1 is never used */
}

/* ---- field extraction -------------------------------------------------------------------- */

typedef struct {
    const msgpack_object *o; /* the elements of the top-level array */
    uint32_t n;              /* element count */
    uint32_t i;              /* next element */
    char *arena;             /* where byte strings are copied */
    size_t used;             /* bytes of arena used */
    int rc;                  /* first error, sticky */
    int skip_value;          /* leave the value out (listing needs only the head) */
} rd_t;

static const msgpack_object *next(rd_t *r)
{
    if (r->rc == EKV_OK && r->i >= r->n)
        r->rc = EKV_EMALFORMED;
    return r->rc == EKV_OK ? &r->o[r->i++] : NULL;
}

static uint64_t rd_u64(rd_t *r)
{
    const msgpack_object *o = next(r);
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        r->rc = EKV_ETYPE;
        return 0;
    }
    return o->via.u64;
}

static int64_t rd_i64(rd_t *r)
{
    const msgpack_object *o = next(r);
    if (!o)
        return 0;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return o->via.i64;
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > INT64_MAX) {
        r->rc = EKV_ETYPE;
        return 0;
    }
    return (int64_t)o->via.u64;
}

static uint64_t rd_small(rd_t *r, uint64_t max)
{
    uint64_t v = rd_u64(r);
    if (r->rc == EKV_OK && v > max)
        r->rc = EKV_ETYPE;
    return v;
}

static ekv_bytes_t rd_bytes(rd_t *r);

/* The value is the last field of CHANGE: with skip_value it is type-checked, not copied. */
static ekv_bytes_t rd_value(rd_t *r)
{
    if (!r->skip_value)
        return rd_bytes(r);
    const msgpack_object *o = next(r);
    if (o && o->type != MSGPACK_OBJECT_BIN && o->type != MSGPACK_OBJECT_STR)
        r->rc = EKV_ETYPE;
    return (ekv_bytes_t){"", 0};
}

static ekv_bytes_t rd_bytes(rd_t *r)
{
    ekv_bytes_t b = {"", 0};
    const msgpack_object *o = next(r);
    if (!o)
        return b;
    const char *src;
    size_t len;
    if (o->type == MSGPACK_OBJECT_BIN) {
        src = o->via.bin.ptr;
        len = o->via.bin.size;
    } else if (o->type == MSGPACK_OBJECT_STR) {
        src = o->via.str.ptr;
        len = o->via.str.size;
    } else {
        r->rc = EKV_ETYPE;
        return b;
    }
    char *dst = r->arena + r->used;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
    r->used += len + 1;
    b.ptr = dst;
    b.len = len;
    return b;
}

static void rd_fields(rd_t *r, ekv_msg_t *m)
{
    switch (m->type) {
    case EKV_MSG_HELLO:
        m->req_id = rd_u64(r);
        m->seq = rd_u64(r);
        m->text = rd_bytes(r);
        break;
    case EKV_MSG_HELLO_REPLY:
        m->req_id = rd_u64(r);
        m->seq = rd_u64(r);
        m->time_us = rd_i64(r);
        m->epoch = rd_u64(r);
        break;
    case EKV_MSG_CHANGE:
        m->time_us = rd_i64(r);
        m->seq = rd_u64(r);
        m->op = (uint8_t)rd_small(r, EKV_OP_DELETE);
        m->ns = rd_bytes(r);
        m->key = rd_bytes(r);
        m->expiration = rd_i64(r);
        m->flags = (uint8_t)rd_small(r, 0xff);
        m->meta = rd_bytes(r);
        m->value = rd_value(r);
        rd_small(r, UINT32_MAX); /* the checksum, verified on the bytes (check_seal) */
        break;
    case EKV_MSG_WRITE:
        m->req_id = rd_u64(r);
        m->op = (uint8_t)rd_small(r, EKV_OP_DELETE);
        m->ns = rd_bytes(r);
        m->key = rd_bytes(r);
        m->expiration = rd_i64(r);
        m->flags = (uint8_t)rd_small(r, 0xff);
        m->meta = rd_bytes(r);
        m->value = rd_bytes(r);
        break;
    case EKV_MSG_WRITE_REPLY:
        m->req_id = rd_u64(r);
        m->status = (int32_t)rd_small(r, 999);
        m->seq = rd_u64(r);
        m->time_us = rd_i64(r);
        m->text = rd_bytes(r);
        break;
    case EKV_MSG_READ:
        m->req_id = rd_u64(r);
        m->ns = rd_bytes(r);
        m->key = rd_bytes(r);
        break;
    case EKV_MSG_READ_REPLY:
        m->req_id = rd_u64(r);
        m->status = (int32_t)rd_small(r, 999);
        m->flags = (uint8_t)rd_small(r, 0xff);
        m->seq = rd_u64(r);
        m->time_us = rd_i64(r);
        m->expiration = rd_i64(r);
        m->meta = rd_bytes(r);
        m->value = rd_bytes(r);
        m->text = rd_bytes(r);
        break;
    case EKV_MSG_CATCHUP:
        m->req_id = rd_u64(r);
        m->seq = rd_u64(r);
        m->key = rd_bytes(r);
        break;
    case EKV_MSG_HEARTBEAT:
        m->seq = rd_u64(r);
        m->time_us = rd_i64(r);
        m->epoch = rd_u64(r);
        rd_small(r, UINT32_MAX); /* the checksum (check_seal) */
        break;
    case EKV_MSG_LIST:
        m->req_id = rd_u64(r);
        m->seq = rd_u64(r);
        m->ns = rd_bytes(r);
        m->key = rd_bytes(r);
        m->text = rd_bytes(r);
        break;
    case EKV_MSG_TIME:
        m->req_id = rd_u64(r);
        break;
    case EKV_MSG_TIME_REPLY:
        m->req_id = rd_u64(r);
        m->time_us = rd_i64(r);
        break;
    default:
        r->rc = EKV_ETYPE;
    }
}

static int decode(const void *buf, size_t len, ekv_msg_t *m, int skip_value, int only_change,
                  int nested);

/* Decodes the embedded change bodies of a CATCHUP_REPLY; each must be a CHANGE. */
static int rd_changes(rd_t *r, ekv_msg_t *m)
{
    const msgpack_object *o = next(r);
    if (!o)
        return r->rc;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return EKV_ETYPE;
    if (o->via.array.size > EKV_MSG_MAX_CHANGES)
        return EKV_ETOOBIG;
    m->changes = ekv_calloc(o->via.array.size, sizeof *m->changes);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_BIN)
            return EKV_ETYPE;
        int rc = decode(e->via.bin.ptr, e->via.bin.size, &m->changes[i], 0, 1, 1);
        if (rc)
            return rc;
        m->nchanges++;
    }
    return EKV_OK;
}

static int decode_array(const msgpack_object *top, size_t len, ekv_msg_t *m, int skip_value,
                        int only_change)
{
    if (top->type != MSGPACK_OBJECT_ARRAY)
        return EKV_EMALFORMED;
    rd_t r = {top->via.array.ptr, top->via.array.size, 0, NULL, 0, EKV_OK, skip_value};
    if (r.n < 2)
        return EKV_EMALFORMED;
    uint64_t version = rd_u64(&r);
    uint64_t type = rd_u64(&r);
    if (r.rc)
        return r.rc;
    if (version != EKV_MSG_VERSION)
        return EKV_EVERSION;
    if (only_change && type != EKV_MSG_CHANGE)
        return EKV_ETYPE; /* checked before any field: entries never nest */
    m->type = (ekv_msg_type_t)type;
    int nfields = field_count((int)type);
    if (type > 0xff || nfields < 0)
        return EKV_ETYPE;
    if (r.n != (uint32_t)nfields + 2)
        return EKV_EMALFORMED;
    /* Byte strings total at most len bytes, plus one NUL each (at most 5 per message). */
    r.arena = ekv_malloc(len + 8);
    m->owned_ = r.arena;
    if (type == EKV_MSG_CATCHUP_REPLY || type == EKV_MSG_LIST_REPLY) {
        m->req_id = rd_u64(&r);
        m->seq = rd_u64(&r);
        m->flags = (uint8_t)rd_small(&r, 0xff);
        m->key = rd_bytes(&r);
        return r.rc ? r.rc : rd_changes(&r, m);
    }
    rd_fields(&r, m);
    return r.rc;
}

/* The msgpack objects of a message live only while its fields are copied out, so each thread
 * unpacks into one zone of its own, cleared after every message, instead of creating and
 * freeing a zone (two allocations, one of 8 KiB) per message as msgpack_unpack_next does.
 * Messages larger than ZONE_REUSE_MAX, and the bodies nested in a reply (unpacked while the
 * reply's own objects are still in use), take a zone of their own; a message that needed more
 * than the kept zone's one chunk frees it, so no thread keeps more than 8 KiB. */
#define ZONE_REUSE_MAX 16384

static pthread_key_t zone_key;
static pthread_once_t zone_once = PTHREAD_ONCE_INIT;
static int zone_key_ok;

static void zone_release(void *z)
{
    msgpack_zone_free(z);
}

static void zone_key_create(void)
{
    zone_key_ok = pthread_key_create(&zone_key, zone_release) == 0;
}

/* This thread's kept zone, or NULL when it cannot have one (no key left). */
static msgpack_zone *thread_zone(void)
{
    pthread_once(&zone_once, zone_key_create);
    if (!zone_key_ok)
        return NULL;
    msgpack_zone *z = pthread_getspecific(zone_key);
    if (!z) {
        z = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
        if (!z)
            ekv_oom(MSGPACK_ZONE_CHUNK_SIZE);
        if (pthread_setspecific(zone_key, z) != 0) {
            msgpack_zone_free(z);
            return NULL;
        }
    }
    return z;
}

/* Unpacks buf (all of it, or an error) and extracts the message from the objects. */
static int unpack(const void *buf, size_t len, ekv_msg_t *m, int skip_value, int only_change,
                  int nested)
{
    msgpack_zone *kept = !nested && len <= ZONE_REUSE_MAX ? thread_zone() : NULL;
    msgpack_zone *z = kept ? kept : msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    if (!z)
        ekv_oom(MSGPACK_ZONE_CHUNK_SIZE);
    const msgpack_zone_chunk *first = z->chunk_list.head; /* the newest chunk */
    msgpack_object top;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack(buf, len, &off, z, &top);
    int rc;
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
        rc = ur == MSGPACK_UNPACK_CONTINUE ? EKV_ETRUNCATED : EKV_EMALFORMED;
    else
        rc = decode_array(&top, len, m, skip_value, only_change);
    if (kept && z->chunk_list.head == first) {
        msgpack_zone_clear(z);
    } else {
        if (kept) /* it grew: the next message starts again from one chunk */
            pthread_setspecific(zone_key, NULL);
        msgpack_zone_free(z);
    }
    return rc;
}

static int decode(const void *buf, size_t len, ekv_msg_t *m, int skip_value, int only_change,
                  int nested)
{
    memset(m, 0, sizeof *m);
    if (len == 0)
        return EKV_ETRUNCATED;
    if (len > EKV_MSG_MAX_BATCH_BODY)
        return EKV_ETOOBIG;
    walk_t w = {buf, (const uint8_t *)buf + len};
    int rc = walk_value(&w, 0);
    if (rc)
        return rc;
    if (w.p != w.end)
        return EKV_EMALFORMED; /* trailing bytes */
    rc = unpack(buf, len, m, skip_value, only_change, nested);
    if (rc == EKV_OK && m->type != EKV_MSG_CATCHUP_REPLY && m->type != EKV_MSG_LIST_REPLY &&
        len > EKV_MSG_MAX_BODY)
        rc = EKV_ETOOBIG;
    if (rc == EKV_OK &&
        ((m->type == EKV_MSG_CHANGE && !skip_value) || m->type == EKV_MSG_HEARTBEAT))
        rc = check_seal(buf, len);
    if (rc)
        ekv_msg_fini(m);
    return rc;
}

int ekv_msg_decode(const void *buf, size_t len, ekv_msg_t *m)
{
    return decode(buf, len, m, 0, 0, 0);
}

int ekv_msg_decode_change_head(const void *buf, size_t len, ekv_msg_t *m)
{
    return decode(buf, len, m, 1, 1, 0);
}

void ekv_msg_fini(ekv_msg_t *m)
{
    for (size_t i = 0; i < m->nchanges; i++)
        ekv_msg_fini(&m->changes[i]);
    free(m->changes);
    free(m->owned_);
    memset(m, 0, sizeof *m);
}

const char *ekv_msg_type_name(int type)
{
    static const char *names[] = {"UNKNOWN",     "HELLO", "HELLO_REPLY", "CHANGE",  "WRITE",
                                  "WRITE_REPLY", "READ",  "READ_REPLY",  "CATCHUP", "CATCHUP_REPLY",
                                  "HEARTBEAT",   "LIST",  "LIST_REPLY",  "TIME",    "TIME_REPLY"};
    return type >= 1 && type <= EKV_MSG_TIME_REPLY ? names[type] : names[0];
}
