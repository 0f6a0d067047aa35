/**
 * The job runner of the batch backends (slurm, template, arc): constant text, the same for every job, never
 * assembled from data. The batch system runs it with the job directory as working directory (sbatch --chdir; the
 * template's submit command runs in the job directory; ARC runs it in the job's session directory, where its input
 * files were uploaded), with stdout.txt / stderr.txt as its output files. The batch system may run a copy of it
 * from its spool, so it finds its files through the working directory, not through $0.
 *
 * Files of a job directory (those of the local backend, plus):
 *   runner.sh                  RUNNER below; env (KEY=VALUE lines), shell (one word per line)
 *   job.json                   site, submission time, timeout (written by the controller)
 *   slurm-id / arc-id          the batch system's job id, written right after submission answered
 *   pid                        the runner's pid on the node (tests kill it to play a job killed from outside)
 *
 * The runner ends with status 0 once it has recorded the job script's exit status, so the batch system's "completed"
 * (Slurm COMPLETED, ARC Finished) means "the job script ran to its end" (its own status is in exit-status), and a
 * failed state means that the runner itself was stopped (killed, time limit, node failure).
 */
/**
 * The part every job runner shares (this one and the ssh backend's): exports the job directory's `env` file as data
 * (each line checked, never evaluated) and reads `shell` into "$@". Expects a `fail MESSAGE` function.
 */
export const READ_ENV_AND_SHELL = `# env: one KEY=VALUE per line, validated by the controller; exported as data, never evaluated.
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
`;

export const RUNNER = `#!/bin/sh
# gridpkg batch job runner: constant text, the same for every job (src/grid/batch-runner.ts).
echo $$ >pid.tmp && mv pid.tmp pid
fail() {
  printf 'gridpkg runner: %s\\n' "$1" >&2
  echo 126 >exit-status.tmp && mv exit-status.tmp exit-status
  exit 0
}
[ -f site-job.sh ] && [ -f request.txt ] || fail "not started in a job directory: $(pwd)"
${READ_ENV_AND_SHELL}"$@" ./site-job.sh request.txt report.txt </dev/null
echo $? >exit-status.tmp && mv exit-status.tmp exit-status
exit 0
`;
