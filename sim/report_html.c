/* report_html: report.html, one self-contained page of inline SVG charts (see report.h).
 *
 * Charts are drawn from the results document: a line chart helper (axes, ticks, one polyline
 * per series, legend as HTML below), a grouped bar chart, an equirectangular world map
 * (graticule only: no map data is shipped) with the PoPs coloured green to red by the share
 * of their reads that were stale (one scale for every map of the page, so policies compare),
 * a heatmap of stale reads per PoP over time, and the checkers' smallest counterexamples as
 * timelines (report_checkers.c). The page explains itself: every section opens with a short
 * text saying what it shows and how to read it, and the page opens with each policy set against
 * what the documentation claims, computed from its t-visibility curve and the experiment's
 * cacheTtl.
 *
 * Fields the results may lack are drawn when present and named on the page when not, so
 * older results and `edgekv compare` of mixed files still draw:
 *   runs[].tvis_predicted[] {t_ms, p}  a predicted t-visibility, dashed beside the observed;
 *   runs[].tvis_predicted_note         why there is none, or a caveat beside it: under the chart;
 *   runs[].pops[].stale_series[]       stale reads begun in each time bin of the load;
 *   runs[].pops[].read_series[]        answered reads in the same bins (without it the
 *                                      heatmap shades by count instead of by share);
 *   runs[].series_bin_s                the bins' width in simulated s (else duration_s / bins);
 *   runs[].consistency                 the checkers' results (checkers_json.c).
 * Every string from the document is printed through rh_text() or ekv_html_escape (html.h):
 * names, cities, policy labels and operation names come from files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "html.h"
#include "report.h"
#include "report_html_int.h"

#define TAIL_READS 50      /* reads pooled at the end of a curve before a share is quoted */
#define PUSH_BOUND 10000.0 /* "within seconds" (Quicksilver), in ms */

typedef struct {
    const char *name;
    double *x, *y;
    size_t n;
    int dashed;
    size_t ci; /* colour index: a prediction shares its observation's colour */
} series_t;

static void color(char *buf, size_t len, size_t i, size_t n)
{
    snprintf(buf, len, "hsl(%d,65%%,42%%)", (int)(360.0 * (double)i / (double)(n ? n : 1)));
}

const char *rh_text(json_t *o, const char *k, char *buf)
{
    return ekv_html_escape(buf, EKV_HTML_MAX, ekv_report_str(o, k));
}

double rh_num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

long long rh_integer(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : (long long)json_number_value(v);
}

const char *rh_dur(char *buf, size_t len, double ms)
{
    if (ms < 10)
        snprintf(buf, len, "%.1f ms", ms);
    else if (ms < 1000)
        snprintf(buf, len, "%.0f ms", ms);
    else
        snprintf(buf, len, "%.1f s", ms / 1000);
    return buf;
}

/* A short text under a heading: what the chart shows and how to read it (fixed prose). */
static void how(FILE *f, const char *s)
{
    fprintf(f, "<p class='how'>%s</p>", s);
}

static double nice_max(double v)
{
    if (v <= 0)
        return 1;
    double p = pow(10, floor(log10(v)));
    for (double m = 1; m <= 10; m += (m < 2 ? 1 : m < 5 ? 1 : 5))
        if (m * p >= v)
            return m * p;
    return 10 * p;
}

static void axes(FILE *f, const char *title, const char *xl, const char *yl, double xmax,
                 double ymax)
{
    char t[EKV_HTML_MAX];
    fprintf(f, "<svg viewBox='0 0 %d %d' class='chart'><text x='%d' y='18' class='t'>%s</text>", W,
            H, ML, ekv_html_escape(t, sizeof t, title));
    for (int i = 0; i <= 5; i++) {
        double fx = ML + (W - ML - MR) * i / 5.0, fy = H - MB - (H - MT - MB) * i / 5.0;
        fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='g'/>", fx, MT, fx, H - MB);
        fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='g'/>", ML, fy, W - MR, fy);
        fprintf(f, "<text x='%.1f' y='%d' class='xt'>%g</text>", fx, H - MB + 16, xmax * i / 5);
        fprintf(f, "<text x='%d' y='%.1f' class='yt'>%g</text>", ML - 6, fy + 4, ymax * i / 5);
    }
    fprintf(f, "<text x='%d' y='%d' class='xl'>%s</text>", (W + ML) / 2, H - 8, xl);
    fprintf(f, "<text x='14' y='%d' class='yl' transform='rotate(-90 14 %d)'>%s</text>",
            (H - MB + MT) / 2, (H - MB + MT) / 2, yl);
}

static void legend(FILE *f, series_t *s, size_t ns, size_t ncolors)
{
    char name[EKV_HTML_MAX], c[32];
    fprintf(f, "<div class='legend'>");
    for (size_t i = 0; i < ns; i++) {
        color(c, sizeof c, s[i].ci, ncolors);
        fprintf(f, "<span><i class='%s' style='background:%s;border-color:%s'></i>%s</span>",
                s[i].dashed ? "d" : "s", s[i].dashed ? "none" : c, c,
                ekv_html_escape(name, sizeof name, s[i].name));
    }
    fprintf(f, "</div>");
}

static void line_chart(FILE *f, const char *title, const char *xl, const char *yl, series_t *s,
                       size_t ns, size_t ncolors, double ymax)
{
    double xmax = 0;
    for (size_t i = 0; i < ns; i++)
        for (size_t k = 0; k < s[i].n; k++)
            xmax = s[i].x[k] > xmax ? s[i].x[k] : xmax;
    xmax = nice_max(xmax);
    axes(f, title, xl, yl, xmax, ymax);
    char name[EKV_HTML_MAX];
    for (size_t i = 0; i < ns; i++) {
        char c[32];
        color(c, sizeof c, s[i].ci, ncolors);
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.6'%s points='", c,
                s[i].dashed ? " stroke-dasharray='5,3'" : "");
        for (size_t k = 0; k < s[i].n; k++)
            fprintf(f, "%.1f,%.1f ", ML + (W - ML - MR) * s[i].x[k] / xmax,
                    H - MB - (H - MT - MB) * (s[i].y[k] > ymax ? ymax : s[i].y[k]) / ymax);
        fprintf(f, "'><title>%s</title></polyline>", ekv_html_escape(name, sizeof name, s[i].name));
    }
    fprintf(f, "</svg>");
    legend(f, s, ns, ncolors);
}

static void series_free(series_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].x);
        free(s[i].y);
    }
    free(s);
}

static void cdf_chart(FILE *f, json_t *run)
{
    json_t *pops = json_object_get(run, "pops");
    size_t n = json_array_size(pops);
    series_t *s = ekv_calloc(n ? n : 1, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(pops, i), *cdf = json_object_get(p, "visibility_cdf_ms");
        s[i].name = json_string_value(json_object_get(p, "name"));
        s[i].ci = i;
        s[i].n = json_array_size(cdf);
        s[i].x = ekv_calloc(s[i].n + 1, sizeof(double));
        s[i].y = ekv_calloc(s[i].n + 1, sizeof(double));
        for (size_t k = 0; k < s[i].n; k++) {
            s[i].x[k] = json_number_value(json_array_get(cdf, k));
            s[i].y[k] = (double)k / 20.0;
        }
    }
    char title[96];
    snprintf(title, sizeof title, "Arrival delay CDF per PoP (%s)", ekv_report_str(run, "policy"));
    line_chart(f, title, "commit to arrival (ms)", "fraction of changes", s, n, n, 1);
    series_free(s, n);
}

/* A {t_ms, p} curve (t_visibility or tvis_predicted) as a series. */
static void curve(series_t *s, json_t *tv, const char *name, size_t ci, int dashed)
{
    *s = (series_t){name, NULL, NULL, json_array_size(tv), dashed, ci};
    s->x = ekv_calloc(s->n + 1, sizeof(double));
    s->y = ekv_calloc(s->n + 1, sizeof(double));
    for (size_t k = 0; k < s->n; k++) {
        s->x[k] = rh_num(json_array_get(tv, k), "t_ms");
        s->y[k] = rh_num(json_array_get(tv, k), "p");
    }
}

/* Why a run has no predicted curve, or the caveat beside its curve (tvis_predicted_note, from
 * the runner): a reader missing a dashed line, or seeing one far from the solid, is told why. */
static void pred_note(FILE *f, json_t *run)
{
    char policy[EKV_HTML_MAX], note[EKV_HTML_MAX];
    if (!ekv_report_str(run, "tvis_predicted_note")[0])
        return;
    fprintf(f, "<p class='pnote'>%s%s%s</p>", rh_text(run, "policy", policy),
            json_array_size(json_object_get(run, "tvis_predicted")) ? ", predicted: "
                                                                    : ": no prediction: ",
            rh_text(run, "tvis_predicted_note", note));
}

/* The observed curve of every run, and its prediction (dashed, same colour) when present, then
 * the runs' notes on their predictions. */
static void tvis_chart(FILE *f, json_t *runs, const char *title)
{
    size_t n = json_array_size(runs), ns = 0;
    series_t *s = ekv_calloc(2 * n + 1, sizeof *s);
    char(*names)[64] = ekv_calloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(runs, i), *pred = json_object_get(run, "tvis_predicted");
        curve(&s[ns++], json_object_get(run, "t_visibility"), ekv_report_str(run, "policy"), i, 0);
        if (json_array_size(pred) == 0)
            continue;
        snprintf(names[i], sizeof names[i], "%s predicted", ekv_report_str(run, "policy"));
        curve(&s[ns++], pred, names[i], i, 1);
    }
    line_chart(f, title, "t since the newest commit of the key (ms)", "probability fresh", s, ns, n,
               1);
    series_free(s, ns);
    free(names);
    for (size_t i = 0; i < n; i++)
        pred_note(f, json_array_get(runs, i));
}

static void lag_chart(FILE *f, json_t *runs)
{
    size_t n = json_array_size(runs);
    series_t *s = ekv_calloc(2 * n + 1, sizeof *s);
    char(*names)[48] = ekv_calloc(2 * n + 1, sizeof *names);
    double ymax = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        json_t *run = json_array_get(runs, i / 2), *lag = json_object_get(run, "version_lag");
        const char *which = i % 2 ? "max" : "mean";
        snprintf(names[i], sizeof names[i], "%s (%s over PoPs)", ekv_report_str(run, "policy"),
                 which);
        s[i] = (series_t){names[i], NULL, NULL, json_array_size(lag), (int)(i % 2), i / 2};
        s[i].x = ekv_calloc(s[i].n + 1, sizeof(double));
        s[i].y = ekv_calloc(s[i].n + 1, sizeof(double));
        for (size_t k = 0; k < s[i].n; k++) {
            s[i].x[k] = rh_num(json_array_get(lag, k), "t_s");
            s[i].y[k] = rh_num(json_array_get(lag, k), which);
            ymax = s[i].y[k] > ymax ? s[i].y[k] : ymax;
        }
    }
    line_chart(f, "Version lag: committed changes a PoP has not seen yet", "time (s)",
               "changes behind", s, 2 * n, n, nice_max(ymax));
    series_free(s, 2 * n);
    free(names);
}

/* One line per PoP: committed changes it had not seen, over the run. */
static void pop_lag_chart(FILE *f, json_t *run)
{
    json_t *pops = json_object_get(run, "pops"), *times = json_object_get(run, "version_lag");
    size_t n = json_array_size(pops);
    series_t *s = ekv_calloc(n ? n : 1, sizeof *s);
    double ymax = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(pops, i), *lag = json_object_get(p, "version_lag");
        s[i].name = json_string_value(json_object_get(p, "name"));
        s[i].ci = i;
        s[i].n = json_array_size(lag);
        s[i].x = ekv_calloc(s[i].n + 1, sizeof(double));
        s[i].y = ekv_calloc(s[i].n + 1, sizeof(double));
        for (size_t k = 0; k < s[i].n; k++) {
            s[i].x[k] = rh_num(json_array_get(times, k), "t_s");
            s[i].y[k] = json_number_value(json_array_get(lag, k));
            ymax = s[i].y[k] > ymax ? s[i].y[k] : ymax;
        }
    }
    line_chart(f, "Version lag per PoP", "time (s)", "changes behind", s, n, n, nice_max(ymax));
    series_free(s, n);
}

static void stale_bars(FILE *f, json_t *runs)
{
    size_t nr = json_array_size(runs);
    json_t *pops0 = json_object_get(json_array_get(runs, 0), "pops");
    size_t np = json_array_size(pops0);
    double ymax = 0;
    for (size_t r = 0; r < nr; r++)
        for (size_t p = 0; p < np; p++) {
            double v = rh_num(json_array_get(json_object_get(json_array_get(runs, r), "pops"), p),
                              "stale_ratio");
            ymax = v > ymax ? v : ymax;
        }
    ymax = nice_max(ymax > 0 ? ymax * 100 : 1);
    fprintf(f,
            "<svg viewBox='0 0 %d %d' class='chart'><text x='%d' y='18' class='t'>Stale-read "
            "ratio per PoP (%%)</text>",
            W, H, ML);
    for (int i = 0; i <= 5; i++) {
        double fy = H - MB - (H - MT - MB) * i / 5.0;
        fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='g'/>", ML, fy, W - MR, fy);
        fprintf(f, "<text x='%d' y='%.1f' class='yt'>%g</text>", ML - 6, fy + 4, ymax * i / 5);
    }
    double slot = (double)(W - ML - MR) / (double)(np ? np : 1);
    char name[EKV_HTML_MAX], policy[EKV_HTML_MAX];
    for (size_t p = 0; p < np; p++) {
        for (size_t r = 0; r < nr; r++) {
            json_t *o = json_array_get(json_object_get(json_array_get(runs, r), "pops"), p);
            double v = 100 * rh_num(o, "stale_ratio"), bh = (H - MT - MB) * v / ymax;
            char c[32];
            color(c, sizeof c, r, nr);
            fprintf(f,
                    "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'><title>%s %s: "
                    "%.2f%%</title></rect>",
                    ML + slot * (double)p + slot * 0.1 + slot * 0.8 * (double)r / (double)nr,
                    H - MB - bh, slot * 0.8 / (double)nr, bh, c, rh_text(o, "name", name),
                    rh_text(json_array_get(runs, r), "policy", policy), v);
        }
        fprintf(f, "<text x='%.1f' y='%d' class='xt' transform='rotate(-60 %.1f %d)'>%s</text>",
                ML + slot * ((double)p + 0.5), H - MB + 14, ML + slot * ((double)p + 0.5),
                H - MB + 14, rh_text(json_array_get(pops0, p), "name", name));
    }
    fprintf(f, "</svg><div class='legend'>");
    for (size_t r = 0; r < nr; r++) {
        char c[32];
        color(c, sizeof c, r, nr);
        fprintf(f, "<span><i class='s' style='background:%s'></i>%s</span>", c,
                rh_text(json_array_get(runs, r), "policy", policy));
    }
    fprintf(f, "</div>");
}

/* ---- the run against the documentation ---------------------------------------------------- */

/* The t_ms of the bin from which every later bin of the curve has p >= q; -1 when the last
 * bin is below q or those bins hold fewer than TAIL_READS reads. Bins hold reads made up to
 * t_ms after the newest commit of their key. */
static double sustained(json_t *tv, double q)
{
    double t = -1, n = 0;
    for (size_t k = json_array_size(tv); k-- > 0;) {
        json_t *b = json_array_get(tv, k);
        if (rh_num(b, "p") < q)
            break;
        t = rh_num(b, "t_ms");
        n += rh_num(b, "n");
    }
    return n >= TAIL_READS ? t : -1; /* a few reads at the far end prove nothing */
}

/* The bins' width: as given ("w", the checkers' curve), else the smallest step of the curve
 * (its first t_ms ends the first bin; t_visibility's empty bins are left out). */
static double bin_width(json_t *tv)
{
    if (json_object_get(json_array_get(tv, 0), "w"))
        return rh_num(json_array_get(tv, 0), "w");
    double w = rh_num(json_array_get(tv, 0), "t_ms");
    for (size_t k = 1; k < json_array_size(tv); k++)
        w = fmin(w,
                 rh_num(json_array_get(tv, k), "t_ms") - rh_num(json_array_get(tv, k - 1), "t_ms"));
    return w > 0 ? w : 0;
}

/* The end of the curve's last bin. */
static double last_t(json_t *tv)
{
    return rh_num(json_array_get(tv, json_array_size(tv) - 1), "t_ms");
}

/* The fresh share of the reads of bins k0.. (pooled by their n); their count in *n. */
static double pooled(json_t *tv, size_t k0, double *n)
{
    double fresh = 0;
    *n = 0;
    for (size_t k = k0; k < json_array_size(tv); k++) {
        json_t *b = json_array_get(tv, k);
        *n += rh_num(b, "n");
        fresh += rh_num(b, "p") * rh_num(b, "n");
    }
    return *n > 0 ? fresh / *n : 0;
}

/* The first bin of the curve's tail that holds at least TAIL_READS reads (pooled). */
static size_t tail_start(json_t *tv)
{
    double n = 0;
    size_t k = json_array_size(tv);
    while (k > 0 && n < TAIL_READS)
        n += rh_num(json_array_get(tv, --k), "n");
    return k;
}

/* The first bin that starts at from_ms or later (the curve's size when none). */
static size_t bin_from(json_t *tv, double from_ms)
{
    double w = bin_width(tv);
    size_t k = 0;
    while (k < json_array_size(tv) && rh_num(json_array_get(tv, k), "t_ms") - w < from_ms - 1e-9)
        k++;
    return k;
}

/* What the documentation claims for the policy ("" when it claims nothing); `edgekv compare`
 * labels runs "experiment/policy". */
static const char *doc_claim(const char *label, int *cached)
{
    const char *policy = strrchr(label, '/') ? strrchr(label, '/') + 1 : label;
    *cached = !strcmp(policy, "ttl") || !strcmp(policy, "kv");
    if (*cached)
        return "Cloudflare: a change can take up to cacheTtl (60 s by default) to be seen in "
               "locations that read the key before";
    if (!strcmp(policy, "push") || !strcmp(policy, "push-all") || !strcmp(policy, "invalidate"))
        return "Quicksilver, Cloudflare's configuration store, pushes every change to every "
               "location within seconds";
    return "";
}

/* How long 99% (and half) of the reads took to be fresh, or the share fresh at the end. */
static void measured(FILE *f, json_t *tv)
{
    char a[32], b[32], c[32];
    double t50 = sustained(tv, 0.5), t99 = sustained(tv, 0.99), n;
    if (t50 >= 0 && t50 < t99)
        fprintf(f, "half of the reads were fresh %s after the write and ",
                rh_dur(a, sizeof a, t50));
    if (t99 >= 0) {
        fprintf(f, "99%% of reads were fresh %s after the write", rh_dur(a, sizeof a, t99));
        return;
    }
    size_t k = tail_start(tv);
    double p = pooled(tv, k, &n), from = rh_num(json_array_get(tv, k), "t_ms") - bin_width(tv);
    fprintf(f,
            "reads had not reached 99%% fresh by the end of the curve, %s after the write: of "
            "the %.0f reads made %s to %s after it, %.1f%% were fresh",
            rh_dur(a, sizeof a, last_t(tv)), n, rh_dur(c, sizeof c, from > 0 ? from : 0),
            rh_dur(b, sizeof b, last_t(tv)), 100 * p);
}

/* The checkers' p_fresh (consistency.p_fresh, its bins by their start) as a curve like
 * t_visibility (bins by their end); NULL when the results have none. New reference. */
static json_t *checkers_curve(json_t *run)
{
    json_t *c = json_object_get(run, "consistency"), *bins = json_object_get(c, "p_fresh");
    double w = rh_num(c, "p_fresh_bin_ms");
    if (json_array_size(bins) == 0 || w <= 0)
        return NULL;
    json_t *out = json_array();
    for (size_t k = 0; k < json_array_size(bins); k++) {
        json_t *b = json_array_get(bins, k);
        json_array_append_new(out, json_pack("{s:f, s:f, s:f, s:f}", "t_ms", rh_num(b, "t_ms") + w,
                                             "p", rh_num(b, "p"), "n", rh_num(b, "n"), "w", w));
    }
    return out;
}

/* One policy's sentence: the documented claim, then this run's t-visibility against it; when
 * that curve ends before 99% of reads are fresh (it spans cacheTtl and the largest delay, and
 * regional tiers keep copies of their own), the checkers' p_fresh, which reaches further. */
static void claim(FILE *f, json_t *results, json_t *run)
{
    json_t *tv = json_object_get(run, "t_visibility");
    double ttl_ms = 1000 * rh_num(json_object_get(results, "workload"), "cache_ttl"), n;
    char name[EKV_HTML_MAX], a[32];
    int cached;
    const char *doc = doc_claim(ekv_report_str(run, "policy"), &cached);
    fprintf(f, "<li class='claim'><b>%s</b>: ", rh_text(run, "policy", name));
    if (doc[0])
        fprintf(f, "%s%s%s. ", doc, cached && ttl_ms > 0 ? "; this experiment's cacheTtl is " : "",
                cached && ttl_ms > 0 ? rh_dur(a, sizeof a, ttl_ms) : "");
    if (json_array_size(tv) == 0) {
        fprintf(f, "No read followed a write of its key: there is nothing to compare.</li>");
        return;
    }
    fprintf(f, "Here ");
    measured(f, tv);
    double t99 = sustained(tv, 0.99);
    json_t *pf = checkers_curve(run), *best = tv;
    if (t99 < 0 && pf && last_t(pf) > last_t(tv)) {
        fprintf(f, "; the checkers' p_fresh, which reaches further (to %s), finds that ",
                rh_dur(a, sizeof a, last_t(pf)));
        measured(f, pf);
        best = pf;
        t99 = sustained(pf, 0.99);
    }
    size_t k = bin_from(best, ttl_ms);
    if (cached && ttl_ms > 0 && k < json_array_size(best)) {
        double p = pooled(best, k, &n);
        fprintf(f, "; of the %.0f reads made more than cacheTtl after the write, %.1f%% were fresh",
                n, 100 * p);
    }
    if (cached && ttl_ms > 0)
        fprintf(f, " (%s)",
                t99 < 0                           ? "not within cacheTtl"
                : t99 <= ttl_ms + bin_width(best) ? "within the documented bound"
                                                  : "later than cacheTtl");
    else if (doc[0])
        fprintf(f, " (%s)",
                t99 >= 0 && t99 <= PUSH_BOUND ? "within seconds, as documented"
                                              : "slower than documented");
    fprintf(f, ". %.2f%% of all its reads were stale.</li>", 100 * rh_num(run, "stale_ratio"));
    json_decref(pf);
}

/* ---- where and when reads were stale ------------------------------------------------------ */

/* A PoP's served delays (what readers got), or its arrival ones in results without them. */
static json_t *served(json_t *pop)
{
    json_t *s = json_object_get(pop, "served_ms");
    return s ? s : json_object_get(pop, "visibility_ms");
}

/* The largest stale_ratio of any PoP of any run: the red end of every map. */
static double worst_stale(json_t *runs)
{
    double worst = 0;
    for (size_t r = 0; r < json_array_size(runs); r++) {
        json_t *pops = json_object_get(json_array_get(runs, r), "pops");
        for (size_t i = 0; i < json_array_size(pops); i++)
            worst = fmax(worst, rh_num(json_array_get(pops, i), "stale_ratio"));
    }
    return worst;
}

/* The gradient id as a labelled strip at (x, y). */
static void legend_strip(FILE *f, const char *id, int x, int y, const char *lo, const char *hi)
{
    fprintf(f,
            "<rect x='%d' y='%d' width='120' height='8' fill='url(#%s)'/><text x='%d' y='%d' "
            "class='yt'>%s</text><text x='%d' y='%d' class='lbl'>%s</text>",
            x, y, id, x - 4, y + 8, lo, x + 124, y + 8, hi);
}

/* A colour strip from green (0) to red (top), labelled, at (x, y). */
static void strip(FILE *f, const char *id, int x, int y, const char *lo, const char *hi)
{
    fprintf(f,
            "<defs><linearGradient id='%s'><stop offset='0' stop-color='hsl(120,75%%,45%%)'/>"
            "<stop offset='0.5' stop-color='hsl(60,75%%,45%%)'/><stop offset='1' "
            "stop-color='hsl(0,75%%,45%%)'/></linearGradient></defs>",
            id);
    legend_strip(f, id, x, y, lo, hi);
}

/* From white (none) to dark red (all): the heatmap's scale, where more is darker. */
static void red_strip(FILE *f, const char *id, int x, int y, const char *lo, const char *hi)
{
    fprintf(f,
            "<defs><linearGradient id='%s'><stop offset='0' stop-color='hsl(0,75%%,95%%)'/>"
            "<stop offset='1' stop-color='hsl(0,75%%,35%%)'/></linearGradient></defs>",
            id);
    legend_strip(f, id, x, y, lo, hi);
}

/* Equirectangular: 2 px per degree. */
static void world_map(FILE *f, json_t *results, json_t *run, double worst, size_t idx)
{
    json_t *pops = json_object_get(run, "pops"), *co = json_object_get(results, "coordinator");
    char name[EKV_HTML_MAX], city[EKV_HTML_MAX], hi[32], a[32], b[32], id[32];
    fprintf(f,
            "<svg viewBox='0 0 720 400' class='chart map'><text x='6' y='16' class='t'>PoPs by "
            "share of stale reads (%s): green 0%%, red %.1f%%</text><rect x='0' y='20' "
            "width='720' height='360' class='sea'/>",
            rh_text(run, "policy", name), 100 * worst);
    for (int lon = -180; lon <= 180; lon += 30)
        fprintf(f, "<line x1='%d' y1='20' x2='%d' y2='380' class='g'/>", (lon + 180) * 2,
                (lon + 180) * 2);
    for (int lat = -90; lat <= 90; lat += 30)
        fprintf(f, "<line x1='0' y1='%d' x2='720' y2='%d' class='g'/>", 20 + (90 - lat) * 2,
                20 + (90 - lat) * 2);
    fprintf(f,
            "<rect x='%.1f' y='%.1f' width='10' height='10' fill='#222'><title>coordinator "
            "(%s)</title></rect>",
            (rh_num(co, "lon") + 180) * 2 - 5, 20 + (90 - rh_num(co, "lat")) * 2 - 5,
            rh_text(co, "city", city));
    for (size_t i = 0; i < json_array_size(pops); i++) {
        json_t *p = json_array_get(pops, i), *age = json_object_get(p, "stale_age_ms");
        double ratio = rh_num(p, "stale_ratio");
        int hue = (int)(120 * (1 - (worst > 0 ? fmin(ratio / worst, 1) : 0)));
        double x = (rh_num(p, "lon") + 180) * 2, y = 20 + (90 - rh_num(p, "lat")) * 2;
        fprintf(f,
                "<circle cx='%.1f' cy='%.1f' r='6' fill='hsl(%d,75%%,45%%)'><title>%s (%s): "
                "%.1f%% of %lld reads stale, stale age p50 %s, max %s; p99 served %.1f ms, "
                "arrived %.1f ms</title></circle><text x='%.1f' y='%.1f' class='lbl%s'>%s</text>",
                x, y, hue, rh_text(p, "name", name), rh_text(p, "city", city), 100 * ratio,
                rh_integer(p, "reads"), rh_dur(a, sizeof a, rh_num(age, "p50")),
                rh_dur(b, sizeof b, rh_num(age, "max")), rh_num(served(p), "p99"),
                rh_num(json_object_get(p, "visibility_ms"), "p99"), x > 680 ? x - 7 : x + 7, y - 5,
                x > 680 ? " end" : "", name); /* near the right edge: the name on the left */
    }
    snprintf(hi, sizeof hi, "%.1f%% stale", 100 * worst);
    snprintf(id, sizeof id, "gm%zu", idx);
    strip(f, id, 40, 388, "0%", hi);
    fprintf(f, "<rect x='300' y='386' width='10' height='10' fill='#222'/><text x='316' y='395' "
               "class='lbl'>coordinator (writes commit here)</text></svg>");
}

/* The heatmap's grid: one row per PoP, one column per bin; only non-zero cells are drawn. */
static void heat_cells(FILE *f, json_t *pops, size_t nb, double rowh, double cellw, double top,
                       int share)
{
    char name[EKV_HTML_MAX];
    for (size_t p = 0; p < json_array_size(pops); p++) {
        json_t *o = json_array_get(pops, p), *st = json_object_get(o, "stale_series"),
               *rd = json_object_get(o, "read_series");
        double y = MT + rowh * (double)p;
        if (rowh >= 8)
            fprintf(f, "<text x='%d' y='%.1f' class='yt'>%s</text>", ML + 16, y + rowh / 2 + 3,
                    rh_text(o, "name", name));
        for (size_t b = 0; b < nb && b < json_array_size(st); b++) {
            double v = json_number_value(json_array_get(st, b));
            double d = share ? json_number_value(json_array_get(rd, b)) : top;
            if (v <= 0 || d <= 0)
                continue;
            double x = fmin(v / d, 1);
            fprintf(f,
                    "<rect x='%.1f' y='%.1f' width='%.2f' height='%.2f' "
                    "fill='hsl(0,75%%,%.0f%%)'><title>%s, bin %zu: %g stale",
                    ML + 20 + cellw * (double)b, y, cellw, rowh, 95 - 60 * x,
                    rh_text(o, "name", name), b, v);
            if (share)
                fprintf(f, " of %g reads", d);
            fprintf(f, "</title></rect>");
        }
    }
}

/* Stale reads per PoP over time, from the per-PoP series when the results carry them. */
static void heatmap(FILE *f, json_t *results, json_t *run, size_t idx)
{
    json_t *pops = json_object_get(run, "pops");
    size_t np = json_array_size(pops), nb = 0;
    double top = 0;
    int share = 1;
    for (size_t p = 0; p < np; p++) {
        json_t *o = json_array_get(pops, p), *st = json_object_get(o, "stale_series");
        nb = json_array_size(st) > nb ? json_array_size(st) : nb;
        share &= json_array_size(json_object_get(o, "read_series")) == json_array_size(st);
        for (size_t b = 0; b < json_array_size(st); b++)
            top = fmax(top, json_number_value(json_array_get(st, b)));
    }
    if (nb == 0) {
        fprintf(f, "<p class='miss'>Not drawn: these results have no stale reads per PoP over "
                   "time (<code>runs[].pops[].stale_series</code>: stale reads per time bin, "
                   "with <code>read_series</code> and <code>runs[].series_bin_s</code>).</p>");
        return;
    }
    double bin_s = rh_num(run, "series_bin_s");
    if (bin_s <= 0)
        bin_s = rh_num(results, "duration_s") / (double)nb;
    double rowh = fmax(2, fmin(14, 420.0 / (double)(np ? np : 1))), cellw = 540.0 / (double)nb;
    int h = MT + (int)ceil(rowh * (double)np) + 48;
    char name[EKV_HTML_MAX], hi[32], id[32];
    fprintf(f,
            "<svg viewBox='0 0 %d %d' class='chart'><text x='%d' y='18' class='t'>Stale reads "
            "per PoP over time (%s)</text><rect x='%d' y='%d' width='540' height='%.1f' "
            "fill='hsl(0,75%%,95%%)'/>",
            W, h, ML, rh_text(run, "policy", name), ML + 20, MT, rowh * (double)np);
    heat_cells(f, pops, nb, rowh, cellw, top, share);
    double y = MT + rowh * (double)np;
    for (int i = 0; i <= 5; i++)
        fprintf(f, "<text x='%.1f' y='%.1f' class='xt'>%.3g</text>", ML + 20 + 540 * i / 5.0,
                y + 13, bin_s * (double)nb * i / 5); /* 8, 16, ... not 7.99745 */
    fprintf(f, "<text x='%d' y='%.1f' class='xl'>time since the load began (s)</text>",
            ML + 20 + 270, y + 26);
    snprintf(hi, sizeof hi, share ? "all reads stale" : "%g stale reads", top);
    snprintf(id, sizeof id, "gh%zu", idx);
    red_strip(f, id, ML + 40, (int)y + 34, share ? "none" : "0", hi);
    fprintf(f, "</svg>");
}

/* ---- the page ------------------------------------------------------------------------------ */

static const char *css =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px}h3{font-size:15px;margin:22px 0 4px}"
    "h4{font-size:13px;margin:14px 0 2px}.chart{width:100%;max-width:760px;"
    "display:block;background:#fff}.t{font-weight:600;font-size:13px}.g{stroke:#e4e4e4}"
    ".xt{font-size:10px;text-anchor:middle}.yt{font-size:10px;text-anchor:end}"
    ".xl,.yl{font-size:11px;text-anchor:middle}.legend span{display:inline-block;margin:2px 10px "
    "2px 0;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}"
    ".legend i.d{width:14px;height:0;border-top:2px dashed;vertical-align:middle}"
    ".sea{fill:#eef4fa}.lbl{font-size:9px}table{border-collapse:collapse;font-size:12px}"
    "td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:right}"
    "td:first-child,th:first-child{text-align:left}.how{color:#444;max-width:760px;"
    "margin:4px 0 8px}.miss{color:#8a5a00;font-size:12px}"
    ".pnote{color:#555;font-size:12px;margin:2px 0;max-width:760px}.claims{max-width:760px;"
    "padding-left:18px}.claim{margin:4px 0}.op{font-size:10px}.who{font-weight:600}"
    ".wr{fill:#3a6ea5}.rd{fill:#999}.bad{fill:#c0392b}.gap{fill:#fff6cc}"
    ".end{text-anchor:end}.commit{stroke:#000;stroke-width:1.5}.ex{max-width:700px}";

static void header(FILE *f, json_t *results)
{
    json_t *runs = json_object_get(results, "runs"), *w = json_object_get(results, "workload");
    char name[EKV_HTML_MAX], dist[EKV_HTML_MAX];
    rh_text(results, "experiment", name);
    fprintf(f,
            "<!doctype html><html><head><meta charset='utf-8'><title>edgekv: %s</title>"
            "<style>%s</style></head><body><h1>edgekv experiment: %s</h1><p>%g s simulated "
            "(time scale %g), %lld keys (%s), %g writes/s, %g reads/s per PoP, cacheTtl %g s, "
            "policies:",
            name, css, name, rh_num(results, "duration_s"), rh_num(results, "time_scale"),
            rh_integer(w, "keys"), rh_text(w, "distribution", dist), rh_num(w, "write_rate"),
            rh_num(w, "read_rate"), rh_num(w, "cache_ttl"));
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i);
        fprintf(f, " <b>%s</b> (%.2f%% stale)", rh_text(r, "policy", name),
                100 * rh_num(r, "stale_ratio"));
    }
    fprintf(f, ".</p>");
    how(f, "Each policy ran the same workload (same seed) on fresh daemons. A read is "
           "<b>stale</b> when it returned an older version than the newest one committed "
           "before it was sent; <b>fresh</b> otherwise. Every time on this page is simulated: "
           "real intervals times the time scale.");
    fprintf(f, "<h2 id='claims'>The documentation against this run</h2>");
    how(f, "What Cloudflare documents for each kind of policy, then what this run measured: "
           "from the t-visibility curve below, how long after a write reads returned it.");
    fprintf(f, "<ul class='claims'>");
    for (size_t i = 0; i < json_array_size(runs); i++)
        claim(f, results, json_array_get(runs, i));
    fprintf(f, "</ul>");
}

static void overview(FILE *f, json_t *runs)
{
    fprintf(f, "<h2 id='staleness'>Staleness as seen by reads</h2>");
    how(f, "<b>t-visibility</b> (probabilistically bounded staleness): of the reads made t ms "
           "after the newest write of their key, the share that returned that write or a newer "
           "one. A curve that reaches 1 early means every location sees a change soon; one "
           "that climbs slowly means readers keep getting old versions. Read across at 0.99 "
           "for how long a writer must wait before 99% of readers see the change. Dashed "
           "curves are predictions, when the results carry them; under the chart, why a policy "
           "has none, or a caveat beside one.");
    tvis_chart(f, runs, "t-visibility: P(a read t ms after a commit returns it), every policy");
    how(f, "The share of each PoP's reads that were stale, one bar per policy. Under push a "
           "far PoP is stale for longer after each write; under ttl and kv every PoP that "
           "cached a key serves its copy until cacheTtl runs out, near or far. A PoP that "
           "writes go through sees those writes at once (read-your-writes), so it does "
           "better.");
    stale_bars(f, runs);
    how(f, "How many committed changes the PoPs had not received yet (arrival, not what they "
           "serve), sampled over the run: the mean over PoPs (solid) and the worst PoP "
           "(dashed). Near 0 means changes arrive as fast as they are made; a ramp is a PoP "
           "cut off or slowed by a fault, falling back when it catches up.");
    lag_chart(f, runs);
}

static void table(FILE *f, json_t *run)
{
    fprintf(f, "<table><tr><th>PoP</th><th>city</th><th>configured ms</th><th>served p50 ms</th>"
               "<th>served p99 ms</th><th>served max ms</th><th>arrived p50 ms</th>"
               "<th>arrived p99 ms</th><th>reads</th><th>stale</th><th>stale %%</th>"
               "<th>hit ratio</th><th>origin fetches</th></tr>");
    json_t *pops = json_object_get(run, "pops");
    char a[EKV_HTML_MAX], b[EKV_HTML_MAX];
    for (size_t i = 0; i < json_array_size(pops); i++) {
        json_t *p = json_array_get(pops, i), *v = json_object_get(p, "visibility_ms");
        json_t *sv = served(p);
        fprintf(f,
                "<tr><td>%s</td><td>%s</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td>"
                "<td>%.1f</td><td>%.1f</td><td>%lld</td><td>%lld</td><td>%.2f</td><td>%.3f</td>"
                "<td>%lld</td></tr>",
                rh_text(p, "name", a), rh_text(p, "city", b), rh_num(p, "configured_ms"),
                rh_num(sv, "p50"), rh_num(sv, "p99"), rh_num(sv, "max"), rh_num(v, "p50"),
                rh_num(v, "p99"), (long long)json_integer_value(json_object_get(p, "reads")),
                (long long)json_integer_value(json_object_get(p, "stale_reads")),
                100 * rh_num(p, "stale_ratio"), rh_num(p, "hit_ratio"),
                (long long)json_integer_value(json_object_get(p, "origin_reads")));
    }
    fprintf(f, "</table><p>Fan-out per write: %.1f messages, %.0f bytes.</p>",
            rh_num(run, "fanout_messages_per_write"), rh_num(run, "fanout_bytes_per_write"));
    json_t *faults = json_object_get(run, "faults");
    if (json_array_size(faults) == 0)
        return;
    how(f, "The faults of the experiment's timeline, and how long after each recovery the PoP "
           "(every PoP, for the coordinator) had seen every change committed before it.");
    fprintf(f, "<table><tr><th>fault</th><th>PoP</th><th>at s</th><th>converged after ms</th>"
               "</tr>");
    for (size_t i = 0; i < json_array_size(faults); i++) {
        json_t *x = json_array_get(faults, i), *c = json_object_get(x, "convergence_ms");
        char conv[32];
        snprintf(conv, sizeof conv, json_is_number(c) ? "%.1f" : "-", json_number_value(c));
        fprintf(f, "<tr><td>%s</td><td>%s</td><td>%.1f</td><td>%s</td></tr>",
                rh_text(x, "action", a), rh_text(x, "pop", b), rh_num(x, "at_s"), conv);
    }
    fprintf(f, "</table>");
}

static void policy_section(FILE *f, json_t *results, json_t *r, double worst, size_t idx)
{
    char name[EKV_HTML_MAX];
    fprintf(f, "<h2 id='p%zu'>Policy %s</h2>", idx, rh_text(r, "policy", name));
    how(f, "This policy's t-visibility curve alone (its prediction dashed, when present; under "
           "the chart, why there is none, or a caveat): how soon after a write its readers got "
           "it. The first section sets it against the documentation.");
    json_t *one = json_array();
    json_array_append(one, r);
    tvis_chart(f, one, "t-visibility of this policy alone");
    json_decref(one);
    fprintf(f, "<h3 id='p%zu-arrival'>When changes arrived</h3>", idx);
    how(f, "For each PoP, the delay from a write's commit until the change reached it "
           "(arrival), as a cumulative distribution: the x at 0.5 is the median, at 1 the "
           "slowest change. Under ttl and kv arrival is not what readers get: a cached copy is "
           "served until its cacheTtl runs out (see the map and the served columns below).");
    cdf_chart(f, r);
    how(f, "The version lag of each PoP over the run: flat at 0, it kept up; a hump is a PoP "
           "that fell behind (a slow link, a fault) and how long it took to catch up.");
    pop_lag_chart(f, r);
    fprintf(f, "<h3 id='p%zu-map'>Where reads were stale</h3>", idx);
    how(f, "Each PoP at its coordinates (longitude across, latitude up; no coastlines are "
           "drawn), coloured by the share of its reads that were stale: green none, red as "
           "many as the worst PoP of this page (one scale for every map, so policies compare). "
           "The black square is the coordinator, where writes commit. Hover a PoP for its "
           "stale share, how old its stale reads were, and its served and arrival delays.");
    world_map(f, results, r, worst, idx);
    fprintf(f, "<h3 id='p%zu-heat'>When reads were stale</h3>", idx);
    how(f, "One row per PoP, one column per time bin of the load: the darker the cell, the "
           "larger the share of that PoP's reads in that bin that were stale (palest: none). A "
           "column lit across every row is a moment all PoPs were behind (a burst of writes, "
           "the coordinator down); a row lit across the run, a PoP that stayed behind.");
    heatmap(f, results, r, idx);
    fprintf(f, "<h3 id='p%zu-checkers'>What the consistency checkers found</h3>", idx);
    how(f, "The checkers judged every read of the run's history against the writes, reporting "
           "a violation only when no order of the writes explains the answer. Each timeline is "
           "one of the smallest counterexamples: a lane per operation, its bar from sent to "
           "answered (red: the operation that broke the guarantee), a black tick where a write "
           "committed, and in yellow the gap between what set the expectation and the read "
           "that broke it.");
    rh_checkers(f, results, r);
    fprintf(f, "<h3 id='p%zu-pops'>Per PoP</h3>", idx);
    how(f, "Configured one-way delay to the coordinator; served delays (commit to the first "
           "read there that returned the change: what readers got) beside arrival delays; "
           "reads, stale reads and their share; the cache's hit ratio and fetches from origin.");
    table(f, r);
}

int ekv_report_html(const char *dir, json_t *results)
{
    char path[4096], tmp[EKV_FILE_TMP_MAX];
    snprintf(path, sizeof path, "%s/report.html", dir);
    FILE *f = ekv_file_out_open(path, tmp); /* renamed onto report.html: never through a link */
    if (!f)
        return EKV_EIO;
    json_t *runs = json_object_get(results, "runs");
    header(f, results);
    overview(f, runs);
    double worst = worst_stale(runs);
    for (size_t i = 0; i < json_array_size(runs); i++)
        policy_section(f, results, json_array_get(runs, i), worst, i);
    fprintf(f, "</body></html>\n");
    return ekv_file_out_close(f, tmp, path);
}
