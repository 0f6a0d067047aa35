/**
 * The drift report model: one document that every drift format (text, JSON, Markdown, JUnit, HTML) renders, so no
 * format can disagree with another. Pure: built from the plan (which holds the resolved spec and the observations
 * it was computed from), each site's recorded status and its job history. Drift is never computed here a second
 * time: every drift item is a change of the plan, read into the report's vocabulary. Backend settings (hosts, key
 * files, environments) never enter the report. Text in it is raw (from sites, jobs and the spec): renderers make it
 * safe for their format.
 */
import type { AuditFinding, InstalledPackage } from '../../grid/protocol/types.js';
import type { PackageChange } from '../../reconcile/diff.js';
import type { SitePlan } from '../../reconcile/plan.js';
import type { DesiredState, IgnoreRule, Requirement, SourceLocation } from '../../spec/types.js';
import type { SiteStatus } from '../../state/site-status.js';
import { buildMatrix, collectVulnerabilities } from './matrix.js';
import { backendSecrets, redact } from './redact.js';
import {
  DRIFT_REPORT_SCHEMA_VERSION,
  type DriftInputs,
  type DriftItem,
  type DriftReport,
  type HistoryEntry,
  type ItemSeverity,
  type RecordedJob,
  type RequirementCheck,
  type SiteDrift,
  type SiteSync,
} from './types.js';

export * from './types.js';

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
    history: historyOf(inputs.history?.get(plan.site) ?? []),
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
    ...areaItems(plan),
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

/** observation.ts says so when the job found no pkgsrc under the prefix (see test/report/drift/model.test.ts). */
const PKGSRC_ABSENT = /^pkgsrc is not installed under /;
/** candidates.ts says so of a package built with a newer pkg_install than the site's. */
const PKGSRC_TOO_OLD = /was built with pkg_install \S+, newer than the site's/;

function transitions(status: SiteStatus | undefined): Pick<SiteDrift, 'lastDriftedAt' | 'lastConvergedAt'> {
  if (status?.sync === 'drifted') return { lastDriftedAt: status.syncSince };
  if (status?.sync === 'in-sync') return { lastConvergedAt: status.syncSince };
  return {};
}

/** The site's jobs, newest first; each apply job says whether it carried out a spec change or corrected drift. */
function historyOf(jobs: readonly RecordedJob[]): HistoryEntry[] {
  const shown = jobs.filter((entry) => entry.mode === 'probe' || entry.mode === 'apply');
  return shown.map((entry, i) => {
    const item = historyEntry(entry);
    if (entry.mode !== 'apply' || entry.desiredDigest === undefined) return item;
    const previous = shown
      .slice(i + 1)
      .find((older) => older.mode === 'apply' && older.desiredDigest !== undefined);
    if (previous === undefined) return item;
    return {
      ...item,
      cause: previous.desiredDigest === entry.desiredDigest ? 'drift-correction' : 'spec-change',
    };
  });
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
      // pkgsrc's own pkg_install below the spec's minPkgInstall: upgraded first by the apply job.
      if (change.selfUpgrade)
        return [{ kind: 'pkgsrc-too-old', severity: 'drift', ...common, target: change.to as string }];
      return [
        { kind: 'wrong-version', severity: 'drift', ...common, target: change.to as string, ...neededBy },
      ];
    case 'remove':
      // A removal prune planned: installed, named nowhere in the spec (or an automatic package nothing needs).
      if (change.pruned)
        return [
          {
            kind: 'not-declared',
            severity: 'drift',
            pkgpath: change.pkgpath,
            ...(change.from !== undefined ? { installed: change.from } : {}),
            ...sourceOf(change.requirement),
            reason: change.reason ?? 'not declared',
          },
        ];
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

/**
 * A software area the job's account cannot write blocks the site's changes (plan.ts refuses them: pkg_add would
 * fail); that is the reason the drift stays, so it is an item of its own.
 */
function areaItems(plan: SitePlan): DriftItem[] {
  const area = plan.softwareArea;
  if (area === undefined || area.writable || plan.outcome !== 'blocked') return [];
  return [
    {
      kind: 'blocked',
      severity: 'drift',
      reason: `the job's account cannot write the software area ${area.prefix}; as the owner, run chmod -R g+w ${area.prefix}`,
    },
  ];
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
  const describe = (list: DriftItem[]) => list.map(describeItem).join('; ');
  return plan.desired.requirements.map((requirement) => {
    const result: RequirementCheck = check(requirement);
    const from = fromByPath.get(requirement.pkgpath);
    if (from !== undefined) result.installed = from;
    const mine = itemsByPath.get(requirement.pkgpath);
    if (mine === undefined) return result;
    const unknown = mine.filter((i) => i.severity === 'unknown');
    const drift = mine.filter((i) => i.severity === 'drift');
    const ignored = mine.filter((i) => i.kind === 'ignored');
    if (unknown.length > 0) Object.assign(result, { result: 'unknown', message: describe(unknown) });
    else if (drift.length > 0) Object.assign(result, { result: 'drift', message: describe(drift) });
    else if (ignored.length > 0)
      Object.assign(result, {
        result: 'ignored',
        message: ignored.map((i) => i.ignore?.reason ?? '').join('; '),
      });
    return result;
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
