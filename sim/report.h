/* report: what an experiment leaves behind in its output folder.
 *   results.json  the measurements of every run (one per policy), for machines;
 *   report.html   one self-contained page (inline SVG, no scripts or downloads), every
 *                 section opening with what it shows and how to read it: each policy against
 *                 the documentation's claim, the visibility CDF per PoP, the t-visibility
 *                 curves (a predicted one dashed when present, and the run's note on it:
 *                 why there is none, or a caveat), the stale-read ratio per PoP, version lag over
 * time, a world map of the PoPs coloured by their share of stale reads, stale reads per PoP over
 * time, and the checkers' counterexamples as timelines; and the terminal summary table. CSV files
 * of raw records are written by the runner. */
#ifndef EKV_REPORT_H
#define EKV_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "analysis.h"
#include "experiment.h"
#include "topology.h"

typedef struct {
    char policy[16];
    ekv_results_t res;
    uint64_t write_errors; /* writes not acknowledged */
    json_t *extra;         /* more run fields (fan-out cost, faults), merged in; owned */
    json_t *pop_extra;     /* per PoP: more fields (cache counters), merged in; owned */
} ekv_run_t;

/* The results document ({"experiment", ..., "runs": [...]}); new reference. */
json_t *ekv_report_json(const ekv_experiment_t *e, const ekv_topo_t *t, double time_scale,
                        const ekv_run_t *runs, size_t nruns);
/* Writes report.html for the given results document into dir. */
int ekv_report_html(const char *dir, json_t *results);
/* The string field k of results object o, borrowed from o; "" when absent or not a string
 * (a results.json given to `edgekv compare` may lack any field). */
const char *ekv_report_str(json_t *o, const char *k);
/* Prints the summary table of every run. */
void ekv_report_summary(FILE *f, json_t *results);

#endif
