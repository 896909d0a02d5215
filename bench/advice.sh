#!/usr/bin/env bash
# Checks `sluice explain --from`'s advice on the bench: runs bench/orders-bench.yaml over
# N MB of generated gzip NDJSON, asks `explain --from` what to change, applies its
# changes with --set, then runs the config as written and as advised alternately
# (REPEAT rounds in ABBA order, same session) and prints each wall time: following the advice must not
# make the run slower.
#
#   bench/advice.sh            # 150 MB, 3 rounds
#   BIN=/tmp/bin bench/advice.sh 1500
#   BASE="--set input.readers=1" bench/advice.sh   # start from a mis-sized config
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/data.sh   # bench_data MB: the generated bench set in $data
export SWIFT_BACKTRACE=enable=no
mb=${1:-150}
repeat=${REPEAT:-3}
read -r -a base <<< "${BASE:-}"
bin=${BIN:-.build/release}
explain=${EXPLAIN:-$bin/sluice}   # the binary that gives the advice (default: the same)
if [ -z "${BIN:-}" ]; then
  swift build -c release --product sluice >/dev/null
  swift build -c release --product sluice-bench >/dev/null
fi
bench_data "$mb"
cat "$data"/*.json.gz > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin/sluice" run bench/orders-bench.yaml --input "$data" --output "$work/first" --progress never --summary "$work/first.json" "${base[@]}" > /dev/null
"$explain" explain bench/orders-bench.yaml --from "$work/first.json" "${base[@]}" | sed -n '/^run /,$p'
"$explain" explain bench/orders-bench.yaml --from "$work/first.json" "${base[@]}" --format json > "$work/advice.json"
sets=$(python3 -c "
import json
for k, v in sorted(json.load(open('$work/advice.json'))['changes'].items()): print('--set', f'{k}={v}')
")
echo "from: ${BASE:-bench/orders-bench.yaml as written}; advised: ${sets:-(no change)}"

run() {  # label, extra args…
  local label=$1; shift
  rm -rf "$work/o"
  /usr/bin/time -f "%e %U %S" -o "$work/time" \
    "$bin/sluice" run bench/orders-bench.yaml --input "$data" --output "$work/o" --progress never --summary "$work/s.json" "$@" > /dev/null
  python3 -c "
import json; s = json.load(open('$work/s.json')); wall, user, sys = map(float, open('$work/time').read().split())
print(f'$label: {wall:.2f} s wall, {user + sys:.2f} s CPU, {s[\"records\"][\"out\"]} records out')"
}
# ABBA order: a machine that slows down or speeds up during the session favours neither.
for round in $(seq 1 "$repeat"); do
  echo "round $round"
  if [ $((round % 2)) -eq 1 ]; then
    run "  as written" "${base[@]}"
    # shellcheck disable=SC2086
    run "  as advised" "${base[@]}" $sets
  else
    # shellcheck disable=SC2086
    run "  as advised" "${base[@]}" $sets
    run "  as written" "${base[@]}"
  fi
done
