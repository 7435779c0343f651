/* gen_msg_corpus: writes the seed corpus of the msg fuzz target (tests/fuzz/corpus/msg).
 *
 * One valid body per message type and variant (put and delete, with and without metadata,
 * found and not found, catch-up replies of 0, 1 and 3 changes, TIME and TIME_REPLY), then a dozen
 * malformed ones (truncated, foreign version or type, wrong-typed field, wrong element count,
 * trailing bytes, non-array, empty, forged size headers, deep nesting, nested catch-up replies, a
 * CHANGE with a byte of its value changed, the head of one CHANGE spliced to the tail of
 * another, and a catch-up reply carrying that, a HEARTBEAT with a byte of its epoch changed).
 * Every file stays under 4 KiB. Not part of the build; run by hand after a protocol change:
 *
 *   cd /work/main
 *   cc -std=c11 -D_GNU_SOURCE -I proto -I common tests/fuzz/gen_msg_corpus.c \
 *      build/proto/libekv_proto.a build/common/libekv_common.a -lmsgpackc -ljansson -lz -lm \
 *      -o /tmp/gen_msg_corpus && /tmp/gen_msg_corpus tests/fuzz/corpus/msg
 */
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_msg.h"

#define T_US 1700000000123456LL

static const char *g_dir = "tests/fuzz/corpus/msg";
static int g_written;

static ekv_bytes_t lit(const char *p, size_t n)
{
    ekv_bytes_t b = {p, n};
    return b;
}

#define LIT(s) lit((s), sizeof(s) - 1)

static void write_file(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    if (len >= 4096)
        fprintf(stderr, "warning: %s is %zu bytes\n", name, len);
    g_written++;
}

static char *encode(const ekv_msg_t *m, size_t *len)
{
    char *buf = NULL;
    if (ekv_msg_encode(m, &buf, len) != EKV_OK) {
        fprintf(stderr, "encode of %s failed\n", ekv_msg_type_name(m->type));
        exit(1);
    }
    return buf;
}

static void write_msg(const char *name, const ekv_msg_t *m)
{
    size_t len;
    char *buf = encode(m, &len);
    write_file(name, buf, len);
    free(buf);
}

static ekv_msg_t base(ekv_msg_type_t type)
{
    ekv_msg_t m = {0};
    m.type = type;
    return m;
}

static ekv_msg_t change(uint64_t seq, uint8_t op, int with_meta)
{
    ekv_msg_t m = base(EKV_MSG_CHANGE);
    m.seq = seq;
    m.time_us = T_US;
    m.op = op;
    m.ns = LIT("0123456789abcdef0123456789abcdef");
    m.key = LIT("user/42\0bin");
    if (op == EKV_OP_PUT)
        m.value = LIT("hello \0 world \xff");
    if (with_meta) {
        m.flags = EKV_MSG_F_METADATA;
        m.meta = LIT("{\"v\":1}");
        m.expiration = 1700000600;
    }
    return m;
}

static void write_valid(void)
{
    ekv_msg_t m = base(EKV_MSG_HELLO);
    m.req_id = 1;
    m.seq = 41;
    m.text = LIT("pop-fra");
    write_msg("hello", &m);
    m = base(EKV_MSG_HELLO_REPLY);
    m.req_id = 1;
    m.seq = 42;
    m.time_us = T_US;
    m.epoch = 0x0123456789abcdefull;
    write_msg("hello_reply", &m);
    m = change(42, EKV_OP_PUT, 1);
    write_msg("change_put_meta", &m);
    m = change(43, EKV_OP_PUT, 0);
    write_msg("change_put_plain", &m);
    m.value = lit("", 0);
    write_msg("change_put_empty_value", &m);
    m = change(44, EKV_OP_DELETE, 0);
    write_msg("change_delete", &m);
    m = change(0, EKV_OP_PUT, 1);
    m.type = EKV_MSG_WRITE;
    m.req_id = 7;
    m.time_us = 0;
    write_msg("write_put_meta", &m);
    m = change(0, EKV_OP_DELETE, 0);
    m.type = EKV_MSG_WRITE;
    m.req_id = 8;
    m.time_us = 0;
    write_msg("write_delete", &m);
    m = base(EKV_MSG_WRITE_REPLY);
    m.req_id = 7;
    m.status = 200;
    m.seq = 45;
    m.time_us = T_US;
    write_msg("write_reply_ok", &m);
    m.status = 429;
    m.seq = 0;
    m.text = LIT("Too Many Requests");
    write_msg("write_reply_429", &m);
    m = base(EKV_MSG_READ);
    m.req_id = 9;
    m.ns = LIT("0123456789abcdef0123456789abcdef");
    m.key = LIT("user/42");
    write_msg("read", &m);
    m = base(EKV_MSG_READ_REPLY);
    m.req_id = 9;
    m.status = 200;
    m.flags = EKV_MSG_F_FOUND | EKV_MSG_F_METADATA;
    m.seq = 42;
    m.time_us = T_US;
    m.expiration = 1700000600;
    m.meta = LIT("null");
    m.value = LIT("v");
    write_msg("read_reply_found", &m);
    m = base(EKV_MSG_READ_REPLY);
    m.req_id = 10;
    m.status = 404;
    m.text = LIT("Not Found");
    write_msg("read_reply_not_found", &m);
    m = base(EKV_MSG_CATCHUP);
    m.req_id = 11;
    m.seq = 40;
    write_msg("catchup", &m);
    m.key = LIT("snapshot-cursor");
    write_msg("catchup_cursor", &m);
    ekv_msg_t ch[3] = {change(41, EKV_OP_PUT, 1), change(42, EKV_OP_DELETE, 0),
                       change(43, EKV_OP_PUT, 0)};
    m = base(EKV_MSG_CATCHUP_REPLY);
    m.req_id = 11;
    m.seq = 43;
    write_msg("catchup_reply_0", &m);
    m.changes = ch;
    m.nchanges = 1;
    m.flags = EKV_MSG_F_MORE;
    write_msg("catchup_reply_1", &m);
    m.nchanges = 3;
    m.flags = EKV_MSG_F_SNAPSHOT | EKV_MSG_F_MORE;
    m.key = LIT("next-page");
    write_msg("catchup_reply_3_cursor", &m);
    m = base(EKV_MSG_HEARTBEAT);
    m.seq = 43;
    m.time_us = T_US;
    m.epoch = 0x0123456789abcdefull;
    write_msg("heartbeat", &m);
    m.seq = UINT64_MAX;
    m.time_us = INT64_MAX;
    write_msg("heartbeat_extremes", &m);
    m = base(EKV_MSG_TIME);
    m.req_id = 81;
    write_msg("time", &m);
    m = base(EKV_MSG_TIME_REPLY);
    m.req_id = 81;
    m.time_us = T_US;
    write_msg("time_reply", &m);
    m.req_id = UINT64_MAX;
    m.time_us = INT64_MIN; /* a clock before the epoch: still a clock */
    write_msg("time_reply_extremes", &m);
}

/* Writes buf with byte `at` replaced by `v`. */
static void write_patched(const char *name, const char *buf, size_t len, size_t at, char v)
{
    char *copy = malloc(len);
    memcpy(copy, buf, len);
    copy[at] = v;
    write_file(name, copy, len);
    free(copy);
}

/* Repacks the top-level array of buf: without its last element (drop) or with a nil added;
 * with replace_bins, every byte string inside the last element becomes `bin`. */
static void write_repacked(const char *name, const char *buf, size_t len, int drop, int add,
                           const ekv_bytes_t *bin)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_ARRAY) {
        fprintf(stderr, "%s: cannot unpack its base\n", name);
        exit(1);
    }
    const msgpack_object_array *a = &up.data.via.array;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    uint32_t n = a->size - (drop ? 1 : 0);
    msgpack_pack_array(&pk, n + (add ? 1 : 0));
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *o = &a->ptr[i];
        if (bin && i == a->size - 1 && o->type == MSGPACK_OBJECT_ARRAY) {
            msgpack_pack_array(&pk, o->via.array.size);
            for (uint32_t k = 0; k < o->via.array.size; k++) {
                msgpack_pack_bin(&pk, bin->len);
                msgpack_pack_bin_body(&pk, bin->ptr, bin->len);
            }
        } else {
            msgpack_pack_object(&pk, *o);
        }
    }
    if (add)
        msgpack_pack_nil(&pk);
    write_file(name, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&up);
}

static void write_malformed(void)
{
    ekv_msg_t m = change(42, EKV_OP_PUT, 1);
    size_t clen;
    char *cbuf = encode(&m, &clen);
    write_file("bad_truncated_change", cbuf, clen / 2);
    write_file("bad_truncated_change_last_byte", cbuf, clen - 1);
    write_patched("bad_version_2", cbuf, clen, 1, 2);
    write_patched("bad_version_99", cbuf, clen, 1, 99);
    write_patched("bad_type_99", cbuf, clen, 2, 99);
    write_patched("bad_type_0", cbuf, clen, 2, 0);
    ekv_msg_t tr = base(EKV_MSG_TIME_REPLY);
    tr.req_id = 81;
    tr.time_us = T_US;
    size_t tlen;
    char *tbuf = encode(&tr, &tlen);
    write_patched("bad_type_15", tbuf, tlen, 2, 15);        /* the first type after TIME_REPLY */
    write_file("bad_truncated_time_reply", tbuf, tlen - 1); /* the clock cut short */
    write_repacked("bad_time_reply_extra", tbuf, tlen, 0, 1, NULL);
    free(tbuf);
    write_patched("bad_count_low", cbuf, clen, 0, (char)(cbuf[0] - 1));
    write_repacked("bad_missing_element", cbuf, clen, 1, 0, NULL);
    write_repacked("bad_extra_element", cbuf, clen, 0, 1, NULL);

    char *two = malloc(2 * clen);
    memcpy(two, cbuf, clen);
    memcpy(two + clen, cbuf, clen);
    write_file("bad_two_messages", two, 2 * clen);
    two[clen] = 0;
    write_file("bad_trailing_byte", two, clen + 1);
    free(two);

    /* [1, 3 (CHANGE), "string-instead-of-int", ...ten fields of the wrong kind]. */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 12);
    msgpack_pack_uint64(&pk, EKV_MSG_VERSION);
    msgpack_pack_uint64(&pk, EKV_MSG_CHANGE);
    for (int i = 0; i < 10; i++) {
        msgpack_pack_str(&pk, 21);
        msgpack_pack_str_body(&pk, "string-instead-of-int", 21);
    }
    write_file("bad_string_for_int", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);

    write_file("bad_empty", "", 0);
    write_file("bad_not_array_map", "\x81\x01\x03", 3);
    write_file("bad_not_array_str", "\xa5hello", 6);
    write_file("bad_unused_tag", "\xc1", 1);
    write_file("bad_bin32_huge", "\x93\x01\x03\xc6\xff\xff\xff\xf0", 8);
    write_file("bad_array32_huge", "\x93\x01\x09\xdd\xff\xff\xff\xff", 8);
    write_file("bad_map32_huge", "\xdf\xff\xff\xff\xff\x01\x03", 7);

    char deep[2001];
    memset(deep, 0x91, 2000);
    deep[2000] = (char)0xc0;
    write_file("bad_deep_nesting", deep, sizeof deep);

    /* Catch-up replies whose entries are not CHANGE bodies. */
    ekv_msg_t cr = base(EKV_MSG_CATCHUP_REPLY);
    cr.req_id = 3;
    cr.seq = 42;
    cr.changes = &m;
    cr.nchanges = 1;
    size_t rlen;
    char *rbuf = encode(&cr, &rlen);
    ekv_msg_t hb = base(EKV_MSG_HEARTBEAT);
    hb.seq = 1;
    size_t hlen;
    char *hbuf = encode(&hb, &hlen);
    ekv_bytes_t entry = lit(hbuf, hlen);
    write_repacked("bad_catchup_entry_heartbeat", rbuf, rlen, 0, 0, &entry);
    entry = lit(cbuf, clen - 1);
    write_repacked("bad_catchup_entry_truncated", rbuf, rlen, 0, 0, &entry);
    entry = lit(rbuf, rlen);
    write_repacked("bad_catchup_entry_catchup_reply", rbuf, rlen, 0, 0, &entry);

    /* The checksum: a changed value byte; the head of one change and the tail of another of
     * the same length (what a PGM receiver made of a loss), alone and as a catch-up entry. */
    char *flip = malloc(clen);
    memcpy(flip, cbuf, clen);
    flip[clen - 8] ^= 0x01;
    write_file("bad_change_checksum", flip, clen);
    ekv_msg_t other = change(43, EKV_OP_PUT, 1);
    other.value = LIT("hello \0 WORLD \xff");
    size_t olen;
    char *obuf = encode(&other, &olen);
    memcpy(flip, cbuf, clen / 2);
    memcpy(flip + clen / 2, obuf + clen / 2, clen - clen / 2);
    write_file("bad_change_spliced", flip, clen);
    entry = lit(flip, clen);
    write_repacked("bad_catchup_entry_spliced", rbuf, rlen, 0, 0, &entry);
    char *hflip = malloc(hlen);
    memcpy(hflip, hbuf, hlen);
    hflip[hlen - 6] ^= 0x01; /* the last byte of the epoch */
    write_file("bad_heartbeat_checksum", hflip, hlen);
    free(hflip);
    free(obuf);
    free(flip);
    free(hbuf);
    free(rbuf);
    free(cbuf);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_dir = argv[1];
    write_valid();
    write_malformed();
    printf("wrote %d files to %s\n", g_written, g_dir);
    return 0;
}
