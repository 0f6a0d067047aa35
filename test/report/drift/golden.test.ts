/**
 * Golden files: one report of three sites (in sync, drifted in every way, unknown) rendered in every format, kept
 * under golden/ for review. `npx vitest run test/report/drift/golden.test.ts -u` rewrites them after a deliberate
 * change; any other change of a format shows as a diff here.
 */
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../../src/reconcile/observation.js';
import { buildPlan } from '../../../src/reconcile/plan.js';
import { buildDriftReport, DRIFT_FORMATS, renderDrift } from '../../../src/report/drift/index.js';
import type { Requirement } from '../../../src/spec/types.js';
import { desired, observed } from '../../reconcile/fixtures.js';
import { expectValidDriftReport } from './schema.js';

const line = (pkgpath: string, n: number, extra: Partial<Requirement> = {}): Requirement => ({
  pkgpath,
  pattern: undefined,
  state: 'present',
  source: { file: 'desired-state.yaml', line: n, column: 9 },
  ...extra,
});

function demoReport() {
  const inSync = {
    ...desired([line('math/gsl', 12), line('devel/zlib', 13)], 'NIKHEF-ELPROD'),
    labels: ['el9'],
  };
  const drifted = {
    ...desired(
      [
        line('devel/cmake', 20),
        line('devel/hdf5', 21, { state: 'absent' }),
        line('math/gsl', 22, { pattern: 'gsl>=2.8' }),
        line('security/openssl', 23, { state: 'latest' }),
      ],
      'SARA-MATRIX',
    ),
    ignores: [
      {
        pkgpath: 'security/openssl',
        kinds: ['upgrade' as const],
        reason: 'certified on 3.0.13',
        until: '2027-03-31',
        source: { file: 'desired-state.yaml', line: 40, column: 5 },
      },
    ],
  };
  const unknown = desired([line('math/gsl', 30)], 'RUG-CIT');
  const sara = {
    ...observed(['hdf5-1.14.3', 'gsl-2.7nb1', 'openssl-3.0.13', 'fftw-3.3.10']),
    site: 'SARA-MATRIX',
  };
  sara.audit = [
    {
      pkgname: 'openssl-3.0.13',
      type: 'denial-of-service',
      url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-4603',
    },
  ];
  const observations: Observation[] = [
    { ...observed(['gsl-2.8', 'zlib-1.3.1']), site: 'NIKHEF-ELPROD', observedAt: '2026-11-23T09:58:00Z' },
    sara,
    {
      state: 'unknown',
      site: 'RUG-CIT',
      observedAt: '2026-11-23T09:59:00Z',
      jobId: 'RUG-CIT-probe-20261123T095800Z-1a2b',
      reason: 'the site is locked by another job: job RUG-CIT-apply-7 on wn12 (pid 4242), heartbeat 5s ago',
    },
  ];
  const report = buildDriftReport({
    plan: buildPlan([inSync, drifted, unknown], observations, {
      specFile: 'desired-state.yaml',
      specDigest: 'sha256:0',
    }),
    observations: new Map(observations.map((o) => [o.site, { observation: o, source: 'probed' as const }])),
    now: Date.parse('2026-11-23T10:00:00Z'),
  });
  expectValidDriftReport(JSON.parse(JSON.stringify(report)));
  return report;
}

const EXTENSION = { text: 'txt', json: 'json', markdown: 'md', junit: 'xml', html: 'html' } as const;

describe('golden drift reports', () => {
  it.each(DRIFT_FORMATS)('%s', async (format) => {
    await expect(renderDrift(demoReport(), format, { verbose: true })).toMatchFileSnapshot(
      `./golden/drift.${EXTENSION[format]}`,
    );
  });
});
