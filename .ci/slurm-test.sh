#!/usr/bin/env bash
# The Slurm job array of deploy/slurm/, run for real on a one-host cluster started here
# (.ci/slurm-cluster.sh), over generated data. Checks, each against a single unsharded run:
#   1. the array's outputs together hold exactly the single run's records and error lines;
#   2. resubmitting one task adds nothing;
#   3. new files, with one task cancelled (scancel) mid-run and then resubmitted: no
#      duplicate, no loss;
#   4. a rerun of the whole array processes nothing, and its merge step passes --check;
#   5. resharding: the array again with SHARDS=2 after SHARDS=4, plus new files: only the new
#      files are processed, no duplicate, no loss, and the merge checks the 2 shards of that job;
#   6. a stale summary (of the earlier job) or a missing one makes the merge fail, naming it.
#
#   .ci/slurm-test.sh PATH/TO/sluice PATH/TO/sluice-bench
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin=$(realpath "${1:?path to sluice}")
bench=$(realpath "${2:?path to sluice-bench}")
export SWIFT_BACKTRACE=enable=no
work=$(mktemp -d /tmp/sluice-slurm.XXXXXX)
cluster="$work/cluster"

# Stop the daemons by their pid files first, then remove the work directory (which holds
# them): the other order leaves the cluster running.
cleanup() { "$repo/.ci/slurm-cluster.sh" stop "$cluster" || true; rm -rf "$work"; }
trap cleanup EXIT
timeout 120 "$repo/.ci/slurm-cluster.sh" start "$cluster"
export SLURM_CONF="$cluster/slurm.conf"

data="$work/data"
timeout 120 "$bench" generate --megabytes 3 --files 8 --seed 42 "$data" >/dev/null

# The bench transform behind a pass-through `command` stage that can be slowed down
# (SLUICE_CI_SLOW seconds per record), so that a task can be cancelled while it works.
config="$work/slurm-ci.yaml"
cat > "$config" <<YAML
name: slurm-ci
input: { path: $data, include: ["**/*.json.gz"], format: ndjson, readers: 1 }
batch_size: 128
stages:
  - name: pace
    command:
      run: [sh, -c, 'while IFS= read -r l; do if [ -n "\${SLUICE_CI_SLOW:-}" ]; then sleep "\$SLUICE_CI_SLOW"; fi; printf "%s\n" "\$l"; done']
      timeout: 60s
      stop_grace: 1s
    workers: 1
  - name: drop-cancelled
    filter: 'status != "cancelled"'
  - name: check
    validate: { required: [id, total], types: { id: int, total: number } }
  - name: shape
    select: { id: id, customer_id: customer.id, total_cents: 'round(total * 100)' }
output: { path: $work/unused, format: ndjson, compression: none, layout: merged }
errors: { path: errors.ndjson }
YAML

out="$work/out"
logs="$work/logs"
submit() {   # submit [--tasks LIST]; waits until the array and its merge step have ended
  local line job
  line=$(SHARDS=${SHARDS_N:-4} CONFIG="$config" INPUT="$data" OUTPUT="$out" SLUICE="$bin" CPUS=1 MEM=512M \
         TIME=00:10:00 GRACE=10s LOGS="$logs" "$repo/deploy/slurm/submit.sh" "$@")
  echo "  $line"
  job=$(echo "$line" | sed -E 's/^array job ([0-9]+).*/\1/')
  LAST_JOB=$job
}
wait_idle() {
  for _ in $(seq 1200); do
    [ -z "$(squeue -h -o %i)" ] && return 0
    sleep 0.25
  done
  echo "Slurm jobs did not finish:" >&2; squeue >&2; exit 1
}
compare() {  # compare LABEL SINGLE_DIR: the shards' union against one run, as multisets
  python3 - "$1" "$out" "$2" <<'PY'
import collections, glob, json, sys
label, sharded, single = sys.argv[1:]
def records(pattern):
    c = collections.Counter()
    for f in glob.glob(pattern, recursive=True):
        with open(f) as fh:
            c.update(line for line in fh if line.strip())
    return c
def errors(pattern):
    c = collections.Counter()
    for f in glob.glob(pattern, recursive=True):
        with open(f) as fh:
            for line in fh:
                if line.strip():
                    e = json.loads(line)
                    c[(e.get("file"), e.get("stage"), e.get("kind"), e.get("message"), e.get("line"))] += 1
    return c
a, b = records(sharded + "/shard-*/slurm-ci-*.ndjson"), records(single + "/slurm-ci-*.ndjson")
ea, eb = errors(sharded + "/shard-*/errors-*.ndjson"), errors(single + "/errors-*.ndjson")
ok = a == b and ea == eb
print(f"  {label}: shards {sum(a.values())} records / {sum(ea.values())} error lines, "
      f"single run {sum(b.values())} / {sum(eb.values())}: {'equal' if ok else 'DIFFERENT'}")
if not ok:
    print("  only in shards:", list((a - b).items())[:3], list((ea - eb).items())[:3])
    print("  only in single:", list((b - a).items())[:3], list((eb - ea).items())[:3])
    sys.exit(1)
PY
}
processed() {  # processed [N]: the sum of files processed in the latest summaries of the N shards
  python3 -c 'import json,sys; print(sum(json.load(open(f))["files"]["processed"] for f in sys.argv[1:]))' "$out"/summaries/shard-*-of-"${1:-4}".json
}
merged_job() {  # the job id and shard count of the merge step's summary.json
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s.get("job_id"), len(s.get("shards") or []))' "$out/summary.json"
}

echo "== a single run for reference"
timeout 300 "$bin" run "$config" --input "$data" --output "$work/single" --progress never

echo "== 1. a 4-task array"
submit; wait_idle
[ -f "$out/summary.json" ] || { echo "the merge step wrote no summary"; cat "$logs"/*merge*.log; exit 1; }
compare "array" "$work/single"
[ "$(ls -d "$out"/shard-*-of-4 | wc -l)" -eq 4 ] || { echo "expected 4 shard directories"; exit 1; }

echo "== 2. resubmitting task 2 adds nothing"
submit --tasks 2; wait_idle
compare "after resubmitting task 2" "$work/single"

echo "== 3. new files; one task cancelled mid-run, then resubmitted"
timeout 120 "$bench" generate --megabytes 2 --files 4 --seed 7 "$data/new" >/dev/null
SLUICE_CI_SLOW=0.002 submit
task=""
for _ in $(seq 400); do
  task=$(squeue -h -r -j "$LAST_JOB" -t R -o %K | head -1)
  [ -n "$task" ] && break
  sleep 0.05
done
[ -n "$task" ] || { echo "no task of job $LAST_JOB started running"; squeue; exit 1; }
sleep 2
echo "  cancelling task $task of job $LAST_JOB"
scancel "${LAST_JOB}_${task}"
wait_idle
state=$(scontrol show job "${LAST_JOB}_${task}" 2>/dev/null | grep -oE 'JobState=[A-Z]+' | head -1 || true)
echo "  task $task: ${state:-state unknown}; log: $(tail -n 2 "$logs"/*-"${LAST_JOB}_${task}".log | tr '\n' ' ')"
submit --tasks "$task"; wait_idle
timeout 300 "$bin" run "$config" --input "$data" --output "$work/single2" --progress never
compare "after cancel and resubmit" "$work/single2"

echo "== 4. a rerun of the whole array processes nothing"
submit; wait_idle
n=$(processed)
[ "$n" -eq 0 ] || { echo "the rerun processed $n files"; exit 1; }
compare "after the rerun" "$work/single2"
grep -q . "$out/summary.json"
[ "$(merged_job)" = "$LAST_JOB 4" ] || { echo "the merged summary is not of job $LAST_JOB's 4 shards: $(merged_job)"; exit 1; }
tail -n 3 "$logs"/*-merge-*.log | tail -n 3

echo "== 5. resharding: SHARDS=2 after SHARDS=4, plus new files"
timeout 120 "$bench" generate --megabytes 1 --files 3 --seed 11 "$data/newer" >/dev/null
SHARDS_N=2 submit; wait_idle
n=$(processed 2)
[ "$n" -eq 3 ] || { echo "the SHARDS=2 array processed $n files, not the 3 new ones"; exit 1; }
[ "$(ls -d "$out"/shard-*-of-2 | wc -l)" -eq 2 ] || { echo "expected 2 shard directories of 2"; exit 1; }
timeout 300 "$bin" run "$config" --input "$data" --output "$work/single3" --progress never
compare "after resharding to 2" "$work/single3"
[ "$(merged_job)" = "$LAST_JOB 2" ] || { echo "the merge step did not check job $LAST_JOB's 2 shards: $(merged_job)"; cat "$logs"/*-merge-*.log; exit 1; }
grep -h "^shard [01]/2 of job $LAST_JOB:" "$logs"/*-merge-*.log | sed 's/^/  /'

echo "== 6. the merge fails, naming the shard, with a stale or a missing summary"
cp "$out/summaries/shard-1-of-2.json" "$work/keep.json"
python3 - "$out/summaries/shard-1-of-2.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["job_id"] = "1"; json.dump(s, open(sys.argv[1], "w"))
PY
if SLUICE_JOB_ID=$LAST_JOB SLUICE_SHARDS=2 SLUICE_OUTPUT="$out" SLUICE_BIN="$bin" \
   bash "$repo/deploy/slurm/sluice-merge.sbatch" 2> "$work/stale.err"; then
  echo "the merge passed with a stale summary"; exit 1
fi
grep -q "shard 1/2 (run .*) is stale: of job 1, not $LAST_JOB" "$work/stale.err" || { cat "$work/stale.err"; exit 1; }
rm "$out/summaries/shard-1-of-2.json"
if SLUICE_JOB_ID=$LAST_JOB SLUICE_SHARDS=2 SLUICE_OUTPUT="$out" SLUICE_BIN="$bin" \
   bash "$repo/deploy/slurm/sluice-merge.sbatch" 2> "$work/missing.err"; then
  echo "the merge passed with a missing summary"; exit 1
fi
grep -q "missing shard 1/2 of job $LAST_JOB" "$work/missing.err" || { cat "$work/missing.err"; exit 1; }
echo "  $(head -c 300 "$work/missing.err" | head -1)"
mv "$work/keep.json" "$out/summaries/shard-1-of-2.json"
echo "Slurm job array: all checks passed"
