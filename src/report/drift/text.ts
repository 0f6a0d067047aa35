/**
 * The drift report on a terminal: one table line per site, then the drift of each drifted or unknown site, then a
 * summary line. Short by default (a few items per site); `verbose` lists every item, warnings, notes and history.
 * Every string from a site, a job or the spec goes through siteName/siteText.
 */
import { siteName, siteText } from '../safe-output.js';
import { formatAge } from '../status-view.js';
import { plainStyle, type Style } from '../style.js';
import { type DriftItem, type DriftReport, describeActions, type SiteDrift } from './model.js';

/** Drift items shown per site without --verbose. */
const SHORT_ITEMS = 5;

export function renderDriftText(
  report: DriftReport,
  options: { style?: Style; verbose?: boolean } = {},
): string {
  const style = options.style ?? plainStyle;
  const verbose = options.verbose === true;
  const lines = [...siteTable(report, style), ''];
  for (const site of report.sites) {
    const block = siteBlock(site, style, verbose);
    if (block.length > 0) lines.push(...block, '');
  }
  if (verbose && report.vulnerabilities.length > 0) {
    lines.push(style.bold('Vulnerabilities'));
    for (const v of report.vulnerabilities)
      lines.push(
        `  ${siteName(v.pkgname)}: ${siteName(v.type)}${v.endOfLife ? ' (end of life)' : ''} ${siteText(v.url)} ` +
          `on ${v.sites.map(siteName).join(', ')}`,
      );
    lines.push('');
  }
  lines.push(summaryLine(report, style));
  return `${lines.join('\n')}\n`;
}

function siteTable(report: DriftReport, style: Style): string[] {
  const rows = report.sites.map((site) => ({
    site: siteName(site.site),
    sync: site.sync,
    health: site.health,
    observed: site.observation
      ? `${formatAge(site.observation.ageSeconds * 1000)} ago (${site.observation.source})`
      : '-',
    detail: siteDetail(site),
  }));
  const header = { site: 'SITE', sync: 'SYNC', health: 'HEALTH', observed: 'OBSERVED', detail: 'DETAIL' };
  const keys = ['site', 'sync', 'health', 'observed'] as const;
  const widths = keys.map((key) => Math.max(header[key].length, ...rows.map((r) => r[key].length)));
  const line = (row: typeof header, colour: (t: string) => string = (t) => t) =>
    keys
      .map((key, i) => {
        const cell = row[key].padEnd(widths[i] ?? 0);
        return key === 'sync' ? colour(cell) : cell;
      })
      .concat(row.detail)
      .join('  ')
      .trimEnd();
  return [style.bold(line(header)), ...rows.map((row) => line(row, syncColour(row.sync, style)))];
}

function syncColour(sync: string, style: Style): (text: string) => string {
  if (sync === 'in-sync') return style.green;
  if (sync === 'drifted') return style.yellow;
  return style.red;
}

function siteDetail(site: SiteDrift): string {
  if (site.sync === 'unknown') return siteText(site.unknownReason ?? 'not observed');
  const count = (severity: DriftItem['severity']) => site.items.filter((i) => i.severity === severity).length;
  const parts = [
    [count('drift'), 'drift'],
    [count('warning'), 'warning(s)'],
    [site.items.filter((i) => i.kind === 'ignored').length, 'ignored'],
  ] as const;
  return parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(', ');
}

function siteBlock(site: SiteDrift, style: Style, verbose: boolean): string[] {
  const shown = verbose
    ? site.items
    : site.items.filter((i) => i.severity === 'drift' || i.severity === 'unknown');
  if (site.sync === 'in-sync' && (!verbose || shown.length === 0)) return [];
  const lines = [`# ${siteName(site.site)}: ${syncColour(site.sync, style)(site.sync)}`];
  if (site.unknownReason) lines.push(`  ? ${siteText(site.unknownReason)}`);
  const limit = verbose ? shown.length : SHORT_ITEMS;
  for (const item of shown.slice(0, limit)) lines.push(`  ${itemLine(item, style)}`);
  if (shown.length > limit) lines.push(`  ... and ${shown.length - limit} more (--verbose shows every item)`);
  if (verbose) {
    for (const note of site.notes) lines.push(`  note from the site job: ${siteText(note)}`);
    for (const h of site.history.slice(0, 5))
      lines.push(
        `  history: ${h.finishedAt} ${h.mode}${h.cause ? ` (${h.cause.replace('-', ' ')})` : ''} ${siteName(h.jobId)} ${siteName(h.jobState)}` +
          `${h.reportStatus ? `/${siteName(h.reportStatus)}` : ''}${h.detail ? `: ${siteText(h.detail)}` : ''}` +
          `${h.actions ? ` (${siteText(describeActions(h))})` : ''}`,
      );
  }
  return lines;
}

const SYMBOL: Record<DriftItem['kind'], string> = {
  missing: '+',
  'wrong-version': '~',
  'must-be-absent': '-',
  'not-declared': '*',
  'pkgsrc-missing': '!',
  'pkgsrc-too-old': '!',
  vulnerable: '!',
  'audit-not-run': '!',
  ignored: ' ',
  blocked: '!',
  unknown: '?',
};

/** One item: symbol, PKGPATH, kind, versions, reason, and the spec line it is measured against. */
export function itemLine(item: DriftItem, style: Style = plainStyle): string {
  const colour =
    item.severity === 'drift' ? style.yellow : item.severity === 'unknown' ? style.red : style.dim;
  const parts = [colour(`${SYMBOL[item.kind]} ${item.kind}`)];
  if (item.pkgpath) parts.push(siteName(item.pkgpath));
  if (item.installed) parts.push(`installed ${siteName(item.installed)}`);
  if (item.wanted && item.kind !== 'not-declared') parts.push(`wants ${siteName(item.wanted)}`);
  if (item.target) parts.push(`-> ${siteName(item.target)}`);
  if (item.advisories)
    parts.push(item.advisories.map((a) => `${siteName(a.type)} ${siteText(a.url)}`).join(', '));
  if (item.ignore)
    parts.push(
      `by rule: ${siteText(item.ignore.reason)}${item.ignore.until ? ` (until ${siteName(item.ignore.until)})` : ''}`,
    );
  if (item.reason) parts.push(`— ${siteText(item.reason)}`);
  if (item.source) parts.push(style.dim(`(${locationText(item.source)})`));
  return parts.join(' ');
}

export function locationText(source: { file: string; line: number }): string {
  return `${siteName(source.file)}:${source.line}`;
}

function summaryLine(report: DriftReport, style: Style): string {
  const s = report.summary;
  const text =
    `Drift: ${s.inSync} of ${s.sites} site(s) in sync, ${s.drifted} drifted, ${s.unknown} unknown; ` +
    `${s.driftItems} drift item(s), ${s.vulnerablePackages} vulnerable package(s).`;
  return s.unknown > 0 ? style.red(text) : s.drifted > 0 ? style.yellow(text) : style.green(text);
}
