/* ekv_daemon: turning a freshly forked child into a daemon of a topology.
 *
 * Both ways a PoP or the coordinator is started use it: `edgekv` forking and executing a
 * daemon (sim/launch.c), and `edgekv-node --zygote` forking PoPs (node/zygote.c). */
#ifndef EKV_DAEMON_H
#define EKV_DAEMON_H

/* In the child, before it runs the daemon: a session of its own, standard input from
 * /dev/null, standard output and error appended to logpath (never through a symbolic link:
 * then, after a line on the old standard error, to /dev/null), and CPU cpu alone (every thread
 * started later inherits it; cpu < 0: any). A CPU that cannot be had is reported on the new
 * standard error, prefixed with who; the daemon runs anyway. */
void ekv_daemon_detach(const char *logpath, int cpu, const char *who);

#endif
