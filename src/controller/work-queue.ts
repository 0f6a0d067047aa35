/**
 * A work queue keyed by site, in the manner of controller-runtime's: a key is queued at most once, never worked on
 * twice at once, and keys are independent of each other (a slow site holds up no other). A key added while it is
 * being worked on is worked on again right after; `addAfter` brings a key back later (retry backoff, resync).
 * At most `concurrency` keys are worked on at once: since a reconcile step runs one job at a time, that bounds the
 * jobs in flight.
 */
import type { Clock } from './clock.js';

export interface WorkQueueOptions {
  concurrency: number;
  clock: Clock;
}

export class WorkQueue<K> {
  private readonly pending: K[] = [];
  private readonly queued = new Set<K>();
  private readonly active = new Set<K>();
  /** Added again while being worked on: queued once the current work ends. */
  private readonly again = new Set<K>();
  private readonly timers = new Map<K, { at: number; cancel: () => void }>();
  private stopped = false;
  private failure: { error: unknown } | undefined;
  private idleWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];

  constructor(
    private readonly work: (key: K) => Promise<void>,
    private readonly options: WorkQueueOptions,
  ) {
    if (!(options.concurrency >= 1)) throw new RangeError('WorkQueue concurrency must be at least 1');
  }

  /** Queues the key now (a later `addAfter` of it is dropped: this comes first). */
  add(key: K): void {
    if (this.stopped) return;
    this.cancelTimer(key);
    if (this.active.has(key)) {
      this.again.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.pending.push(key);
    this.pump();
  }

  /** Queues the key after `ms`; if it is already due earlier, the earlier time stands. */
  addAfter(key: K, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.options.clock.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.options.clock.after(ms, () => {
      this.timers.delete(key);
      this.add(key);
    });
    this.timers.set(key, { at, cancel });
  }

  /** Keys waiting to start, being worked on, and waiting for their time. */
  get counts(): { pending: number; active: number; waiting: number } {
    return { pending: this.pending.length, active: this.active.size, waiting: this.timers.size };
  }

  isActive(key: K): boolean {
    return this.active.has(key);
  }

  /** Starts nothing more: queued and waiting keys are dropped; work under way runs to its end. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    this.pending.length = 0;
    this.queued.clear();
    this.again.clear();
    this.settleIdle();
  }

  /**
   * Resolves once nothing is queued, under way or waiting for its time; rejects with the first error the work
   * function threw (it should not throw: a step reports failures in its result).
   */
  idle(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.idleWaiters.push({ resolve, reject });
      this.settleIdle();
    });
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.options.concurrency) {
      const key = this.pending.shift();
      if (key === undefined) break;
      this.queued.delete(key);
      this.active.add(key);
      void this.run(key);
    }
  }

  private async run(key: K): Promise<void> {
    try {
      await this.work(key);
    } catch (error) {
      this.failure ??= { error };
    } finally {
      this.active.delete(key);
      if (this.again.delete(key)) this.add(key);
      this.pump();
      this.settleIdle();
    }
  }

  private cancelTimer(key: K): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  private settleIdle(): void {
    const busy = this.pending.length > 0 || this.active.size > 0 || this.timers.size > 0;
    if (busy && !this.failure) return;
    if (this.failure && this.active.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) {
      if (this.failure) waiter.reject(this.failure.error);
      else waiter.resolve();
    }
  }
}
