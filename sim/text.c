/* text: terminal output helpers of the CLI. */
#include "text.h"

#include <stdio.h>

void ekv_text_pad(const char *s, int width)
{
    int cols = 0;
    for (const char *p = s; *p; p++)
        cols += ((unsigned char)*p & 0xc0) != 0x80; /* count lead bytes only */
    printf("%s%*s", s, width > cols ? width - cols : 0, "");
}
