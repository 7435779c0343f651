# Shared by the `edgekv ui` shell tests (after tests/integration/lib.sh): starting the live
# page's server, opening a page's event stream, and stopping both; the EXIT trap stops what
# is still running, by pid, before ekv_cleanup.
UI_PID=""
EV_PID=""
trap '[ -n "$EV_PID" ] && stop_pids "$EV_PID"; [ -n "$UI_PID" ] && stop_pids "$UI_PID";
      ekv_cleanup' EXIT

# start_ui [ARG...]: `edgekv ui --port 0 ARG...` in the background; U is the address it printed.
start_ui() {
    "$EKV" ui --port 0 "$@" >"$EDGEKV_HOME/ui.out" 2>"$EDGEKV_HOME/ui.err" &
    UI_PID=$!
    U=""
    for _ in $(seq 1 100); do
        U=$(sed -n 's|^edgekv ui: \(http://127.0.0.1:[0-9]*\)/.*|\1|p' "$EDGEKV_HOME/ui.out" \
            2>/dev/null || true)
        [ -n "$U" ] && return 0
        sleep 0.05
    done
    fail "edgekv ui printed no address: $(cat "$EDGEKV_HOME/ui.err")"
}

# open_events SECONDS: a page's event stream into $EDGEKV_HOME/events for at most SECONDS
# (edgekv ui asks the nodes nothing while no page is open).
open_events() {
    curl -sN --max-time "$1" "$U/events" >"$EDGEKV_HOME/events" 2>/dev/null &
    EV_PID=$!
}

# close_events: ends the stream.
close_events() {
    [ -z "$EV_PID" ] || stop_pids "$EV_PID"
    EV_PID=""
}

# stop_ui: closes the stream, then SIGTERM to edgekv ui, which must end with status 0 (under
# a sanitizer: nothing leaked).
stop_ui() {
    close_events
    kill -TERM "$UI_PID"
    wait "$UI_PID" || fail "edgekv ui exited $?: $(grep -B1 -A9 Sanitizer "$EDGEKV_HOME/ui.err" |
        head -40)"
    UI_PID=""
}
