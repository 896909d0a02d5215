#!/usr/bin/env bash
# Parquet output benchmark: the bench pipeline (filter → validate → select) writing
# NDJSON gzip level 1 (bench/orders-bench.yaml) and Parquet zstd
# (bench/orders-parquet-bench.yaml), next to DuckDB doing the same filter and
# projection from the same files into Parquet zstd, in one run, page cache warm.
# Prints wall, CPU (user + sys) and output size for each. Needs python3 with duckdb.
#
#   bench/parquet.sh            # 150 MB, 2 rounds
#   bench/parquet.sh 300 3      # size, rounds
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/data.sh   # bench_data MB: the generated bench set in $data
export SWIFT_BACKTRACE=enable=no
mb=${1:-150}
rounds=${2:-2}

swift build -c release --product sluice >/dev/null
swift build -c release --product sluice-bench >/dev/null
bin=.build/release
bench_data "$mb"
cat "$data"/*.json.gz > /dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
size() { find "$1" -name "$2" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
measure() {  # name, output dir, glob, command...
  local name=$1 dir=$2 glob=$3; shift 3
  rm -rf "$dir"; mkdir -p "$dir"
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" timeout 3600 "$@" > /dev/null
  read -r wall user sys rss < "$work/time"
  printf '%-28s wall %6.2f s  cpu %6.2f s  output %7.1f MB  peak RSS %4d MB\n' "$name" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(echo "$(size "$dir" "$glob") / 1000000" | bc -l)" $((rss / 1024))
}

cat > "$work/duckdb_copy.py" <<PY
import duckdb, sys
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("""
COPY (
  SELECT id, CAST(ts AS TIMESTAMPTZ) AS ts, customer.id AS customer_id, customer.country AS country,
         CAST(total AS DECIMAL(12,2)) AS total, CAST(len(items) AS INTEGER) AS item_count,
         CAST(round(total * 100) AS BIGINT) AS total_cents
  FROM read_ndjson('$data/*.json.gz', format = 'newline_delimited')
  WHERE status != 'cancelled' AND id IS NOT NULL AND total IS NOT NULL
) TO '$work/duckdb/orders.parquet' (FORMAT parquet, COMPRESSION zstd)
""")
PY

echo "$mb MB of generated gzip NDJSON ($(ls "$data"/*.json.gz | wc -l) files), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
for round in $(seq "$rounds"); do
  echo "round $round"
  measure "sluice → NDJSON gzip -1" "$work/ndjson" '*.ndjson.gz' \
    "$bin/sluice" run bench/orders-bench.yaml --input "$data" --output "$work/ndjson"
  measure "sluice → Parquet zstd" "$work/parquet" '*.parquet' \
    "$bin/sluice" run bench/orders-parquet-bench.yaml --input "$data" --output "$work/parquet"
  measure "duckdb → Parquet zstd" "$work/duckdb" '*.parquet' python3 "$work/duckdb_copy.py"
done
python3 - "$work" <<'PY'
import glob, sys, duckdb
w = sys.argv[1]
s = duckdb.sql(f"SELECT count(*) FROM read_parquet('{w}/parquet/*.parquet')").fetchall()[0][0]
d = duckdb.sql(f"SELECT count(*) FROM read_parquet('{w}/duckdb/*.parquet')").fetchall()[0][0]
same = duckdb.sql(f"""SELECT count(*) FROM (SELECT id, epoch_ms(ts), customer_id, country, total, item_count, total_cents FROM read_parquet('{w}/parquet/*.parquet')
  EXCEPT SELECT id, epoch_ms(ts), customer_id, country, total, item_count, total_cents FROM read_parquet('{w}/duckdb/*.parquet'))""").fetchall()[0][0]
print(f"rows: sluice {s}, duckdb {d}; rows of sluice's file not in duckdb's: {same}")
PY
