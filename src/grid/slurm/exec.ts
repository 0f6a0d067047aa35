/**
 * How the Slurm backend runs a Slurm client command: an injectable function with an argv array, never a shell.
 * defaultSlurmExec runs it on this machine (the login node is local); ./ssh-exec.ts runs it on a login node over
 * ssh. Both turn "could not run / could not reach" into SlurmUnavailableError, which the controller retries.
 */
import { RetryableError, TerminalError } from '../../model/errors.js';
import { type CommandResult, runCommand } from '../run-command.js';

export type SlurmCommand = 'sbatch' | 'squeue' | 'sacct' | 'scancel';

export type SlurmExecResult = CommandResult;

/** Runs one Slurm client command with an argv array (never a shell). Injectable for tests. */
export type SlurmExec = (
  command: SlurmCommand,
  args: readonly string[],
  options: { env: Readonly<Record<string, string>>; timeoutMs: number },
) => Promise<SlurmExecResult>;

/** slurmctld could not be reached, or a command timed out or could not run: transient, never a job failure. */
export class SlurmUnavailableError extends RetryableError {
  override name = 'SlurmUnavailableError';
}

/** Slurm refused a request (sbatch rejected the job, ...). */
export class SlurmCommandError extends TerminalError {
  override name = 'SlurmCommandError';
}

export const defaultSlurmExec: SlurmExec = (command, args, options) =>
  runCommand(command, args, options, (message) => new SlurmUnavailableError(message));
