/* probe: the `edgekv probe` command (see probe.c for what it measures and how), and the
 * following of one change at every PoP and tier that `edgekv watch` shares. */
#ifndef EKV_PROBE_H
#define EKV_PROBE_H

#include <stdint.h>

#include "state.h"

int ekv_cmd_probe(int argc, char **argv);

/* One node's view of one change; times are simulated ms after the commit. */
typedef struct {
    const ekv_proc_t *proc;
    int tier;               /* a regional tier (never read directly: its PoPs read through it) */
    double configured_ms;   /* configured one-way delay */
    double measured_ms;     /* arrival; < 0: not seen */
    double served_ms;       /* first read there that returned it; < 0: not (yet) */
    double copy_expires_ms; /* an older cached copy's expiry, when there was one; < 0: none */
    int readable;           /* PoPs: a read there returned the new value */
    char reason[192];       /* why served lags arrival ("" when it does not) */
} ekv_vis_row_t;

/* Rows for every PoP, then every tier (caller frees). */
ekv_vis_row_t *ekv_vis_rows(const ekv_state_t *st, size_t *n);

/* The key (percent-encoded as the binding takes it) was written with value, change seq at
 * commit_us (real microseconds), and every row has its arrival: finds each node's served-from.
 * Looks at what each node caches (an older copy and when it expires), then reads the key at
 * every PoP not yet serving it every few simulated seconds, until every PoP serves it or the
 * longest older copy (PoP plus tier) has expired with a margin; each node's served time is
 * its own record (/_edgekv/wait?served=1). Fills served_ms, copy_expires_ms, readable and
 * reason; calls on_served(arg, i) as node i is found serving it (may be NULL). */
void ekv_vis_follow(const ekv_state_t *st, ekv_vis_row_t *rows, size_t n, const char *key,
                    const char *value, unsigned long long seq, int64_t commit_us,
                    void (*on_served)(void *arg, size_t i), void *arg);

#endif
