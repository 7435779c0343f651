/* msg_fuzz: libFuzzer target of the wire decoder (proto/ekv_msg).
 *
 * Any input must decode to a message or an error code, never a crash, an over-read or a
 * leak. A message that decodes must survive a round trip: re-encoding it succeeds, the new
 * body decodes to an equal message, and encoding that again gives the same bytes. Any
 * mismatch aborts, which libFuzzer reports as a crash with the input as reproducer.
 * replay_main.c feeds the committed corpus to the same entry point under ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_msg.h"

static void fail(const char *what)
{
    fprintf(stderr, "msg_fuzz: %s\n", what);
    abort();
}

static void check_bytes(ekv_bytes_t a, ekv_bytes_t b, const char *what)
{
    if (a.len != b.len || (a.len && memcmp(a.ptr, b.ptr, a.len) != 0))
        fail(what);
    /* Decoded byte strings carry a NUL after their last byte. */
    if ((a.ptr && a.ptr[a.len] != '\0') || (b.ptr && b.ptr[b.len] != '\0'))
        fail("decoded bytes without a trailing NUL");
}

static void check_same(const ekv_msg_t *a, const ekv_msg_t *b)
{
    if (a->type != b->type)
        fail("type differs");
    if (a->req_id != b->req_id || a->seq != b->seq || a->time_us != b->time_us)
        fail("req_id, seq or time differs");
    if (a->status != b->status || a->op != b->op || a->flags != b->flags ||
        a->expiration != b->expiration)
        fail("status, op, flags or expiration differs");
    check_bytes(a->ns, b->ns, "ns differs");
    check_bytes(a->key, b->key, "key differs");
    check_bytes(a->value, b->value, "value differs");
    check_bytes(a->meta, b->meta, "meta differs");
    check_bytes(a->text, b->text, "text differs");
    if (a->nchanges != b->nchanges)
        fail("nchanges differs");
    if (a->nchanges && (!a->changes || !b->changes))
        fail("changes missing");
    for (size_t i = 0; i < a->nchanges; i++) {
        if (a->changes[i].type != EKV_MSG_CHANGE)
            fail("catch-up entry is not a CHANGE");
        check_same(&a->changes[i], &b->changes[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ekv_msg_t first;
    int rc = ekv_msg_decode(data, size, &first);
    if (rc != EKV_OK) {
        if (rc > 0 || first.owned_ || first.changes || first.nchanges)
            fail("failed decode left something behind");
        return 0;
    }
    char *buf = NULL;
    size_t len = 0;
    rc = ekv_msg_encode(&first, &buf, &len);
    if (rc != EKV_OK) {
        /* Re-encoding can grow a body (a str header becomes a bin one), so only a body near
         * the limit may legitimately fail. */
        if (rc != EKV_ETOOBIG || size < EKV_MSG_MAX_BODY - 4096)
            fail("a decoded message does not re-encode");
        ekv_msg_fini(&first);
        return 0;
    }
    ekv_msg_t second;
    if (ekv_msg_decode(buf, len, &second) != EKV_OK)
        fail("a re-encoded message does not decode");
    check_same(&first, &second);

    char *again = NULL;
    size_t again_len = 0;
    if (ekv_msg_encode(&second, &again, &again_len) != EKV_OK)
        fail("second re-encode failed");
    if (again_len != len || memcmp(again, buf, len) != 0)
        fail("encoding is not stable");

    free(again);
    free(buf);
    ekv_msg_fini(&second);
    ekv_msg_fini(&first);
    return 0;
}
