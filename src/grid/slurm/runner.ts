/**
 * The slurm backend's batch script: constant text, the same for every job, never assembled from data. sbatch runs
 * it with the job directory as working directory (--chdir) and the job directory's stdout.txt / stderr.txt as its
 * output files (-o / -e). Slurm runs a copy of it from its spool, so it finds its files through the working
 * directory, not through $0.
 *
 * Files of a job directory (those of the local backend, plus):
 *   runner.sh                  RUNNER below; env (KEY=VALUE lines), shell (one word per line)
 *   job.json                   site, submission time, timeout (written by the controller)
 *   slurm-id                   the Slurm job id, written right after sbatch answered
 *   pid                        the runner's pid on the node (tests kill it to play a job killed from outside)
 *
 * The runner ends with status 0 once it has recorded the job script's exit status, so Slurm's COMPLETED means "the
 * job script ran to its end" (its own status is in exit-status) and FAILED / CANCELLED / TIMEOUT / NODE_FAIL /
 * OUT_OF_MEMORY mean that the runner itself was stopped.
 */
export const RUNNER = `#!/bin/sh
# gridpkg slurm backend job runner: constant text, the same for every job (src/grid/slurm/runner.ts).
echo $$ >pid.tmp && mv pid.tmp pid
fail() {
  printf 'gridpkg runner: %s\\n' "$1" >&2
  echo 126 >exit-status.tmp && mv exit-status.tmp exit-status
  exit 0
}
[ -f site-job.sh ] && [ -f request.txt ] || fail "not started in a job directory: $(pwd)"
# env: one KEY=VALUE per line, validated by the controller; exported as data, never evaluated.
while IFS= read -r line || [ -n "$line" ]; do
  case $line in *=*) ;; *) fail 'malformed env line' ;; esac
  case \${line%%=*} in '' | [0-9]* | *[!A-Za-z0-9_]*) fail 'bad variable name in env' ;; esac
  case \${line#*=} in *[!A-Za-z0-9._/+,:=@%-]*) fail 'bad variable value in env' ;; esac
  export "$line"
done <env
# shell: the command that runs the job script, one word per line.
set --
while IFS= read -r word || [ -n "$word" ]; do set -- "$@" "$word"; done <shell
[ "$#" -gt 0 ] || fail 'no shell'
"$@" ./site-job.sh request.txt report.txt </dev/null
echo $? >exit-status.tmp && mv exit-status.tmp exit-status
exit 0
`;
