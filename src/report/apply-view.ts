/**
 * Rendering of apply outcomes, one block per site and a closing summary. Names and messages from the site and its
 * job go through siteName/siteText: this view is where untrusted text is made safe.
 */
import type { SiteApplyResult } from '../reconcile/engine.js';
import { siteName, siteText } from './safe-output.js';
import { plainStyle, type Style } from './style.js';

export function renderApply(results: readonly SiteApplyResult[], style: Style = plainStyle): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${style.bold(siteName(result.site))}: ${headline(result, style)}`);
    const report = result.result?.report;
    if (report?.ok) {
      for (const action of report.report.actions) {
        const mark = action.result === 'failed' ? style.red('failed') : siteName(action.result);
        const detail = action.message ? ` — ${siteText(action.message)}` : '';
        lines.push(`  ${siteName(action.verb)} ${siteName(action.pkgname)}: ${mark}${detail}`);
      }
      for (const note of report.report.notes) {
        lines.push(`  ${style.yellow('note')} from the site job: ${siteText(note)}`);
      }
    }
  }
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const failed = results.length - count('ok') - count('stale') - count('locked') - count('not-converged');
  lines.push(
    results.length === 0
      ? 'Apply complete: nothing to do.'
      : `Apply complete: ${count('ok')} site(s) converged, ${count('not-converged')} not converged, ${count('stale')} stale, ${count('locked')} locked, ${failed} failed.`,
  );
  return `${lines.join('\n')}\n`;
}

function headline(result: SiteApplyResult, style: Style): string {
  if (result.appliedBefore) {
    // A re-run of a plan: the job of an earlier run carried it out; nothing was submitted now.
    const by = `already applied by job ${siteName(result.jobId ?? '?')} at ${siteText(result.appliedBefore.finishedAt)}`;
    if (result.status === 'ok') return `${by} — ${style.green('converged')}`;
    if (result.status === 'stale')
      return `${by} — ${style.yellow('stale')}: nothing was done. Run \`gridpkg plan\` again.`;
    return `${by} — ${notConverged(result, style)}`;
  }
  const job = result.jobId ? ` (job ${siteName(result.jobId)})` : '';
  switch (result.status) {
    case 'ok':
      return `${style.green('applied')}${job}`;
    case 'not-converged':
      return notConverged(result, style, job);
    case 'stale':
      return `${style.yellow('stale')}${job} — the package database changed since the plan was made; nothing was done. Run \`gridpkg plan\` again.`;
    case 'locked':
      return `${style.yellow('locked')}${job} — another job holds the site lock; nothing was done. Try again later.`;
    case 'partial':
      return `${style.red('partially applied')}${job}: ${siteText(result.message)}${stillDifferent(result, style)}`;
    default:
      return `${style.red(siteName(result.status))}${job}: ${siteText(result.message)}${stillDifferent(result, style)}`;
  }
}

/** "not converged: install math/gsl (gsl-2.8)" — what planning again against the post-state still finds. */
function notConverged(result: SiteApplyResult, style: Style, job = ''): string {
  if (!result.remaining?.length)
    return `${style.red(siteName(result.status))}${job}: ${siteText(result.message)}`;
  return `${style.red('not converged')}${job}: ${result.remaining.map(siteText).join('; ')}`;
}

function stillDifferent(result: SiteApplyResult, style: Style): string {
  return result.remaining?.length ? `; ${notConverged(result, style)}` : '';
}
