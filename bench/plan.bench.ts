/** Planning speed: diff and plan of many sites with realistic package counts (the pure core, no jobs). */

import type { KnownObservation } from '../src/reconcile/observation.js';
import { buildPlan } from '../src/reconcile/plan.js';
import type { DesiredState, Requirement } from '../src/spec/types.js';

const SITES = 1000;
const PACKAGES = 200;

export async function runPlanBench(): Promise<Array<{ name: string; ops: number; seconds: number }>> {
  const requirements: Requirement[] = Array.from({ length: PACKAGES }, (_, i) => ({
    pkgpath: `cat${i % 20}/pkg${i}`,
    pattern: i % 3 === 0 ? `pkg${i}>=1.${i % 7}` : undefined,
    state: i % 10 === 0 ? 'latest' : i % 17 === 0 ? 'absent' : 'present',
    source: { file: 'bench.yaml', line: i + 1, column: 5 },
  }));
  const sites: DesiredState[] = Array.from({ length: SITES }, (_, s) => ({
    site: `site-${s}`,
    vo: 'vo',
    softwareArea: '/sw',
    prefix: undefined,
    repository: '/repo',
    lockStaleSeconds: 1800,
    jobTimeoutSeconds: 3600,
    backend: { type: 'local', shell: ['/bin/sh'], environment: {} },
    requirements,
  }));
  const available = requirements.flatMap((r, i) =>
    [0, 1, 2].map((v) => ({ pkgname: `pkg${i}-1.${(i + v) % 9}nb${v}`, pkgpath: r.pkgpath })),
  );
  const observations: KnownObservation[] = sites.map((d, s) => ({
    state: 'known',
    site: d.site,
    observedAt: '2026-11-23T00:00:00Z',
    jobId: `j${s}`,
    fingerprint: 'sha256:0',
    pkgsrc: { state: 'present', prefix: '/sw/pkg', version: '20170419' },
    installed: requirements
      .filter((_, i) => (i + s) % 4 !== 0)
      .map((r, i) => ({ pkgname: `pkg${i}-1.${(i + s) % 9}`, pkgpath: r.pkgpath, automatic: false })),
    // Every installed package requires two others, as in a real software area with ~400 dependency records.
    dependencies: requirements.flatMap((_, i) => [
      { pkgname: `pkg${i}-1.${(i + s) % 9}`, pattern: `pkg${(i + 1) % PACKAGES}>=1.0` },
      { pkgname: `pkg${i}-1.${(i + s) % 9}`, pattern: `pkg${(i + 7) % PACKAGES}-[0-9]*` },
    ]),
    available,
    repositoryReadable: true,
    audit: [],
  }));
  const started = process.hrtime.bigint();
  const plan = buildPlan(sites, observations, { specFile: 'bench.yaml', specDigest: 'sha256:0' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (plan.sites.length !== SITES) throw new Error('plan lost sites');
  return [{ name: `plan ${SITES} sites x ${PACKAGES} packages, 400 dependencies each`, ops: SITES, seconds }];
}
