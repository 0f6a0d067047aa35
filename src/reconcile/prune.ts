/**
 * Prune (opt-in, `prune:` in the spec): removals of the packages the spec does not declare, then of the automatic
 * packages nothing needs any more — what `pkgin autoremove` does (+INSTALLED_INFO automatic=yes, no +REQUIRED_BY
 * left). Never pkgsrc's own bootstrap packages; never a package that records no PKGPATH (gridpkg cannot tell what
 * it is: it is reported instead). A guard like Argo CD's `allowEmpty` blocks a prune larger than
 * `prune.maxRemovals` or one that would empty the site. Pure.
 */
import type { InstalledPackage } from '../grid/protocol/types.js';
import { isBootstrapPackage } from '../pkgsrc/index.js';
import type { DesiredState, IgnoreRule, PruneSettings, Requirement, SourceLocation } from '../spec/types.js';
import { repositoryIndex, safeMatch } from './candidates.js';
import type { DependentsIndex } from './dependents.js';
import type { PackageChange } from './diff.js';
import type { KnownObservation } from './observation.js';

/** The reason of every pruned removal starts with this (plan views and tests look for it). */
export const NOT_DECLARED = 'not declared';
const ORPHAN_REASON = `${NOT_DECLARED}; installed as a dependency and nothing needs it any more`;

export interface PruneOutcome {
  /** The changes given, then one removal per pruned package. */
  changes: PackageChange[];
  /** How many removals prune added. */
  removals: number;
  /** Installed packages that record no PKGPATH: never pruned, reported. */
  withoutPkgpath: string[];
  /** Why the guard blocks this prune (empty when it does not): each message says how to allow it. */
  blocked: string[];
}

const ADDING_KINDS: ReadonlySet<string> = new Set(['install', 'upgrade', 'downgrade']);

export function planPrune(
  desired: DesiredState & { prune: PruneSettings },
  observation: KnownObservation,
  changes: readonly PackageChange[],
  dependents: DependentsIndex,
): PruneOutcome {
  const declared = new Set(desired.requirements.map((r) => r.pkgpath));
  // Packages a change of the plan already starts from: the spec (or a dependency it needs) decides about them.
  const handled = new Set<string>();
  const removing = new Set<string>();
  for (const c of changes) {
    if (c.from === undefined) continue;
    handled.add(c.from);
    if (c.kind === 'remove') removing.add(c.from);
  }
  const neededByAdditions = dependsOfAdditions(changes, observation);
  const withoutPkgpath: string[] = [];
  const doomed = new Map<string, InstalledPackage>();
  // An ignore rule for removals keeps an undeclared package (and so what it needs), visibly.
  const ignored: PackageChange[] = [];
  for (const p of observation.installed) {
    if (handled.has(p.pkgname) || isBootstrapPackage(p)) continue;
    if (p.pkgpath === undefined) withoutPkgpath.push(p.pkgname);
    else if (!declared.has(p.pkgpath) && !neededByAdditions.some((d) => safeMatch(d, p.pkgname))) {
      const rule = removalIgnoredBy(p.pkgpath, desired.ignores ?? []);
      if (rule) ignored.push(ignoredRemoval(p, rule, desired.prune.source));
      else doomed.set(p.pkgname, p);
    }
  }
  // Keep what a staying package requires; keeping one can keep what it requires in turn: iterate.
  const stays = (d: { pkgname: string }) => !removing.has(d.pkgname) && !doomed.has(d.pkgname);
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of doomed.keys()) {
      if (dependents.dependentsOf(name).some(stays)) {
        doomed.delete(name);
        changed = true;
      }
    }
  }
  const pruned = [...doomed.values()].map((p) => prunedRemoval(p, desired.prune.source));
  return {
    changes: [...changes, ...ignored, ...pruned],
    removals: pruned.length,
    withoutPkgpath,
    blocked: guard(desired.prune, observation, removing, pruned, adds(changes)),
  };
}

function adds(changes: readonly PackageChange[]): boolean {
  return changes.some((c) => c.kind === 'install');
}

/** The DEPENDS patterns of the packages the plan adds: an installed package one of them matches is needed. */
function dependsOfAdditions(changes: readonly PackageChange[], observation: KnownObservation): string[] {
  const repo = repositoryIndex(observation.available);
  const patterns: string[] = [];
  for (const c of changes) {
    if (!ADDING_KINDS.has(c.kind) || c.to === undefined) continue;
    for (const pattern of repo.byName.get(c.to)?.depends ?? []) patterns.push(pattern);
  }
  return patterns;
}

function removalIgnoredBy(pkgpath: string, ignores: readonly IgnoreRule[]): IgnoreRule | undefined {
  return ignores.find(
    (r) =>
      (r.pkgpath === undefined || r.pkgpath === pkgpath) &&
      (r.kinds === undefined || r.kinds.includes('remove')),
  );
}

/** What plan shows for a prune an ignore rule suppressed, as for any other ignored removal. */
function ignoredRemoval(p: InstalledPackage, rule: IgnoreRule, source: SourceLocation): PackageChange {
  const { requirement } = prunedRemoval(p, source);
  return {
    kind: 'unchanged',
    pkgpath: requirement.pkgpath,
    from: p.pkgname,
    to: p.pkgname,
    reason: `ignored: ${rule.reason}`,
    ignored: { kind: 'remove' },
    requirement,
  };
}

function prunedRemoval(p: InstalledPackage, source: SourceLocation): PackageChange {
  const pkgpath = p.pkgpath as string;
  const requirement: Requirement = { pkgpath, pattern: undefined, state: 'absent', source };
  return {
    kind: 'remove',
    pkgpath,
    from: p.pkgname,
    reason: p.automatic ? ORPHAN_REASON : NOT_DECLARED,
    pruned: true,
    requirement,
  };
}

/** Argo CD's allowEmpty, for packages: a large prune, or one that leaves the site empty, needs saying so. */
function guard(
  settings: PruneSettings,
  observation: KnownObservation,
  removing: ReadonlySet<string>,
  pruned: readonly PackageChange[],
  adding: boolean,
): string[] {
  if (pruned.length === 0) return [];
  const where = `${settings.source.file}:${settings.source.line}`;
  const blocked: string[] = [];
  if (pruned.length > settings.maxRemovals) {
    blocked.push(
      `prune would remove ${pruned.length} packages the spec does not declare, more than prune.maxRemovals ` +
        `(${settings.maxRemovals}): declare the packages to keep, or allow it with ` +
        `prune: { maxRemovals: ${pruned.length} } (${where})`,
    );
  }
  const prunedNames = new Set(pruned.map((c) => c.from));
  const staying = observation.installed.filter(
    (p) => !isBootstrapPackage(p) && !removing.has(p.pkgname) && !prunedNames.has(p.pkgname),
  );
  // Like allowEmpty: what is refused is a site left with nothing but pkgsrc.
  if (!settings.allowRemoveAll && staying.length === 0 && !adding) {
    blocked.push(
      "prune would remove every package of this site except pkgsrc's own: if the spec is right, allow it " +
        `with prune: { allowRemoveAll: true } (${where})`,
    );
  }
  return blocked;
}
