#!/usr/bin/env bash
# A real one-host Slurm cluster for CI, without systemd: munged, slurmctld and slurmd on
# localhost, all state under one directory, every daemon stopped by its pid.
#
#   .ci/slurm-cluster.sh start DIR    # prints nothing on success; sinfo works afterwards
#   .ci/slurm-cluster.sh stop DIR
#
# Needs the Debian packages slurm-wlm and munge (installed by the caller) and root (the
# daemons run as root here, which is what a throwaway CI machine allows).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?state directory}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
conf="$dir/slurm.conf"

stop() {
  for d in slurmd slurmctld munged; do
    if [ -f "$dir/$d.pid" ]; then
      pid=$(cat "$dir/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$d.pid"
    fi
  done
}

case "$cmd" in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac

host=$(hostname -s)
# Two free TCP ports (slurmctld, slurmd): another cluster on this machine (a shared CI host,
# a run that was not stopped) must neither block this one nor receive its jobs.
# SLUICE_SLURM_PORT fixes the first (the second is the next one).
port=${SLUICE_SLURM_PORT:-$(python3 - <<'PY'
import socket
for p in range(16817, 17817, 2):
    try:
        for q in (p, p + 1):
            s = socket.socket(); s.bind(("", q)); s.close()
        print(p); break
    except OSError:
        continue
PY
)}
[ -n "$port" ] || { echo "no free pair of ports for Slurm" >&2; exit 1; }
node=$(slurmd -C | head -1 | sed -E 's/ UpTime=.*//; s/^NodeName=[^ ]+/NodeName='"$host"'/')
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
chown munge:munge "$dir/munge" 2>/dev/null || true
chmod 700 "$dir/munge"

cat > "$conf" <<CONF
ClusterName=sluice-ci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
KillWait=30
InactiveLimit=0
MinJobAge=300
$node State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

# munged: its own socket and pid under DIR, the machine's key.
munged --force --socket="$dir/munge/munge.socket" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" >/dev/null 2>&1 || {
  echo "munged did not start; see $dir/log/munged.log" >&2; exit 1; }

export SLURM_CONF="$conf"
slurmctld -f "$conf" -i 2>>"$dir/log/start.err" || { echo "slurmctld did not start" >&2; stop; exit 1; }
slurmd -f "$conf" 2>>"$dir/log/start.err" || { echo "slurmd did not start" >&2; stop; exit 1; }
for _ in $(seq 100); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then exit 0; fi
  sleep 0.2
done
echo "the Slurm node did not come up; logs in $dir/log" >&2
sinfo >&2 || true
tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
stop; exit 1
