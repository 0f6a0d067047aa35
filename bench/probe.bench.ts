/** End-to-end latency of one probe job through the local backend on a simulated site (job script + simulator). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobContext } from '../src/reconcile/controller.js';
import { runSiteJob } from '../src/reconcile/run-job.js';
import type { DesiredState } from '../src/spec/types.js';
import { buildSimulator } from '../test/pkgsrc-sim/build.js';
import { createSiteWithRepository } from '../test/pkgsrc-sim/site.js';

const RUNS = 7;

export async function runProbeBench(): Promise<Array<{ name: string; ops: number; seconds: number }>> {
  await buildSimulator();
  const root = await mkdtemp(join(tmpdir(), 'gridpkg-bench-'));
  try {
    const site = await createSiteWithRepository({
      root: join(root, 'site'),
      repositoryDir: join(root, 'packages'),
      installed: ['root-6.30.02'],
    });
    const desired: DesiredState = {
      site: 'bench',
      vo: undefined,
      softwareArea: site.swdir,
      prefix: undefined,
      repository: site.repository,
      lockStaleSeconds: 1800,
      jobTimeoutSeconds: 600,
      backend: { type: 'local', shell: ['dash'], environment: {} },
      requirements: [],
    };
    const context = createJobContext({
      stateDir: join(root, 'state'),
      pollIntervalMs: { first: 20, max: 100 },
    });
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = process.hrtime.bigint();
      const result = await runSiteJob(context, desired, 'probe');
      if (result.observation.state !== 'known') throw new Error('probe failed');
      times.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    const median = times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? 0;
    return [{ name: `probe job, local backend, dash (median of ${RUNS})`, ops: 1, seconds: median }];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
