/* html: escaping text for report.html (see html.h). */
#include "html.h"

#include <string.h>

/* Bytes of the UTF-8 character at s: its lead byte and the continuation bytes that follow
 * (at most 3), so a cut never splits a character and a malformed one never swallows a '<'. */
static size_t char_len(const char *s)
{
    size_t n = 1;
    if ((unsigned char)s[0] < 0xc0)
        return 1;
    while (n < 4 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n++;
    return n;
}

static const char special[] = "&<>\"'";
static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};

const char *ekv_html_escape(char *buf, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s && *s;) {
        const char *hit = strchr(special, *s);
        const char *rep = hit ? refs[hit - special] : NULL;
        size_t len = rep ? strlen(rep) : char_len(s);
        if (n + len >= cap)
            break;
        memcpy(buf + n, rep ? rep : s, len);
        n += len;
        s += rep ? 1 : len;
    }
    buf[n] = '\0';
    return buf;
}
