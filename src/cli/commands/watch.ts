import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { Registry } from 'prom-client';
import { DEFAULT_RETRY_POLICY } from '../../controller/backoff.js';
import { type Clock, systemClock } from '../../controller/clock.js';
import { EventBus } from '../../controller/events.js';
import { DEFAULT_DEBOUNCE_MS, SpecReloader } from '../../controller/spec-reloader.js';
import { StatusRecorder } from '../../controller/status-recorder.js';
import { DEFAULT_RESYNC, WatchLoop, type WatchSpec } from '../../controller/watch.js';
import { createJobContext } from '../../reconcile/controller.js';
import { specDigest } from '../../reconcile/plan-file.js';
import { printableLines } from '../../report/safe-output.js';
import { printable } from '../../report/untrusted.js';
import { watchMetrics } from '../../serve/watch-metrics.js';
import { type LoadedSpec, loadSpec, SpecError } from '../../spec/index.js';
import { SiteStatusStore } from '../../state/site-status.js';
import { addSiteOptions, applyLockTimeout, type SiteCommandOptions, stateDirFor } from '../common.js';
import { takeControllerLease } from '../controller-lease.js';
import { parseDuration } from '../duration.js';
import { describeError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { inFlightJobs, interruptMessage, onStopSignal } from '../interrupt.js';
import type { CliIO } from '../io.js';
import { eventJson, progressLine, recordJson } from '../progress.js';
import { addSelectionOptions, type SiteSelection, selectSites } from '../site-selection.js';
import { SpecFilesWatcher } from '../spec-files-watcher.js';
import { parseAttempts } from './converge.js';
import { startStateReportService } from './serve.js';

export interface WatchCommandOptions extends SiteCommandOptions, SiteSelection {
  resync: number;
  maxAttempts: number;
  retryDelay: number;
  maxRetryDelay: number;
  observeOnly?: boolean;
  drainTimeout: number;
  debounce: number;
  logFormat: 'text' | 'json';
  /** Serve the report and metrics as `gridpkg serve` does, with this watch's own metrics. */
  listen?: string;
  tokenFile?: string;
  allowHost?: string[];
}

/** What tests (and the gridpkg command) give runWatch besides the options. */
export interface WatchHooks {
  clock?: Clock;
  /** Aborted to stop the watch as SIGTERM would (tests run it in-process; the CLI listens for signals). */
  stop?: AbortSignal;
}

export function registerWatchCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  addSelectionOptions(
    addSiteOptions(
      program
        .command('watch')
        .summary('keep every site converged, reconciling on spec changes and on a resync interval')
        .description(
          'Runs until stopped. Reconciles every selected site at start (as converge does: probe, plan, apply, ' +
            "verify from the apply job's report). Watches the spec and every file it includes: after a change it " +
            'reloads the spec and reconciles only the sites whose resolved desired state changed; an invalid edit ' +
            'is reported (file:line:column, as validate does) and the last good spec keeps running. A converged site ' +
            'is probed again every --resync (with jitter) to catch changes made by hand. Failures that may pass are ' +
            'retried with backoff; after --max-attempts, or a failure that needs a person, the site is stalled ' +
            'until its desired state changes (or SIGHUP). SIGINT/SIGTERM: no new job, wait up to --drain-timeout ' +
            'for jobs in flight to be recorded, exit (SIGTERM 0, SIGINT 130); a restart re-attaches to any job still ' +
            'running. One line per event on stdout.',
        ),
    ),
  )
    .addOption(
      durationOption(
        '--resync <duration>',
        "probe a converged site again after this long, +-10% at random (a site's resyncInterval in the spec wins)",
        '6h',
      ),
    )
    .option(
      '--max-attempts <n>',
      'attempts per site before it is stalled',
      parseAttempts,
      DEFAULT_RETRY_POLICY.maxAttempts,
    )
    .addOption(
      durationOption(
        '--retry-delay <duration>',
        'wait after the first failed attempt, doubled for each further one (+-20%)',
        '30s',
      ),
    )
    .addOption(durationOption('--max-retry-delay <duration>', 'longest wait between attempts', '30m'))
    .option('--observe-only', 'probe and plan, report drift, never apply')
    .addOption(
      durationOption(
        '--drain-timeout <duration>',
        'on SIGINT/SIGTERM, wait this long for jobs in flight to end and be recorded',
        '60s',
      ),
    )
    .addOption(
      durationOption(
        '--debounce <duration>',
        'reload the spec once its files have been quiet this long',
        `${DEFAULT_DEBOUNCE_MS}ms`,
      ),
    )
    .addOption(
      new Option('--log-format <format>', 'text: one line per event; json: one JSON object per line')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option(
      '--listen <address>',
      'also serve the drift report and metrics over HTTP as `gridpkg serve` does (HOST:PORT; plus reconcile ' +
        'durations and job counts of this watch)',
    )
    .option('--token-file <file>', 'with --listen: require this bearer token (see gridpkg serve)')
    .option(
      '--allow-host <name>',
      'with --listen: also answer requests for this host name (see gridpkg serve; repeatable)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value.toLowerCase()],
    )
    .addHelpText(
      'after',
      '\nSignals:\n  SIGINT, SIGTERM  stop: no new job; wait --drain-timeout for jobs in flight; exit 130 (SIGINT) or 0\n' +
        '                   (SIGTERM); a second signal exits at once. Jobs still running are re-attached to next time.\n' +
        '  SIGHUP           give every stalled site another series of attempts\n' +
        '\nExamples:\n  gridpkg watch\n  gridpkg watch --observe-only --resync 1h --log-format json\n' +
        '  gridpkg watch --where "physics and not legacy" --max-attempts 10\n' +
        '  gridpkg watch --listen 127.0.0.1:9090',
    )
    .action(async (options: WatchCommandOptions) => setExit(await runWatch(options, io)));
}

type StopReason =
  | { kind: 'signal'; signal: NodeJS.Signals }
  | { kind: 'lost'; why: string }
  | { kind: 'bug' };

export async function runWatch(
  options: WatchCommandOptions,
  io: CliIO,
  hooks: WatchHooks = {},
): Promise<ExitCodeValue> {
  const clock = hooks.clock ?? systemClock;
  const json = options.logFormat === 'json';
  const say = (record: { type: string } & Record<string, unknown>, text: string) =>
    io.out(json ? recordJson(record, new Date(clock.now())) : `${text}\n`);

  const spec = await loadSpec(options.file);
  const selected = (loaded: LoadedSpec): WatchSpec => ({
    sites: selectSites(loaded.sites, options),
    planMeta: { specFile: resolve(loaded.file), specDigest: specDigest(loaded.files) },
  });
  let current = selected(spec);
  const stateDir = stateDirFor(options.file, options.stateDir);
  const events = new EventBus();
  if (!options.quiet)
    events.on((event) => {
      if (json) return io.out(eventJson(event, new Date(clock.now())));
      const line = progressLine(event, io.style);
      if (line) io.out(line);
    });
  const context = createJobContext({ stateDir, inFlight: inFlightJobs, events: events.emit });
  // Stopping: a step that is re-attached to an old job follows it to its end, then submits nothing.
  const stopping = new AbortController();
  context.signal = stopping.signal;
  applyLockTimeout(context, options.lockTimeout);
  const status = new StatusRecorder(new SiteStatusStore(stateDir), clock);
  const cleanups: Array<() => unknown> = [];
  let stopWith: (reason: StopReason) => void = () => undefined;
  const stopped = new Promise<StopReason>((done) => {
    stopWith = done;
  });
  try {
    // One controller per state directory: a second watch (or converge) refuses here, before any job.
    const { lease, lost } = await takeControllerLease(stateDir, 'watch');
    cleanups.push(() => lease.release());
    await status.load(current.sites.map((site) => site.site));
    events.on(status.listener);
    if (options.listen !== undefined) {
      // The report service of `gridpkg serve`, plus what only this watch knows (reconcile durations, jobs).
      const registry = new Registry();
      events.on(watchMetrics(registry, () => clock.now()));
      const { server } = await startStateReportService(
        { ...options, listen: options.listen },
        io,
        'watch',
        registry,
      );
      cleanups.push(() => server.close());
      say({ type: 'serving', url: server.url }, `serving the drift report and metrics at ${server.url}`);
    }

    const loop = new WatchLoop({
      step: { jobs: context, clock },
      events: events.emit,
      concurrency: options.concurrency,
      retry: {
        ...DEFAULT_RETRY_POLICY,
        maxAttempts: options.maxAttempts,
        firstDelayMs: options.retryDelay,
        maxDelayMs: Math.max(options.retryDelay, options.maxRetryDelay),
      },
      resync: { ...DEFAULT_RESYNC, intervalMs: options.resync },
      ...(options.observeOnly ? { observeOnly: true } : {}),
      onError: () => stopWith({ kind: 'bug' }),
    });
    const onLost = () => stopWith({ kind: 'lost', why: String(lost.reason) });
    lost.addEventListener('abort', onLost, { once: true });
    cleanups.push(() => lost.removeEventListener('abort', onLost));
    const onHookStop = () => stopWith({ kind: 'signal', signal: 'SIGTERM' });
    hooks.stop?.addEventListener('abort', onHookStop, { once: true });
    cleanups.push(() => hooks.stop?.removeEventListener('abort', onHookStop));
    cleanups.push(onStopSignal((signal) => stopWith({ kind: 'signal', signal })));
    const onHangup = () => {
      const sites = loop.retryStalled();
      say({ type: 'stalled-retried', sites }, `SIGHUP: ${sites.length} stalled site(s) tried again`);
    };
    process.on('SIGHUP', onHangup);
    cleanups.push(() => process.off('SIGHUP', onHangup));

    const reloader = new SpecReloader<LoadedSpec>({
      load: () => loadSpec(options.file),
      clock,
      debounceMs: options.debounce,
      onSpec: async (loaded) => {
        // The selection can fail on the new spec too (a --site the edit removed): reported, the old spec stays.
        const next = selected(loaded);
        files.setFiles(loaded.files.map((f) => f.file));
        if (next.planMeta.specDigest === current.planMeta.specDigest) return;
        const known = new Set(current.sites.map((site) => site.site));
        await status.load(next.sites.map((site) => site.site).filter((site) => !known.has(site)));
        current = next;
        const update = loop.update(next);
        say(
          {
            type: 'spec-reloaded',
            changed: update.changed,
            removed: update.removed,
            unchanged: update.unchanged,
          },
          `spec reloaded: ${describeUpdate(update)}`,
        );
      },
      onError: (error) => reportSpecError(error, say),
    });
    cleanups.push(() => reloader.stop());
    const files = new SpecFilesWatcher(
      spec.files.map((f) => f.file),
      () => reloader.changed(),
      (error) =>
        say(
          { type: 'watch-error', message: describeError(error) },
          `gridpkg: watching the spec files: ${printableLines(describeError(error))}`,
        ),
    );
    cleanups.push(() => files.close());
    await files.ready();
    // An edit saved between the first load and the watcher being ready would go unseen: load once more (a spec
    // that did not change changes nothing and says nothing).
    reloader.changed();

    const names = current.sites.map((site) => site.site);
    say(
      { type: 'watch-started', sites: names, observeOnly: options.observeOnly === true },
      `watching ${printable(spec.file)}: ${names.length} site(s)${options.observeOnly ? ', observe-only (nothing is applied)' : ''}`,
    );
    loop.update(current);

    const reason = await stopped;
    stopping.abort();
    loop.stop(reasonName(reason));
    reloader.stop();
    const inFlight = inFlightJobs.list().length;
    const waiting =
      inFlight > 0
        ? `waiting up to ${Math.round(options.drainTimeout / 1000)} s for ${inFlight} job(s) in flight`
        : 'no job in flight';
    say(
      { type: 'watch-stopping', reason: reasonName(reason), jobsInFlight: inFlight },
      `stopping (${reason.kind === 'lost' ? printable(reason.why) : reasonName(reason)}): no new job; ${waiting}`,
    );
    const left = await loop.drain(options.drainTimeout);
    await status.flush();
    if (left.length > 0)
      io.err(interruptMessage(inFlightJobs, reason.kind === 'signal' ? reason.signal : 'SIGTERM'));
    if (loop.error !== undefined) throw loop.error;
    if (reason.kind === 'lost') {
      io.err(`gridpkg: ${printable(reason.why)}; this watch stopped\n`);
      return ExitCode.error;
    }
    // SIGTERM is how a service manager stops a service: a normal end. Ctrl-C says it was interrupted.
    return reason.kind === 'signal' && reason.signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.ok;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await context.close?.();
  }
}

/** A duration option whose default is shown as written (6h), not in milliseconds. */
function durationOption(flags: string, description: string, fallback: string): Option {
  return new Option(flags, description).argParser(parseDuration).default(parseDuration(fallback), fallback);
}

function reasonName(reason: StopReason): string {
  return reason.kind === 'signal' ? reason.signal : reason.kind === 'lost' ? 'lease lost' : 'error';
}

function describeUpdate(update: { changed: string[]; removed: string[]; unchanged: number }): string {
  const names = (sites: string[]) => sites.map((site) => printable(site, 64)).join(', ');
  const parts = [
    update.changed.length > 0
      ? `${update.changed.length} site(s) changed (${names(update.changed)})`
      : 'no site changed',
    ...(update.removed.length > 0 ? [`${update.removed.length} removed (${names(update.removed)})`] : []),
    `${update.unchanged} unchanged`,
  ];
  return parts.join(', ');
}

/** An edit that does not load: the located diagnostics, as validate prints them; the last good spec keeps running. */
function reportSpecError(
  error: unknown,
  say: (record: { type: string } & Record<string, unknown>, text: string) => void,
): void {
  const message =
    error instanceof SpecError ? error.message : `gridpkg: ${printableLines(describeError(error))}`;
  const count = error instanceof SpecError ? error.diagnostics.length : 1;
  say(
    { type: 'spec-invalid', message, problems: count },
    `${message}\ngridpkg: the edited spec has ${count} problem(s); the last good spec keeps running`,
  );
}
