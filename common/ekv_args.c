/* ekv_args: strict command-line value parsing. */
#include "ekv_args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ekv_args_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int ekv_args_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int ekv_args_hostport(const char *s, char *host, size_t hlen, int *port)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    long p;
    if (!colon || colon == s || (size_t)(colon - s) >= hlen ||
        ekv_args_int(colon + 1, 0, 65535, &p) != 0)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return 0;
}

int ekv_args_is_hostport(const char *s)
{
    char host[256];
    int port;
    return ekv_args_hostport(s, host, sizeof host, &port);
}

int ekv_args_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '-' || s[i] == '_' || s[i] == '.' || (s[i] >= '0' && s[i] <= '9') ||
              (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            return -1;
    return 0;
}
