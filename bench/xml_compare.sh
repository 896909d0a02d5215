#!/usr/bin/env bash
# The XML bench side by side, in ONE run (issue 10's XML targets):
#
#  A. bench/orders-xml-bench.yaml over 4 gzip XML files (`sluice-bench generate-xml`,
#     MB decoded in all) against the Python peer bench/peer_lxml.py (lxml iterparse +
#     ISA-L gzip, 2 processes), and `igzip -dc` of the same files 2 at a time;
#  B. the same MB as ONE gzip XML file: Sluice on both cores (input.xml.split: auto, the
#     default), with the split off, and on one core (`taskset -c 0`), and the peer on it.
#
# Each contender runs REPEATS times, interleaved; the tables show median wall (min–max),
# median CPU seconds (user+sys) and peak RSS, and the load average before each round (the
# machine is shared: compare ratios within the run, and CPU seconds). Then the checks:
# Sluice's and the peer's records and error lines are the same (bench/check_same.py), and
# Sluice's output on the one file is byte-identical whether split, unsplit or on one core.
#
#   bench/xml_compare.sh            # 400 MB, 3 repeats
#   bench/xml_compare.sh 100 5
#   SLUICE_BIN=/tmp/sluice bench/xml_compare.sh   # a saved build, no rebuild
#   SLUICE_BASE=/work/main/.build/release/sluice bench/xml_compare.sh   # and a base build beside it
#
# With SLUICE_BASE, the base build runs A and B's default (split) case too, in the same
# rounds, and its output must be byte-identical to the build's.
#
# Needs python3 with lxml, msgspec and isal (`pip install lxml msgspec isal`), igzip (Debian `isal`).
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no
mb=${1:-400}
repeats=${2:-3}

bin=.build/release
if [ -z "${SLUICE_BIN:-}" ]; then
  swift build -c release --product sluice >/dev/null
  swift build -c release --product sluice-bench >/dev/null
fi
sluice=${SLUICE_BIN:-$bin/sluice}
python3 -c 'import lxml, msgspec, isal' || { echo "needs: pip install lxml msgspec isal" >&2; exit 2; }
command -v igzip >/dev/null || { echo "needs igzip (Debian package isal)" >&2; exit 2; }

many=data/xml-bench-${mb}x4
one=data/xml-bench-${mb}x1
for spec in "$many 4" "$one 1"; do
  set -- $spec
  if [ ! -f "$1/.done" ]; then
    rm -rf "$1"
    "$bin/sluice-bench" generate-xml --megabytes "$mb" --files "$2" "$1" >/dev/null
    touch "$1/.done"
  fi
done
files=($(ls "$many"/*.xml.gz))
cat "${files[@]}" "$one"/*.xml.gz > /dev/null   # warm the page cache

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results="$work/results"

. bench/timed.sh   # timed NAME COMMAND...: one timed run into $results
igzip_two() {
  half=$(( ${#files[@]} / 2 ))
  ( for f in "${files[@]:0:$half}"; do igzip -dc "$f"; done > /dev/null ) &
  ( for f in "${files[@]:$half}"; do igzip -dc "$f"; done > /dev/null ) &
  wait
}

run_sluice() {  # name out input [extra args] [taskset prefix via TASKSET, binary via BIN]
  local name=$1 out=$2 input=$3; shift 3
  rm -rf "$out"
  # shellcheck disable=SC2086
  timed "$name" ${TASKSET:-} timeout 3600 "${BIN:-$sluice}" run bench/orders-xml-bench.yaml --input "$input" --output "$out" \
      --summary "$out.summary.json" "$@"
}

for r in $(seq "$repeats"); do
  echo "round $r: load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/loads" >&2
  start=$(date +%s.%N); igzip_two; echo "igzip-dc $(python3 -c "print($(date +%s.%N) - $start)") 0 0" >> "$results"
  run_sluice sluice "$work/sluice" "$many"
  [ -n "${SLUICE_BASE:-}" ] && BIN=$SLUICE_BASE run_sluice base "$work/base" "$many"
  rm -rf "$work/peer"; timed peer timeout 3600 python3 bench/peer_lxml.py "$many" "$work/peer"
  run_sluice one-split "$work/one-split" "$one"
  [ -n "${SLUICE_BASE:-}" ] && BIN=$SLUICE_BASE run_sluice one-split-base "$work/one-split-base" "$one"
  run_sluice one-off "$work/one-off" "$one" --set input.xml.split=off
  TASKSET="taskset -c 0" run_sluice one-core "$work/one-core" "$one"
  rm -rf "$work/one-peer"; timed one-peer timeout 3600 python3 bench/peer_lxml.py "$one" "$work/one-peer"
done

python3 - "$results" "$work/sluice.summary.json" "$work/one-split.summary.json" "$mb" "$repeats" "$(nproc)" <<'PY'
import json, statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, wall, rss, cpu = line.split()
    rows[name].append((float(wall), int(rss), float(cpu)))
def table(title, names, base, summary):
    s = json.load(open(summary))
    decoded = s["bytes"]["decoded"] / 1e6
    r = s["records"]
    print(f"{title}: {decoded:.0f} MB decoded, {r['in']} records (out {r['out']}, filtered {r['filtered']}, failed {r['failed']}); "
          f"median of {sys.argv[5]} interleaved runs, {sys.argv[6]} cores")
    print()
    print(f"| system | wall (median, min–max) | MB/s decoded | speed vs {base[1]} | CPU s (user+sys) | peak RSS |")
    print("|---|---|---|---|---|---|")
    ref = statistics.median(w for w, _, _ in rows[base[0]])
    for name, label in names:
        if name not in rows:
            continue
        walls = [w for w, _, _ in rows[name]]
        m = statistics.median(walls)
        rss = max(k for _, k, _ in rows[name]) / 1024
        cpu = statistics.median(c for _, _, c in rows[name])
        print(f"| {label} | {m:.2f} s ({min(walls):.2f}–{max(walls):.2f}) | {decoded / m:.0f} | {ref / m:.2f}× | "
              f"{f'{cpu:.1f}' if cpu else '—'} | {f'{rss:.0f} MB' if rss else '—'} |")
    print()
table("A. 4 gzip XML files", [("sluice", "Sluice (`bench/orders-xml-bench.yaml`)"),
                              ("base", "Sluice, base build (`SLUICE_BASE`)"),
                              ("peer", "Python peer (`bench/peer_lxml.py`: lxml iterparse + ISA-L, 2 processes)"),
                              ("igzip-dc", "`igzip -dc`, 2 files at a time")], ("peer", "peer"), sys.argv[2])
table("B. the same as one gzip XML file", [("one-split", "Sluice, both cores (`input.xml.split: auto`, default)"),
                                          ("one-split-base", "Sluice base build, both cores (`split: auto`)"),
                                          ("one-off", "Sluice, both cores, `input.xml.split: off`"),
                                          ("one-core", "Sluice, `taskset -c 0` (one core: no split)"),
                                          ("one-peer", "Python peer (one file: one process)")], ("one-core", "1 core"), sys.argv[3])
PY
cat "$work/loads"
echo
echo "A. Sluice vs the peer:"; python3 bench/check_same.py "$work/sluice" "$work/peer"
echo "B. one file, Sluice vs the peer:"; python3 bench/check_same.py "$work/one-split" "$work/one-peer"
digest() {  # the records (decompressed) and the error lines without the run's own fields
  echo "$(zcat "$1"/*.ndjson.gz | md5sum | cut -c1-12) $(cat "$1"/errors*.ndjson | md5sum | cut -c1-12)"
}
split_digest=$(digest "$work/one-split"); off_digest=$(digest "$work/one-off"); core_digest=$(digest "$work/one-core")
echo "B. output digests (records, error lines): split $split_digest, off $off_digest, one core $core_digest"
[ "$split_digest" = "$off_digest" ] && [ "$off_digest" = "$core_digest" ] && echo "B. byte-identical" || { echo "B. DIFFERENT"; exit 1; }
if [ -n "${SLUICE_BASE:-}" ]; then
  a=$(digest "$work/sluice"); b=$(digest "$work/base"); c=$(digest "$work/one-split-base")
  echo "base build: A $b (build: $a), B split $c (build: $split_digest)"
  [ "$a" = "$b" ] && [ "$c" = "$split_digest" ] && echo "base and build byte-identical" || { echo "base and build DIFFERENT"; exit 1; }
fi
