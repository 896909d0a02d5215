#!/usr/bin/env bash
# XML benchmark: bench/orders-xml-bench.yaml over N MB of generated gzip XML orders, next to
# libxml2's parse-only speed on the same files (push parser with no-op SAX callbacks, and
# xmlTextReader; one thread) and Sluice's own XML framing alone (as a reader runs it, with
# gunzip and the markup guard on its helper thread, and all on one thread). Prints MB/s of
# uncompressed XML and peak RSS for each size. Then the same XML as multi-stream bzip2,
# run with 1 and 2 decode threads (SLUICE_DECODE_THREADS), beside `bzip2 -dc`.
#
#   bench/xml.sh            # 100 MB and 400 MB
#   bench/xml.sh 50         # one size
# SCRATCH=.build-xml bench/xml.sh uses another build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 400)
scratch=${SCRATCH:-.build}

swift build -c release --scratch-path "$scratch" --product sluice >/dev/null
swift build -c release --scratch-path "$scratch" --product sluice-bench >/dev/null
bin=$scratch/release

for mb in "${sizes[@]}"; do
  data=data/xml-bench-$mb
  if [ ! -f "$data/.done" ]; then
    rm -rf "$data"
    "$bin/sluice-bench" generate-xml --megabytes "$mb" --files 8 "$data"
    touch "$data/.done"
  fi
  files=($(ls "$data"/*.xml.gz))
  cat "${files[@]}" > /dev/null   # warm the page cache
  echo "== $mb MB"
  /usr/bin/time -f '%M' -o /tmp/sluice-xml-bench-rss "$bin/sluice-bench" xml "${files[@]}"
  echo "  (parse-only process peak RSS $(( $(cat /tmp/sluice-xml-bench-rss) / 1024 )) MB)"

  # The same XML recompressed as multi-stream bzip2 (4 MB streams, as lbzip2 and
  # Wikipedia's multistream dumps are), run with 1 and 2 decode threads.
  bz=data/xml-bench-$mb-bz2
  if [ ! -f "$bz/.done" ]; then
    rm -rf "$bz"; mkdir -p "$bz"
    for f in "${files[@]}"; do
      name=$(basename "$f" .gz)
      gzip -dc "$f" | split -b 4000000 --filter='bzip2 -9 -c' > "$bz/$name.bz2"
    done
    touch "$bz/.done"
  fi
  for threads in 1 2; do
    out=$(mktemp -d)
    sed -e 's/readers: 2/readers: 1/' -e 's/\*\*\/\*\.xml\.gz/**\/*.xml.bz2/' bench/orders-xml-bench.yaml > "$out/bench.yaml"
    SLUICE_DECODE_THREADS=$threads /usr/bin/time -f '%e %M' -o "$out/time" timeout 3600 "$bin/sluice" run "$out/bench.yaml" \
        --input "$bz" --output "$out/o" --summary "$out/summary.json" > /dev/null || true
    read -r wall rss_kb < "$out/time"
    python3 - "$out/summary.json" "$wall" "$rss_kb" "$threads" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); wall = float(sys.argv[2]); rss = int(sys.argv[3]) / 1024
decoded = s["bytes"]["decoded"] / 1e6; r = s["records"]
print(f"  sluice run on .xml.bz2, readers=1, decode threads={sys.argv[4]}: {wall:.2f} s, {decoded / wall:.1f} MB/s of XML, "
      f"{r['in'] / wall / 1e3:.0f} k records/s, peak RSS {rss:.0f} MB (in {r['in']}, out {r['out']}, failed {r['failed']})")
PY
    rm -rf "$out"
  done
  start=$(date +%s.%N); for f in "$bz"/*.bz2; do bzip2 -dc "$f"; done > /dev/null
  echo "  bzip2 -dc of the same files, one process: $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s"

  for readers in 1 2; do
    out=$(mktemp -d)
    sed "s/readers: 2/readers: $readers/" bench/orders-xml-bench.yaml > "$out/bench.yaml"
    /usr/bin/time -f '%e %M' -o "$out/time" timeout 3600 "$bin/sluice" run "$out/bench.yaml" \
        --input "$data" --output "$out/o" --summary "$out/summary.json" > /dev/null || true
    read -r wall rss_kb < "$out/time"
    python3 - "$out/summary.json" "$wall" "$rss_kb" "$readers" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); wall = float(sys.argv[2]); rss = int(sys.argv[3]) / 1024
decoded = s["bytes"]["decoded"] / 1e6; r = s["records"]
print(f"  sluice run, readers={sys.argv[4]}: {wall:.2f} s, {decoded / wall:.1f} MB/s of XML, {r['in'] / wall / 1e3:.0f} k records/s, "
      f"peak RSS {rss:.0f} MB (in {r['in']}, out {r['out']}, filtered {r['filtered']}, failed {r['failed']})")
PY
    rm -rf "$out"
  done
done
