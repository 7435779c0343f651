#!/usr/bin/env bash
# Theory scenarios: `edgekv run` measures what the link model and the policies predict.
# Three experiments, each with its own small topology (loopback, ephemeral ports) written to
# $EDGEKV_HOME, run end to end by `edgekv run`, then checked on results.json with jq and awk.
#
# a. push over constant links. PoPs near/mid/far with one-way delays 0, 20 and 60 ms, policy
#    push, Poisson writes and reads. Every change reaches every PoP after exactly its delay,
#    so each PoP's p50 and p99 visibility are within 2 ms of the configured delay, and no
#    change is ever visible earlier than that. time_scale 0.1 (the run is stretched ten times)
#    keeps the host's scheduling noise (a 2..7 ms tail on a busy machine, measured with a plain
#    nanosleep loop) below 1 simulated ms: at time_scale 1 the 2 ms bound is the host's p99
#    sleep overshoot, and the check would measure the machine, not the product.
# b. ttl with cacheTtl T = 30 s. Writer w (0 ms) and reader r (10 ms), 100 keys chosen
#    uniformly, Poisson writes and reads, time_scale 30 (a 1 s real cache life, 600 s
#    simulated = 20 s real). At r: (i) no read is staler than T plus the link round trip
#    (a copy is fetched one delay after the request and lives T from the reply's arrival, so
#    the newer version it misses was committed at most T + 2 delays before the read; the
#    slack is 5 ms of real time for scheduling); (ii) the stale ratio is within 5 percentage
#    points of the analytic P = r(T - (1 - e^{-wT})/w) / (1 + rT) (ekv_ttl_stale_ratio) with
#    per-key rates w = write_rate/keys and r = read_rate/keys per simulated second. The rates
#    (w = 1/30, r = 1/5 per key) put P at 0.315 and give ~12000 reads over ~2000 cache
#    lifetimes: the sampling deviation of the ratio is ~0.007 (Monte Carlo of the model).
# c. jittered links, push-all. Writer w (0 ms) and reader PoPs with delay 20 ms and jitter
#    uniform:40, so a change's transit is uniform on [20, 60] ms, and a read t ms after a
#    commit returns it with probability F(t) = clamp((t - 20) / 40, 0, 1). Every t-visibility
#    bin with n >= 50 must be within 0.03 of F at the bin's middle (t_ms is the bin's upper
#    edge). Three choices make that bound meaningful rather than a coin toss:
#    - Twelve identical reader PoPs r1..r12 instead of one. Each change draws ONE transit
#      per link, and every later read of that change shares it, so the curve's precision is
#      bounded by changes x links, not by reads: one reader at 2 writes/s would need ~2000 s
#      of simulated time for a 0.006 standard error. With identical links the pooled curve
#      (t_visibility is over all PoPs) is still the curve of that one link model.
#    - An idle PoP `far` with delay 640 ms. The runner sizes t-visibility bins as 2 x the
#      largest configured delay / 64 (jitter ignored): with w and r alone that is 0.625 ms
#      bins covering only 0..40 ms, half of the ramp, with a handful of reads each. 640 ms
#      gives 20 ms bins: [0,20) F=0, [20,40) F(30)=0.25, [40,60) F(50)=0.75, then F=1.
#    - time_scale 5 and 2 writes per simulated second, so a change rarely queues behind the
#      one before it on the in-order link. (Heartbeats travel the link too but at the base
#      delay, so they never hold a change back.)
#    What remains is one-sided: the PoPs' ~0.1 ms real apply lateness x time_scale, partly
#    offset by read latency, plus sampling noise. Measured max |p - F| on a busy 2-core host:
#    0.025, 0.011, 0.019 (before heartbeats stopped drawing jitter: 0.016..0.034).
#    The bound is kept at 0.03 as specified. A read that the host holds up for milliseconds
#    counts from its sending, so a stalled host puts fresh answers in bins before 20 ms
#    (seen in CI: p = 0.041 and 0.034 in [0, 20) while the writer's own 0 ms PoP had a p99 of
#    55 and 40 simulated ms). A failure on such a run (w's p99 over 20 simulated ms) is run
#    once more.
# Usage: bash theory_test.sh BIN_DIR SRC_DIR. Every daemon is started and stopped by
# `edgekv run`; if the script is interrupted, the cleanup stops the run by its pid and any
# daemon a state file still records, by pid. Whole script: about 2.5 minutes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/scenario_lib.sh" "$1" "$2"

# ---- a. push over constant links ------------------------------------------------------------

scenario_push() {
    local topo="$EDGEKV_HOME/push-topology.yaml" exp="$EDGEKV_HOME/push.yaml"
    local out="$EDGEKV_HOME/out-push" res
    ekv_topology "$topo" near:0 mid:20:Madrid "far:60:New York"
    cat >"$exp" <<'EOF'
name: theory-push
duration_s: 3          # 30 s real at time_scale 0.1
time_scale: 0.1
seed: 11
workload:
  keys: 50
  distribution: uniform
  write_rate: 100      # per simulated second: ~300 changes
  writers: [near]
  read_rate: 100
  readers: all
policies: [push]
EOF
    run_experiment "$exp" "$topo" "$out" 20
    res="$out/results.json"
    local writes
    writes=$(jq -r '.runs[0].writes' "$res")
    [ "$writes" -ge 200 ] || fail "push: only $writes writes were acknowledged (expected ~300)"
    [ "$(jq -r '.runs[0].policy' "$res")" = push ] || fail "push: the run's policy is not push"
    # name configured p50 p99 min changes_seen
    while read -r name conf p50 p99 min seen; do
        [ "$seen" -eq "$writes" ] ||
            fail "push: $name saw $seen of $writes changes"
        calc -v c="$conf" -v a="$p50" -v b="$p99" -v m="$min" \
            'BEGIN { d1 = a - c; d2 = b - c; if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2;
                     exit !(d1 <= 2 && d2 <= 2 && m >= c - 0.01) }' ||
            fail "push: $name configured $conf ms: p50 $p50, p99 $p99, min $min (want p50 and" \
                "p99 within 2 ms of it, none earlier)"
        pass "push: $name delay $conf ms: $(calc -v a="$p50" -v b="$p99" -v m="$min" \
            'BEGIN { printf "p50 %.3f ms, p99 %.3f ms, min %.3f ms", a, b, m }'), $seen changes"
    done < <(jq -r '.runs[0].pops[] | [.name, .configured_ms, .visibility_ms.p50,
        .visibility_ms.p99, .visibility_cdf_ms[0], .changes_seen] | map(tostring) | join(" ")' \
        "$res")
}

# ---- b. ttl: stale ratio and staleness bound ------------------------------------------------

scenario_ttl() {
    local topo="$EDGEKV_HOME/ttl-topology.yaml" exp="$EDGEKV_HOME/ttl.yaml"
    local out="$EDGEKV_HOME/out-ttl" res
    local keys=100 write_rate=3.3333333 read_rate=20 ttl=30 delay=10 scale=30
    ekv_topology "$topo" policy=ttl min_cache_ttl=30 w:0 "r:$delay:Paris"
    cat >"$exp" <<EOF
name: theory-ttl
duration_s: 600        # 20 s real at time_scale $scale
time_scale: $scale
seed: 23
workload:
  keys: $keys
  distribution: uniform
  write_rate: $write_rate  # per simulated second, all keys: 1/30 per key
  writers: [w]
  read_rate: $read_rate     # per simulated second at r: 1/5 per key
  readers: [r]
  cache_ttl: $ttl
policies: [ttl]
EOF
    run_experiment "$exp" "$topo" "$out" 20
    res="$out/results.json"
    local reads stale failed ratio age_max
    read -r reads stale failed ratio age_max < <(jq -r '.runs[0].pops[] | select(.name == "r") |
        "\(.reads) \(.stale_reads) \(.failed_reads) \(.stale_ratio) \(.stale_age_ms.max)"' "$res")
    [ -n "${reads:-}" ] || fail "ttl: results.json has no PoP r"
    [ "$reads" -ge 9000 ] || fail "ttl: only $reads reads at r (expected ~12000)"
    [ "$failed" -eq 0 ] || fail "ttl: $failed reads failed at r"
    local bound
    bound=$(calc -v t="$ttl" -v d="$delay" -v s="$scale" 'BEGIN { print t * 1000 + 2 * d + 5 * s }')
    holds "$age_max" "$bound" 'a <= b' ||
        fail "ttl: a read at r was $age_max ms stale, beyond cacheTtl + round trip ($bound ms)"
    # The bound must bind: with ~2000 lifetimes some stale read comes close to T.
    holds "$age_max" "$ttl" 'a >= b * 1000 * 0.9' ||
        fail "ttl: the stalest read at r was only $age_max ms old (expected close to ${ttl} s)"
    pass "ttl: stalest read at r $(calc -v a="$age_max" 'BEGIN { printf "%.1f", a }') ms <=" \
        "$bound ms (cacheTtl ${ttl} s + 2 x $delay ms + 5 real ms)"
    local expect
    expect=$(calc -v W="$write_rate" -v R="$read_rate" -v K="$keys" -v T="$ttl" \
        'BEGIN { w = W / K; r = R / K; printf "%.4f", r * (T - (1 - exp(-w * T)) / w) / (1 + r * T) }')
    holds "$ratio" "$expect" 'a - b <= 0.05 && b - a <= 0.05' ||
        fail "ttl: stale ratio at r $ratio ($stale of $reads), analytic $expect: off by more" \
            "than 5 points"
    pass "ttl: stale ratio at r $(calc -v m="$ratio" 'BEGIN { printf "%.4f", m }') ($stale of" \
        "$reads reads), analytic $expect"
}

# ---- c. jittered links: the t-visibility curve is the transit CDF ---------------------------

scenario_jitter() {
    local topo="$EDGEKV_HOME/jitter-topology.yaml" exp="$EDGEKV_HOME/jitter.yaml"
    local out="$EDGEKV_HOME/out-jitter" res i readers=""
    local pops=(w:0 far:640:Sydney)
    for i in $(seq 1 12); do
        pops+=("r$i:20:Madrid,jitter: \"uniform:40\"")
    done
    ekv_topology "$topo" policy=push-all "${pops[@]}"
    readers=$(seq -s ', ' -f 'r%g' 1 12)
    cat >"$exp" <<EOF
name: theory-jitter
duration_s: 350        # 70 s real at time_scale 5
time_scale: 5
seed: 37
workload:
  keys: 1              # every read follows the latest change
  write_rate: 2        # per simulated second: head-of-line blocking stays rare
  writers: [w]
  read_rate: 50        # per simulated second at each reader
  readers: [$readers]
  cache_ttl: 30
policies: [push-all]
EOF
    local attempt verdict stall
    for attempt in 1 2; do
        rm -rf "$out"
        run_experiment "$exp" "$topo" "$out" 20
        res="$out/results.json"
        jitter_check "$res"
        case $verdict in OK*) break ;; esac
        # A read's t counts from the moment it was sent, so reads that the host holds up
        # for milliseconds (x time_scale) land in earlier bins with the change already
        # there. The writer's own PoP, on a 0 ms link, shows such a stall directly: its p99
        # is 4-10 simulated ms on a quiet or busy host, 40-55 in the CI runs that failed.
        # Only then, and once, is the run repeated; a second failure, or one on a host that
        # did not stall, fails.
        stall=$(jq -r '.runs[0].pops[] | select(.name == "w") | .visibility_ms.p99' "$res")
        calc -v s="$stall" 'BEGIN { exit !(s > 20) }' && [ "$attempt" = 1 ] || break
        echo "note: jitter: $verdict; the host stalled during the run (w, on a 0 ms link," \
            "p99 $stall simulated ms): running it once more"
    done
    pass "jitter: no reader saw a change earlier than 20 ms after its commit"
    case $verdict in
    OK*) ;;
    *) fail "jitter: t-visibility vs uniform CDF on [20, 60] ms: $verdict" ;;
    esac
    read -r _ worst at checked width rest <<<"$verdict"
    pass "jitter: max |p - F| = $worst (at $at ms) over $checked bins of $width ms;$rest"
}

# Sets verdict: "OK|FAIL worst at checked width detail" for the t-visibility curve of $1
# against the uniform CDF, after checking no change came before the 20 ms minimum.
jitter_check() {
    local res=$1
    # No change reaches a reader before the link's 20 ms minimum (jitter only adds delay).
    local name min bad=""
    while read -r name min; do
        calc -v m="$min" 'BEGIN { exit !(m >= 19.99) }' || bad="$bad $name(min $min ms)"
    done < <(jq -r '.runs[0].pops[] | select(.name | startswith("r")) |
        "\(.name) \(.visibility_cdf_ms[0])"' "$res")
    [ -z "$bad" ] || fail "jitter: changes visible before the 20 ms link minimum at:$bad"
    # The bins: t_ms (upper edge), p, n. The width is the first bin's edge when it has reads;
    # the smallest gap between edges covers an empty first bin.
    jq -r '.runs[0].t_visibility[] | "\(.t_ms) \(.p) \(.n)"' "$res" >"$out/tvis.txt"
    verdict=$(awk '
        { t[NR] = $1; p[NR] = $2; n[NR] = $3 }
        END {
            if (NR == 0) { print "FAIL no t-visibility bins"; exit }
            width = t[1]
            for (i = 2; i <= NR; i++) if (t[i] - t[i - 1] < width) width = t[i] - t[i - 1]
            worst = 0; ramp = 0; checked = 0; detail = ""
            for (i = 1; i <= NR; i++) {
                if (n[i] < 50) continue
                mid = t[i] - width / 2
                F = (mid - 20) / 40; if (F < 0) F = 0; if (F > 1) F = 1
                d = p[i] - F; if (d < 0) d = -d
                if (d > worst) { worst = d; at = mid }
                checked++
                if (mid > 20 && mid < 60) {
                    ramp++
                    detail = detail sprintf(" [%g,%g) p=%.4f F=%.3f n=%d;", t[i] - width, t[i],
                                            p[i], F, n[i])
                }
            }
            if (ramp < 2) { printf "FAIL only %d bins with n >= 50 on the ramp (width %g ms)\n",
                            ramp, width; exit }
            printf "%s %.4f %g %d %g%s\n", worst <= 0.03 ? "OK" : "FAIL", worst, at, checked,
                   width, detail
        }' "$out/tvis.txt")
}

scenario_push
scenario_ttl
scenario_jitter
echo "$PASSED passed, 0 failed"
