/* verify: the `edgekv verify` command (see verify.c). */
#ifndef EKV_VERIFY_H
#define EKV_VERIFY_H

int ekv_cmd_verify(int argc, char **argv);

#endif
