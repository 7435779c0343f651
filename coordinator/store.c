/* store: RocksDB adapter for the coordinator (see store.h for the layout). */
#include "store.h"

#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_mem.h"

enum { CF_META, CF_DATA, CF_LOG, CF_COUNT };
static const char *cf_names[CF_COUNT] = {"default", "data", "log"};

struct ekv_store {
    rocksdb_t *db;                       /* the database */
    rocksdb_options_t *opts;             /* open options */
    rocksdb_writeoptions_t *wopts;       /* sync per durability setting */
    rocksdb_readoptions_t *ropts;        /* default read options */
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    uint64_t last_seq;                   /* last committed sequence number */
};

static void put_be64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (char)(v & 0xff);
}

static uint64_t get_be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

/* Builds the data-CF key of (ns, key) into a malloc'd buffer. */
static char *data_key(ekv_bytes_t ns, ekv_bytes_t key, size_t *len)
{
    size_t nl = ns.len > 255 ? 255 : ns.len;
    char *k = ekv_malloc(1 + nl + key.len);
    k[0] = (char)nl;
    memcpy(k + 1, ns.ptr, nl);
    if (key.len)
        memcpy(k + 1 + nl, key.ptr, key.len);
    *len = 1 + nl + key.len;
    return k;
}

static uint64_t recover_last_seq(ekv_store_t *s)
{
    uint64_t seq = 0;
    size_t vlen;
    char *err = NULL;
    char *v = rocksdb_get_cf(s->db, s->ropts, s->cf[CF_META], "last_seq", 8, &vlen, &err);
    if (!err && v && vlen == 8)
        seq = get_be64(v);
    free(v);
    free(err);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[CF_LOG]);
    rocksdb_iter_seek_to_last(it);
    if (rocksdb_iter_valid(it)) {
        size_t klen;
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen == 8 && get_be64(k) > seq)
            seq = get_be64(k);
    }
    rocksdb_iter_destroy(it);
    return seq;
}

ekv_store_t *ekv_store_open(const char *dir, ekv_store_durability_t durability, char *errbuf,
                            size_t errlen)
{
    ekv_store_t *s = ekv_calloc(1, sizeof *s);
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_create_missing_column_families(s->opts, 1);
    rocksdb_options_increase_parallelism(s->opts, 2);
    const rocksdb_options_t *cf_opts[CF_COUNT] = {s->opts, s->opts, s->opts};
    char *err = NULL;
    s->db = rocksdb_open_column_families(s->opts, dir, CF_COUNT, cf_names, cf_opts, s->cf, &err);
    if (err) {
        snprintf(errbuf, errlen, "cannot open store %s: %s", dir, err);
        free(err);
        goto fail;
    }
    s->wopts = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wopts, durability == EKV_STORE_FSYNC);
    rocksdb_writeoptions_disable_WAL(s->wopts, durability == EKV_STORE_NONE);
    s->ropts = rocksdb_readoptions_create();
    s->last_seq = recover_last_seq(s);
    return s;
fail:
    ekv_store_destroy(&s);
    return NULL;
}

void ekv_store_destroy(ekv_store_t **self_p)
{
    ekv_store_t *s = *self_p;
    if (!s)
        return;
    for (int i = 0; i < CF_COUNT; i++)
        if (s->cf[i])
            rocksdb_column_family_handle_destroy(s->cf[i]);
    if (s->db)
        rocksdb_close(s->db);
    if (s->wopts)
        rocksdb_writeoptions_destroy(s->wopts);
    if (s->ropts)
        rocksdb_readoptions_destroy(s->ropts);
    rocksdb_options_destroy(s->opts);
    free(s);
    *self_p = NULL;
}

uint64_t ekv_store_last_seq(const ekv_store_t *self)
{
    return self->last_seq;
}

/* Adds one change (its data entry and its log entry) to the batch. */
static void batch_change(ekv_store_t *s, rocksdb_writebatch_t *b, const ekv_msg_t *c,
                         const char *body, size_t len)
{
    size_t klen;
    char *k = data_key(c->ns, c->key, &klen);
    if (c->op == EKV_OP_PUT)
        rocksdb_writebatch_put_cf(b, s->cf[CF_DATA], k, klen, body, len);
    else
        rocksdb_writebatch_delete_cf(b, s->cf[CF_DATA], k, klen);
    free(k);
    char lk[8];
    put_be64(lk, c->seq);
    rocksdb_writebatch_put_cf(b, s->cf[CF_LOG], lk, 8, body, len);
}

int ekv_store_commit(ekv_store_t *self, ekv_msg_t *changes, size_t n, int64_t commit_us,
                     char **bodies, size_t *lens)
{
    rocksdb_writebatch_t *b = rocksdb_writebatch_create();
    int rc = EKV_OK;
    size_t done = 0;
    for (; done < n; done++) {
        ekv_msg_t *c = &changes[done];
        c->type = EKV_MSG_CHANGE;
        c->seq = self->last_seq + 1 + done;
        c->time_us = commit_us;
        rc = ekv_msg_encode(c, &bodies[done], &lens[done]);
        if (rc)
            break;
        batch_change(self, b, c, bodies[done], lens[done]);
    }
    if (rc == EKV_OK) {
        char seq[8];
        put_be64(seq, self->last_seq + n);
        rocksdb_writebatch_put_cf(b, self->cf[CF_META], "last_seq", 8, seq, 8);
        char *err = NULL;
        rocksdb_write(self->db, self->wopts, b, &err);
        if (err) {
            ekv_error("commit of %zu changes failed: %s", n, err);
            free(err);
            rc = EKV_ESTORE;
        }
    }
    rocksdb_writebatch_destroy(b);
    if (rc) {
        for (size_t i = 0; i < done; i++)
            free(bodies[i]);
        return rc;
    }
    self->last_seq += n;
    return EKV_OK;
}

int ekv_store_get(ekv_store_t *self, ekv_bytes_t ns, ekv_bytes_t key, ekv_msg_t *out)
{
    size_t klen, vlen;
    char *k = data_key(ns, key, &klen);
    char *err = NULL;
    char *v = rocksdb_get_cf(self->db, self->ropts, self->cf[CF_DATA], k, klen, &vlen, &err);
    free(k);
    if (err) {
        ekv_error("get failed: %s", err);
        free(err);
        return EKV_ESTORE;
    }
    if (!v)
        return EKV_ENOTFOUND;
    int rc = ekv_msg_decode(v, vlen, out);
    free(v);
    if (rc) {
        ekv_error("stored record is corrupt: %s", ekv_strerror(rc));
        return EKV_ESTORE;
    }
    return EKV_OK;
}

int ekv_store_log_read(ekv_store_t *self, uint64_t after, size_t max_n, size_t max_bytes,
                       ekv_bytes_t **bodies, size_t *n, uint64_t *first_seq)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(self->db, self->ropts, self->cf[CF_LOG]);
    rocksdb_iter_seek_to_first(it);
    size_t klen;
    *first_seq = rocksdb_iter_valid(it) ? get_be64(rocksdb_iter_key(it, &klen)) : 0;
    char start[8];
    put_be64(start, after + 1);
    rocksdb_iter_seek(it, start, 8);
    size_t cap = 64, count = 0, bytes = 0;
    ekv_bytes_t *out = ekv_malloc(cap * sizeof *out);
    for (; rocksdb_iter_valid(it) && count < max_n && bytes < max_bytes; rocksdb_iter_next(it)) {
        size_t vlen;
        const char *v = rocksdb_iter_value(it, &vlen);
        if (count == cap)
            out = ekv_realloc(out, (cap *= 2) * sizeof *out);
        out[count].ptr = ekv_memdup(v, vlen);
        out[count++].len = vlen;
        bytes += vlen;
    }
    rocksdb_iter_destroy(it);
    *bodies = out;
    *n = count;
    return EKV_OK;
}
