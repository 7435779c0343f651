/* edgekv: the command line people use; dispatches to one command module. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ekv_fdlimit.h"
#include "dev.h"
#include "export.h"
#include "faults.h"
#include "hclient.h"
#include "keys.h"
#include "kvcli.h"
#include "launch.h"
#include "look.h"
#include "probe.h"
#include "run.h"
#include "ui.h"
#include "verify.h"
#include "watch.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgekv COMMAND [options]\n"
            "  up [TOPOLOGY] [--ui [PORT]] [--netns [--netem]]\n"
            "                       start the coordinator, the tiers and every PoP (default\n"
            "                       topology.yaml); --ui also the live page (`edgekv ui`);\n"
            "                       --netns each host in a network namespace (root)\n"
            "  up --attach WORLD.json\n"
            "                       record a world that runs elsewhere (its URLs), for the\n"
            "                       commands that speak HTTP; `down` forgets it\n"
            "  status [--json]      show what is running\n"
            "  probe [--json] [--from POP] [--tolerance-ms MS [--attempts N]]\n"
            "                       write a fresh value through one PoP and measure, at each\n"
            "                       PoP and tier, when it arrived and when reads first got it\n"
            "  look KEY [--ns NS] [--json]\n"
            "                       what every PoP and tier would serve for KEY now\n"
            "  kv namespace|key|bulk VERB [...] [--pop NAME]\n"
            "                       wrangler 4's `kv` commands against the running world (the\n"
            "                       REST API, or one PoP's view with --pop); `edgekv kv help`\n"
            "  down                 stop everything that `up` started\n"
            "  run EXPERIMENT [--topology FILE] [--out DIR] [--check]\n"
            "                       run an experiment (sim/experiments/) for each of its\n"
            "                       policies; write results.json, CSV and report.html\n"
            "  compare RESULTS.json... [--out DIR]\n"
            "                       several runs side by side in one table and one report\n"
            "  fault ACTION [POP] [DELAY_MS]\n"
            "                       kill|restart|stop|continue|partition|heal POP,\n"
            "                       slow POP DELAY_MS, kill-coordinator, restart-coordinator,\n"
            "                       partition|heal HOST (a host of `up --netns`)\n"
            "  verify [--samples N]  compare every PoP and tier with the coordinator (after the\n"
            "                       writes)\n"
            "  watch KEY [--from POP] [--value V]\n"
            "                       write KEY and watch each PoP and tier get it, then serve\n"
            "                       it, live\n"
            "  dev [--config FILE] [--pop NAME]... [--port BASE]\n"
            "                       run your Worker (wrangler configuration) in workerd at\n"
            "                       PoPs of the running world; reloads on save\n"
            "  ui [--port PORT | --listen ADDR:PORT] [--key KEY]\n"
            "                       a live view of the running world in the browser (off\n"
            "                       loopback only with keys: it then needs the token)\n"
            "  keys [--force] [--token]\n"
            "                       make the world's bearer token and CURVE keys\n"
            "                       ($EDGEKV_HOME/keys.json); --token prints the token\n"
            "  export k8s|compose [TOPOLOGY] [--out DIR] [--podman] [...]\n"
            "                       the world as Kubernetes (or podman kube play) or compose\n"
            "                       manifests, with world.json for `up --attach`\n"
            "State lives in $EDGEKV_HOME (default ./.edgekv).\n");
}

int main(int argc, char **argv)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    /* A load run keeps connections to every PoP (8 each: 2,400 for 300 PoPs), and the
     * daemons started from here inherit the limit. */
    char msg[160];
    if (ekv_fdlimit_raise(msg, sizeof msg) != 0)
        fprintf(stderr, "edgekv: %s\n", msg);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "keys"))
        return ekv_cmd_keys(argc - 1, argv + 1);
    /* every request to the world carries its token once `edgekv keys` made one */
    ekv_hc_set_token(ekv_keys_token());
    if (!strcmp(cmd, "up"))
        return ekv_cmd_up(argc - 1, argv + 1);
    if (!strcmp(cmd, "down"))
        return ekv_cmd_down(argc - 1, argv + 1);
    if (!strcmp(cmd, "status"))
        return ekv_cmd_status(argc - 1, argv + 1);
    if (!strcmp(cmd, "probe"))
        return ekv_cmd_probe(argc - 1, argv + 1);
    if (!strcmp(cmd, "look"))
        return ekv_cmd_look(argc - 1, argv + 1);
    if (!strcmp(cmd, "kv"))
        return ekv_cmd_kv(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return ekv_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "compare"))
        return ekv_cmd_compare(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify"))
        return ekv_cmd_verify(argc - 1, argv + 1);
    if (!strcmp(cmd, "fault"))
        return ekv_cmd_fault(argc - 1, argv + 1);
    if (!strcmp(cmd, "watch"))
        return ekv_cmd_watch(argc - 1, argv + 1);
    if (!strcmp(cmd, "dev"))
        return ekv_cmd_dev(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return ekv_cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "ui"))
        return ekv_cmd_ui(argc - 1, argv + 1);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "edgekv: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
