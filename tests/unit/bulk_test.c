/* bulk_test: unit tests of the REST bulk body parsers (coordinator/bulk).
 *
 * Bodies shaped like the ones wrangler and the cloudflare SDK send (plain and base64 values,
 * metadata objects, expiration and expiration_ttl), delete bodies in both forms, bulk get
 * bodies, and the broken ones: not JSON, the wrong shape, too many items, an invalid key,
 * metadata or expiration. A failed parse must name the KV-SPEC status and leave nothing to
 * free; a successful one must point each draft at exactly the bytes the client meant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "ekv_err.h"
#include "ekv_test.h"

#define NOW 1800000000 /* epoch seconds the tests run at */

static int put(const char *body, ekv_bulk_t *b, ekv_kv_error_t *err)
{
    memset(err, 0, sizeof *err);
    return ekv_bulk_parse_put(body, strlen(body), NOW, b, err);
}

static void test_put_plain_base64_metadata_expiration(void)
{
    ekv_bulk_t b;
    ekv_kv_error_t err;
    const char *body = "[{\"key\":\"a\",\"value\":\"one\"},"
                       "{\"key\":\"b\",\"value\":\"aGk=\",\"base64\":true,"
                       "\"metadata\":{\"v\":1}},"
                       "{\"key\":\"c\",\"value\":\"x\",\"expiration_ttl\":120},"
                       "{\"key\":\"d\",\"value\":\"\",\"expiration\":1800000600}]";
    CHECK_EQ(put(body, &b, &err), EKV_OK);
    CHECK_EQ(b.n, 4);
    CHECK_MEM(b.drafts[0].key.ptr, b.drafts[0].key.len, "a", 1);
    CHECK_MEM(b.drafts[0].value.ptr, b.drafts[0].value.len, "one", 3);
    CHECK_EQ(b.drafts[0].flags & EKV_MSG_F_METADATA, 0);
    CHECK_EQ(b.drafts[0].expiration, 0);
    CHECK_MEM(b.drafts[1].value.ptr, b.drafts[1].value.len, "hi", 2); /* base64 decoded */
    CHECK(b.drafts[1].flags & EKV_MSG_F_METADATA);
    CHECK_MEM(b.drafts[1].meta.ptr, b.drafts[1].meta.len, "{\"v\":1}", 7);
    CHECK_EQ(b.drafts[2].expiration, NOW + 120); /* a TTL resolves against now */
    CHECK_EQ(b.drafts[3].expiration, 1800000600);
    CHECK_EQ(b.drafts[3].value.len, 0);
    ekv_bulk_fini(&b);
    CHECK(b.drafts == NULL && b.doc == NULL);
    ekv_bulk_fini(&b); /* no-op on a zeroed result */
}

static void test_put_rejects(void)
{
    static const struct {
        const char *body;
        int status;
    } cases[] = {
        {"not json", 400},
        {"{\"key\":\"a\",\"value\":\"b\"}", 413},                             /* not an array */
        {"[{\"value\":\"b\"}]", 400},                                         /* no key */
        {"[{\"key\":\"\",\"value\":\"b\"}]", 400},                            /* empty key */
        {"[{\"key\":\"..\",\"value\":\"b\"}]", 400},                          /* illegal key */
        {"[{\"key\":\"a\",\"value\":\"b\",\"expiration_ttl\":59}]", 400},     /* TTL under 60 s */
        {"[{\"key\":\"a\",\"value\":\"b\",\"expiration\":1800000010}]", 400}, /* too soon */
        {"[{\"key\":\"a\",\"value\":\"!!\",\"base64\":true}]", 400},          /* bad base64 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ekv_bulk_t b;
        ekv_kv_error_t err;
        if (put(cases[i].body, &b, &err) != EKV_EINVAL)
            EKV_FAIL_("accepted %s", cases[i].body);
        if (err.status != cases[i].status)
            EKV_FAIL_("%s: status %d, want %d (%s)", cases[i].body, err.status, cases[i].status,
                      err.message);
        CHECK(err.message[0] != '\0');
        CHECK(b.drafts == NULL && b.doc == NULL && b.n == 0); /* nothing to free */
    }
    /* Metadata past 1024 bytes serialized: the KV-SPEC 413. */
    char big[1400];
    int n = snprintf(big, sizeof big, "[{\"key\":\"a\",\"value\":\"b\",\"metadata\":\"");
    memset(big + n, 'm', 1100);
    strcpy(big + n + 1100, "\"}]");
    ekv_bulk_t b;
    ekv_kv_error_t err;
    CHECK_EQ(put(big, &b, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 413);
}

static void test_put_item_limit(void)
{
    /* 10,000 items are accepted, 10,001 are not. */
    size_t cap = 10001 * 40 + 16; /* each item is at most 30 bytes with its comma */
    char *body = malloc(cap);
    CHECK(body != NULL);
    for (int items = 10000; items <= 10001; items++) {
        size_t off = 0;
        body[off++] = '[';
        for (int i = 0; i < items; i++)
            off += (size_t)snprintf(body + off, cap - off, "%s{\"key\":\"k%d\",\"value\":\"v\"}",
                                    i ? "," : "", i);
        body[off++] = ']';
        ekv_bulk_t b;
        ekv_kv_error_t err;
        int rc = ekv_bulk_parse_put(body, off, NOW, &b, &err);
        if (items == 10000) {
            CHECK_EQ(rc, EKV_OK);
            CHECK_EQ(b.n, 10000);
            ekv_bulk_fini(&b);
        } else {
            CHECK_EQ(rc, EKV_EINVAL);
            CHECK_EQ(err.status, 413);
        }
    }
    free(body);
}

static void test_delete_both_forms(void)
{
    ekv_bulk_t b;
    ekv_kv_error_t err;
    const char *body = "[\"a\",{\"key\":\"b\"},\"c/d\"]";
    CHECK_EQ(ekv_bulk_parse_delete(body, strlen(body), &b, &err), EKV_OK);
    CHECK_EQ(b.n, 3);
    CHECK_MEM(b.drafts[1].key.ptr, b.drafts[1].key.len, "b", 1);
    CHECK_MEM(b.drafts[2].key.ptr, b.drafts[2].key.len, "c/d", 3);
    ekv_bulk_fini(&b);
    const char *bad = "[\"a\",42]";
    CHECK_EQ(ekv_bulk_parse_delete(bad, strlen(bad), &b, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 400);
}

static void test_get(void)
{
    ekv_bulk_get_t g;
    ekv_kv_error_t err;
    const char *body = "{\"keys\":[\"a\",\"b\"],\"type\":\"json\",\"withMetadata\":true}";
    CHECK_EQ(ekv_bulk_parse_get(body, strlen(body), &g, &err), EKV_OK);
    CHECK_EQ(g.nkeys, 2);
    CHECK_EQ(g.as_json, 1);
    CHECK_EQ(g.with_meta, 1);
    CHECK_EQ(g.key_err.status, 0);
    ekv_bulk_get_fini(&g);

    /* Keys read up to the first invalid one, which then fails the request. */
    const char *partial = "{\"keys\":[\"a\",\"..\",\"c\"]}";
    CHECK_EQ(ekv_bulk_parse_get(partial, strlen(partial), &g, &err), EKV_OK);
    CHECK_EQ(g.nkeys, 1);
    CHECK_EQ(g.as_json, 0);
    CHECK_EQ(g.key_err.status, 400);
    ekv_bulk_get_fini(&g);

    static const char *const bad[] = {"[\"a\"]", "{\"keys\":[]}", "{\"keys\":\"a\"}",
                                      "{\"keys\":[\"a\"],\"type\":\"arrayBuffer\"}", "nope"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ekv_bulk_parse_get(bad[i], strlen(bad[i]), &g, &err) != EKV_EINVAL)
            EKV_FAIL_("accepted %s", bad[i]);
        CHECK_EQ(err.status, 400);
        CHECK(g.doc == NULL && g.keys == NULL);
    }
    /* 100 keys at most. */
    char body101[1200];
    size_t off = (size_t)snprintf(body101, sizeof body101, "{\"keys\":[");
    for (int i = 0; i < 101; i++)
        off += (size_t)snprintf(body101 + off, sizeof body101 - off, "%s\"%d\"", i ? "," : "", i);
    off += (size_t)snprintf(body101 + off, sizeof body101 - off, "]}");
    CHECK_EQ(ekv_bulk_parse_get(body101, off, &g, &err), EKV_EINVAL);
    CHECK_EQ(err.status, 400);
}

int main(void)
{
    EKV_TEST_RUN(test_put_plain_base64_metadata_expiration);
    EKV_TEST_RUN(test_put_rejects);
    EKV_TEST_RUN(test_put_item_limit);
    EKV_TEST_RUN(test_delete_both_forms);
    EKV_TEST_RUN(test_get);
    EKV_TEST_DONE();
}
