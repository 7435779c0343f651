#!/usr/bin/env bash
# A use-case experiment end to end: three PoPs under kv at time scale 4 (a 30 s cacheTtl is
# 7.5 s real), two key groups driven by six clients at home in a, half their requests
# re-routed (mostly to b by pop_weights), and at 36 s a reroute fault sends a's requests to c:
#   counters  read-modify-write increments from every client, one write per second per key;
#   carts     read-modify-write appends to a JSON list, counted by its length;
#   sessions  per-client keys with expirationTtl and metadata, read with getWithMetadata,
#             listed page by page (cursor), bulk-read.
# `edgekv run --check` must pass the experiment's assertions (lost updates, 429s, read-your-
# writes violations, hit ratio, p_fresh_at); results.json must hold every metric, the
# checkers' counterexamples naming PoPs and keys, and lost_updates must equal the acknowledged
# increments counted from the history CSV minus what the counters gained (values read from the
# coordinator before and after), also when a second run starts on the first one's data.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
OUT=$H/out
# `edgekv run` stops what it starts; should it die, ekv_cleanup stops its worlds by pid.

ekv_topology "$H/world.yaml" policy=kv a:0:Frankfurt b:20:Madrid c:60:Boston
cat >"$H/exp.yaml" <<'YAML'
name: usecase-small
duration_s: 48
time_scale: 4
seed: 5
policies: [kv]
write_rate_limit: 1
groups:
  - {name: counters, prefix: "ctr:", count: 2, counter: true, write_rate: 5, cache_ttl: 30}
  - {name: carts, prefix: "cart:", count: 2, append: true, write_rate: 3, cache_ttl: 30}
  - name: sessions
    pattern: "s/{}/token"
    count: 6
    per_client: true
    expiration_ttl: 3600
    metadata: '{"user": 1}'
    read: getWithMetadata
    read_rate: 10
    write_rate: 1
    list_rate: 0.5
    list_limit: 2
    cache_ttl: 30
  - {name: catalog, prefix: "cat:", count: 10, read: bulk, bulk_keys: 4, read_rate: 1}
clients: {count: 6, home: [a], reroute: 0.5}
pop_weights: {b: 10}
assert:
  - {metric: lost_updates, op: ">", value: 0}
  - {metric: rate_limited_writes, op: ">", value: 0}
  - {metric: ryw_violations, op: ">", value: 0}
  - {metric: hit_ratio, op: ">", value: 0}
  - {metric: p_fresh_at, t_ms: 500, op: ">=", value: 0}
faults:
  - {at_s: 36, action: reroute, pop: a, to: c}
YAML

"$EKV" run "$H/exp.yaml" --topology "$H/world.yaml" --out "$OUT" --check >"$H/run.log" 2>&1 ||
    fail "run --check: $(tail -20 "$H/run.log")"
grep -q 'assert (line 26) lost_updates > 0 \[kv\]: [0-9]* -> ok' "$H/run.log" ||
    fail "no lost_updates assertion line: $(cat "$H/run.log")"
grep -q 'p_fresh_at(t=500 ms)' "$H/run.log" || fail "p_fresh_at not reported with its t"
pass "run --check passes the use-case assertions"

R=$OUT/results.json
RUN='.runs[0]'
for m in rate_limited_writes ryw_violations monotonic_violations lost_updates \
    stale_age_max_ms convergence_ms; do
    jq -e "$RUN.consistency.$m | numbers" "$R" >/dev/null || fail "results.json lacks $m"
done
for m in hit_ratio origin_reads tier_reads; do
    jq -e "$RUN.cache.$m | numbers" "$R" >/dev/null || fail "results.json lacks cache.$m"
done
[ "$(jq "$RUN.consistency.list_pages" "$R")" -gt "$(jq "$RUN.consistency.list_failed" "$R")" ] ||
    fail "no list page answered"
[ "$(jq "$RUN.consistency.bulk_reads - $RUN.consistency.bulk_failed" "$R")" -gt 0 ] ||
    fail "no bulk read answered"
pass "results.json holds every use-case metric, lists and bulk reads"

# Counterexamples: a read-your-writes one is a put and a later get of the same key by the same
# client, named.
EX=$(jq -c "$RUN.consistency.checkers.read_your_writes.examples[0]" "$R")
[ "$(jq -r '.ops[0].op + " " + .ops[1].op' <<<"$EX")" = "put get" ] || fail "ryw example: $EX"
[ "$(jq '.ops[0].client == .ops[1].client and .ops[0].key == .ops[1].key' <<<"$EX")" = true ] ||
    fail "ryw example mixes clients or keys: $EX"
[ "$(jq '.ops[1].start_us >= .ops[0].end_us and .ops[1].seq < .ops[0].seq' <<<"$EX")" = true ] ||
    fail "ryw example is no violation: $EX"
jq -e '.ops[1].pop_name | test("^[abc]$")' <<<"$EX" >/dev/null || fail "no PoP name: $EX"
jq -e '.ops[1].key_name | test("^(ctr:[01]|cart:[01]|s/[0-5]/token)$")' <<<"$EX" >/dev/null || fail "no key name: $EX"
pass "read-your-writes counterexample: $(jq -c '[.ops[] | .op, .pop_name, .key_name]' <<<"$EX")"

# Lost updates, exactly: acknowledged increments (puts answered 200 with an rmw id, from the
# history CSV) minus what the counters gained (final - initial values read from the
# coordinator); each final value is what the last acknowledged put wrote (last write wins):
# the put with the highest version of that key in the history.
check_lost() { # RUN_LABEL
    local acked final lost k want got
    acked=$(awk -F, 'NR > 1 && $3 == "put" && $5 == 200 && $11 > 0' "$OUT/kv-history.csv" | wc -l)
    final=$(jq "[$RUN.consistency.counters[] | .final - .initial] | add" "$R")
    lost=$(jq "$RUN.consistency.lost_updates" "$R")
    [ "$acked" -gt 0 ] || fail "$1: no acknowledged increment in the history"
    [ "$lost" -eq $((acked - final)) ] || fail "$1: lost $lost, acked $acked, gained $final"
    for k in 0 1 2 3; do
        want=$(awk -F, -v k="$k" 'NR > 1 && $3 == "put" && $5 == 200 && $4 == k && $8 > s {
            s = $8; v = $10 } END { print v + 0 }' "$OUT/kv-history.csv")
        got=$(jq "$RUN.consistency.counters[] | select(.key == $k) | .final" "$R")
        [ "$got" = "$want" ] || fail "$1: counter $k: final $got, the last acknowledged put wrote $want"
    done
    jq -e "[$RUN.consistency.counters[].key_name] == [\"ctr:0\", \"ctr:1\", \"cart:0\", \"cart:1\"]" "$R" >/dev/null ||
        fail "$1: counters: $(jq -c "$RUN.consistency.counters" "$R")"
    [ "$(jq "[$RUN.consistency.counters[2,3].final] | min" "$R")" -gt 0 ] ||
        fail "$1: an append list was never counted: $(jq -c "$RUN.consistency.counters" "$R")"
    pass "$1: lost updates $lost = $acked acknowledged increments - $final gained"
}
check_lost "first run"

# The reroute fault at 36 s (9 s real): from then on no request reaches a, its clients' go to c.
awk -F, -v a=0 -v c=0 'NR > 1 && (s == "" || $6 < s) { s = $6 } NR > 1 { row[NR] = $0 }
    END { for (i in row) { split(row[i], f, ","); t = f[6] - s
          if (t > 9100000 && f[2] == "a") a++; if (t > 9100000 && f[2] == "c") c++ }
          print a, c }' "$OUT/kv-history.csv" >"$H/reroute"
read -r AFTER_A AFTER_C <"$H/reroute"
[ "$AFTER_A" -eq 0 ] && [ "$AFTER_C" -gt 0 ] ||
    fail "after the reroute: $AFTER_A requests at a, $AFTER_C at c"
pass "reroute a -> c: none at a afterwards, $AFTER_C at c"

# 429s are writes the history shows refused, counted apart.
N429=$(awk -F, 'NR > 1 && $3 == "put" && $5 == 429' "$OUT/kv-history.csv" | wc -l)
[ "$(jq "$RUN.consistency.rate_limited_writes" "$R")" -eq "$N429" ] || fail "429s: $N429"
pass "$N429 writes refused with 429"

# The same experiment again into the same folder: the world restarts on the first run's data,
# so the counters start where they ended, and the lost updates still add up.
FIRST=$(jq -c "[$RUN.consistency.counters[].final]" "$R")
"$EKV" run "$H/exp.yaml" --topology "$H/world.yaml" --out "$OUT" >"$H/run2.log" 2>&1 ||
    fail "second run: $(tail -20 "$H/run2.log")"
[ "$(jq -c "[$RUN.consistency.counters[].initial]" "$R")" = "$FIRST" ] ||
    fail "second run: initial values $(jq -c "[$RUN.consistency.counters[].initial]" "$R"), the first run ended at $FIRST"
check_lost "second run on the first one's data"

echo "$PASSED passed, 0 failed"
