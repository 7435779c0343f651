/* msg_change_test: unit tests of the wire codec's CHANGE-specific paths (proto/ekv_msg):
 * catch-up replies built from stored bodies, the commit time stamped in place, change heads
 * decoded without their values, and the decoder's per-thread zone under every size of
 * message, and the checksum every CHANGE carries (every flipped bit and a spliced body
 * refused; its cost printed for a 25 MiB and a 200-byte value). The samples and helpers are
 * msg_test.c's (msg_samples.h).
 *
 * Ownership: every successful decode is released with ekv_msg_fini(); every failed one must
 * leave nothing to release. The program runs clean under AddressSanitizer/LeakSanitizer. */
#include <msgpack.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "ekv_err.h"
#include "ekv_msg.h"
#include "ekv_test.h"
#include "msg_samples.h"

/* ---- catch-up from stored bodies, commit stamping, change heads ------------------------------ */

/* Encodes each change of m on its own and the reply from those bodies. */
static int encode_raw(const ekv_msg_t *m, char **out, size_t *outlen)
{
    ekv_bytes_t *bodies = calloc(m->nchanges + 1, sizeof *bodies);
    CHECK(bodies != NULL);
    for (size_t i = 0; i < m->nchanges; i++) {
        size_t len;
        bodies[i].ptr = encode_ok(&m->changes[i], &len);
        bodies[i].len = len;
    }
    int rc = ekv_msg_encode_catchup_raw(m->req_id, m->seq, m->flags, m->key, bodies, m->nchanges,
                                        out, outlen);
    for (size_t i = 0; i < m->nchanges; i++)
        free((void *)bodies[i].ptr);
    free(bodies);
    return rc;
}

static void test_encode_catchup_raw(void)
{
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    int tried = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].msg.type != EKV_MSG_CATCHUP_REPLY)
            continue;
        g_case = s[i].name;
        char *buf = NULL;
        size_t len = 0;
        CHECK_EQ(encode_raw(&s[i].msg, &buf, &len), EKV_OK);
        ekv_msg_t got;
        CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
        free(buf);
        check_msg(&s[i].msg, &got);
        ekv_msg_fini(&got);
        tried++;
    }
    CHECK_GE(tried, 3);

    /* Bodies are not decoded when encoding, but a body that is not a CHANGE spoils the
     * reply for the decoder. */
    ekv_msg_t hb = simple(EKV_MSG_HEARTBEAT, 0, 1, 1);
    size_t hlen;
    char *hbody = encode_ok(&hb, &hlen);
    ekv_bytes_t bad[2] = {bytes(hbody, hlen), bytes(hbody, hlen - 1)};
    for (int k = 0; k < 2; k++) {
        char *buf = NULL;
        size_t len = 0;
        int rc = ekv_msg_encode_catchup_raw(1, 2, 0, bytes(NULL, 0), &bad[k], 1, &buf, &len);
        if (rc == EKV_OK)
            CHECK_LT(try_decode(buf, len), 0);
        else
            CHECK_LT(rc, 0);
        free(buf);
    }
    free(hbody);

    /* More bodies than a reply may carry. */
    size_t many = EKV_MSG_MAX_CHANGES + 1;
    ekv_msg_t ch = change_delete();
    size_t clen;
    char *cbody = encode_ok(&ch, &clen);
    ekv_bytes_t *bodies = calloc(many, sizeof *bodies);
    CHECK(bodies != NULL);
    for (size_t i = 0; i < many; i++)
        bodies[i] = bytes(cbody, clen);
    char *buf = NULL;
    size_t len = 0;
    int rc = ekv_msg_encode_catchup_raw(1, 2, 0, bytes(NULL, 0), bodies, many, &buf, &len);
    if (rc == EKV_OK)
        CHECK_LT(try_decode(buf, len), 0);
    else
        CHECK_EQ(rc, EKV_ETOOBIG);
    free(buf);
    free(bodies);
    free(cbody);
}

/* The coordinator encodes a CHANGE, then stamps its commit time in place. */
static void test_set_commit_time(void)
{
    static const int64_t before[] = {0, 1, T_US, INT64_MAX, -1};
    static const int64_t after[] = {T_US + 5, 0, 127, INT64_MAX, INT64_MIN, -1, 1};
    ekv_msg_t bases[3] = {change_put(), change_delete(), change_put_empty()};
    for (int b = 0; b < 3; b++) {
        for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
            ekv_msg_t m = bases[b];
            m.time_us = before[i];
            size_t len;
            char *buf = encode_ok(&m, &len);
            for (size_t k = 0; k < sizeof after / sizeof after[0]; k++) {
                CHECK_EQ(ekv_msg_set_commit_time(buf, len, after[k]), EKV_OK);
                ekv_msg_t got;
                CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
                m.time_us = after[k];
                check_msg(&m, &got); /* only the time changed */
                ekv_msg_fini(&got);
            }
            free(buf);
        }
    }
    /* Anything but an encoded CHANGE is refused and left alone. */
    ekv_msg_t others[] = {write_put(), simple(EKV_MSG_HEARTBEAT, 0, 1, T_US),
                          simple(EKV_MSG_HELLO_REPLY, 1, 2, T_US),
                          simple(EKV_MSG_WRITE_REPLY, 1, 2, T_US)};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        size_t len;
        char *buf = encode_ok(&others[i], &len);
        char *copy = malloc(len);
        CHECK(copy != NULL);
        memcpy(copy, buf, len);
        CHECK_EQ(ekv_msg_set_commit_time(buf, len, 12345), EKV_EMALFORMED);
        CHECK_MEM(buf, len, copy, len);
        free(copy);
        free(buf);
    }
    ekv_msg_t m = change_put();
    size_t len;
    char *buf = encode_ok(&m, &len);
    for (size_t k = 0; k <= 3; k++) { /* too short to hold the field */
        char *cut = malloc(k ? k : 1);
        CHECK(cut != NULL);
        memcpy(cut, buf, k);
        CHECK_EQ(ekv_msg_set_commit_time(cut, k, 12345), EKV_EMALFORMED);
        free(cut);
    }
    buf[1] = 2; /* version 2 */
    CHECK_EQ(ekv_msg_set_commit_time(buf, len, 12345), EKV_EMALFORMED);
    free(buf);
}

static void test_decode_change_head(void)
{
    size_t vlen = 64 * 1024;
    char *v = malloc(vlen);
    CHECK(v != NULL);
    fill_pattern(v, vlen, 11);
    ekv_msg_t ms[4] = {change_put(), change_put_plain(), change_delete(), change_put_meta_null()};
    ms[1].value = bytes(v, vlen);
    for (int i = 0; i < 4; i++) {
        size_t len;
        char *buf = encode_ok(&ms[i], &len);
        ekv_msg_t got;
        memset(&got, 0xa5, sizeof got);
        CHECK_EQ(ekv_msg_decode_change_head(buf, len, &got), EKV_OK);
        free(buf);
        CHECK_EQ(got.value.len, 0);
        ekv_msg_t want = ms[i];
        want.value = bytes("", 0);
        check_msg(&want, &got);
        ekv_msg_fini(&got);
        check_zeroed(&got);
    }
    free(v);

    /* Other messages are not changes; broken bodies are errors with nothing to release. */
    sample_t s[MAX_SAMPLES];
    size_t n = samples(s);
    for (size_t i = 0; i < n; i++) {
        g_case = s[i].name;
        size_t len;
        char *buf = encode_ok(&s[i].msg, &len);
        ekv_msg_t got;
        memset(&got, 0xa5, sizeof got);
        int rc = ekv_msg_decode_change_head(buf, len, &got);
        if (s[i].msg.type == EKV_MSG_CHANGE) {
            CHECK_EQ(rc, EKV_OK);
            ekv_msg_fini(&got);
        } else {
            CHECK_EQ(rc, EKV_ETYPE);
            CHECK(got.owned_ == NULL && got.changes == NULL);
        }
        for (size_t k = 0; k < len; k++) {
            char *cut = malloc(k ? k : 1);
            CHECK(cut != NULL);
            memcpy(cut, buf, k);
            memset(&got, 0xa5, sizeof got);
            CHECK_LT(ekv_msg_decode_change_head(cut, k, &got), 0);
            CHECK(got.owned_ == NULL && got.changes == NULL);
            free(cut);
        }
        free(buf);
    }
}

/* ---- the decoder's kept zone --------------------------------------------------------------- */

/* A 2-element body whose second element is an array of `count` nils: small on the wire, but
 * its objects need count * sizeof(msgpack_object) bytes of zone. Refused (the type is not an
 * integer), after msgpack-c has unpacked all of it. */
static char *wide_body(uint32_t count, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint64(&pk, EKV_MSG_VERSION);
    msgpack_pack_array(&pk, count);
    for (uint32_t i = 0; i < count; i++)
        msgpack_pack_nil(&pk);
    *len = sb.size;
    return sb.data; /* the caller frees it */
}

/* Each thread decodes through one zone it keeps; every kind of message must leave it fit for
 * the next: one that made it grow (it is freed and made again), one too large to use it, a
 * reply whose entries are unpacked while the reply is, and one refused before unpacking. */
static void test_kept_zone_survives_every_size(void)
{
    ekv_msg_t ch = change_put();
    size_t wlen;
    char *wide = wide_body(4000, &wlen);
    CHECK_LE(wlen, 16384);                          /* small enough to use the kept zone */
    CHECK_GT(4000 * sizeof(msgpack_object), 8192u); /* but needs more than its one chunk */
    char *big = malloc(100000);
    CHECK(big != NULL);
    memset(big, 'v', 100000);
    ekv_msg_t large = change_put();
    large.value = bytes(big, 100000);
    ekv_msg_t reply = simple(EKV_MSG_CATCHUP_REPLY, 3, 42, 0);
    ekv_msg_t entries[3] = {change_put(), change_put_plain(), change_put()};
    reply.changes = entries;
    reply.nchanges = 3;
    for (int round = 0; round < 3; round++) {
        roundtrip(&ch);
        CHECK_EQ(try_decode(wide, wlen), EKV_ETYPE);
        roundtrip(&ch);
        roundtrip(&large);
        roundtrip(&ch);
        roundtrip(&reply);
        CHECK_EQ(try_decode(wide, wlen - 1), EKV_ETRUNCATED);
        roundtrip(&ch);
    }
    free(big);
    free(wide);
}

/* Threads decoding at once each use their own zone: no message is read from another's. */
static void *decode_many(void *arg)
{
    ekv_msg_t want = *(const ekv_msg_t *)arg;
    for (int i = 0; i < 2000; i++) {
        want.seq = (uint64_t)i + 1;
        roundtrip(&want);
    }
    return NULL;
}

static void test_threads_decode_at_once(void)
{
    ekv_msg_t a = change_put(), b = change_put_plain();
    b.key = LIT("another key, of another length");
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, decode_many, &a), 0);
    decode_many(&b);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

/* ---- the checksum ------------------------------------------------------------------------- */

/* Every single-bit change anywhere in a CHANGE or HEARTBEAT body (commit time, value, epoch,
 * checksum included) is refused: CRC-32 catches every burst shorter than 33 bits. */
static void test_checksum_refuses_every_flipped_bit(void)
{
    char big[1000];
    fill_pattern(big, sizeof big, 3);
    ekv_msg_t ms[4] = {change_put(), change_delete(), change_put_plain(),
                       simple(EKV_MSG_HEARTBEAT, 0, 42, T_US)};
    ms[2].value = bytes(big, sizeof big);
    ms[3].epoch = 0x0123456789abcdefull; /* a flipped epoch bit would make a PoP start over */
    for (int i = 0; i < 4; i++) {
        size_t len;
        char *buf = encode_ok(&ms[i], &len);
        CHECK_EQ(try_decode(buf, len), EKV_OK);
        for (size_t k = 0; k < len; k++) {
            for (int bit = 0; bit < 8; bit++) {
                buf[k] ^= (char)(1 << bit);
                ekv_msg_t got;
                int rc = ekv_msg_decode(buf, len, &got);
                /* The one flip a heartbeat survives makes it a HELLO_REPLY (type 10 -> 2, the
                 * same four integers), which no subscriber accepts. */
                CHECK(rc < 0 ||
                      (ms[i].type == EKV_MSG_HEARTBEAT && got.type == EKV_MSG_HELLO_REPLY));
                if (rc == EKV_OK)
                    ekv_msg_fini(&got);
                buf[k] ^= (char)(1 << bit);
            }
        }
        free(buf);
    }
}

/* What libzmq 4.3.4's PGM receiver made of a loss: the head of one change and the tail of
 * another in one frame, well-formed msgpack with a value nobody wrote (`value!h` for
 * `value-162`). It is refused, alone and as a catch-up entry. */
static void test_checksum_refuses_a_spliced_change(void)
{
    ekv_msg_t a = change_put_plain(), b = change_put_plain();
    a.value = LIT("value-162");
    b.value = LIT("value!hXY");
    b.seq = a.seq + 1;
    b.time_us = a.time_us + 7;
    size_t alen, blen;
    char *abuf = encode_ok(&a, &alen), *bbuf = encode_ok(&b, &blen);
    CHECK_EQ(alen, blen);
    int refused = 0;
    for (size_t cut = 1; cut < alen; cut++) {
        char *mix = malloc(alen);
        CHECK(mix != NULL);
        memcpy(mix, abuf, cut);
        memcpy(mix + cut, bbuf + cut, alen - cut);
        if (memcmp(mix, abuf, alen) && memcmp(mix, bbuf, alen)) {
            CHECK_LT(try_decode(mix, alen), 0);
            ekv_bytes_t entry = bytes(mix, alen);
            char *reply = NULL;
            size_t rlen = 0;
            CHECK_EQ(ekv_msg_encode_catchup_raw(1, 9, 0, bytes("", 0), &entry, 1, &reply, &rlen),
                     EKV_OK);
            CHECK_EQ(try_decode(reply, rlen), EKV_EMALFORMED);
            free(reply);
            refused++;
        }
        free(mix);
    }
    CHECK_GE(refused, 10);
    free(abuf);
    free(bbuf);
}

/* The cost of the checksum: CRC-32 of a 25 MiB and of a 200-byte value, against an encode
 * and a decode of the same change (printed; checked only for sanity). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench(size_t vlen, int rounds)
{
    char *v = malloc(vlen);
    CHECK(v != NULL);
    fill_pattern(v, vlen, 5);
    ekv_msg_t m = change_put();
    m.value = bytes(v, vlen);
    double crc_s = 0, enc_s = 0, dec_s = 0, t;
    uLong sink = 0;
    for (int r = 0; r < rounds; r++) {
        size_t len;
        t = now_s();
        char *buf = encode_ok(&m, &len);
        enc_s += now_s() - t;
        t = now_s();
        sink ^= crc32_z(0, (const Bytef *)buf, len - 5);
        crc_s += now_s() - t;
        ekv_msg_t got;
        t = now_s();
        CHECK_EQ(ekv_msg_decode(buf, len, &got), EKV_OK);
        dec_s += now_s() - t;
        ekv_msg_fini(&got);
        free(buf);
    }
    printf("   checksum of a %zu-byte value: crc32 %.3f us (%.2f GB/s), encode %.3f us, "
           "decode %.3f us (each includes one crc32) [%lx]\n",
           vlen, crc_s / rounds * 1e6, vlen * rounds / crc_s / 1e9, enc_s / rounds * 1e6,
           dec_s / rounds * 1e6, (unsigned long)(sink & 0xf));
    CHECK(crc_s > 0);
    free(v);
}

static void test_checksum_cost(void)
{
    bench(200, 20000);
    bench(25 * MIB, 8);
}

int main(void)
{
    atexit(on_exit_report);
    EKV_TEST_RUN(test_encode_catchup_raw);
    EKV_TEST_RUN(test_set_commit_time);
    EKV_TEST_RUN(test_decode_change_head);
    EKV_TEST_RUN(test_kept_zone_survives_every_size);
    EKV_TEST_RUN(test_threads_decode_at_once);
    EKV_TEST_RUN(test_checksum_refuses_every_flipped_bit);
    EKV_TEST_RUN(test_checksum_refuses_a_spliced_change);
    EKV_TEST_RUN(test_checksum_cost);
    g_done = 1;
    EKV_TEST_DONE();
}
