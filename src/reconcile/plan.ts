/**
 * Plan: the diff of every site turned into ordered actions, after checking that no action breaks a package that
 * stays. Pure. A site with a blocked change gets no actions at all: gridpkg refuses rather than half-breaks.
 */
import type { AuditFinding, SiteAction } from '../grid/protocol/types.js';
import { matchPattern } from '../pkgsrc/index.js';
import type { DesiredState, IgnoreRule } from '../spec/types.js';
import { resolveDependencies } from './dependencies.js';
import { type DependentsIndex, indexDependents } from './dependents.js';
import { indexObservation, type PackageChange, sharedDiff } from './diff.js';
import type { KnownObservation, Observation } from './observation.js';
import { PKG_INSTALL_PKGPATH, planPkgInstall, sitePkgInstallVersion } from './pkg-install.js';
import { planPrune } from './prune.js';

export type SiteOutcome = 'in-sync' | 'changes' | 'unknown' | 'blocked';

export interface SitePlan {
  site: string;
  outcome: SiteOutcome;
  /** Fingerprint of the observation the plan was computed from; the apply job refuses if the site differs. */
  fingerprint: string | undefined;
  changes: PackageChange[];
  actions: SiteAction[];
  /** Why the site is unknown or blocked. */
  reasons: string[];
  /** Vulnerable installed packages the site's audit found (empty when the policy is `ignore` or unknown). */
  audit: AuditFinding[];
  /**
   * Why the site's vulnerability audit did not run (no list, a damaged list: the job's message), so that an empty
   * `audit` is not read as "no vulnerabilities". Absent when it ran, when the policy is `ignore`, and in plans saved
   * by older versions.
   */
  auditNotRun?: { status: 'no-list' | 'skipped'; message: string };
  /** What the site job noticed and skipped while observing (`note` lines of its report), shown with the plan. */
  notes: string[];
  /**
   * A software area the VO cannot keep writing: parts of the prefix not group-writable (another pool account of
   * the VO's group could not change them: a warning), or not writable by the job's account at all (then the site's
   * changes are blocked: pkg_add would fail). Absent when there is no such problem.
   */
  softwareArea?: { prefix: string; writable: boolean; notGroupWritable: number; example?: string };
  /**
   * For a site that prunes: how many removals prune planned, the installed packages it leaves because they record
   * no PKGPATH, and why its guard blocks the site (each message says how to allow it; empty when it does not).
   */
  prune?: { removals: number; withoutPkgpath: string[]; blocked: string[] };
  desired: DesiredState;
}

export function planSite(desired: DesiredState, observation: Observation): SitePlan {
  const base = { site: desired.site, desired };
  if (observation.state === 'unknown') {
    const changes = desired.requirements.map<PackageChange>((requirement) => ({
      kind: 'unknown',
      pkgpath: requirement.pkgpath,
      requirement,
      reason: observation.reason,
    }));
    return {
      ...base,
      outcome: 'unknown',
      fingerprint: undefined,
      changes,
      actions: [],
      reasons: [observation.reason],
      audit: [],
      notes: observation.notes ?? [],
    };
  }

  const index = indexObservation(observation);
  const diffed: PackageChange[] = [];
  for (const r of desired.requirements) for (const c of sharedDiff(r, observation, index)) diffed.push(c);
  // Built per site and dropped with it: "who requires X" is asked for every removal and replacement.
  const dependents = indexDependents(observation.dependencies);
  const pkgInstall = planPkgInstall(desired, observation);
  const resolution = resolveDependencies(
    applyIgnores(diffed, desired.ignores ?? []),
    // The rest of the job runs with the pkg_install the site will have: an upgraded one accepts newer packages.
    withPkgInstallVersion(observation, pkgInstall.kind === 'upgrade' ? pkgInstall.version : undefined),
    desired.requirements,
    dependents,
  );
  // minPkgInstall decides about pkg_install itself, whatever else the plan would have done with it.
  const own =
    pkgInstall.kind === 'current'
      ? resolution.changes
      : [pkgInstall.change, ...resolution.changes.filter((c) => c.pkgpath !== PKG_INSTALL_PKGPATH)];
  let changes = blockForeignPrefix(blockBreakingChanges(own, dependents), observation);
  const prune = desired.prune
    ? planPrune({ ...desired, prune: desired.prune }, observation, changes, dependents)
    : undefined;
  if (prune) changes = prune.changes;
  // One pass over the site's changes (a thousand per site at real sizes).
  const reasons: string[] = [];
  let blocked = false;
  let unknown = false;
  let acts = false;
  for (const c of changes) {
    if (c.kind === 'blocked' || c.kind === 'unknown') {
      reasons.push(`${c.pkgpath}: ${c.reason ?? c.kind}`);
      if (c.kind === 'blocked') blocked = true;
      else unknown = true;
    } else if (!acts && isAction(c)) acts = true;
  }
  // The prune guard blocks the whole site: a prune larger than allowed is refused, not cut short.
  const pruneBlocks = (prune?.blocked.length ?? 0) > 0;
  if (prune) reasons.push(...prune.blocked);
  const outcome: SiteOutcome =
    blocked || pruneBlocks ? 'blocked' : unknown ? 'unknown' : acts ? 'changes' : 'in-sync';
  const softwareArea = areaProblem(observation);
  // A job that cannot write the software area would fail at pkg_add: refuse the changes instead.
  const areaBlocks = outcome === 'changes' && softwareArea?.writable === false;
  const actions =
    outcome === 'changes' && !areaBlocks ? orderActions(changes, dependents, resolution.order) : [];
  if (areaBlocks) reasons.push(`the job's account cannot write the software area ${softwareArea.prefix}`);
  const audit = desired.vulnerabilityPolicy === 'ignore' ? [] : observation.audit;
  const auditNotRun = desired.vulnerabilityPolicy === 'ignore' ? undefined : auditFailure(observation);
  const notes = observation.notes ?? [];
  return {
    ...base,
    outcome: areaBlocks ? 'blocked' : outcome,
    fingerprint: observation.fingerprint,
    changes,
    actions,
    reasons,
    audit,
    ...(auditNotRun ? { auditNotRun } : {}),
    notes,
    ...(softwareArea ? { softwareArea } : {}),
    ...(prune
      ? { prune: { removals: prune.removals, withoutPkgpath: prune.withoutPkgpath, blocked: prune.blocked } }
      : {}),
  };
}

/** The observation as the resolver should see it: with the pkg_install version the site runs (or will run). */
function withPkgInstallVersion(
  observation: KnownObservation,
  upgradedTo: string | undefined,
): KnownObservation {
  const version = upgradedTo ?? sitePkgInstallVersion(observation);
  if (
    observation.pkgsrc.state !== 'present' ||
    version === undefined ||
    version === observation.pkgsrc.version
  )
    return observation;
  return { ...observation, pkgsrc: { ...observation.pkgsrc, version } };
}

/** The site's software area when it is not writable for the job or not group-writable for the VO. */
function areaProblem(observation: KnownObservation): SitePlan['softwareArea'] {
  const area = observation.softwareArea;
  if (!area || (area.writable && area.notGroupWritable === 0)) return undefined;
  return {
    prefix: observation.pkgsrc.prefix,
    writable: area.writable,
    notGroupWritable: area.notGroupWritable,
    ...(area.example !== undefined ? { example: area.example } : {}),
  };
}

/** The audit of a known site that could not run: no vulnerability list, or one pkg_admin refused. */
function auditFailure(observation: KnownObservation): SitePlan['auditNotRun'] {
  const status = observation.auditStatus;
  if (status?.status === 'no-list')
    return { status: 'no-list', message: status.message || 'no vulnerability list on the site' };
  if (status?.status === 'skipped')
    return { status: 'skipped', message: status.message || 'pkg_admin audit did not complete' };
  return undefined;
}

/**
 * Ignore rules turn a matching install, remove, upgrade or downgrade into an unchanged entry with the rule's
 * reason, so it produces no action. Unknown and blocked outcomes are never ignored.
 */
function applyIgnores(changes: PackageChange[], ignores: readonly IgnoreRule[]): PackageChange[] {
  if (ignores.length === 0) return changes;
  return changes.map((change) => {
    if (!isAction(change)) return change;
    const rule = ignores.find(
      (r) =>
        (r.pkgpath === undefined || r.pkgpath === change.pkgpath) &&
        (r.kinds === undefined || (r.kinds as readonly string[]).includes(change.kind)),
    );
    if (!rule) return change;
    return {
      kind: 'unchanged',
      pkgpath: change.pkgpath,
      requirement: change.requirement,
      ...(change.from !== undefined ? { from: change.from, to: change.from } : {}),
      reason: `ignored: ${rule.reason}`,
      ignored: { kind: change.kind, ...(change.to !== undefined ? { to: change.to } : {}) },
    };
  });
}

const ACTION_KINDS: ReadonlySet<string> = new Set(['install', 'remove', 'upgrade', 'downgrade']);
/** Changes that may break a package that stays. */
const BREAKING_KINDS: ReadonlySet<string> = new Set(['remove', 'upgrade', 'downgrade']);
/** Changes that add a package (pkg_add). */
const ADDING_KINDS: ReadonlySet<string> = new Set(['install', 'upgrade', 'downgrade']);

function isAction(change: PackageChange): boolean {
  return ACTION_KINDS.has(change.kind);
}

/**
 * A removal is blocked while a package that stays requires it; a replacement is blocked when the new version no
 * longer satisfies a package that stays. Blocking one removal keeps that package, which can block others: iterate.
 */
function blockBreakingChanges(changes: PackageChange[], dependents: DependentsIndex): PackageChange[] {
  // Only removals and replacements can break anything: the loop visits those, and copies the list when one changes.
  const breaking: number[] = [];
  changes.forEach((c, i) => {
    if (c.from && BREAKING_KINDS.has(c.kind)) breaking.push(i);
  });
  let current = changes;
  for (;;) {
    const removed = new Set<string>();
    for (const i of breaking) {
      const c = current[i] as PackageChange;
      if (c.kind === 'remove') removed.add(c.from as string);
    }
    let next: PackageChange[] | undefined;
    for (const i of breaking) {
      const blocked = blockIfBreaking(current[i] as PackageChange, dependents, removed);
      if (blocked) {
        next ??= [...current];
        next[i] = blocked;
      }
    }
    if (!next) return current;
    current = next;
  }
}

/** The change blocked, when it removes what a staying package requires or replaces it by a version it refuses. */
function blockIfBreaking(
  change: PackageChange,
  dependents: DependentsIndex,
  removed: ReadonlySet<string>,
): PackageChange | undefined {
  if (!change.from || !BREAKING_KINDS.has(change.kind)) return undefined;
  const stayingDependents = dependents.dependentsOf(change.from).filter((d) => !removed.has(d.pkgname));
  if (change.kind === 'remove' && stayingDependents.length > 0) {
    const names = unique(stayingDependents.map((d) => d.pkgname)).join(', ');
    return {
      ...change,
      kind: 'blocked',
      reason: `cannot remove ${change.from}: required by ${names}, which stays installed; mark it absent too`,
    };
  }
  if ((change.kind === 'upgrade' || change.kind === 'downgrade') && change.to) {
    const to = change.to;
    const broken = stayingDependents.filter((d) => !matchPattern(d.pattern, to));
    if (broken.length > 0) {
      const needs = broken.map((d) => `${d.pkgname} requires ${d.pattern}`).join(', ');
      return { ...change, kind: 'blocked', reason: `cannot replace ${change.from} by ${to}: ${needs}` };
    }
  }
  return undefined;
}

/**
 * A binary package installs into the prefix it was built for (its @cwd), whatever the site's prefix: adding one
 * from a repository built for another prefix would write into that prefix — another site's software area. So
 * every change that adds a package is blocked, with what to do instead.
 */
function blockForeignPrefix(changes: PackageChange[], observation: KnownObservation): PackageChange[] {
  const built = observation.repositoryPrefix;
  const site = observation.pkgsrc.prefix;
  if (built === undefined || built === site) return changes;
  const reason =
    `the repository's packages are built for prefix ${built}, not this site's prefix ${site}: pkg_add would ` +
    `install them into ${built}. Give this site a repository built for ${site} (repository: on the site), ` +
    `install pkgsrc under the same prefix on every site that shares the repository, or build from source (installMode: source)`;
  return changes.map((change) =>
    ADDING_KINDS.has(change.kind) ? { ...change, kind: 'blocked', reason } : change,
  );
}

/**
 * Removals first, dependents before what they depend on; then replacements and installs, each after the packages
 * it needs (the resolver's order); changes the resolver did not order keep replacements before installs.
 */
function orderActions(
  changes: PackageChange[],
  dependents: DependentsIndex,
  resolvedOrder: readonly string[],
): SiteAction[] {
  const toAction = (c: PackageChange): SiteAction => {
    const action: SiteAction = {
      verb: c.selfUpgrade ? 'upgrade-pkg_install' : (c.kind as SiteAction['verb']),
      pkgpath: c.pkgpath,
      pkgname: (c.kind === 'remove' ? c.from : c.to) as string,
    };
    if (c.kind !== 'remove' && c.file !== undefined) action.file = c.file;
    if (c.kind === 'install' && c.automatic) action.automatic = true;
    return action;
  };
  const removes: PackageChange[] = [];
  const replacements: PackageChange[] = [];
  const installs: PackageChange[] = [];
  // pkg_install upgrades itself before anything else: the rest of the job was planned for the new one.
  const first: PackageChange[] = [];
  for (const c of changes) {
    if (c.selfUpgrade && c.kind === 'upgrade') first.push(c);
    else if (c.kind === 'remove') removes.push(c);
    else if (c.kind === 'upgrade' || c.kind === 'downgrade') replacements.push(c);
    else if (c.kind === 'install') installs.push(c);
  }
  const removals = orderRemovals(removes, dependents);
  const position = new Map(resolvedOrder.map((name, i) => [name, i]));
  const rank = (c: PackageChange): number => position.get(c.to as string) ?? resolvedOrder.length;
  const additions = [...replacements, ...installs];
  // A stable sort: what the resolver ordered, dependencies first; the rest after, in their old order.
  const ordered = additions.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i);
  return [...first, ...removals, ...ordered.map((x) => x.c)].map(toAction);
}

function orderRemovals(removals: PackageChange[], dependents: DependentsIndex): PackageChange[] {
  // For each removal, the other removals that depend on it: they must go first.
  const removedNames = new Set(removals.map((c) => c.from));
  const blockers = new Map(
    removals.map((c) => [
      c,
      new Set(
        dependents
          .dependentsOf(c.from as string)
          .map((d) => d.pkgname)
          .filter((name) => removedNames.has(name)),
      ),
    ]),
  );
  const ordered: PackageChange[] = [];
  const pending = [...removals];
  while (pending.length > 0) {
    // Remove first a package that no other pending removal depends on; a cycle falls back to the given order.
    const index = pending.findIndex((c) =>
      pending.every((other) => other === c || !(blockers.get(c)?.has(other.from as string) ?? false)),
    );
    const [next] = pending.splice(index === -1 ? 0 : index, 1);
    if (next) ordered.push(next);
  }
  return ordered;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** 2: a plan has an id (apply jobs record it in the ledger) and a saved plan its state directory. */
export const PLAN_FORMAT_VERSION = 2;

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  /** Names this plan in the ledger: the apply job that carries out a site's part records it. */
  id: string;
  createdAt: string;
  specFile: string;
  specDigest: string;
  sites: SitePlan[];
}

export function buildPlan(
  sites: readonly DesiredState[],
  observations: readonly Observation[],
  meta: { specFile: string; specDigest: string; createdAt?: string; id?: string },
): Plan {
  const bySite = new Map(observations.map((o) => [o.site, o]));
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    id: meta.id ?? crypto.randomUUID(),
    createdAt: meta.createdAt ?? new Date().toISOString(),
    specFile: meta.specFile,
    specDigest: meta.specDigest,
    sites: sites.map((desired) =>
      planSite(
        desired,
        bySite.get(desired.site) ?? {
          state: 'unknown',
          site: desired.site,
          observedAt: new Date(0).toISOString(),
          jobId: undefined,
          reason: 'the site was not observed',
        },
      ),
    ),
  };
}

export interface PlanSummary {
  install: number;
  upgrade: number;
  downgrade: number;
  remove: number;
  sitesWithChanges: number;
  sitesInSync: number;
  sitesUnknown: number;
  sitesBlocked: number;
  /** Sites whose audit found vulnerable packages. */
  sitesVulnerable: number;
  /** Sites whose audit could not run (no or a damaged vulnerability list): their vulnerabilities are unknown. */
  sitesAuditNotRun: number;
  /** Sites whose software area is not group-writable (or not writable by the job's account). */
  sitesAreaNotWritable: number;
  /** Changes an ignore rule turned into no action (they stay visible in the plan). */
  ignored: number;
}

export function summarizePlan(plan: Plan): PlanSummary {
  const summary: PlanSummary = {
    install: 0,
    upgrade: 0,
    downgrade: 0,
    remove: 0,
    sitesWithChanges: 0,
    sitesInSync: 0,
    sitesUnknown: 0,
    sitesBlocked: 0,
    sitesVulnerable: 0,
    sitesAuditNotRun: 0,
    sitesAreaNotWritable: 0,
    ignored: 0,
  };
  for (const site of plan.sites) {
    for (const action of site.actions)
      summary[action.verb === 'upgrade-pkg_install' ? 'upgrade' : action.verb]++;
    summary.ignored += site.changes.filter((c) => c.ignored !== undefined).length;
    if (site.audit.length > 0) summary.sitesVulnerable++;
    if (site.auditNotRun) summary.sitesAuditNotRun++;
    if (site.softwareArea) summary.sitesAreaNotWritable++;
    if (site.outcome === 'changes') summary.sitesWithChanges++;
    else if (site.outcome === 'in-sync') summary.sitesInSync++;
    else if (site.outcome === 'unknown') summary.sitesUnknown++;
    else summary.sitesBlocked++;
  }
  return summary;
}

/**
 * Sites whose spec says vulnerable packages are an error (`vulnerabilities.policy: fail`) and that have some, or
 * whose audit could not run: a site that cannot show it has none fails too.
 */
export function sitesFailingAudit(plan: Plan): SitePlan[] {
  return plan.sites.filter(
    (site) =>
      site.desired.vulnerabilityPolicy === 'fail' &&
      (site.audit.length > 0 || site.auditNotRun !== undefined),
  );
}
