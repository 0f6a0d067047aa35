import { describe, expect, it } from 'vitest';
import { bestMatch, matchPattern, PkgsrcError } from '../../src/pkgsrc/index.js';
import { referenceTsv } from './reference.js';

describe('matchPattern against pkg_admin pmatch of pkg_install 20170419 (pmatch.tsv)', () => {
  const rows = referenceTsv('pmatch.tsv', 3);

  it('has the documented number of vectors', () => {
    expect(rows.length).toBe(3044);
  });

  it('agrees with every row', () => {
    const mismatches: string[] = [];
    for (const { line, fields } of rows) {
      const [pattern, pkgname, verdict] = fields as [string, string, string];
      const got = matchPattern(pattern, pkgname) ? '1' : '0';
      if (got !== verdict)
        mismatches.push(`line ${line}: pmatch ${pattern} ${pkgname} = ${got}, want ${verdict}`);
    }
    expect(mismatches).toEqual([]);
  });
});

describe('pkg_match details', () => {
  it.each([
    // a name without version matches every version (pkg_match's "%s-[0-9]*" fallback), not other packages
    ['gsl', 'gsl-2.8', true],
    ['gsl', 'gsl-devel-2.8', false],
    ['gsl', 'gsl', true],
    ['p5-Net', 'p5-Net-SSLeay-1.0', false],
    // dewey ranges compare the whole base, then the version
    ['gsl>=2.7<3', 'gsl-2.7nb1', true],
    ['gsl>=2.7<3', 'gsl-3.0', false],
    ['gsl>2.7<=3', 'gsl-3.0nb1', false],
    ['gsl<3>2', 'gsl-2.5', true], // only ">" / ">=" look for an upper bound; "3>2" is a version here
    ['gs>=1', 'gsl-2', false],
    ['gsl>=1', 'gsl', false],
    // globs are fnmatch with FNM_PERIOD
    ['gsl-2.[78]*', 'gsl-2.8', true],
    ['gsl-2.[!7]*', 'gsl-2.8', true],
    ['gsl-2.[!7]*', 'gsl-2.7', false],
    ['gsl-2.[^7]*', 'gsl-2.7', false],
    ['gsl-?.?', 'gsl-2.8', true],
    ['gsl-[[:digit:]]*', 'gsl-2.8', true],
    ['gsl-[[:nosuchclass:]]*', 'gsl-2.8', false],
    ['gsl-[2*', 'gsl-[2.8', true], // an unclosed bracket is a literal "["
    ['*', '.hidden-1', false],
    ['.hidden-*', '.hidden-1', true],
    ['gsl-2\\.*', 'gsl-2.8', true], // backslash escapes in globs
    ['gsl-2\\.8', 'gsl-2.8', false], // no glob character: an exact name (or name without version)
    ['gsl-*\\', 'gsl-2\\', false], // a trailing backslash never matches (glibc)
    ['gsl-2\\', 'gsl-2\\', true], // ... but a pattern without glob characters is compared as a string
    ['gsl-*', 'gsl-2.8', true],
    ['gsl-2.7', 'gsl-2.7nb1', false],
    ['gsl-2.7*', 'gsl-2.7nb1', true],
    // csh alternatives, nested, expanded before anything else
    ['{gsl,fftw}-[0-9]*', 'fftw-3.3.10', true],
    ['{gsl,fftw}>=3', 'fftw-3.3.10', true],
    ['{gsl,fftw}>=3', 'gsl-2.8', false],
    ['{gsl,{fft,zl}w}-[0-9]*', 'fftw-3.3.10', true],
    ['gsl-{2.{7,8},3}', 'gsl-2.8', true],
    ['{,py311-}numpy-[0-9]*', 'numpy-1.26.4', true],
    ['{a,b}}-1', 'a}-1', true],
  ] as const)('pmatch %s %s is %s', (pattern, pkgname, want) => {
    expect(matchPattern(pattern, pkgname)).toBe(want);
  });

  it('refuses exponential alternatives and overlong patterns instead of expanding them', () => {
    const bomb = '{a,b}'.repeat(11); // 2048 alternatives
    expect(() => matchPattern(bomb, 'a-1')).toThrow(/more than 1024 alternatives/);
    expect(matchPattern('{a,b}'.repeat(10), 'ababababab')).toBe(true); // 1024 is fine
    expect(() => matchPattern(`gsl-${'1'.repeat(1100)}`, 'gsl-1')).toThrow(PkgsrcError);
  });

  it.each(['', '{gsl', 'gsl-{2.7', '{a}{b', '}{a'])('refuses the malformed pattern %j', (bad) => {
    expect(() => matchPattern(bad, 'gsl-2.8')).toThrow(PkgsrcError);
    expect(() => matchPattern(bad, 'zzz-1')).toThrow(expect.objectContaining({ code: 'bad-pattern' }));
  });
});

describe('bestMatch (pkg_order)', () => {
  const repo = [
    'gsl-2.6',
    'gsl-2.7nb1',
    'gsl-2.8',
    'gsl-devel-9.0',
    'fftw-3.3.10',
    'openssl-3.0.13',
    'openssl-3.0.15',
  ];

  it('picks the highest matching version', () => {
    expect(bestMatch('gsl', repo)).toBe('gsl-2.8');
    expect(bestMatch('gsl>=2.7<2.8', repo)).toBe('gsl-2.7nb1');
    expect(bestMatch('gsl<2.7', repo)).toBe('gsl-2.6');
    expect(bestMatch('openssl>=3.0.14', repo)).toBe('openssl-3.0.15');
    expect(bestMatch('{gsl,fftw}>=3', repo)).toBe('fftw-3.3.10');
  });

  it('is undefined when nothing matches', () => {
    expect(bestMatch('gsl>=9', repo)).toBeUndefined();
    expect(bestMatch('gsl', [])).toBeUndefined();
  });

  it('breaks ties between equal versions by name, whatever the order of candidates', () => {
    expect(bestMatch('gsl', ['gsl-2.7.0', 'gsl-2.7'])).toBe('gsl-2.7');
    expect(bestMatch('gsl', ['gsl-2.7', 'gsl-2.7.0'])).toBe('gsl-2.7');
    expect(bestMatch('gsl-[0-9]*', ['gsl-2.07', 'gsl-2.7'])).toBe('gsl-2.07');
  });

  it('accepts any iterable and refuses a bad pattern', () => {
    expect(bestMatch('gsl', new Set(repo))).toBe('gsl-2.8');
    expect(() => bestMatch('{gsl', repo)).toThrow(PkgsrcError);
  });
});
