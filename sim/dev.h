/* dev: the `edgekv dev` command (see dev.c): the user's own Worker in workerd at chosen PoPs of
 * the running world. */
#ifndef EKV_DEV_H
#define EKV_DEV_H

/* Runs `edgekv dev [options]` (argv[0] is "dev"). Hands the world to the Node.js program in
 * sim/dev/ and becomes it (exec), so Ctrl-C and the exit status are that program's. Returns
 * only on failure: 1 when no world runs or Node.js cannot be started, 2 on bad usage. */
int ekv_cmd_dev(int argc, char **argv);

#endif
