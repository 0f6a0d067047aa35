/** The CLI's event lines (converge, watch): hostile text from sites and jobs is shown escaped, one line per event. */
import { describe, expect, it } from 'vitest';
import { eventJson, progressLine } from '../../src/cli/progress.js';
import type { ControllerEvent } from '../../src/model/events.js';
import { plainStyle } from '../../src/report/style.js';

const hostile: ControllerEvent = {
  type: 'site-status',
  site: 'site\u001b[2Ja',
  phase: 'stalled',
  sync: 'unknown',
  attempt: 3,
  message: 'gave up: CE said \u001b]0;owned\u0007 and\nfake-site: converged\u202e',
};

describe('event lines', () => {
  it('are one line, without terminal controls or bidi overrides, whatever the site or job said', () => {
    const line = progressLine(hostile, plainStyle) ?? '';
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(line).toMatch(/^site.*a: stalled: gave up: CE said /);
  });

  it('says nothing about a first attempt starting', () => {
    expect(
      progressLine({ ...hostile, phase: 'progressing', attempt: 1 } as ControllerEvent, plainStyle),
    ).toBeUndefined();
  });

  it('as JSON: one line that a JSON reader decodes to the exact text', () => {
    const line = eventJson(hostile, new Date('2026-12-02T10:00:00Z'));
    expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(JSON.parse(line)).toMatchObject({
      time: '2026-12-02T10:00:00.000Z',
      type: 'site-status',
      site: hostile.site,
      message: hostile.type === 'site-status' ? hostile.message : '',
    });
  });
});
