/** The drift report model on crafted observations: every drift kind, staleness, ignore rules, matrix, schema. */
import { describe, expect, it } from 'vitest';
import { parseReport } from '../../../src/grid/protocol/index.js';
import { type Observation, observationFromReport } from '../../../src/reconcile/observation.js';
import { buildPlan } from '../../../src/reconcile/plan.js';
import { buildDriftReport, type DriftReport, driftVerdict } from '../../../src/report/drift/index.js';
import type { DesiredState } from '../../../src/spec/types.js';
import type { FinishedEntry } from '../../../src/state/ledger.js';
import type { SiteStatus } from '../../../src/state/site-status.js';
import { desired, observed, requirement } from '../../reconcile/fixtures.js';
import { expectValidDriftReport } from './schema.js';

const NOW = Date.parse('2026-11-23T10:30:00Z');
const meta = { specFile: 'spec.yaml', specDigest: 'sha256:0' };

function report(
  sites: DesiredState[],
  observations: Observation[],
  extra: {
    maxAgeMs?: number;
    statuses?: Map<string, SiteStatus>;
    history?: Map<string, FinishedEntry[]>;
    recorded?: string[];
  } = {},
): DriftReport {
  const plan = buildPlan(sites, observations, meta);
  const built = buildDriftReport({
    plan,
    observations: new Map(
      observations.map((o) => [
        o.site,
        { observation: o, source: extra.recorded?.includes(o.site) ? 'recorded' : 'probed' },
      ]),
    ),
    now: NOW,
    ...(extra.statuses ? { statuses: extra.statuses } : {}),
    ...(extra.history ? { history: extra.history } : {}),
    ...(extra.maxAgeMs !== undefined ? { maxAgeMs: extra.maxAgeMs } : {}),
  });
  // Every report the model builds is one the schema accepts.
  expectValidDriftReport(JSON.parse(JSON.stringify(built)));
  return built;
}

const at = (line: number) => ({ file: 'spec.yaml', line, column: 7 });
const located = (pkgpath: string, line: number, options: Parameters<typeof requirement>[1] = {}) => ({
  ...requirement(pkgpath, options),
  source: at(line),
});

describe('drift items', () => {
  it('names each kind of drift with its spec line, installed and wanted versions', () => {
    const site = desired([
      located('devel/cmake', 3),
      located('devel/hdf5', 4, { state: 'absent' }),
      located('math/gsl', 5, { pattern: 'gsl>=2.8' }),
      located('security/openssl', 6, { state: 'latest' }),
    ]);
    const built = report([site], [observed(['hdf5-1.14.3', 'gsl-2.7nb1', 'openssl-3.0.13', 'fftw-3.3.10'])]);
    const [drift] = built.sites;
    expect(drift?.sync).toBe('drifted');
    expect(drift?.items).toEqual([
      {
        kind: 'missing',
        severity: 'drift',
        pkgpath: 'devel/cmake',
        wanted: 'any version',
        target: 'cmake-3.28.1',
        source: at(3),
      },
      {
        kind: 'must-be-absent',
        severity: 'drift',
        pkgpath: 'devel/hdf5',
        wanted: 'absent',
        installed: 'hdf5-1.14.3',
        source: at(4),
      },
      {
        kind: 'wrong-version',
        severity: 'drift',
        pkgpath: 'math/gsl',
        wanted: 'gsl>=2.8',
        installed: 'gsl-2.7nb1',
        target: 'gsl-2.8',
        source: at(5),
      },
      {
        kind: 'wrong-version',
        severity: 'drift',
        pkgpath: 'security/openssl',
        wanted: 'latest',
        installed: 'openssl-3.0.13',
        target: 'openssl-3.0.15',
        source: at(6),
      },
      // Installed by hand, named nowhere in the spec: listed, not drift (the site does not prune).
      { kind: 'not-declared', severity: 'info', pkgpath: 'math/fftw', installed: 'fftw-3.3.10' },
    ]);
    expect(drift?.requirements.map((r) => [r.pkgpath, r.result, r.source.line])).toEqual([
      ['devel/cmake', 'drift', 3],
      ['devel/hdf5', 'drift', 4],
      ['math/gsl', 'drift', 5],
      ['security/openssl', 'drift', 6],
    ]);
    expect(built.summary).toMatchObject({ sites: 1, drifted: 1, driftItems: 4 });
    expect(driftVerdict(built)).toBe('drifted');
  });

  it('counts an undeclared package as drift where the site prunes, and never pkgsrc itself', () => {
    const site = {
      ...desired([requirement('math/gsl')]),
      prune: { maxRemovals: 10, allowRemoveAll: false, source: { file: 'spec.yaml', line: 3, column: 5 } },
    };
    const observation = observed(['gsl-2.8', 'fftw-3.3.10', 'zlib-1.3.1*']);
    observation.installed.push({
      pkgname: 'pkg_install-20170419',
      pkgpath: 'pkgtools/pkg_install',
      automatic: false,
    });
    const [drift] = report([site], [observation]).sites;
    // Prune removes fftw (installed by hand, named nowhere) and then zlib (automatic, nothing needs it any more).
    expect(drift?.items.map((i) => [i.kind, i.installed, i.severity])).toEqual([
      ['not-declared', 'fftw-3.3.10', 'drift'],
      ['not-declared', 'zlib-1.3.1', 'drift'],
    ]);
    expect(drift?.items[0]?.source).toEqual({ file: 'spec.yaml', line: 3, column: 5 });
    expect(drift?.sync).toBe('drifted');
  });

  it('reports a site in sync when every requirement holds, with no drift items', () => {
    const built = report([desired([requirement('math/gsl')])], [observed(['gsl-2.8'])]);
    expect(built.sites[0]).toMatchObject({ sync: 'in-sync', items: [] });
    expect(built.sites[0]?.requirements[0]).toMatchObject({ result: 'ok', installed: 'gsl-2.8' });
    expect(driftVerdict(built)).toBe('in-sync');
  });

  it('lists vulnerable packages with the advisory types and URLs, across sites; drift only under policy fail', () => {
    const vulnerable = (site: string) => {
      const o = { ...observed(['openssl-3.0.13']), site };
      o.audit = [
        {
          pkgname: 'openssl-3.0.13',
          type: 'denial-of-service',
          url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-4603',
        },
        { pkgname: 'openssl-3.0.13', type: 'eol', url: 'https://www.openssl.org/policies/releasestrat.html' },
      ];
      return o;
    };
    const warn = desired([requirement('security/openssl')], 'site-a');
    const fail = {
      ...desired([requirement('security/openssl')], 'site-b'),
      vulnerabilityPolicy: 'fail' as const,
    };
    const built = report([warn, fail], [vulnerable('site-a'), vulnerable('site-b')]);
    expect(built.sites.map((s) => [s.site, s.sync, s.items[0]?.severity])).toEqual([
      ['site-a', 'in-sync', 'warning'],
      ['site-b', 'drifted', 'drift'],
    ]);
    expect(built.sites[0]?.items[0]?.advisories).toEqual([
      { type: 'denial-of-service', url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-4603' },
      { type: 'eol', url: 'https://www.openssl.org/policies/releasestrat.html' },
    ]);
    expect(built.vulnerabilities.map((v) => [v.pkgname, v.type, v.endOfLife, v.sites])).toEqual([
      ['openssl-3.0.13', 'denial-of-service', false, ['site-a', 'site-b']],
      ['openssl-3.0.13', 'eol', true, ['site-a', 'site-b']],
    ]);
    expect(built.summary.vulnerablePackages).toBe(1);
    expect(built.matrix.rows[0]?.cells[0]).toEqual({
      state: 'ok',
      installed: 'openssl-3.0.13',
      vulnerable: true,
    });
  });

  it('keeps ignored drift visible with the rule reason, expiry and line; the site is in sync', () => {
    const site = {
      ...desired([located('security/openssl', 8, { state: 'latest' })]),
      ignores: [
        {
          pkgpath: 'security/openssl',
          kinds: ['upgrade' as const],
          reason: 'certified on 3.0.13',
          until: '2027-03-31',
          source: at(20),
        },
      ],
    };
    const [drift] = report([site], [observed(['openssl-3.0.13'])]).sites;
    expect(drift?.sync).toBe('in-sync');
    expect(drift?.items).toEqual([
      {
        kind: 'ignored',
        severity: 'info',
        pkgpath: 'security/openssl',
        wanted: 'latest',
        installed: 'openssl-3.0.13',
        target: 'openssl-3.0.15',
        source: at(8),
        ignore: { reason: 'certified on 3.0.13', until: '2027-03-31', rule: at(20) },
      },
    ]);
    expect(drift?.requirements[0]).toMatchObject({ result: 'ignored', message: 'certified on 3.0.13' });
  });

  it('reports a blocked change with the reason, and a pkg_install too old for the repository', () => {
    const site = desired([located('math/root', 2), located('math/gsl', 3, { state: 'absent' })]);
    const blocked = report(
      [site],
      [observed(['root-6.30.02', 'gsl-2.8', 'fftw-3.3.10', 'python311-3.11.7'])],
    );
    expect(blocked.sites[0]?.items.find((i) => i.pkgpath === 'math/gsl')).toMatchObject({
      kind: 'blocked',
      severity: 'drift',
      installed: 'gsl-2.8',
      reason: expect.stringContaining('required by root-6.30.02'),
    });

    const tooNew = observed([], { available: [['cmake-3.28.1', 'devel/cmake']] });
    tooNew.available = [{ pkgname: 'cmake-3.28.1', pkgpath: 'devel/cmake', pkgtoolsVersion: '20991231' }];
    const old = report([desired([located('devel/cmake', 4)])], [tooNew]);
    expect(old.sites[0]?.items).toEqual([
      expect.objectContaining({
        kind: 'pkgsrc-too-old',
        severity: 'drift',
        pkgpath: 'devel/cmake',
        reason: expect.stringContaining("newer than the site's 20170419"),
        source: at(4),
      }),
    ]);
    expect(old.sites[0]?.sync).toBe('drifted');
  });

  it('names a software area the job cannot write as the reason the changes are blocked', () => {
    const observation = observed([]);
    observation.softwareArea = { writable: false, notGroupWritable: 3, example: '/sw/pkg/pkgdb' };
    const [site] = report([desired([located('math/gsl', 5)])], [observation]).sites;
    expect(site?.sync).toBe('drifted');
    expect(site?.items.map((i) => [i.kind, i.reason ?? i.target])).toEqual([
      ['missing', 'gsl-2.8'],
      [
        'blocked',
        "the job's account cannot write the software area /sw/pkg; as the owner, run chmod -R g+w /sw/pkg",
      ],
    ]);
  });
});

describe('unknown sites', () => {
  it('counts an observation older than --max-age as unknown, and says why', () => {
    const built = report([desired([requirement('math/gsl')])], [observed(['gsl-2.8'])], {
      maxAgeMs: 10 * 60_000,
      recorded: ['site-a'],
    });
    const [site] = built.sites;
    expect(site?.sync).toBe('unknown');
    expect(site?.unknownReason).toBe(
      'the last observation (2026-11-23T10:00:00Z) is older than the limit of 600s',
    );
    expect(site?.observation).toEqual({
      at: '2026-11-23T10:00:00Z',
      byJob: 'site-a-probe-1',
      ageSeconds: 1800,
      source: 'recorded',
    });
    expect(site?.requirements[0]?.result).toBe('unknown');
    expect(built.matrix.rows).toEqual([{ pkgpath: 'math/gsl', cells: [{ state: 'unknown' }] }]);
    expect(driftVerdict(built)).toBe('unknown');
  });

  it('uses an observation younger than the limit', () => {
    const built = report([desired([requirement('math/gsl')])], [observed(['gsl-2.8'])], {
      maxAgeMs: 3_600_000,
    });
    expect(built.sites[0]?.sync).toBe('in-sync');
    expect(built.maxAgeSeconds).toBe(3600);
  });

  it('is unknown when the probe failed, and unknown wins over drift in the verdict', () => {
    const failed: Observation = {
      state: 'unknown',
      site: 'site-b',
      observedAt: '2026-11-23T10:20:00Z',
      jobId: 'site-b-probe-1',
      reason: 'the site is locked by another job: job x on host y',
    };
    const built = report(
      [desired([requirement('math/gsl')], 'site-a'), desired([requirement('math/gsl')], 'site-b')],
      [observed([]), failed],
    );
    expect(built.sites.map((s) => s.sync)).toEqual(['drifted', 'unknown']);
    expect(built.sites[1]?.unknownReason).toBe('the site is locked by another job: job x on host y');
    expect(built.matrix.rows[0]?.cells).toEqual([{ state: 'missing' }, { state: 'unknown' }]);
    expect(driftVerdict(built)).toBe('unknown');
  });

  it('calls a site without pkgsrc drifted (pkgsrc missing), as observation.ts words it', () => {
    const parsed = parseReport(
      [
        'gridpkg-report 1',
        'job j1',
        'mode probe',
        'swdir /sw',
        'lock acquired',
        'pkgsrc absent /sw/pkg',
        'status error pkgsrc not found',
        'end',
        '',
      ].join('\n'),
    );
    if (!parsed.ok) throw new Error(parsed.problem.message);
    const observation = observationFromReport('site-a', parsed.report, '2026-11-23T10:00:00Z');
    const [site] = report([desired([requirement('math/gsl')])], [observation]).sites;
    expect(site?.sync).toBe('drifted');
    expect(site?.items).toEqual([
      expect.objectContaining({
        kind: 'pkgsrc-missing',
        severity: 'drift',
        reason: expect.stringContaining('/sw/pkg'),
      }),
    ]);
  });
});

describe('matrix, history and secrets', () => {
  it('has one row per PKGPATH required or installed, with each site cell', () => {
    const built = report(
      [
        desired([requirement('math/gsl', { pattern: 'gsl>=2.8' })], 'site-a'),
        desired([requirement('math/gsl', { pattern: 'gsl>=2.8' })], 'site-b'),
      ],
      [
        { ...observed(['gsl-2.8', 'zlib-1.3.1*']), site: 'site-a' },
        { ...observed(['gsl-2.7nb1']), site: 'site-b' },
      ],
    );
    expect(built.matrix).toEqual({
      sites: ['site-a', 'site-b'],
      rows: [
        { pkgpath: 'devel/zlib', cells: [{ state: 'not-required', installed: 'zlib-1.3.1' }, null] },
        {
          pkgpath: 'math/gsl',
          cells: [
            { state: 'ok', installed: 'gsl-2.8' },
            { state: 'wrong-version', installed: 'gsl-2.7nb1' },
          ],
        },
      ],
    });
    expect(built.summary.packages).toBe(2);
  });

  it('tells an apply job that carried out a spec change from one that corrected drift', () => {
    const apply = (n: number, desiredDigest?: string) => ({
      jobId: `site-a-apply-${n}`,
      site: 'site-a',
      mode: 'apply' as const,
      backend: 'local',
      phase: 'submitted' as const,
      createdAt: `2026-11-2${n}T09:00:00Z`,
      owner: { host: 'ui', pid: 42 },
      finishedAt: `2026-11-2${n}T09:05:00Z`,
      jobState: 'done',
      reportStatus: 'ok',
      ...(desiredDigest ? { desiredDigest } : {}),
    });
    const probe = { ...apply(5), jobId: 'site-a-probe-5', mode: 'probe' as const };
    // Newest first: a new desired state (B), a repair to A after a probe, the first apply with A, an old record.
    const history = new Map([
      ['site-a', [apply(4, 'sha256:b'), probe, apply(3, 'sha256:a'), apply(2, 'sha256:a'), apply(1)]],
    ]);
    const [site] = report([desired([requirement('math/gsl')])], [observed(['gsl-2.8'])], { history }).sites;
    expect(site?.history.map((h) => [h.jobId, h.cause])).toEqual([
      ['site-a-apply-4', 'spec-change'],
      ['site-a-probe-5', undefined],
      ['site-a-apply-3', 'drift-correction'],
      ['site-a-apply-2', undefined],
      ['site-a-apply-1', undefined],
    ]);
  });

  it('carries the job history and the last drift and convergence times the status recorded', () => {
    const history = new Map([
      [
        'site-a',
        [
          {
            jobId: 'site-a-apply-2',
            site: 'site-a',
            mode: 'apply' as const,
            backend: 'ssh',
            phase: 'submitted' as const,
            createdAt: '2026-11-23T09:00:00Z',
            owner: { host: 'controller.example.org', pid: 42 },
            planId: 'plan-1234-abcd',
            finishedAt: '2026-11-23T09:05:00Z',
            jobState: 'done',
            reportStatus: 'ok',
          },
        ],
      ],
    ]);
    const statuses = new Map([
      [
        'site-a',
        {
          site: 'site-a',
          sync: 'in-sync' as const,
          health: 'healthy' as const,
          syncSince: '2026-11-23T09:05:00Z',
          healthSince: '2026-11-23T09:05:00Z',
          attempts: 1,
          updatedAt: '2026-11-23T09:05:00Z',
        },
      ],
    ]);
    const [site] = report([desired([requirement('math/gsl')])], [observed(['gsl-2.8'])], {
      history,
      statuses,
    }).sites;
    expect(site?.health).toBe('healthy');
    expect(site?.lastConvergedAt).toBe('2026-11-23T09:05:00Z');
    expect(site?.history).toEqual([
      {
        jobId: 'site-a-apply-2',
        mode: 'apply',
        finishedAt: '2026-11-23T09:05:00Z',
        jobState: 'done',
        reportStatus: 'ok',
        planId: 'plan-1234-abcd',
      },
    ]);
  });

  it('never includes backend settings: hosts, key files, environment values, even quoted by a job', () => {
    const site: DesiredState = {
      ...desired([requirement('math/gsl')]),
      backend: {
        type: 'ssh',
        host: 'secret-login.example.org',
        user: 'pvisgm',
        identityFile: '/home/pvisgm/.ssh/secret_key',
        environment: { VO_PVIER_SW_DIR: '/secret/sw/dir' },
      },
    };
    const history = new Map([
      [
        'site-a',
        [
          {
            jobId: 'site-a-probe-1',
            site: 'site-a',
            mode: 'probe' as const,
            backend: 'secret-backend-name',
            backendId: 'https://secret-ce.example.org/arex/1',
            phase: 'submitted' as const,
            createdAt: '2026-11-23T09:00:00Z',
            owner: { host: 'secret-controller.example.org', pid: 42 },
            finishedAt: '2026-11-23T09:05:00Z',
            jobState: 'failed',
            detail: 'ssh: connect to host secret-login.example.org port 22: Connection refused',
          },
        ],
      ],
    ]);
    const failed: Observation = {
      state: 'unknown',
      site: 'site-a',
      observedAt: '2026-11-23T10:00:00Z',
      jobId: undefined,
      reason:
        'probe job could not run: pvisgm@secret-login.example.org: Permission denied (publickey), ' +
        'key /home/pvisgm/.ssh/secret_key; software area /secret/sw/dir',
      notes: ['VO_PVIER_SW_DIR=/secret/sw/dir'],
    };
    const built = report([site], [failed], { history });
    expect(JSON.stringify(built)).not.toMatch(/secret|pvisgm/);
    expect(built.sites[0]?.unknownReason).toBe(
      'probe job could not run: [backend user][backend host]: Permission denied (publickey), ' +
        'key [backend identityFile]; software area [backend environment VO_PVIER_SW_DIR]',
    );
    expect(built.sites[0]?.history[0]?.detail).toBe(
      'ssh: connect to host [backend host] port 22: Connection refused',
    );
  });
});
