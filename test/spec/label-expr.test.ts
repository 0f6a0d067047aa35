import { describe, expect, it } from 'vitest';
import { evaluateLabelExpr, parseLabelExpr } from '../../src/spec/index.js';

function matches(text: string, labels: string[]): boolean {
  const parsed = parseLabelExpr(text);
  if ('error' in parsed) throw new Error(parsed.error.message);
  return evaluateLabelExpr(parsed.expr, new Set(labels));
}

describe('label expressions', () => {
  it('evaluates a single label', () => {
    expect(matches('physics', ['physics'])).toBe(true);
    expect(matches('physics', ['el9'])).toBe(false);
  });

  it('binds not tighter than and, and tighter than or', () => {
    // a or b and not c  ==  a or (b and (not c))
    expect(matches('a or b and not c', ['a', 'c'])).toBe(true);
    expect(matches('a or b and not c', ['b', 'c'])).toBe(false);
    expect(matches('a or b and not c', ['b'])).toBe(true);
    expect(matches('not a and b', ['b'])).toBe(true);
    expect(matches('not a and b', ['a', 'b'])).toBe(false);
  });

  it('follows parentheses', () => {
    expect(matches('(a or b) and not c', ['a'])).toBe(true);
    expect(matches('(a or b) and not c', ['b', 'c'])).toBe(false);
    expect(matches('not (a or b)', [])).toBe(true);
    expect(matches('not (a or b)', ['b'])).toBe(false);
    expect(matches('not not a', ['a'])).toBe(true);
    expect(matches('((el8))or el9', ['el9'])).toBe(true);
  });

  it('accepts labels with dots, dashes and underscores', () => {
    expect(matches('centos-7.9 or x_y', ['x_y'])).toBe(true);
  });

  it('agrees with a truth table over every combination of three labels', () => {
    const formula = '(a and not b) or (c and (a or not b))';
    for (let bits = 0; bits < 8; bits++) {
      const [a, b, c] = [bits & 1, bits & 2, bits & 4].map(Boolean);
      const labels = [a && 'a', b && 'b', c && 'c'].filter((l): l is string => typeof l === 'string');
      expect(matches(formula, labels)).toBe((a && !b) || (c && (a || !b)));
    }
  });

  it('reports the offset of the problem', () => {
    expect(parseLabelExpr('a and (b or')).toEqual({
      error: {
        offset: 11,
        message: 'expected a label or "(" after "or", found the end of the expression',
        hint: 'combine labels with and, or, not and parentheses, e.g. "physics and not legacy"',
      },
    });
    expect(parseLabelExpr('a || b')).toMatchObject({
      error: { offset: 2, hint: 'write "or" instead of "||"' },
    });
    expect(parseLabelExpr('a and (b')).toMatchObject({
      error: { offset: 6, message: 'unclosed "(" in label expression' },
    });
    expect(parseLabelExpr('   ')).toMatchObject({ error: { offset: 0, message: 'empty label expression' } });
    expect(parseLabelExpr('a $b')).toMatchObject({
      error: { offset: 2, message: 'unexpected "$" in label expression' },
    });
  });
});
