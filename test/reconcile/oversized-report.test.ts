/**
 * A report cut at the backends' 4 MiB read cap is never parsed: the site is unknown because the report was too
 * large — not "bad dep pattern" or whatever the cut line happens to look like.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GridBackend, JobHandle, JobOutput, JobState, JobSubmission } from '../../src/grid/backend.js';
import { REPORT_BEGIN_MARKER, REPORT_END_MARKER } from '../../src/grid/protocol/index.js';
import { type JobContext, runSiteJob } from '../../src/reconcile/run-job.js';
import { SiteQueue } from '../../src/reconcile/site-queue.js';
import { Ledger } from '../../src/state/ledger.js';
import { ObservationStore } from '../../src/state/observations.js';
import { desired, probeReport } from './fixtures.js';

class FixedOutputBackend implements GridBackend {
  readonly kind = 'scripted';
  constructor(private readonly output: (jobId: string) => JobOutput) {}
  async submit(job: JobSubmission): Promise<JobHandle> {
    return { jobId: job.jobId, site: job.site, backendId: job.jobId };
  }
  async find(): Promise<JobHandle | undefined> {
    return undefined;
  }
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    return new Map(jobs.map((j) => [j.jobId, { state: 'done', exitCode: 0, raw: 'exit 0' }]));
  }
  async fetch(job: JobHandle): Promise<JobOutput> {
    return this.output(job.jobId);
  }
  async cancel(): Promise<void> {}
  async clean(): Promise<void> {}
}

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-oversized-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function run(output: (jobId: string) => JobOutput) {
  const context: JobContext = {
    backendFor: () => new FixedOutputBackend(output),
    ledger: new Ledger(stateDir),
    observations: new ObservationStore(stateDir),
    queue: new SiteQueue(),
    scriptPath: '/nonexistent/site-job.sh',
    pollIntervalMs: { first: 1, max: 5 },
    progress: () => undefined,
  };
  return runSiteJob(context, desired([]), 'probe');
}

describe('reports cut at the read cap', () => {
  it('leaves the site unknown because the report is too large, even when the cut part parses', async () => {
    const result = await run((jobId) => ({
      report: probeReport(jobId),
      stdout: '',
      stderr: '',
      truncated: ['report'],
    }));
    expect(result.observation).toMatchObject({
      state: 'unknown',
      reason: "the job's report is larger than 4 MiB; not read",
    });
    expect(existsSync(join(stateDir, 'reports', `${result.jobId}.txt`))).toBe(false);
  });

  it('does not take the report from a cut stdout either', async () => {
    const result = await run((jobId) => ({
      report: undefined,
      stdout: `${REPORT_BEGIN_MARKER}\n${probeReport(jobId)}${REPORT_END_MARKER}\n`,
      stderr: '',
      truncated: ['stdout'],
    }));
    expect(result.observation).toMatchObject({
      state: 'unknown',
      reason: "the job's stdout (which carries its report) is larger than 4 MiB; not read",
    });
  });

  it('still reads a whole report when only stderr was cut', async () => {
    const result = await run((jobId) => ({
      report: probeReport(jobId),
      stdout: '',
      stderr: 'x',
      truncated: ['stderr'],
    }));
    expect(result.observation.state).toBe('known');
  });
});
