#!/usr/bin/env bash
# One core against two, and one build against another, in the same session:
# bench/orders-bench.yaml over generated data (see bench/run.sh), each case run in turn
# REPEAT times; prints wall, user+sys CPU seconds and peak RSS per run.
#
#   bench/cores.sh 1500                      # this build, 2 cores and `taskset -c 0`
#   bench/cores.sh 1500 /path/to/other/sluice  # also another build, interleaved
#   REPEAT=5 bench/cores.sh 150
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no
mb=${1:-150}
shift || true
bins=(.build/release/sluice "$@")
data=data/bench-$mb
[ -f "$data/.done" ] || { echo "generate $data first (bench/run.sh $mb)" >&2; exit 2; }
cat "$data"/*.json.gz > /dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "${REPEAT:-3}"); do
  for bin in "${bins[@]}"; do
    for cpus in "0,1" "0"; do
      rm -rf "$out/o"
      /usr/bin/time -f '%e %U %S %M' -o "$out/time" taskset -c "$cpus" "$bin" run bench/orders-bench.yaml \
          --input "$data" --output "$out/o" > /dev/null
      read -r wall user sys rss < "$out/time"
      printf '%-40s cpus=%-4s run %d: wall %6.2f s  cpu %6.2f s  rss %4d MB\n' "$bin" "$cpus" "$r" "$wall" \
          "$(python3 -c "print($user + $sys)")" $((rss / 1024))
    done
  done
done
