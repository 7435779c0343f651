#!/usr/bin/env bash
# A PoP partitioned from the coordinator for 30 s of real time while writes continue.
#
# Topology (partition-topology.yaml, time_scale 1, ephemeral loopback ports): push-all
# replicas w (0 ms) and o (10 ms) take the writes; push-all replica p (20 ms) and ttl cache q
# (10 ms) are cut off. The load is `edgekv run partition-experiment.yaml` on the running
# topology: 20 writes/s through w and o to 100 keys, 20 reads/s at every PoP with cacheTtl
# 10 s, `partition p` and `partition q` at 3 s, `heal` at 33 s, 36 s in all. Before the run
# the test writes every key (and a probe key `pk`) and q reads them all, so both cut-off PoPs
# hold every key when the partition starts. Asserted:
#   during the partition (probes of the test itself, beside the load):
#     - p and q report partitioned and coordinator_up false;
#     - a write and a read of a key they do not hold fail with 503 at both, each in < 0.5 s;
#     - `pk`, rewritten through the REST API during the partition, is served new at o but
#       OLD at p (200, the pre-partition value and version; p's replica answers HIT, as the
#       docs say for push PoPs) and at q once its cacheTtl has run out (200, old value,
#       CF-Cache-Status STALE); every one of the 100 keys is still served (200) by p and q,
#       all of q's as STALE, and p serves some of them at an older version than the
#       coordinator;
#     - `edgekv verify` exits 1 and names p (DIFFERS) and q (at least one entry DIFFERs);
#   after the heal and the end of the load:
#     - p catches up (applied_seq = the coordinator's sequence within 15 s, a gap or catch-up
#       counted);
#     - every key read at every PoP (q after one refreshing read) has the coordinator's
#       version and value (a difference must survive 3 rounds a second apart: a host starved
#       of CPU can make a PoP answer 503 for a moment), and `edgekv verify` exits 0 with every
#       PoP agreeing;
#     - results.json reports the stale reads: stale_reads > 0 at p and q, p's stale ratio
#       > 0.4 (about 0.65 is expected: 30 of 36 s cut off, most keys rewritten meanwhile)
#       while the connected o stays < 0.05, no failed read at p (its replica holds every
#       key), both partitions and heals applied, and each heal converged (convergence_ms
#       not null, < 2000 ms);
#     - q's /stats counts the STALE answers it gave in `stale_hits` (at least as many as the
#       test itself received). Until 4173bc5 node/http.c do_get counted them only in
#       `unavailable` and nothing incremented `stale_hits`.
# Usage: bash partition_test.sh BIN_DIR SRC_DIR. About 50 s.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/scenario_lib.sh" "$1" "$2"
OUT="$EDGEKV_HOME/out"

NKEYS=100
KEYS=$(seq -f 'k%07g' 0 $((NKEYS - 1)))

# GET $1: sets CODE, BODY, CACHE (CF-Cache-Status), VER (X-Edgekv-Version), SECS.
hget() {
    local out
    : >"$EDGEKV_HOME/body"
    : >"$EDGEKV_HOME/hdr"
    out=$(curl -s --max-time 10 -o "$EDGEKV_HOME/body" -D "$EDGEKV_HOME/hdr" \
        -w '%{http_code} %{time_total}' "$1") || out="000 0"
    CODE=${out% *}
    SECS=${out#* }
    BODY=$(cat "$EDGEKV_HOME/body")
    CACHE=$(tr -d '\r' <"$EDGEKV_HOME/hdr" | sed -n 's/^CF-Cache-Status: //Ip' | head -1)
    VER=$(tr -d '\r' <"$EDGEKV_HOME/hdr" | sed -n 's/^X-Edgekv-Version: //Ip' | head -1)
}

# PUT $2 to $1: sets CODE and SECS.
hput() {
    local out
    out=$(curl -s --max-time 10 -o /dev/null -w '%{http_code} %{time_total}' -X PUT \
        --data-binary "$2" "$1") || out="000 0"
    CODE=${out% *}
    SECS=${out#* }
}

faster_than() { awk -v s="$1" -v ms="$2" 'BEGIN { exit !(s * 1000 < ms) }'; }
url() { jq -r --arg n "$1" '.pops[] | select(.name == $n) | .url' "$EDGEKV_HOME/status.json"; }

# ---- up, every key written, q holding every key -------------------------------------------
"$EKV" up "$HERE/partition-topology.yaml" >"$EDGEKV_HOME/up.out" 2>&1 ||
    fail "up: $(cat "$EDGEKV_HOME/up.out")"
"$EKV" status --json >"$EDGEKV_HOME/status.json"
C=$(jq -r .coordinator.url "$EDGEKV_HOME/status.json")
API="$C/client/v4/accounts/x/storage/kv/namespaces/$NS"
W=$(url w)
O=$(url o)
P=$(url p)
Q=$(url q)
[ "$(jq '.pops | length' "$EDGEKV_HOME/status.json")" = 4 ] || fail "status: $(cat "$EDGEKV_HOME/status.json")"
pass "topology up: w, o, p push-all; q ttl"

put_keys "$EDGEKV_HOME/bulk.json" "bulk put" init '[{"key": "pk", "value": "before"}]'
seq0=$(curl -sf "$C/health" | jq -r .seq)
for pop in "$W" "$O" "$P" "$Q"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$pop/_edgekv/wait?seq=$seq0&timeout_ms=5000")
    [ "$code" = 200 ] || fail "change $seq0 never visible at $pop ($code)"
done
hget "$P/pk?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = before ] && [ "$CACHE" = HIT ] || fail "p before: $CODE '$BODY' $CACHE"
PK_OLD=$VER
hget "$Q/pk?urlencoded=true&cache_ttl=10"
[ "$CODE" = 200 ] && [ "$BODY" = before ] && [ "$VER" = "$PK_OLD" ] || fail "q before: $CODE '$BODY' $VER"
snapshot "$Q" "?urlencoded=true&cache_ttl=10" >"$EDGEKV_HOME/q-prime.txt"
n=$(awk '$2 == 200' "$EDGEKV_HOME/q-prime.txt" | wc -l)
[ "$n" = "$NKEYS" ] || fail "q read only $n of $NKEYS keys before the run"
pass "$((NKEYS + 1)) keys written (seq $seq0), held by every PoP (q read them with cacheTtl 10 s)"

# ---- the run: load with a partition of p and q from 3 s to 33 s ---------------------------
start_run "$HERE/partition-experiment.yaml" "$HERE/partition-topology.yaml" "$OUT"
for _ in $(seq 1 300); do
    [ "$(health "$P" partitioned)" = true ] && [ "$(health "$Q" partitioned)" = true ] && break
    kill -0 "$RUN_PID" 2>/dev/null || fail "edgekv run ended early: $(tail -20 "$OUT.log")"
    sleep 0.05
done
[ "$(health "$P" partitioned)" = true ] || fail "p not partitioned 15 s after the run started"
T_PART=$(date +%s.%N)
pass "the run partitioned p and q"
# Waits until $1 seconds after the partition began.
until_part() {
    local left
    left=$(awk -v t="$T_PART" -v d="$1" -v now="$(date +%s.%N)" 'BEGIN { x = t + d - now; print (x > 0 ? x : 0) }')
    sleep "$left"
}

until_part 2 # past the 1 s coordinator timeout
for name in p q; do
    pop=$(url $name)
    [ "$(health "$pop" coordinator_up)" = false ] || fail "$name: coordinator_up is not false"
    hput "$pop/during-$name?urlencoded=true" x
    [ "$CODE" = 503 ] || fail "write through partitioned $name: $CODE"
    faster_than "$SECS" 500 || fail "write through partitioned $name took $SECS s to fail"
    wsecs=$SECS
    hget "$pop/never-written?urlencoded=true&cache_ttl=10"
    [ "$CODE" = 503 ] || fail "miss at partitioned $name: $CODE '$BODY'"
    faster_than "$SECS" 500 || fail "miss at partitioned $name took $SECS s to fail"
    pass "partitioned $name: coordinator_up false; write 503 in ${wsecs}s, miss 503 in ${SECS}s"
done

# pk rewritten through the REST API during the partition: new at o, old at p.
out=$(curl -s -D "$EDGEKV_HOME/hdr" -X PUT --data-binary during "$API/values/pk")
jq -e .success <<<"$out" >/dev/null || fail "REST put pk during the partition: $out"
PK_NEW=$(tr -d '\r' <"$EDGEKV_HOME/hdr" | sed -n 's/^X-Edgekv-Version: //Ip')
code=$(curl -s -o /dev/null -w '%{http_code}' "$O/_edgekv/wait?seq=$PK_NEW&timeout_ms=3000")
[ "$code" = 200 ] || fail "pk's new version $PK_NEW never reached o ($code)"
hget "$O/pk?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = during ] && [ "$VER" = "$PK_NEW" ] || fail "o: pk $CODE '$BODY' v$VER"
sleep 0.2 # more than p's 20 ms link: the change would have arrived were p connected
hget "$P/pk?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = before ] && [ "$VER" = "$PK_OLD" ] ||
    fail "partitioned p serves pk as $CODE '$BODY' v$VER (want 200 'before' v$PK_OLD)"
case $CACHE in HIT | STALE) ;; *) fail "partitioned p serves pk with CF-Cache-Status '$CACHE'" ;; esac
pass "pk rewritten (v$PK_OLD -> v$PK_NEW): o serves the new value, partitioned p the old one ($CACHE)"

until_part 12 # every copy q holds is past its 10 s cacheTtl
STALE_SEEN=0
hget "$Q/pk?urlencoded=true&cache_ttl=10"
[ "$CODE" = 200 ] && [ "$BODY" = before ] && [ "$VER" = "$PK_OLD" ] && [ "$CACHE" = STALE ] ||
    fail "partitioned q serves pk as $CODE '$BODY' v$VER $CACHE (want 200 'before' v$PK_OLD STALE)"
STALE_SEEN=$((STALE_SEEN + 1))
pass "partitioned q serves pk past its cacheTtl: old value, CF-Cache-Status STALE"

snapshot "$API/values" "" >"$EDGEKV_HOME/coord-mid.txt"
snapshot "$P" "?urlencoded=true" >"$EDGEKV_HOME/p-mid.txt"
snapshot "$Q" "?urlencoded=true&cache_ttl=10" >"$EDGEKV_HOME/q-mid.txt"
n=$(awk '$2 == 200' "$EDGEKV_HOME/p-mid.txt" | wc -l)
[ "$n" = "$NKEYS" ] || fail "partitioned p served $n of $NKEYS keys: $(awk '$2 != 200' "$EDGEKV_HOME/p-mid.txt" | head -3)"
older=$(join "$EDGEKV_HOME/p-mid.txt" "$EDGEKV_HOME/coord-mid.txt" | awk '$3 < $6' | wc -l)
[ "$older" -gt 0 ] || fail "partitioned p serves no key older than the coordinator after 12 s of writes"
n=$(awk '$2 == 200 && $4 == "STALE"' "$EDGEKV_HOME/q-mid.txt" | wc -l)
[ "$n" = "$NKEYS" ] ||
    fail "partitioned q served $n of $NKEYS keys as 200 STALE: $(awk '$2 != 200 || $4 != "STALE"' "$EDGEKV_HOME/q-mid.txt" | head -3)"
STALE_SEEN=$((STALE_SEEN + n))
qolder=$(join "$EDGEKV_HOME/q-mid.txt" "$EDGEKV_HOME/coord-mid.txt" | awk '$3 < $6' | wc -l)
pass "12 s into the partition p serves all $NKEYS keys ($older older than the coordinator)," \
    "q all $NKEYS as STALE ($qolder older)"

rc=0
"$EKV" verify --samples 1000 >"$EDGEKV_HOME/verify-mid.txt" 2>&1 || rc=$?
sed 's/^/    /' "$EDGEKV_HOME/verify-mid.txt"
[ "$rc" = 1 ] || fail "verify during the partition exited $rc (want 1)"
grep -Eq '^  p +push-all .*DIFFERS$' "$EDGEKV_HOME/verify-mid.txt" || fail "verify does not name p as different"
qdiff=$(sed -nE 's/^  q +ttl .* ([0-9]+) DIFFER$/\1/p' "$EDGEKV_HOME/verify-mid.txt")
[ "${qdiff:-0}" -ge 1 ] || fail "verify finds no difference at q"
pass "verify during the partition: exit 1, p DIFFERS, q $qdiff entries DIFFER"

# ---- heal, end of the load ----------------------------------------------------------------
finish_run "$OUT" 8
[ "$(health "$P" partitioned)" = false ] && [ "$(health "$Q" partitioned)" = false ] ||
    fail "p or q still partitioned after the run"

latest=$(curl -sf "$C/health" | jq -r .seq)
poll_applied "$P" "$latest" 300 0.05 && [ "$APPLIED" = "$latest" ] ||
    fail "p at seq $APPLIED of $latest 15 s after the load"
gaps=$(stat_of "$P" gaps)
catchups=$(stat_of "$P" catchups)
[ $((gaps + catchups)) -gt 0 ] || fail "p caught up without noticing a gap (gaps $gaps, catchups $catchups)"
pass "p caught up to seq $latest (gaps $gaps, catchups $catchups)"

# Every PoP against the coordinator: every key's status, version and value, and pk; sets WHY
# on the first difference. q may serve a copy fetched after the heal until its cacheTtl runs
# out (the ttl policy): a read with cacheTtl 1 s lowers every copy's life to 1 s, after which
# the next read fetches the current version from origin.
agree() {
    local name pop
    WHY=""
    snapshot "$Q" "?urlencoded=true&cache_ttl=1" >/dev/null
    hget "$Q/pk?urlencoded=true&cache_ttl=1"
    sleep 1.5
    snapshot "$API/values" "" | awk '{ print $1, $2, $3 }' >"$EDGEKV_HOME/coord-end.txt"
    values "$API/values" "" >"$EDGEKV_HOME/coord-values.txt"
    for name in w o p q; do
        pop=$(url $name)
        snapshot "$pop" "?urlencoded=true&cache_ttl=1" | awk '{ print $1, $2, $3 }' >"$EDGEKV_HOME/$name-end.txt"
        if ! diff -q "$EDGEKV_HOME/coord-end.txt" "$EDGEKV_HOME/$name-end.txt" >/dev/null; then
            WHY="$name (key code version; < coordinator, > $name): $(diff "$EDGEKV_HOME/coord-end.txt" "$EDGEKV_HOME/$name-end.txt" | head -6)"
            return 1
        fi
        values "$pop" "?urlencoded=true&cache_ttl=1" >"$EDGEKV_HOME/$name-values.txt"
        if ! diff -q "$EDGEKV_HOME/coord-values.txt" "$EDGEKV_HOME/$name-values.txt" >/dev/null; then
            WHY="$name serves other values than the coordinator"
            return 1
        fi
        hget "$pop/pk?urlencoded=true&cache_ttl=1"
        if ! [ "$CODE" = 200 ] || ! [ "$BODY" = during ] || ! [ "$VER" = "$PK_NEW" ]; then
            WHY="$name serves pk as $CODE '$BODY' v$VER (want 'during' v$PK_NEW)"
            return 1
        fi
    done
}
# A host starved of CPU for a second makes a PoP think the coordinator is gone (503) for a
# moment; a difference must persist over three rounds to count.
for attempt in 1 2 3; do
    agree && break
    echo "    round $attempt after the heal: $WHY"
    [ "$attempt" -lt 3 ] || fail "after the heal: $WHY"
    sleep 1
done
pass "after the heal every PoP serves all $((NKEYS + 1)) keys at the coordinator's version and" \
    "value (round $attempt)"

rc=0
"$EKV" verify --samples 1000 >"$EDGEKV_HOME/verify-end.txt" 2>&1 || rc=$?
sed 's/^/    /' "$EDGEKV_HOME/verify-end.txt"
[ "$rc" = 0 ] && grep -q 'every PoP agrees' "$EDGEKV_HOME/verify-end.txt" ||
    fail "verify after the heal exited $rc"
pass "verify after the heal: every PoP agrees with the coordinator"

# ---- what results.json reports --------------------------------------------------------------
RES="$OUT/results.json"
pop_field() { jq -r --arg n "$1" ".runs[0].pops[] | select(.name == \$n) | .$2" "$RES"; }
for name in w o p q; do
    echo "    $name: reads $(pop_field $name reads), stale $(pop_field $name stale_reads)" \
        "(ratio $(pop_field $name stale_ratio)), failed $(pop_field $name failed_reads)," \
        "stale age max $(pop_field $name stale_age_ms.max) ms"
done
jq -r '.runs[0].faults[] | "    fault \(.action) \(.pop) at \(.at_s) s: applied \(.applied), convergence \(.convergence_ms) ms"' "$RES"
writes=$(jq -r '.runs[0].writes' "$RES")
[ "$writes" -ge 550 ] || fail "only $writes writes acknowledged during the run (expected ~720)"
p_stale=$(pop_field p stale_reads)
q_stale=$(pop_field q stale_reads)
[ "$p_stale" -gt 0 ] && [ "$q_stale" -gt 0 ] || fail "results.json: stale reads p $p_stale, q $q_stale (want > 0)"
awk -v r="$(pop_field p stale_ratio)" 'BEGIN { exit !(r > 0.4) }' ||
    fail "results.json: p's stale ratio $(pop_field p stale_ratio) (want > 0.4)"
awk -v r="$(pop_field o stale_ratio)" 'BEGIN { exit !(r < 0.05) }' ||
    fail "results.json: connected o's stale ratio $(pop_field o stale_ratio) (want < 0.05)"
[ "$(pop_field p failed_reads)" = 0 ] || fail "results.json: $(pop_field p failed_reads) failed reads at p"
jq -e '[.runs[0].faults[] | select(.applied)] | length == 4' "$RES" >/dev/null ||
    fail "results.json: not every fault applied: $(jq -c .runs[0].faults "$RES")"
jq -e '[.runs[0].faults[] | select(.action == "heal")] | length == 2
       and all(.convergence_ms != null and .convergence_ms < 2000)' "$RES" >/dev/null ||
    fail "results.json: a heal did not converge within 2 s: $(jq -c .runs[0].faults "$RES")"
pass "results.json: $p_stale stale reads at p (ratio $(pop_field p stale_ratio)), $q_stale at q," \
    "o ratio $(pop_field o stale_ratio); heals converged in" \
    "$(jq -r '[.runs[0].faults[] | select(.action == "heal") | .convergence_ms] | join(" and ")' "$RES") ms"

# ---- the PoP's own counters -------------------------------------------------------------------
stale_hits=$(stat_of "$Q" stale_hits)
unavailable=$(stat_of "$Q" unavailable)
echo "    q /stats: stale_hits $stale_hits, unavailable $unavailable; STALE answers the test got: $STALE_SEEN"
[ "$stale_hits" -ge "$STALE_SEEN" ] ||
    fail "q's /stats counts $stale_hits stale_hits after serving at least $STALE_SEEN STALE" \
        "answers (unavailable: $unavailable)"
pass "q counted $stale_hits stale hits (>= the $STALE_SEEN STALE answers the test got)"

echo "$PASSED passed, 0 failed"
