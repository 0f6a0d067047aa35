/**
 * `converge`: reconcile every selected site until each has converged, failed for good, or the timeout passed. Each
 * site runs its own steps through the work queue (one step of a site at a time, sites independent: a site that
 * converges early is done early, whatever the others do), and retryable failures come back after a backoff with
 * jitter, up to the attempt limit.
 */
import type { EventSink, SitePhase, SyncState } from '../model/events.js';
import type { DesiredState } from '../spec/types.js';
import type { RetryPolicy } from './backoff.js';
import {
  reconcileSite,
  type StepContext,
  type StepInput,
  type StepOutcome,
  type StepResult,
} from './reconcile-site.js';
import { type AttemptState, announceRetry, nextAttempt, runAttempt } from './site-attempt.js';
import { WorkQueue } from './work-queue.js';

export type Verdict = 'converged' | 'failed' | 'unknown';

export interface SiteVerdict {
  site: string;
  verdict: Verdict;
  sync: SyncState;
  /** Why the site did not converge (raw text from sites and jobs); empty when it did. */
  message: string;
  attempts: number;
  /** Ids of the jobs run (or re-attached to) for the site, in order. */
  jobs: string[];
}

export interface ConvergeOptions {
  sites: readonly DesiredState[];
  /** What every step gets; `signal` is set by converge. */
  step: Omit<StepContext, 'signal'>;
  events: EventSink;
  /** Steps (and so jobs) in flight at once. */
  concurrency: number;
  timeoutMs?: number;
  retry: RetryPolicy;
  random?: () => number;
  /** Stops the run as the timeout does (the controller lease was lost, a signal). */
  signal?: AbortSignal;
  /** The step to run (tests replace it). */
  reconcile?: (input: StepInput, ctx: StepContext) => Promise<StepResult>;
}

interface SiteState extends AttemptState {
  verdict: SiteVerdict | undefined;
}

export async function converge(options: ConvergeOptions): Promise<SiteVerdict[]> {
  const { clock } = options.step;
  const reconcile = options.reconcile ?? reconcileSite;
  const abort = new AbortController();
  const deadline = options.timeoutMs === undefined ? undefined : clock.now() + options.timeoutMs;
  const states = new Map<string, SiteState>(
    options.sites.map((desired) => [
      desired.site,
      { desired, attempts: 0, jobs: [], observation: undefined, last: undefined, verdict: undefined },
    ]),
  );
  let open = states.size;
  let finish: () => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  const settle = (
    state: SiteState,
    verdict: Verdict,
    sync: SyncState,
    message: string,
    phase: SitePhase = verdict === 'converged' ? 'converged' : 'failed',
  ) => {
    if (state.verdict) return;
    const site = state.desired.site;
    state.verdict = { site, verdict, sync, message, attempts: state.attempts, jobs: state.jobs };
    options.events({
      type: 'site-status',
      site,
      phase,
      sync,
      attempt: state.attempts,
      message,
    });
    open--;
    if (open === 0) finish();
  };

  const step = async (site: string): Promise<void> => {
    const state = states.get(site);
    if (!state || state.verdict) return;
    const result = await runAttempt(
      state,
      reconcile,
      { ...options.step, signal: abort.signal },
      options.events,
    );
    if (state.verdict) return; // the run timed out while this step was under way
    if (result.outcome !== 'retry') {
      settle(state, verdictOfOutcome(result.outcome), result.sync, result.message);
      return;
    }
    const next = nextAttempt(state, result, options.retry, options.random);
    if ('giveUp' in next) {
      settle(state, verdictOf(result.sync), result.sync, next.giveUp);
      return;
    }
    const delay = next.delayMs;
    if (deadline !== undefined && clock.now() + delay >= deadline) {
      settle(
        state,
        verdictOf(result.sync),
        result.sync,
        `${result.message}; no time for another attempt before the timeout`,
      );
      return;
    }
    announceRetry(state, result, delay, options.events);
    queue.addAfter(site, delay);
  };

  const queue = new WorkQueue<string>(
    (site) =>
      step(site).catch((error: unknown) => {
        // A step reports failures in its result; an exception here is a bug: end the run with it.
        fail(error);
      }),
    { concurrency: options.concurrency, clock },
  );
  if (open === 0) return [];
  for (const site of states.keys()) queue.add(site);

  /** No new job from here on; jobs under way keep running on their sites, and the next run re-attaches to them. */
  const stopAll = (why: string) => {
    abort.abort();
    queue.stop();
    for (const [site, state] of states) {
      if (state.verdict) continue;
      const sync = syncOf(state);
      const underWay = queue.isActive(site)
        ? '; a job may still be running on the site: the next run re-attaches to it'
        : '';
      const last = state.last ? ` (last attempt: ${state.last.message})` : '';
      settle(
        state,
        verdictOf(sync),
        sync,
        `${why} after ${state.attempts} attempt(s)${last}${underWay}`,
        'stopped',
      );
    }
  };
  const cancelDeadline =
    options.timeoutMs === undefined
      ? () => undefined
      : clock.after(options.timeoutMs, () => stopAll('timed out'));
  const onAbort = () => stopAll(`stopped (${String(options.signal?.reason ?? 'aborted')})`);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await done;
  } finally {
    cancelDeadline();
    options.signal?.removeEventListener('abort', onAbort);
    queue.stop();
  }
  return [...states.values()].map((state) => state.verdict as SiteVerdict);
}

function syncOf(state: SiteState): SyncState {
  return state.last?.sync ?? 'unknown';
}

/** A step's final outcome as converge's verdict; observe-only drift (watch only) counts as not converged. */
function verdictOfOutcome(outcome: Exclude<StepOutcome, 'retry'>): Verdict {
  return outcome === 'drifted' ? 'failed' : outcome;
}

/** A site given up on: failed when gridpkg knows what it holds, unknown when it could not see it. */
function verdictOf(sync: SyncState): Verdict {
  return sync === 'unknown' ? 'unknown' : 'failed';
}
