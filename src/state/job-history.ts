/** The job history the drift report shows: each site's last finished jobs, apply jobs with the actions they ran. */
import { parseReport } from '../grid/protocol/index.js';
import type { RecordedJob } from '../report/drift/model.js';
import type { Ledger } from './ledger.js';
import type { ObservationStore } from './observations.js';

/** Finished jobs per site shown in the report's history. */
export const HISTORY_ENTRIES = 10;

/** Each site's last jobs from the ledger; apply jobs with the actions their saved report lists. */
export async function recordedJobs(
  state: { ledger: Ledger; observations: ObservationStore },
  sites: readonly string[],
): Promise<Map<string, RecordedJob[]>> {
  const histories = await state.ledger.histories(sites, HISTORY_ENTRIES);
  const result = new Map<string, RecordedJob[]>();
  for (const [site, entries] of histories) {
    const jobs: RecordedJob[] = [];
    for (const entry of entries) {
      const text = entry.mode === 'apply' ? await state.observations.loadReport(entry.jobId) : undefined;
      const parsed = text === undefined ? undefined : parseReport(text);
      jobs.push(parsed?.ok ? { ...entry, actions: parsed.report.actions } : entry);
    }
    result.set(site, jobs);
  }
  return result;
}
