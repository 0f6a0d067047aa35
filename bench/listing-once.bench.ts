/**
 * Report size and probe time with a 25,000-package repository (issue 10, item 7): a probe job through the local
 * backend on a simulated site whose repository's pkg_summary lists 25,000 packages (generated, with DEPENDS). The
 * first probe sends the listing (as every probe did before); later probes name its digest only.
 */
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createJobContext } from '../src/reconcile/controller.js';
import { runSiteJob } from '../src/reconcile/run-job.js';
import type { DesiredState } from '../src/spec/types.js';
import { buildSimulator } from '../test/pkgsrc-sim/build.js';
import { createRepository } from '../test/pkgsrc-sim/repository.js';
import { createSite } from '../test/pkgsrc-sim/site.js';
import { generateRepository, REPOSITORY_SIZE } from './generate.js';

export interface ListingFigures {
  name: string;
  reportBytes: number;
  seconds: number;
}

export async function runListingBench(): Promise<ListingFigures[]> {
  await buildSimulator();
  const root = await mkdtemp(join(tmpdir(), 'gridpkg-bench-'));
  try {
    const repository = await createRepository(join(root, 'packages'));
    // The simulator's own packages stay first (the site installs from them); 25,000 generated records follow.
    const summaryPath = join(repository, 'pkg_summary');
    const extra = generateRepository(1000, REPOSITORY_SIZE)
      .map((p) =>
        [
          `PKGNAME=${p.pkgname}`,
          `PKGPATH=${p.pkgpath}`,
          ...p.depends.map((d) => `DEPENDS=${d}`),
          'COMMENT=generated for the benchmark',
          `FILE_NAME=${p.pkgname}.tgz`,
          '',
        ].join('\n'),
      )
      .join('\n');
    await appendFile(summaryPath, `\n${extra}`);
    await writeFile(join(repository, 'pkg_summary.gz'), gzipSync(await readFile(summaryPath)));
    const site = await createSite({ root: join(root, 'site'), repository, installed: ['root-6.30.02'] });
    const desired: DesiredState = {
      site: 'bench',
      vo: undefined,
      softwareArea: site.swdir,
      prefix: undefined,
      repository,
      lockStaleSeconds: 1800,
      jobTimeoutSeconds: 600,
      backend: { type: 'local', shell: ['dash'], environment: {} },
      requirements: [],
    };
    const stateDir = join(root, 'state');
    const context = createJobContext({ stateDir, pollIntervalMs: { first: 20, max: 100 } });
    const figures: ListingFigures[] = [];
    for (const name of ['first probe: listing sent (as every probe before)', 'next probe: digest only']) {
      const started = process.hrtime.bigint();
      const result = await runSiteJob(context, desired, 'probe');
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (result.observation.state !== 'known' || result.observation.available.length < REPOSITORY_SIZE)
        throw new Error('probe did not see the repository');
      // This job's own report (two probes within one second sort by their random suffix, not by time).
      const report = join(stateDir, 'reports', `${result.jobId}.txt`);
      figures.push({ name, reportBytes: (await stat(report)).size, seconds });
    }
    return figures;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
