/**
 * Diff: each requirement of a site against what the site holds, by PKGPATH. Pure.
 * The outcome per package is one of install, remove, upgrade, downgrade, unchanged, unknown or blocked;
 * only the first four ever become actions.
 */
import type { InstalledPackage } from '../grid/protocol/types.js';
import { bestMatch, compareVersions, matchPattern, parsePkgName } from '../pkgsrc/index.js';
import type { Requirement } from '../spec/types.js';
import type { KnownObservation } from './observation.js';

export type ChangeKind = 'install' | 'remove' | 'upgrade' | 'downgrade' | 'unchanged' | 'unknown' | 'blocked';

export interface PackageChange {
  kind: ChangeKind;
  pkgpath: string;
  /** The installed package this change starts from. */
  from?: string;
  /** The package the site will hold afterwards. */
  to?: string;
  /** Why a change is unknown or blocked, or a note on an unchanged one. */
  reason?: string;
  requirement: Requirement;
}

export function diffRequirement(requirement: Requirement, observed: KnownObservation): PackageChange[] {
  const { pkgpath, pattern } = requirement;
  const matches = (pkgname: string) => pattern === undefined || matchPattern(pattern, pkgname);
  const installed = observed.installed.filter((p) => p.pkgpath === pkgpath);
  const offered = observed.available.filter((p) => p.pkgpath === pkgpath).map((p) => p.pkgname);
  const change = (kind: ChangeKind, extra: Partial<PackageChange> = {}): PackageChange => ({
    kind,
    pkgpath,
    requirement,
    ...extra,
  });

  const unlabeled = unlabeledLookalike(observed.installed, offered, pattern);
  if (requirement.state === 'absent') {
    const doomed = installed.filter((p) => matches(p.pkgname));
    if (doomed.length > 0) return doomed.map((p) => change('remove', { from: p.pkgname }));
    if (unlabeled)
      return [change('unknown', { from: unlabeled.pkgname, reason: noPkgpathReason(unlabeled) })];
    return [change('unchanged')];
  }

  const best = pattern === undefined ? newest(offered) : bestMatch(pattern, offered);
  const satisfying = installed.find((p) => matches(p.pkgname));
  if (satisfying) {
    if (requirement.state === 'latest' && best && versionOrder(best, satisfying.pkgname) > 0) {
      return [change('upgrade', { from: satisfying.pkgname, to: best })];
    }
    return [change('unchanged', { from: satisfying.pkgname, to: satisfying.pkgname })];
  }
  if (installed.length === 0 && unlabeled) {
    return [change('unknown', { from: unlabeled.pkgname, reason: noPkgpathReason(unlabeled) })];
  }
  if (!best) {
    const wanted = pattern ?? pkgpath;
    const reason = observed.repositoryReadable
      ? `the repository offers no package matching ${wanted}`
      : 'the site could not read the package repository';
    return [change('blocked', { ...(installed[0] ? { from: installed[0].pkgname } : {}), reason })];
  }
  const sameBase = installed.find((p) => parsePkgName(p.pkgname).base === parsePkgName(best).base);
  if (!sameBase) return [change('install', { to: best })];
  const order = versionOrder(best, sameBase.pkgname);
  return [change(order > 0 ? 'upgrade' : 'downgrade', { from: sameBase.pkgname, to: best })];
}

function versionOrder(a: string, b: string): number {
  return compareVersions(parsePkgName(a).version, parsePkgName(b).version);
}

function newest(pkgnames: string[]): string | undefined {
  return pkgnames.reduce<string | undefined>(
    (best, name) => (best === undefined || versionOrder(name, best) > 0 ? name : best),
    undefined,
  );
}

/** An installed package without PKGPATH that could be the one we look for: we cannot tell, so we must not act. */
function unlabeledLookalike(
  installed: InstalledPackage[],
  offered: string[],
  pattern: string | undefined,
): InstalledPackage | undefined {
  const bases = new Set(offered.map((name) => parsePkgName(name).base));
  return installed.find(
    (p) =>
      p.pkgpath === undefined &&
      (bases.has(parsePkgName(p.pkgname).base) ||
        (pattern !== undefined && matchPattern(pattern, p.pkgname))),
  );
}

function noPkgpathReason(p: InstalledPackage): string {
  return `${p.pkgname} is installed but records no PKGPATH, so gridpkg cannot tell whether it is this package`;
}
