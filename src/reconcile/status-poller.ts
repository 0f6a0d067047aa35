/**
 * Waits for the end of many jobs with few status commands. Jobs whose backends share a statusGroup (one Slurm
 * cluster, one ARC CE) form one group, whatever site they belong to; each group has one poll loop that asks about
 * ALL its jobs in ONE status() call per round. Each job keeps its own backoff schedule; a round happens when the
 * earliest job of the group is due and covers every job of the group, since asking about one more job costs nothing.
 * No I/O but timers and the backends' own calls.
 */
import type { GridBackend, JobHandle, JobState } from '../grid/backend.js';
import { isFinished } from '../grid/backend.js';

export interface PollInterval {
  first: number;
  max: number;
}

export const DEFAULT_POLL_INTERVAL_MS: PollInterval = { first: 100, max: 5000 };

/** A job still queued this long after submission is cancelled and counted lost (the next apply submits again). */
export const DEFAULT_QUEUE_LIMIT_MS = 24 * 60 * 60 * 1000;

export interface WatchOptions {
  timeoutSeconds: number;
  /** How long past the job timeout to keep waiting for a backend that does not answer. */
  deadlineGraceMs: number;
  /**
   * How long a job may wait in the batch system's queue (default DEFAULT_QUEUE_LIMIT_MS): queue time does not count
   * against the job timeout, which starts when the job is first seen running.
   */
  queueLimitMs?: number;
  /** First poll after `first` ms, then every ×1.5 up to `max` (default the backend's, else DEFAULT_POLL_INTERVAL_MS). */
  pollIntervalMs?: PollInterval;
  /** status() threw (CE down, timeout): transient, polling goes on. If this throws, the watch fails with that. */
  onUnavailable(error: unknown): void;
  /** The job's state in a round where it had not finished yet (queued, running), for progress output. */
  onState?(state: JobState): void;
}

interface Watch {
  readonly backend: GridBackend;
  readonly handle: JobHandle;
  readonly timeoutSeconds: number;
  /** When the controller gives up: job timeout + grace from the start, or the queue limit while queued. */
  deadline: number;
  /** What the deadline counts from: the job was submitted, seen queued, or seen running. */
  phase: 'submitted' | 'queued' | 'running';
  readonly submittedAt: number;
  readonly runLimitMs: number;
  readonly queueLimitMs: number;
  readonly max: number;
  readonly onUnavailable: (error: unknown) => void;
  readonly onState: ((state: JobState) => void) | undefined;
  /** When this job next wants a round, and the wait after that round. */
  dueAt: number;
  nextDelay: number;
  resolve(state: JobState): void;
  reject(error: unknown): void;
}

interface Group {
  readonly watches: Set<Watch>;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A status call is under way: the round reschedules the group when it ends. */
  polling: boolean;
}

type GroupKey = string | GridBackend;

export class StatusPoller {
  private readonly groups = new Map<GroupKey, Group>();

  /** The job's final state, or `lost` (and the job cancelled) once its timeout plus the grace has passed. */
  watch(backend: GridBackend, handle: JobHandle, options: WatchOptions): Promise<JobState> {
    const { first, max } = options.pollIntervalMs ?? backend.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    const key: GroupKey = backend.statusGroup ?? backend;
    let group = this.groups.get(key);
    if (!group) {
      group = { watches: new Set(), timer: undefined, polling: false };
      this.groups.set(key, group);
    }
    const now = Date.now();
    return new Promise<JobState>((resolve, reject) => {
      const joined = group;
      joined.watches.add({
        backend,
        handle,
        timeoutSeconds: options.timeoutSeconds,
        deadline: now + options.timeoutSeconds * 1000 + options.deadlineGraceMs,
        phase: 'submitted',
        submittedAt: now,
        runLimitMs: options.timeoutSeconds * 1000 + options.deadlineGraceMs,
        queueLimitMs: options.queueLimitMs ?? DEFAULT_QUEUE_LIMIT_MS,
        max,
        onUnavailable: options.onUnavailable,
        onState: options.onState,
        dueAt: now + first,
        nextDelay: Math.min(max, Math.ceil(first * 1.5)),
        resolve,
        reject,
      });
      // A group sleeping long for its older jobs wakes early for this one's first poll.
      this.schedule(key, joined);
    });
  }

  /** Arms the group's timer for its earliest due job; a group without jobs is forgotten and leaves no timer. */
  private schedule(key: GroupKey, group: Group): void {
    if (group.polling) return;
    clearTimeout(group.timer);
    group.timer = undefined;
    if (group.watches.size === 0) {
      this.groups.delete(key);
      return;
    }
    let dueAt = Number.POSITIVE_INFINITY;
    for (const watch of group.watches) dueAt = Math.min(dueAt, watch.dueAt);
    group.timer = setTimeout(
      () => {
        group.timer = undefined;
        void this.round(key, group);
      },
      Math.max(0, dueAt - Date.now()),
    );
  }

  private async round(key: GroupKey, group: Group): Promise<void> {
    group.polling = true;
    try {
      const now = Date.now();
      for (const watch of group.watches) {
        if (now <= watch.deadline) continue;
        group.watches.delete(watch);
        void giveUp(watch);
      }
      const asked = [...group.watches];
      // Any member can answer for all; the oldest one is asked so that the same object answers while it can.
      const speaker = asked[0]?.backend;
      if (!speaker) return;
      let states: Map<string, JobState> | undefined;
      try {
        states = await speaker.status(asked.map((watch) => watch.handle));
      } catch (error) {
        for (const watch of asked) {
          try {
            watch.onUnavailable(error);
          } catch (failure) {
            group.watches.delete(watch);
            watch.reject(failure);
          }
        }
      }
      const polledAt = Date.now();
      for (const watch of asked) {
        // Missing from the answer: no news, the job is not finished yet.
        const state = states?.get(watch.handle.jobId);
        if (state && isFinished(state)) {
          group.watches.delete(watch);
          watch.resolve(state);
          continue;
        }
        if (state) {
          moveDeadline(watch, state, polledAt);
          watch.onState?.(state);
        }
        // Polled, due or not: its schedule counts from this round, so the jobs of a group fall into step.
        watch.dueAt = polledAt + watch.nextDelay;
        watch.nextDelay = Math.min(watch.max, Math.ceil(watch.nextDelay * 1.5));
      }
    } finally {
      group.polling = false;
      this.schedule(key, group);
    }
  }
}

/**
 * A grid queue may hold a job for hours: while the job is queued the deadline is the queue limit from submission,
 * and the job timeout (plus grace) counts from the round in which the job is first seen running.
 */
function moveDeadline(watch: Watch, state: JobState, now: number): void {
  if (state.state === 'queued' && watch.phase === 'submitted') {
    watch.phase = 'queued';
    watch.deadline = Math.max(watch.deadline, watch.submittedAt + watch.queueLimitMs);
  } else if (state.state === 'running' && watch.phase !== 'running') {
    watch.phase = 'running';
    watch.deadline = now + watch.runLimitMs;
  }
}

/** Past the deadline the controller stops waiting even if the backend never answers: the job is then lost. */
async function giveUp(watch: Watch): Promise<void> {
  try {
    await watch.backend.cancel(watch.handle);
  } catch {
    // Best effort: the job is counted lost either way.
  }
  watch.resolve({
    state: 'lost',
    reason:
      watch.phase === 'queued'
        ? `still queued ${Math.round(watch.queueLimitMs / 60_000)} min after submission (the queue limit)`
        : `no end seen within the job timeout of ${watch.timeoutSeconds} s`,
    raw: 'deadline',
  });
}
