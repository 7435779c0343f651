/* loadgen: the open-loop workload of an experiment, driven over HTTP against the PoPs.
 *
 * Reads arrive at each reading PoP and writes at the writing PoPs as Poisson processes at the
 * experiment's rates (converted to real time by the time scale), whatever the answers'
 * latency: a slow PoP makes requests queue, as real clients would. Keys follow the uniform or
 * zipf distribution. Each PoP gets a pool of keep-alive connections. Every answer is recorded
 * (reads: version served; writes: version and commit time), and every PoP's visibility
 * records are polled during the run so none is lost. Faults fire on their timeline through a
 * callback. Single-threaded, one libevent loop.
 *
 * With key groups (experiment.h) the arrivals are per group and operation kind instead, each
 * made by a client (its home PoP, or with the reroute probability another one, by
 * pop_weights); counters are read-modify-writes (get, then put the value + 1), lists follow
 * their cursor to the end; phases change the rates on their timeline. */
#ifndef EKV_LOADGEN_H
#define EKV_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "experiment.h"
#include "history.h"

typedef struct {
    const ekv_experiment_t *exp;
    size_t npops;
    char (*urls)[128];       /* PoP base URLs */
    const int *reader;       /* per PoP: 1 when it reads */
    const int *writer;       /* per PoP: 1 when it writes */
    double time_scale;       /* simulated seconds per real second */
    int drain_ms;            /* real time to wait after the load for changes in flight */
    int progress;            /* draw a progress bar on stderr */
    const char (*names)[64]; /* PoP names (key groups' readers and writers, pop_weights) */
    /* Fault hook: called when fault f is due; returns 0 when carried out. */
    int (*fault)(void *arg, const ekv_fault_t *f);
    void *fault_arg;
} ekv_load_config_t;

typedef struct {
    ekv_write_rec_t *writes;
    size_t nwrites;
    ekv_read_rec_t *reads;
    size_t nreads;
    ekv_vis_rec_t *vis;
    size_t nvis;
    uint64_t write_errors;    /* writes not acknowledged */
    uint64_t vis_lost;        /* visibility records overwritten before they were polled */
    int64_t start_us, end_us; /* when the load began and ended (real clock) */
    int64_t *fault_us;        /* per fault of the experiment: when it was applied (0: never) */
    /* Every operation as the clients saw it (history.h), for the checkers; the flat workload's
     * client is its PoP. Bulk reads are counted only (their answer carries no versions). */
    ekv_history_t hist;
    uint8_t *may_expire; /* per key: written with an expiration (keys_total entries) */
    uint64_t bulk_reads, bulk_failed, list_pages, list_failed;
} ekv_load_result_t;

int ekv_load_run(const ekv_load_config_t *cfg, ekv_load_result_t *out);
void ekv_load_result_fini(ekv_load_result_t *r);

#endif
