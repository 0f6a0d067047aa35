/** Terraform-like rendering of a plan: one block per site, one line per package, one summary line. */
import type { ChangeKind, PackageChange } from '../reconcile/diff.js';
import type { Plan, SitePlan } from '../reconcile/plan.js';
import { summarizePlan } from '../reconcile/plan.js';
import { plainStyle, type Style } from './style.js';

const SYMBOL: Record<ChangeKind, string> = {
  install: '+',
  remove: '-',
  upgrade: '~',
  downgrade: '~',
  unchanged: ' ',
  unknown: '?',
  blocked: '!',
};

export function renderPlan(plan: Plan, style: Style = plainStyle): string {
  const lines: string[] = [];
  for (const site of plan.sites) lines.push(...renderSite(site, style), '');
  lines.push(renderSummary(plan, style));
  return `${lines.join('\n')}\n`;
}

function renderSite(site: SitePlan, style: Style): string[] {
  return [...renderChanges(site, style), ...renderAudit(site, style)];
}

/** One line per vulnerable package, with the kinds of vulnerability the audit named. */
function renderAudit(site: SitePlan, style: Style): string[] {
  const byPackage = new Map<string, string[]>();
  for (const finding of site.audit)
    byPackage.set(finding.pkgname, [...(byPackage.get(finding.pkgname) ?? []), finding.type]);
  const failing = site.desired.vulnerabilityPolicy === 'fail';
  return [...byPackage].map(
    ([pkgname, types]) =>
      `  ${(failing ? style.red : style.yellow)(`! vulnerable ${pkgname}`)}: ${[...new Set(types)].join(', ')}` +
      (failing ? ' (vulnerabilities.policy: fail)' : ''),
  );
}

function renderChanges(site: SitePlan, style: Style): string[] {
  const header = `${style.bold(`# ${site.site}`)}`;
  switch (site.outcome) {
    case 'in-sync':
      return site.changes.some(isIgnored)
        ? [
            `${header}: no changes apart from ignored drift`,
            ...site.changes.filter(isIgnored).map((c) => line(c, style)),
          ]
        : [`${header}: no changes, the site matches the spec`];
    case 'unknown':
      if (site.changes.every((c) => c.kind === 'unknown' && c.reason === site.reasons[0])) {
        return [
          `${header}: ${style.yellow('unknown')} — ${site.reasons[0] ?? 'not observed'}; nothing will be done`,
        ];
      }
      return [
        `${header}: ${style.yellow('unknown')} — nothing will be done`,
        ...site.changes.map((c) => line(c, style)),
      ];
    case 'blocked':
      return [
        `${header}: ${style.red('blocked')} — gridpkg will not change this site until this is resolved`,
        ...site.changes.filter(isShown).map((c) => line(c, style)),
      ];
    case 'changes':
      return [
        `${header} ${style.dim(`(observed database ${shortFingerprint(site.fingerprint)})`)}`,
        ...site.changes.filter(isShown).map((c) => line(c, style)),
      ];
  }
}

/** Changes an ignore rule suppressed stay visible, so ignored drift is never silent. */
function isIgnored(change: PackageChange): boolean {
  return change.kind === 'unchanged' && change.ignored !== undefined;
}

function isShown(change: PackageChange): boolean {
  return change.kind !== 'unchanged' || isIgnored(change);
}

function line(change: PackageChange, style: Style): string {
  const symbol = SYMBOL[change.kind];
  const colour =
    change.kind === 'install'
      ? style.green
      : change.kind === 'remove' || change.kind === 'blocked'
        ? style.red
        : change.kind === 'unchanged'
          ? style.dim
          : style.yellow;
  const what = describe(change);
  return `  ${colour(`${symbol} ${change.pkgpath.padEnd(24)}`)} ${what}`;
}

function describe(change: PackageChange): string {
  switch (change.kind) {
    case 'install':
      return `install ${change.to}`;
    case 'remove':
      return `remove ${change.from}`;
    case 'upgrade':
      return `upgrade ${change.from} -> ${change.to}`;
    case 'downgrade':
      return `downgrade ${change.from} -> ${change.to}`;
    case 'unchanged':
      if (change.ignored) {
        const target = change.ignored.to ? ` -> ${change.ignored.to}` : '';
        return `${change.ignored.kind} ${change.from ?? ''}${target} ${change.reason ?? 'ignored'}`.replace(
          '  ',
          ' ',
        );
      }
      return change.from ?? 'absent';
    case 'unknown':
    case 'blocked':
      return `${change.kind}: ${change.reason ?? ''}`;
  }
}

export function renderSummary(plan: Plan, style: Style = plainStyle): string {
  const s = summarizePlan(plan);
  const total = s.install + s.upgrade + s.downgrade + s.remove;
  const counts = `${s.install} to install, ${s.upgrade} to upgrade, ${s.downgrade} to downgrade, ${s.remove} to remove`;
  const notes = [
    s.sitesUnknown > 0 ? style.yellow(`${s.sitesUnknown} site(s) unknown`) : '',
    s.sitesBlocked > 0 ? style.red(`${s.sitesBlocked} site(s) blocked`) : '',
    s.sitesVulnerable > 0 ? style.yellow(`${s.sitesVulnerable} site(s) with vulnerable packages`) : '',
  ].filter(Boolean);
  const head =
    total === 0
      ? `${style.bold('No changes.')} ${s.sitesInSync} of ${plan.sites.length} site(s) match the spec.`
      : `${style.bold('Plan:')} ${counts} on ${s.sitesWithChanges} of ${plan.sites.length} site(s).`;
  return [head, ...notes].join(' ');
}

/** Enough of the fingerprint to tell observations apart by eye; the plan file keeps it whole. */
function shortFingerprint(fingerprint: string | undefined): string {
  if (!fingerprint) return '?';
  const [algorithm, digest = ''] = fingerprint.split(':');
  return digest.length > 12 ? `${algorithm}:${digest.slice(0, 12)}` : fingerprint;
}
