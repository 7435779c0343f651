#!/usr/bin/env bash
# Theory scenarios of the kv world (issue 25 item 7; docs/consistency.md, "What a reader sees:
# the t-visibility of a cached key"): `edgekv run` measures the t-visibility curve that the
# renewal model of sim/analysis.h (ekv_kv_fresh_at, evaluated by kv_predict) predicts for
# Poisson reads through a PoP cache and a regional tier cache.
#
# The world: a writer PoP w, twelve identical reader PoPs r1..r12 and one tier t1, all in
# Frankfurt with the coordinator (every link 0 ms), plus an idle PoP `far` (see below).
# 100 keys read uniformly: each reader reads each key as a Poisson process of rate
# r = 10/100 = 0.1 per simulated second; w writes each key as a Poisson process of rate
# w = 3.33/100 = 1/30 per second (write_rate_limit off: 1/30 per key would meet the binding's
# 1 write/s limit now and then). PoP cacheTtl T = 30 s, tier cacheTtl T2 = 10 s.
#
# d. refresh-ahead off. A PoP's copy lives T from its fetch; the tier's lives T2, and the tier
#    refreshes ahead as shipped (2 hits, 0.8 of T2: the topology cannot turn a tier's
#    refresh-ahead off, so the model includes it). The PoPs run `ttl`, which is `kv` without
#    refresh-ahead for single-key reads (node.c: refresh_ahead() is the only read-path
#    difference; lists are not read here): the topology cannot set --refresh-hot-reads, and
#    a `kv` PoP always refreshes hot keys.
# e. refresh-ahead on: the PoPs run `kv` as shipped (--refresh-hot-reads 2, --refresh-late 0.8).
#
# In both, every t-visibility bin with enough reads must be within 0.03 of P(fresh at t) at
# the bin's middle (t_ms is the bin's upper edge), and the figures that refresh-ahead moves
# (PoP misses, tier reads, stale ratio) must match the model and move in its direction.
#
# Why the model is exact enough: a read's data is as old as the PoP copy's age plus the tier
# copy's age when the PoP fetched it; the model takes the two as independent and the tier's
# requests (the twelve PoPs' fetches, each a renewal process of period T + 1/r) as Poisson.
# unit.analysis_kv simulates the mechanism and finds the curve within 0.005 (Monte Carlo of
# 1.5 M reads: within 0.001 at every t, with and without refresh-ahead at the PoPs); with
# T >= T2 a PoP's own previous fetch never holds the tier's copy, which keeps the twelve
# streams nearly independent. Bin middle against bin average: the curve is piecewise smooth
# with kinks of slope below 0.03/s, so within a 1.25 s bin the difference is < 0.001.
#
# Choices that make the 0.03 bound test the product and not the machine or the dice:
# - Bins. The runner sizes t-visibility bins as (largest configured delay + cacheTtl) / 64:
#   with T alone 0.47 s bins covering only [0, 30 s], three quarters of the curve, which goes
#   on to T + T2 = 40 s. The idle PoP `far` (delay 50 s, no reads, no writes) makes them
#   (50 + 30) / 64 = 1.25 s, covering [0, 80 s]: the whole curve in 32 bins, then 32 bins
#   where every read must be fresh.
# - Reads. The run has ~540 000 reads (d) and ~360 000 (e). Reads t after the last write fall
#   in a bin with density w e^{-wt}, so the bins on the curve hold from ~20 000 reads (t ~ 0)
#   to ~5 000 (t ~ 40 s) in d. A bin is checked when it has n >= NMIN reads (4000 in d, 2500
#   in e), and its fraction then has sd = sqrt(P(1 - P)/n) (binomial): at most 0.0048 where
#   P ~ 0.5 (n ~ 11 000) and 0.0024 where P >= 0.97 (n ~ 5 000) in d (the runs print the
#   largest: 0.0045 in d, 0.0056 in e); reads sharing a write and the tier's copy make the
#   true spread ~1.3 times that (Monte Carlo of this workload: over 10 seeds the worst bin was
#   off by 0.008..0.015, z <= 3.5). So 0.03 is >= 4.5 sd at every checked bin of d and
#   >= 3.8 sd in e, where bins hold ~2/3 as many reads. Every bin on the curve must be checked.
# - time_scale 30: a 30 s cacheTtl is 1 s real, T2 333 ms, a bin 42 ms. The host's scheduling
#   noise (a few real ms; a stalled read counts from its sending) shifts a read's t by
#   < 5 ms x 30 = 0.15 s, and the curve's slope is at most 0.03/s: < 0.005. Reads are
#   ~3600/s real over 14 PoPs, as many as scenario.theory's case c.
# - Sensitivity: T wrong by 20% in the prediction moves the curve by up to 0.13. Checked on
#   one measured run: with 24 s or 36 s the worst bin was off by 0.129 and 0.115 (fail), with
#   30 s by 0.008. Measured on a 2-core host (once while it compiled): worst bin 0.005 and
#   0.008 in d, 0.016 in e; d takes ~2.7 minutes with start and stop, e ~2.
# Usage: bash theory_kv_test.sh BIN_DIR SRC_DIR KV_PREDICT (kv_predict.c, built by the test's
# cmake file). Every daemon is started and stopped by `edgekv run`; if the script is
# interrupted, the cleanup stops the run by its pid and any daemon a state file still records,
# by pid. Whole script: about 4.5 minutes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/scenario_lib.sh" "$1" "$2"
PREDICT=$3

KEYS=100 READ_RATE=10 WRITE_RATE=3.3333333 TTL=30 TIER_TTL=10 SCALE=30 FAR_MS=50000
R=$(calc -v a=$READ_RATE -v k=$KEYS 'BEGIN { print a / k }')
W=$(calc -v a=$WRITE_RATE -v k=$KEYS 'BEGIN { print a / k }')
READERS=12

# kv_predict for PoP refresh-ahead $1 (0 = off, else the shipped 2 hits at 0.8), the tier's
# always as shipped; times on stdin.
predict() {
    "$PREDICT" "$R" "$TTL" "$1" 0.8 "$READERS" "$TIER_TTL" 2 0.8 "$W"
}

# Runs the world under policy $1 for $2 simulated seconds (seed $3) into $EDGEKV_HOME/out-$1.
run_world() {
    local policy=$1 duration=$2 seed=$3 i readers
    local topo="$EDGEKV_HOME/kv-topology.yaml" exp="$EDGEKV_HOME/kv-$policy.yaml"
    local pops=(w:0)
    for i in $(seq 1 $READERS); do
        pops+=("r$i:0")
    done
    pops+=("far:$FAR_MS:Sydney")
    ekv_topology "$topo" policy="$policy" write_rate_limit=0 tier_cache_ttl=$TIER_TTL \
        tier=t1:Frankfurt "${pops[@]}"
    readers=$(seq -s ', ' -f 'r%g' 1 $READERS)
    cat >"$exp" <<EOF
name: theory-kv-$policy
duration_s: $duration
time_scale: $SCALE
seed: $seed
workload:
  keys: $KEYS
  distribution: uniform
  write_rate: $WRITE_RATE  # per simulated second at w, all keys: 1/30 per key
  writers: [w]
  read_rate: $READ_RATE        # per simulated second at each reader: 0.1 per key
  readers: [$readers]
  cache_ttl: $TTL
policies: [$policy]
EOF
    run_experiment "$exp" "$topo" "$EDGEKV_HOME/out-$policy"
}

# Checks the t-visibility bins of run $1 (policy) against the model with PoP refresh $2, bins
# with at least $3 reads; sets FIGS to "stale_ratio misses_share tier_reads_per_key_s" and
# P_AT to the measured "p@t" of a few bins.
check_curve() {
    local policy=$1 refresh=$2 nmin=$3
    local dir="$EDGEKV_HOME/out-$policy" width
    local res="$dir/results.json"
    # A read counts from its sending but learns the key when it is served: the bound assumes
    # the host answers within a few real ms on average (a mean of 5 ms real is 0.15 s here,
    # 0.005 on the curve at its steepest). p99 was 3 ms on a busy 2-core host, 34 ms on a
    # busier one (the curve is checked all the same); under a sanitizer build reads queue for
    # hundreds of ms and come back fresher. A failure on such a host says so.
    local lat
    lat=$(awk -F, 'NR > 1 && $5 == 1 { print ($4 - $3) / 1000 }' "$dir/$policy-reads.csv" |
        sort -n | awk '{ v[NR] = $1; s += $1 }
                       END { i = int(NR * 0.99); printf "mean %.2f p99 %.2f", s / NR, v[i] }')
    jq -r '.runs[0].t_visibility[] | "\(.t_ms) \(.p) \(.n)"' "$res" >"$dir/tvis.txt"
    [ -s "$dir/tvis.txt" ] || fail "$policy: results.json has no t-visibility bins"
    # (FAR_MS + TTL) / 64 today; read from the edges (t_ms is each bin's upper edge)
    width=$(awk 'NR == 1 || $1 - e < w { w = NR == 1 ? $1 : $1 - e } { e = $1 } END { print w }' \
        "$dir/tvis.txt")
    # the model at each bin's middle, in seconds
    awk -v w="$width" '{ print ($1 - w / 2) / 1000 }' "$dir/tvis.txt" |
        predict "$refresh" >"$dir/model.txt"
    local verdict
    verdict=$(awk -v nmin="$nmin" -v width="$width" -v end=$((TTL + TIER_TTL)) '
        NR == FNR { if (FNR > 1) P[FNR - 1] = $2; next }
        {
            t = $1; p = $2; n = $3; i = FNR; mid = (t - width / 2) / 1000
            if (n < nmin) { if (mid < end) missed = missed sprintf(" %.2fs(n=%d)", mid, n); next }
            d = p - P[i]; if (d < 0) d = -d
            sd = sqrt(P[i] * (1 - P[i]) / n); if (sd > sdmax) sdmax = sd
            if (d > worst) { worst = d; at = mid; wp = p; wP = P[i]; wn = n }
            checked++
            if (mid < end) ramp++
        }
        END {
            if (missed != "") { printf "FAIL bins on the curve with fewer than %d reads:%s\n",
                                nmin, missed; exit }
            printf "%s %.4f %.2f %.4f %.4f %d %d %d %.4f\n", worst <= 0.03 ? "OK" : "FAIL",
                   worst, at, wp, wP, wn, checked, ramp, sdmax
        }' "$dir/model.txt" "$dir/tvis.txt")
    case $verdict in
    OK*) ;;
    *)
        awk 'NR == FNR { if (FNR > 1) P[FNR - 1] = $2; next }
             $3 > 0 { printf "    t <= %6.0f ms  n %6d  measured %.4f  model %.4f\n", $1, $3,
                      $2, P[FNR] }' "$dir/model.txt" "$dir/tvis.txt" | head -40
        local mean=${lat#mean }
        calc -v m="${mean%% *}" 'BEGIN { exit !(m > 5) }' &&
            fail "$policy: t-visibility vs the model: $verdict; the host answered reads too" \
                "slowly for this scenario (real ms: $lat; want a mean <= 5)"
        fail "$policy: t-visibility vs the model: $verdict (read latency, real ms: $lat)" ;;
    esac
    local _ worst at wp wP wn checked ramp sdmax
    read -r _ worst at wp wP wn checked ramp sdmax <<<"$verdict"
    pass "$policy: max |p - P| = $worst (at t = $at s: measured $wp, model $wP, n $wn)" \
        "over $checked bins of $width ms, $ramp of them on the curve; largest sd $sdmax;" \
        "read latency (real ms) $lat"
    # the figures refresh-ahead moves, over the readers
    FIGS=$(jq -r --argjson d "$4" --argjson k $KEYS '.runs[0] as $r |
        [$r.pops[] | select(.name | test("^r[0-9]+$"))] as $p |
        "\($r.stale_ratio) \(([$p[].misses] | add) / ([$p[].reads] | add)) \(([$p[].origin_reads]
        | add) / ($p | length) / $k / $d)"' "$res")
    P_AT=$(awk -v w="$width" '$3 > 0 && (NR == 1 || NR == 9 || NR == 17 || NR == 25) {
        printf "%s%.3f@%.1fs", (n++ ? " " : ""), $2, ($1 - w / 2) / 1000 }' "$dir/tvis.txt")
}

# Figures of run $1 against the model's: stale ratio within 0.015, misses share within 0.02,
# tier reads within 5%. The stale ratio's sd is ~0.0025 (its reads share write gaps), and reads
# in the run's first minute count only when a write preceded them, which favours stale ones:
# +0.004 in d, +0.006 in e (Monte Carlo of this workload).
check_figures() {
    local policy=$1 refresh=$2 stale miss tier model
    read -r stale miss tier <<<"$FIGS"
    model=$(predict "$refresh" </dev/null | head -1)
    local _ cycle pmiss mstale
    read -r _ cycle pmiss _ _ _ mstale <<<"$model"
    local ptier
    ptier=$(calc -v c="$cycle" 'BEGIN { print 1 / c }')
    holds "$stale" "$mstale" 'a - b <= 0.015 && a - b >= -0.015' ||
        fail "$policy: stale ratio $stale, model $mstale"
    holds "$miss" "$pmiss" 'a - b <= 0.02 && a - b >= -0.02' ||
        fail "$policy: share of reads that missed at the PoPs $miss, model $pmiss"
    holds "$tier" "$ptier" 'a <= b * 1.05 && a >= b * 0.95' ||
        fail "$policy: tier reads per PoP per key per second $tier, model $ptier"
    pass "$policy: stale ratio $(printf %.4f "$stale") (model $(printf %.4f "$mstale")), PoP" \
        "misses $(printf %.4f "$miss") of reads ($(printf %.4f "$pmiss")), tier reads" \
        "$(printf %.5f "$tier")/PoP/key/s ($(printf %.5f "$ptier")); P(fresh) $P_AT"
}

# ---- d. refresh-ahead off: the curve -----------------------------------------------------
D_OFF=4500 # simulated seconds: 150 s real at time_scale 30
run_world ttl $D_OFF 41
check_curve ttl 0 4000 $D_OFF
check_figures ttl 0
OFF_FIGS=$FIGS

# ---- e. refresh-ahead on: what it changes --------------------------------------------------
D_ON=3000 # 100 s real
run_world kv $D_ON 43
check_curve kv 2 2500 $D_ON
check_figures kv 2
ON_FIGS=$FIGS

# Refresh-ahead's direction, with magnitudes the model sets (docs/consistency.md): the PoPs
# miss a third less (0.250 -> 0.168 of reads), fetch from the tier 16% more often (every
# hot copy is replaced ~0.2 T early), and serve more stale reads (0.363 -> 0.383 at these
# rates: the late read that triggers a refresh, and the copies after it, no longer get a
# fresh miss). The bounds are half the predicted change of misses and tier reads and a quarter
# of the stale ratio's, beyond sampling (the sd of the changes: ~0.002, ~0.5%, ~0.004; Monte
# Carlo of this workload over 6 seeds: stale ratio up by 0.019..0.025).
read -r s0 m0 t0 <<<"$OFF_FIGS"
read -r s1 m1 t1 <<<"$ON_FIGS"
holds "$m0" "$m1" 'b < a - 0.04' ||
    fail "refresh-ahead: PoP misses $m0 -> $m1 (want down by more than 0.04; model 0.082)"
holds "$t0" "$t1" 'b > a * 1.08' ||
    fail "refresh-ahead: tier reads $t0 -> $t1 (want up by more than 8%; model 16%)"
holds "$s0" "$s1" 'b > a + 0.005' ||
    fail "refresh-ahead: stale ratio $s0 -> $s1 (want up by more than 0.005; model 0.021)"
pass "refresh-ahead: PoP misses $(printf %.3f "$m0") -> $(printf %.3f "$m1"), tier reads" \
    "x$(calc -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b / a }'), stale ratio" \
    "$(printf %.4f "$s0") -> $(printf %.4f "$s1")"
echo "$PASSED passed, 0 failed"
