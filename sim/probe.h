/* probe: the `edgekv probe` command (see probe.c for what it measures and how). */
#ifndef EKV_PROBE_H
#define EKV_PROBE_H

int ekv_cmd_probe(int argc, char **argv);

#endif
