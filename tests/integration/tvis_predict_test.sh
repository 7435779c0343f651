#!/usr/bin/env bash
# The predicted t-visibility against a run (issue 27): `edgekv run` writes, beside each run's
# observed t_visibility, the model's tvis_predicted at the same bins (sim/analysis.h,
# ekv_tvis_predict), and the two agree where the bins hold enough reads.
#
# Two short runs on four PoPs, writer w at 0 ms, ten keys written 5 times a second each and
# read 10 times a second each at every PoP (time_scale 2, 24 simulated seconds, ~10,000 reads):
#   push  over links of 100, 200 and 300 ms: the curve steps at each delay, read-weighted;
#   ttl   with cacheTtl 2 s (min_cache_ttl 1) over links of 5, 10 and 20 ms; w holds its own
#         writes (read-your-writes), the others serve copies up to 2 s old.
# The ttl links are short on purpose: a read that waits for a fetch holds one of the load
# generator's eight connections to its PoP, so long round trips queue reads behind it, and a
# queued read counts from when it was due, not from when it reached the PoP.
# Check, over the bins with n >= 200: each is within 0.02 plus four standard errors of a share
# of n reads at the predicted p (0.16 at n = 200 and p = 0.5; a fixed bound of three errors
# failed one run in a few on 18 bins), and the mean difference is within 0.04. Measured on a
# busy 2-core host: push largest 0.055 to 0.106, mean 0.022 to 0.027, over 18 such bins; ttl
# largest 0.035 to 0.051, mean 0.020, over 13.
# Usage: bash tvis_predict_test.sh BIN_DIR SRC_DIR. About 30 s.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh" "$1" "$2"

# experiment FILE POLICY: the workload of both runs under POLICY.
experiment() {
    cat >"$1" <<EOF
name: tvis-predict-$2
duration_s: 24
time_scale: 2
seed: 7
workload:
  keys: 10
  distribution: uniform
  write_rate: 50
  writers: [w]
  read_rate: 100
  readers: all
  cache_ttl: 2
policies: [$2]
EOF
}

# agree OUT POLICY: the run's prediction is there and agrees with what it measured.
agree() {
    local res="$1/results.json" verdict
    [ "$(jq '.runs[0].tvis_predicted | length' "$res")" -gt 0 ] ||
        fail "$2: no tvis_predicted ($(jq -c '.runs[0].tvis_predicted_note' "$res"))"
    # pairs the observed and predicted bins by t_ms; over the bins with n >= 200 prints
    # "bins max mean worst": worst is the largest |observed - predicted| less 0.02 in
    # standard errors of a share of n reads at the predicted p (p (1 - p) at least 0.01)
    verdict=$(jq -r '.runs[0] | (.tvis_predicted | map({key: (.t_ms | tostring), value: .p})
                                 | from_entries) as $pred
        | [.t_visibility[] | select(.n >= 200) | $pred[.t_ms | tostring] as $q
           | ((.p - $q) | fabs) as $d
           | [$d, (($d - 0.02) / (([$q * (1 - $q), 0.01] | max) / .n | sqrt))]]
        | "\(length) \(map(.[0]) | max // 0) \(if length > 0 then map(.[0]) | add / length
           else 0 end) \(map(.[1]) | max // 0)"' "$res")
    read -r bins max mean worst <<<"$verdict"
    echo "  $2: $bins bins with n >= 200, |observed - predicted| largest $max, mean $mean;" \
        "largest excess over 0.02 in standard errors: $worst"
    [ "$bins" -ge 8 ] || fail "$2: only $bins bins hold 200 reads"
    awk -v w="$worst" -v a="$mean" 'BEGIN { exit !(w <= 4 && a <= 0.04) }' ||
        fail "$2: the prediction is off (mean $mean, a bin $worst standard errors out)"
    pass "$2: predicted and observed t-visibility agree"
}

run() { # run POLICY TOPOLOGY
    local out="$EDGEKV_HOME/out-$1"
    experiment "$EDGEKV_HOME/$1.yaml" "$1"
    "$EKV" run "$EDGEKV_HOME/$1.yaml" --topology "$2" --out "$out" >"$out.log" 2>&1 &
    RUN_PID=$!
    local rc=0
    wait "$RUN_PID" || rc=$?
    RUN_PID=""
    { [ "$rc" = 0 ] && [ -f "$out/results.json" ]; } ||
        fail "edgekv run $1 (exit $rc): $(tail "$out.log")"
    agree "$out" "$1"
}

ekv_topology "$EDGEKV_HOME/push.yaml.topo" time_scale=2 min_cache_ttl=1 w:0 a:100:Madrid \
    b:200:Rome "c:300:New York"
ekv_topology "$EDGEKV_HOME/ttl.yaml.topo" time_scale=2 min_cache_ttl=1 w:0 a:5:Madrid \
    b:10:Rome "c:20:New York"
run push "$EDGEKV_HOME/push.yaml.topo"
run ttl "$EDGEKV_HOME/ttl.yaml.topo"
echo "$PASSED passed, 0 failed"
