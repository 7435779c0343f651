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
    "               \"visibility_cdf_ms\": [0, 1], \"version_lag\": [0, 1]},"
    "              {\"lat\": 3, \"lon\": 4}],"
    "   \"t_visibility\": [{\"t_ms\": 1, \"p\": 0.5, \"n\": 2}],"
    "   \"version_lag\": [{\"t_s\": 0, \"mean\": 0, \"max\": 1}],"
    "   \"faults\": [{\"action\": \"<i>kill</i>\", \"pop\": \"</td><script>\", \"at_s\": 1}]},"
    "  {\"pops\": []}]}";

/* Every name of a hostile results document is on the page as text; no tag it carries is. */
static void test_report_shows_markup_as_text(void)
{
    char dir[] = "/tmp/ekv-report-test.XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    json_error_t jerr;
    json_t *results = json_loads(hostile, 0, &jerr);
    if (!results)
        EKV_FAIL_("test document: %s", jerr.text);
    CHECK_EQ(ekv_report_html(dir, results), EKV_OK);
    json_decref(results);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *page;
    size_t len;
    CHECK_EQ(ekv_file_read(path, 1 << 24, &page, &len), EKV_OK);
    const char *banned[] = {"<script", "<img", "<svg onload", "<b>zipf", "<i>kill", "(null)"};
    for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
        if (strstr(page, banned[i]))
            EKV_FAIL_("the page holds \"%s\"", banned[i]);
    const char *shown[] = {"x&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
                           "&lt;/script&gt;&lt;svg onload=alert(3)&gt;",
                           "&lt;img src=x onerror=alert(4)&gt;",
                           "a&amp;b&quot;c",
                           "&#39;&gt;&lt;script&gt;alert(2)",
                           "&lt;i&gt;kill&lt;/i&gt;"};
    for (size_t i = 0; i < sizeof shown / sizeof *shown; i++)
        if (!strstr(page, shown[i]))
            EKV_FAIL_("the page lacks \"%s\"", shown[i]);
    free(page);
    CHECK_EQ(unlink(path), 0);
    CHECK_EQ(rmdir(dir), 0);
}

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
                           "p99 served 59000.0 ms, arrived 21.0 ms",
                           "p99 served visibility (kv): green 0 ms, red 59000 ms"};
    for (size_t i = 0; i < sizeof shown / sizeof *shown; i++)
        if (!strstr(page, shown[i]))
            EKV_FAIL_("the page lacks \"%s\"", shown[i]);
    free(page);
    page = draw("{\"runs\": [{\"policy\": \"push\", \"pops\": [{\"name\": \"lhr\","
                " \"visibility_ms\": {\"p50\": 20, \"p99\": 21, \"max\": 22}}]}]}");
    if (!strstr(page, "<td>20.0</td><td>21.0</td><td>22.0</td><td>20.0</td><td>21.0</td>"))
        EKV_FAIL_("%s", "older results: the served columns are not the arrival");
    free(page);
}

int main(void)
{
    EKV_TEST_RUN(test_escape_specials);
    EKV_TEST_RUN(test_escape_cuts);
    EKV_TEST_RUN(test_escape_malformed_utf8);
    EKV_TEST_RUN(test_report_shows_markup_as_text);
    EKV_TEST_RUN(test_report_served_beside_arrival);
    EKV_TEST_DONE();
}
