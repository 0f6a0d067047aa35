/** Small builders for desired states and observations used by the diff and plan tests. */
import type { KnownObservation } from '../../src/reconcile/observation.js';
import type { DesiredState, PackageState, Requirement } from '../../src/spec/types.js';

export function requirement(
  pkgpath: string,
  options: { pattern?: string; state?: PackageState } = {},
): Requirement {
  return {
    pkgpath,
    pattern: options.pattern,
    state: options.state ?? 'present',
    source: { file: 'spec.yaml', line: 1, column: 1 },
  };
}

export function desired(requirements: Requirement[], site = 'site-a'): DesiredState {
  return {
    site,
    vo: 'vo.example.org',
    softwareArea: '/sw',
    prefix: undefined,
    repository: '/repo/All',
    lockStaleSeconds: 1800,
    jobTimeoutSeconds: 3600,
    backend: { type: 'local', shell: ['/bin/sh'], environment: {} },
    requirements,
  };
}

/** The repository of test/fixtures/reference/pkg_summary-example.txt. */
export const REPOSITORY: Array<[string, string]> = [
  ['cmake-3.28.1', 'devel/cmake'],
  ['fftw-3.3.10', 'math/fftw'],
  ['gsl-2.6', 'math/gsl'],
  ['gsl-2.7nb1', 'math/gsl'],
  ['gsl-2.8', 'math/gsl'],
  ['hdf5-1.12.2nb3', 'devel/hdf5'],
  ['hdf5-1.14.3', 'devel/hdf5'],
  ['openssl-3.0.13', 'security/openssl'],
  ['openssl-3.0.15', 'security/openssl'],
  ['py311-numpy-1.26.4', 'math/py-numpy'],
  ['python311-3.11.7', 'lang/python311'],
  ['root-6.30.02', 'math/root'],
  ['zlib-1.2.13', 'devel/zlib'],
  ['zlib-1.3.1', 'devel/zlib'],
];

const PKGPATH = new Map(REPOSITORY);

/** `installed` entries are PKGNAMEs, with a trailing `*` for automatic ones. Dependencies are root's and python's. */
export function observed(
  installed: string[],
  options: { available?: Array<[string, string]> } = {},
): KnownObservation {
  const packages = installed.map((entry) => {
    const pkgname = entry.replace(/\*$/, '');
    return { pkgname, pkgpath: PKGPATH.get(pkgname), automatic: entry.endsWith('*') };
  });
  const names = new Set(packages.map((p) => p.pkgname));
  const dependencies = [
    { pkgname: 'root-6.30.02', pattern: 'fftw>=3' },
    { pkgname: 'root-6.30.02', pattern: 'gsl>=2.7' },
    { pkgname: 'root-6.30.02', pattern: 'python311>=3.11' },
    { pkgname: 'python311-3.11.7', pattern: 'zlib>=1.2' },
  ].filter((d) => names.has(d.pkgname));
  const available = (options.available ?? REPOSITORY).map(([pkgname, pkgpath]) => ({ pkgname, pkgpath }));
  return {
    state: 'known',
    site: 'site-a',
    observedAt: '2026-11-23T10:00:00Z',
    jobId: 'site-a-probe-1',
    fingerprint: 'sha256:abc',
    pkgsrc: { state: 'present', prefix: '/sw/pkg', version: '20170419' },
    installed: packages,
    dependencies,
    available,
    repositoryReadable: available.length > 0,
    audit: [],
  };
}

/** A report of a probe that went through: one package installed. */
export function probeReport(jobId: string): string {
  return [
    'gridpkg-report 1',
    `job ${jobId}`,
    'mode probe',
    'swdir /sw',
    'lock acquired',
    'pkgsrc present /sw/pkg 20170419',
    'fingerprint before sha256:aa',
    'pkg gsl-2.8 math/gsl no',
    'avail gsl-2.8 math/gsl',
    'audit-status clean',
    'fingerprint after sha256:aa',
    'status ok',
    'end',
    '',
  ].join('\n');
}
