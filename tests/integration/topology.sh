# shellcheck shell=bash
# ekv_topology: writes the small topologies the tests and benchmarks start (docs/topology.md),
# so the same coordinator block is not pasted into every script. Defines functions only, no
# side effects: tests get it through lib.sh, scripts/bench/lib.sh sources it directly.
#
# ekv_topology FILE [SETTING...] [POP...]
#   The coordinator sits in Frankfurt on 127.0.0.1 with ephemeral ports; the defaults are
#   policy push and ephemeral PoP ports (http_port_base 0); everything else is the loader's.
#   coordinator.KEY=VALUE   a coordinator field: coordinator.heartbeat_ms=1000
#   KEY=VALUE               a defaults field: policy=push-all, time_scale=10, pin_cpus=false
#   pops=N                  N PoPs p000, p001, ... in Frankfurt at delay_ms 0
#   NAME:DELAY_MS[:CITY][,FIELDS]
#                           one PoP at a one-way delay of DELAY_MS, in CITY (default
#                           Frankfurt; lat and lon filled in for the cities of ekv_city), with
#                           FIELDS added as YAML: 'q:10:Rome,policy: ttl'; a DELAY_MS of - sets
#                           none (the delay follows the distance, and so does the nearest tier)
#   tier=NAME:CITY[,FIELDS] one regional tier in CITY: 'tier=ams:Amsterdam,cache_ttl: 120'
#   host=NAME:ADDRESS[:SKEW] one entry of `hosts:` (clock_skew_ms SKEW); the coordinator then
#                           runs on the first unless coordinator.host=NAME, and a PoP or tier
#                           elsewhere with FIELDS 'host: NAME': 'a:10,host: h2'
# A PoP spelled wrong, or a value the loader refuses, fails later at `edgekv up` with the
# file's line; an argument that is neither form fails here (return 2).

# ekv_city CITY -> "LAT LON" of the cities the test topologies use; nothing for others.
ekv_city() {
    case "$1" in
    Frankfurt) echo "50.11 8.68" ;;
    Amsterdam) echo "52.37 4.90" ;;
    Paris) echo "48.86 2.35" ;;
    Madrid) echo "40.42 -3.70" ;;
    Rome) echo "41.90 12.50" ;;
    "New York") echo "40.71 -74.01" ;;
    Boston) echo "42.36 -71.06" ;;
    Sydney) echo "-33.87 151.21" ;;
    esac
}

# _ekv_topo_pop NAME DELAY CITY [FIELDS]: one line of the pops list.
_ekv_topo_pop() {
    local ll lat lon where=""
    ll=$(ekv_city "$3")
    if [ -n "$ll" ]; then
        read -r lat lon <<<"$ll"
        where=", lat: $lat, lon: $lon"
    fi
    local delay=", delay_ms: $2"
    [ "$2" = - ] && delay=""
    echo "  - {name: $1, city: $3$where$delay${4:+, $4}}"
}

ekv_topology() {
    local file=$1 arg key i head fields name delay city rest
    shift
    local coord=() defaults=() pops=() tiers=() hosts=() have_policy="" have_base=""
    local own_host="" skew
    for arg in "$@"; do
        if [[ $arg =~ ^host=([a-z0-9-]+):([0-9.]+)(:(-?[0-9.]+))?$ ]]; then
            skew=${BASH_REMATCH[4]:+, clock_skew_ms: ${BASH_REMATCH[4]}}
            hosts+=("  - {name: ${BASH_REMATCH[1]}, address: ${BASH_REMATCH[2]}$skew}")
        elif [[ $arg =~ ^tier=([a-z0-9-]+):([^,]*)(,(.*))?$ ]]; then
            tiers+=("$(_ekv_topo_pop "${BASH_REMATCH[1]}" - "${BASH_REMATCH[2]}" \
                "${BASH_REMATCH[4]}")")
        elif [[ $arg =~ ^coordinator\.([a-z_]+)=(.*)$ ]]; then
            [ "${BASH_REMATCH[1]}" = host ] && own_host=1
            coord+=("  ${BASH_REMATCH[1]}: ${BASH_REMATCH[2]}")
        elif [[ $arg =~ ^pops=([0-9]+)$ ]]; then
            for ((i = 0; i < BASH_REMATCH[1]; i++)); do
                pops+=("$(_ekv_topo_pop "$(printf 'p%03d' "$i")" 0 Frankfurt)")
            done
        elif [[ $arg =~ ^([a-z_]+)=(.*)$ ]]; then
            key=${BASH_REMATCH[1]}
            [ "$key" = policy ] && have_policy=1
            [ "$key" = http_port_base ] && have_base=1
            defaults+=("  $key: ${BASH_REMATCH[2]}")
        elif [[ $arg =~ ^[a-z0-9-]+:([0-9.]+|-)(:[^,]*)?(,.*)?$ ]]; then
            head=${arg%%,*}
            fields=""
            [ "$head" != "$arg" ] && fields=${arg#*,}
            IFS=: read -r name delay city rest <<<"$head"
            pops+=("$(_ekv_topo_pop "$name" "$delay" "${city:-Frankfurt}" "$fields")")
        else
            echo "ekv_topology: cannot read '$arg' (KEY=VALUE, coordinator.KEY=VALUE," \
                "pops=N, host=NAME:ADDRESS[:SKEW] or NAME:DELAY_MS[:CITY][,FIELDS])" >&2
            return 2
        fi
    done
    [ -n "$have_policy" ] || defaults=("  policy: push" "${defaults[@]}")
    [ -n "$have_base" ] || defaults+=("  http_port_base: 0")
    {
        echo "# written by ekv_topology (tests/integration/topology.sh)"
        if [ ${#hosts[@]} -gt 0 ]; then
            echo "hosts:"
            printf '%s\n' "${hosts[@]}"
        fi
        echo "coordinator:"
        echo "  city: Frankfurt"
        echo "  lat: 50.1109"
        echo "  lon: 8.6821"
        [ ${#hosts[@]} -gt 0 ] || [ -n "$own_host" ] || echo "  host: 127.0.0.1"
        echo "  http_port: 0"
        echo "  pub_port: 0"
        echo "  router_port: 0"
        [ ${#coord[@]} = 0 ] || printf '%s\n' "${coord[@]}"
        echo "defaults:"
        printf '%s\n' "${defaults[@]}"
        if [ ${#tiers[@]} -gt 0 ]; then
            echo "tiers:"
            printf '%s\n' "${tiers[@]}"
        fi
        echo "pops:"
        [ ${#pops[@]} = 0 ] || printf '%s\n' "${pops[@]}"
    } >"$file"
}
