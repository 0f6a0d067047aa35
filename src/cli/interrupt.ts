/**
 * Ctrl-C and SIGTERM while jobs are in flight. Grid jobs are not ours to stop: they keep running on their sites and
 * the ledger remembers them, so the next run re-attaches to them. The first signal says so and exits at once (every
 * state file is written atomically; the temporary files of writes under way are removed on the way out); nothing
 * else is submitted because the process is gone.
 */
import { InFlightJobs } from '../reconcile/in-flight.js';
import { printable } from '../report/untrusted.js';
import { removePendingTemporaries } from '../state/atomic.js';
import { ExitCode } from './exit-codes.js';

/** The jobs of this process's runs (jobContextFor shares it with every job context). */
export const inFlightJobs = new InFlightJobs();

/** Run (synchronously) on the first signal before the process exits: `serve` stops listening there. */
export const interruptCleanups = new Set<() => void>();

/** What an interrupted run prints on stderr. */
export function interruptMessage(jobs: InFlightJobs, signal: NodeJS.Signals): string {
  const what = signal === 'SIGINT' ? 'Interrupted' : `Stopped by ${signal}`;
  const list = jobs.list();
  if (list.length === 0) return `\n${what}. No job was in flight; nothing else was submitted.\n`;
  const named = list
    .map(
      (job) =>
        `${printable(job.site, 64)}: ${printable(job.jobId, 100)}${job.submitted ? '' : ' (being submitted)'}`,
    )
    .join(', ');
  return (
    `\n${what}: ${list.length} job(s) keep running on their sites (${named}); run the same command again to ` +
    're-attach to them. Nothing else was submitted.\n'
  );
}

export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
}

/** A command that stops by itself on a signal (watch: drain, then exit); undefined: the default exit at once. */
let stopHandler: ((signal: NodeJS.Signals) => void) | undefined;

/**
 * Lets a long-running command handle the first SIGINT/SIGTERM itself (stop submitting, wait for jobs in flight);
 * a second signal still ends the process at once. Returns the function that removes the handler.
 */
export function onStopSignal(handler: (signal: NodeJS.Signals) => void): () => void {
  stopHandler = handler;
  return () => {
    if (stopHandler === handler) stopHandler = undefined;
  };
}

/** Installs the SIGINT/SIGTERM handlers of the gridpkg command (not of runCli: tests run that in-process). */
export function installInterruptHandlers(
  writeErr: (text: string) => void,
  jobs: InFlightJobs = inFlightJobs,
): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal while the first is being handled ends the process without another word.
    if (interrupted) {
      // (watch may be draining, with state writes under way: their temporary files go too.)
      removePendingTemporaries();
      process.exit(exitCodeForSignal(signal));
    }
    interrupted = true;
    for (const cleanup of interruptCleanups) cleanup();
    if (stopHandler) {
      stopHandler(signal);
      return;
    }
    removePendingTemporaries();
    writeErr(interruptMessage(jobs, signal));
    process.exit(exitCodeForSignal(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
