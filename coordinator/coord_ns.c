/* coord_ns: the coordinator's namespaces (see coord_int.h).
 *
 * The table is c->ns, sorted by id, holding every namespace that is served; the store holds
 * the same records, plus those marked "deleting". A namespace being deleted has left the
 * table at once, and its keys are deleted by a job of steps between other work (below), each
 * step a unit of the group commit, so the deletions reach PoPs as published changes. */
#include "coord_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_time.h"

/* ---- the table ----------------------------------------------------------------------------- */

const ekv_ns_t *coord_ns_find(const ekv_coord_t *c, const char *id, size_t len)
{
    for (size_t i = 0; i < c->nns; i++)
        if (strlen(c->ns[i].id) == len && memcmp(c->ns[i].id, id, len) == 0)
            return &c->ns[i];
    return NULL;
}

static int title_taken(const ekv_coord_t *c, const char *title, const char *except_id)
{
    for (size_t i = 0; i < c->nns; i++)
        if (strcmp(c->ns[i].title, title) == 0 && (!except_id || strcmp(c->ns[i].id, except_id)))
            return 1;
    return 0;
}

static int check_title(const ekv_coord_t *c, const char *title, const char *except_id,
                       ekv_kv_error_t *err)
{
    size_t n = title ? strlen(title) : 0;
    if (n == 0 || n > 512) {
        ekv_kv_err_set(err, 400, "missing or invalid title (1 to 512 characters)");
        err->code = EKV_REST_MISSING_TITLE;
        return EKV_EINVAL;
    }
    if (title_taken(c, title, except_id)) {
        ekv_kv_err_set(err, 400, "a namespace with this account ID and title already exists");
        err->code = EKV_REST_NS_EXISTS;
        return EKV_EEXIST;
    }
    return EKV_OK;
}

static void ns_sort(ekv_coord_t *c)
{
    for (size_t i = 1; i < c->nns; i++)
        for (size_t j = i; j > 0 && strcmp(c->ns[j - 1].id, c->ns[j].id) > 0; j--) {
            ekv_ns_t t = c->ns[j];
            c->ns[j] = c->ns[j - 1];
            c->ns[j - 1] = t;
        }
}

static void new_ns_id(char *id)
{
    unsigned char raw[16];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(raw, 1, sizeof raw, f) != sizeof raw) {
        int64_t t = ekv_now_us();
        for (int i = 0; i < 16; i++)
            raw[i] = (unsigned char)((t >> (i % 8 * 8)) ^ (getpid() >> (i % 2 * 8)) ^ i * 37);
    }
    if (f)
        fclose(f);
    for (int i = 0; i < 16; i++)
        sprintf(id + 2 * i, "%02x", raw[i]);
}

int coord_ns_create(ekv_coord_t *c, const char *title, ekv_ns_t *out, ekv_kv_error_t *err)
{
    if (check_title(c, title, NULL, err) != EKV_OK)
        return EKV_EINVAL;
    if (c->nns >= 1000) {
        ekv_kv_err_set(err, 400, "namespace limit of 1000 reached");
        return EKV_EINVAL;
    }
    ekv_ns_t ns = {.created = ekv_now_us() / 1000000};
    do
        new_ns_id(ns.id);
    while (coord_ns_find(c, ns.id, 32));
    snprintf(ns.title, sizeof ns.title, "%s", title);
    if (ekv_store_ns_put(c->store, &ns) != EKV_OK) {
        ekv_kv_err_set(err, 503, "Storage unavailable");
        return EKV_ESTORE;
    }
    c->ns = ekv_realloc(c->ns, (c->nns + 1) * sizeof *c->ns);
    c->ns[c->nns++] = ns;
    ns_sort(c);
    *out = ns;
    return EKV_OK;
}

int coord_ns_rename(ekv_coord_t *c, const char *id, const char *title, ekv_kv_error_t *err)
{
    ekv_ns_t *ns = (ekv_ns_t *)coord_ns_find(c, id, strlen(id));
    if (check_title(c, title, id, err) != EKV_OK)
        return EKV_EINVAL;
    ekv_ns_t renamed = *ns;
    snprintf(renamed.title, sizeof renamed.title, "%s", title);
    if (ekv_store_ns_put(c->store, &renamed) != EKV_OK) {
        ekv_kv_err_set(err, 503, "Storage unavailable");
        return EKV_ESTORE;
    }
    *ns = renamed;
    return EKV_OK;
}

/* ---- namespace deletion, in steps --------------------------------------------------------
 *
 * A namespace can hold millions of keys, and each must be deleted as a published change so
 * that PoPs drop it too. Doing that in one go would hold the loop for seconds (heartbeats
 * lapse, PoPs report the coordinator down), so a deletion is a job of steps: list a page of
 * the namespace's keys, commit their deletes as one unit, and from that unit's completion
 * list again from the start, until a listing comes back empty.
 *
 * No write may outlive the deletion. The namespace leaves the table first, so every write
 * that arrives later is refused as "namespace not found"; the writes queued or in flight
 * before that commit ahead of the job's first unit (units commit in queue order), so the
 * listings after that unit see them. The job ends only on an empty listing made after its
 * first unit committed. The namespace record is marked "deleting" before anything is
 * deleted, so a coordinator killed half way resumes the job when it starts again. */

typedef struct ns_job {
    commit_t cm;
    char id[33];
    ekv_page_t page;  /* the keys' heads of this step (their bytes back the drafts) */
    ekv_msg_t *heads; /* this step's delete drafts */
    int barrier_done; /* a unit of this job has committed: earlier writes are in */
    coord_ns_deleted_fn done;
    void *arg;
} ns_job_t;

static void ns_job_step(ekv_coord_t *c, ns_job_t *j);

static void ns_job_free_page(ns_job_t *j)
{
    for (size_t i = 0; i < j->cm.n; i++)
        ekv_msg_fini(&j->heads[i]);
    free(j->heads);
    j->heads = NULL;
    j->cm.n = 0;
    ekv_page_fini(&j->page);
}

static void ns_job_finish(ekv_coord_t *c, ns_job_t *j, int rc)
{
    if (rc == EKV_OK && ekv_store_ns_delete(c->store, j->id) != EKV_OK)
        rc = EKV_ESTORE;
    ekv_info("namespace %s %s", j->id, rc == EKV_OK ? "deleted" : "deletion failed");
    c->ns_jobs--;
    if (rc == EKV_OK && !strcmp(j->id, EKV_KV_DEFAULT_NS)) {
        char errbuf[128];
        if (coord_ns_ensure_default(c, errbuf, sizeof errbuf) != EKV_OK)
            ekv_error("%s", errbuf); /* the default namespace always exists */
    }
    if (j->done)
        j->done(c, j->arg, rc);
    free(j);
}

static void ns_job_unit_done(ekv_coord_t *c, commit_t *cm, int rc)
{
    ns_job_t *j = cm->arg;
    ns_job_free_page(j);
    if (c->stopping) { /* the record stays marked: the next start resumes the deletion */
        c->ns_jobs--;
        free(j);
        return;
    }
    if (rc != EKV_OK) {
        ns_job_finish(c, j, rc); /* the record stays marked: the next start resumes it */
        return;
    }
    j->barrier_done = 1;
    ns_job_step(c, j);
}

/* One step: a page of the namespace's keys, deleted as one unit. */
static void ns_job_step(ekv_coord_t *c, ns_job_t *j)
{
    ekv_bytes_t ns = {j->id, strlen(j->id)}, none = {"", 0};
    if (ekv_store_list(c->store, ns, none, none, 1000, INT64_MIN, &j->page) != EKV_OK) {
        ekv_page_fini(&j->page);
        ns_job_finish(c, j, EKV_ESTORE);
        return;
    }
    if (j->page.n == 0 && j->barrier_done) {
        ekv_page_fini(&j->page);
        ns_job_finish(c, j, EKV_OK);
        return;
    }
    j->heads = ekv_calloc(j->page.n ? j->page.n : 1, sizeof *j->heads);
    j->cm = (commit_t){j->heads, 0, ns_job_unit_done, j, NULL};
    for (size_t i = 0; i < j->page.n; i++) {
        ekv_msg_t *h = &j->heads[j->cm.n];
        if (ekv_msg_decode_change_head(j->page.items[i].ptr, j->page.items[i].len, h) == 0) {
            h->op = EKV_OP_DELETE;
            h->flags = 0;
            j->cm.n++;
        }
    }
    coord_submit(c, &j->cm); /* an empty unit is the barrier of an empty namespace */
}

static void ns_job_start(ekv_coord_t *c, const char *id, coord_ns_deleted_fn done, void *arg)
{
    ns_job_t *j = ekv_calloc(1, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", id);
    j->done = done;
    j->arg = arg;
    c->ns_jobs++;
    ns_job_step(c, j);
}

int coord_ns_delete(ekv_coord_t *c, const char *id, coord_ns_deleted_fn done, void *arg,
                    ekv_kv_error_t *err)
{
    const ekv_ns_t *found = coord_ns_find(c, id, strlen(id));
    if (!found) {
        ekv_kv_err_set(err, 404, "namespace not found");
        err->code = EKV_REST_NS_NOT_FOUND;
        return EKV_ENOTFOUND;
    }
    ekv_ns_t marked = *found;
    marked.deleting = 1;
    if (ekv_store_ns_put(c->store, &marked) != EKV_OK) {
        ekv_kv_err_set(err, 503, "Storage unavailable");
        return EKV_ESTORE;
    }
    size_t at = (size_t)(found - c->ns);
    memmove(&c->ns[at], &c->ns[at + 1], (c->nns - at - 1) * sizeof *c->ns);
    c->nns--;
    ns_job_start(c, marked.id, done, arg);
    return EKV_OK;
}

int coord_ns_ensure_default(ekv_coord_t *c, char *errbuf, size_t errlen)
{
    if (coord_ns_find(c, EKV_KV_DEFAULT_NS, strlen(EKV_KV_DEFAULT_NS)))
        return EKV_OK;
    ekv_ns_t def = {.created = ekv_now_us() / 1000000};
    snprintf(def.id, sizeof def.id, "%s", EKV_KV_DEFAULT_NS);
    snprintf(def.title, sizeof def.title, "default");
    if (title_taken(c, "default", NULL))
        snprintf(def.title, sizeof def.title, "default-%s", EKV_KV_DEFAULT_NS);
    if (ekv_store_ns_put(c->store, &def) != EKV_OK) {
        snprintf(errbuf, errlen, "cannot create the default namespace");
        return EKV_ESTORE;
    }
    c->ns = ekv_realloc(c->ns, (c->nns + 1) * sizeof *c->ns);
    c->ns[c->nns++] = def;
    ns_sort(c);
    return EKV_OK;
}

/* Loads the namespaces; those marked "deleting" by a run that stopped half way are not
 * served (coord_ns_resume finishes them once the coordinator is up). */
int coord_ns_load(ekv_coord_t *c, char *errbuf, size_t errlen)
{
    ekv_ns_t *all;
    size_t n;
    ekv_store_ns_list(c->store, &all, &n);
    c->ns = ekv_calloc(n ? n : 1, sizeof *c->ns);
    c->nns = 0;
    for (size_t i = 0; i < n; i++)
        if (!all[i].deleting)
            c->ns[c->nns++] = all[i];
    free(all);
    return coord_ns_ensure_default(c, errbuf, errlen);
}

void coord_ns_resume(ekv_coord_t *c)
{
    ekv_ns_t *all;
    size_t n;
    ekv_store_ns_list(c->store, &all, &n);
    for (size_t i = 0; i < n; i++)
        if (all[i].deleting) {
            ekv_warn("namespace %s was being deleted when the coordinator stopped; resuming",
                     all[i].id);
            ns_job_start(c, all[i].id, NULL, NULL);
        }
    free(all);
}
