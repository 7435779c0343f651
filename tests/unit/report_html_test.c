/* report_html_test: report.html shows what files say as text, never as markup (sim/html,
 * sim/report_html).
 *
 * Names, cities and policy labels reach the page from topology and experiment files and from
 * any results.json given to `edgekv compare`. The escaper is checked character by character
 * (the five that matter in element text and quoted attributes, NULL, cuts that never split a
 * reference or a UTF-8 character, malformed UTF-8 that must not hide a '<'); then a whole
 * report is drawn from a hostile results document and searched for tags it must not hold.
 * The page is written into a private mkdtemp folder, removed at the end; nothing leaks. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_test.h"
#include "html.h"
#include "report.h"

static void test_escape_specials(void)
{
    char buf[EKV_HTML_MAX];
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "Frankfurt"), "Frankfurt");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "</script><script>alert(1)</script>"),
              "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "a&b \"c\" 'd'"),
              "a&amp;b &quot;c&quot; &#39;d&#39;");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "&amp;"), "&amp;amp;");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "São Paulo, 東京"), "São Paulo, 東京");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, NULL), "");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, ""), "");
}

/* A cut keeps whole references and whole characters; the result always fits. */
static void test_escape_cuts(void)
{
    char buf[8];
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "abcdefghij"), "abcdefg");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "ab<cd"), "ab&lt;c");
    CHECK_STR(ekv_html_escape(buf, 7, "ab<cd"), "ab&lt;");
    CHECK_STR(ekv_html_escape(buf, 6, "ab<cd"), "ab");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "abcdef\xc3\xa3"), "abcdef"); /* "ã" needs 2 */
    CHECK_STR(ekv_html_escape(buf, 1, "<"), "");
}

/* A lead byte without its continuation bytes is one byte: the '<' after it is still escaped. */
static void test_escape_malformed_utf8(void)
{
    char buf[64];
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "\xe0<b>"), "\xe0&lt;b&gt;");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "\xf0\x9f<"), "\xf0\x9f&lt;");
    CHECK_STR(ekv_html_escape(buf, sizeof buf, "\x80\xbf'"), "\x80\xbf&#39;");
}

static const char *hostile =
    "{\"experiment\": \"x</title><script>alert(1)</script>\", \"duration_s\": 1,"
    " \"time_scale\": 1, \"workload\": {\"keys\": 1, \"distribution\": \"<b>zipf</b>\"},"
    " \"coordinator\": {\"city\": \"'><script>alert(2)</script>\", \"lat\": 0, \"lon\": 0},"
    " \"runs\": [{\"policy\": \"</script><svg onload=alert(3)>\","
    "   \"pops\": [{\"name\": \"<img src=x onerror=alert(4)>\", \"city\": \"a&b\\\"c\","
    "               \"lat\": 1, \"lon\": 2, \"visibility_ms\": {\"p99\": 1},"
    "               \"visibility_cdf_ms\": [0, 1], \"version_lag\": [0, 1],"
    "               \"stale_series\": [1, 2]},"
    "              {\"lat\": 3, \"lon\": 4}],"
    "   \"t_visibility\": [{\"t_ms\": 1, \"p\": 0.5, \"n\": 2}],"
    "   \"version_lag\": [{\"t_s\": 0, \"mean\": 0, \"max\": 1}],"
    "   \"faults\": [{\"action\": \"<i>kill</i>\", \"pop\": \"</td><script>\", \"at_s\": 1}],"
    "   \"consistency\": {\"checkers\": {\"read_your_writes\": {\"count\": 1, \"examples\": [{"
    "     \"span_us\": 1, \"ops\": [{\"op\": \"<script>x\", \"pop_name\": \"<img src=y>\","
    "     \"key_name\": \"</tspan><script>\", \"start_us\": 0, \"end_us\": 5},"
    "     {\"op\": \"get\", \"pop\": 0, \"start_us\": 2, \"end_us\": 6}]}]}}}},"
    "  {\"pops\": []}]}";

/* Draws the report of doc into a private folder and returns the page (caller frees). */
static char *draw(const char *doc)
{
    char dir[] = "/tmp/ekv-report-test.XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    json_error_t jerr;
    json_t *results = json_loads(doc, 0, &jerr);
    if (!results)
        EKV_FAIL_("test document: %s", jerr.text);
    CHECK_EQ(ekv_report_html(dir, results), EKV_OK);
    json_decref(results);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *page;
    size_t len;
    CHECK_EQ(ekv_file_read(path, 1 << 24, &page, &len), EKV_OK);
    CHECK_EQ(unlink(path), 0);
    CHECK_EQ(rmdir(dir), 0);
    return page;
}

/* Counts the occurrences of needle in page. */
static size_t count(const char *page, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(page, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Fails the test unless page holds each of the n texts of shown. */
static void expect(const char *page, const char *const *shown, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strstr(page, shown[i]))
            EKV_FAIL_("the page lacks \"%s\"", shown[i]);
}

/* Fails the test if page holds any of the n texts of absent. */
static void refuse(const char *page, const char *const *absent, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(page, absent[i]))
            EKV_FAIL_("the page holds \"%s\"", absent[i]);
}

/* Every name of a hostile results document is on the page as text; no tag it carries is. */
static void test_report_shows_markup_as_text(void)
{
    char *page = draw(hostile);
    const char *banned[] = {"<script", "<img", "<svg onload", "<b>zipf", "<i>kill", "(null)"};
    refuse(page, banned, sizeof banned / sizeof *banned);
    const char *shown[] = {"x&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
                           "&lt;/script&gt;&lt;svg onload=alert(3)&gt;",
                           "&lt;img src=x onerror=alert(4)&gt;",
                           "a&amp;b&quot;c",
                           "&#39;&gt;&lt;script&gt;alert(2)",
                           "&lt;i&gt;kill&lt;/i&gt;",
                           "&lt;img src=x onerror=alert(4)&gt;, bin 1: 2 stale",
                           "client 0 at &lt;img src=y&gt;</tspan><tspan x='6' dy='12'>&lt;"
                           "script&gt;x &lt;/tspan&gt;&lt;script&gt;",
                           "client 0 at &lt;img src=x onerror=alert(4)&gt;</tspan>"};
    expect(page, shown, sizeof shown / sizeof *shown);
    free(page);
}

/* The map and the per-PoP table show what readers got (served), the arrival beside it: a kv
 * PoP whose changes arrived in 20 ms and were served after 41 s is a 41 s PoP. Results from
 * before served times existed still draw, from the arrival. */
static void test_report_served_beside_arrival(void)
{
    char *page = draw(
        "{\"experiment\": \"kv\", \"runs\": [{\"policy\": \"kv\", \"pops\": [{\"name\": \"lhr\","
        " \"city\": \"London\", \"lat\": 51, \"lon\": 0, \"configured_ms\": 5,"
        " \"visibility_ms\": {\"p50\": 20, \"p99\": 21, \"max\": 22},"
        " \"served_ms\": {\"p50\": 41000, \"p99\": 59000, \"max\": 60000}}]}]}");
    const char *shown[] = {"<th>served p99 ms</th>", "<th>arrived p99 ms</th>",
                           "<td>41000.0</td><td>59000.0</td><td>60000.0</td><td>20.0</td>"
                           "<td>21.0</td>",
                           "p99 served 59000.0 ms, arrived 21.0 ms"};
    expect(page, shown, sizeof shown / sizeof *shown);
    free(page);
    page = draw("{\"runs\": [{\"policy\": \"push\", \"pops\": [{\"name\": \"lhr\","
                " \"visibility_ms\": {\"p50\": 20, \"p99\": 21, \"max\": 22}}]}]}");
    if (!strstr(page, "<td>20.0</td><td>21.0</td><td>22.0</td><td>20.0</td><td>21.0</td>"))
        EKV_FAIL_("%s", "older results: the served columns are not the arrival");
    free(page);
}

/* Every section opens with a text saying what it shows and how to read it: the page's, the
 * claims', the three overview charts', and per policy its arrival, lag, map, heatmap,
 * checkers and table. */
static void test_report_sections_explained(void)
{
    char *page = draw("{\"runs\": [{\"policy\": \"push\", \"pops\": [{\"name\": \"lhr\"}]},"
                      " {\"policy\": \"kv\", \"pops\": [{\"name\": \"lhr\"}]}]}");
    CHECK_EQ(count(page, "<p class='how'>"), 5 + 2 * 7);
    const char *shown[] = {
        "<h2 id='claims'>The documentation against this run</h2><p class='how'>",
        "<h2 id='staleness'>Staleness as seen by reads</h2><p class='how'><b>t-visibility</b>",
        "<h3 id='p1-arrival'>When changes arrived</h3><p class='how'>",
        "<h3 id='p1-map'>Where reads were stale</h3><p class='how'>",
        "<h3 id='p1-heat'>When reads were stale</h3><p class='how'>",
        "<h3 id='p1-checkers'>What the consistency checkers found</h3><p class='how'>",
        "<h3 id='p1-pops'>Per PoP</h3><p class='how'>"};
    expect(page, shown, sizeof shown / sizeof *shown);
    free(page);
}

/* The documented claim beside the measured curve, with the experiment's cacheTtl: 99% of kv
 * reads fresh from the bin ending at 58 s on (the dip to 0.9 at 40 s keeps t99 from 30 s, not
 * t50), the reads beyond cacheTtl counted; push within seconds; a kv curve that never reaches 99%
 * says so with its tail's share; a label of `edgekv compare` ("exp/kv") is still kv. A ttl
 * curve whose 99% rests on 49 reads proves nothing, and the checkers' p_fresh (bins by their
 * start, 1 s wide) reaches further: 99% from the bin ending at 46 s. */
static void test_report_claims(void)
{
    char *page = draw(
        "{\"workload\": {\"cache_ttl\": 60}, \"runs\": ["
        " {\"policy\": \"kv\", \"stale_ratio\": 0.25, \"t_visibility\": ["
        "  {\"t_ms\": 2000, \"p\": 0.1, \"n\": 100}, {\"t_ms\": 30000, \"p\": 0.995, \"n\": 100},"
        "  {\"t_ms\": 40000, \"p\": 0.9, \"n\": 100}, {\"t_ms\": 58000, \"p\": 0.995, \"n\": 200},"
        "  {\"t_ms\": 64000, \"p\": 1, \"n\": 40}]},"
        " {\"policy\": \"push\", \"t_visibility\": [{\"t_ms\": 10, \"p\": 0.4, \"n\": 60},"
        "  {\"t_ms\": 20, \"p\": 0.8, \"n\": 60}, {\"t_ms\": 140, \"p\": 1, \"n\": 60}]},"
        " {\"policy\": \"ttl\", \"t_visibility\": [{\"t_ms\": 29000, \"p\": 0.2, \"n\": 30},"
        "  {\"t_ms\": 61000, \"p\": 1, \"n\": 49}], \"consistency\": {\"p_fresh_bin_ms\": 1000,"
        "  \"p_fresh\": [{\"t_ms\": 28000, \"p\": 0.3, \"n\": 100},"
        "  {\"t_ms\": 45000, \"p\": 0.995, \"n\": 100}, {\"t_ms\": 70000, \"p\": 1, \"n\": 40}]}},"
        " {\"policy\": \"exp/kv\", \"t_visibility\": [{\"t_ms\": 1000, \"p\": 0.2, \"n\": 30},"
        "  {\"t_ms\": 60000, \"p\": 0.5, \"n\": 30}, {\"t_ms\": 61000, \"p\": 0.75, \"n\": 40}]},"
        " {\"policy\": \"home-made\"}]}");
    const char *shown[] = {
        "<b>kv</b>: Cloudflare: a change can take up to cacheTtl (60 s by default) to be seen "
        "in locations that read the key before; this experiment's cacheTtl is 60.0 s. Here half "
        "of the reads were fresh 30.0 s after the write and 99% of reads were fresh 58.0 s "
        "after the write; of the 40 reads made more than cacheTtl "
        "after the write, 100.0% were fresh (within the documented bound). 25.00% of all its "
        "reads were stale.",
        "<b>push</b>: Quicksilver, Cloudflare's configuration store, pushes every change to "
        "every location within seconds. Here half of the reads were fresh 20 ms after the "
        "write and 99% of reads were fresh 140 ms after the write (within seconds, as "
        "documented).",
        "<b>exp/kv</b>: Cloudflare: a change can take up to cacheTtl",
        "Here reads had not reached 99% fresh by the end of the curve, 61.0 s after the write: "
        "of the 70 reads made 59.0 s to 61.0 s after it, 64.3% were fresh; of the 40 reads made "
        "more than cacheTtl after the write, 75.0% were fresh (not within cacheTtl).",
        "<b>ttl</b>: Cloudflare: a change can take up to cacheTtl (60 s by default) to be seen "
        "in locations that read the key before; this experiment's cacheTtl is 60.0 s. Here reads "
        "had not reached 99% fresh by the end of the curve, 61.0 s after the write: of the 79 "
        "reads made 0.0 ms to 61.0 s after it, 69.6% were fresh; the checkers' p_fresh, which "
        "reaches further (to 71.0 s), finds that 99% of reads were fresh 46.0 s after the write;"
        " of the 40 reads made more than cacheTtl after the write, 100.0% were fresh (within the "
        "documented bound).",
        "<b>home-made</b>: No read followed a write of its key: there is nothing to compare."};
    expect(page, shown, sizeof shown / sizeof *shown);
    free(page);
}

/* The map is coloured by the share of stale reads, on one scale for every policy: the worst
 * PoP of the page (50%, under ttl) is red on its map, a push PoP with none green, one with
 * 25% half way (yellow). A name near the right edge (Auckland) is put left of its dot. */
static void test_report_map_by_staleness(void)
{
    char *page =
        draw("{\"runs\": [{\"policy\": \"push\", \"pops\": [{\"name\": \"lhr\", \"stale_ratio\": 0,"
             " \"reads\": 10}, {\"name\": \"syd\", \"stale_ratio\": 0.25, \"reads\": 8,"
             " \"stale_age_ms\": {\"p50\": 120, \"max\": 4500}},"
             " {\"name\": \"akl\", \"lat\": -36.8, \"lon\": 174.8}]},"
             " {\"policy\": \"ttl\", \"pops\": [{\"name\": \"lhr\", \"stale_ratio\": 0.5},"
             " {\"name\": \"syd\", \"stale_ratio\": 0.4}]}]}");
    const char *shown[] = {
        "PoPs by share of stale reads (push): green 0%, red 50.0%",
        "PoPs by share of stale reads (ttl): green 0%, red 50.0%",
        "fill='hsl(120,75%,45%)'><title>lhr (): 0.0% of 10 reads stale",
        "fill='hsl(60,75%,45%)'><title>syd (): 25.0% of 8 reads stale, stale age p50 120 ms, "
        "max 4.5 s",
        "fill='hsl(0,75%,45%)'><title>lhr (): 50.0% of 0 reads stale",
        "<text x='702.6' y='268.6' class='lbl end'>akl</text>"};
    expect(page, shown, sizeof shown / sizeof *shown);
    free(page);
}

/* The prediction is drawn dashed, in its run's colour, when the results carry one (x: 50 of
 * 300 ms is 153.3 px; y: 0.2 is 226.0 px). */
static void test_report_predicted(void)
{
    const char *obs = "\"t_visibility\": [{\"t_ms\": 100, \"p\": 0.5}, {\"t_ms\": 200, \"p\": 1}]";
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"runs\": [{\"policy\": \"kv\", %s, \"tvis_predicted\": [{\"t_ms\": 50, \"p\": "
             "0.2}, {\"t_ms\": 300, \"p\": 0.9}]}]}",
             obs);
    char *page = draw(doc);
    const char *shown[] = {"<polyline fill='none' stroke='hsl(0,65%,42%)' stroke-width='1.6' "
                           "stroke-dasharray='5,3' points='153.3,226.0 620.0,54.5 '>"
                           "<title>kv predicted</title>",
                           "<i class='d' style='background:none;border-color:hsl(0,65%,42%)'>"
                           "</i>kv predicted"};
    expect(page, shown, sizeof shown / sizeof *shown);
    CHECK_EQ(count(page, "<title>kv predicted</title>"), 2); /* every-policy chart and its own */
    free(page);
    snprintf(doc, sizeof doc, "{\"runs\": [{\"policy\": \"kv\", %s}]}", obs);
    page = draw(doc);
    const char *absent[] = {"predicted", "153.3,226.0"};
    refuse(page, absent, sizeof absent / sizeof *absent);
    free(page);
}

/* Under each t-visibility chart, a run's note on its prediction, escaped: why it has none
 * (faults, key groups, a write limit), or a caveat beside the dashed curve it has. A run
 * without a note gets no line. Each line is under both charts: every policy's and its own. */
static void test_report_predicted_note(void)
{
    char *page =
        draw("{\"runs\": [{\"policy\": \"kv\", \"t_visibility\": [{\"t_ms\": 100, \"p\": 0.5}],"
             " \"tvis_predicted\": [{\"t_ms\": 100, \"p\": 0.4}],"
             " \"tvis_predicted_note\": \"a caveat: runs < 4 lives & <b>cold</b> caches\"},"
             " {\"policy\": \"p<u>sh\", \"t_visibility\": [{\"t_ms\": 100, \"p\": 1}],"
             " \"tvis_predicted_note\": \"faults & <i>groups</i> are not modelled\"},"
             " {\"policy\": \"ttl\", \"t_visibility\": [{\"t_ms\": 100, \"p\": 1}],"
             " \"tvis_predicted\": [{\"t_ms\": 100, \"p\": 1}]}]}");
    const char *with = "<p class='pnote'>kv, predicted: a caveat: runs &lt; 4 lives &amp; "
                       "&lt;b&gt;cold&lt;/b&gt; caches</p>";
    const char *without = "<p class='pnote'>p&lt;u&gt;sh: no prediction: faults &amp; "
                          "&lt;i&gt;groups&lt;/i&gt; are not modelled</p>";
    CHECK_EQ(count(page, with), 2);
    CHECK_EQ(count(page, without), 2);
    CHECK_EQ(count(page, "<p class='pnote'>"), 4); /* none for ttl */
    const char *absent[] = {"<b>cold", "<i>groups", "<u>sh"};
    refuse(page, absent, sizeof absent / sizeof *absent);
    free(page);
}

/* Stale reads per PoP over time: cells shaded by the share of the bin's reads that were
 * stale (by count without read_series), the time axis from series_bin_s; without the series
 * the page names the field it lacks. */
static void test_report_heatmap(void)
{
    char *page = draw(
        "{\"duration_s\": 30, \"runs\": [{\"policy\": \"kv\", \"series_bin_s\": 10, \"pops\": ["
        " {\"name\": \"lhr\", \"stale_series\": [0, 3, 10], \"read_series\": [5, 10, 10]},"
        " {\"name\": \"syd\", \"stale_series\": [1, 0, 0], \"read_series\": [4, 0, 2]}]}]}");
    const char *shown[] = {"Stale reads per PoP over time (kv)",
                           "fill='hsl(0,75%,77%)'><title>lhr, bin 1: 3 stale of 10 reads",
                           "fill='hsl(0,75%,35%)'><title>lhr, bin 2: 10 stale of 10 reads",
                           "fill='hsl(0,75%,80%)'><title>syd, bin 0: 1 stale of 4 reads",
                           "class='xt'>30</text>",
                           "all reads stale"};
    expect(page, shown, sizeof shown / sizeof *shown);
    CHECK_EQ(count(page, "stale of"), 3); /* cells without stale reads are the background */
    free(page);
    page = draw("{\"duration_s\": 20, \"runs\": [{\"policy\": \"kv\", \"pops\": ["
                " {\"name\": \"lhr\", \"stale_series\": [2, 4]}]}]}");
    const char *by_count[] = {"fill='hsl(0,75%,65%)'><title>lhr, bin 0: 2 stale</title>",
                              "class='xt'>20</text>", "4 stale reads"};
    expect(page, by_count, sizeof by_count / sizeof *by_count);
    free(page);
    page = draw("{\"runs\": [{\"policy\": \"kv\", \"pops\": [{\"name\": \"lhr\"}]}]}");
    const char *missing[] = {"Not drawn: these results have no stale reads per PoP over time "
                             "(<code>runs[].pops[].stale_series</code>"};
    expect(page, missing, 1);
    free(page);
}

/* The checkers' counterexamples as timelines: one lane per operation with its words, the
 * judged read in red, the write's commit ticked, the gap shaded; spans in simulated ms (time
 * scale 2: 750 us real is 1.5 ms). The PoP is named from the run's pops when the op has no
 * pop_name. At most 3 examples per checker. */
static void test_report_checkers(void)
{
    const char *op_w = "{\"op\": \"put\", \"client\": 3, \"pop\": 0, \"key\": 1, \"status\": 200,"
                       " \"start_us\": 1000, \"end_us\": 3000, \"seq\": 9, \"commit_us\": 2000,"
                       " \"pop_name\": \"lhr\", \"key_name\": \"k1\"}";
    const char *op_r = "{\"op\": \"get\", \"client\": 4, \"pop\": 1, \"key\": 1, \"status\": 200,"
                       " \"start_us\": 2750, \"end_us\": 3500, \"seq\": 4}";
    char doc[8192], ex[1024];
    snprintf(ex, sizeof ex, "{\"span_us\": 750, \"ops\": [%s, %s]}", op_w, op_r);
    snprintf(doc, sizeof doc,
             "{\"time_scale\": 2, \"runs\": [{\"policy\": \"kv\", \"pops\": [{\"name\": \"lhr\"},"
             " {\"name\": \"syd\"}], \"consistency\": {\"gets_judged\": 40, \"stale_reads\": 7,"
             " \"stale_bound_ms\": 1, \"checkers\": {\"read_your_writes\": {\"count\": 0,"
             " \"examples\": []}, \"bounded_staleness\": {\"count\": 7, \"examples\": [%s, %s,"
             " %s, %s]}}}}]}",
             ex, ex, ex, ex);
    char *page = draw(doc);
    const char *shown[] = {
        "40 reads judged, 7 of them stale",
        "<tr><td>Read your writes</td><td>0</td></tr>",
        "<tr><td>Bounded staleness</td><td>7</td></tr>",
        "<h4>Bounded staleness: 7</h4><p class='how'>A violation: a read returned",
        "Bound here: 1.0 ms.",
        "The read began 1.5 ms after the newer write committed</text>",
        "<tspan class='who'>client 3 at lhr</tspan><tspan x='6' dy='12'>put k1 (v9)</tspan>",
        "<tspan class='who'>client 4 at syd</tspan><tspan x='6' dy='12'>get key 1 &#8594; v4"
        "</tspan>",
        "class='bad'/>",
        "class='wr'/>",
        "class='commit'><title>committed</title>",
        "class='gap'/>",
        "<text x='620.0' y='102' class='xt'>5</text>"};
    expect(page, shown, sizeof shown / sizeof *shown);
    CHECK_EQ(count(page, "The read began"), 3);
    const char *absent[] = {"<h4>Read your writes"};
    refuse(page, absent, 1);
    free(page);
    page = draw("{\"runs\": [{\"policy\": \"kv\", \"pops\": [{\"name\": \"lhr\"}]}]}");
    const char *missing[] = {"Not drawn: these results have no checkers' results"};
    expect(page, missing, 1);
    free(page);
}

int main(void)
{
    EKV_TEST_RUN(test_escape_specials);
    EKV_TEST_RUN(test_escape_cuts);
    EKV_TEST_RUN(test_escape_malformed_utf8);
    EKV_TEST_RUN(test_report_shows_markup_as_text);
    EKV_TEST_RUN(test_report_served_beside_arrival);
    EKV_TEST_RUN(test_report_sections_explained);
    EKV_TEST_RUN(test_report_claims);
    EKV_TEST_RUN(test_report_map_by_staleness);
    EKV_TEST_RUN(test_report_predicted);
    EKV_TEST_RUN(test_report_predicted_note);
    EKV_TEST_RUN(test_report_heatmap);
    EKV_TEST_RUN(test_report_checkers);
    EKV_TEST_DONE();
}
