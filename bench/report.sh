#!/usr/bin/env bash
# Renders the report of a bench run in a real browser: runs bench/orders-bench.yaml over
# N MB of generated gzip NDJSON with --report, then headless Chromium (Debian `chromium`)
# screenshots the page; fails unless Chromium exits 0 and writes a PNG. The README's
# docs/report-bench.png is made this way:
#
#   bench/report.sh 1500 docs/report-bench.png
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/data.sh   # bench_data MB: the generated bench set in $data
export SWIFT_BACKTRACE=enable=no
mb=${1:-150}
png=${2:-report-bench.png}
bin=${BIN:-.build/release}
[ -n "${BIN:-}" ] || { swift build -c release --product sluice >/dev/null; swift build -c release --product sluice-bench >/dev/null; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "bench/report.sh: needs chromium (apt-get install chromium)" >&2; exit 2; }
bench_data "$mb"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/sluice" run bench/orders-bench.yaml --input "$data" --output "$work/o" --progress never --report > /dev/null
report=$(ls "$work"/o/*.report.html)
# No network: the page must render from the file alone.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --proxy-server=127.0.0.1:9 \
  --screenshot="$work/shot.png" --window-size=1150,2250 "file://$report" 2> "$work/chromium.log"
[ -s "$work/shot.png" ] || { cat "$work/chromium.log" >&2; echo "bench/report.sh: no screenshot" >&2; exit 1; }
cp "$work/shot.png" "$png"
echo "$png ($(stat -c %s "$png") bytes) from $(basename "$report")"
