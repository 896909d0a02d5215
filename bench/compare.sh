#!/usr/bin/env bash
# Side-by-side benchmark of the bench transform (bench/orders-bench.yaml) in ONE run:
# Sluice, the Python peer(s) (by default bench/peer_msgspec.py: msgspec + ISA-L gzip, 2 processes),
# and decompression alone with `igzip -dc` and `gzip -dc` (2 files at a time), over the
# same generated gzip NDJSON, page cache warm. Each contender runs REPEATS times,
# interleaved, and the table shows the median wall time (min–max) and peak RSS.
# Then it checks that Sluice and the peer wrote the same records and error lines.
# On a shared machine, wall time favours whoever runs more threads (the scheduler shares
# CPU per thread), so the CPU seconds column is printed too.
#
#   bench/compare.sh               # 1500 MB, 3 repeats
#   bench/compare.sh 150 5         # 150 MB, 5 repeats
#   SLUICE_ARGS="--set stages.check.workers=1" bench/compare.sh 150
#   SLUICE_BIN=/tmp/sluice-before bench/compare.sh   # a saved build, no rebuild
#   SLUICE_BASE=/tmp/sluice-before bench/compare.sh  # also time that build, same run
#   PEERS="msgspec orjson orjson-stdlib polars duckdb" bench/compare.sh   # more peers, same run
#
# Peers (bench/peer_*.py, each checked against Sluice's output): msgspec (the tuned one, the
# bar: typed Structs of the read fields, decode_lines, ISA-L in and out, 2 processes),
# orjson (+ ISA-L; orjson-stdlib: + gzip/zlib), polars, duckdb (no line numbers: its error
# lines are checked on file, stage, kind, message). bench/peers.sh runs them all.
# Needs python3 with msgspec, isal and numpy (`pip install msgspec isal numpy`; orjson,
# polars, duckdb for those peers) and igzip (Debian `isal`).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/data.sh   # bench_data MB: the generated bench set in $data
export SWIFT_BACKTRACE=enable=no
mb=${1:-1500}
repeats=${2:-3}

bin=.build/release
if [ -z "${SLUICE_BIN:-}" ]; then   # SLUICE_BIN=path compares a saved build instead
  swift build -c release --product sluice >/dev/null
  swift build -c release --product sluice-bench >/dev/null
fi
sluice=${SLUICE_BIN:-$bin/sluice}
peers=(${PEERS:-msgspec})
python3 -c 'import msgspec, isal, numpy' || { echo "needs: pip install msgspec isal numpy" >&2; exit 2; }
peer_command() {  # peer name -> the command that runs it
  case $1 in
    orjson-stdlib) echo "bench/peer_orjson.py --gzip stdlib" ;;
    *) echo "bench/peer_$1.py" ;;
  esac
}
for p in "${peers[@]}"; do [ -f "$(peer_command "$p" | cut -d' ' -f1)" ] || { echo "no peer $p" >&2; exit 2; }; done
command -v igzip >/dev/null || { echo "needs igzip (Debian package isal)" >&2; exit 2; }

bench_data "$mb"
files=($(ls "$data"/*.json.gz))
half=$(( ${#files[@]} / 2 ))
cat "${files[@]}" > /dev/null   # warm the page cache for every contender

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results="$work/results"

. bench/timed.sh   # timed NAME COMMAND...: one timed run into $results
decompress_two() {  # tool: the files in 2 parallel streams
  ( for f in "${files[@]:0:$half}"; do "$1" -dc "$f"; done > /dev/null ) &
  ( for f in "${files[@]:$half}"; do "$1" -dc "$f"; done > /dev/null ) &
  wait
}
export -f decompress_two 2>/dev/null || true

for r in $(seq "$repeats"); do
  start=$(date +%s.%N); decompress_two gzip; echo "gzip-dc $(python3 -c "print($(date +%s.%N) - $start)") 0 0" >> "$results"
  start=$(date +%s.%N); decompress_two igzip; echo "igzip-dc $(python3 -c "print($(date +%s.%N) - $start)") 0 0" >> "$results"
  rm -rf "$work/sluice"
  # shellcheck disable=SC2086
  timed sluice timeout 3600 "$sluice" run bench/orders-bench.yaml --input "$data" --output "$work/sluice" \
      --summary "$work/summary.json" ${SLUICE_ARGS:-}
  for p in "${peers[@]}"; do
    rm -rf "$work/peer-$p"
    # shellcheck disable=SC2046
    timed "peer-$p" timeout 3600 python3 $(peer_command "$p") "$data" "$work/peer-$p"
  done
  if [ -n "${SLUICE_BASE:-}" ]; then
    rm -rf "$work/base"
    # shellcheck disable=SC2086
    timed sluice-base timeout 3600 "$SLUICE_BASE" run bench/orders-bench.yaml --input "$data" --output "$work/base" \
        ${SLUICE_ARGS:-}
  fi
done

python3 - "$results" "$work/summary.json" "$mb" "$repeats" "$(uptime)" "${peers[@]}" <<'PY'
import json, statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, wall, rss, cpu = line.split()
    rows[name].append((float(wall), int(rss), float(cpu)))
s = json.load(open(sys.argv[2]))
decoded = s["bytes"]["decoded"] / 1e6
r = s["records"]
peers = sys.argv[6:]
peer = statistics.median(w for w, _, _ in rows["peer-" + peers[0]])
print(f"{sys.argv[3]} MB requested, {decoded:.0f} MB decoded, {r['in']} records "
      f"(out {r['out']}, filtered {r['filtered']}, failed {r['failed']}); median of {sys.argv[4]} interleaved runs")
print(f"load at the end: {sys.argv[5].split('load average:')[-1].strip()}")
print()
print(f"| system | wall (median, min–max) | MB/s decoded | speed vs {peers[0]} peer | CPU s (user+sys, median) | peak RSS |")
print("|---|---|---|---|---|---|")
labels = {"sluice": "Sluice (bench/orders-bench.yaml)", "sluice-base": "Sluice, the SLUICE_BASE build",
          "peer-msgspec": "Python peer msgspec + ISA-L, 2 processes (bench/peer_msgspec.py)",
          "peer-orjson": "Python peer orjson + ISA-L, 2 processes (bench/peer_orjson.py)",
          "peer-orjson-stdlib": "Python peer orjson + stdlib gzip/zlib, 2 processes",
          "peer-polars": "Polars 2.1, 2 processes of 1 thread (bench/peer_polars.py)",
          "peer-duckdb": "DuckDB 2.0 read_ndjson, 2 processes of 1 thread, no line numbers (bench/peer_duckdb.py)",
          "igzip-dc": "`igzip -dc`, 2 files at a time", "gzip-dc": "`gzip -dc`, 2 files at a time"}
for name in ["sluice", "sluice-base"] + ["peer-" + p for p in peers] + ["igzip-dc", "gzip-dc"]:
    if name not in rows:
        continue
    walls = [w for w, _, _ in rows[name]]
    m = statistics.median(walls)
    rss = max(k for _, k, _ in rows[name]) / 1024
    cpu = statistics.median(c for _, _, c in rows[name])
    print(f"| {labels.get(name, name)} | {m:.2f} s ({min(walls):.2f}–{max(walls):.2f}) | {decoded / m:.0f} | "
          f"{peer / m:.2f}x | {f'{cpu:.1f}' if cpu else '—'} | {f'{rss:.0f} MB' if rss else '—'} |")
PY
echo
status=0
for p in "${peers[@]}"; do
  echo "$p:"
  if [ "$p" = duckdb ]; then fields=(--error-fields file,stage,kind,message); else fields=(); fi
  python3 bench/check_same.py "$work/sluice" "$work/peer-$p" "${fields[@]}" || status=1
done
if [ -n "${SLUICE_BASE:-}" ]; then python3 bench/check_same.py "$work/sluice" "$work/base" || status=1; fi
exit $status
