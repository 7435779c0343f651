/* replica: where a PoP stands in the coordinator's change stream (see replica.h). */
#include "replica.h"

#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_hash.h"
#include "ekv_mem.h"

/* A key the running snapshot carried: one allocation of ns then key. */
typedef struct {
    char *bytes; /* NULL: free slot */
    size_t ns_len, key_len;
    uint64_t hash;
} seen_t;

struct ekv_replica {
    int full;           /* a full replica: starts from a snapshot */
    int ready;          /* hello answered */
    int inflight;       /* a catch-up request is out */
    uint64_t applied;   /* every change up to here applied */
    uint64_t max;       /* highest change applied */
    uint64_t announced; /* tip of the last heartbeat */
    uint64_t epoch;     /* the store's identity, from hello */
    int64_t retry_at;   /* a paused catch-up is due then (INT64_MAX: none) */
    uint64_t asked;     /* `applied` when the catch-up in flight was asked for */
    int in_snap;        /* a snapshot is being loaded */
    uint64_t snap_base; /* the sequence it reflects (its first page's) */
    char *cursor;       /* where its next page starts (owned) */
    size_t cursor_len;
    seen_t *seen; /* open-addressed set of the keys it carried */
    size_t nseen, cap;
    int64_t sub_heard;    /* last valid message on the subscription (0: watch not started) */
    int64_t origin_heard; /* last reply on the request socket */
    int64_t probe_at;     /* hello sent for a silent subscription (0: none) */
    ekv_replica_stats_t st;
};

ekv_replica_t *ekv_replica_new(int full)
{
    ekv_replica_t *r = ekv_calloc(1, sizeof *r);
    r->full = full;
    r->retry_at = INT64_MAX;
    return r;
}

void ekv_replica_snapshot_clear(ekv_replica_t *self)
{
    for (size_t i = 0; i < self->cap; i++)
        free(self->seen[i].bytes);
    free(self->seen);
    self->seen = NULL;
    self->nseen = self->cap = 0;
}

void ekv_replica_destroy(ekv_replica_t **self_p)
{
    ekv_replica_t *r = *self_p;
    if (!r)
        return;
    ekv_replica_snapshot_clear(r);
    free(r->cursor);
    free(r);
    *self_p = NULL;
}

void ekv_replica_reset(ekv_replica_t *self)
{
    ekv_replica_snapshot_clear(self);
    free(self->cursor);
    ekv_replica_stats_t st = self->st;
    int full = self->full;
    memset(self, 0, sizeof *self);
    self->full = full;
    self->retry_at = INT64_MAX;
    self->st = st;
}

int ekv_replica_hello(ekv_replica_t *self, uint64_t tip, uint64_t epoch)
{
    self->ready = 1;
    self->epoch = epoch;
    if (tip > self->announced)
        self->announced = tip;
    if (self->applied != 0)
        return 0;
    if (self->full && tip > 0)
        return EKV_REPLICA_CATCHUP;  /* a full replica starts from a snapshot */
    self->applied = self->max = tip; /* an empty cache starts at the tip */
    return 0;
}

int ekv_replica_ready(const ekv_replica_t *self)
{
    return self->ready;
}

/* 1 when no catch-up is out or waiting for its pause to end. */
static int idle(const ekv_replica_t *self)
{
    return !self->inflight && self->retry_at == INT64_MAX;
}

int ekv_replica_heartbeat(ekv_replica_t *self, uint64_t tip, uint64_t epoch)
{
    if (!self->ready) {
        self->announced = tip;
        return 0;
    }
    if (epoch != self->epoch) {
        self->st.resyncs++;
        return EKV_REPLICA_RESYNC;
    }
    self->announced = tip;
    if (!idle(self))
        return 0;
    /* A silent gap (published changes that never arrived), or one left open by a catch-up
     * that was lost. */
    if ((tip > self->max && tip > self->applied) || self->applied < self->max || self->in_snap) {
        self->st.gaps++;
        return EKV_REPLICA_CATCHUP;
    }
    return 0;
}

int ekv_replica_change(ekv_replica_t *self, uint64_t seq, int *apply)
{
    *apply = 0;
    if (!self->ready || seq <= self->applied) {
        self->st.ignored++; /* before our baseline, or already applied */
        return 0;
    }
    *apply = 1;
    if (seq > self->max)
        self->max = seq;
    if (!idle(self))
        return 0; /* the catch-up under way (or due) covers it */
    if (seq == self->applied + 1 && !self->in_snap) {
        self->applied = seq;
        return 0;
    }
    self->st.gaps++;
    return EKV_REPLICA_CATCHUP;
}

int ekv_replica_catchup_request(ekv_replica_t *self, uint64_t *from, ekv_bytes_t *cursor)
{
    if (self->inflight)
        return EKV_EAGAIN;
    self->inflight = 1;
    self->retry_at = INT64_MAX;
    self->st.catchups++;
    *from = self->asked = self->applied;
    *cursor = self->in_snap ? (ekv_bytes_t){self->cursor, self->cursor_len} : (ekv_bytes_t){"", 0};
    return EKV_OK;
}

int ekv_replica_catchup_inflight(const ekv_replica_t *self)
{
    return self->inflight;
}

int ekv_replica_log_entry(ekv_replica_t *self, uint64_t seq)
{
    if (seq <= self->applied)
        return 0;
    self->applied = seq;
    return 1;
}

int ekv_replica_log_done(ekv_replica_t *self, int more, int64_t now_us)
{
    self->inflight = 0;
    if (self->max < self->applied)
        self->max = self->applied;
    if (more)
        return EKV_REPLICA_CATCHUP;
    if (self->applied >= self->max)
        return 0;
    if (self->applied > self->asked)
        return EKV_REPLICA_CATCHUP; /* progress: fetch the rest at once */
    /* Nothing came that closes the gap: ask again after a pause, not in a tight loop. */
    self->retry_at = now_us + EKV_REPLICA_BUSY_PAUSE_US;
    return 0;
}

static uint64_t key_hash(ekv_bytes_t ns, ekv_bytes_t key)
{
    return ekv_hash_ns_key(ns.ptr, ns.len, key.ptr, key.len);
}

static int seen_equal(const seen_t *s, uint64_t h, ekv_bytes_t ns, ekv_bytes_t key)
{
    return s->hash == h && s->ns_len == ns.len && s->key_len == key.len &&
           !memcmp(s->bytes, ns.ptr, ns.len) && !memcmp(s->bytes + ns.len, key.ptr, key.len);
}

/* The slot of (ns, key), or the free slot where it would go. cap is a power of two. */
static seen_t *seen_slot(seen_t *tab, size_t cap, uint64_t h, ekv_bytes_t ns, ekv_bytes_t key)
{
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!tab[i].bytes || seen_equal(&tab[i], h, ns, key))
            return &tab[i];
}

static void seen_grow(ekv_replica_t *self)
{
    size_t cap = self->cap ? self->cap * 2 : 1024;
    seen_t *tab = ekv_calloc(cap, sizeof *tab);
    for (size_t i = 0; i < self->cap; i++) {
        seen_t *s = &self->seen[i];
        if (!s->bytes)
            continue;
        ekv_bytes_t ns = {s->bytes, s->ns_len}, key = {s->bytes + s->ns_len, s->key_len};
        *seen_slot(tab, cap, s->hash, ns, key) = *s;
    }
    free(self->seen);
    self->seen = tab;
    self->cap = cap;
}

void ekv_replica_snapshot_saw(ekv_replica_t *self, ekv_bytes_t ns, ekv_bytes_t key)
{
    if ((self->nseen + 1) * 4 > self->cap * 3) /* load factor at most 3/4 */
        seen_grow(self);
    uint64_t h = key_hash(ns, key);
    seen_t *s = seen_slot(self->seen, self->cap, h, ns, key);
    if (s->bytes)
        return;
    s->bytes = ekv_malloc(ns.len + key.len + 1);
    memcpy(s->bytes, ns.ptr, ns.len);
    memcpy(s->bytes + ns.len, key.ptr, key.len);
    s->ns_len = ns.len;
    s->key_len = key.len;
    s->hash = h;
    self->nseen++;
}

int ekv_replica_snapshot_carried(const ekv_replica_t *self, ekv_bytes_t ns, ekv_bytes_t key)
{
    if (!self->cap)
        return 0;
    uint64_t h = key_hash(ns, key);
    return seen_slot(self->seen, self->cap, h, ns, key)->bytes != NULL;
}

int ekv_replica_snapshot_page(ekv_replica_t *self, uint64_t base, ekv_bytes_t cursor, int more,
                              int *finished)
{
    self->inflight = 0;
    *finished = 0;
    if (!self->in_snap) {
        self->in_snap = 1;
        self->snap_base = base;
    }
    free(self->cursor);
    self->cursor = ekv_memdup(cursor.ptr, cursor.len);
    self->cursor_len = cursor.len;
    if (!more) {
        *finished = 1;
        self->in_snap = 0;
        self->st.snapshots++;
        if (self->snap_base > self->applied)
            self->applied = self->snap_base;
        if (self->max < self->applied)
            self->max = self->applied;
    }
    return EKV_REPLICA_CATCHUP; /* the next page, or the log after the base */
}

uint64_t ekv_replica_snapshot_base(const ekv_replica_t *self)
{
    return self->snap_base;
}

int ekv_replica_catchup_lost(ekv_replica_t *self)
{
    self->inflight = 0;
    self->st.lost++;
    return EKV_REPLICA_CATCHUP;
}

void ekv_replica_catchup_busy(ekv_replica_t *self, int64_t now_us)
{
    self->inflight = 0;
    self->st.busy++;
    self->retry_at = now_us + EKV_REPLICA_BUSY_PAUSE_US;
}

int64_t ekv_replica_next_due(const ekv_replica_t *self)
{
    return self->retry_at;
}

int ekv_replica_due(ekv_replica_t *self, int64_t now_us)
{
    if (self->retry_at > now_us)
        return 0;
    self->retry_at = INT64_MAX;
    return EKV_REPLICA_CATCHUP;
}

uint64_t ekv_replica_applied(const ekv_replica_t *self)
{
    return self->applied;
}

uint64_t ekv_replica_max(const ekv_replica_t *self)
{
    return self->max;
}

uint64_t ekv_replica_announced(const ekv_replica_t *self)
{
    return self->announced;
}

uint64_t ekv_replica_epoch(const ekv_replica_t *self)
{
    return self->epoch;
}

int ekv_replica_in_snapshot(const ekv_replica_t *self)
{
    return self->in_snap;
}

void ekv_replica_stats(const ekv_replica_t *self, ekv_replica_stats_t *out)
{
    *out = self->st;
}

/* ---- the subscription's watch ---------------------------------------------------------- */

void ekv_replica_sub_heard(ekv_replica_t *self, int64_t now_us)
{
    self->sub_heard = now_us;
    self->probe_at = 0;
}

void ekv_replica_origin_heard(ekv_replica_t *self, int64_t now_us)
{
    self->origin_heard = now_us;
}

int64_t ekv_replica_origin_heard_at(const ekv_replica_t *self)
{
    return self->origin_heard;
}

int ekv_replica_watch(ekv_replica_t *self, int64_t now_us, int64_t silence_us)
{
    if (!self->ready)
        return 0;
    if (self->sub_heard == 0) {
        self->sub_heard = now_us; /* the watch starts with the first look after hello */
        return 0;
    }
    if (now_us - self->sub_heard < silence_us)
        return 0;
    if (self->probe_at && self->origin_heard >= self->probe_at) {
        /* Answered while the subscription stayed silent: a fresh one gets a whole period. */
        self->st.reopens++;
        self->sub_heard = now_us;
        self->probe_at = 0;
        return EKV_REPLICA_REOPEN;
    }
    if (self->probe_at && now_us - self->probe_at < silence_us)
        return 0; /* a probe is out */
    self->st.probes++;
    self->probe_at = now_us;
    return EKV_REPLICA_PROBE;
}

int64_t ekv_replica_watch_due(const ekv_replica_t *self, int64_t silence_us)
{
    if (!self->ready || self->sub_heard == 0)
        return self->ready ? 0 : INT64_MAX;
    if (self->probe_at && self->origin_heard >= self->probe_at)
        return self->origin_heard; /* answered: reopen now */
    if (self->probe_at)
        return self->probe_at + silence_us;
    return self->sub_heard + silence_us;
}
