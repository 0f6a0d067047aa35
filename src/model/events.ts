/**
 * What the engine tells its listeners while it works, one typed event per step of a site's life: the CLI's
 * progress lines and the JSON log today, reports and metrics next. Events carry plain values (site and job ids,
 * states, counts, messages) so that any layer can listen without importing another's types. Text in them comes
 * from sites and jobs and is raw: every listener that prints it makes it safe (src/report/safe-output.ts).
 */

export type JobModeName = 'probe' | 'apply';

/** Whether a site holds what the spec says. */
export type SyncState = 'in-sync' | 'drifted' | 'unknown';

/** Where a site's reconciliation stands in this controller. */
export type SitePhase =
  /** A step is under way. */
  | 'progressing'
  /** The site holds what the spec says (verified from a job's report). */
  | 'converged'
  /** The last step failed in a way that may pass; the site is tried again after `retryInMs`. */
  | 'retrying'
  /** The site needs a person (or its attempts ran out): it is left alone until something changes. */
  | 'failed'
  /** The run ended (timeout, stop) before the site was done. */
  | 'stopped'
  /** watch: attempts ran out or the failure needs a person; left alone until the site's desired state changes. */
  | 'stalled'
  /** watch --observe-only: the site was probed and planned, nothing applied (`sync` says whether it drifted). */
  | 'observed';

export type ControllerEvent =
  | { type: 'job-submitted'; site: string; jobId: string; mode: JobModeName }
  /** The backend's state of a job that has not ended (queued, running), once per change. */
  | { type: 'job-state'; site: string; jobId: string; state: string; raw: string }
  | { type: 'job-finished'; site: string; jobId: string; mode: JobModeName; description: string }
  /** Anything else about a job worth a line: re-attaching, waiting for another controller, a broken lock. */
  | { type: 'job-note'; site: string; message: string }
  | {
      type: 'observed';
      site: string;
      state: 'known' | 'unknown';
      /** A recorded observation was used instead of a probe job. */
      reused: boolean;
      jobId: string | undefined;
      observedAt: string;
      reason?: string;
    }
  | {
      type: 'planned';
      site: string;
      outcome: 'in-sync' | 'changes' | 'unknown' | 'blocked';
      actions: number;
      reasons: string[];
    }
  | {
      type: 'applied';
      site: string;
      /** The job's report status, or `not-converged` / `unknown` as src/reconcile/engine.ts judges them. */
      status: string;
      jobId: string | undefined;
      message: string;
      remaining: string[];
    }
  | {
      type: 'site-status';
      site: string;
      phase: SitePhase;
      sync: SyncState;
      attempt: number;
      message: string;
      retryInMs?: number;
    };

export type ControllerEventType = ControllerEvent['type'];

/** Where events go: a function, so that a context built by hand (tests) can leave it out or collect into a list. */
export type EventSink = (event: ControllerEvent) => void;
