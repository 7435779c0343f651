/* common/ekv_base64: RFC 4648's test vectors in both alphabets, round trips of every length
 * over bytes that differ between them, and what decoding refuses. */
#include <stdlib.h>
#include <string.h>

#include "ekv_base64.h"
#include "ekv_test.h"

static void test_rfc4648_vectors(void)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        char *s = ekv_b64_encode(in[i], strlen(in[i]), EKV_B64_STD);
        char *u = ekv_b64_encode(in[i], strlen(in[i]), EKV_B64_URL);
        CHECK_STR(s, std[i]);
        CHECK_STR(u, url[i]);
        size_t n;
        char *d = ekv_b64_decode(s, strlen(s), &n);
        CHECK(d != NULL);
        CHECK_MEM(d, n, in[i], strlen(in[i]));
        CHECK_EQ(d[n], '\0'); /* a NUL after the bytes, not counted */
        free(d);
        d = ekv_b64_decode(u, strlen(u), &n); /* no padding */
        CHECK(d != NULL);
        CHECK_MEM(d, n, in[i], strlen(in[i]));
        free(d);
        free(s);
        free(u);
    }
}

static void test_round_trips(void)
{
    /* 0xfb 0xff: "+/8" in the standard alphabet, "-_8" in the URL one. */
    const unsigned char bytes[] = {0xfb, 0xff, 0, 255, 'a', 0x80, 0x7f, '\n', 0xfe, 0x3e, 0x3f};
    for (size_t len = 0; len <= sizeof bytes; len++)
        for (int kind = EKV_B64_STD; kind <= EKV_B64_URL; kind++) {
            char *e = ekv_b64_encode(bytes, len, (ekv_b64_kind_t)kind);
            CHECK_EQ(strlen(e), kind == EKV_B64_STD ? (len + 2) / 3 * 4 : (len * 4 + 2) / 3);
            CHECK(strpbrk(e, kind == EKV_B64_STD ? "-_" : "+/=") == NULL);
            size_t n;
            char *d = ekv_b64_decode(e, strlen(e), &n);
            CHECK(d != NULL);
            CHECK_MEM(d, n, bytes, len);
            free(d);
            free(e);
        }
}

static void test_refused(void)
{
    size_t n = 99;
    static const char *const bad[] = {"dH!v", "Zm9v Yg", "Z", "Zm9vY", "Zm9v\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(ekv_b64_decode(bad[i], strlen(bad[i]), &n) == NULL);
    CHECK_EQ(n, 99); /* untouched on failure */
    /* Only the given length counts: a stray symbol past it is not read. */
    char *d = ekv_b64_decode("Zm9v!", 4, &n);
    CHECK(d != NULL);
    CHECK_MEM(d, n, "foo", 3);
    free(d);
}

int main(void)
{
    EKV_TEST_RUN(test_rfc4648_vectors);
    EKV_TEST_RUN(test_round_trips);
    EKV_TEST_RUN(test_refused);
    EKV_TEST_DONE();
}
