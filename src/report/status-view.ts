/** `gridpkg status`: each site's sync and health as the controller last recorded them. Untrusted text made safe. */
import type { SiteStatus } from '../state/site-status.js';
import { siteName, siteText } from './safe-output.js';
import { plainStyle, type Style } from './style.js';

export function renderStatus(
  rows: ReadonlyArray<{ site: string; status: SiteStatus | undefined }>,
  now: number,
  style: Style = plainStyle,
): string {
  const cells = rows.map(({ site, status }) => ({
    site: siteName(site),
    sync: status?.sync ?? 'unknown',
    health: status?.health ?? 'never reconciled',
    observed: status?.observedAt ? `${formatAge(now - Date.parse(status.observedAt))} ago` : '-',
    attempts: status ? String(status.attempts) : '-',
    detail: status?.lastError ? siteText(status.lastError) : '',
  }));
  const header = {
    site: 'SITE',
    sync: 'SYNC',
    health: 'HEALTH',
    observed: 'OBSERVED',
    attempts: 'ATTEMPTS',
    detail: 'LAST ERROR',
  };
  const keys = ['site', 'sync', 'health', 'observed', 'attempts'] as const;
  const widths = keys.map((key) => Math.max(header[key].length, ...cells.map((c) => c[key].length)));
  const line = (row: typeof header) =>
    [...keys.map((key, i) => row[key].padEnd(widths[i] ?? 0)), row.detail].join('  ').trimEnd();
  return `${[style.bold(line(header)), ...cells.map(line)].join('\n')}\n`;
}

/** A duration in milliseconds as a short age: `45s`, `12m`, `3h`, `2d`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
