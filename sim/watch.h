/* watch: the `edgekv watch` and `edgekv compare` commands (see watch.c). */
#ifndef EKV_WATCH_H
#define EKV_WATCH_H

int ekv_cmd_watch(int argc, char **argv);
int ekv_cmd_compare(int argc, char **argv);

#endif
