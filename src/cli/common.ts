/** Options and steps shared by the commands that talk to sites. */
import { dirname, join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { createJobContext } from '../reconcile/controller.js';
import type { JobContext } from '../reconcile/run-job.js';
import { siteName, siteText } from '../report/safe-output.js';
import { inFlightJobs } from './interrupt.js';
import type { CliIO } from './io.js';

export interface SiteCommandOptions {
  file: string;
  stateDir?: string;
  concurrency: number;
  quiet?: boolean;
  /** -lock-timeout, in milliseconds: how long to wait for a site that another job or gridpkg holds. */
  lockTimeout?: number;
  /** -input=false: never ask on the terminal. */
  input: boolean;
}

export function addSiteOptions(command: Command): Command {
  return command
    .option('-f, --file <spec>', 'desired-state spec file', 'desired-state.yaml')
    .option(
      '--state-dir <dir>',
      'state directory: job ledger, observations, job directories (default: .gridpkg/ beside the spec)',
    )
    .option(
      '-p, --concurrency <n>',
      'sites worked on in parallel (each site always gets one job at a time; also -parallelism=N)',
      parseCount,
      8,
    )
    .option('-q, --quiet', 'no progress lines (stderr; watch: its event lines on stdout)')
    .option(
      '--lock-timeout <duration>',
      'wait this long (30s, 5m, 1h) for a site that is busy (its lock held by another job, or another gridpkg ' +
        'submitting to it) before reporting it locked or busy (default: report a locked site at once, wait 10m ' +
        'for another gridpkg; also -lock-timeout=DURATION)',
      parseDuration,
    )
    .option(
      '--input <bool>',
      'false: never ask on the terminal (as Terraform; also -input=false)',
      parseBool,
      true,
    );
}

/** Terraform's durations: a whole number with s, m or h (a bare number is seconds); in milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d{1,7})(s|m|h)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 30s, 5m or 1h');
  const unit = { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  return Number(match[1]) * unit * 1000;
}

export function parseBool(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('expected true or false');
}

/** Commander prints an InvalidArgumentError as `option '-p, --concurrency <n>' argument '0' is invalid. ...`. */
function parseCount(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
}

export function stateDirFor(specFile: string, explicit: string | undefined): string {
  return resolve(explicit ?? process.env.GRIDPKG_STATE_DIR ?? join(dirname(resolve(specFile)), '.gridpkg'));
}

export function jobContextFor(
  stateDir: string,
  io: CliIO,
  options: Pick<SiteCommandOptions, 'quiet' | 'lockTimeout'>,
): JobContext {
  const { quiet, lockTimeout } = options;
  const context = createJobContext({
    stateDir,
    inFlight: inFlightJobs,
    // Progress messages quote job output, backend states and errors: shown escaped, one line each.
    progress: quiet
      ? undefined
      : (site, message) => io.err(`${io.errStyle.dim(`${siteName(site)}: ${siteText(message)}`)}\n`),
  });
  applyLockTimeout(context, lockTimeout);
  return context;
}

/** -lock-timeout: one budget for both kinds of busy, the site lock held by a job and another gridpkg's entry. */
export function applyLockTimeout(context: JobContext, lockTimeout: number | undefined): void {
  if (lockTimeout === undefined) return;
  context.lockTimeoutMs = lockTimeout;
  context.submissionWaitMs = lockTimeout;
}
