/* report_html: report.html, one self-contained page of inline SVG charts (see report.h).
 *
 * Charts are drawn from the results document: a line chart helper (axes, ticks, one polyline
 * per series, legend as HTML below), a grouped bar chart, and an equirectangular world map
 * (graticule only: no map data is shipped) with the PoPs coloured green to red by p99 of the
 * served delay (when readers there first got a change; arrival in results that predate it).
 * Every string from the document is printed through text() (html.h): names, cities and
 * policy labels come from files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "html.h"
#include "report.h"

#define W  640
#define H  320
#define ML 60 /* margins */
#define MR 20
#define MT 30
#define MB 45

typedef struct {
    const char *name;
    double *x, *y;
    size_t n;
    int dashed;
} series_t;

static void color(char *buf, size_t len, size_t i, size_t n)
{
    snprintf(buf, len, "hsl(%d,65%%,42%%)", (int)(360.0 * (double)i / (double)(n ? n : 1)));
}

/* The string field k of o, escaped for the page into buf (EKV_HTML_MAX bytes); "" if absent. */
static const char *text(json_t *o, const char *k, char *buf)
{
    return ekv_html_escape(buf, EKV_HTML_MAX, ekv_report_str(o, k));
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

static void line_chart(FILE *f, const char *title, const char *xl, const char *yl, series_t *s,
                       size_t ns, double ymax)
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
        color(c, sizeof c, i, ns);
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.6'%s points='", c,
                s[i].dashed ? " stroke-dasharray='5,3'" : "");
        for (size_t k = 0; k < s[i].n; k++)
            fprintf(f, "%.1f,%.1f ", ML + (W - ML - MR) * s[i].x[k] / xmax,
                    H - MB - (H - MT - MB) * (s[i].y[k] > ymax ? ymax : s[i].y[k]) / ymax);
        fprintf(f, "'><title>%s</title></polyline>", ekv_html_escape(name, sizeof name, s[i].name));
    }
    fprintf(f, "</svg><div class='legend'>");
    for (size_t i = 0; i < ns; i++) {
        char c[32];
        color(c, sizeof c, i, ns);
        fprintf(f, "<span><i style='background:%s'></i>%s</span>", c,
                ekv_html_escape(name, sizeof name, s[i].name));
    }
    fprintf(f, "</div>");
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
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
        s[i].n = json_array_size(cdf);
        s[i].x = ekv_calloc(s[i].n + 1, sizeof(double));
        s[i].y = ekv_calloc(s[i].n + 1, sizeof(double));
        for (size_t k = 0; k < s[i].n; k++) {
            s[i].x[k] = json_number_value(json_array_get(cdf, k));
            s[i].y[k] = (double)k / 20.0;
        }
    }
    char title[96];
    snprintf(title, sizeof title, "Arrival delay CDF per PoP (%s)",
             ekv_report_str(run, "policy"));
    line_chart(f, title, "commit to arrival (ms)", "fraction of changes", s, n, 1);
    series_free(s, n);
}

static void tvis_chart(FILE *f, json_t *runs, const char *title)
{
    size_t n = json_array_size(runs);
    series_t *s = ekv_calloc(n ? n : 1, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(runs, i), *tv = json_object_get(run, "t_visibility");
        s[i].name = json_string_value(json_object_get(run, "policy"));
        s[i].n = json_array_size(tv);
        s[i].x = ekv_calloc(s[i].n + 1, sizeof(double));
        s[i].y = ekv_calloc(s[i].n + 1, sizeof(double));
        for (size_t k = 0; k < s[i].n; k++) {
            s[i].x[k] = num(json_array_get(tv, k), "t_ms");
            s[i].y[k] = num(json_array_get(tv, k), "p");
        }
    }
    line_chart(f, title, "t since the newest commit of the key (ms)", "probability fresh", s, n, 1);
    series_free(s, n);
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
        s[i] = (series_t){names[i], NULL, NULL, json_array_size(lag), (int)(i % 2)};
        s[i].x = ekv_calloc(s[i].n + 1, sizeof(double));
        s[i].y = ekv_calloc(s[i].n + 1, sizeof(double));
        for (size_t k = 0; k < s[i].n; k++) {
            s[i].x[k] = num(json_array_get(lag, k), "t_s");
            s[i].y[k] = num(json_array_get(lag, k), which);
            ymax = s[i].y[k] > ymax ? s[i].y[k] : ymax;
        }
    }
    line_chart(f, "Version lag: committed changes a PoP has not seen yet", "time (s)",
               "changes behind", s, 2 * n, nice_max(ymax));
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
        s[i].n = json_array_size(lag);
        s[i].x = ekv_calloc(s[i].n + 1, sizeof(double));
        s[i].y = ekv_calloc(s[i].n + 1, sizeof(double));
        for (size_t k = 0; k < s[i].n; k++) {
            s[i].x[k] = num(json_array_get(times, k), "t_s");
            s[i].y[k] = json_number_value(json_array_get(lag, k));
            ymax = s[i].y[k] > ymax ? s[i].y[k] : ymax;
        }
    }
    line_chart(f, "Version lag per PoP", "time (s)", "changes behind", s, n, nice_max(ymax));
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
            double v = num(json_array_get(json_object_get(json_array_get(runs, r), "pops"), p),
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
            double v = 100 * num(o, "stale_ratio"), bh = (H - MT - MB) * v / ymax;
            char c[32];
            color(c, sizeof c, r, nr);
            fprintf(f,
                    "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'><title>%s %s: "
                    "%.2f%%</title></rect>",
                    ML + slot * (double)p + slot * 0.1 + slot * 0.8 * (double)r / (double)nr,
                    H - MB - bh, slot * 0.8 / (double)nr, bh, c, text(o, "name", name),
                    text(json_array_get(runs, r), "policy", policy), v);
        }
        fprintf(f, "<text x='%.1f' y='%d' class='xt' transform='rotate(-60 %.1f %d)'>%s</text>",
                ML + slot * ((double)p + 0.5), H - MB + 14, ML + slot * ((double)p + 0.5),
                H - MB + 14, text(json_array_get(pops0, p), "name", name));
    }
    fprintf(f, "</svg><div class='legend'>");
    for (size_t r = 0; r < nr; r++) {
        char c[32];
        color(c, sizeof c, r, nr);
        fprintf(f, "<span><i style='background:%s'></i>%s</span>", c,
                text(json_array_get(runs, r), "policy", policy));
    }
    fprintf(f, "</div>");
}

/* A PoP's served delays (what readers got), or its arrival ones in results without them. */
static json_t *served(json_t *pop)
{
    json_t *s = json_object_get(pop, "served_ms");
    return s ? s : json_object_get(pop, "visibility_ms");
}

/* Equirectangular: 2 px per degree. */
static void world_map(FILE *f, json_t *results, json_t *run)
{
    json_t *pops = json_object_get(run, "pops"), *co = json_object_get(results, "coordinator");
    double worst = 0;
    char name[EKV_HTML_MAX], city[EKV_HTML_MAX];
    for (size_t i = 0; i < json_array_size(pops); i++)
        worst = fmax(worst, num(served(json_array_get(pops, i)), "p99"));
    fprintf(f,
            "<svg viewBox='0 0 720 380' class='chart map'><text x='6' y='16' class='t'>PoPs by "
            "p99 served visibility (%s): green %.0f ms, red %.0f ms</text><rect x='0' y='20' "
            "width='720' height='360' class='sea'/>",
            text(run, "policy", name), 0.0, worst);
    for (int lon = -180; lon <= 180; lon += 30)
        fprintf(f, "<line x1='%d' y1='20' x2='%d' y2='380' class='g'/>", (lon + 180) * 2,
                (lon + 180) * 2);
    for (int lat = -90; lat <= 90; lat += 30)
        fprintf(f, "<line x1='0' y1='%d' x2='720' y2='%d' class='g'/>", 20 + (90 - lat) * 2,
                20 + (90 - lat) * 2);
    fprintf(f,
            "<rect x='%.1f' y='%.1f' width='10' height='10' fill='#222'><title>coordinator "
            "(%s)</title></rect>",
            (num(co, "lon") + 180) * 2 - 5, 20 + (90 - num(co, "lat")) * 2 - 5,
            text(co, "city", city));
    for (size_t i = 0; i < json_array_size(pops); i++) {
        json_t *p = json_array_get(pops, i);
        double p99 = num(served(p), "p99"),
               arrived = num(json_object_get(p, "visibility_ms"), "p99");
        int hue = (int)(120 * (1 - (worst > 0 ? p99 / worst : 0)));
        double x = (num(p, "lon") + 180) * 2, y = 20 + (90 - num(p, "lat")) * 2;
        fprintf(f,
                "<circle cx='%.1f' cy='%.1f' r='6' fill='hsl(%d,75%%,45%%)'><title>%s (%s): p99 "
                "served %.1f ms, arrived %.1f ms</title></circle><text x='%.1f' y='%.1f' "
                "class='lbl'>%s</text>",
                x, y, hue, text(p, "name", name), text(p, "city", city), p99, arrived, x + 7, y - 5,
                name);
    }
    fprintf(f, "</svg>");
}

static const char *css =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px}.chart{width:100%;max-width:760px;"
    "display:block;background:#fff}.t{font-weight:600;font-size:13px}.g{stroke:#e4e4e4}"
    ".xt{font-size:10px;text-anchor:middle}.yt{font-size:10px;text-anchor:end}"
    ".xl,.yl{font-size:11px;text-anchor:middle}.legend span{display:inline-block;margin:2px 10px "
    "2px 0;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}"
    ".sea{fill:#eef4fa}.lbl{font-size:9px}table{border-collapse:collapse;font-size:12px}"
    "td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:right}"
    "td:first-child,th:first-child{text-align:left}";

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
                text(p, "name", a), text(p, "city", b), num(p, "configured_ms"), num(sv, "p50"),
                num(sv, "p99"), num(sv, "max"), num(v, "p50"), num(v, "p99"),
                (long long)json_integer_value(json_object_get(p, "reads")),
                (long long)json_integer_value(json_object_get(p, "stale_reads")),
                100 * num(p, "stale_ratio"), num(p, "hit_ratio"),
                (long long)json_integer_value(json_object_get(p, "origin_reads")));
    }
    fprintf(f, "</table><p>Fan-out per write: %.1f messages, %.0f bytes.</p>",
            num(run, "fanout_messages_per_write"), num(run, "fanout_bytes_per_write"));
    json_t *faults = json_object_get(run, "faults");
    if (json_array_size(faults) == 0)
        return;
    fprintf(f, "<table><tr><th>fault</th><th>PoP</th><th>at s</th><th>converged after ms</th>"
               "</tr>");
    for (size_t i = 0; i < json_array_size(faults); i++) {
        json_t *x = json_array_get(faults, i), *c = json_object_get(x, "convergence_ms");
        char conv[32];
        snprintf(conv, sizeof conv, json_is_number(c) ? "%.1f" : "-", json_number_value(c));
        fprintf(f, "<tr><td>%s</td><td>%s</td><td>%.1f</td><td>%s</td></tr>", text(x, "action", a),
                text(x, "pop", b), num(x, "at_s"), conv);
    }
    fprintf(f, "</table>");
}

int ekv_report_html(const char *dir, json_t *results)
{
    char path[4096], tmp[EKV_FILE_TMP_MAX], name[EKV_HTML_MAX], dist[EKV_HTML_MAX];
    snprintf(path, sizeof path, "%s/report.html", dir);
    FILE *f = ekv_file_out_open(path, tmp); /* renamed onto report.html: never through a link */
    if (!f)
        return EKV_EIO;
    json_t *runs = json_object_get(results, "runs"), *w = json_object_get(results, "workload");
    text(results, "experiment", name);
    fprintf(f,
            "<!doctype html><html><head><meta charset='utf-8'><title>edgekv: %s</title>"
            "<style>%s</style></head><body><h1>edgekv experiment: %s</h1><p>%g s simulated "
            "(time scale %g), %lld keys (%s), %g writes/s, %g reads/s per PoP, cacheTtl %g s, "
            "policies:",
            name, css, name, num(results, "duration_s"), num(results, "time_scale"),
            (long long)json_integer_value(json_object_get(w, "keys")),
            text(w, "distribution", dist), num(w, "write_rate"), num(w, "read_rate"),
            num(w, "cache_ttl"));
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i);
        fprintf(f, " <b>%s</b> (%.2f%% stale)", text(r, "policy", name),
                100 * num(r, "stale_ratio"));
    }
    fprintf(f, ".</p><h2>Staleness as seen by reads</h2>");
    tvis_chart(f, runs, "t-visibility: P(a read t ms after a commit returns it), every policy");
    stale_bars(f, runs);
    lag_chart(f, runs);
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i);
        fprintf(f, "<h2>Policy %s</h2>", text(r, "policy", name));
        json_t *one = json_array();
        json_array_append(one, r);
        tvis_chart(f, one, "t-visibility of this policy alone");
        json_decref(one);
        cdf_chart(f, r);
        pop_lag_chart(f, r);
        world_map(f, results, r);
        table(f, r);
    }
    fprintf(f, "</body></html>\n");
    return ekv_file_out_close(f, tmp, path);
}
