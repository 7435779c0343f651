#!/usr/bin/env bash
# Clocks (docs/PROTOCOL.md, TIME): a world on three loopback hosts, the coordinator on h1
# (no skew), PoP a on h2 (clock +50 ms) at 10 ms, b on h3 (-50 ms) at 30 ms, c on h1 at 20 ms.
# Each PoP estimates the coordinator's clock and runs on it:
#   offset  each PoP's /_edgekv/health clock.offset_us is within 1 ms of -skew, from the
#           samples of its first burst (the ready file waits for them);
#   probe   `edgekv probe --tolerance-ms 2 --attempts 3` passes (uncorrected, a +50 ms PoP
#           would see a 10 ms change as 40 ms late and apply it at once: late every time);
#   outside the test's own clock (the coordinator's: same host, no skew) sees each change
#           arrive at each PoP its delay after the commit, within 3 ms (the least of three
#           writes): long polls of /_edgekv/wait are open before each REST write (uncorrected,
#           the +50 ms PoP's changes arrive at once and the -50 ms PoP would
#           hold a 30 ms change for 80 ms and still report 30: only an outside clock sees it).
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
API=/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces
NS=00000000000000000000000000000000

# Real milliseconds (time_scale 1): a 50 ms skew shows against delays of 10-30 ms.
ekv_topology "$H/world.yaml" time_scale=1 coordinator.heartbeat_ms=50 \
    host=h1:127.0.0.1 host=h2:127.0.0.2:50 host=h3:127.0.0.3:-50 \
    'a:10,host: h2' 'b:30,host: h3' 'c:20'
"$EKV" up "$H/world.yaml" >"$H/up.out" 2>&1 || fail "up: $(cat "$H/up.out")"
ST=$H/state.json
C=$(jq -r .coordinator.url "$ST")
url() { jq -r --arg n "$1" '.pops[] | select(.name == $n) | .url' "$ST"; }
pass "world up: a on h2 (+50 ms), b on h3 (-50 ms), c on h1"

# ---- offset: each PoP's estimate is -skew ----------------------------------------------------
# clock NAME SKEW_MS: health's clock is within 1 ms of -SKEW_MS, from 4 samples or more.
clock() {
    local j
    j=$(curl -sf --max-time 5 "$(url "$1")/_edgekv/health") || fail "$1's health"
    jq -e --argjson s "$2" '.clock.samples >= 4 and
        ((.clock.offset_us + $s * 1000) | fabs) <= 1000 and .clock.rtt_us >= 0' <<<"$j" \
        >/dev/null || fail "$1's clock (skew $2 ms): $(jq -c .clock <<<"$j")"
    echo "  $1: $(jq -c .clock <<<"$j")"
}
clock a 50
clock b -50
clock c 0
m=$(metric "$(url b)" edgekv_pop_clock_offset_seconds)
awk -v m="$m" 'BEGIN { exit !(m != "" && m >= 0.049 && m <= 0.051) }' ||
    fail "b's edgekv_pop_clock_offset_seconds: '$m'"
[ -n "$(metric "$(url b)" edgekv_pop_clock_rtt_seconds)" ] ||
    fail "b has no edgekv_pop_clock_rtt_seconds"
pass "each PoP's clock offset is within 1 ms of minus its host's skew (health, /metrics)"

# ---- probe: delays on the corrected clocks ----------------------------------------------------
"$EKV" probe --tolerance-ms 2 --attempts 3 >"$H/probe.out" 2>&1 || fail "probe: $(cat "$H/probe.out")"
pass "probe --tolerance-ms 2 passes (a busy machine's late wakeups tried again, 3 attempts)"

# ---- outside: the test's clock sees each delay ------------------------------------------------
# Long polls for the next change at every PoP, then a REST write; arrival (this clock, when the
# poll's answer comes) minus the commit time (the coordinator's, in the answer) per PoP. What
# this side adds (the answer's trip, a thread waking on a busy machine) only makes an arrival
# look later: the least of three rounds is the measure.
seq=$(curl -sf --max-time 5 "$C/health" | jq -r .seq)
python3 - "$C$API/$NS/values/skew" "$seq" "$(url a)" "$(url b)" "$(url c)" \
    >"$H/outside.out" 2>&1 <<'PY' || fail "outside clock: $(cat "$H/outside.out")"
import json, sys, threading, time, urllib.request
write, seq, pops = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
best = {u: None for u in pops}
def poll(u, n, out):
    with urllib.request.urlopen(f"{u}/_edgekv/wait?seq={n}&timeout_ms=5000", timeout=10) as r:
        body = r.read()
    out[u] = (time.time(), json.loads(body))
for _ in range(3):
    seq += 1
    out = {}
    threads = [threading.Thread(target=poll, args=(u, seq, out)) for u in pops]
    for t in threads:
        t.start()
    time.sleep(0.2)  # every poll is open at its PoP
    req = urllib.request.Request(write, data=b"v", method="PUT")
    urllib.request.urlopen(req, timeout=10).read()
    for t in threads:
        t.join()
    for u in pops:
        arrived, r = out[u]
        assert r["seq"] == seq, r
        seen = (arrived * 1e6 - r["commit_us"]) / 1000
        if best[u] is None or seen < best[u][0]:
            best[u] = (seen, r["delay_us"] / 1000)
for u in pops:
    print(u, f"{best[u][0]:.3f}", f"{best[u][1]:.3f}")
PY
for pair in a:10 b:30 c:20; do
    name=${pair%:*} delay=${pair#*:}
    line=$(grep -F "$(url "$name") " "$H/outside.out") || fail "no arrival at $name"
    read -r _ seen said <<<"$line"
    echo "  $name: arrived $seen ms after the commit (it says $said ms), delay $delay ms"
    awk -v s="$seen" -v d="$delay" 'BEGIN { exit !(s - d <= 3 && d - s <= 3) }' ||
        fail "$name: the change arrived $seen ms after its commit on this clock, delay $delay"
done
pass "an outside clock sees each change arrive its delay after the commit (within 3 ms)"

"$EKV" down >/dev/null || fail "down"
echo "$PASSED passed"
