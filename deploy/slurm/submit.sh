#!/usr/bin/env bash
# Submit a Sluice job array to Slurm: one task per shard, and a merge step that runs when
# every task has ended. Edit the settings below (paths and sizes) and run it as it is:
#
#   deploy/slurm/submit.sh                # the whole array: tasks 0..SHARDS-1, then the merge
#   deploy/slurm/submit.sh --tasks 3      # resubmit one task (or a list: 1,3 / a range: 0-2)
#
# SHARDS is stated here, once. Each task gets it from this script, so a resubmitted task
# still runs shard 3 of 4 (never "3 of 1"). SHARDS may change from run to run: every shard
# also reads the other shards' ledgers, so no done file is processed again (docs/scale-out.md).
# Every shard of a job records the job id (the array's job id) in its summary, and the merge
# step fails unless it has the summaries of exactly SHARDS shards of that job. A resubmitted
# task (--tasks) joins the last whole array's job (its id and SHARDS are kept in
# OUTPUT/summaries/job), so that job's merge can still pass.
# Every setting can also be given in the environment (SHARDS=8 deploy/slurm/submit.sh).
set -euo pipefail

SHARDS=${SHARDS:-4}                                  # N: the number of shards
CONFIG=${CONFIG:-/shared/sluice/pipelines/orders.yaml}
INPUT=${INPUT:-/shared/data/orders}                  # the data directory every node sees
OUTPUT=${OUTPUT:-/shared/out/orders}                 # the output directory every node sees
SLUICE=${SLUICE:-sluice}                             # the binary (a path, or found in PATH)
CPUS=${CPUS:-2}                                      # CPUs per task (Sluice uses what it is given)
MEM=${MEM:-1G}                                       # memory per task: see `sluice explain CONFIG`
TIME=${TIME:-02:00:00}                               # time limit per task
PARTITION=${PARTITION:-}                             # empty: the cluster's default partition
GRACE=${GRACE:-20s}                                  # SIGTERM → files in flight finish within this;
                                                     # keep it below the cluster's KillWait (30 s by default)
LOGS=${LOGS:-$OUTPUT/logs}                           # task and merge logs (created here)
NAME=${NAME:-sluice-$(basename "$CONFIG" .yaml)}

tasks="0-$((SHARDS - 1))"
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) tasks=${2:?--tasks needs a list, e.g. 3 or 1,3 or 0-2}; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "submit.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ "$SHARDS" -ge 1 ] 2>/dev/null || { echo "submit.sh: SHARDS must be a positive integer, not '$SHARDS'" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
# Slurm opens --output before the task starts: a missing log directory would make every
# task fail at launch with no log at all.
mkdir -p "$LOGS" "$OUTPUT/summaries"

# The job the tasks are shards of: a whole array is a new job (its own id, known once it is
# submitted); resubmitted tasks join the last whole array's job.
jobfile="$OUTPUT/summaries/job"
joined=""
if [ "$tasks" != "0-$((SHARDS - 1))" ]; then
  [ -f "$jobfile" ] || { echo "submit.sh: no whole array was submitted over $OUTPUT yet ($jobfile is missing): submit without --tasks" >&2; exit 2; }
  read -r joined last_shards < "$jobfile"
  if [ "$last_shards" != "$SHARDS" ]; then
    echo "submit.sh: the last array over $OUTPUT (job $joined) had $last_shards shards, not $SHARDS: resubmit its tasks with SHARDS=$last_shards, or submit a whole new array" >&2
    exit 2
  fi
fi

part=()
[ -n "$PARTITION" ] && part=(--partition="$PARTITION")
export SLUICE_SHARDS="$SHARDS" SLUICE_CONFIG="$CONFIG" SLUICE_INPUT="$INPUT" SLUICE_OUTPUT="$OUTPUT" \
       SLUICE_BIN="$SLUICE" SLUICE_GRACE="$GRACE" SLUICE_JOB_ID="$joined"
job=$(sbatch --parsable "${part[@]}" --job-name="$NAME" --array="$tasks" \
  --cpus-per-task="$CPUS" --mem="$MEM" --time="$TIME" \
  --output="$LOGS/%x-%A_%a.log" --export=ALL "$here/sluice-task.sbatch")
job=${job%%;*}
if [ -z "$joined" ]; then
  joined=$job
  echo "$job $SHARDS" > "$jobfile.tmp" && mv "$jobfile.tmp" "$jobfile"
fi
merge=$(sbatch --parsable "${part[@]}" --job-name="$NAME-merge" --dependency=afterany:"$job" \
  --cpus-per-task=1 --mem=256M --time=00:10:00 \
  --output="$LOGS/%x-%j.log" --export=ALL,SLUICE_JOB_ID="$joined" "$here/sluice-merge.sbatch")
merge=${merge%%;*}
echo "array job $job (tasks $tasks of $SHARDS shards, job id $joined), merge job $merge; logs in $LOGS"
