/**
 * The summary table `gridpkg converge` ends with: one row per site (result, attempts, jobs, why not converged) and
 * a closing count. Site names and messages come from the spec, sites and jobs: made printable here.
 */
import type { SiteVerdict } from '../controller/converge.js';
import { siteName, siteText } from './safe-output.js';
import { plainStyle, type Style } from './style.js';

export function renderConverge(verdicts: readonly SiteVerdict[], style: Style = plainStyle): string {
  const rows = verdicts.map((v) => ({
    site: siteName(v.site),
    result: v.verdict === 'converged' ? v.verdict : `${v.verdict} (${v.sync})`,
    attempts: String(v.attempts),
    jobs: String(v.jobs.length),
    detail: v.message ? siteText(v.message) : '',
    colour: v.verdict === 'converged' ? style.green : v.verdict === 'failed' ? style.red : style.yellow,
  }));
  const header = { site: 'SITE', result: 'RESULT', attempts: 'ATTEMPTS', jobs: 'JOBS', detail: 'DETAIL' };
  const width = (key: 'site' | 'result' | 'attempts' | 'jobs') =>
    Math.max(header[key].length, ...rows.map((row) => row[key].length));
  const [site, result, attempts, jobs] = [width('site'), width('result'), width('attempts'), width('jobs')];
  const line = (cells: typeof header, colour: (text: string) => string = (text) => text) =>
    [
      cells.site.padEnd(site),
      colour(cells.result.padEnd(result)),
      cells.attempts.padStart(attempts),
      cells.jobs.padStart(jobs),
      cells.detail,
    ]
      .join('  ')
      .trimEnd();
  const count = (verdict: SiteVerdict['verdict']) => verdicts.filter((v) => v.verdict === verdict).length;
  return [
    style.bold(line(header)),
    ...rows.map((row) => line(row, row.colour)),
    '',
    `Converge: ${count('converged')} converged, ${count('failed')} failed, ${count('unknown')} unknown ` +
      `(of ${verdicts.length} site(s), ${verdicts.reduce((n, v) => n + v.jobs.length, 0)} job(s)).`,
    '',
  ].join('\n');
}
