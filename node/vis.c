/* vis: first-visibility records of a PoP (see vis.h). */
#include "vis.h"

#include <stdlib.h>

#include "ekv_mem.h"

struct ekv_vis {
    ekv_vis_rec_t *ring; /* capacity records */
    uint32_t *index;     /* seq % capacity -> ring slot + 1 (0: none) */
    size_t capacity;     /* a power of two */
    size_t head;         /* the slot the next record takes */
    size_t count;        /* records held */
    uint64_t total;      /* records ever made: the insertion index of the next */
    ekv_hist_t delays;
};

ekv_vis_t *ekv_vis_new(size_t capacity)
{
    if (capacity < 2 || (capacity & (capacity - 1)) || capacity > UINT32_MAX)
        return NULL;
    ekv_vis_t *v = ekv_calloc(1, sizeof *v);
    v->ring = ekv_calloc(capacity, sizeof *v->ring);
    v->index = ekv_calloc(capacity, sizeof *v->index);
    v->capacity = capacity;
    ekv_hist_init(&v->delays);
    return v;
}

void ekv_vis_destroy(ekv_vis_t **self_p)
{
    ekv_vis_t *v = *self_p;
    if (!v)
        return;
    free(v->ring);
    free(v->index);
    free(v);
    *self_p = NULL;
}

const ekv_vis_rec_t *ekv_vis_find(const ekv_vis_t *self, uint64_t seq)
{
    uint32_t slot = self->index[seq & (self->capacity - 1)];
    return slot && self->ring[slot - 1].seq == seq ? &self->ring[slot - 1] : NULL;
}

const ekv_vis_rec_t *ekv_vis_record(ekv_vis_t *self, uint64_t seq, int64_t commit_us,
                                    int64_t now_us)
{
    if (ekv_vis_find(self, seq))
        return NULL;
    ekv_vis_rec_t *r = &self->ring[self->head];
    *r = (ekv_vis_rec_t){seq, commit_us, now_us};
    self->index[seq & (self->capacity - 1)] = (uint32_t)self->head + 1;
    self->head = (self->head + 1) & (self->capacity - 1);
    self->total++;
    if (self->count < self->capacity)
        self->count++;
    ekv_hist_record(&self->delays, now_us - commit_us);
    return r;
}

uint64_t ekv_vis_next(const ekv_vis_t *self)
{
    return self->total;
}

uint64_t ekv_vis_oldest(const ekv_vis_t *self)
{
    return self->total - self->count;
}

const ekv_vis_rec_t *ekv_vis_at(const ekv_vis_t *self, uint64_t i)
{
    if (i < ekv_vis_oldest(self) || i >= self->total)
        return NULL;
    size_t back = (size_t)(self->total - i); /* 1 = the newest */
    return &self->ring[(self->head + self->capacity - back) & (self->capacity - 1)];
}

const ekv_hist_t *ekv_vis_delays(const ekv_vis_t *self)
{
    return &self->delays;
}
