/* run: the `edgekv run` command (see run.c). */
#ifndef EKV_RUN_H
#define EKV_RUN_H

int ekv_cmd_run(int argc, char **argv);

#endif
