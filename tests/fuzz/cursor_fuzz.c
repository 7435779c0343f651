/* cursor_fuzz: libFuzzer target of the list-cursor decoder (proto/ekv_kv).
 *
 * The input, as NUL-terminated text (it ends at its first NUL byte), is what a client may
 * send as ?cursor=. It must either be refused with 400 "Invalid cursor" (code 10041), or
 * decode to a key of at most 512 bytes whose cursor is exactly the input: ekv_kv.h promises
 * that decode rejects anything encode did not make. Any broken promise aborts, which
 * libFuzzer reports with the input as reproducer. replay_main.c feeds the committed corpus to
 * the same entry point under ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_kv.h"

static void fail(const char *what, const char *text)
{
    fprintf(stderr, "cursor_fuzz: %s: \"%.200s\"\n", what, text);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *key = NULL;
    size_t len = 0;
    ekv_kv_error_t err;
    memset(&err, 0, sizeof err);
    int rc = ekv_kv_cursor_decode(text, &key, &len, &err);
    if (rc == EKV_OK) {
        if (!key)
            fail("decoded without a key", text);
        if (len > EKV_KV_MAX_KEY)
            fail("decoded key longer than 512 bytes", text);
        char *again = ekv_kv_cursor_encode(key, len);
        if (!again || strcmp(again, text) != 0)
            fail("accepted a cursor the encoder does not make", text);
        free(again);
    } else if (rc != EKV_EINVAL || err.status != 400 || err.code != EKV_REST_INVALID_CURSOR ||
               strcmp(err.message, "Invalid cursor") != 0) {
        fail("refused without 400 Invalid cursor (10041)", text);
    }
    free(key);
    free(text);
    return 0;
}
