/* report_html_int: what the parts of report.html (report_html.c, the page and its charts;
 * report_checkers.c, the checkers' counterexamples) share: the charts' geometry and the small
 * readers of the results document. Every string they print goes through rh_text or
 * ekv_html_escape (html.h). */
#ifndef EKV_REPORT_HTML_INT_H
#define EKV_REPORT_HTML_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* One chart's viewBox and the margins of its plot area, in SVG px. */
#define W  640
#define H  320
#define ML 60 /* margins */
#define MR 20
#define MT 30
#define MB 45

/* The string field k of o, escaped for the page into buf (EKV_HTML_MAX bytes); "" if absent.
 * Returns buf. */
const char *rh_text(json_t *o, const char *k, char *buf);
/* The number field k of o; 0 when absent or not a number. */
double rh_num(json_t *o, const char *k);
/* The number field k of o as an integer (a real is cut); 0 when absent. */
long long rh_integer(json_t *o, const char *k);
/* A duration for a sentence into buf: "850 ms", "4.2 ms", "29.7 s". Returns buf. */
const char *rh_dur(char *buf, size_t len, double ms);

/* The checkers' totals of run (runs[].consistency, see checkers_json.c), then each checker's
 * smallest counterexamples as timelines; a note when the results have none. results gives the
 * time scale. */
void rh_checkers(FILE *f, json_t *results, json_t *run);

#endif
