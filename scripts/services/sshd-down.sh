#!/usr/bin/env bash
# Stops the sshd that sshd-up.sh started, by the pid in its pid file, and nothing else. Leaves the keys and the
# user in place, so that a later sshd-up.sh is fast; GRIDPKG_SSHD_PURGE=1 also removes $GRIDPKG_SSHD_DIR.
set -euo pipefail
S=${GRIDPKG_SSHD_DIR:-/tmp/gridpkg-sshd}
pidfile=$S/sshd.pid
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    echo "sshd-down.sh: stopped sshd pid $pid"
  fi
  rm -f "$pidfile"
fi
if [ "${GRIDPKG_SSHD_PURGE:-0}" = 1 ]; then rm -rf "$S"; fi
