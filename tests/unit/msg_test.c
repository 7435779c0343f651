/* msg_test: unit tests of the wire codec (proto/ekv_msg).
 *
 * Every message type round-trips with all the fields it carries (binary bytes with NULs, an
 * empty value, a 1 MiB value, extreme integers), and the decoder turns every kind of bad
 * input into an error code: each truncation of each valid encoding, oversized bodies, a
 * foreign version or type, wrong-typed fields, wrong element counts, trailing bytes, non-array
 * bodies, forged container headers and deep nesting.
 *
 * The malformed bodies are built without knowing the field order: a valid encoding is
 * unpacked with msgpack-c into a msgpack_object tree, one node is replaced (or the top-level
 * array shortened or lengthened), and the tree is packed again. Before trusting a mutation,
 * the unmutated repack is checked to decode, so a mutation test cannot pass vacuously.
 *
 * Ownership: every successful decode is released with ekv_msg_fini(); every failed one must
 * leave nothing to release. The program runs clean under AddressSanitizer/LeakSanitizer. */
#include <msgpack.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_msg.h"
#include "ekv_test.h"
#include "msg_samples.h"

/* ---- round trips --------------------------------------------------------------------------- */

static void test_roundtrip_every_message(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    CHECK_GE(n, 10);
    int seen[EKV_MSG_TIME_REPLY + 1] = {0};
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        roundtrip(&s[i].msg);
        seen[s[i].msg.type]++;
    }
    for (int t = EKV_MSG_HELLO; t <= EKV_MSG_TIME_REPLY; t++)
        CHECK_GT(seen[t], 0);
}

/* Fields a type does not carry may be set by a sloppy caller; they must not leak into the
 * ones it does carry, and must decode as zero or unchanged. */
static void test_roundtrip_ignores_foreign_fields(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        ekv_msg_t m = s[i].msg;
        unsigned c = carried(m.type);
        if (!(c & C_REQ))
            m.req_id = 0x1111;
        if (!(c & C_SEQ) && m.type != EKV_MSG_CATCHUP_REPLY && m.type != EKV_MSG_READ_REPLY)
            m.seq = 0x2222;
        if (!(c & C_TIME))
            m.time_us = 0x3333;
        if (!(c & C_STATUS))
            m.status = 503;
        if (!(c & C_EXP))
            m.expiration = 1800000000;
        if (!(c & C_EPOCH))
            m.epoch = 0x4444;
        if (!(c & C_NS))
            m.ns = LIT("foreign-ns");
        if (!(c & C_KEY))
            m.key = LIT("foreign-key");
        if (!(c & C_VALUE))
            m.value = LIT("foreign-value");
        if (!(c & C_META))
            m.meta = LIT("{\"foreign\":1}");
        if (!(c & C_TEXT))
            m.text = LIT("foreign text");
        roundtrip(&m);
    }
}
static void test_roundtrip_large_value(void)
{
    size_t vlen = MIB + 7;
    char *v = malloc(vlen);
    CHECK(v != NULL);
    fill_pattern(v, vlen, 7);
    ekv_msg_t ms[3] = {change_put(), write_put(), {0}};
    ms[2] = simple(EKV_MSG_READ_REPLY, 77, 42, T_US);
    ms[2].status = 200;
    ms[2].flags = EKV_MSG_F_FOUND;
    ms[2].text = bytes("", 0);
    for (int i = 0; i < 3; i++) {
        g_case = ekv_msg_type_name(ms[i].type);
        ms[i].value = bytes(v, vlen);
        roundtrip(&ms[i]);
        /* A sample of truncations, including all of the last bytes. */
        size_t len;
        char *buf = encode_ok(&ms[i], &len);
        CHECK_GT(len, vlen);
        for (size_t k = 1; k < len; k += (len - k > 64 ? 4099 : 1))
            CHECK_EQ(try_decode(buf, k), EKV_ETRUNCATED);
        free(buf);
    }
    free(v);
}

static void test_decoded_strings_are_c_strings(void)
{
    ekv_msg_t m = simple(EKV_MSG_HELLO, 1, 2, 0);
    char name[] = {'p', 'o', 'p', '-', 's', 'y', 'd'}; /* no NUL of its own */
    m.text = bytes(name, sizeof name);
    size_t len;
    char *buf = encode_ok(&m, &len);
    ekv_msg_t got;
    CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
    free(buf);
    CHECK_EQ(got.text.len, 7);
    CHECK_STR(got.text.ptr, "pop-syd");
    ekv_msg_fini(&got);

    m = change_put();
    buf = encode_ok(&m, &len);
    CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
    free(buf);
    CHECK_STR(got.ns.ptr, NS);
    CHECK_STR(got.meta.ptr, META);
    CHECK_EQ(got.key.ptr[got.key.len], '\0');
    CHECK_EQ(got.value.ptr[got.value.len], '\0');
    ekv_msg_fini(&got);
}

/* Decoding zeroes the message first: fields the body does not carry are zero. */
static void test_decode_zeroes_message_first(void)
{
    ekv_msg_t m = simple(EKV_MSG_HEARTBEAT, 0, 5, T_US);
    size_t len;
    char *buf = encode_ok(&m, &len);
    ekv_msg_t got;
    memset(&got, 0xa5, sizeof got);
    CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
    free(buf);
    CHECK_EQ(got.type, EKV_MSG_HEARTBEAT);
    CHECK_EQ(got.seq, 5);
    CHECK_EQ(got.time_us, T_US);
    CHECK_EQ(got.req_id, 0);
    CHECK_EQ(got.status, 0);
    CHECK_EQ(got.op, 0);
    CHECK_EQ(got.flags, 0);
    CHECK_EQ(got.expiration, 0);
    CHECK_EQ(got.key.len, 0);
    CHECK_EQ(got.value.len, 0);
    CHECK_EQ(got.ns.len, 0);
    CHECK_EQ(got.meta.len, 0);
    CHECK_EQ(got.text.len, 0);
    CHECK(got.changes == NULL);
    CHECK_EQ(got.nchanges, 0);
    ekv_msg_fini(&got);
    check_zeroed(&got);
}

static void test_fini_is_safe_and_idempotent(void)
{
    ekv_msg_t z = {0};
    ekv_msg_fini(&z);
    check_zeroed(&z);
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        size_t len;
        char *buf = encode_ok(&s[i].msg, &len);
        ekv_msg_t got;
        CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
        free(buf);
        ekv_msg_fini(&got);
        check_zeroed(&got);
        ekv_msg_fini(&got); /* a second fini sees a zeroed message */
        check_zeroed(&got);
    }
}

static void test_type_names(void)
{
    static const char *names[] = {NULL,          "HELLO", "HELLO_REPLY", "CHANGE",  "WRITE",
                                  "WRITE_REPLY", "READ",  "READ_REPLY",  "CATCHUP", "CATCHUP_REPLY",
                                  "HEARTBEAT",   "LIST",  "LIST_REPLY",  "TIME",    "TIME_REPLY"};
    for (int t = EKV_MSG_HELLO; t <= EKV_MSG_TIME_REPLY; t++)
        CHECK_STR(ekv_msg_type_name(t), names[t]);
    CHECK_STR(ekv_msg_type_name(0), "UNKNOWN");
    CHECK_STR(ekv_msg_type_name(15), "UNKNOWN");
    CHECK_STR(ekv_msg_type_name(-1), "UNKNOWN");
    CHECK_STR(ekv_msg_type_name(99), "UNKNOWN");
}

/* ---- encoder limits ------------------------------------------------------------------------ */

static void test_encode_rejects_unknown_type(void)
{
    static const int bad[] = {0, 15, 99, -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ekv_msg_t m = simple(EKV_MSG_HEARTBEAT, 0, 1, 1);
        m.type = (ekv_msg_type_t)bad[i];
        char *buf = NULL;
        size_t len = 0;
        CHECK_EQ(ekv_msg_encode(&m, &buf, &len), EKV_ETYPE);
        free(buf);
    }
}

static void test_encode_and_decode_near_body_limit(void)
{
    size_t big = EKV_MSG_MAX_BODY;
    char *v = malloc(big);
    CHECK(v != NULL);
    memset(v, 'x', big);
    ekv_msg_t m = change_put();

    m.value = bytes(v, big); /* the value alone fills the body limit */
    char *buf = NULL;
    size_t len = 0;
    CHECK_EQ(ekv_msg_encode(&m, &buf, &len), EKV_ETOOBIG);
    free(buf);

    m.value = bytes(v, big - 4096); /* just under: fine both ways */
    buf = encode_ok(&m, &len);
    CHECK_LE(len, EKV_MSG_MAX_BODY);
    ekv_msg_t got;
    CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
    free(buf);
    CHECK_MEM(got.value.ptr, got.value.len, v, big - 4096);
    ekv_msg_fini(&got);
    free(v);
}

/* A catch-up reply may exceed EKV_MSG_MAX_BODY (its limit is EKV_MSG_MAX_BATCH_BODY). */
static void test_catchup_reply_may_exceed_body_limit(void)
{
    size_t vlen = 17 * MIB;
    char *v = malloc(vlen);
    CHECK(v != NULL);
    fill_pattern(v, vlen, 3);
    ekv_msg_t ch[2] = {change_put(), change_put_plain()};
    ch[0].value = bytes(v, vlen);
    ch[1].value = bytes(v + 1, vlen - 1);
    ekv_msg_t m = simple(EKV_MSG_CATCHUP_REPLY, 1, 43, 0);
    m.changes = ch;
    m.nchanges = 2;
    size_t len;
    char *buf = encode_ok(&m, &len);
    CHECK_GT(len, EKV_MSG_MAX_BODY);
    ekv_msg_t got;
    CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
    free(buf);
    check_msg(&m, &got);
    ekv_msg_fini(&got);
    free(v);
}

static void test_catchup_reply_change_count_limit(void)
{
    size_t n = EKV_MSG_MAX_CHANGES + 1;
    ekv_msg_t *ch = calloc(n, sizeof *ch);
    CHECK(ch != NULL);
    for (size_t i = 0; i < n; i++) {
        ch[i] = change_delete();
        ch[i].seq = i + 1;
    }
    ekv_msg_t m = simple(EKV_MSG_CATCHUP_REPLY, 1, n, 0);
    m.changes = ch;

    m.nchanges = EKV_MSG_MAX_CHANGES; /* exactly the limit round-trips */
    roundtrip(&m);

    m.nchanges = n; /* one more: refused by the encoder, or at least by the decoder */
    char *buf = NULL;
    size_t len = 0;
    int rc = ekv_msg_encode(&m, &buf, &len);
    if (rc == EKV_OK)
        CHECK_LT(try_decode(buf, len), 0);
    else
        CHECK_EQ(rc, EKV_ETOOBIG);
    free(buf);
    free(ch);
}

/* ---- rejects ------------------------------------------------------------------------------- */

static void test_reject_every_truncation(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        size_t len;
        char *buf = encode_ok(&s[i].msg, &len);
        CHECK_LT(try_decode(buf, 0), 0);
        for (size_t k = 1; k < len; k++)
            CHECK_EQ(try_decode(buf, k), EKV_ETRUNCATED);
        CHECK_EQ(try_decode(buf, len), EKV_OK);
        free(buf);
    }
}

static void test_reject_empty_input(void)
{
    ekv_msg_t m;
    memset(&m, 0xa5, sizeof m);
    char byte = 0;
    CHECK_LT(ekv_msg_decode(&byte, 0, &m), 0);
    CHECK(m.owned_ == NULL);
    ekv_msg_fini(&m);
}

static void test_reject_oversized_input(void)
{
    /* Past even the batch limit: refused whatever the bytes say. */
    size_t huge = (size_t)EKV_MSG_MAX_BATCH_BODY + 1;
    char *buf = calloc(1, huge);
    CHECK(buf != NULL);
    ekv_msg_t hb = simple(EKV_MSG_HEARTBEAT, 0, 1, 1);
    size_t len;
    char *enc = encode_ok(&hb, &len);
    memcpy(buf, enc, len);
    ekv_msg_t m;
    CHECK_EQ(ekv_msg_decode(buf, huge, &m), EKV_ETOOBIG);
    CHECK(m.owned_ == NULL);
    /* Past the body limit with a small message and padding: an error either way. */
    CHECK_LT(ekv_msg_decode(buf, (size_t)EKV_MSG_MAX_BODY + 1, &m), 0);
    CHECK(m.owned_ == NULL);
    free(buf);
    free(enc);

    /* A well-formed CHANGE and READ_REPLY whose value pushes the body past the limit. */
    size_t vlen = (size_t)EKV_MSG_MAX_BODY + 1;
    char *v = malloc(vlen);
    CHECK(v != NULL);
    memset(v, 'y', vlen);
    ekv_bytes_t bigval = bytes(v, vlen);
    ekv_msg_t rr = simple(EKV_MSG_READ_REPLY, 5, 6, T_US);
    rr.status = 200;
    rr.flags = EKV_MSG_F_FOUND;
    rr.value = LIT(VAL_BIN);
    ekv_msg_t cases[2] = {change_put(), rr};
    for (int i = 0; i < 2; i++) {
        g_case = ekv_msg_type_name(cases[i].type);
        tree_t t;
        tree_open(&t, &cases[i]);
        int node = find_bytes_node(&t, LIT(VAL_BIN));
        CHECK_GT(node, 0);
        CHECK_EQ(decode_mutant(&t, node, emit_bin, &bigval), EKV_ETOOBIG);
        tree_close(&t);
    }
    free(v);

    /* Forged size headers with nothing behind them. */
    static const unsigned char forged[][8] = {
        {0x93, 0x01, 0x03, 0xc6, 0xff, 0xff, 0xff, 0xf0}, /* bin32 of ~4 GiB */
        {0x93, 0x01, 0x03, 0xdb, 0xff, 0xff, 0xff, 0xff}, /* str32 of 4 GiB */
        {0x93, 0x01, 0x09, 0xdd, 0xff, 0xff, 0xff, 0xff}, /* array32 of 4 G elements */
        {0x93, 0x01, 0x09, 0xdf, 0xff, 0xff, 0xff, 0xff}, /* map32 of 4 G pairs */
        {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x03, 0xc0}, /* top-level array32 */
        {0xdc, 0xff, 0xff, 0x01, 0x03, 0xc0, 0xc0, 0xc0}, /* top-level array16 */
        {0x93, 0x01, 0x03, 0xc5, 0xff, 0xff, 0x00, 0x00}, /* bin16 of 64 KiB */
        {0x93, 0x01, 0x03, 0xc9, 0xff, 0xff, 0xff, 0xff}, /* ext32 of 4 GiB */
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++)
        CHECK_LT(try_decode(forged[i], sizeof forged[i]), 0);
}

static void test_reject_unknown_version(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    static const uint64_t versions[] = {0, 2, 99, 255, 256, 0xffffffffu, UINT64_MAX};
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        tree_t t;
        tree_open(&t, &s[i].msg);
        for (size_t k = 0; k < sizeof versions / sizeof versions[0]; k++)
            CHECK_EQ(decode_mutant(&t, 1, emit_uint, &versions[k]), EKV_EVERSION);
        int64_t neg = -1;
        CHECK_LT(decode_mutant(&t, 1, emit_int, &neg), 0);
        CHECK_LT(decode_mutant(&t, 1, emit_str, "1"), 0);
        CHECK_LT(decode_mutant(&t, 1, emit_float, NULL), 0);

        /* The same at byte level: a fixarray header, then the positive fixint 1. */
        CHECK((unsigned char)t.buf[0] >= 0x92 && (unsigned char)t.buf[0] <= 0x9f);
        CHECK_EQ(t.buf[1], EKV_MSG_VERSION);
        static const char vbytes[] = {0x00, 0x02, 0x63, 0x7f};
        for (size_t k = 0; k < sizeof vbytes; k++) {
            char *copy = malloc(t.len);
            CHECK(copy != NULL);
            memcpy(copy, t.buf, t.len);
            copy[1] = vbytes[k];
            CHECK_EQ(try_decode(copy, t.len), EKV_EVERSION);
            free(copy);
        }
        tree_close(&t);
    }
}

static void test_reject_unknown_type(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    /* 0x103 and 0x100000003 would read as CHANGE if narrowed to 8 or 32 bits. */
    static const uint64_t types[] = {0, 15, 99, 127, 255, 0x103, 0x100000003ull, UINT64_MAX};
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        tree_t t;
        tree_open(&t, &s[i].msg);
        for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
            CHECK_EQ(decode_mutant(&t, 2, emit_uint, &types[k]), EKV_ETYPE);
        int64_t neg = -3;
        CHECK_LT(decode_mutant(&t, 2, emit_int, &neg), 0);
        CHECK_LT(decode_mutant(&t, 2, emit_str, "CHANGE"), 0);
        tree_close(&t);
    }
    /* Hand-made: just [1, 99] and [1, 0]. */
    static const unsigned char two[][3] = {{0x92, 0x01, 0x63}, {0x92, 0x01, 0x00}};
    for (size_t i = 0; i < 2; i++)
        CHECK_EQ(try_decode(two[i], 3), EKV_ETYPE);
}

/* Every node below the root replaced by a value of a type no field has. */
static void test_reject_wrong_typed_fields(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        tree_t t;
        tree_open(&t, &s[i].msg);
        CHECK_GE(t.nodes, 4);
        for (int node = 1; node < t.nodes; node++) {
            int counter = 0;
            const msgpack_object *o = tree_node(&t.up.data, node, &counter);
            CHECK(o != NULL);
            CHECK_LT(decode_mutant(&t, node, emit_float, NULL), 0);
            CHECK_LT(decode_mutant(&t, node, emit_map, NULL), 0);
            CHECK_LT(decode_mutant(&t, node, emit_true, NULL), 0);
            if (is_int(o))
                CHECK_LT(decode_mutant(&t, node, emit_str, "string-instead-of-int"), 0);
            if (is_bytes(o) || o->type == MSGPACK_OBJECT_ARRAY) {
                uint64_t seven = 7;
                CHECK_LT(decode_mutant(&t, node, emit_uint, &seven), 0);
            }
        }
        tree_close(&t);
    }
}

/* [1, 3 (CHANGE), "string-instead-of-int", ...] built by hand with msgpack-c's packer. */
static void test_reject_hand_made_change_with_string_seq(void)
{
    ekv_msg_t ch = change_put();
    tree_t t;
    tree_open(&t, &ch);
    const msgpack_object_array *a = &t.up.data.via.array;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, a->size);
    msgpack_pack_uint64(&pk, EKV_MSG_VERSION);
    msgpack_pack_uint64(&pk, EKV_MSG_CHANGE);
    msgpack_pack_str(&pk, 21);
    msgpack_pack_str_body(&pk, "string-instead-of-int", 21);
    for (uint32_t i = 3; i < a->size; i++)
        msgpack_pack_object(&pk, a->ptr[i]);
    int rc = try_decode(sb.data, sb.size);
    CHECK(rc == EKV_ETYPE || rc == EKV_EMALFORMED);
    msgpack_sbuffer_destroy(&sb);
    tree_close(&t);
}

static void test_reject_wrong_element_count(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    uint64_t zero = 0;
    ekv_bytes_t empty = bytes("", 0);
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        tree_t t;
        tree_open(&t, &s[i].msg);
        const msgpack_object_array *a = &t.up.data.via.array;
        CHECK_GE(a->size, 3); /* TIME: [version, type, req_id] */
        CHECK_LT(decode_resized(&t, true, NULL, NULL), 0);
        CHECK_LT(decode_resized(&t, false, emit_uint, &zero), 0);
        CHECK_LT(decode_resized(&t, false, emit_bin, &empty), 0);
        /* Only [version, type]. */
        char hdr[3] = {(char)0x92, t.buf[1], t.buf[2]};
        CHECK_LT(try_decode(hdr, 3), 0);
        /* Byte level: the fixarray count one lower (leaving a trailing element) and one
         * higher (the message ends early). */
        char *copy = malloc(t.len);
        CHECK(copy != NULL);
        memcpy(copy, t.buf, t.len);
        copy[0] = (char)(copy[0] - 1);
        CHECK_LT(try_decode(copy, t.len), 0);
        if ((unsigned char)t.buf[0] < 0x9f) {
            copy[0] = (char)(t.buf[0] + 1);
            CHECK_LT(try_decode(copy, t.len), 0);
        }
        free(copy);
        tree_close(&t);
    }
    static const unsigned char empty_array[] = {0x90};
    static const unsigned char only_version[] = {0x91, 0x01};
    CHECK_LT(try_decode(empty_array, 1), 0);
    CHECK_LT(try_decode(only_version, 2), 0);
}

static void test_reject_trailing_garbage(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    static const char tails[][2] = {{0x00}, {(char)0xc0}, {(char)0x91}, {'x'}};
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        size_t len;
        char *buf = encode_ok(&s[i].msg, &len);
        char *longer = malloc(2 * len);
        CHECK(longer != NULL);
        memcpy(longer, buf, len);
        for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
            longer[len] = tails[k][0];
            CHECK_LT(try_decode(longer, len + 1), 0);
        }
        memcpy(longer + len, buf, len); /* two messages in one body */
        CHECK_LT(try_decode(longer, 2 * len), 0);
        free(longer);
        free(buf);
    }
}

static void test_reject_non_array_bodies(void)
{
    static const struct {
        const char *bytes;
        size_t len;
    } bodies[] = {
        {"\x01", 1},                     /* positive fixint */
        {"\xff", 1},                     /* negative fixint */
        {"\xc0", 1},                     /* nil */
        {"\xc3", 1},                     /* true */
        {"\xc1", 1},                     /* the never-used tag */
        {"\xa5hello", 6},                /* str */
        {"\xc4\x03\x93\x01\x0a", 5},     /* bin holding an array */
        {"\x80", 1},                     /* empty map */
        {"\x81\x01\x0a", 3},             /* map {1: 10} */
        {"\xcb\x3f\xf8\0\0\0\0\0\0", 9}, /* float64 1.5 */
        {"\xd4\x01\x00", 3},             /* fixext1 */
        {"\xcf\0\0\0\0\0\0\0\x01", 9},   /* uint64 1 */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        CHECK_LT(try_decode(bodies[i].bytes, bodies[i].len), 0);

    /* Built with the packer too: a map holding a valid heartbeat's fields. */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_uint64(&pk, EKV_MSG_VERSION);
    msgpack_pack_uint64(&pk, EKV_MSG_HEARTBEAT);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 1);
    CHECK_LT(try_decode(sb.data, sb.size), 0);
    msgpack_sbuffer_destroy(&sb);
}

static void test_reject_deep_nesting(void)
{
    size_t depth = 100000;
    char *buf = malloc(depth + 1);
    CHECK(buf != NULL);
    memset(buf, 0x91, depth); /* [[[[...]]]] */
    buf[depth] = (char)0xc0;
    CHECK_LT(try_decode(buf, depth + 1), 0);
    for (size_t i = 0; i < depth; i += 2) { /* {x: {x: ...}} mixed with arrays */
        buf[i] = (char)0x81;
        buf[i + 1] = 0x01;
    }
    CHECK_LT(try_decode(buf, depth + 1), 0);
    /* Nesting inside a would-be message: [1, 3, [[[[...]]]], ...]. */
    buf[0] = (char)0x93;
    buf[1] = 0x01;
    buf[2] = 0x03;
    memset(buf + 3, 0x91, depth - 3);
    CHECK_LT(try_decode(buf, depth + 1), 0);
    free(buf);
}

/* The change entries of a catch-up reply must themselves be valid CHANGE messages. */
static void test_reject_bad_catchup_entries(void)
{
    ekv_msg_t ch = change_put();
    size_t clen;
    char *cbody = encode_ok(&ch, &clen);
    ekv_msg_t hb = simple(EKV_MSG_HEARTBEAT, 0, 9, T_US);
    size_t hlen;
    char *hbody = encode_ok(&hb, &hlen);
    ekv_msg_t inner = simple(EKV_MSG_CATCHUP_REPLY, 2, 42, 0);
    g_one[0] = change_put();
    inner.changes = g_one;
    inner.nchanges = 1;
    size_t ilen;
    char *ibody = encode_ok(&inner, &ilen);
    char *trailing = malloc(clen + 1);
    CHECK(trailing != NULL);
    memcpy(trailing, cbody, clen);
    trailing[clen] = 0;
    char *v2 = malloc(clen);
    CHECK(v2 != NULL);
    memcpy(v2, cbody, clen);
    v2[1] = 2;

    ekv_bytes_t bad[] = {
        bytes(cbody, clen - 1), /* truncated */
        bytes(hbody, hlen),     /* not a CHANGE */
        bytes(ibody, ilen),     /* a catch-up reply inside a catch-up reply */
        bytes(trailing, clen + 1),
        bytes(v2, clen), /* version 2 */
        bytes("", 0),
        LIT("\x01"),
    };
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    int tried = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].msg.type != EKV_MSG_CATCHUP_REPLY || s[i].msg.nchanges == 0)
            continue;
        g_case = s[i].name;
        tree_t t;
        tree_open(&t, &s[i].msg);
        /* Wherever an entry is carried as an embedded CHANGE body, corrupt that body. */
        for (int node = 1; node < t.nodes; node++) {
            int counter = 0;
            const msgpack_object *o = tree_node(&t.up.data, node, &counter);
            if (!is_bytes(o))
                continue;
            ekv_bytes_t b = obj_bytes(o);
            ekv_msg_t probe;
            if (ekv_msg_decode(b.ptr, b.len, &probe) != EKV_OK)
                continue;
            bool is_change = probe.type == EKV_MSG_CHANGE;
            ekv_msg_fini(&probe);
            if (!is_change)
                continue;
            for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
                CHECK_LT(decode_mutant(&t, node, emit_bin, &bad[k]), 0);
            tried++;
        }
        tree_close(&t);
    }
    /* None tried if entries are nested arrays; test_reject_wrong_typed_fields covers those. */
    (void)tried;
    free(v2);
    free(trailing);
    free(ibody);
    free(hbody);
    free(cbody);
}

/* Wraps body in `depth` layers of pre + bin32 header + ... + post. */
static char *nest(const char *pre_bytes, size_t pre, const char *post_bytes, size_t post,
                  ekv_bytes_t body, size_t depth, size_t *total)
{
    size_t layer = pre + 5 + post;
    *total = depth * layer + body.len;
    char *buf = malloc(*total);
    CHECK(buf != NULL);
    char *p = buf;
    for (size_t d = 0; d < depth; d++) {
        uint32_t inner = (uint32_t)((depth - 1 - d) * layer + body.len);
        memcpy(p, pre_bytes, pre);
        p += pre;
        *p++ = (char)0xc6;
        for (int b = 3; b >= 0; b--)
            *p++ = (char)(inner >> (8 * b));
    }
    memcpy(p, body.ptr, body.len);
    p += body.len;
    for (size_t d = 0; d < depth; d++, p += post)
        memcpy(p, post_bytes, post);
    CHECK_EQ((size_t)(p - buf), *total);
    return buf;
}

/* A catch-up reply whose entry is a catch-up reply whose entry is ... must be refused
 * without unbounded recursion (stack) or an allocation per level. Built by splicing: the
 * bytes before and after the entry of a one-change reply wrap the next level, with bin32
 * headers throughout. */
static void test_reject_nested_catchup_replies(void)
{
    ekv_msg_t m = simple(EKV_MSG_CATCHUP_REPLY, 3, 42, 0);
    g_one[0] = change_put();
    m.changes = g_one;
    m.nchanges = 1;
    tree_t t;
    tree_open(&t, &m);
    ekv_msg_t ch = change_put();
    size_t clen;
    char *cbody = encode_ok(&ch, &clen);
    int node = find_bytes_node(&t, bytes(cbody, clen));
    if (node < 0) { /* entries are not embedded bodies: nothing to nest */
        free(cbody);
        tree_close(&t);
        return;
    }
    /* Find the splice points with a 70000-byte marker (always a bin32). */
    size_t mlen = 70000;
    char *marker = malloc(mlen);
    CHECK(marker != NULL);
    memset(marker, 0xee, mlen);
    ekv_bytes_t mb = bytes(marker, mlen);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    subst_t s = {node, 0, emit_bin, &mb};
    pack_node(&pk, &t.up.data, &s);
    size_t at = 0;
    while (at + 5 + mlen <= sb.size &&
           !((unsigned char)sb.data[at] == 0xc6 && (unsigned char)sb.data[at + 5] == 0xee))
        at++;
    CHECK_LE(at + 5 + mlen, sb.size);
    size_t pre = at, post = sb.size - at - 5 - mlen;

    const char *post_bytes = sb.data + at + 5 + mlen;
    size_t total;
    /* Two levels: refused because the entry is not a CHANGE. */
    char *buf = nest(sb.data, pre, post_bytes, post, bytes(cbody, clen), 2, &total);
    CHECK_LT(try_decode(buf, total), 0);
    free(buf);
    /* A hundred thousand levels (about 1 MiB): refused the same way, without crashing. */
    buf = nest(sb.data, pre, post_bytes, post, bytes(cbody, clen), 100000, &total);
    CHECK_LT(try_decode(buf, total), 0);
    free(buf);
    msgpack_sbuffer_destroy(&sb);
    free(marker);
    free(cbody);
    tree_close(&t);
}

int main(void)
{
    atexit(on_exit_report);
    EKV_TEST_RUN(test_roundtrip_every_message);
    EKV_TEST_RUN(test_roundtrip_ignores_foreign_fields);
    EKV_TEST_RUN(test_roundtrip_large_value);
    EKV_TEST_RUN(test_decoded_strings_are_c_strings);
    EKV_TEST_RUN(test_decode_zeroes_message_first);
    EKV_TEST_RUN(test_fini_is_safe_and_idempotent);
    EKV_TEST_RUN(test_type_names);
    EKV_TEST_RUN(test_encode_rejects_unknown_type);
    EKV_TEST_RUN(test_encode_and_decode_near_body_limit);
    EKV_TEST_RUN(test_catchup_reply_may_exceed_body_limit);
    EKV_TEST_RUN(test_catchup_reply_change_count_limit);
    EKV_TEST_RUN(test_reject_every_truncation);
    EKV_TEST_RUN(test_reject_empty_input);
    EKV_TEST_RUN(test_reject_oversized_input);
    EKV_TEST_RUN(test_reject_unknown_version);
    EKV_TEST_RUN(test_reject_unknown_type);
    EKV_TEST_RUN(test_reject_wrong_typed_fields);
    EKV_TEST_RUN(test_reject_hand_made_change_with_string_seq);
    EKV_TEST_RUN(test_reject_wrong_element_count);
    EKV_TEST_RUN(test_reject_trailing_garbage);
    EKV_TEST_RUN(test_reject_non_array_bodies);
    EKV_TEST_RUN(test_reject_deep_nesting);
    EKV_TEST_RUN(test_reject_bad_catchup_entries);
    EKV_TEST_RUN(test_reject_nested_catchup_replies);
    g_done = 1;
    EKV_TEST_DONE();
}
