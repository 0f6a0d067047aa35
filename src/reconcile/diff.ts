/**
 * Diff: each requirement of a site against what the site holds, by PKGPATH. Pure.
 * The outcome per package is one of install, remove, upgrade, downgrade, unchanged, unknown or blocked;
 * only the first four ever become actions.
 */
import type { AvailablePackage, InstalledPackage } from '../grid/protocol/types.js';
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
  /** For a change an ignore rule suppressed: what it would have been. */
  ignored?: { kind: ChangeKind; to?: string };
  /** For an install or replacement: the package's FILE_NAME in the repository, when pkg_summary gave one. */
  file?: string;
  /** A change made because these planned packages need it (DEPENDS), not (only) because the spec asks. */
  neededBy?: string[];
  /** An install only a dependency asks for: added as automatic, as pkg_add marks what it pulls in. */
  automatic?: boolean;
  /** A removal prune adds: the spec does not declare the package (or it is an orphaned dependency). */
  pruned?: boolean;
  /** The upgrade of pkg_install itself that `pkgsrc.minPkgInstall` asks for: the first action of the job. */
  selfUpgrade?: boolean;
  /** The spec's requirement; for a dependency the spec does not name, one made for it (see dependencies.ts). */
  requirement: Requirement;
}

/** An observation indexed by PKGPATH, built once per site so that planning stays linear in the package count. */
export interface ObservationIndex {
  observed: KnownObservation;
  /** One package, or a list when a PKGPATH has several (rare: one list per site would be a thousand arrays). */
  installedByPath: Map<string, InstalledPackage | InstalledPackage[]>;
  offeredByPath: Map<string, string[]>;
  unlabeled: InstalledPackage[];
}

export function indexObservation(observed: KnownObservation): ObservationIndex {
  const installedByPath = new Map<string, InstalledPackage | InstalledPackage[]>();
  const unlabeled: InstalledPackage[] = [];
  for (const p of observed.installed) {
    if (p.pkgpath === undefined) unlabeled.push(p);
    else {
      const known = installedByPath.get(p.pkgpath);
      if (known === undefined) installedByPath.set(p.pkgpath, p);
      else if (Array.isArray(known)) known.push(p);
      else installedByPath.set(p.pkgpath, [known, p]);
    }
  }
  return { observed, installedByPath, offeredByPath: offeredByPathOf(observed.available), unlabeled };
}

// Sites that read the same pkg_summary share one listing object (the controller keeps listings by digest), so its
// index is built once for all of them: a 25,000-package listing indexed per site would dominate planning.
const offeredIndexes = new WeakMap<readonly AvailablePackage[], Map<string, string[]>>();

function offeredByPathOf(available: readonly AvailablePackage[]): Map<string, string[]> {
  const known = offeredIndexes.get(available);
  if (known) return known;
  const offeredByPath = new Map<string, string[]>();
  for (const p of available) {
    const list = offeredByPath.get(p.pkgpath);
    if (list) list.push(p.pkgname);
    else offeredByPath.set(p.pkgpath, [p.pkgname]);
  }
  offeredIndexes.set(available, offeredByPath);
  return offeredByPath;
}

const NONE_INSTALLED: InstalledPackage[] = [];
const NONE_OFFERED: string[] = [];

export function diffRequirement(
  requirement: Requirement,
  observed: KnownObservation,
  index: ObservationIndex = indexObservation(observed),
): PackageChange[] {
  return [...sharedDiff(requirement, observed, index)];
}

/**
 * The changes of one requirement, shared by every site that gives the same answer: sites of one spec share their
 * requirement objects (a set is expanded once) and sites reading one pkg_summary share its listing, so a requirement
 * meets the same few installed versions again and again. The change then depends only on the requirement, the
 * installed PKGNAMEs under its PKGPATH, the offered versions and whether the repository was readable; it is computed
 * once and the same (never modified) objects are handed to each such site. A site with installed packages that
 * record no PKGPATH is diffed on its own (what they could be depends on the site).
 */
export function sharedDiff(
  requirement: Requirement,
  observed: KnownObservation,
  index: ObservationIndex,
): readonly PackageChange[] {
  if (index.unlabeled.length > 0) return computeDiff(requirement, observed, index);
  const installed = index.installedByPath.get(requirement.pkgpath);
  if (Array.isArray(installed)) return computeDiff(requirement, observed, index);
  const readable = observed.repositoryReadable;
  let memo = memos.get(requirement);
  if (memo === undefined || memo.available !== observed.available || memo.readable !== readable) {
    // One listing per memo: sites of another pkg_summary replace it (planning usually meets one or two).
    memo = { available: observed.available, readable, answers: [] };
    memos.set(requirement, memo);
  }
  // A handful of answers per requirement (one per installed version seen): a scan beats hashing the site's name.
  const name = installed === undefined ? '' : installed.pkgname;
  for (const answer of memo.answers) if (answer.installed === name) return answer.changes;
  const changes = computeDiff(requirement, observed, index);
  if (memo.answers.length < MAX_ANSWERS) memo.answers.push({ installed: name, changes });
  return changes;
}

/** What a requirement gave against one listing, by the PKGNAME installed under its PKGPATH ('' for none). */
interface DiffMemo {
  available: readonly AvailablePackage[];
  readable: boolean;
  answers: Array<{ installed: string; changes: readonly PackageChange[] }>;
}

const MAX_ANSWERS = 16;

const memos = new WeakMap<Requirement, DiffMemo>();

function computeDiff(
  requirement: Requirement,
  observed: KnownObservation,
  index: ObservationIndex,
): PackageChange[] {
  const { pkgpath, pattern } = requirement;
  const at = index.installedByPath.get(pkgpath);
  const installed = at === undefined ? NONE_INSTALLED : Array.isArray(at) ? at : [at];
  const offered = index.offeredByPath.get(pkgpath) ?? NONE_OFFERED;
  // Module-level helpers, not closures: this runs for every requirement of every site.
  const change = (kind: ChangeKind, extra?: Partial<PackageChange>) => changeOf(requirement, kind, extra);

  const unlabeled = unlabeledLookalike(index.unlabeled, offered, pattern);
  if (requirement.state === 'absent') {
    const doomed = installed.filter((p) => fits(pattern, p.pkgname));
    if (doomed.length > 0) return doomed.map((p) => change('remove', { from: p.pkgname }));
    if (unlabeled)
      return [change('unknown', { from: unlabeled.pkgname, reason: noPkgpathReason(unlabeled) })];
    return [change('unchanged')];
  }

  // Without a pattern every offered version qualifies; bestMatch then picks (and breaks ties) as pkg_add does.
  const best = bestOffered(pattern ?? '*', offered);
  const satisfying = installed.find((p) => fits(pattern, p.pkgname));
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

function fits(pattern: string | undefined, pkgname: string): boolean {
  return pattern === undefined || matchPattern(pattern, pkgname);
}

function changeOf(requirement: Requirement, kind: ChangeKind, extra?: Partial<PackageChange>): PackageChange {
  return { kind, pkgpath: requirement.pkgpath, requirement, ...extra };
}

// The best offered match of a pattern, memoised per offered list: sites that share a listing share its lists, and
// 1,000 sites asking for the same requirement then pick among its versions once.
const bestByOffered = new WeakMap<readonly string[], Map<string, string | undefined>>();

function bestOffered(pattern: string, offered: readonly string[]): string | undefined {
  let known = bestByOffered.get(offered);
  if (!known) {
    known = new Map();
    bestByOffered.set(offered, known);
  }
  if (known.has(pattern)) return known.get(pattern);
  const best = bestMatch(pattern, offered);
  known.set(pattern, best);
  return best;
}

function versionOrder(a: string, b: string): number {
  return compareVersions(parsePkgName(a).version, parsePkgName(b).version);
}

/** An installed package without PKGPATH that could be the one we look for: we cannot tell, so we must not act. */
function unlabeledLookalike(
  unlabeled: InstalledPackage[],
  offered: string[],
  pattern: string | undefined,
): InstalledPackage | undefined {
  if (unlabeled.length === 0) return undefined;
  const bases = new Set(offered.map((name) => parsePkgName(name).base));
  return unlabeled.find(
    (p) =>
      bases.has(parsePkgName(p.pkgname).base) || (pattern !== undefined && matchPattern(pattern, p.pkgname)),
  );
}

function noPkgpathReason(p: InstalledPackage): string {
  return `${p.pkgname} is installed but records no PKGPATH, so gridpkg cannot tell whether it is this package`;
}
