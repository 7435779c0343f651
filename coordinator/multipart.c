/* multipart: RFC 7578 form-data parsing over a borrowed buffer (see multipart.h).
 *
 * Layout: [preamble] "--B" CRLF headers CRLF CRLF data CRLF "--B" ... "--B--". Each part's
 * headers are scanned for Content-Disposition's name parameter; other headers are ignored. */
#include "multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ekv_err.h"

static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    return nlen <= hlen ? memmem(hay, hlen, needle, nlen) : NULL;
}

int ekv_multipart_boundary(const char *ct, char *buf, size_t size)
{
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return EKV_EMALFORMED;
    const char *b = strcasestr(ct, "boundary=");
    if (!b)
        return EKV_EMALFORMED;
    b += 9;
    size_t n;
    if (*b == '"') {
        const char *end = strchr(++b, '"');
        if (!end)
            return EKV_EMALFORMED;
        n = (size_t)(end - b);
    } else {
        n = strcspn(b, "; \t");
    }
    if (n == 0 || n > 70 || n >= size)
        return EKV_EMALFORMED;
    memcpy(buf, b, n);
    buf[n] = '\0';
    return EKV_OK;
}

/* Finds name="..." in a part's headers. */
static int part_name(const char *h, size_t hlen, ekv_part_t *p)
{
    const char *cd = NULL;
    for (const char *line = h; line < h + hlen;) {
        const char *eol = find(line, (size_t)(h + hlen - line), "\r\n", 2);
        size_t llen = eol ? (size_t)(eol - line) : (size_t)(h + hlen - line);
        if (llen > 20 && strncasecmp(line, "content-disposition:", 20) == 0)
            cd = line;
        if (cd) {
            const char *nm = find(cd, llen, "name=\"", 6);
            while (nm && nm > cd && nm[-1] != ' ' && nm[-1] != ';')
                nm = find(nm + 1, llen - (size_t)(nm + 1 - cd), "name=\"", 6);
            if (!nm)
                return EKV_EMALFORMED;
            nm += 6;
            const char *q = memchr(nm, '"', (size_t)(cd + llen - nm));
            if (!q)
                return EKV_EMALFORMED;
            p->name = nm;
            p->name_len = (size_t)(q - nm);
            return EKV_OK;
        }
        line += llen + 2;
    }
    return EKV_EMALFORMED;
}

int ekv_multipart_parse(const char *boundary, const char *body, size_t len, ekv_part_t *parts,
                        size_t max, size_t *n)
{
    char delim[80];
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    if (dl < 5 || (size_t)dl >= sizeof delim)
        return EKV_EMALFORMED;
    *n = 0;
    /* The first delimiter may open the body without the leading CRLF. */
    const char *p = len >= (size_t)dl - 2 && memcmp(body, delim + 2, (size_t)dl - 2) == 0
                        ? body + dl - 2
                        : find(body, len, delim, (size_t)dl);
    if (!p)
        return EKV_EMALFORMED;
    if (p != body + dl - 2)
        p += dl;
    const char *end = body + len;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return EKV_OK; /* closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n' || *n == max)
            return EKV_EMALFORMED;
        p += 2;
        const char *hend = find(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend)
            return EKV_EMALFORMED;
        ekv_part_t *part = &parts[*n];
        if (part_name(p, (size_t)(hend - p), part) != EKV_OK)
            return EKV_EMALFORMED;
        const char *data = hend + 4;
        const char *next = find(data, (size_t)(end - data), delim, (size_t)dl);
        if (!next)
            return EKV_EMALFORMED;
        part->data = data;
        part->len = (size_t)(next - data);
        (*n)++;
        p = next + dl;
    }
}
