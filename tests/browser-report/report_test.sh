#!/usr/bin/env bash
# report.html in a real browser (sim/report_html.c, issue 27 item 2): a short push-vs-kv
# experiment on the repository's world (topology.yaml, 28 PoPs; push-vs-ttl.yaml at time scale
# 4, 40 simulated s), its report opened in Debian's chromium, headless, driven over the
# DevTools protocol (report_page.py: no npm). In the laid-out page every section has its text,
# every policy its sentence against the documentation, every chart a box inside the window,
# the maps run green to red, the checkers' counterexamples are drawn; the screenshots hold
# their colours. Then the same results with per-PoP stale series added from the run's CSVs
# (stale_series.py, until `edgekv run` writes them) through `edgekv compare`: the heatmap.
# Screenshots are kept in SHOTS_DIR (third argument) when given.
#   report_test.sh BIN_DIR SRC_DIR [SHOTS_DIR]
set -euo pipefail
source "$(dirname "$0")/../integration/lib.sh" "$1" "$2"
HERE=$(cd "$(dirname "$0")" && pwd)
SHOTS=${3:-}
CHROMIUM=${EKV_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "SKIP: no $CHROMIUM (apt-get install chromium)"; exit 77; }

H=$EDGEKV_HOME
OUT=$H/out
# `edgekv run` stops what it starts; should it die, ekv_cleanup stops its worlds by pid.

sed -e 's/^name: .*/name: report-shot/' -e 's/^duration_s: .*/duration_s: 40/' \
    -e 's/^time_scale: .*/time_scale: 4/' -e 's/^policies: .*/policies: [push, kv]/' \
    "$SRC/sim/experiments/push-vs-ttl.yaml" >"$H/exp.yaml"
grep -q '^policies: \[push, kv\]' "$H/exp.yaml" || fail "push-vs-ttl.yaml changed shape"
"$EKV" run "$H/exp.yaml" --topology "$SRC/topology.yaml" --out "$OUT" >"$H/run.log" 2>&1 &
RUN_PID=$!
wait "$RUN_PID" || fail "edgekv run: $(tail -5 "$H/run.log")"
RUN_PID=""
[ -s "$OUT/report.html" ] || fail "no report.html"
pass "edgekv run wrote report.html"

python3 "$HERE/report_page.py" "$CHROMIUM" "$OUT/report.html" "$H" report ||
    fail "the report in chromium"
pass "the report in chromium: sections explained, claims, maps, timelines, screenshots"

python3 "$HERE/stale_series.py" "$OUT" 60 >"$H/series.json" || fail "stale_series.py"
"$EKV" compare "$H/series.json" --out "$H/series" >/dev/null || fail "edgekv compare"
python3 "$HERE/report_page.py" "$CHROMIUM" "$H/series/report.html" "$H" series --heatmap ||
    fail "the report with stale series in chromium"
pass "the heatmap of stale reads per PoP over time in chromium"

if [ -n "$SHOTS" ]; then
    mkdir -p "$SHOTS"
    cp "$H"/report-*.png "$H"/series-*.png "$SHOTS"/
    echo "screenshots: $SHOTS"
fi
echo "$PASSED passed, 0 failed"
