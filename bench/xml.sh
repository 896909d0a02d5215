#!/usr/bin/env bash
# XML benchmark: bench/orders-xml-bench.yaml over N MB of generated gzip XML orders, next to
# libxml2's parse-only speed on the same files (push parser with no-op SAX callbacks, and
# xmlTextReader; one thread) and Sluice's own XML framing alone (as a reader runs it, with
# gunzip and the markup guard on its helper thread, and all on one thread). Prints MB/s of
# uncompressed XML and peak RSS for each size.
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
