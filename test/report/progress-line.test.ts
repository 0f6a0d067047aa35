/** The CLI's event lines (converge, watch): hostile text from sites and jobs is shown escaped, one line per event. */
import { describe, expect, it } from 'vitest';
import { eventJson, progressLine } from '../../src/cli/progress.js';
import type { ControllerEvent } from '../../src/model/events.js';
import { plainStyle } from '../../src/report/style.js';
import { expectSafe, expectShownEscaped, HOSTILE_LINE, STYLES } from './hostile-text.js';

const hostile: ControllerEvent = {
  type: 'site-status',
  site: `site-${HOSTILE_LINE}`,
  phase: 'stalled',
  sync: 'unknown',
  attempt: 3,
  message: `gave up: ${HOSTILE_LINE}\nfake-site: converged`,
};

describe('event lines', () => {
  it.each(STYLES)('(%s) are one line, escaped, whatever the site or job said', (_name, style) => {
    const line = progressLine(hostile, style) ?? '';
    expect(line.split('\n')).toHaveLength(2);
    expectSafe(line, 'the event line');
    expectShownEscaped(line, 'the event line');
  });

  it('say nothing about a first attempt starting', () => {
    expect(progressLine({ ...hostile, phase: 'progressing', attempt: 1 }, plainStyle)).toBeUndefined();
  });

  it('as JSON: one safe line that a JSON reader decodes to the exact text', () => {
    const line = eventJson(hostile, new Date('2026-12-02T10:00:00Z'));
    expect(line.split('\n')).toHaveLength(2);
    expectSafe(line, 'the JSON record');
    expect(JSON.parse(line)).toMatchObject({
      time: '2026-12-02T10:00:00.000Z',
      type: 'site-status',
      site: hostile.site,
      message: `gave up: ${HOSTILE_LINE}\nfake-site: converged`,
    });
  });
});
