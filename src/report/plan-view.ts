/** Terraform-like rendering of a plan: one block per site, one line per package, one summary line. */
import type { ChangeKind, PackageChange } from '../reconcile/diff.js';
import type { Plan, SitePlan } from '../reconcile/plan.js';
import { summarizePlan } from '../reconcile/plan.js';
import { siteName, siteText } from './safe-output.js';
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
  return [
    ...renderChanges(site, style),
    ...renderPrune(site, style),
    ...renderSoftwareArea(site, style),
    ...renderAudit(site, style),
    ...renderNotes(site, style),
  ];
}

/** Why the prune guard blocks the site (with how to allow it), and what prune leaves because it cannot tell. */
function renderPrune(site: SitePlan, style: Style): string[] {
  const prune = site.prune;
  if (!prune) return [];
  const lines = prune.blocked.map((message) => `  ${style.red('! prune blocked')}: ${siteText(message)}`);
  if (prune.withoutPkgpath.length > 0) {
    lines.push(
      `  ${style.yellow('! not pruned')}: ${prune.withoutPkgpath.map(siteName).join(', ')} record(s) no PKGPATH, so ` +
        'gridpkg cannot tell what they are (reinstall them from a package built by pkgsrc to manage them)',
    );
  }
  return lines;
}

/**
 * A software area the VO cannot keep writing, with the fix. Not group-writable is a warning (this job's account can
 * still write; the next pool account of the group cannot); not writable by the job's account blocks the site.
 */
function renderSoftwareArea(site: SitePlan, style: Style): string[] {
  const area = site.softwareArea;
  if (!area) return [];
  const prefix = siteName(area.prefix);
  const paths =
    area.notGroupWritable > 0
      ? `${area.notGroupWritable} path(s) not group-writable${area.example ? `, e.g. ${siteText(area.example)}` : ''}`
      : '';
  const fix = `chmod -R g+w ${prefix}`;
  if (!area.writable) {
    return [
      `  ${style.red('! software area not writable')} by the job's account: ${prefix}${paths ? ` (${paths})` : ''}; ` +
        `as the owner of those files, run \`${fix}\``,
    ];
  }
  return [
    `  ${style.yellow('! software area not group-writable')}: ${paths} under ${prefix}; other pool accounts of the ` +
      `VO cannot change them: run \`${fix}\` (as their owner)`,
  ];
}

/**
 * One line per vulnerable package, with the kinds of vulnerability the audit named. Every name and text from the
 * site goes through siteName/siteText here and below: a view is where untrusted text is made safe.
 */
function renderAudit(site: SitePlan, style: Style): string[] {
  const byPackage = new Map<string, string[]>();
  for (const finding of site.audit)
    byPackage.set(finding.pkgname, [...(byPackage.get(finding.pkgname) ?? []), finding.type]);
  const failing = site.desired.vulnerabilityPolicy === 'fail';
  const colour = failing ? style.red : style.yellow;
  const policy = failing ? ' (vulnerabilities.policy: fail)' : '';
  const lines = [...byPackage].map(
    ([pkgname, types]) =>
      `  ${colour(`! vulnerable ${siteName(pkgname)}`)}: ${[...new Set(types)].map(siteName).join(', ')}${policy}`,
  );
  // An audit that could not run found nothing, which is not the same as "no vulnerabilities": say so.
  if (site.auditNotRun)
    lines.push(`  ${colour('! audit did not run')}: ${siteText(site.auditNotRun.message)}${policy}`);
  return lines;
}

/** What the site job noticed and skipped (an unsafe pkgdb entry, an unreadable repository): never silent. */
function renderNotes(site: SitePlan, style: Style): string[] {
  return site.notes.map((note) => `  ${style.yellow('note')} from the site job: ${siteText(note)}`);
}

function renderChanges(site: SitePlan, style: Style): string[] {
  const header = `${style.bold(`# ${siteName(site.site)}`)}`;
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
          `${header}: ${style.yellow('unknown')} — ${siteText(site.reasons[0] ?? 'not observed')}; nothing will be done`,
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
  const what = `${describe(change)}${neededBy(change)}`;
  return `  ${colour(`${symbol} ${siteName(change.pkgpath).padEnd(24)}`)} ${what}`;
}

/** Why a dependency change is in the plan: ` (needed by hdf5-1.14.3)`, or ` (dependency)` for an automatic one. */
function neededBy(change: PackageChange): string {
  if (!['install', 'upgrade', 'downgrade', 'blocked'].includes(change.kind)) return '';
  const names = change.neededBy ?? [];
  if (names.length === 0) return '';
  const shown = names.slice(0, 3).map(siteName).join(', ');
  return ` (needed by ${shown}${names.length > 3 ? ` and ${names.length - 3} more` : ''})`;
}

function describe(change: PackageChange): string {
  const from = change.from === undefined ? undefined : siteName(change.from);
  const to = change.to === undefined ? undefined : siteName(change.to);
  switch (change.kind) {
    case 'install':
      return `install ${to}`;
    case 'remove':
      return `remove ${from}${change.pruned ? ` (${siteText(change.reason ?? 'not declared')})` : ''}`;
    case 'upgrade':
      return `upgrade ${from} -> ${to}${change.selfUpgrade ? ` (${siteText(change.reason ?? 'first')})` : ''}`;
    case 'downgrade':
      return `downgrade ${from} -> ${to}`;
    case 'unchanged':
      if (change.ignored) {
        const target = change.ignored.to ? ` -> ${siteName(change.ignored.to)}` : '';
        return `${change.ignored.kind} ${from ?? ''}${target} ${siteText(change.reason ?? 'ignored')}`.replace(
          '  ',
          ' ',
        );
      }
      return from ?? 'absent';
    case 'unknown':
    case 'blocked':
      return `${change.kind}: ${siteText(change.reason ?? '')}`;
  }
}

/**
 * One line: what apply would do, then what it leaves alone. "No changes" is said only when every site was observed
 * and matches the spec; a site that could not be observed had nothing planned, which is not the same thing.
 */
export function renderSummary(plan: Plan, style: Style = plainStyle): string {
  const s = summarizePlan(plan);
  const sites = plan.sites.length;
  const total = s.install + s.upgrade + s.downgrade + s.remove;
  const counts = `${s.install} to install, ${s.upgrade} to upgrade, ${s.downgrade} to downgrade, ${s.remove} to remove`;
  const observed = sites - s.sitesUnknown;
  let head: string;
  if (total > 0) {
    head = `${style.bold('Plan:')} ${counts} on ${s.sitesWithChanges} of ${sites} site(s).`;
  } else if (s.sitesUnknown > 0 && observed === 0) {
    head = `${style.bold('Nothing was planned:')} none of the ${sites} site(s) could be observed.`;
  } else {
    // A blocked site has changes, only none that gridpkg will make.
    const verdict = s.sitesBlocked > 0 ? 'Nothing to apply' : 'No changes';
    head =
      s.sitesUnknown > 0
        ? `${style.bold(`${verdict} on the ${observed} site(s) observed`)} (${s.sitesInSync} match the spec).`
        : `${style.bold(`${verdict}.`)} ${s.sitesInSync} of ${sites} site(s) match the spec.`;
  }
  const notes = [
    s.sitesUnknown > 0 && observed > 0
      ? style.yellow(`${s.sitesUnknown} site(s) unknown: nothing was planned there`)
      : '',
    s.sitesBlocked > 0 ? style.red(`${s.sitesBlocked} site(s) blocked`) : '',
    s.ignored > 0 ? `${s.ignored} change(s) ignored by ignore rules` : '',
    s.sitesVulnerable > 0 ? style.yellow(`${s.sitesVulnerable} site(s) with vulnerable packages`) : '',
    s.sitesAreaNotWritable > 0
      ? style.yellow(`${s.sitesAreaNotWritable} site(s) whose software area is not group-writable`)
      : '',
    s.sitesAuditNotRun > 0
      ? style.yellow(`${s.sitesAuditNotRun} site(s) whose vulnerability audit did not run`)
      : '',
  ].filter(Boolean);
  return notes.length > 0 ? `${head} ${notes.join('; ')}.` : head;
}

/** Enough of the fingerprint to tell observations apart by eye; the plan file keeps it whole. */
function shortFingerprint(fingerprint: string | undefined): string {
  if (!fingerprint) return '?';
  const [algorithm, digest = ''] = fingerprint.split(':');
  return siteName(digest.length > 12 ? `${algorithm}:${digest.slice(0, 12)}` : fingerprint);
}
