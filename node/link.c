/* link: FIFO delay queue for one direction of a simulated link (see link.h). */
#include "link.h"

#include <stdlib.h>

#include "ekv_mem.h"

typedef struct {
    int64_t due; /* delivery time, microseconds */
    void *item;  /* caller's message */
} slot_t;

struct ekv_link {
    int64_t delay_us; /* one-way delay */
    int64_t last_due; /* delivery time of the newest message (FIFO floor) */
    slot_t *ring;     /* messages in delivery order */
    size_t cap, head, count;
};

ekv_link_t *ekv_link_new(int64_t delay_us)
{
    ekv_link_t *l = ekv_calloc(1, sizeof *l);
    l->delay_us = delay_us < 0 ? 0 : delay_us;
    l->cap = 64;
    l->ring = ekv_malloc(l->cap * sizeof *l->ring);
    return l;
}

void ekv_link_destroy(ekv_link_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->ring);
    free(*self_p);
    *self_p = NULL;
}

int64_t ekv_link_delay_us(const ekv_link_t *self)
{
    return self->delay_us;
}

void ekv_link_set_delay_us(ekv_link_t *self, int64_t delay_us)
{
    self->delay_us = delay_us < 0 ? 0 : delay_us;
}

static void grow(ekv_link_t *l)
{
    slot_t *r = ekv_malloc(l->cap * 2 * sizeof *r);
    for (size_t i = 0; i < l->count; i++)
        r[i] = l->ring[(l->head + i) % l->cap];
    free(l->ring);
    l->ring = r;
    l->head = 0;
    l->cap *= 2;
}

int64_t ekv_link_push(ekv_link_t *self, int64_t sent_us, int64_t now_us, void *item)
{
    int64_t due = sent_us + self->delay_us;
    if (due < now_us)
        due = now_us;
    if (due < self->last_due)
        due = self->last_due;
    self->last_due = due;
    if (self->count == self->cap)
        grow(self);
    self->ring[(self->head + self->count++) % self->cap] = (slot_t){due, item};
    return due;
}

int ekv_link_pop(ekv_link_t *self, int64_t now_us, void **item)
{
    if (self->count == 0 || self->ring[self->head].due > now_us)
        return 0;
    *item = self->ring[self->head].item;
    self->head = (self->head + 1) % self->cap;
    self->count--;
    return 1;
}

int64_t ekv_link_next_due(const ekv_link_t *self)
{
    return self->count ? self->ring[self->head].due : INT64_MAX;
}

size_t ekv_link_pending(const ekv_link_t *self)
{
    return self->count;
}
