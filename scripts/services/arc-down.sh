#!/usr/bin/env bash
# Stops what scripts/services/arc-up.sh started: the two arched processes (by pid, checked to still be arched)
# and any grid job left running as the CE's job account. Keeps $GRIDPKG_ARC_DIR (certificates, job state), so a
# later arc-up.sh starts again in seconds.
set -uo pipefail
D=${GRIDPKG_ARC_DIR:-/tmp/gridpkg-arc}
pids=()
for name in arex-ws arex; do
  p=$(cat "$D/run/$name.pid" 2>/dev/null) || continue
  [ "$(ps -o comm= -p "$p" 2>/dev/null)" = arched ] || continue
  kill -TERM "$p" && pids+=("$p")
done
for _ in $(seq 1 60); do # arched takes 3-6 s to exit on SIGTERM
  alive=()
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
  [ "${#alive[@]}" -eq 0 ] && break
  sleep 0.5
done
for p in "${alive[@]}"; do kill -KILL "$p" 2>/dev/null; done
# Grid jobs of the fork LRMS are plain processes of the job account.
if id arcuser >/dev/null 2>&1; then
  for p in $(ps -u arcuser -o pid= 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
fi
true
