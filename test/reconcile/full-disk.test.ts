/**
 * A full state directory after the job ran: the site is unknown with a message that names the file that could not
 * be saved (not "probe job could not run"), no temporary file is left, and the next run re-attaches to the job.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { GridBackend, JobHandle, JobState, JobSubmission } from '../../src/grid/backend.js';
import { observeSites } from '../../src/reconcile/engine.js';
import type { JobContext } from '../../src/reconcile/run-job.js';
import { SiteQueue } from '../../src/reconcile/site-queue.js';
import { Ledger } from '../../src/state/ledger.js';
import { ObservationStore } from '../../src/state/observations.js';
import type { FailingDisk } from '../support/failing-disk.js';
import { desired, probeReport } from './fixtures.js';

const disk = vi.hoisted(() => ({ current: undefined as FailingDisk | undefined }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const { createFailingDisk, failingDiskModule } = await import('../support/failing-disk.js');
  disk.current = createFailingDisk();
  return failingDiskModule(actual, disk.current);
});

class FinishedJobBackend implements GridBackend {
  readonly kind = 'scripted';
  submitted: JobSubmission[] = [];
  async submit(job: JobSubmission): Promise<JobHandle> {
    this.submitted.push(job);
    return { jobId: job.jobId, site: job.site, backendId: `scripted-${job.jobId}` };
  }
  async find(): Promise<JobHandle | undefined> {
    return undefined;
  }
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    return new Map(jobs.map((j) => [j.jobId, { state: 'done', exitCode: 0, raw: 'exit 0' }]));
  }
  async fetch(job: JobHandle) {
    return { report: probeReport(job.jobId), stdout: '', stderr: '' };
  }
  async cancel(): Promise<void> {}
  async clean(): Promise<void> {}
}

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-fulldisk-'));
});
afterEach(async () => {
  if (disk.current) disk.current.failWith = undefined;
  await rm(stateDir, { recursive: true, force: true });
});

function context(backend: GridBackend): JobContext {
  return {
    backendFor: () => backend,
    ledger: new Ledger(stateDir),
    observations: new ObservationStore(stateDir),
    queue: new SiteQueue(),
    scriptPath: '/nonexistent/site-job.sh',
    pollIntervalMs: { first: 1, max: 5 },
    progress: () => undefined,
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

it('says which state file could not be saved, leaves no temporary file, and re-attaches on the next run', async () => {
  if (!disk.current) throw new Error('the failing disk mock is not installed');
  disk.current.failWith = (path) => (path.includes(`${stateDir}/observations/`) ? 'ENOSPC' : undefined);
  const backend = new FinishedJobBackend();
  const [observation] = await observeSites(context(backend), [desired([])], { concurrency: 1 });
  const file = join(stateDir, 'observations', 'site-a.json');
  expect(observation).toMatchObject({
    state: 'unknown',
    reason: `could not save the observation of site-a to ${file}: no space left on device (ENOSPC)`,
  });
  expect((await filesUnder(stateDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  // The job ran; its ledger entry stays, so the next run reads its output again instead of forgetting it.
  const jobId = backend.submitted[0]?.jobId;
  expect(await new Ledger(stateDir).active('site-a')).toMatchObject({ jobId, phase: 'submitted' });

  disk.current.failWith = undefined;
  const [again] = await observeSites(context(backend), [desired([])], { concurrency: 1 });
  expect(again?.state).toBe('known');
  expect(await readdir(join(stateDir, 'ledger', 'history'))).toContain(`${jobId}.json`);
});
