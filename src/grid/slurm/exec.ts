/**
 * How the Slurm backend runs a Slurm client command: an injectable function with an argv array, never a shell.
 * defaultSlurmExec runs it on this machine (the login node is local); ./ssh-exec.ts runs it on a login node over
 * ssh. Both turn "could not run / could not reach" into SlurmUnavailableError, which the controller retries.
 */
import { execa } from 'execa';

export type SlurmCommand = 'sbatch' | 'squeue' | 'sacct' | 'scancel';

export interface SlurmExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs one Slurm client command with an argv array (never a shell). Injectable for tests. */
export type SlurmExec = (
  command: SlurmCommand,
  args: readonly string[],
  options: { env: Readonly<Record<string, string>>; timeoutMs: number },
) => Promise<SlurmExecResult>;

/** slurmctld could not be reached, or a command timed out or could not run: transient, never a job failure. */
export class SlurmUnavailableError extends Error {
  override name = 'SlurmUnavailableError';
}

/** Slurm refused a request (sbatch rejected the job, ...). */
export class SlurmCommandError extends Error {
  override name = 'SlurmCommandError';
}

export const defaultSlurmExec: SlurmExec = async (command, args, options) => {
  const result = await execa(command, [...args], {
    reject: false,
    timeout: options.timeoutMs,
    env: options.env,
    extendEnv: true,
    stdin: 'ignore',
  });
  if (result.timedOut) throw new SlurmUnavailableError(`${command} timed out after ${options.timeoutMs} ms`);
  if (result.exitCode === undefined)
    throw new SlurmUnavailableError(`${command} could not run: ${result.shortMessage}`);
  return {
    exitCode: result.exitCode,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
  };
};
