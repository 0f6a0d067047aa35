import { describe, expect, it } from 'vitest';
import { outcome } from '../harness.js';
import { CASES } from './cases.js';

describe('the malformed-spec corpus: every diagnostic names file:line:column, message and hint exactly', () => {
  it('has at least 60 cases, each with an expectation', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    for (const c of CASES) expect(c.errors ?? c.warnings, c.name).toBeDefined();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(outcome(c.text, c.includes ? { includes: c.includes } : {})).toEqual({
      errors: c.errors ?? [],
      warnings: c.warnings ?? [],
    });
  });
});
