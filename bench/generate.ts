/**
 * Inputs at real sizes for the benchmarks: a repository of 25,000 packages with DEPENDS, sites holding and
 * requiring `packages` packages that depend on each other in chains, the spec that declares them and the probe
 * reports that describe them. Deterministic: the same arguments always give the same input.
 *
 * Observations are built in memory through the model types (so the planner benchmark does not depend on the report
 * line format); report text is generated only for the report-parsing benchmark, in the current protocol format.
 */
import type { AvailablePackage, Dependency, InstalledPackage } from '../src/grid/protocol/types.js';
import type { KnownObservation } from '../src/reconcile/observation.js';
import type { DesiredState, Requirement } from '../src/spec/types.js';

/** A repository entry with the DEPENDS of its pkg_summary record. */
export type ListedPackage = AvailablePackage & { depends: string[] };

/** Every site shares one prefix, as sites reading one binary repository must (packages are built for a prefix). */
const PREFIX = '/sw/vo/pkg';
const BUILD = { pkgtoolsVersion: '20170419', opsys: 'Linux', machineArch: 'x86_64' } as const;

export const REPOSITORY_SIZE = 25_000;
/** Each managed package needs the next one of its chain: chains of this many packages (depth ≥ 5). */
export const CHAIN = 6;
/** ... and the base library of its group of this many packages. */
const GROUP = 30;
const VERSIONS = 3;

export const pkgpathOf = (i: number): string => `cat${i % 40}/pkg${i}`;
const base = (i: number): string => `pkg${i}`;
const pkgnameOf = (i: number, v: number): string => `pkg${i}-1.${v}${v === 2 ? 'nb1' : ''}`;

/** DEPENDS of managed package `i` (of `packages`): the next in its chain and its group's base library. */
export function dependsOf(i: number, packages: number): string[] {
  const out: string[] = [];
  if (i % CHAIN !== CHAIN - 1 && i + 1 < packages) out.push(`${base(i + 1)}>=1.0`);
  const library = i - (i % GROUP) + GROUP - 1;
  if (library !== i && library !== i + 1 && library < packages) out.push(`${base(library)}-[0-9]*`);
  return out;
}

/** The repository: every managed package in three versions, then unrelated packages up to `size` entries. */
export function generateRepository(packages: number, size = REPOSITORY_SIZE): ListedPackage[] {
  const listing: ListedPackage[] = [];
  for (let i = 0; i < packages; i++) {
    const depends = dependsOf(i, packages);
    for (let v = 0; v < VERSIONS; v++) {
      const pkgname = pkgnameOf(i, v);
      listing.push({ pkgname, pkgpath: pkgpathOf(i), fileName: `${pkgname}.tgz`, ...BUILD, depends });
    }
  }
  for (let j = 0; listing.length < size; j++) {
    const depends = j % CHAIN === CHAIN - 1 ? [] : [`other${j + 1}>=0`];
    const pkgname = `other${j}-2.${j % 10}`;
    listing.push({
      pkgname,
      pkgpath: `misc${j % 90}/other${j}`,
      fileName: `${pkgname}.tgz`,
      ...BUILD,
      depends,
    });
  }
  return listing;
}

/**
 * What every site requires: all managed packages; every third with a version range, every tenth `latest`, and the
 * first two of every 60 `absent` (a chain head and the package it needs, so removals must be ordered).
 */
export function generateRequirements(packages: number): Requirement[] {
  return Array.from({ length: packages }, (_, i) => {
    const state = i % 60 < 2 ? 'absent' : i % 10 === 0 ? 'latest' : 'present';
    return {
      pkgpath: pkgpathOf(i),
      pattern: i % 3 === 0 && state !== 'absent' ? `${base(i)}>=1.1` : undefined,
      state,
      source: { file: 'bench.yaml', line: i + 1, column: 5 },
    };
  });
}

export function desiredSite(s: number, requirements: Requirement[]): DesiredState {
  return {
    site: `site-${s}`,
    vo: 'vo',
    softwareArea: '/sw/vo',
    prefix: undefined,
    repository: '/repo/All',
    lockStaleSeconds: 1800,
    jobTimeoutSeconds: 3600,
    backend: { type: 'local', shell: ['/bin/sh'], environment: {} },
    requirements,
  };
}

/** Which managed packages site `s` holds, in which version: each site differs (missing ones, other versions). */
export function installedVersion(i: number, s: number): number | undefined {
  if ((i * 7 + s) % 50 === 0) return undefined;
  return (i + s) % VERSIONS;
}

const orders = new Map<number, number[]>();

/** Package numbers 0..packages-1 in the byte order of their PKGBASEs (`pkg10` before `pkg2`). */
function byteOrder(packages: number): number[] {
  let order = orders.get(packages);
  if (!order) {
    order = Array.from({ length: packages }, (_, i) => i).sort((a, b) => (base(a) < base(b) ? -1 : 1));
    orders.set(packages, order);
  }
  return order;
}

/**
 * The observation of site `s`: its installed packages with their dependency records, and the repository listing
 * (one shared object, as the controller holds one listing per pkg_summary digest).
 */
export function generateObservation(s: number, packages: number, listing: ListedPackage[]): KnownObservation {
  const installed: InstalledPackage[] = [];
  const dependencies: Dependency[] = [];
  // In PKGNAME byte order, as the job lists the package database (LC_ALL=C).
  for (const i of byteOrder(packages)) {
    const v = installedVersion(i, s);
    if (v === undefined) continue;
    const pkgname = pkgnameOf(i, v);
    installed.push({ pkgname, pkgpath: pkgpathOf(i), automatic: false });
    for (const pattern of dependsOf(i, packages)) dependencies.push({ pkgname, pattern });
  }
  return {
    state: 'known',
    site: `site-${s}`,
    observedAt: '2026-12-01T00:00:00Z',
    jobId: `job-${s}`,
    fingerprint: `sha256:${s.toString(16).padStart(64, '0')}`,
    pkgsrc: { state: 'present', prefix: PREFIX, version: BUILD.pkgtoolsVersion },
    installed,
    dependencies,
    available: listing,
    repositoryReadable: true,
    repositoryPrefix: PREFIX,
    audit: [],
    auditStatus: { status: 'clean', message: '' },
    softwareArea: { writable: true, notGroupWritable: 0, example: undefined },
    notes: [],
    host: { os: BUILD.opsys, arch: BUILD.machineArch },
  };
}

/** A spec declaring `sites` sites that each require the `packages` managed packages through sets. */
export function generateSpecText(sites: number, packages: number): string {
  const setSize = 50;
  const sets = Math.ceil(packages / setSize);
  const requirements = generateRequirements(packages);
  const out: string[] = ['apiVersion: gridpkg/v1', 'sets:'];
  for (let k = 0; k < sets; k++) {
    out.push(`  set${k}:`, '    packages:');
    for (const r of requirements.slice(k * setSize, (k + 1) * setSize)) {
      const fields = [`pkgpath: ${r.pkgpath}`];
      if (r.pattern) fields.push(`pattern: "${r.pattern}"`);
      if (r.state !== 'present') fields.push(`state: ${r.state}`);
      out.push(fields.length === 1 ? `      - ${r.pkgpath}` : `      - { ${fields.join(', ')} }`);
    }
  }
  const labels = ['el8', 'el9', 'physics', 'chemistry', 'gpu', 'tier1', 'tier2'];
  out.push(
    'defaults:',
    '  vo: vo',
    '  repository: /repo/All',
    `  sets: [${Array.from({ length: sets }, (_, k) => `set${k}`).join(', ')}]`,
    'selections:',
    '  - { where: "physics and not gpu", packages: [{ pkgpath: extra/physics-tools, state: latest }] }',
    '  - { where: "el8 or tier2", exclude: [cat1/pkg1] }',
    'sites:',
  );
  for (let s = 0; s < sites; s++) {
    const p = (s * 7) % packages;
    out.push(
      `  site-${s}:`,
      `    labels: [${labels[s % 2]}, ${labels[2 + (s % 3)]}, ${labels[5 + (s % 2)]}]`,
      '    softwareArea: /sw/vo',
      `    packages: [{ pkgpath: ${pkgpathOf(p)}, pattern: "${base(p)}>=1.${s % 3}" }, local/site${s}-tools]`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** The `avail` lines of a listing, as the job sends them (long form: file, build facts, DEPENDS). */
export function availText(listing: readonly ListedPackage[]): string {
  const dash = (v: string | undefined) => v ?? '-';
  return listing
    .map(
      (p) =>
        `avail ${[p.pkgname, p.pkgpath, dash(p.fileName), dash(p.pkgtoolsVersion), dash(p.opsys), dash(p.machineArch), ...p.depends].join(' ')}\n`,
    )
    .join('');
}

/**
 * The probe report of site `s` in the current protocol text. `listing`: the `avail` lines and their digest; `sent`
 * false leaves them out as known to the controller (as every report after the first since item 7).
 */
export function generateReportText(
  s: number,
  packages: number,
  listing: { text: string; digest: string; sent: boolean } | undefined,
): string {
  const observation = generateObservation(s, packages, []);
  const fp = observation.fingerprint;
  const lines = [
    'gridpkg-report 1',
    `job job-${s}`,
    'mode probe',
    'fact hostname wn-01.example.org',
    `fact os ${BUILD.opsys}`,
    `fact arch ${BUILD.machineArch}`,
    'swdir /sw/vo',
    'lock acquired',
    `pkgsrc present ${PREFIX} ${BUILD.pkgtoolsVersion}`,
    'software-area writable 0',
    `fingerprint before ${fp}`,
  ];
  for (const p of observation.installed) lines.push(`pkg ${p.pkgname} ${p.pkgpath ?? '-'} no`);
  for (const d of observation.dependencies) lines.push(`dep ${d.pkgname} ${d.pattern}`);
  let text = `${lines.join('\n')}\n`;
  if (listing) {
    text += `repository-digest ${listing.digest} ${listing.sent ? 'sent' : 'known'}\n`;
    if (listing.sent) text += listing.text;
  }
  const tail = [
    `repository-prefix ${PREFIX}`,
    'audit-status clean',
    `fingerprint after ${fp}`,
    'status ok',
    'end',
  ];
  return `${text}${tail.join('\n')}\n`;
}
