/**
 * The drift report as one self-contained HTML page: no network fetch, no CDN. The summary, the package × site
 * matrix (sorted by a click on a column header, filtered by a text box: a small inline script), drift and
 * vulnerabilities per site, and history. Every string from a site, a job or the spec goes through escapeHtml, and
 * the page's Content-Security-Policy allows only its own script (by hash) and no other source, so even a string
 * that escaped escaping could neither run nor fetch anything.
 */
import { createHash } from 'node:crypto';
import { escapeHtml as h } from '../markup.js';
import { formatAge } from '../status-view.js';
import { type DriftReport, describeActions, type SiteDrift } from './model.js';

// Reads only the table the page already holds; never inserts markup (textContent and row order only).
const SCRIPT = `
(function () {
  var table = document.getElementById('matrix');
  if (!table) return;
  var body = table.tBodies[0];
  var filter = document.getElementById('matrix-filter');
  var onlyDrift = document.getElementById('matrix-drift');
  function apply() {
    var text = filter.value.toLowerCase();
    Array.prototype.forEach.call(body.rows, function (row) {
      var match = row.textContent.toLowerCase().indexOf(text) !== -1;
      var drift = !onlyDrift.checked || row.getAttribute('data-drift') === 'yes';
      row.hidden = !(match && drift);
    });
  }
  filter.addEventListener('input', apply);
  onlyDrift.addEventListener('change', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, index) {
    cell.addEventListener('click', function () {
      var descending = cell.getAttribute('aria-sort') === 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
      cell.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[index].textContent, y = b.cells[index].textContent;
        return (descending ? -1 : 1) * x.localeCompare(y, undefined, { numeric: true });
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
`;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
#matrix th { cursor: pointer; background: #f4f4f4; }
.in-sync, .ok, .absent { background: #e6f4ea; }
.drifted, .missing, .wrong-version, .must-be-absent, .blocked { background: #fdecea; }
.unknown { background: #fff4e5; }
.ignored, .not-declared { background: #eef; }
.vulnerable { font-weight: bold; color: #b00; }
`;

/** The page's Content-Security-Policy (also sent as a header by `gridpkg serve`): its own script only, by hash. */
export const DRIFT_HTML_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'; img-src data:; base-uri 'none'; form-action 'none'`;

export function renderDriftHtml(report: DriftReport): string {
  const csp = DRIFT_HTML_CSP;
  const s = report.summary;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="referrer" content="no-referrer">',
    '<title>gridpkg drift report</title>',
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<h1>gridpkg drift report</h1>',
    `<p>${h(report.generatedAt)}, spec ${h(report.specFile)}, schema ${report.schemaVersion}</p>`,
    '<table id="summary"><tr><th>Sites</th><th>In sync</th><th>Drifted</th><th>Unknown</th><th>Packages</th><th>Vulnerable packages</th><th>Drift items</th></tr>',
    `<tr><td>${s.sites}</td><td>${s.inSync}</td><td>${s.drifted}</td><td>${s.unknown}</td><td>${s.packages}</td><td>${s.vulnerablePackages}</td><td>${s.driftItems}</td></tr></table>`,
    '<h2>Sites</h2>',
    '<table id="sites"><tr><th>Site</th><th>Sync</th><th>Health</th><th>Observed</th><th>Why unknown</th></tr>',
    ...report.sites.map(
      (site) =>
        `<tr><td>${h(site.site)}</td><td class="${site.sync}">${site.sync}</td><td>${site.health}</td>` +
        `<td>${site.observation ? `${formatAge(site.observation.ageSeconds * 1000)} ago (${site.observation.source}, ${h(site.observation.byJob ?? '')})` : ''}</td>` +
        `<td>${h(site.unknownReason ?? '')}</td></tr>`,
    ),
    '</table>',
    ...matrix(report),
    ...report.sites.flatMap(siteSection),
    ...vulnerabilities(report),
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function matrix(report: DriftReport): string[] {
  const { sites, rows } = report.matrix;
  return [
    '<h2>Version matrix</h2>',
    '<p><label>Filter <input id="matrix-filter" type="search"></label> ',
    '<label><input id="matrix-drift" type="checkbox"> only rows with drift</label></p>',
    '<table id="matrix"><thead><tr><th>Package</th>',
    ...sites.map((site) => `<th>${h(site)}</th>`),
    '</tr></thead><tbody>',
    ...rows.map((row) => {
      const drift = row.cells.some(
        (c) => c !== null && !['ok', 'absent', 'not-required', 'not-declared'].includes(c.state),
      );
      const cells = row.cells.map((cell) => {
        if (!cell) return '<td></td>';
        const label = `${h(cell.installed ?? '—')}${cell.state === 'ok' || cell.state === 'not-required' ? '' : ` (${cell.state})`}`;
        return `<td class="${cell.state}${cell.vulnerable ? ' vulnerable' : ''}">${label}${cell.vulnerable ? ' vulnerable' : ''}</td>`;
      });
      return `<tr data-drift="${drift ? 'yes' : 'no'}"><td>${h(row.pkgpath)}</td>${cells.join('')}</tr>`;
    }),
    '</tbody></table>',
  ];
}

function siteSection(site: SiteDrift): string[] {
  const lines = [`<h2>${h(site.site)}: <span class="${site.sync}">${site.sync}</span></h2>`];
  if (site.unknownReason) lines.push(`<p>Unknown: ${h(site.unknownReason)}</p>`);
  if (site.items.length > 0) {
    lines.push(
      '<table class="items"><tr><th>Kind</th><th>Package</th><th>Installed</th><th>Wanted</th><th>Detail</th><th>Spec</th></tr>',
    );
    for (const item of site.items) {
      const detail = [
        item.target ? `→ ${h(item.target)}` : '',
        item.reason ? h(item.reason) : '',
        item.ignore
          ? `ignored: ${h(item.ignore.reason)}${item.ignore.until ? ` (until ${h(item.ignore.until)})` : ''}`
          : '',
        ...(item.advisories ?? []).map((a) => `${h(a.type)} ${h(a.url)}`),
      ]
        .filter(Boolean)
        .join('; ');
      lines.push(
        `<tr class="${item.kind}"><td>${item.kind}</td><td>${h(item.pkgpath ?? '')}</td><td>${h(item.installed ?? '')}</td>` +
          `<td>${h(item.wanted ?? '')}</td><td>${detail}</td><td>${item.source ? `${h(item.source.file)}:${item.source.line}` : ''}</td></tr>`,
      );
    }
    lines.push('</table>');
  }
  if (site.history.length > 0) {
    lines.push(
      '<details><summary>History</summary><table><tr><th>Finished</th><th>Job</th><th>Mode</th><th>Outcome</th><th>Actions</th><th>Detail</th></tr>',
    );
    for (const entry of site.history)
      lines.push(
        `<tr><td>${h(entry.finishedAt)}</td><td>${h(entry.jobId)}</td><td>${entry.mode}${entry.cause ? ` (${entry.cause.replace('-', ' ')})` : ''}</td>` +
          `<td>${h(entry.jobState)}${entry.reportStatus ? ` / ${h(entry.reportStatus)}` : ''}</td>` +
          `<td>${h(describeActions(entry), 2000)}</td><td>${h(entry.detail ?? '')}</td></tr>`,
      );
    lines.push('</table></details>');
  }
  return lines;
}

function vulnerabilities(report: DriftReport): string[] {
  if (report.vulnerabilities.length === 0) return [];
  return [
    '<h2>Vulnerabilities</h2>',
    '<table id="vulnerabilities"><tr><th>Package</th><th>Type</th><th>Advisory</th><th>Sites</th></tr>',
    ...report.vulnerabilities.map(
      (v) =>
        `<tr><td>${h(v.pkgname)}</td><td>${h(v.type)}${v.endOfLife ? ' (end of life)' : ''}</td><td>${h(v.url)}</td>` +
        `<td>${v.sites.map((site) => h(site)).join(', ')}</td></tr>`,
    ),
    '</table>',
  ];
}
