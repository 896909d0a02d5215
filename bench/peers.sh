#!/usr/bin/env bash
# Every peer of the bench transform side by side with Sluice, `igzip -dc` and `gzip -dc`,
# in one run (bench/compare.sh with PEERS set; same arguments: MB, repeats):
#
#   bench/peers.sh               # 1500 MB, 3 interleaved repeats, all peers
#   bench/peers.sh 150 5
#   PEERS="msgspec orjson" bench/peers.sh 150
#   bench/peers.sh --edge        # correctness only: Sluice and every peer on the odd records
#                                # of bench/peer_edgecases.py, checked with bench/check_same.py
#
# Peers: bench/peer_msgspec.py (the tuned one), peer_orjson.py (ISA-L, and --gzip stdlib),
# peer_polars.py, peer_duckdb.py. Needs `pip install msgspec isal numpy orjson polars duckdb`.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no
all="msgspec orjson orjson-stdlib polars duckdb"

if [ "${1:-}" != "--edge" ]; then
  PEERS=${PEERS:-$all} exec bench/compare.sh "$@"
fi

sluice=${SLUICE_BIN:-.build/release/sluice}
[ -n "${SLUICE_BIN:-}" ] || swift build -c release --product sluice >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/peer_edgecases.py "$work/in"
timeout 600 "$sluice" run bench/orders-bench.yaml --input "$work/in" --output "$work/sluice" >/dev/null
status=0
for p in ${PEERS:-$all}; do
  case $p in
    orjson-stdlib) cmd=(bench/peer_orjson.py --gzip stdlib) ;;
    *) cmd=("bench/peer_$p.py") ;;
  esac
  echo "$p:"
  if ! timeout 600 python3 "${cmd[@]}" "$work/in" "$work/$p" 2>"$work/$p.err"; then
    echo "  FAILED on this input: $(grep -v '^ ' "$work/$p.err" | tail -1)"
    status=1
    continue
  fi
  if [ "$p" = duckdb ]; then fields=(--error-fields file,stage,kind,message); else fields=(); fi
  python3 bench/check_same.py "$work/sluice" "$work/$p" "${fields[@]}" || status=1
done
exit $status
