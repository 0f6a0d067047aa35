/**
 * `watch`: keeps every site of the spec converged until stopped. Every site is reconciled when it first appears;
 * a new spec (the CLI reloads it when a file changes) reconciles only the sites whose resolved desired state
 * changed (a digest of it, see src/spec/desired-digest.ts); a converged site is probed again after the resync interval, with
 * jitter so that sites do not all come back at once, to catch changes made by hand. Retryable failures come back
 * after a backoff up to the attempt limit; after that, or after a failure that needs a person, the site is
 * *stalled*: left alone until its desired state changes (or `retryStalled`, SIGHUP). Steps run through the work
 * queue (one step of a site at a time, sites independent), as in converge.
 */
import type { EventSink } from '../model/events.js';
import { desiredDigest } from '../spec/desired-digest.js';
import type { DesiredState } from '../spec/types.js';
import type { RetryPolicy } from './backoff.js';
import { reconcileSite, type StepContext, type StepResult } from './reconcile-site.js';
import {
  type AttemptState,
  announceRetry,
  nextAttempt,
  type ReconcileStep,
  runAttempt,
} from './site-attempt.js';
import { WorkQueue } from './work-queue.js';

export interface ResyncPolicy {
  /** A converged site is probed again after this long (default 6 h; a site's resyncInterval in the spec wins)... */
  intervalMs: number;
  /** ...moved at random by up to this fraction of it, up or down (default 0.1). */
  jitter: number;
}

export const DEFAULT_RESYNC: ResyncPolicy = { intervalMs: 6 * 60 * 60_000, jitter: 0.1 };

/** The wait before a site's next resync; `random` returns [0, 1). Pure. */
export function resyncDelay(policy: ResyncPolicy, random: () => number = Math.random): number {
  const spread = policy.intervalMs * policy.jitter;
  return Math.max(1, Math.round(policy.intervalMs - spread + 2 * spread * random()));
}

export interface WatchSpec {
  sites: readonly DesiredState[];
  /** Recorded in every plan made from this spec. */
  planMeta: StepContext['planMeta'];
}

export interface WatchOptions {
  /** What every step gets; watch sets `planMeta`, `signal` and `observeOnly`. */
  step: Omit<StepContext, 'signal' | 'planMeta' | 'observeOnly'>;
  events: EventSink;
  /** Steps (and so jobs) in flight at once. */
  concurrency: number;
  retry: RetryPolicy;
  resync: ResyncPolicy;
  /** Probe and plan, never apply. */
  observeOnly?: boolean;
  random?: () => number;
  /** The step to run (tests replace it). */
  reconcile?: ReconcileStep;
  /** A step threw (a bug: steps report failures in their results): the loop has stopped. */
  onError?(error: unknown): void;
}

export interface SpecUpdate {
  /** Sites that are new or whose desired state changed: queued for a step. */
  changed: string[];
  /** Sites no longer in the spec: forgotten (a step under way runs to its end; its result is dropped). */
  removed: string[];
  unchanged: number;
}

interface WatchedSite extends AttemptState {
  digest: string;
  stalled: boolean;
  /** Bumped whenever the desired state changes: a step that started before drops its result. */
  generation: number;
  cancelResync: () => void;
}

export class WatchLoop {
  private readonly sites = new Map<string, WatchedSite>();
  private readonly queue: WorkQueue<string>;
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly reconcile: ReconcileStep;
  private planMeta: StepContext['planMeta'] = { specFile: '', specDigest: '' };
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: WatchOptions) {
    this.reconcile = options.reconcile ?? reconcileSite;
    this.queue = new WorkQueue<string>((site) => this.track(this.step(site)), {
      concurrency: options.concurrency,
      clock: options.step.clock,
    });
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /** A step that threw (a bug: steps report failures in their results); the CLI ends the watch with it. */
  get error(): unknown {
    return this.failure?.error;
  }

  /** Takes a (new) spec: sites that are new or changed are reconciled (and un-stalled), removed ones forgotten. */
  update(spec: WatchSpec): SpecUpdate {
    this.planMeta = spec.planMeta;
    const update: SpecUpdate = { changed: [], removed: [], unchanged: 0 };
    const wanted = new Set(spec.sites.map((desired) => desired.site));
    for (const [site, state] of this.sites) {
      if (wanted.has(site)) continue;
      state.cancelResync();
      this.sites.delete(site);
      update.removed.push(site);
    }
    for (const desired of spec.sites) {
      const digest = desiredDigest(desired);
      const state = this.sites.get(desired.site);
      if (state?.digest === digest) {
        update.unchanged++;
        continue;
      }
      if (state) {
        state.cancelResync();
        Object.assign(state, {
          desired,
          digest,
          attempts: 0,
          stalled: false,
          generation: state.generation + 1,
        });
      } else {
        this.sites.set(desired.site, {
          desired,
          digest,
          attempts: 0,
          jobs: [],
          observation: undefined,
          last: undefined,
          stalled: false,
          generation: 0,
          cancelResync: () => undefined,
        });
      }
      update.changed.push(desired.site);
    }
    // Queued once the caller has told about the update: its steps' events come after that line.
    queueMicrotask(() => {
      for (const site of update.changed) this.queue.add(site);
    });
    return update;
  }

  /** Gives every stalled site another series of attempts (SIGHUP: a person fixed something outside the spec). */
  retryStalled(): string[] {
    const sites = [...this.sites.values()].filter((state) => state.stalled);
    for (const state of sites) {
      state.stalled = false;
      state.attempts = 0;
      this.queue.add(state.desired.site);
    }
    return sites.map((state) => state.desired.site);
  }

  /** Sites stalled now. */
  stalledSites(): string[] {
    return [...this.sites.values()].filter((s) => s.stalled).map((s) => s.desired.site);
  }

  /**
   * Starts nothing more: no new job is submitted (a step under way finishes the job it follows and records it;
   * it does not go on to apply), queued and waiting sites are dropped.
   */
  stop(reason = 'stopped'): void {
    if (this.stopped) return;
    this.abort.abort(reason);
    this.queue.stop();
    for (const state of this.sites.values()) state.cancelResync();
  }

  /**
   * Waits until the steps under way have ended (their jobs recorded in the ledger), or `graceMs` passed. Returns
   * the sites whose steps were still under way (empty: drained).
   */
  async drain(graceMs: number): Promise<string[]> {
    let cancel: () => void = () => undefined;
    const timeout = new Promise<void>((resolve) => {
      cancel = this.options.step.clock.after(graceMs, resolve);
    });
    const all = (async () => {
      while (this.running.size > 0) await Promise.all(this.running);
    })();
    await Promise.race([all, timeout]);
    cancel();
    return [...this.sites.keys()].filter((site) => this.queue.isActive(site));
  }

  private track(step: Promise<void>): Promise<void> {
    const tracked = step.catch((error: unknown) => {
      this.failure ??= { error };
      this.stop('a bug in gridpkg');
      this.options.onError?.(error);
    });
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
    return tracked;
  }

  private async step(site: string): Promise<void> {
    const state = this.sites.get(site);
    if (!state || state.stalled || this.stopped) return;
    const generation = state.generation;
    const result = await runAttempt(
      state,
      this.reconcile,
      {
        ...this.options.step,
        planMeta: this.planMeta,
        signal: this.abort.signal,
        ...(this.options.observeOnly ? { observeOnly: true } : {}),
      },
      this.options.events,
    );
    // A watch runs for months: it keeps no list of job ids (the ledger's history has them).
    state.jobs.length = 0;
    // Removed or changed meanwhile: the new desired state has its own step queued; this result is about the old.
    if (this.sites.get(site) !== state || state.generation !== generation) return;
    if (this.stopped) {
      this.emit(state, 'stopped', result, `watch stopped: ${result.message || 'step ended'}`);
      return;
    }
    switch (result.outcome) {
      case 'converged':
      case 'drifted':
        state.attempts = 0;
        this.emit(state, result.outcome === 'converged' ? 'converged' : 'observed', result, result.message);
        this.scheduleResync(state);
        return;
      case 'failed':
      case 'unknown':
        this.stall(state, result, result.message);
        return;
      case 'retry':
        break;
    }
    const next = nextAttempt(state, result, this.options.retry, this.options.random);
    if ('giveUp' in next) {
      this.stall(state, result, next.giveUp);
      return;
    }
    announceRetry(state, result, next.delayMs, this.options.events);
    this.queue.addAfter(site, next.delayMs);
  }

  private stall(state: WatchedSite, result: StepResult, why: string): void {
    state.stalled = true;
    this.emit(
      state,
      'stalled',
      result,
      `${why}; left alone until the site's desired state changes (or SIGHUP)`,
    );
  }

  /** A resync probes the site afresh: the observation kept for the next step is dropped when it comes due. */
  private scheduleResync(state: WatchedSite): void {
    state.cancelResync();
    // The site's own resyncInterval from the spec, else the watch's.
    const own = state.desired.resyncSeconds;
    const policy =
      own === undefined ? this.options.resync : { ...this.options.resync, intervalMs: own * 1000 };
    state.cancelResync = this.options.step.clock.after(resyncDelay(policy, this.options.random), () => {
      state.cancelResync = () => undefined;
      state.observation = undefined;
      this.queue.add(state.desired.site);
    });
  }

  private emit(
    state: WatchedSite,
    phase: 'converged' | 'observed' | 'stalled' | 'stopped',
    result: StepResult,
    message: string,
  ): void {
    this.options.events({
      type: 'site-status',
      site: state.desired.site,
      phase,
      sync: result.sync,
      attempt: state.attempts,
      message,
    });
  }
}
