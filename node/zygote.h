/* zygote: many PoPs forked from one loaded edgekv-node.
 *
 * `edgekv up` starts one `edgekv-node --zygote` and asks it for every PoP, instead of
 * executing edgekv-node once per PoP. The children of one process share its relocated
 * library pages (GOT, relocated read-only data) and whatever it had touched, so 300 PoPs
 * keep one copy of those in the CPU caches instead of 300. At 300 PoPs on two CPUs, where a
 * PoP wakes with cold caches for every change, that cut a PoP's CPU per delivered change
 * from 26.3-26.7 to 21.3-22.2 µs (docs/performance-log.md, "2026-12-03, 12:45-13:05: PoPs forked from one zygote"). The children also share one address
 * layout: fine for a simulator on one machine, not a hardening choice.
 *
 * Protocol, on the zygote's standard input: requests of NUL-terminated fields, one after
 * another: the CPU to pin the PoP to (-1: any), its log file, the argument count, then the
 * arguments (argv[0] first). For each it forks a PoP (own session, stdin /dev/null, stdout
 * and stderr to the log, pinned) and answers one line on standard output: the pid, or "-1"
 * and the reason. It returns at the end of its input, leaving the PoPs running. The zygote
 * starts no thread and no ZeroMQ context, so forking it is safe. */
#ifndef EKV_NODE_ZYGOTE_H
#define EKV_NODE_ZYGOTE_H

/* Serves requests until standard input ends; each child runs pop_main(argc, argv) and exits
 * with its result. Returns 0, or 1 when the input ended inside a request. */
int ekv_node_zygote(int (*pop_main)(int, char **));

#endif
