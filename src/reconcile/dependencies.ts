/**
 * Dependency closure of a site's planned installs and replacements, resolved as pkgin does from the repository's
 * pkg_summary (DEPENDS, build facts) against what the site holds and what the spec pins. Pure.
 *
 * Real pkg_add installs a missing dependency itself, but refuses when another version of it is installed ("A
 * different version of zlib-1.3.1 is already installed: zlib-1.2.13" / "Can't install dependency zlib>=1.3"). So
 * every dependency change becomes an explicit action, ordered before what needs it: a missing dependency is
 * installed (automatic, as pkg_add would mark it), an installed one that does not match is upgraded with
 * `pkg_add -u` first — only where the spec allows it and no package that stays would break. Candidates are tried
 * newest first; one that cannot fit is replaced by an older one, or the change is blocked with the reason.
 *
 * Cost: a repository index per listing (shared by the sites that read it) with pattern matches memoised; per site
 * an index of what is installed by PKGBASE and of installed matches per pattern. Each package is placed once per
 * try; a placement that failed is not tried again for the same root.
 */
import type { AvailablePackage, Dependency, InstalledPackage } from '../grid/protocol/types.js';
import { compareVersions, parsePkgName } from '../pkgsrc/index.js';
import type { Requirement } from '../spec/types.js';
import {
  literalPrefix,
  newestFirst,
  platformProblem,
  type RepositoryIndex,
  repositoryIndex,
  type SitePlatform,
  safeMatch,
  sitePlatform,
} from './candidates.js';
import { type DependentsIndex, indexDependents } from './dependents.js';
import type { ChangeKind, PackageChange } from './diff.js';
import type { KnownObservation } from './observation.js';

export interface Resolution {
  changes: PackageChange[];
  /** PKGNAMEs to add (installs and replacements), dependencies before what needs them. */
  order: string[];
}

interface Planned {
  pkg: AvailablePackage;
  base: string;
  /** The installed package it replaces. */
  from: InstalledPackage | undefined;
  neededBy: string[];
  /** The spec's change this package carries out; undefined for a dependency. */
  root: PackageChange | undefined;
}

const ACTION_KINDS: ReadonlySet<ChangeKind> = new Set(['install', 'upgrade', 'downgrade']);
/** At most this many placements per site: a pathological repository is blocked, never planned for minutes. */
const MAX_PLACEMENTS_PER_ROOT = 10_000;

export function resolveDependencies(
  changes: readonly PackageChange[],
  observation: KnownObservation,
  requirements: readonly Requirement[],
  dependents: DependentsIndex = indexDependents(observation.dependencies),
): Resolution {
  const roots = changes.filter((c) => ACTION_KINDS.has(c.kind) && c.to !== undefined);
  if (roots.length === 0) return { changes: [...changes], order: [] };
  const resolver = new Resolver(observation, requirements, changes, dependents);
  return resolver.run(changes, roots);
}

/** The requirements by PKGPATH, once per requirement list (sites of one spec share theirs when they share sets). */
const pinIndexes = new WeakMap<readonly Requirement[], Map<string, Requirement>>();

function pinsOf(requirements: readonly Requirement[]): Map<string, Requirement> {
  let pins = pinIndexes.get(requirements);
  if (pins === undefined) {
    pins = new Map();
    for (const r of requirements) pins.set(r.pkgpath, r);
    pinIndexes.set(requirements, pins);
  }
  return pins;
}

class Resolver {
  private readonly repo: RepositoryIndex;
  private readonly platform: SitePlatform;
  private readonly pins: Map<string, Requirement>;
  /** The site's installed packages by PKGNAME in byte order (as the job lists them), searched by prefix. */
  private readonly installed: readonly InstalledPackage[];
  private readonly installedMemo = new Map<string, InstalledPackage[]>();
  /** Installed packages the plan removes (spec `absent`) or replaces. */
  private readonly gone = new Set<string>();
  private readonly plannedByBase = new Map<string, Planned>();
  private readonly plannedByName = new Map<string, Planned>();
  private readonly planned: Planned[] = [];
  private readonly inProgress = new Set<string>();
  private undo: Array<() => void> = [];
  private failed = new Map<string, string>();
  private placements = 0;

  constructor(
    private readonly observation: KnownObservation,
    requirements: readonly Requirement[],
    changes: readonly PackageChange[],
    private readonly dependents: DependentsIndex,
  ) {
    this.repo = repositoryIndex(observation.available);
    this.platform = sitePlatform({
      os: observation.host?.os,
      arch: observation.host?.arch,
      pkgInstallVersion: observation.pkgsrc.state === 'present' ? observation.pkgsrc.version : undefined,
    });
    this.pins = pinsOf(requirements);
    this.installed = sortedByName(observation.installed);
    for (const c of changes) if (c.kind === 'remove' && c.from) this.gone.add(c.from);
  }

  run(changes: readonly PackageChange[], roots: PackageChange[]): Resolution {
    const outcome = new Map<PackageChange, PackageChange | AvailablePackage>();
    // Replacements first: a later install then sees the versions the site will hold.
    const ordered = [
      ...roots.filter((c) => c.kind !== 'install'),
      ...roots.filter((c) => c.kind === 'install'),
    ];
    for (const root of ordered) outcome.set(root, this.resolveRoot(root));
    const blockedByCheck = this.verify();

    const result: PackageChange[] = [];
    const placedPaths = new Map<string, Planned>();
    for (const p of this.planned) if (!p.root) placedPaths.set(p.pkg.pkgpath, p);
    for (const change of changes) {
      const chosen = outcome.get(change) ?? change;
      // A root that found its package: described now, once every later change has said whether it needs it too.
      const resolved = 'kind' in chosen ? chosen : this.rootChange(change, chosen);
      const dependency =
        change.kind === 'unchanged' && placedPaths.size > 0 ? placedPaths.get(change.pkgpath) : undefined;
      if (dependency) {
        // A package the spec names (and the site holds) that another planned package needs in another version.
        placedPaths.delete(change.pkgpath);
        result.push(this.dependencyChange(dependency, change.requirement, blockedByCheck));
      } else {
        result.push(this.withCheck(resolved, blockedByCheck));
      }
    }
    for (const p of placedPaths.values()) result.push(this.dependencyChange(p, undefined, blockedByCheck));
    return { changes: result, order: this.planned.map((p) => p.pkg.pkgname) };
  }

  /** Places the root's best candidate, or an older one that fits; blocks with the reason when none does. */
  private resolveRoot(root: PackageChange): PackageChange | AvailablePackage {
    const candidates = this.rootCandidates(root);
    if (candidates.length === 0) return root; // the repository listing lacks build facts: nothing to check
    const reasons: string[] = [];
    for (const candidate of candidates) {
      // What failed under another candidate may fit under this one: the memo holds for one try only.
      this.failed = new Map();
      this.placements = 0;
      const mark = this.undo.length;
      const why = this.place(candidate, undefined, root);
      if (why === undefined) return candidate;
      this.rollback(mark);
      reasons.push(why);
    }
    const reason = describeFailure(root.to as string, reasons);
    const { pattern, state } = root.requirement;
    const keeps = root.from !== undefined && (pattern === undefined || safeMatch(pattern, root.from));
    if (root.kind === 'upgrade' && state === 'latest' && keeps) {
      // `latest` keeps what the site has when no newer version can be installed.
      return { ...root, kind: 'unchanged', to: root.from, reason: `stays: ${reason}` };
    }
    return { ...root, kind: 'blocked', reason };
  }

  /**
   * The diff's choice first, then the other versions of the same package the requirement allows, newest first.
   * Sites share their diff's changes (diff.ts), so each such change looks its candidates up once per listing.
   */
  private rootCandidates(root: PackageChange): readonly AvailablePackage[] {
    const known = rootCandidateMemo.get(root);
    if (known?.repo === this.repo) return known.candidates;
    const candidates = this.findRootCandidates(root);
    rootCandidateMemo.set(root, { repo: this.repo, candidates });
    return candidates;
  }

  private findRootCandidates(root: PackageChange): AvailablePackage[] {
    const chosen = this.repo.byName.get(root.to as string);
    if (!chosen) return [];
    const base = this.repo.baseOf(chosen.pkgname);
    const { pattern, state } = root.requirement;
    const others = this.repo
      .matching(`${base}-[0-9]*`)
      .filter(
        (p) =>
          p !== chosen &&
          p.pkgpath === chosen.pkgpath &&
          p.pkgname !== root.from &&
          (pattern === undefined || safeMatch(pattern, p.pkgname)) &&
          !(state === 'latest' && root.from !== undefined && newestFirst(p.pkgname, root.from) >= 0),
      );
    return [chosen, ...others];
  }

  /** Plans `pkg` and, depth first, what it needs. Returns why it cannot be, or undefined when it is planned. */
  private place(
    pkg: AvailablePackage,
    neededBy: string | undefined,
    root: PackageChange | undefined,
  ): string | undefined {
    const base = this.repo.baseOf(pkg.pkgname);
    const planned = this.plannedByBase.get(base);
    if (planned) {
      if (planned.pkg.pkgname !== pkg.pkgname) {
        const why = planned.neededBy.length > 0 ? ` (needed by ${planned.neededBy.join(', ')})` : '';
        return `${pkg.pkgname} conflicts with ${planned.pkg.pkgname}, which is planned${why}`;
      }
      if (neededBy !== undefined) this.addNeededBy(planned, neededBy);
      if (root !== undefined && planned.root === undefined) {
        // Planned as a dependency of an earlier change, and also what the spec asks for.
        planned.root = root;
        this.undo.push(() => {
          planned.root = undefined;
        });
      }
      return undefined;
    }
    const known = this.failed.get(pkg.pkgname);
    if (known !== undefined) return known;
    if (++this.placements > MAX_PLACEMENTS_PER_ROOT) return 'the dependency closure is too large to resolve';
    const why = this.placeNew(pkg, base, neededBy, root);
    if (why !== undefined) this.failed.set(pkg.pkgname, why);
    return why;
  }

  private placeNew(
    pkg: AvailablePackage,
    base: string,
    neededBy: string | undefined,
    root: PackageChange | undefined,
  ): string | undefined {
    const problem = platformProblem(pkg, this.platform);
    if (problem !== undefined) return problem;
    const installed = this.installedWithBase(base);
    const replaces = installed !== undefined && installed.pkgname !== pkg.pkgname ? installed : undefined;
    if (root === undefined) {
      const pin = this.pins.get(pkg.pkgpath);
      if (pin?.state === 'absent') return `the spec wants ${pkg.pkgpath} absent`;
      if (pin?.pattern !== undefined && !safeMatch(pin.pattern, pkg.pkgname)) {
        return `${pkg.pkgname} is not allowed: the spec pins ${pkg.pkgpath} to ${pin.pattern}`;
      }
      if (replaces !== undefined) {
        if (this.gone.has(replaces.pkgname)) return `${replaces.pkgname} is to be removed`;
        const broken = this.stayingDependents(replaces).filter((d) => !safeMatch(d.pattern, pkg.pkgname));
        if (broken.length > 0) {
          const needs = broken.map((d) => `${d.pkgname} requires ${d.pattern}`).join(', ');
          return `replacing ${replaces.pkgname} by ${pkg.pkgname} would break ${needs}`;
        }
      }
    }
    const entry: Planned = {
      pkg,
      base,
      from: replaces,
      neededBy: neededBy === undefined ? [] : [neededBy],
      root,
    };
    this.plannedByBase.set(base, entry);
    this.plannedByName.set(pkg.pkgname, entry);
    this.undo.push(() => {
      this.plannedByBase.delete(base);
      this.plannedByName.delete(pkg.pkgname);
    });
    if (replaces !== undefined && !this.gone.has(replaces.pkgname)) {
      this.gone.add(replaces.pkgname);
      this.undo.push(() => this.gone.delete(replaces.pkgname));
    }
    this.inProgress.add(pkg.pkgname);
    try {
      for (const pattern of pkg.depends ?? []) {
        const why = this.satisfy(pattern, pkg.pkgname);
        if (why !== undefined) return `${pkg.pkgname} needs ${pattern}: ${why}`;
      }
    } finally {
      this.inProgress.delete(pkg.pkgname);
    }
    this.planned.push(entry);
    this.undo.push(() => this.planned.pop());
    return undefined;
  }

  /** One DEPENDS pattern: an installed package that stays, a planned one, or a new candidate (newest first). */
  private satisfy(pattern: string, neededBy: string): string | undefined {
    if (this.installedMatching(pattern).some((p) => !this.gone.has(p.pkgname))) return undefined;
    const candidates = this.repo.matching(pattern);
    for (const c of candidates) {
      const planned = this.plannedByName.get(c.pkgname);
      if (planned === undefined) continue;
      if (this.inProgress.has(c.pkgname))
        return `dependency cycle: ${c.pkgname} needs itself through ${neededBy}`;
      this.addNeededBy(planned, neededBy);
      return undefined;
    }
    if (candidates.length === 0) {
      return this.observation.repositoryReadable
        ? `the repository offers no package matching ${pattern}`
        : 'the site could not read the package repository';
    }
    const reasons: string[] = [];
    for (const candidate of candidates) {
      const mark = this.undo.length;
      const why = this.place(candidate, neededBy, undefined);
      if (why === undefined) return undefined;
      this.rollback(mark);
      reasons.push(why);
    }
    // The newest candidate's reason, then (briefly) why the others do not fit.
    const [first = `no candidate for ${pattern}`, ...others] = reasons;
    if (others.length === 0) return first;
    const more = others.length > 2 ? `; and ${others.length - 2} more` : '';
    return `${first} (other candidates: ${others.slice(0, 2).join('; ')}${more})`;
  }

  private addNeededBy(planned: Planned, neededBy: string): void {
    if (planned.neededBy.includes(neededBy)) return;
    planned.neededBy.push(neededBy);
    this.undo.push(() => planned.neededBy.pop());
  }

  private rollback(mark: number): void {
    while (this.undo.length > mark) this.undo.pop()?.();
  }

  /** The installed package of this PKGBASE (pkg_add never holds two versions of one). */
  private installedWithBase(base: string): InstalledPackage | undefined {
    const prefix = `${base}-`;
    for (let i = firstWithPrefix(this.installed, prefix); i < this.installed.length; i++) {
      const p = this.installed[i] as InstalledPackage;
      if (!p.pkgname.startsWith(prefix)) break;
      if (this.repo.baseOf(p.pkgname) === base) return p;
    }
    return undefined;
  }

  private installedMatching(pattern: string): InstalledPackage[] {
    let found = this.installedMemo.get(pattern);
    if (found === undefined) {
      found = [];
      const prefix = literalPrefix(pattern);
      for (let i = firstWithPrefix(this.installed, prefix); i < this.installed.length; i++) {
        const p = this.installed[i] as InstalledPackage;
        if (!p.pkgname.startsWith(prefix)) break;
        if (safeMatch(pattern, p.pkgname)) found.push(p);
      }
      this.installedMemo.set(pattern, found);
    }
    return found;
  }

  /** Installed packages that stay and whose recorded dependencies `installed` satisfies. */
  private stayingDependents(installed: InstalledPackage): Dependency[] {
    return this.dependents.dependentsOf(installed.pkgname).filter((d) => !this.gone.has(d.pkgname));
  }

  /**
   * The closure as a whole: every planned package's DEPENDS met by what the site will hold. Placing packages one
   * root at a time can let a later replacement undo what an earlier install relied on; such a package is blocked.
   */
  private verify(): Map<string, string> {
    const problems = new Map<string, string>();
    for (const p of this.planned) {
      for (const pattern of p.pkg.depends ?? []) {
        const met =
          this.installedMatching(pattern).some((i) => !this.gone.has(i.pkgname)) ||
          this.repo.matching(pattern).some((c) => this.plannedByName.has(c.pkgname));
        if (!met) {
          problems.set(
            p.pkg.pkgname,
            `${p.pkg.pkgname} needs ${pattern}, which another planned change replaces`,
          );
          break;
        }
      }
    }
    return problems;
  }

  private withCheck(change: PackageChange, problems: Map<string, string>): PackageChange {
    const problem = change.to === undefined || problems.size === 0 ? undefined : problems.get(change.to);
    if (problem === undefined || !ACTION_KINDS.has(change.kind)) return change;
    return { ...change, kind: 'blocked', reason: problem };
  }

  private rootChange(root: PackageChange, pkg: AvailablePackage): PackageChange {
    const neededBy = this.plannedByName.get(pkg.pkgname)?.neededBy ?? [];
    if (neededBy.length > 0) return describeRoot(root, pkg, neededBy);
    // Nothing else needs it: the same change for every site that shares the root (diff.ts) and the listing.
    const known = rootChangeMemo.get(root);
    if (known?.pkg === pkg) return known.change;
    const change = describeRoot(root, pkg, neededBy);
    rootChangeMemo.set(root, { pkg, change });
    return change;
  }

  private dependencyChange(
    p: Planned,
    requirement: Requirement | undefined,
    problems: Map<string, string>,
  ): PackageChange {
    const from = p.from?.pkgname;
    const kind: ChangeKind =
      from === undefined ? 'install' : versionOrder(p.pkg.pkgname, from) > 0 ? 'upgrade' : 'downgrade';
    const change: PackageChange = {
      kind,
      pkgpath: p.pkg.pkgpath,
      ...(from !== undefined ? { from } : {}),
      to: p.pkg.pkgname,
      requirement: requirement ?? dependencyRequirement(p, this.rootRequirementOf(p)),
      neededBy: [...p.neededBy],
      ...(p.pkg.fileName !== undefined ? { file: p.pkg.fileName } : {}),
      ...(from === undefined ? { automatic: true } : {}),
    };
    return this.withCheck(change, problems);
  }

  /** The spec requirement whose change pulled this dependency in (through the first package that needs it). */
  private rootRequirementOf(p: Planned): Requirement | undefined {
    let current: Planned | undefined = p;
    const seen = new Set<Planned>();
    while (current && !current.root && !seen.has(current)) {
      seen.add(current);
      const next: string | undefined = current.neededBy[0];
      current = next === undefined ? undefined : this.plannedByName.get(next);
    }
    return current?.root?.requirement;
  }
}

const rootChangeMemo = new WeakMap<PackageChange, { pkg: AvailablePackage; change: PackageChange }>();

/** The spec's change carried out with `pkg` (the diff's choice or an older version that fits). */
function describeRoot(
  root: PackageChange,
  pkg: AvailablePackage,
  neededBy: readonly string[],
): PackageChange {
  const kind: ChangeKind =
    root.from === undefined ? 'install' : versionOrder(pkg.pkgname, root.from) > 0 ? 'upgrade' : 'downgrade';
  return {
    ...root,
    kind,
    to: pkg.pkgname,
    ...(pkg.fileName !== undefined ? { file: pkg.fileName } : {}),
    ...(neededBy.length > 0 ? { neededBy: [...neededBy] } : {}),
  };
}

const rootCandidateMemo = new WeakMap<
  PackageChange,
  { repo: RepositoryIndex; candidates: readonly AvailablePackage[] }
>();

/** Installed packages by PKGNAME in byte order: the job's list already is (LC_ALL=C), so usually no copy is made. */
function sortedByName(installed: readonly InstalledPackage[]): readonly InstalledPackage[] {
  for (let i = 1; i < installed.length; i++) {
    if ((installed[i - 1] as InstalledPackage).pkgname > (installed[i] as InstalledPackage).pkgname)
      return [...installed].sort((a, b) => (a.pkgname < b.pkgname ? -1 : a.pkgname > b.pkgname ? 1 : 0));
  }
  return installed;
}

/** The first index of a by-name sorted list whose PKGNAME is not below `prefix` (binary search). */
function firstWithPrefix(sorted: readonly InstalledPackage[], prefix: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as InstalledPackage).pkgname < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A dependency is not in the spec: its requirement says what needs it and points at the spec line that did. */
function dependencyRequirement(p: Planned, root: Requirement | undefined): Requirement {
  return {
    pkgpath: p.pkg.pkgpath,
    pattern: undefined,
    state: 'present',
    source: root?.source ?? { file: '(dependency)', line: 0, column: 0 },
  };
}

function describeFailure(first: string, reasons: string[]): string {
  const [best, ...rest] = reasons;
  if (best === undefined) return `no candidate for ${first}`;
  if (rest.length === 0) return best;
  const shown = rest.slice(0, 3).join('; ');
  const more = rest.length > 3 ? `; and ${rest.length - 3} more` : '';
  return `${best}; older versions do not fit either: ${shown}${more}`;
}

function versionOrder(a: string, b: string): number {
  try {
    return compareVersions(parsePkgName(a).version, parsePkgName(b).version);
  } catch {
    return 0;
  }
}
