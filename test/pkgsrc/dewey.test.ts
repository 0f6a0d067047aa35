import { describe, expect, it } from 'vitest';
import { compareVersions, PkgsrcError, parseDewey } from '../../src/pkgsrc/index.js';
import { referenceTsv } from './reference.js';

describe('compareVersions against pkg_install 20170419 (dewey-compare.tsv)', () => {
  const rows = referenceTsv('dewey-compare.tsv', 3);

  it('has the documented number of vectors', () => {
    expect(rows.length).toBe(1865);
  });

  it('agrees with every row', () => {
    const mismatches: string[] = [];
    for (const { line, fields } of rows) {
      const [left, right, sign] = fields as [string, string, string];
      const got = compareVersions(left, right);
      if (got !== Number(sign))
        mismatches.push(`line ${line}: compare(${left}, ${right}) = ${got}, want ${sign}`);
    }
    expect(mismatches).toEqual([]);
  });
});

describe('dewey rules from the reference README', () => {
  it.each([
    ['1.0', '1.0.0', 0],
    ['1.0_1', '1.0.1', 0],
    ['1.0a', '1.0.1', 0],
    ['1.0pl1', '1.0', 1],
    ['1.0rc1', '1.0pre1', 0],
    ['1.0alpha1', '1.0beta1', -1],
    ['1.0beta1', '1.0rc1', -1],
    ['1.0rc1', '1.0', -1],
    ['2.7nb1', '2.7', 1],
    ['2.7nb1', '2.8', -1],
    ['2.7nb10', '2.7nb9', 1],
    ['1.0nb1', '1.0.1', -1],
    ['6.30.02', '6.30.2', 0],
    ['1.0B', '1.0b', 0],
    ['1.0RC1', '1.0rc1', 0],
  ] as const)('compare(%s, %s) = %i', (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
    expect(compareVersions(b, a)).toBe(-want || 0);
  });

  it('encodes versions like mkversion()', () => {
    expect(parseDewey('1.0a')).toEqual({ parts: [1, 0, 0, 0, 1], nb: 0 });
    expect(parseDewey('1.0alpha2nb3')).toEqual({ parts: [1, 0, 0, -3, 2], nb: 3 });
    expect(parseDewey('2.7pl1')).toEqual({ parts: [2, 0, 7, 0, 1], nb: 0 });
    expect(parseDewey('1.0rc1')).toEqual({ parts: [1, 0, 0, -1, 1], nb: 0 });
  });

  it('wraps ten-digit components at 32 bits like the C int in mkcomponent()', () => {
    expect(parseDewey('4294967297').parts).toEqual([1]);
    expect(compareVersions('4294967297', '1')).toBe(0);
  });

  it.each(['', '1.0-1', '1 0', '2.7;rm', '1.0\n'])('refuses the malformed version %j', (bad) => {
    expect(() => compareVersions(bad, '1.0')).toThrow(PkgsrcError);
    expect(() => compareVersions('1.0', bad)).toThrow(expect.objectContaining({ code: 'bad-version' }));
  });
});
