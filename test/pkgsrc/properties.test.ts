// Properties of the dewey order and of range patterns over generated pkgsrc versions (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnmatch } from '../../src/pkgsrc/glob.js';
import * as pkgsrc from '../../src/pkgsrc/index.js';
import {
  bestMatch,
  compareVersions,
  matchPattern,
  PkgsrcError,
  parsePkgName,
} from '../../src/pkgsrc/index.js';

const RUNS = { numRuns: 2000 };

const number = fc.oneof(
  fc.integer({ min: 0, max: 20 }).map(String),
  fc.integer({ min: 0, max: 99_999_999 }).map(String),
  fc.constantFrom('00', '01', '007', '2024', '20170419', '4294967296', '99999999999'),
);
const token = fc.oneof(
  { weight: 6, arbitrary: number },
  { weight: 4, arbitrary: fc.constantFrom('.', '_') },
  { weight: 1, arbitrary: fc.constantFrom('a', 'b', 'c', 'k', 'z', 'B', 'Z') },
  { weight: 1, arbitrary: fc.constantFrom('alpha', 'beta', 'rc', 'pre', 'pl', 'RC', 'Beta') },
);
/** A pkgsrc version: starts with a number, then numbers, separators, letters, modifiers; maybe `nbN`. */
const versionNoNb = fc
  .tuple(number, fc.array(token, { maxLength: 7 }))
  .map(([first, rest]) => first + rest.join(''));
const nb = fc.integer({ min: 0, max: 30 }).map((n) => `nb${n}`);
const version = fc.tuple(versionNoNb, fc.option(nb, { nil: '' })).map(([v, r]) => v + r);
const base = fc.oneof(
  fc.constantFrom('gsl', 'py311-numpy', 'p5-Net-SSLeay', 'pkg_install', 'R-base', 'root', 'g'),
  fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[A-Za-z][A-Za-z0-9]{0,4})?$/),
);

describe('compareVersions is a total order', () => {
  it('is reflexive', () => {
    fc.assert(
      fc.property(version, (a) => compareVersions(a, a) === 0),
      RUNS,
    );
  });

  it('is antisymmetric', () => {
    fc.assert(
      fc.property(version, version, (a, b) => compareVersions(a, b) === -compareVersions(b, a) || a === b),
      RUNS,
    );
  });

  it('is transitive', () => {
    fc.assert(
      fc.property(fc.array(version, { minLength: 3, maxLength: 3 }), (vs) => {
        const [a, b, c] = [...vs].sort(compareVersions) as [string, string, string];
        return compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0 && compareVersions(a, c) <= 0;
      }),
      RUNS,
    );
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) return compareVersions(a, c) <= 0;
        return true;
      }),
      RUNS,
    );
  });

  it('treats equal versions as interchangeable', () => {
    fc.assert(
      fc.property(version, version, (a, c) => {
        const b = `${a}.0`; // trailing zero components are ignored, so b == a
        expect(compareVersions(a, b)).toBe(0);
        expect(compareVersions(a, c)).toBe(compareVersions(b, c));
      }),
      RUNS,
    );
  });

  it('orders alpha < beta < rc == pre < release < pl, and nb revisions after the version', () => {
    fc.assert(
      fc.property(versionNoNb, fc.integer({ min: 0, max: 9 }), (v, n) => {
        const chain = [`${v}alpha${n}`, `${v}beta${n}`, `${v}rc${n}`, v, `${v}pl1`];
        for (let i = 0; i + 1 < chain.length; i++) {
          expect(compareVersions(chain[i] as string, chain[i + 1] as string)).toBe(-1);
        }
        expect(compareVersions(`${v}rc${n}`, `${v}pre${n}`)).toBe(0);
        expect(compareVersions(`${v}_${n}`, `${v}.${n}`)).toBe(0);
        expect(compareVersions(`${v}nb${n + 1}`, v)).toBe(1);
        expect(compareVersions(`${v}nb${n + 1}`, `${v}nb${n}`)).toBe(1);
      }),
      RUNS,
    );
  });
});

describe('range patterns agree with compareVersions', () => {
  const sign = (w: string, v: string) => compareVersions(w, v);

  it('single bounds', () => {
    fc.assert(
      fc.property(base, version, version, (b, v, w) => {
        const pkg = `${b}-${w}`;
        expect(matchPattern(`${b}>=${v}`, pkg)).toBe(sign(w, v) >= 0);
        expect(matchPattern(`${b}>${v}`, pkg)).toBe(sign(w, v) > 0);
        expect(matchPattern(`${b}<=${v}`, pkg)).toBe(sign(w, v) <= 0);
        expect(matchPattern(`${b}<${v}`, pkg)).toBe(sign(w, v) < 0);
      }),
      RUNS,
    );
  });

  it('combined bounds', () => {
    fc.assert(
      fc.property(base, version, version, version, (b, lo, hi, w) => {
        const pkg = `${b}-${w}`;
        expect(matchPattern(`${b}>=${lo}<${hi}`, pkg)).toBe(sign(w, lo) >= 0 && sign(w, hi) < 0);
        expect(matchPattern(`${b}>${lo}<=${hi}`, pkg)).toBe(sign(w, lo) > 0 && sign(w, hi) <= 0);
        expect(matchPattern(`{${b},other}>=${lo}<${hi}`, pkg)).toBe(sign(w, lo) >= 0 && sign(w, hi) < 0);
      }),
      RUNS,
    );
  });

  it('never match another package base', () => {
    fc.assert(
      fc.property(base, base, version, version, (b1, b2, v, w) => {
        fc.pre(b1 !== b2);
        expect(matchPattern(`${b1}>=${v}`, `${b2}-${w}`)).toBe(false);
        expect(matchPattern(b1, `${b2}-${w}`)).toBe(false);
      }),
      RUNS,
    );
  });

  it('a bare base and an exact name match', () => {
    fc.assert(
      fc.property(base, version, (b, v) => {
        expect(matchPattern(b, `${b}-${v}`)).toBe(true);
        expect(matchPattern(`${b}-${v}`, `${b}-${v}`)).toBe(true);
        expect(parsePkgName(`${b}-${v}`)).toEqual({ base: b, version: v });
      }),
      RUNS,
    );
  });

  it('bestMatch returns a matching candidate no other matching candidate beats', () => {
    fc.assert(
      fc.property(base, version, fc.array(version, { maxLength: 8 }), (b, v, ws) => {
        const pattern = `${b}>=${v}`;
        const candidates = ws.map((w) => `${b}-${w}`);
        const best = bestMatch(pattern, candidates);
        const matching = candidates.filter((c) => matchPattern(pattern, c));
        if (matching.length === 0) return best === undefined;
        if (best === undefined || !matching.includes(best)) return false;
        const bv = parsePkgName(best).version;
        return matching.every((c) => compareVersions(bv, parsePkgName(c).version) >= 0);
      }),
      RUNS,
    );
  });

  it('bestMatch does not depend on the order of the candidates', () => {
    fc.assert(
      fc.property(base, fc.array(version, { maxLength: 8 }), fc.func(fc.integer()), (b, ws, key) => {
        const candidates = ws.map((w) => `${b}-${w}`);
        const shuffled = [...candidates].sort((x, y) => key(x) - key(y));
        expect(bestMatch(b, shuffled)).toBe(bestMatch(b, candidates));
      }),
      RUNS,
    );
  });
});

describe('fnmatch', () => {
  // Reference: the same glob as a regular expression (small alphabet, no FNM_PERIOD case).
  const toRegExp = (glob: string): RegExp =>
    new RegExp(
      `^${glob.replace(
        /\[(!?)([^\]]+)\]|\*|\?|[.-]/g,
        (m, neg: string | undefined, body: string | undefined) => {
          if (m === '*') return '.*';
          if (m === '?') return '.';
          if (body !== undefined) return `[${neg ? '^' : ''}${body}]`;
          return `\\${m}`;
        },
      )}$`,
      's',
    );
  const piece = fc.constantFrom('a', 'b', '-', '1', '*', '?', '[ab]', '[!a]', '[0-9]', '**');
  const glob = fc.array(piece, { maxLength: 8 }).map((ps) => ps.join(''));
  const name = fc.stringMatching(/^[ab1-]{0,10}$/);

  it('agrees with a regular expression on *, ?, [..] and literals', () => {
    fc.assert(
      fc.property(glob, name, (g, s) => {
        expect(fnmatch(g, s)).toBe(toRegExp(g).test(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('stays fast on patterns with many stars', () => {
    const start = Date.now();
    expect(fnmatch(`${'*a'.repeat(40)}*b`, 'a'.repeat(1000))).toBe(false);
    expect(Date.now() - start).toBeLessThan(1000);
  });
});

describe('robustness: any input either works or throws PkgsrcError', () => {
  const anyString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.stringMatching(/^[a-z0-9{},<>=*?[\]!^:.\\_-]{0,30}$/),
  );
  const calls: Array<(a: string, b: string) => unknown> = [
    (a, b) => pkgsrc.compareVersions(a, b),
    (a, b) => pkgsrc.matchPattern(a, b),
    (a, b) => pkgsrc.bestMatch(a, [b, `${b}-1.0`]),
    (a) => pkgsrc.parsePkgName(a),
    (a) => pkgsrc.parseDewey(a),
    (a) => pkgsrc.isValidPattern(a) && pkgsrc.matchPattern(a, 'gsl-2.8'),
    (a, b) => pkgsrc.parsePkgSummary(`${a}\n${b}`),
    (a, b) => pkgsrc.parsePkgInfoList(`${a}\n${b}`),
    (a, b) => pkgsrc.parseAuditOutput(`${a}\n${b}`),
    (a, b) => pkgsrc.parseVulnerabilityList(`#FORMAT 1.1.0\n${a}\n${b}\n`),
    (a) => pkgsrc.vulnerabilityChecksumInput(`${a}\n`),
  ];

  it.each(calls.map((call, i) => [i, call] as const))('function %i', (_i, call) => {
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        try {
          call(a, b);
        } catch (error) {
          if (!(error instanceof PkgsrcError)) throw error;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses non-string input with PkgsrcError', () => {
    const bad = [undefined, null, 42, {}, ['gsl-1']] as unknown as string[];
    for (const x of bad) {
      expect(() => pkgsrc.compareVersions(x, '1')).toThrow(PkgsrcError);
      expect(() => pkgsrc.matchPattern(x, 'gsl-1')).toThrow(PkgsrcError);
      expect(() => pkgsrc.matchPattern('gsl', x)).toThrow(PkgsrcError);
      expect(() => pkgsrc.parsePkgName(x)).toThrow(PkgsrcError);
      expect(() => pkgsrc.parseDewey(x)).toThrow(PkgsrcError);
      expect(() => pkgsrc.parsePkgSummary(x)).toThrow(PkgsrcError);
      expect(() => pkgsrc.parsePkgInfoList(x)).toThrow(PkgsrcError);
      expect(() => pkgsrc.parseAuditOutput(x)).toThrow(PkgsrcError);
      expect(() => pkgsrc.parseVulnerabilityList(x)).toThrow(PkgsrcError);
    }
    expect(() => pkgsrc.bestMatch('gsl', 5 as unknown as string[])).toThrow(PkgsrcError);
    expect(() => pkgsrc.bestMatch('gsl', [5] as unknown as string[])).toThrow(PkgsrcError);
  });
});
