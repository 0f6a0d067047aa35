/**
 * Finished jobs by mode and outcome, counted from the ledger history (for `gridpkg_jobs_total`). Outcomes are a
 * closed list, so a history file written by anything else cannot invent label values.
 */
import type { Ledger } from '../state/ledger.js';

export const JOB_MODES = ['probe', 'apply'] as const;
/** The report's status when the job ended with a report, else the job's end state; `other` for anything else. */
export const JOB_OUTCOMES = [
  'ok',
  'partial',
  'locked',
  'stale',
  'error',
  'done',
  'failed',
  'lost',
  'not-submitted',
  'abandoned',
  'other',
] as const;

export interface JobCount {
  mode: (typeof JOB_MODES)[number] | 'other';
  outcome: (typeof JOB_OUTCOMES)[number];
  count: number;
}

export function jobOutcome(entry: { jobState: string; reportStatus?: string }): JobCount['outcome'] {
  const raw =
    entry.jobState === 'done' && entry.reportStatus !== undefined ? entry.reportStatus : entry.jobState;
  return (JOB_OUTCOMES as readonly string[]).includes(raw) ? (raw as JobCount['outcome']) : 'other';
}

export async function countJobs(ledger: Ledger, sites: readonly string[]): Promise<JobCount[]> {
  const counts = new Map<string, JobCount>();
  for (const entries of (await ledger.histories(sites, Number.MAX_SAFE_INTEGER)).values()) {
    for (const entry of entries) {
      const mode = (JOB_MODES as readonly string[]).includes(entry.mode) ? entry.mode : 'other';
      const outcome = jobOutcome(entry);
      const key = `${mode} ${outcome}`;
      const found = counts.get(key);
      if (found) found.count += 1;
      else counts.set(key, { mode, outcome, count: 1 });
    }
  }
  return [...counts.values()];
}
