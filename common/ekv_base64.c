#include "ekv_base64.h"

#include <stdint.h>
#include <stdlib.h>

#include "ekv_mem.h"

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *ekv_b64_encode(const void *in, size_t len, ekv_b64_kind_t kind)
{
    const unsigned char *p = in;
    const char *d = kind == EKV_B64_URL ? URL : STD;
    int pad = kind == EKV_B64_STD;
    char *out = ekv_malloc((len + 2) / 3 * 4 + 1), *o = out;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < len ? p[i + 2] : 0);
        *o++ = d[v >> 18 & 63];
        *o++ = d[v >> 12 & 63];
        if (i + 1 < len || pad)
            *o++ = i + 1 < len ? d[v >> 6 & 63] : '=';
        if (i + 2 < len || pad)
            *o++ = i + 2 < len ? d[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int value_of(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '+' || ch == '-' ? 62 : ch == '/' || ch == '_' ? 63 : -1;
}

char *ekv_b64_decode(const char *s, size_t n, size_t *out_len)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return NULL;
    char *out = ekv_malloc(n / 4 * 3 + 3);
    size_t m = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value_of((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[m++] = (char)(acc >> 16);
            out[m++] = (char)(acc >> 8);
            out[m++] = (char)acc;
        }
    }
    if (n % 4 == 2)
        out[m++] = (char)(acc >> 4);
    else if (n % 4 == 3) {
        out[m++] = (char)(acc >> 10);
        out[m++] = (char)(acc >> 2);
    }
    out[m] = '\0';
    *out_len = m;
    return out;
}
