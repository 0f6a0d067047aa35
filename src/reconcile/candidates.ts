/**
 * What a repository offers, indexed for dependency resolution, and which of its packages a site's pkg_add would
 * accept. Pure. The index is built once per repository listing (sites reading the same pkg_summary share the
 * listing object, so they share the index and its memo of pattern matches).
 */
import type { AvailablePackage } from '../grid/protocol/types.js';
import { compareVersions, matchPattern, parsePkgName } from '../pkgsrc/index.js';

export interface RepositoryIndex {
  byName: Map<string, AvailablePackage>;
  /** PKGBASE of every offered (and every looked-up) PKGNAME. */
  baseOf(pkgname: string): string;
  /** Offered packages matching a pkg_match pattern, newest first; memoised per pattern. */
  matching(pattern: string): readonly AvailablePackage[];
}

const indexes = new WeakMap<readonly AvailablePackage[], RepositoryIndex>();

export function repositoryIndex(available: readonly AvailablePackage[]): RepositoryIndex {
  const cached = indexes.get(available);
  if (cached) return cached;
  const byName = new Map<string, AvailablePackage>();
  for (const p of available) if (!byName.has(p.pkgname)) byName.set(p.pkgname, p);
  const names = [...byName.keys()].sort();
  const bases = new Map<string, string>();
  const baseOf = (pkgname: string): string => {
    let base = bases.get(pkgname);
    if (base === undefined) {
      base = safeBase(pkgname);
      bases.set(pkgname, base);
    }
    return base;
  };
  const memo = new Map<string, readonly AvailablePackage[]>();
  const matching = (pattern: string): readonly AvailablePackage[] => {
    let found = memo.get(pattern);
    if (found === undefined) {
      found = namesWithPrefix(names, literalPrefix(pattern))
        .filter((name) => safeMatch(pattern, name))
        .map((name) => byName.get(name) as AvailablePackage)
        .sort((a, b) => newestFirst(a.pkgname, b.pkgname));
      memo.set(pattern, found);
    }
    return found;
  };
  const index = { byName, baseOf, matching };
  indexes.set(available, index);
  return index;
}

/** Newest version first; equal versions by name, so that the order never depends on the listing's order. */
export function newestFirst(a: string, b: string): number {
  const order = compareVersions(safeVersion(b), safeVersion(a));
  return order !== 0 ? order : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Text every name a pkg_match pattern matches starts with: the pattern's text before its first special character,
 * and for a dewey pattern (`zlib>=1.3`, which matches exactly `zlib-VERSION`) the `-` after the PKGBASE too, so that
 * `zlib-` does not also bring up every `zlib*` package.
 */
export function literalPrefix(pattern: string): string {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === LT || c === GT) return `${pattern.slice(0, i)}-`;
    if (c === BRACE || c === BRACKET || c === STAR || c === QUESTION || c === EQUALS)
      return pattern.slice(0, i);
  }
  return pattern;
}

const [LT, GT, BRACE, BRACKET, STAR, QUESTION, EQUALS] = [...'<>{[*?='].map((c) => c.charCodeAt(0)) as [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/** The names of a sorted list that start with `prefix` (binary search, then a walk over the matches). */
export function namesWithPrefix(sorted: readonly string[], prefix: string): string[] {
  if (prefix === '') return [...sorted];
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < prefix) lo = mid + 1;
    else hi = mid;
  }
  const out: string[] = [];
  for (let i = lo; i < sorted.length && (sorted[i] as string).startsWith(prefix); i++)
    out.push(sorted[i] as string);
  return out;
}

export function safeMatch(pattern: string, pkgname: string): boolean {
  try {
    return matchPattern(pattern, pkgname);
  } catch {
    return false;
  }
}

function safeBase(pkgname: string): string {
  try {
    return parsePkgName(pkgname).base;
  } catch {
    return pkgname;
  }
}

function safeVersion(pkgname: string): string {
  try {
    return parsePkgName(pkgname).version;
  } catch {
    return '0';
  }
}

/** What the site's pkg_add checks before it adds a package (add/perform.c check_platform, check_pkgtools_version). */
export interface SitePlatform {
  /** `uname -s` of the site (pkg_add compares it with the package's OPSYS). */
  opsys: string | undefined;
  /** `uname -m` of the site, normalised to pkgsrc's MACHINE_ARCH. */
  machineArch: string | undefined;
  /** The site's pkg_install version (`20170419`). */
  pkgtoolsVersion: string | undefined;
}

export function sitePlatform(facts: {
  os?: string | undefined;
  arch?: string | undefined;
  pkgInstallVersion?: string | undefined;
}): SitePlatform {
  const known = (v: string | undefined) => (v === undefined || v === '' || v === 'unknown' ? undefined : v);
  const arch = known(facts.arch);
  return {
    opsys: known(facts.os),
    machineArch: arch === undefined ? undefined : normaliseArch(arch),
    pkgtoolsVersion: known(facts.pkgInstallVersion),
  };
}

/** `uname -m` names that pkgsrc's MACHINE_ARCH spells differently. */
function normaliseArch(arch: string): string {
  if (/^i[3-6]86$/.test(arch)) return 'i386';
  if (arch === 'arm64') return 'aarch64';
  return arch;
}

const TOOLS_VERSION = /^[0-9]{8}$/;

/**
 * Why the site's pkg_add would refuse this package before looking at anything else, or undefined when it would
 * not. Unknown facts on either side refuse nothing (a report of an older job, a record without build facts).
 */
export function platformProblem(pkg: AvailablePackage, site: SitePlatform): string | undefined {
  const tools = pkg.pkgtoolsVersion;
  if (
    tools !== undefined &&
    site.pkgtoolsVersion !== undefined &&
    TOOLS_VERSION.test(tools) &&
    TOOLS_VERSION.test(site.pkgtoolsVersion) &&
    Number(tools) > Number(site.pkgtoolsVersion)
  ) {
    return `${pkg.pkgname} was built with pkg_install ${tools}, newer than the site's ${site.pkgtoolsVersion}`;
  }
  if (pkg.opsys !== undefined && site.opsys !== undefined && pkg.opsys !== site.opsys) {
    return `${pkg.pkgname} was built for ${pkg.opsys}, the site runs ${site.opsys}`;
  }
  if (
    pkg.machineArch !== undefined &&
    site.machineArch !== undefined &&
    normaliseArch(pkg.machineArch) !== site.machineArch
  ) {
    return `${pkg.pkgname} was built for ${pkg.machineArch}, the site is ${site.machineArch}`;
  }
  return undefined;
}
