/**
 * The drift report as Markdown for a GitHub Actions job summary ($GITHUB_STEP_SUMMARY) or a GitLab merge-request
 * comment: the summary table, each drifted or unknown site with its items, the version matrix and the
 * vulnerabilities. Every string from a site, a job or the spec goes through escapeMarkdown.
 */
import { escapeMarkdown as md } from '../markup.js';
import { formatAge } from '../status-view.js';
import type { CellState, DriftReport, MatrixCell, SiteDrift } from './model.js';

/** Items listed per site; the rest are counted (the JSON and HTML have them all). */
const MAX_SITE_ITEMS = 50;
/** Matrix rows shown; GitHub cuts a job summary at 1 MiB, and a reader at far less. The JSON has every row. */
const MAX_MATRIX_ROWS = 300;

export function renderDriftMarkdown(report: DriftReport): string {
  const s = report.summary;
  const verdict = s.unknown > 0 ? 'unknown' : s.drifted > 0 ? 'drifted' : 'in sync';
  const lines = [
    `## gridpkg drift: ${verdict}`,
    '',
    '| Sites | In sync | Drifted | Unknown | Packages | Vulnerable packages | Drift items |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${s.sites} | ${s.inSync} | ${s.drifted} | ${s.unknown} | ${s.packages} | ${s.vulnerablePackages} | ${s.driftItems} |`,
    '',
    '| Site | Sync | Health | Observed | Job |',
    '| --- | --- | --- | --- | --- |',
    ...report.sites.map(
      (site) =>
        `| ${md(site.site)} | ${site.sync} | ${site.health} | ${observed(site)} | ${site.observation?.byJob ? md(site.observation.byJob) : ''} |`,
    ),
    '',
  ];
  const attention = report.sites.filter((site) => site.sync !== 'in-sync');
  if (attention.length > 0) {
    lines.push('### Drifted and unknown sites', '');
    for (const site of attention) lines.push(...siteSection(site), '');
  }
  lines.push(...matrix(report), '');
  if (report.vulnerabilities.length > 0) {
    lines.push(
      '### Vulnerabilities',
      '',
      '| Package | Type | Advisory | Sites |',
      '| --- | --- | --- | --- |',
    );
    for (const v of report.vulnerabilities)
      lines.push(
        `| ${md(v.pkgname)} | ${md(v.type)}${v.endOfLife ? ' (end of life)' : ''} | ${md(v.url)} | ${v.sites.map((x) => md(x)).join(', ')} |`,
      );
    lines.push('');
  }
  lines.push(
    `<sub>gridpkg drift report, schema ${report.schemaVersion}, ${md(report.generatedAt)}</sub>`,
    '',
  );
  return lines.join('\n');
}

function observed(site: SiteDrift): string {
  if (!site.observation) return '';
  return `${formatAge(site.observation.ageSeconds * 1000)} ago (${site.observation.source})`;
}

function siteSection(site: SiteDrift): string[] {
  const lines = [`#### ${md(site.site)}: ${site.sync}`, ''];
  if (site.unknownReason) lines.push(`Unknown: ${md(site.unknownReason)}`, '');
  const items = site.items.filter((i) => i.severity !== 'info');
  if (items.length === 0) return lines;
  lines.push(
    '| Kind | Package | Installed | Wanted | Detail | Spec |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const item of items.slice(0, MAX_SITE_ITEMS)) {
    const detail = [
      item.target ? `→ ${md(item.target)}` : '',
      item.reason ? md(item.reason) : '',
      ...(item.advisories ?? []).map((a) => `${md(a.type)} ${md(a.url)}`),
    ]
      .filter(Boolean)
      .join('; ');
    const where = item.source ? `${md(item.source.file)}&#58;${item.source.line}` : '';
    lines.push(
      `| ${item.kind} | ${md(item.pkgpath ?? '')} | ${md(item.installed ?? '')} | ${md(item.wanted ?? '')} | ${detail} | ${where} |`,
    );
  }
  if (items.length > MAX_SITE_ITEMS)
    lines.push('', `${items.length - MAX_SITE_ITEMS} more item(s): see the JSON or HTML report.`);
  return lines;
}

const MARK: Record<CellState, string> = {
  ok: '✅',
  absent: '✅',
  'not-required': '',
  'not-declared': 'ℹ️',
  ignored: '⏸️',
  missing: '❌',
  'wrong-version': '⚠️',
  'must-be-absent': '⚠️',
  blocked: '⛔',
  unknown: '❓',
};

function matrix(report: DriftReport): string[] {
  const { sites, rows } = report.matrix;
  if (rows.length === 0) return [];
  const lines = [
    '### Version matrix',
    '',
    `| Package | ${sites.map((site) => md(site)).join(' | ')} |`,
    `| --- | ${sites.map(() => '---').join(' | ')} |`,
  ];
  for (const row of rows.slice(0, MAX_MATRIX_ROWS))
    lines.push(`| ${md(row.pkgpath)} | ${row.cells.map(matrixCell).join(' | ')} |`);
  if (rows.length > MAX_MATRIX_ROWS)
    lines.push('', `${rows.length - MAX_MATRIX_ROWS} more package(s): see the JSON or HTML report.`);
  return lines;
}

function matrixCell(cell: MatrixCell | null): string {
  if (!cell) return '';
  const version = cell.installed ? md(cell.installed) : '—';
  const state = cell.state === 'ok' || cell.state === 'not-required' ? '' : ` ${cell.state}`;
  return `${MARK[cell.state]} ${version}${state}${cell.vulnerable ? ' 🛡️ vulnerable' : ''}`.trim();
}
