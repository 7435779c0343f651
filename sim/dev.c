/* dev: `edgekv dev [--config FILE] [--pop NAME]... [--port BASE]`: the user's own Worker, as
 * wrangler would bundle it, in workerd with one socket per chosen PoP of the running world.
 *
 * The work (wrangler configuration, namespaces, esbuild, workerd, reload on save) is a Node.js
 * program in sim/dev/ (dev.mjs), because its tools are npm packages. This side only knows the
 * world: state.json gives each PoP's URL and the coordinator's, the topology the run started
 * from gives the PoPs' IATA codes and coordinates (state.json has neither), and the result
 * travels as JSON in the environment variable EDGEKV_DEV_WORLD. Then this process becomes the
 * Node.js program through bash, which picks the Node.js the compatibility tests use
 * (scripts/lib/node.sh: the machine's >= 20, else the one scripts/setup cached): one process,
 * so Ctrl-C, the pid and the exit status are the program's own. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev.h"
#include "ekv_mem.h"
#include "keys.h"
#include "state.h"
#include "topology.h"

/* sim/dev in the source tree; set by sim/CMakeLists.txt. EDGEKV_DEV_DIR overrides it (a build
 * moved away from its sources). */
#ifndef EKV_DEV_DIR
#define EKV_DEV_DIR "sim/dev"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: edgekv dev [--config wrangler.toml|wrangler.json|wrangler.jsonc]\n"
               "                  [--pop NAME]... [--port BASE]\n"
               "  Runs your Worker (the wrangler configuration's main) in workerd at PoPs of the\n"
               "  running world (`edgekv up`), each copy's KV bindings read and write through\n"
               "  that PoP. Default: every PoP (at most 32); --port BASE: PoP i at BASE + i, else\n"
               "  free ports. Saving a file reloads the Worker; Ctrl-C stops. See docs/dev.md.\n");
}

/* One PoP as dev.mjs reads it; the topology adds colo and coordinates when it still names the
 * PoP (the file may have changed since `up`). */
static json_t *pop_json(const ekv_proc_t *p, const ekv_topo_t *t, int remote)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:b}", "name", p->name, "city", p->city, "url", p->url,
                          "alive", remote || ekv_proc_alive(p));
    for (size_t i = 0; t && i < t->npops; i++) {
        const ekv_topo_pop_t *tp = &t->pops[i];
        if (strcmp(tp->name, p->name))
            continue;
        if (tp->iata[0])
            json_object_set_new(j, "iata", json_string(tp->iata));
        if (tp->has_coords) {
            json_object_set_new(j, "lat", json_real(tp->lat));
            json_object_set_new(j, "lon", json_real(tp->lon));
        }
    }
    return j;
}

/* The world as JSON (caller frees), or NULL with a message printed when none runs. */
static char *world_json(void)
{
    ekv_state_t *st = NULL;
    if (ekv_state_load(&st) != 0 || st->npops == 0 ||
        (!st->remote && !ekv_proc_alive(&st->coord))) { /* an attached world has no pids */
        fprintf(stderr,
                "edgekv dev: no running world in %s (no state.json, or its coordinator is "
                "gone): start one with `edgekv up`\n",
                ekv_state_dir());
        ekv_state_destroy(&st);
        return NULL;
    }
    char err[512];
    ekv_topo_t *t = ekv_topo_load(st->topology, err, sizeof err);
    if (!t)
        fprintf(stderr, "edgekv dev: no PoP coordinates (%s)\n", err);
    json_t *pops = json_array();
    for (size_t i = 0; i < st->npops; i++)
        json_array_append_new(pops, pop_json(&st->pops[i], t, st->remote));
    json_t *w = json_pack("{s:s, s:s, s:f, s:o}", "home", ekv_state_dir(), "coordinator",
                          st->coord.url, "time_scale", st->time_scale, "pops", pops);
    const char *token = ekv_keys_token(); /* a world with keys wants it on the REST API */
    if (token)
        json_object_set_new(w, "token", json_string(token));
    char *s = json_dumps(w, JSON_COMPACT);
    json_decref(w);
    ekv_topo_destroy(&t);
    ekv_state_destroy(&st);
    return s;
}

int ekv_cmd_dev(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    }
    const char *dir = getenv("EDGEKV_DEV_DIR");
    if (!dir || !*dir)
        dir = EKV_DEV_DIR;
    char mjs[PATH_MAX];
    snprintf(mjs, sizeof mjs, "%s/dev.mjs", dir);
    if (access(mjs, R_OK) != 0) {
        fprintf(stderr, "edgekv dev: %s: %s (set EDGEKV_DEV_DIR to the source tree's sim/dev)\n",
                mjs, strerror(errno));
        return 1;
    }
    char *world = world_json();
    if (!world)
        return 1;
    int rc = setenv("EDGEKV_DEV_WORLD", world, 1);
    free(world);
    if (rc != 0) {
        fprintf(stderr, "edgekv dev: the world does not fit in the environment\n");
        return 1;
    }
    /* bash -c SCRIPT bash DIR ARGS...: the script sources node.sh from the same tree. */
    char **av = ekv_calloc((size_t)argc + 6, sizeof *av);
    int n = 0;
    av[n++] = "bash";
    av[n++] = "-c";
    av[n++] = ". \"$1/../../scripts/lib/node.sh\" && ekv_use_node && "
              "exec node \"$1/dev.mjs\" \"${@:2}\"";
    av[n++] = "bash";
    av[n++] = (char *)dir;
    for (int i = 1; i < argc; i++)
        av[n++] = argv[i];
    av[n] = NULL;
    fflush(NULL);
    execvp("bash", av);
    fprintf(stderr, "edgekv dev: cannot run bash: %s\n", strerror(errno));
    free(av);
    return 1;
}
