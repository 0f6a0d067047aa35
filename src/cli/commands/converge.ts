import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_RETRY_POLICY } from '../../controller/backoff.js';
import { systemClock } from '../../controller/clock.js';
import { converge, type SiteVerdict } from '../../controller/converge.js';
import { EventBus } from '../../controller/events.js';
import { StatusRecorder } from '../../controller/status-recorder.js';
import { createJobContext } from '../../reconcile/controller.js';
import { specDigest } from '../../reconcile/plan-file.js';
import { renderConverge } from '../../report/converge-view.js';
import { loadSpec } from '../../spec/index.js';
import type { ControllerLease } from '../../state/controller-lease.js';
import { SiteStatusStore } from '../../state/site-status.js';
import { addSiteOptions, applyLockTimeout, type SiteCommandOptions, stateDirFor } from '../common.js';
import { takeControllerLease } from '../controller-lease.js';
import { parseDuration } from '../duration.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { inFlightJobs } from '../interrupt.js';
import type { CliIO } from '../io.js';
import { progressLine } from '../progress.js';
import { addSelectionOptions, type SiteSelection, selectSites } from '../site-selection.js';

export interface ConvergeOptions extends SiteCommandOptions, SiteSelection {
  timeout?: number;
  maxAge?: number;
  maxAttempts: number;
  retryDelay: number;
}

export function registerConvergeCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  addSelectionOptions(
    addSiteOptions(
      program
        .command('converge')
        .summary('reconcile every site until it matches the spec (for cron and CI)')
        .description(
          'Reconciles every selected site on its own, without asking: probe (or reuse a recent observation), plan, ' +
            "apply, and verify from the apply job's report. A site that converges costs one probe and one apply job " +
            '(one job with --max-age and a recent observation). Failures that may pass (a CE down, a timeout, a ' +
            'locked site, a stale plan) are retried with backoff up to --max-attempts; others (a blocked plan, bad ' +
            'credentials) stop the site at once. Ends when every site has converged or failed, or at --timeout. ' +
            'Exit 0: all converged; 1: some site failed; 3: some site could not be observed.',
        ),
    ),
  )
    .option(
      '--timeout <duration>',
      'stop starting jobs after this long (e.g. 2h); default: no limit',
      parseDuration,
    )
    .option(
      '--max-age <duration>',
      'reuse a recorded observation younger than this instead of probing',
      parseDuration,
    )
    .option('--max-attempts <n>', 'attempts per site', parseAttempts, DEFAULT_RETRY_POLICY.maxAttempts)
    .option(
      '--retry-delay <duration>',
      'wait after the first failed attempt, doubled for each further one (with jitter, up to 30m)',
      parseDuration,
      DEFAULT_RETRY_POLICY.firstDelayMs,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg converge --timeout 2h\n  gridpkg converge --max-age 1h --where "physics and not legacy"\n' +
        '  gridpkg converge --site nikhef --site sara',
    )
    .action(async (options: ConvergeOptions) => setExit(await runConverge(options, io)));
}

/** --max-attempts of converge and watch. */
export function parseAttempts(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new InvalidArgumentError('expected a whole number from 1 to 100');
  return n;
}

export async function runConverge(options: ConvergeOptions, io: CliIO): Promise<ExitCodeValue> {
  const spec = await loadSpec(options.file);
  const sites = selectSites(spec.sites, options);
  const events = new EventBus();
  if (!options.quiet)
    events.on((event) => {
      const line = progressLine(event, io.errStyle);
      if (line) io.err(line);
    });
  // Job events reach the log through the context's progress; on the terminal they are shown from the events.
  const stateDir = stateDirFor(options.file, options.stateDir);
  const context = createJobContext({ stateDir, inFlight: inFlightJobs, events: events.emit });
  applyLockTimeout(context, options.lockTimeout);
  // Each site's sync and health, kept in the state directory for `gridpkg status`.
  const status = new StatusRecorder(new SiteStatusStore(stateDir), systemClock);
  let verdicts: SiteVerdict[];
  let lease: ControllerLease | undefined;
  try {
    // One controller per state directory: a second converge (or watch) refuses here, before any job.
    const taken = await takeControllerLease(stateDir, 'converge');
    lease = taken.lease;
    await status.load(sites.map((site) => site.site));
    events.on(status.listener);
    verdicts = await converge({
      sites,
      step: {
        jobs: context,
        planMeta: { specFile: resolve(spec.file), specDigest: specDigest(spec.files) },
        clock: systemClock,
        ...(options.maxAge !== undefined ? { maxObservationAgeMs: options.maxAge } : {}),
      },
      events: events.emit,
      concurrency: options.concurrency,
      signal: taken.lost,
      ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}),
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: options.maxAttempts, firstDelayMs: options.retryDelay },
    });
    await status.flush();
  } finally {
    await lease?.release();
    await context.close?.();
  }
  io.out(renderConverge(verdicts, io.style));
  return convergeExitCode(verdicts);
}

export function convergeExitCode(verdicts: readonly SiteVerdict[]): ExitCodeValue {
  if (verdicts.some((v) => v.verdict === 'failed')) return ExitCode.error;
  if (verdicts.some((v) => v.verdict === 'unknown')) return ExitCode.unknown;
  return ExitCode.ok;
}
