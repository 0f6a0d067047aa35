/**
 * The jobs this process is following right now, so that an interrupted run can say which jobs keep running on
 * their sites (and that the next run re-attaches to them through the ledger).
 */
import type { JobMode } from '../grid/protocol/types.js';
import type { LedgerEntry } from '../state/ledger.js';

export interface InFlightJob {
  site: string;
  jobId: string;
  mode: JobMode;
  /** False while the submission itself is under way (the ledger holds the intent). */
  submitted: boolean;
}

export class InFlightJobs {
  private readonly jobs = new Map<string, InFlightJob>();

  /** Records or updates a job from its ledger entry. */
  track(entry: LedgerEntry): void {
    this.jobs.set(entry.jobId, {
      site: entry.site,
      jobId: entry.jobId,
      mode: entry.mode,
      submitted: entry.phase === 'submitted' || entry.backendId !== undefined,
    });
  }

  untrack(jobId: string): void {
    this.jobs.delete(jobId);
  }

  list(): InFlightJob[] {
    return [...this.jobs.values()].sort((a, b) => a.site.localeCompare(b.site));
  }
}
