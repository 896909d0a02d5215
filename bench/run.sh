#!/usr/bin/env bash
# End-to-end benchmark: bench/orders-bench.yaml over N MB of generated gzip NDJSON,
# next to `gzip -dc` and `igzip -dc` of the same files in 2 processes, with Sluice
# decoding (and compressing) gzip through ISA-L and through zlib (SLUICE_CODECS=zlib)
# in the same run. Prints wall time, MB/s of uncompressed input, records/s, peak RSS.
#
#   bench/run.sh            # 150 MB and 1500 MB
#   bench/run.sh 150        # one size
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/data.sh   # bench_data MB: the generated bench set in $data
export SWIFT_BACKTRACE=enable=no
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(150 1500)

swift build -c release --product sluice >/dev/null
swift build -c release --product sluice-bench >/dev/null
bin=.build/release

for mb in "${sizes[@]}"; do
  bench_data "$mb"
  files=($(ls "$data"/*.json.gz))
  half=$(( ${#files[@]} / 2 ))
  cat "${files[@]}" > /dev/null   # warm the page cache for both contenders

  # The peers, in 2 processes (2 files at a time, as the bench's readers: 2).
  declare -A peer
  for tool in gzip igzip; do
    command -v $tool > /dev/null || { peer[$tool]=nan; continue; }
    start=$(date +%s.%N)
    ( for f in "${files[@]:0:$half}"; do $tool -dc "$f"; done > /dev/null ) &
    ( for f in "${files[@]:$half}"; do $tool -dc "$f"; done > /dev/null ) &
    wait
    peer[$tool]=$(python3 -c "print($(date +%s.%N) - $start)")
  done
  echo "$mb MB input: gzip -dc x2 ${peer[gzip]} s, igzip -dc x2 ${peer[igzip]} s"

  # Sluice with ISA-L (the default where libisal2 is installed) and with zlib forced.
  for codecs in default zlib; do
  out=$(mktemp -d)
  env SLUICE_CODECS=$codecs /usr/bin/time -f '%e %M' -o "$out/time" timeout 3600 "$bin/sluice" run bench/orders-bench.yaml \
      --input "$data" --output "$out/o" --summary "$out/summary.json" > /dev/null
  read -r wall rss_kb < "$out/time"
  "$bin/sluice" explain bench/orders-bench.yaml --format json > "$out/plan.json"
  python3 - "$out/summary.json" "$wall" "$rss_kb" "${peer[gzip]}" "$mb" "$out/plan.json" "$codecs" "${peer[igzip]}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); wall = float(sys.argv[2]); rss = int(sys.argv[3]) / 1024; gz = float(sys.argv[4])
plan = json.load(open(sys.argv[6])); igz = float(sys.argv[8])
library = "ISA-L" if sys.argv[7] == "default" else "zlib (SLUICE_CODECS=zlib)"
decoded = s["bytes"]["decoded"] / 1e6; r = s["records"]
print(f"  sluice, gzip via {library}: {wall:.2f} s, {decoded / wall:.0f} MB/s, {r['in'] / wall / 1e6:.2f} M records/s, "
      f"peak RSS {rss:.0f} MB; vs gzip -dc x2 {wall / gz:.2f}x, vs igzip -dc x2 {wall / igz:.2f}x "
      f"(records in {r['in']}, out {r['out']}, filtered {r['filtered']}, failed {r['failed']})")
print(f"    sluice explain memory bound {plan['memory_bound_bytes'] / 2**20:.0f} MiB "
      f"({plan['memory_at_1kib_records'] / 2**20:.0f} MiB at 1 KiB records) vs peak RSS {rss:.0f} MB")
for st in s["stages"]:
    print(f"    stage {st['name']}: busy {st['busy_seconds']:.2f} s, queue high water {st['queue_high_water']}/{st['queue_capacity']}")
PY
  rm -rf "$out"
  done
done
