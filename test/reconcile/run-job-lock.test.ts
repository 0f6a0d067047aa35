/**
 * The site lock as the job runner sees it: each request names the site's jobs the backend reported ended (so a lock
 * one of them left is broken at once), and a locked or broken lock is told with a readable owner.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GridBackend, JobHandle, JobState, JobSubmission } from '../../src/grid/backend.js';
import { type JobContext, runSiteJob } from '../../src/reconcile/run-job.js';
import { SiteQueue } from '../../src/reconcile/site-queue.js';
import { Ledger } from '../../src/state/ledger.js';
import { ObservationStore } from '../../src/state/observations.js';
import { desired, probeReport } from './fixtures.js';

/** Ends each job in the next scripted state, with the next scripted report (a probe report by default). */
class EndingBackend implements GridBackend {
  readonly kind = 'scripted';
  submitted: JobSubmission[] = [];
  constructor(
    private readonly ends: JobState[],
    private readonly reports: Array<((jobId: string) => string) | undefined> = [],
  ) {}
  async submit(job: JobSubmission): Promise<JobHandle> {
    this.submitted.push(job);
    return { jobId: job.jobId, site: job.site, backendId: `scripted-${job.jobId}` };
  }
  async find(): Promise<JobHandle | undefined> {
    return undefined;
  }
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    const end = this.ends[this.submitted.length - 1] ?? { state: 'done', exitCode: 0, raw: 'exit 0' };
    return new Map(jobs.map((j) => [j.jobId, end]));
  }
  async fetch(job: JobHandle) {
    const report = this.reports[this.submitted.length - 1] ?? probeReport;
    return { report: report(job.jobId), stdout: '', stderr: '' };
  }
  async cancel(): Promise<void> {}
  async clean(): Promise<void> {}
}

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-runjob-lock-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function contextFor(backend: EndingBackend, messages: string[] = []): JobContext {
  return {
    backendFor: () => backend,
    ledger: new Ledger(stateDir),
    observations: new ObservationStore(stateDir),
    queue: new SiteQueue(),
    scriptPath: '/nonexistent/site-job.sh',
    pollIntervalMs: { first: 1, max: 5 },
    deadlineGraceMs: 0,
    progress: (_site, message) => messages.push(message),
  };
}

const endedLines = (request: string): string[] =>
  request.split('\n').filter((line) => line.startsWith('ended-job '));

const lockedReport =
  (lockLine: string) =>
  (jobId: string): string =>
    [
      'gridpkg-report 1',
      `job ${jobId}`,
      'mode probe',
      'swdir /sw',
      lockLine,
      'status locked',
      'end',
      '',
    ].join('\n');

describe('the site lock in the job runner', () => {
  it('names the jobs the backend reported ended (done or failed) in the next request, never a lost one', async () => {
    const backend = new EndingBackend([
      { state: 'failed', reason: 'cancelled', raw: 'CANCELLED' },
      { state: 'lost', reason: 'gone', raw: 'missing' },
      { state: 'done', exitCode: 0, raw: 'exit 0' },
      { state: 'done', exitCode: 0, raw: 'exit 0' },
    ]);
    const context = contextFor(backend);
    const first = await runSiteJob(context, desired([]), 'probe');
    const lost = await runSiteJob(context, desired([]), 'probe');
    const third = await runSiteJob(context, desired([]), 'probe');
    await runSiteJob(context, desired([]), 'probe');
    const requests = backend.submitted.map((job) => job.request);
    expect(endedLines(requests[0] as string)).toEqual([]);
    expect(endedLines(requests[1] as string)).toEqual([`ended-job ${first.jobId}`]);
    expect(endedLines(requests[2] as string)).toEqual([`ended-job ${first.jobId}`]);
    expect(endedLines(requests[3] as string).sort()).toEqual(
      [`ended-job ${first.jobId}`, `ended-job ${third.jobId}`].sort(),
    );
    expect(requests.flatMap(endedLines)).not.toContain(`ended-job ${lost.jobId}`);
  });

  it('tells who holds a busy lock in words: job, host, pid, when taken in UTC, heartbeat age', async () => {
    const backend = new EndingBackend(
      [],
      [lockedReport('lock busy other-job wn-7 4242 1767607200 heartbeat 12')],
    );
    const result = await runSiteJob(contextFor(backend), desired([]), 'probe');
    expect(result.observation).toMatchObject({
      state: 'unknown',
      reason:
        'the site is locked by another job: job other-job on host wn-7 (pid 4242), taken 2026-01-05 10:00:00 UTC, last heartbeat 12 s ago',
    });
  });

  it('says in the progress log whose lock a job broke, and why', async () => {
    const broken = (jobId: string) =>
      probeReport(jobId).replace(
        'lock acquired',
        'lock broken-ended old-job wn-7 4242 1767607200 heartbeat 400',
      );
    const messages: string[] = [];
    await runSiteJob(contextFor(new EndingBackend([], [broken]), messages), desired([]), 'probe');
    expect(messages).toContain(
      'broke the site lock of job old-job on host wn-7 (pid 4242), taken 2026-01-05 10:00:00 UTC, last heartbeat 400 s ago: the backend reported that job ended',
    );
  });
});
