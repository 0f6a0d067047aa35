/**
 * Running the Slurm client commands on a login node reached over ssh, through the shared SshConnection. As in the
 * ssh backend, nothing is spliced into a remote command line: the remote command is `/bin/sh -s -- CONF COMMAND
 * ARG...` with the constant SLURM_COMMAND script on stdin, and every argument is checked here and single-quoted.
 * SLURM_CONF travels as one of those checked arguments, never as `VAR=value` text for a shell to read.
 */
import { isSafeJobPath } from '../job-files.js';
import { type SshConnection, SshConnectionError } from '../ssh/connection.js';
import { type SlurmCommand, type SlurmExec, SlurmUnavailableError } from './exec.js';

/**
 * SLURM_COMMAND CONF COMMAND ARG...: runs one Slurm client command with SLURM_CONF=CONF (when CONF is not empty)
 * and stdin from /dev/null (stdin is this script). Exit 127 with a `gridpkg:` line when the command is missing.
 */
export const SLURM_COMMAND = `
conf=$1
cmd=$2
shift 2
case $cmd in sbatch | squeue | sacct | scancel) ;; *) echo "gridpkg: not a Slurm command: $cmd" >&2; exit 2 ;; esac
if [ -n "$conf" ]; then SLURM_CONF=$conf; export SLURM_CONF; fi
command -v "$cmd" >/dev/null 2>&1 || { echo "gridpkg: $cmd is not on the login node's PATH" >&2; exit 127; }
exec "$cmd" "$@" </dev/null
`;

const COMMANDS: readonly SlurmCommand[] = ['sbatch', 'squeue', 'sacct', 'scancel'];

/**
 * The characters of every argument the backend builds (options, paths, job ids, `%i %T %r`): nothing that a shell
 * would read specially even outside quotes, apart from the space and `%`.
 */
const SLURM_ARG = /^[A-Za-z0-9._/+,:=%@ -]{0,4096}$/;

/** The remote command's arguments for one Slurm command; throws before anything runs on a value it does not know. */
export function slurmCommandArgs(
  command: SlurmCommand,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): string[] {
  if (!COMMANDS.includes(command))
    throw new Error(`slurm over ssh: not a Slurm command ${JSON.stringify(command)}`);
  for (const [name, value] of Object.entries(env)) {
    if (name !== 'SLURM_CONF')
      throw new Error(
        `slurm over ssh: only SLURM_CONF is passed to the login node, not ${JSON.stringify(name)}`,
      );
    if (!isSafeJobPath(value)) throw new Error(`slurm over ssh: bad SLURM_CONF ${JSON.stringify(value)}`);
  }
  for (const arg of args) {
    if (!SLURM_ARG.test(arg)) throw new Error(`slurm over ssh: refusing argument ${JSON.stringify(arg)}`);
  }
  return [env.SLURM_CONF ?? '', command, ...args];
}

/** A SlurmExec that runs each command on the login node of `connection`. */
export function sshSlurmExec(connection: SshConnection): SlurmExec {
  return async (command, args, options) => {
    const scriptArgs = slurmCommandArgs(command, args, options.env);
    const result = await connection
      .run(SLURM_COMMAND, scriptArgs, options.timeoutMs)
      .catch((error: unknown) => {
        throw unavailable(error, `${command} on ${connection.destination()}`);
      });
    const stderr = result.stderr;
    if (result.exitCode === 127 && stderr.startsWith('gridpkg: '))
      throw new SlurmUnavailableError(`${command} could not run: ${stderr.trim()}`);
    return { exitCode: result.exitCode, stdout: result.stdout.toString('utf8'), stderr };
  };
}

/** A failed ssh connection (exit 255, timeout) is Slurm being unreachable: transient. Anything else is kept. */
export function unavailable(error: unknown, what: string): unknown {
  return error instanceof SshConnectionError ? new SlurmUnavailableError(`${what}: ${error.message}`) : error;
}
