/* report_checkers: the section of report.html on what the consistency checkers found (see
 * report_html_int.h): their totals, then each checker's smallest counterexamples as timelines.
 *
 * A timeline is one SVG: a lane per operation, its words on the left (client, PoP, operation,
 * key, what it got or wrote), its bar from sent to answered on a time axis shared by the
 * lanes, in simulated ms (the checkers record real microseconds; results' time_scale turns
 * them into simulated time). The operation that broke the guarantee is red, a write's commit a
 * black tick, and the gap between what set the expectation and the read that broke it yellow.
 * At most EX_SHOWN examples per checker are drawn: the checkers keep the smallest first.
 * Every string of the document (operation, key and PoP names) is printed through rh_text. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "report.h"
#include "report_html_int.h"

#define EX_SHOWN 3 /* counterexamples drawn per checker */

static const struct {
    const char *key, *title, *what;
} kinds[] = {
    {"read_your_writes", "Read your writes",
     "a client read a key after its own write of it was acknowledged, and got an older "
     "version (first lane: the write; second: the read)."},
    {"monotonic_reads_client", "Monotonic reads (per client)",
     "a client read a key twice and the later read returned an older version than the earlier "
     "one: time went backwards for it."},
    {"monotonic_reads_pop", "Monotonic reads (per PoP)",
     "two reads of a key at one PoP, by any clients: the later returned an older version."},
    {"bounded_staleness", "Bounded staleness",
     "a read returned a version older than one committed, more than the bound before it began "
     "(first lane: the first newer write, its tick the commit; second: the read)."},
    {"lost_update_pairs", "Lost updates",
     "two read-modify-writes of a counter read the same value and both wrote that value plus "
     "one: one increment overwrote the other."},
};

/* A lane's words: "get k12 -> v664", "put k12 = 7 (v670)", "get k12 -> not found". */
static void op_words(FILE *f, json_t *op, json_t *pops)
{
    char o[EKV_HTML_MAX], k[EKV_HTML_MAX], p[EKV_HTML_MAX];
    const char *pop = rh_text(op, "pop_name", p);
    if (!pop[0])
        pop = rh_text(json_array_get(pops, (size_t)rh_integer(op, "pop")), "name", p);
    rh_text(op, "key_name", k);
    fprintf(f, "<tspan class='who'>client %lld at %s</tspan><tspan x='6' dy='12'>%s ",
            rh_integer(op, "client"), pop, rh_text(op, "op", o));
    if (k[0])
        fprintf(f, "%s", k);
    else
        fprintf(f, "key %lld", rh_integer(op, "key"));
    long long seq = rh_integer(op, "seq"), status = rh_integer(op, "status");
    int got = !strcmp(ekv_report_str(op, "op"), "get");
    if (json_object_get(op, "value"))
        fprintf(f, " %s %lld", got ? "=" : ":=", rh_integer(op, "value"));
    if (status / 100 != 2 && status != 404)
        fprintf(f, " (status %lld)", status);
    else if (got)
        fprintf(f, seq ? " &#8594; v%lld" : " &#8594; not found", seq);
    else
        fprintf(f, " (v%lld)", seq);
    fprintf(f, "</tspan>");
}

/* The reference point an example's read broke: the write's commit (staleness) or the end of
 * the first operation; -1 for lost updates (no gap to shade). */
static double gap_from(json_t *ops, size_t kind)
{
    json_t *o = json_array_get(ops, 0);
    if (json_array_size(ops) != 2)
        return -1;
    if (kind == 3 && json_object_get(o, "commit_us"))
        return rh_num(o, "commit_us");
    return rh_num(o, "end_us");
}

/* One counterexample: one lane per operation on a shared time axis (simulated ms). */
static void example_svg(FILE *f, json_t *run, json_t *ex, size_t kind, double scale)
{
    json_t *ops = json_object_get(ex, "ops"), *pops = json_object_get(run, "pops");
    size_t n = json_array_size(ops);
    double t0 = INFINITY, t1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(ops, i);
        t0 = fmin(t0, rh_num(o, "start_us"));
        t1 = fmax(fmax(t1, rh_num(o, "end_us")), rh_num(o, "commit_us"));
    }
    if (n == 0 || !(t1 > t0))
        return;
    const double L = 200, span = W - L - MR;
    int lane = 30, h = 30 + lane * (int)n + 30;
    char a[32];
    fprintf(f, "<svg viewBox='0 0 %d %d' class='chart ex'><text x='6' y='16' class='t'>%s %s", W, h,
            kind == 4 ? "Both read-modify-writes within" : "The read began",
            rh_dur(a, sizeof a, rh_num(ex, "span_us") / 1000 * scale));
    fprintf(f, "%s",
            kind == 3   ? " after the newer write committed"
            : kind == 4 ? ""
                        : " after the first operation was answered");
    fprintf(f, "</text>");
    double g = gap_from(ops, kind), g1 = rh_num(json_array_get(ops, 1), "start_us");
    if (g >= t0 && g1 > g) /* at least 3 px: a gap of 0.1 ms in 100 is still seen */
        fprintf(f, "<rect x='%.1f' y='24' width='%.1f' height='%d' class='gap'/>",
                L + span * (g - t0) / (t1 - t0) - 1, fmax(span * (g1 - g) / (t1 - t0), 3),
                lane * (int)n + 4);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(ops, i);
        int write = strcmp(ekv_report_str(o, "op"), "get") != 0;
        int judged = n == 2 ? i == 1 : write;
        double y = 28 + lane * (double)i, x0 = L + span * (rh_num(o, "start_us") - t0) / (t1 - t0),
               x1 = L + span * (rh_num(o, "end_us") - t0) / (t1 - t0);
        fprintf(f, "<text x='6' y='%.1f' class='op'>", y + 10);
        op_words(f, o, pops);
        fprintf(f, "</text><rect x='%.1f' y='%.1f' width='%.1f' height='14' class='%s'/>", x0,
                y + 4, fmax(x1 - x0, 2),
                judged  ? "bad"
                : write ? "wr"
                        : "rd");
        if (write && json_object_get(o, "commit_us"))
            fprintf(f,
                    "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='commit'><title>"
                    "committed</title></line>",
                    L + span * (rh_num(o, "commit_us") - t0) / (t1 - t0), y,
                    L + span * (rh_num(o, "commit_us") - t0) / (t1 - t0), y + 22);
    }
    for (int i = 0; i <= 4; i++)
        fprintf(f, "<text x='%.1f' y='%d' class='xt'>%.3g</text>", L + span * i / 4.0, h - 18,
                (t1 - t0) / 1000 * scale * i / 4);
    fprintf(f,
            "<text x='%.1f' y='%d' class='xl'>simulated ms since the first operation began"
            "</text></svg>",
            L + span / 2, h - 4);
}

void rh_checkers(FILE *f, json_t *results, json_t *run)
{
    json_t *c = json_object_get(run, "consistency"), *k = json_object_get(c, "checkers");
    if (!json_is_object(k)) {
        fprintf(f, "<p class='miss'>Not drawn: these results have no checkers' results "
                   "(<code>runs[].consistency</code>).</p>");
        return;
    }
    double scale = rh_num(results, "time_scale") > 0 ? rh_num(results, "time_scale") : 1;
    char a[32], b[32];
    fprintf(f,
            "<p>%lld reads judged, %lld of them stale (the stalest %s old); no read returned "
            "a version older than a write later than %s after its commit (convergence). %lld "
            "lost updates; %lld writes answered 429, %lld failed "
            "otherwise.</p><table><tr><th>checker</th><th>violations</th></tr>",
            rh_integer(c, "gets_judged"), rh_integer(c, "stale_reads"),
            rh_dur(a, sizeof a, rh_num(c, "stale_age_max_ms")),
            rh_dur(b, sizeof b, rh_num(c, "convergence_ms")), rh_integer(c, "lost_updates"),
            rh_integer(c, "rate_limited_writes"), rh_integer(c, "writes_failed"));
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        fprintf(f, "<tr><td>%s</td><td>%lld</td></tr>", kinds[i].title,
                rh_integer(json_object_get(k, kinds[i].key), "count"));
    fprintf(f, "</table>");
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        json_t *ex = json_object_get(json_object_get(k, kinds[i].key), "examples");
        if (json_array_size(ex) == 0)
            continue;
        fprintf(f, "<h4>%s: %lld</h4><p class='how'>A violation: %s", kinds[i].title,
                rh_integer(json_object_get(k, kinds[i].key), "count"), kinds[i].what);
        if (i == 3)
            fprintf(f, " Bound here: %s.", rh_dur(a, sizeof a, rh_num(c, "stale_bound_ms")));
        fprintf(f, "</p>");
        for (size_t e = 0; e < json_array_size(ex) && e < EX_SHOWN; e++)
            example_svg(f, run, json_array_get(ex, e), i, scale);
    }
}
