/* store: RocksDB adapter for the coordinator (see store.h for the layout). */
#include "store.h"

#include <jansson.h>
#include <stdatomic.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_mem.h"

enum { CF_META, CF_DATA, CF_LOG, CF_EXPIRY, CF_NS, CF_COUNT };
static const char *cf_names[CF_COUNT] = {"default", "data", "log", "expiry", "ns"};

struct ekv_store {
    rocksdb_t *db;                 /* the database */
    rocksdb_options_t *opts;       /* open options */
    rocksdb_writeoptions_t *wopts; /* sync per durability setting */
    rocksdb_writeoptions_t *sync;  /* always synced (namespace changes) */
    rocksdb_readoptions_t *ropts;  /* default read options */
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    _Atomic uint64_t last_seq; /* last committed sequence (written by the committer
                                  thread, read by the loop) */
    uint64_t epoch;            /* identity of this sequence (see ekv_store_epoch) */
    void (*scan_hook)(void *); /* tests: runs between a scan's sequence read and its iterator */
    void *scan_hook_arg;
};

void ekv_store_set_scan_hook(ekv_store_t *self, void (*fn)(void *arg), void *arg)
{
    self->scan_hook = fn;
    self->scan_hook_arg = arg;
}

static void scan_hook(ekv_store_t *s)
{
    if (s->scan_hook)
        s->scan_hook(s->scan_hook_arg);
}

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

/* Builds [ns length][ns][key] after `pre` leading bytes left for the caller. */
static char *data_key(ekv_bytes_t ns, ekv_bytes_t key, size_t pre, size_t *len)
{
    size_t nl = ns.len > 255 ? 255 : ns.len;
    char *k = ekv_malloc(pre + 1 + nl + key.len);
    k[pre] = (char)nl;
    memcpy(k + pre + 1, ns.ptr, nl);
    if (key.len)
        memcpy(k + pre + 1 + nl, key.ptr, key.len);
    *len = pre + 1 + nl + key.len;
    return k;
}

static int check(char *err, const char *what)
{
    if (!err)
        return EKV_OK;
    ekv_error("%s: %s", what, err);
    free(err);
    return EKV_ESTORE;
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

/* A random non-zero identity (the clock and pid stand in if the kernel has no entropy). */
static uint64_t new_epoch(void)
{
    uint64_t e = 0;
    if (getrandom(&e, sizeof e, 0) != (ssize_t)sizeof e) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        e = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
    }
    return e ? e : 1;
}

/* Reads a meta value of exactly want bytes into out; 0 when absent or of another size. */
static int meta_get(ekv_store_t *s, const char *name, char *out, size_t want)
{
    size_t vlen;
    char *err = NULL;
    char *v = rocksdb_get_cf(s->db, s->ropts, s->cf[CF_META], name, strlen(name), &vlen, &err);
    int ok = !err && v && vlen == want;
    if (ok)
        memcpy(out, v, want);
    free(v);
    free(err);
    return ok;
}

/* The epoch survives a restart only when no acknowledged change can have been lost: the
 * folder holds one, and the previous run either closed cleanly (its "running" mark is gone)
 * or synced every commit. Otherwise (a new or wiped folder, a crash under durability wal or
 * none) the sequence may restart lower, and PoPs must not mistake new changes for ones they
 * have seen: a new epoch tells them to start over. */
static int settle_epoch(ekv_store_t *s, ekv_store_durability_t durability)
{
    char e[8], running;
    int have = meta_get(s, "epoch", e, 8);
    int crashed = meta_get(s, "running", &running, 1);
    s->epoch = have ? get_be64(e) : 0;
    if (!have || s->epoch == 0 || (crashed && running != EKV_STORE_FSYNC)) {
        uint64_t old = s->epoch;
        s->epoch = new_epoch();
        if (have)
            ekv_warn("the store's previous run stopped without closing (durability %s): new "
                     "epoch %016llx (was %016llx), PoPs resynchronise",
                     running == EKV_STORE_NONE ? "none" : "wal", (unsigned long long)s->epoch,
                     (unsigned long long)old);
    }
    put_be64(e, s->epoch);
    running = (char)durability;
    char *err = NULL;
    rocksdb_writebatch_t *b = rocksdb_writebatch_create();
    rocksdb_writebatch_put_cf(b, s->cf[CF_META], "epoch", 5, e, 8);
    rocksdb_writebatch_put_cf(b, s->cf[CF_META], "running", 7, &running, 1);
    rocksdb_write(s->db, s->sync, b, &err);
    rocksdb_writebatch_destroy(b);
    return check(err, "epoch");
}

ekv_store_t *ekv_store_open(const char *dir, ekv_store_durability_t durability, char *errbuf,
                            size_t errlen)
{
    ekv_store_t *s = ekv_calloc(1, sizeof *s);
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_create_missing_column_families(s->opts, 1);
    rocksdb_options_increase_parallelism(s->opts, 2);
    /* Memory stays bounded and flat: memtables of all column families together flush at
     * 64 MiB (RocksDB's default lets five families grow to 64 MiB each, twice over). */
    rocksdb_options_set_write_buffer_size(s->opts, 16u << 20);
    rocksdb_options_set_db_write_buffer_size(s->opts, 64u << 20);
    const rocksdb_options_t *cf_opts[CF_COUNT];
    for (int i = 0; i < CF_COUNT; i++)
        cf_opts[i] = s->opts;
    char *err = NULL;
    s->db = rocksdb_open_column_families(s->opts, dir, CF_COUNT, cf_names, cf_opts, s->cf, &err);
    if (err) {
        snprintf(errbuf, errlen, "cannot open store %s: %s", dir, err);
        free(err);
        ekv_store_destroy(&s);
        return NULL;
    }
    s->wopts = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wopts, durability == EKV_STORE_FSYNC);
    rocksdb_writeoptions_disable_WAL(s->wopts, durability == EKV_STORE_NONE);
    s->sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->sync, 1);
    s->ropts = rocksdb_readoptions_create();
    s->last_seq = recover_last_seq(s);
    if (settle_epoch(s, durability) != EKV_OK) {
        snprintf(errbuf, errlen, "cannot write the store's epoch in %s", dir);
        ekv_store_destroy(&s);
        return NULL;
    }
    return s;
}

uint64_t ekv_store_epoch(const ekv_store_t *self)
{
    return self->epoch;
}

void ekv_store_destroy(ekv_store_t **self_p)
{
    ekv_store_t *s = *self_p;
    if (!s)
        return;
    if (s->db && s->sync && s->epoch) { /* a clean close: the epoch may stay */
        char *err = NULL;
        rocksdb_delete_cf(s->db, s->sync, s->cf[CF_META], "running", 7, &err);
        check(err, "clearing the running mark");
    }
    for (int i = 0; i < CF_COUNT; i++)
        if (s->cf[i])
            rocksdb_column_family_handle_destroy(s->cf[i]);
    if (s->db)
        rocksdb_close(s->db);
    if (s->wopts)
        rocksdb_writeoptions_destroy(s->wopts);
    if (s->sync)
        rocksdb_writeoptions_destroy(s->sync);
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

/* ---- commit ------------------------------------------------------------------------------ */

static void batch_expiry(ekv_store_t *s, rocksdb_writebatch_t *b, const ekv_msg_t *c, int put)
{
    size_t klen;
    char *k = data_key(c->ns, c->key, 8, &klen);
    put_be64(k, (uint64_t)c->expiration);
    if (put)
        rocksdb_writebatch_put_cf(b, s->cf[CF_EXPIRY], k, klen, "", 0);
    else
        rocksdb_writebatch_delete_cf(b, s->cf[CF_EXPIRY], k, klen);
    free(k);
}

/* Adds one change (data entry, log entry, expiry index) to the batch. */
static void batch_change(ekv_store_t *s, rocksdb_writebatch_t *b, const ekv_msg_t *c,
                         const char *body, size_t len)
{
    size_t klen;
    char *k = data_key(c->ns, c->key, 0, &klen);
    if (c->op == EKV_OP_PUT)
        rocksdb_writebatch_put_cf(b, s->cf[CF_DATA], k, klen, body, len);
    else
        rocksdb_writebatch_delete_cf(b, s->cf[CF_DATA], k, klen);
    free(k);
    if (c->expiration > 0)
        batch_expiry(s, b, c, c->op == EKV_OP_PUT);
    char lk[8];
    put_be64(lk, c->seq);
    rocksdb_writebatch_put_cf(b, s->cf[CF_LOG], lk, 8, body, len);
}

static int same_key(const ekv_msg_t *a, const ekv_msg_t *b)
{
    return a->ns.len == b->ns.len && a->key.len == b->key.len &&
           !memcmp(a->ns.ptr, b->ns.ptr, a->ns.len) && !memcmp(a->key.ptr, b->key.ptr, a->key.len);
}

/* For a conditional delete (EKV_STORE_F_IF_EXPIRES): 1 when the record is still the one
 * that expires at c->expiration - not rewritten by a commit since the sweeper looked, nor
 * by an earlier change of this batch. */
static int still_expires(ekv_store_t *s, const ekv_msg_t *changes, size_t i)
{
    const ekv_msg_t *c = &changes[i];
    for (size_t j = 0; j < i; j++)
        if (same_key(&changes[j], c))
            return 0;
    size_t klen, vlen;
    char *k = data_key(c->ns, c->key, 0, &klen);
    char *err = NULL;
    char *v = rocksdb_get_cf(s->db, s->ropts, s->cf[CF_DATA], k, klen, &vlen, &err);
    free(k);
    ekv_msg_t cur;
    int same = !check(err, "expiry check") && v && ekv_msg_decode_change_head(v, vlen, &cur) == 0;
    if (same) {
        same = cur.op == EKV_OP_PUT && cur.expiration == c->expiration;
        ekv_msg_fini(&cur);
    }
    free(v);
    return same;
}

int ekv_store_commit(ekv_store_t *self, ekv_msg_t *changes, size_t n, int64_t commit_us,
                     char **bodies, size_t *lens)
{
    rocksdb_writebatch_t *b = rocksdb_writebatch_create();
    int rc = EKV_OK;
    size_t done = 0;
    uint64_t seq = self->last_seq;
    for (; done < n; done++) {
        ekv_msg_t *c = &changes[done];
        int conditional = c->flags & EKV_STORE_F_IF_EXPIRES;
        c->flags &= (uint8_t)~EKV_STORE_F_IF_EXPIRES;
        if (conditional && !still_expires(self, changes, done)) {
            c->seq = 0; /* the key was written again since it expired: leave it */
            bodies[done] = NULL;
            lens[done] = 0;
            continue;
        }
        c->type = EKV_MSG_CHANGE;
        c->seq = ++seq;
        c->time_us = commit_us;
        rc = ekv_msg_encode(c, &bodies[done], &lens[done]);
        if (rc)
            break;
        batch_change(self, b, c, bodies[done], lens[done]);
    }
    if (rc == EKV_OK) {
        char seq_be[8];
        put_be64(seq_be, seq);
        rocksdb_writebatch_put_cf(b, self->cf[CF_META], "last_seq", 8, seq_be, 8);
        char *err = NULL;
        rocksdb_write(self->db, self->wopts, b, &err);
        rc = check(err, "commit");
    }
    rocksdb_writebatch_destroy(b);
    if (rc) {
        for (size_t i = 0; i < done; i++) {
            free(bodies[i]);
            bodies[i] = NULL; /* "bodies not set" on failure */
        }
        return rc;
    }
    self->last_seq = seq;
    return EKV_OK;
}

int ekv_store_get(ekv_store_t *self, ekv_bytes_t ns, ekv_bytes_t key, ekv_msg_t *out)
{
    size_t klen, vlen;
    char *k = data_key(ns, key, 0, &klen);
    char *err = NULL;
    char *v = rocksdb_get_cf(self->db, self->ropts, self->cf[CF_DATA], k, klen, &vlen, &err);
    free(k);
    scan_hook(self);
    if (check(err, "get"))
        return EKV_ESTORE;
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

int ekv_store_get_at(ekv_store_t *self, ekv_bytes_t ns, ekv_bytes_t key, ekv_msg_t *out,
                     uint64_t *as_of)
{
    *as_of = self->last_seq; /* first: a commit after it cannot be credited to this read */
    return ekv_store_get(self, ns, key, out);
}

/* ---- scans ------------------------------------------------------------------------------- */

static void page_add(ekv_page_t *p, const char *data, size_t len, size_t *cap)
{
    if (p->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        p->items = ekv_realloc(p->items, *cap * sizeof *p->items);
    }
    p->items[p->n].ptr = ekv_memdup(data, len);
    p->items[p->n++].len = len;
}

static void page_set_cursor(ekv_page_t *p, const char *k, size_t len)
{
    free(p->cursor);
    p->cursor = ekv_memdup(k, len);
    p->cursor_len = len;
}

void ekv_page_fini(ekv_page_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free((void *)p->items[i].ptr);
    free(p->items);
    free(p->cursor);
    memset(p, 0, sizeof *p);
}

/* Positions it at the first key after `after` (exclusive) or at `from` when after is empty. */
static void seek_after(rocksdb_iterator_t *it, const char *from, size_t flen, const char *after,
                       size_t alen)
{
    if (alen == 0) {
        rocksdb_iter_seek(it, from, flen);
        return;
    }
    rocksdb_iter_seek(it, after, alen);
    size_t klen;
    if (rocksdb_iter_valid(it)) {
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen == alen && memcmp(k, after, alen) == 0)
            rocksdb_iter_next(it);
    }
}

/* Re-encodes a stored record without its value; 0 when it is expired at now_s. */
static int list_head(const char *v, size_t vlen, int64_t now_s, char **out, size_t *outlen)
{
    ekv_msg_t m;
    if (ekv_msg_decode_change_head(v, vlen, &m) != EKV_OK)
        return 0;
    int live = ekv_store_live(m.expiration, now_s);
    if (live && ekv_msg_encode(&m, out, outlen) != EKV_OK)
        live = 0;
    ekv_msg_fini(&m);
    return live;
}

int ekv_store_list(ekv_store_t *self, ekv_bytes_t ns, ekv_bytes_t prefix, ekv_bytes_t start_after,
                   size_t limit, int64_t now_s, ekv_page_t *page)
{
    memset(page, 0, sizeof *page);
    page->seq = self->last_seq; /* before the iterator: it holds every change up to seq */
    scan_hook(self);
    size_t plen, alen, cap = 0;
    char *pk = data_key(ns, prefix, 0, &plen);
    char *ak = start_after.len ? data_key(ns, start_after, 0, &alen) : NULL;
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(self->db, self->ropts, self->cf[CF_DATA]);
    seek_after(it, pk, plen, ak, ak ? alen : 0);
    size_t head = plen - prefix.len; /* [ns length][ns] */
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen < plen || memcmp(k, pk, plen) != 0)
            break;
        if (page->n == limit) {
            page->more = 1;
            break;
        }
        const char *v = rocksdb_iter_value(it, &vlen);
        char *enc;
        size_t elen;
        if (!list_head(v, vlen, now_s, &enc, &elen))
            continue;
        page_add(page, enc, elen, &cap);
        free(enc);
        page_set_cursor(page, k + head, klen - head);
    }
    rocksdb_iter_destroy(it);
    free(pk);
    free(ak);
    return EKV_OK;
}

int ekv_store_log_read(ekv_store_t *self, uint64_t after, size_t max_n, size_t max_bytes,
                       ekv_page_t *page)
{
    memset(page, 0, sizeof *page);
    page->seq = self->last_seq;
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(self->db, self->ropts, self->cf[CF_LOG]);
    char start[8];
    put_be64(start, after + 1);
    rocksdb_iter_seek(it, start, 8);
    size_t cap = 0, bytes = 0;
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        if (page->n == max_n || bytes >= max_bytes) {
            page->more = 1;
            break;
        }
        size_t vlen;
        const char *v = rocksdb_iter_value(it, &vlen);
        page_add(page, v, vlen, &cap);
        bytes += vlen;
    }
    rocksdb_iter_destroy(it);
    return EKV_OK;
}

uint64_t ekv_store_log_first(ekv_store_t *self)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(self->db, self->ropts, self->cf[CF_LOG]);
    rocksdb_iter_seek_to_first(it);
    size_t klen;
    uint64_t first = rocksdb_iter_valid(it) ? get_be64(rocksdb_iter_key(it, &klen)) : 0;
    rocksdb_iter_destroy(it);
    return first;
}

uint64_t ekv_store_log_size(ekv_store_t *self)
{
    uint64_t first = ekv_store_log_first(self);
    return first ? self->last_seq - first + 1 : 0;
}

/* Commit time of an encoded CHANGE (fixed position: see ekv_msg_set_commit_time). */
static int64_t body_time(const char *v, size_t len)
{
    if (len < 12 || (uint8_t)v[3] != 0xd3)
        return INT64_MAX;
    return (int64_t)get_be64(v + 4);
}

int ekv_store_log_trim(ekv_store_t *self, uint64_t keep_count, int64_t max_age_us, int64_t now_us,
                       uint64_t *dropped)
{
    *dropped = 0;
    uint64_t first = ekv_store_log_first(self), last = self->last_seq;
    if (first == 0 || first >= last)
        return EKV_OK;
    uint64_t end = first; /* drop [first, end) */
    if (keep_count && last - first + 1 > keep_count)
        end = last - keep_count + 1;
    if (max_age_us > 0) {
        rocksdb_iterator_t *it =
            rocksdb_create_iterator_cf(self->db, self->ropts, self->cf[CF_LOG]);
        char start[8];
        put_be64(start, end);
        size_t scanned = 0, klen, vlen;
        for (rocksdb_iter_seek(it, start, 8); rocksdb_iter_valid(it) && scanned < 100000;
             rocksdb_iter_next(it), scanned++) {
            uint64_t seq = get_be64(rocksdb_iter_key(it, &klen));
            const char *v = rocksdb_iter_value(it, &vlen);
            if (seq >= last || body_time(v, vlen) >= now_us - max_age_us)
                break;
            end = seq + 1;
        }
        rocksdb_iter_destroy(it);
    }
    if (end > last)
        end = last;
    if (end <= first)
        return EKV_OK;
    char a[8], b[8], *err = NULL;
    put_be64(a, first);
    put_be64(b, end);
    rocksdb_delete_range_cf(self->db, self->wopts, self->cf[CF_LOG], a, 8, b, 8, &err);
    if (check(err, "log trim"))
        return EKV_ESTORE;
    *dropped = end - first;
    return EKV_OK;
}

int ekv_store_snapshot_read(ekv_store_t *self, ekv_bytes_t after, size_t max_n, size_t max_bytes,
                            ekv_page_t *page)
{
    memset(page, 0, sizeof *page);
    /* Read before the iterator is made: every change up to page->seq is in what it sees, so
     * a node that resumes the log after page->seq misses nothing. */
    page->seq = self->last_seq;
    scan_hook(self);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(self->db, self->ropts, self->cf[CF_DATA]);
    if (after.len)
        seek_after(it, NULL, 0, after.ptr, after.len);
    else
        rocksdb_iter_seek_to_first(it);
    size_t cap = 0, bytes = 0;
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        if (page->n == max_n || bytes >= max_bytes) {
            page->more = 1;
            break;
        }
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);
        page_add(page, v, vlen, &cap);
        page_set_cursor(page, k, klen);
        bytes += vlen;
    }
    rocksdb_iter_destroy(it);
    return EKV_OK;
}

/* Checks one expiry-index entry against its record; returns the record's head when it is
 * really due, else queues the stale index entry for removal. */
static int expiry_due(ekv_store_t *s, const char *k, size_t klen, rocksdb_writebatch_t *stale,
                      ekv_msg_t *out)
{
    size_t vlen;
    char *err = NULL;
    char *v = rocksdb_get_cf(s->db, s->ropts, s->cf[CF_DATA], k + 8, klen - 8, &vlen, &err);
    if (check(err, "expiry lookup"))
        return 0;
    int due = v && ekv_msg_decode_change_head(v, vlen, out) == EKV_OK;
    if (due && out->expiration != (int64_t)get_be64(k)) {
        ekv_msg_fini(out);
        due = 0;
    }
    free(v);
    if (!due)
        rocksdb_writebatch_delete_cf(stale, s->cf[CF_EXPIRY], k, klen);
    return due;
}

int ekv_store_expired(ekv_store_t *self, int64_t now_s, size_t max, ekv_msg_t **out, size_t *n)
{
    *out = ekv_calloc(max ? max : 1, sizeof **out);
    *n = 0;
    rocksdb_writebatch_t *stale = rocksdb_writebatch_create();
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(self->db, self->ropts, self->cf[CF_EXPIRY]);
    size_t scanned = 0;
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it) && *n < max && scanned < 10 * max;
         rocksdb_iter_next(it), scanned++) {
        size_t klen;
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen < 9 || (int64_t)get_be64(k) > now_s)
            break;
        if (expiry_due(self, k, klen, stale, &(*out)[*n]))
            (*n)++;
    }
    rocksdb_iter_destroy(it);
    char *err = NULL;
    if (rocksdb_writebatch_count(stale) > 0)
        rocksdb_write(self->db, self->wopts, stale, &err);
    rocksdb_writebatch_destroy(stale);
    return check(err, "expiry cleanup");
}

/* ---- namespaces -------------------------------------------------------------------------- */

int ekv_store_ns_list(ekv_store_t *self, ekv_ns_t **out, size_t *n)
{
    size_t cap = 16;
    *out = ekv_malloc(cap * sizeof **out);
    *n = 0;
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(self->db, self->ropts, self->cf[CF_NS]);
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);
        json_t *j = json_loadb(v, vlen, 0, NULL);
        const char *title = json_string_value(json_object_get(j, "title"));
        if (klen == 32 && title) {
            if (*n == cap)
                *out = ekv_realloc(*out, (cap *= 2) * sizeof **out);
            ekv_ns_t *ns = &(*out)[(*n)++];
            memcpy(ns->id, k, 32);
            ns->id[32] = '\0';
            snprintf(ns->title, sizeof ns->title, "%s", title);
            ns->created = json_integer_value(json_object_get(j, "created"));
            ns->deleting = json_is_true(json_object_get(j, "deleting"));
        }
        json_decref(j);
    }
    rocksdb_iter_destroy(it);
    return EKV_OK;
}

int ekv_store_ns_put(ekv_store_t *self, const ekv_ns_t *ns)
{
    json_t *j = json_pack("{s:s, s:I}", "title", ns->title, "created", (json_int_t)ns->created);
    if (j && ns->deleting)
        json_object_set_new(j, "deleting", json_true());
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (!text) { /* a title that is not UTF-8 never gets here (the REST layer parsed it) */
        json_decref(j);
        ekv_error("namespace %s: cannot encode its record", ns->id);
        return EKV_EINVAL;
    }
    char *err = NULL;
    rocksdb_put_cf(self->db, self->sync, self->cf[CF_NS], ns->id, strlen(ns->id), text,
                   strlen(text), &err);
    free(text);
    json_decref(j);
    return check(err, "namespace write");
}

int ekv_store_ns_delete(ekv_store_t *self, const char *id)
{
    char *err = NULL;
    rocksdb_delete_cf(self->db, self->sync, self->cf[CF_NS], id, strlen(id), &err);
    return check(err, "namespace delete");
}
