import { describe, expect, it } from 'vitest';
import { renderConverge } from '../../src/report/converge-view.js';
import { renderStatus } from '../../src/report/status-view.js';
import { isPrintable } from '../../src/report/untrusted.js';

/** No control or direction character outside our own line breaks. */
const isPrintableText = (text: string) => text.split('\n').every(isPrintable);

describe('the converge summary table', () => {
  it('lines up one row per site and counts the results', () => {
    const text = renderConverge([
      { site: 'nikhef', verdict: 'converged', sync: 'in-sync', message: '', attempts: 1, jobs: ['p', 'a'] },
      {
        site: 'sara',
        verdict: 'unknown',
        sync: 'unknown',
        message: 'gave up after 5 attempt(s): job lost',
        attempts: 5,
        jobs: ['p1', 'p2', 'p3', 'p4', 'p5'],
      },
    ]);
    expect(text.split('\n')).toEqual([
      'SITE    RESULT             ATTEMPTS  JOBS  DETAIL',
      'nikhef  converged                 1     2',
      'sara    unknown (unknown)         5     5  gave up after 5 attempt(s): job lost',
      '',
      'Converge: 1 converged, 0 failed, 1 unknown (of 2 site(s), 7 job(s)).',
      '',
    ]);
  });

  it('shows text from sites and jobs only escaped, on its own row', () => {
    const hostile = 'pkg_add: \u001b[2Jdone\n::error::fake \u202eevil';
    const text = renderConverge([
      {
        site: 'site-\u001b[31m',
        verdict: 'failed',
        sync: 'drifted',
        message: hostile,
        attempts: 1,
        jobs: [],
      },
    ]);
    expect(isPrintableText(text)).toBe(true);
    expect(text).toContain('\\e[2Jdone\\n::error::fake \\u202eevil');
    expect(text).toContain('site-\\e[31m');
    const status = renderStatus(
      [
        {
          site: 'site-a',
          status: {
            site: 'site-a',
            sync: 'drifted',
            health: 'stalled',
            syncSince: '',
            healthSince: '',
            attempts: 1,
            lastError: hostile,
            updatedAt: '',
          },
        },
      ],
      0,
    );
    expect(isPrintableText(status)).toBe(true);
    expect(status.split('\n')).toHaveLength(3);
  });
});
