import { describe, expect, it } from 'vitest';
import { parseReport } from '../../src/grid/protocol/index.js';
import type { SiteReport } from '../../src/grid/protocol/types.js';
import type { SiteApplyResult } from '../../src/reconcile/engine.js';
import { renderApply } from '../../src/report/apply-view.js';
import { expectSafe, expectShownEscaped, HOSTILE_LINE, STYLES } from './hostile-text.js';

const APPLIED = `gridpkg-report 1
job site-a-apply-1
mode apply
swdir /sw
lock acquired
pkgsrc present /sw/pkg 20170419
fingerprint before sha256:aa
action 1 install math/gsl gsl-2.8 ok
pkg gsl-2.8 math/gsl no
note 2 package database entr(y/ies) with an unsafe name skipped
audit-status clean
fingerprint after sha256:bb
status ok
end
`;

function applied(edit: (report: SiteReport) => void = () => undefined): SiteApplyResult {
  const parsed = parseReport(APPLIED);
  if (!parsed.ok) throw new Error(parsed.problem.message);
  edit(parsed.report);
  return {
    site: 'site-a',
    status: 'ok',
    message: '',
    jobId: 'site-a-apply-1',
    result: {
      jobId: 'site-a-apply-1',
      jobState: { state: 'done', exitCode: 0, raw: 'exit 0' },
      report: parsed,
      observation: {
        state: 'unknown',
        site: 'site-a',
        observedAt: '2026-11-23T10:00:00Z',
        jobId: 'site-a-apply-1',
        reason: 'not needed here',
      },
    },
  };
}

describe('apply view', () => {
  it('shows what the site job noted beside its actions', () => {
    expect(renderApply([applied()])).toBe(
      'site-a: applied (job site-a-apply-1)\n' +
        '  install gsl-2.8: ok\n' +
        '  note from the site job: 2 package database entr(y/ies) with an unsafe name skipped\n' +
        'Apply complete: 1 site(s) converged, 0 not converged, 0 stale, 0 locked, 0 failed.\n',
    );
  });

  it.each(
    STYLES,
  )('shows site and job text escaped, never as terminal or CI commands (%s)', (_name, style) => {
    const results: SiteApplyResult[] = [
      applied((report) => {
        const [action] = report.actions;
        if (action) action.message = HOSTILE_LINE;
        report.notes = [HOSTILE_LINE];
      }),
      {
        site: 'site-b',
        status: 'unknown',
        message: `unreadable report (no report); job exited with 3; stderr: ${HOSTILE_LINE}`,
        jobId: 'site-b-apply-1',
      },
      { site: 'site-c', status: 'error', message: `sbatch refused job site-c-apply-1: ${HOSTILE_LINE}` },
      { site: 'site-d', status: 'partial', message: HOSTILE_LINE, jobId: 'site-d-apply-1' },
    ];
    const text = renderApply(results, style);
    expectSafe(text, 'apply');
    expectShownEscaped(text, 'apply');
  });
});
