/**
 * The drift report model: one document that every drift format (text, JSON, Markdown, JUnit, HTML) renders, so no
 * format can disagree with another. Pure: built from the plan (which holds the resolved spec and the observations
 * it was computed from), each site's recorded status and its job history. Drift is never computed here a second
 * time: every drift item is a change of the plan, read into the report's vocabulary. Backend settings (hosts, key
 * files, environments) never enter the report. Text in it is raw (from sites, jobs and the spec): renderers make it
 * safe for their format.
 */
import type { ActionOutcome, AuditFinding, InstalledPackage } from '../../grid/protocol/types.js';
import type { PackageChange } from '../../reconcile/diff.js';
import type { Observation } from '../../reconcile/observation.js';
import type { Plan, SitePlan } from '../../reconcile/plan.js';
import type { DesiredState, IgnoreRule, Requirement, SourceLocation } from '../../spec/types.js';
import type { FinishedEntry } from '../../state/ledger.js';
import type { SiteStatus } from '../../state/site-status.js';
import { backendSecrets, redact } from './redact.js';

/** Bumped when a field changes meaning or disappears; new optional fields do not bump it. */
export const DRIFT_REPORT_SCHEMA_VERSION = 1;

export type SiteSync = 'in-sync' | 'drifted' | 'unknown';

/** The site's health as the last converge recorded it (`gridpkg status`), or `unrecorded`. */
export type SiteHealth = 'healthy' | 'progressing' | 'degraded' | 'stalled' | 'unrecorded';

export type DriftKind =
  /** A required package is not installed. */
  | 'missing'
  /** Installed, but not a version the spec accepts (or not the newest, for `latest`). */
  | 'wrong-version'
  /** Installed, but the spec says absent. */
  | 'must-be-absent'
  /** Installed by hand (not automatic) and named nowhere in the spec; drift only where the site prunes. */
  | 'not-declared'
  /** The site has no pkgsrc under its prefix. */
  | 'pkgsrc-missing'
  /** The site's pkg_install is older than the repository's packages need. */
  | 'pkgsrc-too-old'
  /** The vulnerability audit names the installed package. */
  | 'vulnerable'
  /** The audit could not run: no vulnerabilities is not known. */
  | 'audit-not-run'
  /** Drift an ignore rule of the spec leaves alone. */
  | 'ignored'
  /** A change gridpkg refuses to make (it would break a package that stays, no candidate fits, ...). */
  | 'blocked'
  /** gridpkg cannot tell (an installed package without PKGPATH that could be this one). */
  | 'unknown';

/** What an item does to the site's verdict: drift, a warning, information, or "cannot tell". */
export type ItemSeverity = 'drift' | 'warning' | 'info' | 'unknown';

export interface DriftItem {
  kind: DriftKind;
  severity: ItemSeverity;
  pkgpath?: string;
  /** The installed PKGNAME. */
  installed?: string;
  /** What the spec wants: a pkg_match pattern, `latest`, `absent`, or `any version`. */
  wanted?: string;
  /** The PKGNAME a plan would install or replace it by. */
  target?: string;
  /** Why (blocked, unknown, pkgsrc), or what the change was needed by. */
  reason?: string;
  advisories?: Array<{ type: string; url: string }>;
  ignore?: { reason: string; until?: string; rule?: SourceLocation };
  /** The spec line that declares what this item is measured against. */
  source?: SourceLocation;
}

/** One requirement of the spec against the site: the JUnit test case. */
export interface RequirementCheck {
  pkgpath: string;
  wanted: string;
  result: 'ok' | 'drift' | 'unknown' | 'ignored';
  installed?: string;
  /** The drift items of this requirement (kind and reason), in words for a one-line message. */
  message?: string;
  source: SourceLocation;
}

export interface HistoryEntry {
  jobId: string;
  mode: 'probe' | 'apply';
  finishedAt: string;
  /** The backend's end state of the job (done, failed, lost, ...). */
  jobState: string;
  /** The job report's status (ok, partial, locked, stale, error), when there was a report. */
  reportStatus?: string;
  /** An apply job carrying out a plan (a spec change or drift correction: the ledger does not tell which). */
  planId?: string;
  detail?: string;
  /** What an apply job did, from its saved report: each action and how it ended. */
  actions?: Array<{ verb: string; pkgpath: string; pkgname: string; result: string }>;
}

/** A finished job of the ledger, with the actions its saved report lists (apply jobs). */
export type RecordedJob = FinishedEntry & { actions?: readonly ActionOutcome[] };

export interface SiteDrift {
  site: string;
  sync: SiteSync;
  health: SiteHealth;
  /** Why the site is unknown (stale observation, failed probe, locked site, ...). */
  unknownReason?: string;
  observation?: {
    at: string;
    byJob?: string;
    ageSeconds: number;
    /** Probed by this run, or a recorded observation younger than the age limit. */
    source: 'probed' | 'recorded';
  };
  labels: string[];
  items: DriftItem[];
  requirements: RequirementCheck[];
  /** What the site job noted and skipped while observing. */
  notes: string[];
  history: HistoryEntry[];
  /** Since when the site has been drifted / in sync, as the last converge recorded (status/SITE.json). */
  lastDriftedAt?: string;
  lastConvergedAt?: string;
}

export type CellState =
  | 'ok'
  | 'missing'
  | 'wrong-version'
  | 'must-be-absent'
  | 'absent'
  | 'not-declared'
  | 'not-required'
  | 'ignored'
  | 'blocked'
  | 'unknown';

export interface MatrixCell {
  state: CellState;
  installed?: string;
  vulnerable?: boolean;
}

export interface MatrixRow {
  pkgpath: string;
  /** By site name; a site neither requiring nor holding the package has no cell. */
  cells: Record<string, MatrixCell>;
}

export interface VulnerabilityEntry {
  pkgname: string;
  pkgpath?: string;
  type: string;
  url: string;
  /** pkg_admin audit's `eol` type: the package is past its end of life. */
  endOfLife: boolean;
  sites: string[];
}

export interface DriftSummary {
  sites: number;
  inSync: number;
  drifted: number;
  unknown: number;
  /** Distinct PKGPATHs in the matrix. */
  packages: number;
  /** Distinct vulnerable PKGNAMEs across the sites. */
  vulnerablePackages: number;
  /** Drift items of severity drift, over all sites. */
  driftItems: number;
}

export interface DriftReport {
  schemaVersion: typeof DRIFT_REPORT_SCHEMA_VERSION;
  generatedAt: string;
  specFile: string;
  /** Observations older than this counted as unknown; absent: every observation was made by this run. */
  maxAgeSeconds?: number;
  summary: DriftSummary;
  sites: SiteDrift[];
  matrix: { sites: string[]; rows: MatrixRow[] };
  vulnerabilities: VulnerabilityEntry[];
}

export interface DriftInputs {
  /** The plan of the selected sites, from the observations below (buildPlan). */
  plan: Plan;
  /** The observation each site's plan was computed from, with where it came from. */
  observations: ReadonlyMap<string, { observation: Observation; source: 'probed' | 'recorded' }>;
  statuses?: ReadonlyMap<string, SiteStatus | undefined>;
  /** Finished jobs per site, newest first. */
  history?: ReadonlyMap<string, readonly RecordedJob[]>;
  /** Now, in milliseconds since 1970. */
  now: number;
  maxAgeMs?: number;
}

export function buildDriftReport(inputs: DriftInputs): DriftReport {
  // Free text from jobs and backends may quote backend settings: replaced before anything else reads it.
  const sites = inputs.plan.sites.map((site) => {
    const drift = siteDrift(site, inputs);
    return { ...redact(drift, backendSecrets(site.desired.backend)), site: drift.site };
  });
  const observations = new Map(
    [...inputs.observations].map(([name, { observation }]) => [name, observation] as const),
  );
  const matrix = buildMatrix(inputs.plan.sites, sites, observations);
  const vulnerabilities = collectVulnerabilities(inputs.plan.sites, sites, observations);
  return {
    schemaVersion: DRIFT_REPORT_SCHEMA_VERSION,
    generatedAt: new Date(inputs.now).toISOString(),
    specFile: inputs.plan.specFile,
    ...(inputs.maxAgeMs !== undefined ? { maxAgeSeconds: Math.round(inputs.maxAgeMs / 1000) } : {}),
    summary: {
      sites: sites.length,
      inSync: sites.filter((s) => s.sync === 'in-sync').length,
      drifted: sites.filter((s) => s.sync === 'drifted').length,
      unknown: sites.filter((s) => s.sync === 'unknown').length,
      packages: matrix.rows.length,
      vulnerablePackages: new Set(vulnerabilities.map((v) => v.pkgname)).size,
      driftItems: sites.reduce((n, s) => n + s.items.filter((i) => i.severity === 'drift').length, 0),
    },
    sites,
    matrix,
    vulnerabilities,
  };
}

/** The CLI's verdict: 3 when any site is unknown (it may hide drift, so it wins), else 2 on drift, else 0. */
export function driftVerdict(report: DriftReport): 'in-sync' | 'drifted' | 'unknown' {
  if (report.summary.unknown > 0) return 'unknown';
  return report.summary.drifted > 0 ? 'drifted' : 'in-sync';
}

function siteDrift(plan: SitePlan, inputs: DriftInputs): SiteDrift {
  const entry = inputs.observations.get(plan.site);
  const status = inputs.statuses?.get(plan.site);
  const observation = entry?.observation;
  const ageMs = observation ? inputs.now - Date.parse(observation.observedAt) : undefined;
  const base = {
    site: plan.site,
    health: status?.health ?? 'unrecorded',
    labels: plan.desired.labels ?? [],
    notes: plan.notes,
    history: (inputs.history?.get(plan.site) ?? [])
      .filter((entry) => entry.mode === 'probe' || entry.mode === 'apply')
      .map(historyEntry),
    ...transitions(status),
  } satisfies Partial<SiteDrift>;
  const observed =
    observation && entry && observation.observedAt !== new Date(0).toISOString()
      ? {
          observation: {
            at: observation.observedAt,
            ...(observation.jobId !== undefined ? { byJob: observation.jobId } : {}),
            ageSeconds: Math.max(0, Math.round((ageMs ?? 0) / 1000)),
            source: entry.source,
          },
        }
      : {};
  // An old picture of a site says nothing about it now: unknown, never "in sync".
  if (
    observation?.state === 'known' &&
    inputs.maxAgeMs !== undefined &&
    ageMs !== undefined &&
    ageMs > inputs.maxAgeMs
  ) {
    const reason =
      `the last observation (${observation.observedAt}) is older than the limit of ` +
      `${Math.round(inputs.maxAgeMs / 1000)}s`;
    return { ...base, ...observed, ...unknownSite(plan, reason) };
  }
  if (observation === undefined || observation.state === 'unknown') {
    const reason = observation?.reason ?? plan.reasons[0] ?? 'the site was not observed';
    // No pkgsrc at all is drift, not ignorance: the site definitely lacks what the spec asks for.
    if (PKGSRC_ABSENT.test(reason)) {
      return {
        ...base,
        ...observed,
        sync: 'drifted',
        items: [{ kind: 'pkgsrc-missing', severity: 'drift', reason }],
        requirements: plan.desired.requirements.map((r) => ({
          ...check(r),
          result: 'drift',
          message: 'pkgsrc-missing',
        })),
      };
    }
    return { ...base, ...observed, ...unknownSite(plan, reason) };
  }
  const items = [
    ...plan.changes.flatMap((change) => changeItems(change, plan.desired)),
    ...undeclared(observation.installed, plan),
    ...auditItems(plan, observation.installed),
  ];
  const failingAudit =
    plan.desired.vulnerabilityPolicy === 'fail' && (plan.audit.length > 0 || plan.auditNotRun !== undefined);
  const sync: SiteSync =
    plan.outcome === 'unknown'
      ? 'unknown'
      : plan.outcome === 'changes' ||
          plan.outcome === 'blocked' ||
          failingAudit ||
          items.some((i) => i.severity === 'drift')
        ? 'drifted'
        : 'in-sync';
  return {
    ...base,
    ...observed,
    sync,
    ...(sync === 'unknown' ? { unknownReason: plan.reasons.join('; ') } : {}),
    items,
    requirements: requirementChecks(plan, items),
  };
}

/** A site gridpkg cannot judge: no items, every requirement unknown for the same reason. */
function unknownSite(
  plan: SitePlan,
  reason: string,
): Pick<SiteDrift, 'sync' | 'unknownReason' | 'items' | 'requirements'> {
  return {
    sync: 'unknown',
    unknownReason: reason,
    items: [],
    requirements: plan.desired.requirements.map((r) => unknownCheck(r, reason)),
  };
}

/** observation.ts says so when the job found no pkgsrc under the prefix (see test/report/drift-model.test.ts). */
const PKGSRC_ABSENT = /^pkgsrc is not installed under /;
/** candidates.ts says so of a package built with a newer pkg_install than the site's. */
const PKGSRC_TOO_OLD = /was built with pkg_install \S+, newer than the site's/;

function transitions(status: SiteStatus | undefined): Pick<SiteDrift, 'lastDriftedAt' | 'lastConvergedAt'> {
  if (status?.sync === 'drifted') return { lastDriftedAt: status.syncSince };
  if (status?.sync === 'in-sync') return { lastConvergedAt: status.syncSince };
  return {};
}

function historyEntry(entry: RecordedJob): HistoryEntry {
  return {
    jobId: entry.jobId,
    mode: entry.mode,
    finishedAt: entry.finishedAt,
    jobState: entry.jobState,
    ...(entry.reportStatus !== undefined ? { reportStatus: entry.reportStatus } : {}),
    ...(entry.planId !== undefined ? { planId: entry.planId } : {}),
    ...(entry.detail !== undefined ? { detail: entry.detail } : {}),
    ...(entry.actions && entry.actions.length > 0
      ? {
          actions: entry.actions.map((a) => ({
            verb: a.verb,
            pkgpath: a.pkgpath,
            pkgname: a.pkgname,
            result: a.result,
          })),
        }
      : {}),
  };
}

export function wantedOf(requirement: Requirement): string {
  if (requirement.state === 'absent')
    return requirement.pattern ? `absent (${requirement.pattern})` : 'absent';
  if (requirement.state === 'latest') return requirement.pattern ? `latest ${requirement.pattern}` : 'latest';
  return requirement.pattern ?? 'any version';
}

/** Spec requirements carry their file:line; a dependency's made-up requirement points at line 0 (none). */
function sourceOf(requirement: Requirement): { source?: SourceLocation } {
  return requirement.source.line > 0 ? { source: requirement.source } : {};
}

function changeItems(change: PackageChange, desired: DesiredState): DriftItem[] {
  const common = {
    pkgpath: change.pkgpath,
    wanted: wantedOf(change.requirement),
    ...(change.from !== undefined ? { installed: change.from } : {}),
    ...sourceOf(change.requirement),
  };
  const neededBy = change.neededBy?.length ? { reason: `needed by ${change.neededBy.join(', ')}` } : {};
  switch (change.kind) {
    case 'unchanged': {
      if (!change.ignored) return [];
      const rule = ignoreRuleOf(change, desired.ignores ?? []);
      const reason = change.reason?.replace(/^ignored: /, '') ?? rule?.reason ?? '';
      return [
        {
          kind: 'ignored',
          severity: 'info',
          ...common,
          ...(change.ignored.to !== undefined ? { target: change.ignored.to } : {}),
          ignore: {
            reason,
            ...(rule?.until !== undefined ? { until: rule.until } : {}),
            ...(rule ? { rule: rule.source } : {}),
          },
        },
      ];
    }
    case 'install':
      return [{ kind: 'missing', severity: 'drift', ...common, target: change.to as string, ...neededBy }];
    case 'upgrade':
    case 'downgrade':
      return [
        { kind: 'wrong-version', severity: 'drift', ...common, target: change.to as string, ...neededBy },
      ];
    case 'remove':
      return [{ kind: 'must-be-absent', severity: 'drift', ...common }];
    case 'blocked': {
      const reason = change.reason ?? 'blocked';
      const kind = PKGSRC_TOO_OLD.test(reason) ? 'pkgsrc-too-old' : 'blocked';
      return [{ kind, severity: 'drift', ...common, reason }];
    }
    case 'unknown':
      return [{ kind: 'unknown', severity: 'unknown', ...common, reason: change.reason ?? 'unknown' }];
  }
}

/** The rule that silenced a change, found as plan.ts's applyIgnores finds it (first match in spec order). */
function ignoreRuleOf(change: PackageChange, rules: readonly IgnoreRule[]): IgnoreRule | undefined {
  const kind = change.ignored?.kind;
  return rules.find(
    (r) =>
      (r.pkgpath === undefined || r.pkgpath === change.pkgpath) &&
      (r.kinds === undefined || (kind !== undefined && (r.kinds as readonly string[]).includes(kind))),
  );
}

/** What pkgsrc's bootstrap installs as packages of their own: pkgsrc itself, never "not declared". */
const PKGSRC_ITSELF = [
  'archivers/pax',
  'devel/bmake',
  'lang/nawk',
  'pkgtools/bootstrap-mk-files',
  'pkgtools/cwrappers',
  'pkgtools/libnbcompat',
  'pkgtools/mtree',
  'pkgtools/pkg_chk',
  'pkgtools/pkg_install',
  'sysutils/checkperms',
  'textproc/nbsed',
];

/**
 * Packages installed by hand that the spec names nowhere (automatic ones came in as dependencies). They are drift
 * only where the site prunes: otherwise gridpkg leaves them alone and the report just lists them.
 */
function undeclared(installed: readonly InstalledPackage[], plan: SitePlan): DriftItem[] {
  const named = new Set([...plan.desired.requirements.map((r) => r.pkgpath), ...PKGSRC_ITSELF]);
  for (const change of plan.changes) named.add(change.pkgpath);
  return installed
    .filter((p) => !p.automatic && (p.pkgpath === undefined || !named.has(p.pkgpath)))
    .map((p) => ({
      kind: 'not-declared' as const,
      severity: plan.desired.prune ? ('drift' as const) : ('info' as const),
      ...(p.pkgpath !== undefined ? { pkgpath: p.pkgpath } : {}),
      installed: p.pkgname,
    }));
}

function auditItems(plan: SitePlan, installed: readonly InstalledPackage[]): DriftItem[] {
  const severity: ItemSeverity = plan.desired.vulnerabilityPolicy === 'fail' ? 'drift' : 'warning';
  const pathOf = new Map(installed.map((p) => [p.pkgname, p.pkgpath]));
  const requirementOf = new Map(plan.desired.requirements.map((r) => [r.pkgpath, r]));
  const byPackage = new Map<string, AuditFinding[]>();
  for (const finding of plan.audit)
    byPackage.set(finding.pkgname, [...(byPackage.get(finding.pkgname) ?? []), finding]);
  const items: DriftItem[] = [...byPackage].map(([pkgname, findings]) => {
    const pkgpath = pathOf.get(pkgname);
    const requirement = pkgpath === undefined ? undefined : requirementOf.get(pkgpath);
    return {
      kind: 'vulnerable',
      severity,
      ...(pkgpath !== undefined ? { pkgpath } : {}),
      installed: pkgname,
      advisories: findings.map((f) => ({ type: f.type, url: f.url })),
      ...(requirement ? sourceOf(requirement) : {}),
    };
  });
  if (plan.auditNotRun) items.push({ kind: 'audit-not-run', severity, reason: plan.auditNotRun.message });
  return items;
}

function check(requirement: Requirement): RequirementCheck {
  return {
    pkgpath: requirement.pkgpath,
    wanted: wantedOf(requirement),
    result: 'ok',
    source: requirement.source,
  };
}

function unknownCheck(requirement: Requirement, reason: string): RequirementCheck {
  return { ...check(requirement), result: 'unknown', message: reason };
}

/** Each requirement with the outcome of its items; indexed by PKGPATH once (a thousand requirements per site). */
function requirementChecks(plan: SitePlan, items: readonly DriftItem[]): RequirementCheck[] {
  const fromByPath = new Map<string, string>();
  for (const c of plan.changes)
    if (c.from !== undefined && !fromByPath.has(c.pkgpath)) fromByPath.set(c.pkgpath, c.from);
  const itemsByPath = new Map<string, DriftItem[]>();
  for (const item of items) {
    if (item.pkgpath === undefined || item.kind === 'not-declared') continue;
    const list = itemsByPath.get(item.pkgpath);
    if (list) list.push(item);
    else itemsByPath.set(item.pkgpath, [item]);
  }
  return plan.desired.requirements.map((requirement) => {
    const from = fromByPath.get(requirement.pkgpath);
    const base = { ...check(requirement), ...(from !== undefined ? { installed: from } : {}) };
    const mine = itemsByPath.get(requirement.pkgpath) ?? [];
    const describe = (list: DriftItem[]) => list.map(describeItem).join('; ');
    const unknown = mine.filter((i) => i.severity === 'unknown');
    const drift = mine.filter((i) => i.severity === 'drift');
    const ignored = mine.filter((i) => i.kind === 'ignored');
    if (unknown.length > 0) return { ...base, result: 'unknown', message: describe(unknown) };
    if (drift.length > 0) return { ...base, result: 'drift', message: describe(drift) };
    if (ignored.length > 0)
      return { ...base, result: 'ignored', message: ignored.map((i) => i.ignore?.reason ?? '').join('; ') };
    return base;
  });
}

/** An item in one line of raw text: `wrong-version: installed zlib-1.2.13, wants zlib>=1.3, plan zlib-1.3.1`. */
export function describeItem(item: DriftItem): string {
  const parts = [
    item.installed !== undefined ? `installed ${item.installed}` : '',
    item.wanted !== undefined && item.kind !== 'not-declared' ? `wants ${item.wanted}` : '',
    item.target !== undefined ? `plan ${item.target}` : '',
    item.reason ?? '',
    ...(item.advisories ?? []).map((a) => `${a.type} ${a.url}`),
    item.ignore
      ? `ignored: ${item.ignore.reason}${item.ignore.until ? ` (until ${item.ignore.until})` : ''}`
      : '',
  ].filter(Boolean);
  return parts.length > 0 ? `${item.kind}: ${parts.join(', ')}` : item.kind;
}

/** What an apply job did, in one line of raw text: `install gsl-2.8 ok, remove hdf5-1.14.3 failed`. */
export function describeActions(entry: HistoryEntry): string {
  return (entry.actions ?? []).map((a) => `${a.verb} ${a.pkgname} ${a.result}`).join(', ');
}

/** Package × site: every PKGPATH a selected site requires or holds, with the installed version and its state. */
function buildMatrix(
  plans: readonly SitePlan[],
  sites: readonly SiteDrift[],
  observations: ReadonlyMap<string, Observation>,
): DriftReport['matrix'] {
  // Maps while filling (a row gets a key per site: an object would be rebuilt as a dictionary key by key).
  const rows = new Map<string, Map<string, MatrixCell>>();
  const cellsOf = (pkgpath: string) => {
    let cells = rows.get(pkgpath);
    if (!cells) {
      cells = new Map();
      rows.set(pkgpath, cells);
    }
    return cells;
  };
  plans.forEach((plan, index) => {
    const site = sites[index] as SiteDrift;
    const observation = observations.get(plan.site);
    const known = site.sync !== 'unknown' && observation?.state === 'known' ? observation : undefined;
    const vulnerable = new Set(plan.audit.map((f) => f.pkgname));
    const installedByPath = new Map<string, string>();
    for (const p of known?.installed ?? [])
      if (p.pkgpath !== undefined) installedByPath.set(p.pkgpath, p.pkgname);
    const itemState = new Map<string, CellState>();
    for (const item of site.items) {
      if (item.pkgpath === undefined || item.kind === 'vulnerable' || item.kind === 'audit-not-run') continue;
      if (!itemState.has(item.pkgpath)) itemState.set(item.pkgpath, cellStateOf(item.kind));
    }
    for (const requirement of plan.desired.requirements) {
      const installed = installedByPath.get(requirement.pkgpath);
      const state: CellState = !known
        ? 'unknown'
        : (itemState.get(requirement.pkgpath) ?? (requirement.state === 'absent' ? 'absent' : 'ok'));
      cellsOf(requirement.pkgpath).set(plan.site, cell(state, installed, vulnerable));
    }
    for (const [pkgpath, pkgname] of installedByPath) {
      const cells = cellsOf(pkgpath);
      if (!cells.has(plan.site))
        cells.set(plan.site, cell(itemState.get(pkgpath) ?? 'not-required', pkgname, vulnerable));
    }
  });
  return {
    sites: plans.map((p) => p.site),
    rows: [...rows]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([pkgpath, cells]) => ({ pkgpath, cells: Object.fromEntries(cells) })),
  };
}

function cell(state: CellState, installed: string | undefined, vulnerable: ReadonlySet<string>): MatrixCell {
  if (installed === undefined) return { state };
  return vulnerable.has(installed) ? { state, installed, vulnerable: true } : { state, installed };
}

function cellStateOf(kind: DriftKind): CellState {
  switch (kind) {
    case 'missing':
    case 'wrong-version':
    case 'must-be-absent':
    case 'not-declared':
    case 'ignored':
    case 'blocked':
    case 'unknown':
      return kind;
    case 'pkgsrc-too-old':
      return 'blocked';
    default:
      return 'unknown';
  }
}

/** Each advisory once, with every site whose installed package it names. */
function collectVulnerabilities(
  plans: readonly SitePlan[],
  sites: readonly SiteDrift[],
  observations: ReadonlyMap<string, Observation>,
): VulnerabilityEntry[] {
  const byKey = new Map<string, VulnerabilityEntry>();
  plans.forEach((plan, index) => {
    if ((sites[index] as SiteDrift).sync === 'unknown') return;
    const observation = observations.get(plan.site);
    const pathOf = new Map(
      (observation?.state === 'known' ? observation.installed : []).map((p) => [p.pkgname, p.pkgpath]),
    );
    for (const finding of plan.audit) {
      const key = `${finding.pkgname}\u0000${finding.type}\u0000${finding.url}`;
      let entry = byKey.get(key);
      if (!entry) {
        const pkgpath = pathOf.get(finding.pkgname);
        entry = {
          pkgname: finding.pkgname,
          ...(pkgpath !== undefined ? { pkgpath } : {}),
          type: finding.type,
          url: finding.url,
          endOfLife: finding.type === 'eol',
          sites: [],
        };
        byKey.set(key, entry);
      }
      if (!entry.sites.includes(plan.site)) entry.sites.push(plan.site);
    }
  });
  return [...byKey.values()].sort((a, b) =>
    a.pkgname < b.pkgname ? -1 : a.pkgname > b.pkgname ? 1 : a.url < b.url ? -1 : a.url > b.url ? 1 : 0,
  );
}
