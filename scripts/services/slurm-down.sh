#!/usr/bin/env bash
# Stops the daemons that slurm-up.sh started, by the pids in their pid files, and nothing else: slurmd, slurmctld,
# and munged only if slurm-up.sh started it ($GRIDPKG_SLURM_DIR/munged.pid). Waits for each to exit. Leaves the
# directory in place; GRIDPKG_SLURM_PURGE=1 also removes $GRIDPKG_SLURM_DIR.
set -euo pipefail
D=${GRIDPKG_SLURM_DIR:-/tmp/gridpkg-slurm}
for name in slurmd slurmctld munged; do
  pidfile=$D/$name.pid
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    echo "slurm-down.sh: stopped $name pid $pid"
  fi
  # slurmd and slurmctld remove their own pid files; munged's copy is ours.
  [ "$name" = munged ] && rm -f "$pidfile"
done
if [ "${GRIDPKG_SLURM_PURGE:-0}" = 1 ]; then rm -rf "$D"; fi
