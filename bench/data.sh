# Sourced by the bench scripts: bench_data MB sets $data to data/bench-MB, the bench's 16
# gzip NDJSON files of MB decoded megabytes, generating them with $bin/sluice-bench the
# first time (a `.done` marker says the set is whole).
bench_data() {
  data=data/bench-$1
  if [ ! -f "$data/.done" ]; then
    rm -rf "$data"
    "$bin/sluice-bench" generate --megabytes "$1" --files 16 "$data"
    touch "$data/.done"
  fi
}
