import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isAbsolutePath,
  isFactKey,
  isFingerprint,
  isFreeText,
  isJobId,
  isPattern,
  isPkgName,
  isPkgPath,
  isRepository,
  isRepositoryUrl,
  isSeconds,
  isSecondsToken,
  isVoName,
} from '../../src/grid/protocol/tokens.js';
import { isValidPattern, isValidPkgName, isValidPkgPath } from '../../src/pkgsrc/charset.js';
import { HOSTILE } from './hostile.js';
import { GOOD_URLS, HOSTILE_URLS } from './urls.js';

describe('protocol token sets', () => {
  it.each([
    ['20261123T101500Z-site-a-probe', true],
    ['a', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['', false],
    ['-rf', false],
    ['a/b', false],
    ['a+b', false],
  ])('job id %j → %s', (token, ok) => {
    expect(isJobId(token)).toBe(ok);
  });

  it.each([
    ['pvier', true],
    ['vo.example.org', true],
    ['lhcb_sgm-1', true],
    ['-x', false],
    ['a b', false],
  ])('VO name %j → %s', (token, ok) => {
    expect(isVoName(token)).toBe(ok);
  });

  it.each([
    ['/data/sw/pvier', true],
    ['/', true],
    ['/a/b+c,d/e_f-g.h/', true],
    ['/a/./b', true],
    ['relative/path', false],
    ['/a/../b', false],
    ['/a/..', false],
    ['/a/..b', true],
    ['/a b', false],
    ['/a:b', false],
    ['/a~b', false],
  ])('absolute path %j → %s', (token, ok) => {
    expect(isAbsolutePath(token)).toBe(ok);
  });

  it.each([
    ['math/gsl', true],
    ['lang/py-setuptools+x', true],
    ['math', false],
    ['math/gsl/x', false],
    ['/gsl', false],
    ['math/', false],
    ['../gsl', false],
    ['math/..', false],
    ['math/-gsl', false],
  ])('PKGPATH %j → %s', (token, ok) => {
    expect(isPkgPath(token)).toBe(ok);
  });

  it.each([
    ['gsl-2.7nb1', true],
    ['py311-numpy-1.26.4', true],
    ['p5-Net-SSLeay-1.92', true],
    ['gsl', false],
    ['gsl-', false],
    ['-gsl-2.8', false],
    ['.gsl-2.8', false],
    ['gsl--2.8', false],
    ['gsl-x2.8', false],
    ['gsl>=2.7', false],
    ['gsl-2.8-', false],
  ])('PKGNAME %j → %s', (token, ok) => {
    expect(isPkgName(token)).toBe(ok);
  });

  it.each([
    ['gsl>=2.7', true],
    ['gsl>=2.7<3', true],
    ['{gsl,fftw}-[0-9]*', true],
    ['gsl-2.7*', true],
    ['{gsl', false],
    ['gsl}{', false],
    ['-gsl', false],
    ['gsl !2', false],
  ])('pattern %j → %s', (token, ok) => {
    expect(isPattern(token)).toBe(ok);
  });

  it('seconds and fingerprints', () => {
    expect(isSecondsToken('1800')).toBe(true);
    expect(isSecondsToken('0')).toBe(true);
    expect(isSecondsToken('1234567890')).toBe(false);
    expect(isSecondsToken('-1')).toBe(false);
    expect(isSeconds(1800)).toBe(true);
    expect(isSeconds(1.5)).toBe(false);
    expect(isSeconds(-1)).toBe(false);
    expect(isSeconds(1e9)).toBe(false);
    expect(isFingerprint('sha256:4f1cab')).toBe(true);
    expect(isFingerprint('cksum:12345-678')).toBe(true);
    expect(isFingerprint('sha256:4f1c ab')).toBe(false);
    expect(isFingerprint('-x')).toBe(false);
    expect(isFactKey('hostname')).toBe(true);
    expect(isFactKey('Host')).toBe(false);
    expect(isFreeText('any printable text, even `$(id)`;')).toBe(true);
    expect(isFreeText('tab\there')).toBe(false);
    expect(isFreeText('caf\u00e9')).toBe(false);
  });

  it('refuses every hostile value in every token set', () => {
    for (const value of HOSTILE) {
      for (const check of [
        isJobId,
        isVoName,
        isAbsolutePath,
        isPkgPath,
        isPkgName,
        isPattern,
        isFingerprint,
      ]) {
        expect(check(value), `${check.name}(${JSON.stringify(value)})`).toBe(false);
      }
    }
  });

  // The pkgsrc domain has its own validators (src/pkgsrc/charset.ts); the shell-facing ones must agree with them.
  describe('agrees with the pkgsrc domain validators', () => {
    const alphabet = fc.constantFrom(...'ab9Z.-_+/<>=*?[]{},; $`'.split(''));
    const token = fc.string({ unit: alphabet, minLength: 0, maxLength: 12 });
    it('PKGNAME', () => {
      fc.assert(
        fc.property(token, (t) => isPkgName(t) === isValidPkgName(t)),
        { numRuns: 5000 },
      );
    });
    it('PKGPATH', () => {
      fc.assert(
        fc.property(token, (t) => isPkgPath(t) === isValidPkgPath(t)),
        { numRuns: 5000 },
      );
    });
    it('pattern', () => {
      fc.assert(
        fc.property(token, (t) => isPattern(t) === isValidPattern(t)),
        { numRuns: 5000 },
      );
    });
  });

  it.each(GOOD_URLS.map((u) => [u]))('repository URL %j is accepted', (url) => {
    expect(isRepositoryUrl(url)).toBe(true);
    expect(isRepository(url)).toBe(true);
  });

  it.each([...HOSTILE_URLS, ...HOSTILE].map((u) => [u]))('repository URL %j is refused', (url) => {
    expect(isRepositoryUrl(url)).toBe(false);
    expect(isRepository(url)).toBe(false);
  });

  it('takes an absolute path as a repository too, but no relative one', () => {
    expect(isRepository('/data/packages/All')).toBe(true);
    expect(isRepositoryUrl('/data/packages/All')).toBe(false);
    expect(isRepository('packages/All')).toBe(false);
  });
});
