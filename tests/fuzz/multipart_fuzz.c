/* multipart_fuzz: libFuzzer target of the multipart/form-data parser (coordinator/multipart).
 *
 * Input layout: byte 0 picks a boundary length L = 1 + byte0 % 70 (RFC 2046 allows 1..70),
 * the next L bytes are the boundary, the rest is the body. The body is copied into a buffer
 * of exactly its size, so any read past its end is caught by the sanitizers. Whatever the
 * input, the parser must answer EKV_OK or EKV_EMALFORMED, never write past the 8 parts it was
 * given, and every part it returns must point inside the body. The whole input, as a
 * NUL-terminated string, is also fed to the Content-Type boundary extraction, which must give
 * a 1..70 character boundary that fits its buffer, or EKV_EMALFORMED. A broken promise
 * aborts, which libFuzzer reports with the input as reproducer. replay_main.c feeds the
 * committed corpus to the same entry point under ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "multipart.h"

#define MAX_PARTS 8

static void fail(const char *what)
{
    fprintf(stderr, "multipart_fuzz: %s\n", what);
    abort();
}

static int inside(const char *p, size_t n, const char *body, size_t len)
{
    return p >= body && n <= len && p - body <= (ptrdiff_t)(len - n);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    size_t blen = 1 + data[0] % 70;
    if (size < 1 + blen)
        return;
    char boundary[71];
    memcpy(boundary, data + 1, blen);
    boundary[blen] = '\0';
    size_t len = size - 1 - blen;
    char *body = malloc(len ? len : 1);
    if (!body)
        return;
    if (len)
        memcpy(body, data + 1 + blen, len);
    ekv_part_t parts[MAX_PARTS + 1];
    memset(parts, 0, sizeof parts);
    size_t n = 0;
    int rc = ekv_multipart_parse(boundary, body, len, parts, MAX_PARTS, &n);
    if (rc != EKV_OK && rc != EKV_EMALFORMED)
        fail("unexpected result code");
    if (parts[MAX_PARTS].name || parts[MAX_PARTS].data)
        fail("wrote past the parts array");
    if (rc == EKV_OK) {
        if (n > MAX_PARTS)
            fail("more parts than max");
        for (size_t i = 0; i < n; i++) {
            if (!inside(parts[i].name, parts[i].name_len, body, len))
                fail("part name outside the body");
            if (!inside(parts[i].data, parts[i].len, body, len))
                fail("part data outside the body");
            if (memchr(parts[i].name, '"', parts[i].name_len))
                fail("part name contains its closing quote");
        }
    }
    free(body);
}

static void fuzz_boundary(const uint8_t *data, size_t size)
{
    char *ct = malloc(size + 1);
    if (!ct)
        return;
    memcpy(ct, data, size);
    ct[size] = '\0';
    char buf[80];
    memset(buf, 'X', sizeof buf);
    int rc = ekv_multipart_boundary(ct, buf, sizeof buf);
    if (rc == EKV_OK) {
        size_t n = strnlen(buf, sizeof buf);
        if (n == sizeof buf)
            fail("boundary not NUL-terminated");
        if (n == 0 || n > 70)
            fail("boundary length outside 1..70");
        if (!strstr(ct, buf))
            fail("boundary is not part of the header");
    } else if (rc != EKV_EMALFORMED) {
        fail("unexpected result code from boundary");
    }
    /* A buffer too small for any boundary must not be written past. */
    char tiny[2] = {'X', 'X'};
    rc = ekv_multipart_boundary(ct, tiny, 1);
    if (rc == EKV_OK)
        fail("a boundary fit into a 1-byte buffer");
    if (tiny[1] != 'X')
        fail("wrote past a 1-byte buffer");
    free(ct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse(data, size);
    fuzz_boundary(data, size);
    return 0;
}
