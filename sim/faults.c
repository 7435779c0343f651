/* faults: process, link and coordinator faults (see faults.h). */
#include "faults.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_args.h"
#include "hclient.h"
#include "launch.h"
#include "transport.h"

static int link_fault(const ekv_proc_t *p, const char *query)
{
    ekv_hc_req_t r = {.method = "POST"};
    snprintf(r.url, sizeof r.url, "%s/_edgekv/fault?%s", p->url, query);
    ekv_hc_run(&r, 1, 5000);
    int ok = r.status == 200;
    if (!ok)
        fprintf(stderr, "edgekv: %s did not take the fault: %d %s\n", p->name, r.status,
                r.resp ? r.resp : "(no answer)");
    ekv_hc_req_fini(&r);
    return ok ? 0 : -1;
}

static int signal_pop(const ekv_proc_t *p, int sig)
{
    /* Checked and sent as one step: a recycled pid is never signalled. */
    if (ekv_proc_signal(p, sig) != 0) {
        fprintf(stderr, "edgekv: %s is not running\n", p->name);
        return -1;
    }
    return 0;
}

/* partition|heal HOST (names are unique across hosts, tiers and PoPs): with `up --netns` the
 * bridge side of the host's veth goes down or up, cutting every process there off the rest of
 * the world as a pulled cable would (their simulated links are untouched). */
static int host_fault(ekv_state_t *st, const ekv_fault_t *f)
{
    size_t h = 0;
    while (h < st->nhosts && strcmp(st->hosts[h].name, f->pop) != 0)
        h++;
    int link = f->kind == EKV_FAULT_PARTITION || f->kind == EKV_FAULT_HEAL;
    if (h == st->nhosts || !link) {
        fprintf(stderr, "edgekv: no PoP or tier named %s\n", f->pop);
        return -1;
    }
    if (!st->hosts[h].veth[0]) {
        fprintf(stderr,
                "edgekv: host %s has no link of its own (no --netns): partition its PoPs "
                "instead\n",
                f->pop);
        return -1;
    }
    int down = f->kind == EKV_FAULT_PARTITION;
    if (ekv_netns_link(st->hosts[h].veth, !down) != 0)
        return -1;
    st->hosts[h].partitioned = down;
    return ekv_state_save(st) == 0 ? 0 : -1;
}

/* The faults that signal or start a process: this machine's own processes only. */
static int needs_process(int kind)
{
    return kind == EKV_FAULT_COORD_KILL || kind == EKV_FAULT_COORD_RESTART ||
           kind == EKV_FAULT_KILL || kind == EKV_FAULT_STOP || kind == EKV_FAULT_CONTINUE ||
           kind == EKV_FAULT_RESTART;
}

int ekv_fault_apply(const ekv_topo_t *t, ekv_state_t *st, const ekv_fault_t *f)
{
    if (st->remote && needs_process(f->kind)) {
        int coord = f->kind == EKV_FAULT_COORD_KILL || f->kind == EKV_FAULT_COORD_RESTART;
        fprintf(stderr,
                "edgekv: %s runs elsewhere (an attached world): kill, stop, continue and restart "
                "need a world this machine started\n",
                coord ? "the coordinator" : f->pop);
        return -1;
    }
    if (f->kind == EKV_FAULT_COORD_KILL)
        return ekv_proc_signal(&st->coord, SIGKILL);
    if (f->kind == EKV_FAULT_COORD_RESTART)
        return ekv_launch_restart_coord(t, st) == 0 ? 0 : -1;
    /* A PoP's name, or a regional tier's (names are unique across both). */
    size_t i = 0, k = 0;
    while (i < st->npops && strcmp(st->pops[i].name, f->pop) != 0)
        i++;
    while (i == st->npops && k < st->ntiers && strcmp(st->tiers[k].name, f->pop) != 0)
        k++;
    int tier = i == st->npops && k < st->ntiers;
    if (i == st->npops && !tier)
        return host_fault(st, f);
    ekv_proc_t *p = tier ? &st->tiers[k] : &st->pops[i];
    char q[64];
    switch (f->kind) {
    case EKV_FAULT_KILL:
        return signal_pop(p, SIGKILL);
    case EKV_FAULT_STOP:
        return signal_pop(p, SIGSTOP);
    case EKV_FAULT_CONTINUE:
        return signal_pop(p, SIGCONT);
    case EKV_FAULT_RESTART:
        if (tier)
            return ekv_launch_restart_tier(t, k, st) == 0 ? 0 : -1;
        return ekv_launch_restart_pop(t, i, st) == 0 ? 0 : -1;
    case EKV_FAULT_PARTITION:
        return link_fault(p, "partition=1");
    case EKV_FAULT_HEAL:
        return link_fault(p, "partition=0");
    case EKV_FAULT_SLOW:
        snprintf(q, sizeof q, "delay_ms=%g", f->delay_ms);
        return link_fault(p, q);
    default:
        return -1;
    }
}

int ekv_cmd_fault(int argc, char **argv)
{
    ekv_fault_t f = {0};
    if (argc >= 2 && ekv_fault_parse(argv[1], &f.kind) == 0 && f.kind == EKV_FAULT_REROUTE) {
        fprintf(stderr, "edgekv: reroute moves an experiment's clients to another PoP, so only "
                        "an experiment's faults: list can carry it out (docs/experiments.md)\n");
        return 2;
    }
    int coord = argc == 2 && ekv_fault_parse(argv[1], &f.kind) == 0 &&
                (f.kind == EKV_FAULT_COORD_KILL || f.kind == EKV_FAULT_COORD_RESTART);
    int pop = argc >= 3 && ekv_fault_parse(argv[1], &f.kind) == 0 && !coord &&
              (f.kind == EKV_FAULT_SLOW
                   ? argc == 4 && ekv_args_double(argv[3], 0, 600000, &f.delay_ms) == 0
                   : argc == 3);
    if (!coord && !pop) {
        fprintf(stderr, "usage: edgekv fault kill|restart|stop|continue|partition|heal POP|TIER\n"
                        "       edgekv fault partition|heal HOST\n"
                        "       edgekv fault slow POP|TIER DELAY_MS\n"
                        "       edgekv fault kill-coordinator|restart-coordinator\n");
        return 2;
    }
    if (pop)
        snprintf(f.pop, sizeof f.pop, "%s", argv[2]);
    ekv_state_t *st = NULL;
    if (ekv_state_load(&st) != 0) {
        fprintf(stderr, "edgekv: nothing is running; start a topology with `edgekv up`\n");
        return 1;
    }
    char err[1024];
    /* An attached world has no topology here: its link faults need none. */
    ekv_topo_t *t = st->remote ? NULL : ekv_topo_load(st->topology, err, sizeof err);
    int rc = 1;
    if (!t && !st->remote)
        fprintf(stderr, "edgekv: %s\n", err);
    else if (ekv_fault_apply(t, st, &f) == 0) {
        printf("edgekv: %s %s done\n", ekv_fault_name(f.kind), f.pop);
        rc = 0;
    }
    ekv_topo_destroy(&t);
    ekv_state_destroy(&st);
    return rc;
}
