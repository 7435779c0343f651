/* ui: `edgekv ui [--port PORT | --listen ADDR:PORT] [--key KEY]`, a live view of the running
 * world in the browser.
 *
 * A server on 127.0.0.1 (libevent's evhttp) serves the page (sim/ui/) and one Server-Sent
 * Events stream per browser. It reads $EDGEKV_HOME/state.json and the topology once, and
 * polls the PoPs and tiers itself (their admin endpoints, node/http_admin.c), so a browser
 * never talks to 300 processes: see ui_poll.c for what is asked when. docs/ui.md. */
#ifndef EKV_UI_H
#define EKV_UI_H

int ekv_cmd_ui(int argc, char **argv);

#endif
