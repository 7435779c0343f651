/* html: escaping text for report.html.
 *
 * Every string the report prints comes from files (experiment and PoP names, cities, policy
 * labels of results.json files given to `edgekv compare`), so each one goes through
 * ekv_html_escape before it reaches the page, as element text or inside a quoted attribute.
 * The page has no <script>: a name such as "</script>" or "<img onerror=...>" is shown as the
 * text it is. */
#ifndef EKV_HTML_H
#define EKV_HTML_H

#include <stddef.h>

/* Room for one escaped name on the page (longer ones are cut short). */
#define EKV_HTML_MAX 1024

/* Writes s into buf (cap bytes, cap > 0) with & < > " ' as character references, so it is
 * inert as element text and as a single- or double-quoted attribute value. NULL is "". Text
 * that does not fit is cut before the reference or UTF-8 character that would not fit.
 * Returns buf. */
const char *ekv_html_escape(char *buf, size_t cap, const char *s);

#endif
