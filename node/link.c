/* link: FIFO delay queue for one direction of a simulated link (see link.h). */
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_mem.h"
#include "ekv_rand.h"

typedef struct {
    int64_t due; /* delivery time, microseconds */
    void *item;  /* caller's message */
} slot_t;

struct ekv_link {
    ekv_link_model_t m; /* delay, jitter, loss */
    ekv_rand_t rng;     /* jitter and loss draws (common/ekv_rand.h) */
    int64_t last_due;   /* delivery time of the newest message (FIFO floor) */
    slot_t *ring;       /* messages in delivery order */
    size_t cap, head, count;
};

int64_t ekv_link_sample_us(ekv_link_t *l)
{
    const ekv_link_model_t *m = &l->m;
    double t = (double)m->delay_us, j = (double)m->jitter_us;
    switch (m->jitter) {
    case EKV_JITTER_UNIFORM:
        t += j * ekv_rand_unit(&l->rng);
        break;
    case EKV_JITTER_NORMAL:
        t += j * ekv_rand_normal(&l->rng);
        break;
    case EKV_JITTER_PARETO:
        t += j * ekv_rand_pareto(&l->rng, m->shape);
        break;
    case EKV_JITTER_NONE:
        break;
    }
    if (t < 0)
        t = 0;
    for (int lost = 0; lost < 16 && m->loss > 0 && ekv_rand_unit(&l->rng) < m->loss; lost++)
        t += (double)m->rto_us;
    return t > 3.6e12 ? (int64_t)3.6e12 : (int64_t)t; /* cap at an hour */
}

int ekv_link_parse_jitter(const char *s, ekv_link_model_t *m)
{
    double a = 0, b = 0;
    char kind[16];
    int n = sscanf(s, "%15[a-z]:%lf:%lf", kind, &a, &b);
    if (n >= 1 && !strcmp(kind, "none") && n == 1) {
        m->jitter = EKV_JITTER_NONE;
        return EKV_OK;
    }
    if (n < 2 || !(a >= 0 && a <= 600000))
        return EKV_EINVAL;
    m->jitter_us = (int64_t)(a * 1000.0);
    if (!strcmp(kind, "uniform") && n == 2)
        m->jitter = EKV_JITTER_UNIFORM;
    else if (!strcmp(kind, "normal") && n == 2)
        m->jitter = EKV_JITTER_NORMAL;
    else if (!strcmp(kind, "pareto") && n == 3 && b > 1 && b <= 100)
        m->jitter = EKV_JITTER_PARETO, m->shape = b;
    else
        return EKV_EINVAL;
    return EKV_OK;
}

void ekv_link_set_model(ekv_link_t *self, const ekv_link_model_t *model, uint64_t seed)
{
    self->m = *model;
    if (self->m.delay_us < 0)
        self->m.delay_us = 0;
    ekv_rand_init(&self->rng, seed);
}

const ekv_link_model_t *ekv_link_model(const ekv_link_t *self)
{
    return &self->m;
}

ekv_link_t *ekv_link_new(int64_t delay_us)
{
    ekv_link_t *l = ekv_calloc(1, sizeof *l);
    ekv_link_model_t m = {.delay_us = delay_us};
    ekv_link_set_model(l, &m, 0);
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
    return self->m.delay_us;
}

void ekv_link_set_delay_us(ekv_link_t *self, int64_t delay_us)
{
    self->m.delay_us = delay_us < 0 ? 0 : delay_us;
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

static int64_t enqueue(ekv_link_t *self, int64_t due, int64_t now_us, void *item)
{
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

int64_t ekv_link_push(ekv_link_t *self, int64_t sent_us, int64_t now_us, void *item)
{
    if (sent_us > now_us)
        sent_us = now_us; /* stamped ahead of our clock: it travels from its arrival */
    int64_t transit =
        self->m.jitter || self->m.loss > 0 ? ekv_link_sample_us(self) : self->m.delay_us;
    return enqueue(self, sent_us + transit, now_us, item);
}

int64_t ekv_link_push_plain(ekv_link_t *self, int64_t sent_us, int64_t now_us, void *item)
{
    if (sent_us > now_us)
        sent_us = now_us;
    return enqueue(self, sent_us + self->m.delay_us, now_us, item);
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
