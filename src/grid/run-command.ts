/**
 * Runs one client command of a batch system or grid middleware (sbatch, arcstat, a template's command) with an
 * argv array, never through a shell. "Could not run" and "timed out" become the caller's transient error: the
 * controller polls again later and never counts them as a job failure.
 */
import { execa } from 'execa';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  timeoutMs: number;
  /** Added to this process's environment. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}

export async function runCommand(
  program: string,
  args: readonly string[],
  options: CommandOptions,
  unavailable: (message: string) => Error,
): Promise<CommandResult> {
  const result = await execa(program, [...args], {
    reject: false,
    timeout: options.timeoutMs,
    extendEnv: true,
    stdin: 'ignore',
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  if (result.timedOut) throw unavailable(`${program} timed out after ${options.timeoutMs} ms`);
  if (result.exitCode === undefined) throw unavailable(`${program} could not run: ${result.shortMessage}`);
  return {
    exitCode: result.exitCode,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
  };
}
