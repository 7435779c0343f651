# shellcheck shell=bash
# For the benchmarks that also measure the PUB over epgm (fanout, redis): multicast needs a
# network namespace of its own (`unshare -n`, root), where `edgekv up` turns multicast on at
# lo. Source it before lib.sh (which makes the work folder the run in the namespace uses).
#   bench_epgm_netns "TRANSPORTS" TARGET... -- ARG...
# When TRANSPORTS names epgm and this is not yet the namespace's run: installs and builds the
# targets here (scripts/setup, unless EDGEKV_BENCH_SETUP=0, may need the network the
# namespace lacks), then runs the benchmark ($0 ARG...) again inside a new namespace in its
# place. In the namespace's run it brings lo up.
bench_epgm_netns() {
    local transports=$1 targets=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        targets+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    if [[ " $transports " == *" epgm "* ]] && [ -z "${EKV_BENCH_NETNS:-}" ]; then
        [ "${EDGEKV_BENCH_SETUP:-1}" = 0 ] || scripts/setup
        cmake -S . -B "${EDGEKV_BENCH_BUILD:-build}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "${EDGEKV_BENCH_BUILD:-build}" -j"$(nproc)" --target "${targets[@]}" \
            >/dev/null
        EKV_BENCH_NETNS=1 exec unshare -n "$0" "$@"
    fi
    if [ -n "${EKV_BENCH_NETNS:-}" ]; then
        ip link set lo up
    fi
}
