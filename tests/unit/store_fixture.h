/* store_fixture: what the store's unit tests (store_test.c, store_log_test.c) and the
 * committer's (committer_test.c) share: opening a store in a test folder, drafts of puts and
 * deletes over C strings, one-draft commits, and checks of what a key holds. Every helper
 * checks as it goes (ekv_test.h), so a test reads as the steps it takes. Header-only and
 * static inline, so a program that uses a few of them has no unused-function warnings. */
#ifndef EKV_STORE_FIXTURE_H
#define EKV_STORE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_msg.h"
#include "ekv_test.h"
#include "store.h"

#define T0 INT64_C(1700000000000000) /* a commit time, microseconds */

static inline ekv_bytes_t B(const char *s)
{
    return (ekv_bytes_t){s, strlen(s)};
}

/* Opens the store in dir under durability d; a failure fails the test, its message shown. */
static inline ekv_store_t *open_with(const char *dir, ekv_store_durability_t d)
{
    char err[512] = "";
    ekv_store_t *s = ekv_store_open(dir, d, err, sizeof err);
    if (!s)
        fprintf(stderr, "open %s: %s\n", dir, err);
    CHECK(s != NULL);
    return s;
}

static inline ekv_store_t *open_store(const char *dir)
{
    return open_with(dir, EKV_STORE_FSYNC);
}

/* A put draft; meta NULL means no metadata, exp 0 no expiration. */
static inline ekv_msg_t put_draft(const char *ns, const char *key, const char *value,
                                  const char *meta, int64_t exp)
{
    ekv_msg_t m = {0};
    m.op = EKV_OP_PUT;
    m.ns = B(ns);
    m.key = B(key);
    m.value = B(value);
    m.expiration = exp;
    if (meta) {
        m.flags = EKV_MSG_F_METADATA;
        m.meta = B(meta);
    }
    return m;
}

static inline ekv_msg_t del_draft(const char *ns, const char *key)
{
    ekv_msg_t m = {0};
    m.op = EKV_OP_DELETE;
    m.ns = B(ns);
    m.key = B(key);
    return m;
}

/* Commits one draft at commit_us; returns its sequence number. */
static inline uint64_t commit1(ekv_store_t *s, ekv_msg_t m, int64_t commit_us)
{
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ(ekv_store_commit(s, &m, 1, commit_us, &body, &len), EKV_OK);
    CHECK(body != NULL);
    free(body);
    return m.seq;
}

static inline uint64_t put(ekv_store_t *s, const char *ns, const char *key, const char *value,
                           const char *meta, int64_t exp)
{
    return commit1(s, put_draft(ns, key, value, meta, exp), T0);
}

/* Puts value under each one-letter key of `keys` in namespace "ns"; returns the last seq. */
static inline uint64_t put_each(ekv_store_t *s, const char *keys, const char *value, int64_t exp)
{
    uint64_t seq = 0;
    for (; *keys; keys++)
        seq = put(s, "ns", (char[]){*keys, '\0'}, value, NULL, exp);
    return seq;
}

/* Expects (ns, key) to hold value. */
static inline void expect_value(ekv_store_t *s, const char *ns, const char *key, const char *value)
{
    ekv_msg_t m;
    CHECK_EQ(ekv_store_get(s, B(ns), B(key), &m), EKV_OK);
    CHECK_MEM(m.value.ptr, m.value.len, value, strlen(value));
    ekv_msg_fini(&m);
}

/* Expects (ns, key) to be absent. */
static inline void expect_missing(ekv_store_t *s, const char *ns, const char *key)
{
    ekv_msg_t m;
    memset(&m, 0, sizeof m);
    CHECK_EQ(ekv_store_get(s, B(ns), B(key), &m), EKV_ENOTFOUND);
}

#endif
