/* look: the `edgekv look` command (see look.c), and the URL encoding it shares with probe. */
#ifndef EKV_LOOK_H
#define EKV_LOOK_H

#include <stddef.h>

int ekv_cmd_look(int argc, char **argv);

/* Percent-encodes s into out (everything but unreserved characters); stops short rather than
 * overflow. */
void ekv_look_pct(char *out, size_t size, const char *s);

#endif
