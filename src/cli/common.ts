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
    .option('-q, --quiet', 'no progress lines on stderr');
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

export function jobContextFor(stateDir: string, io: CliIO, quiet: boolean | undefined): JobContext {
  return createJobContext({
    stateDir,
    inFlight: inFlightJobs,
    // Progress messages quote job output, backend states and errors: shown escaped, one line each.
    progress: quiet
      ? undefined
      : (site, message) => io.err(`${io.errStyle.dim(`${siteName(site)}: ${siteText(message)}`)}\n`),
  });
}
