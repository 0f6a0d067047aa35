/**
 * The constant shell scripts of the ssh backend. None of them is ever assembled from data: each is sent as is on
 * the stdin of `/bin/sh -s -- ARG...` (or uploaded, for the runner), and receives only validated, single-quoted
 * arguments (a remote directory, job ids, a number). They run under any POSIX sh (dash, bash, busybox sh).
 *
 * Files of a job directory (the same as the local backend's, plus three):
 *   site-job.sh, request.txt   the job's inputs
 *   runner.sh                  RUNNER below; env (KEY=VALUE lines), shell (one word per line), timeout (seconds)
 *   submitted                  remote epoch seconds when the job was started (written by START)
 *   pid                        the runner's pid, which is also its process group and session (setsid)
 *   stdout.txt, stderr.txt, report.txt, exit-status
 *   ended-by                   `cancelled` or `timeout` when the controller killed the job
 */
import { READ_ENV_AND_SHELL } from '../batch-runner.js';

/** `alive PID DIR`: PID is this job's runner, alive and not a zombie (its command line names DIR/runner.sh). */
const ALIVE = `
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/cmdline" ] || return 0
  case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) in Z* | X*) return 1 ;; esac
  case $(tr '\\000' ' ' <"/proc/$1/cmdline" 2>/dev/null) in *"$2/runner.sh"*) return 0 ;; esac
  return 1
}
digits() { [ -f "$1" ] && tr -cd '0-9' <"$1"; }
`;

/** Runs inside the job directory, detached. Exports env without evaluating it, reads the shell words, runs. */
export const RUNNER = `#!/bin/sh
# gridpkg ssh backend job runner: constant text, the same for every job (src/grid/ssh/remote-scripts.ts).
cd "\${0%/*}" || exit 1
echo $$ >pid.tmp && mv pid.tmp pid
fail() {
  printf 'gridpkg runner: %s\\n' "$1" >>stderr.txt
  echo 126 >exit-status.tmp && mv exit-status.tmp exit-status
  exit 126
}
${READ_ENV_AND_SHELL}"$@" ./site-job.sh request.txt report.txt </dev/null >stdout.txt 2>stderr.txt
echo $? >exit-status.tmp && mv exit-status.tmp exit-status
`;

/** START JOBDIR: records the start time and starts the runner in its own session, detached from ssh. */
export const START = `
cd -P "$1" || exit 3
dir=$(pwd -P) || exit 3
[ -f runner.sh ] && [ ! -f submitted ] || { echo 'job directory incomplete or already started' >&2; exit 3; }
date +%s >submitted
if command -v setsid >/dev/null 2>&1; then
  setsid /bin/sh "$dir/runner.sh" </dev/null >/dev/null 2>&1 &
else
  set -m
  nohup /bin/sh "$dir/runner.sh" </dev/null >/dev/null 2>&1 &
fi
echo "started $!"
`;

/**
 * STATUS WORKDIR ID...: one line per job between a header and `end`:
 *   ID missing | ID unstarted | ID exit N | ID ended WHY | ID starting AGE | ID running PID | ID vanished PID
 * A job past its timeout is killed here (ended timeout), as the local backend does.
 */
export const STATUS = `${ALIVE}
workdir=$1
shift
echo 'gridpkg-status 1'
if ! cd -P "$workdir" 2>/dev/null; then
  for id; do echo "$id missing"; done
  echo end
  exit 0
fi
base=$(pwd -P)
now=$(date +%s)
ended() {
  if [ -f "$1/ended-by" ]; then printf 'ended %s\\n' "$(tr -cd 'a-z-' <"$1/ended-by")"; return 0; fi
  if [ -f "$1/exit-status" ]; then printf 'exit %s\\n' "$(digits "$1/exit-status")"; return 0; fi
  return 1
}
for id; do
  d=$base/$id
  if [ ! -d "$d" ]; then echo "$id missing"; continue; fi
  if r=$(ended "$d"); then echo "$id $r"; continue; fi
  submitted=$(digits "$d/submitted")
  if [ -z "$submitted" ]; then echo "$id unstarted"; continue; fi
  age=$((now - submitted))
  pid=$(digits "$d/pid")
  if [ -z "$pid" ]; then echo "$id starting $age"; continue; fi
  if alive "$pid" "$d"; then
    timeout=$(digits "$d/timeout")
    if [ -n "$timeout" ] && [ "$age" -gt "$timeout" ]; then
      echo timeout >"$d/ended-by.tmp" && mv "$d/ended-by.tmp" "$d/ended-by"
      kill -s TERM -- "-$pid" 2>/dev/null || kill -s TERM "$pid" 2>/dev/null
      echo "$id ended timeout"
    else
      echo "$id running $pid"
    fi
    continue
  fi
  if r=$(ended "$d"); then echo "$id $r"; else echo "$id vanished $pid"; fi
done
echo end
`;

/** FETCH JOBDIR MAXBYTES: for each output file `NAME SIZE\\n` and then SIZE bytes, or `NAME -\\n`; exit 4 if gone. */
export const FETCH = `
cd "$1" 2>/dev/null || exit 4
for f in report.txt stdout.txt stderr.txt; do
  if [ -f "$f" ]; then
    size=$(wc -c <"$f")
    size=$((size))
    [ "$size" -le "$2" ] || size=$2
    printf '%s %s\\n' "$f" "$size"
    head -c "$size" "$f"
  else
    printf '%s -\\n' "$f"
  fi
done
`;

/** CANCEL JOBDIR: kills the runner's process group if it still runs, after recording ended-by cancelled. */
export const CANCEL = `${ALIVE}
cd -P "$1" 2>/dev/null || exit 0
dir=$(pwd -P)
pid=$(digits pid)
[ -n "$pid" ] || exit 0
if alive "$pid" "$dir"; then
  echo cancelled >ended-by.tmp && mv ended-by.tmp ended-by
  kill -s TERM -- "-$pid" 2>/dev/null || kill -s TERM "$pid" 2>/dev/null
fi
exit 0
`;

/** CLEAN WORKDIR ID: removes WORKDIR/ID (ID is one plain path component). */
export const CLEAN = `
case $2 in '' | . | .. | -* | */*) echo 'bad job id' >&2; exit 2 ;; esac
cd -P "$1" 2>/dev/null || exit 0
[ -d "$2" ] || exit 0
rm -rf -- "$2"
`;

/** FIND WORKDIR ID: `found` when the job was started, else `missing`. */
export const FIND = `
if [ -f "$1/$2/submitted" ]; then echo found; else echo missing; fi
`;
