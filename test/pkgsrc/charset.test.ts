import { describe, expect, it } from 'vitest';
import {
  isValidPattern,
  isValidPkgBase,
  isValidPkgName,
  isValidPkgPath,
  isValidVersion,
  MAX_TOKEN_LENGTH,
  PkgsrcError,
  parsePkgName,
} from '../../src/pkgsrc/index.js';

// Tokens that must never reach a job script: shell metacharacters, white space, options, path tricks.
const HOSTILE = [
  '',
  ' ',
  'gsl-2.8;reboot',
  'gsl-2.8 ',
  'gsl-2.8\n',
  'gsl-$(id)-1',
  'gsl-`id`-1',
  "gsl-'1'",
  'gsl-"1"',
  'gsl|x-1',
  'gsl&-1',
  'gsl\\-1',
  'gsl-2.8\0',
  'gsl/../x-1',
  'gsl~-1',
  'gsl-é-1',
  '-rf',
  '--force-1',
];

describe('isValidPkgName / parsePkgName', () => {
  it.each([
    ['gsl-2.8', 'gsl', '2.8'],
    ['py311-numpy-1.26.4', 'py311-numpy', '1.26.4'],
    ['p5-Net-SSLeay-1.0z', 'p5-Net-SSLeay', '1.0z'],
    ['gsl-2.7nb1', 'gsl', '2.7nb1'],
    ['pkg_install-20170419', 'pkg_install', '20170419'],
    ['R-base-1.0_1', 'R-base', '1.0_1'],
    ['gtk+-2.24.33', 'gtk+', '2.24.33'],
    ['libsigc++-2.12.1', 'libsigc++', '2.12.1'],
    ['3proxy-0.9.4', '3proxy', '0.9.4'],
  ])('%s is %s + %s', (name, base, version) => {
    expect(isValidPkgName(name)).toBe(true);
    expect(parsePkgName(name)).toEqual({ base, version });
  });

  it.each([
    ...HOSTILE,
    'gsl',
    'p5-Net-SSLeay',
    'gsl-',
    '-2.8',
    'gsl--2.8',
    'gsl-v2.8',
    '.gsl-2.8',
    'gsl-2.8-',
    'gsl>=2.8',
    'gsl-2.*',
  ])('refuses %j', (name) => {
    expect(isValidPkgName(name)).toBe(false);
    expect(() => parsePkgName(name)).toThrow(PkgsrcError);
    expect(() => parsePkgName(name)).toThrow(expect.objectContaining({ code: 'bad-pkgname' }));
  });

  it('refuses overlong names and non-strings', () => {
    expect(isValidPkgName(`a-${'1'.repeat(MAX_TOKEN_LENGTH)}`)).toBe(false);
    expect(isValidPkgName(undefined)).toBe(false);
    expect(isValidPkgName(42)).toBe(false);
  });
});

describe('isValidPkgBase / isValidVersion', () => {
  it('accepts pkgsrc bases and versions', () => {
    for (const b of ['gsl', 'py311-numpy', 'p5-Net-SSLeay', 'gtk+', 'R-base'])
      expect(isValidPkgBase(b)).toBe(true);
    for (const v of ['2.8', '2.7nb1', '1.0_rc1', '20170419', '1.0+git']) expect(isValidVersion(v)).toBe(true);
  });
  it('refuses the rest', () => {
    for (const b of [...HOSTILE, '.gsl', 'gsl-']) expect(isValidPkgBase(b)).toBe(false);
    for (const v of [...HOSTILE, 'v1', '1-2', '.1', '1 ']) expect(isValidVersion(v)).toBe(false);
  });
});

describe('isValidPkgPath', () => {
  it.each([
    'math/gsl',
    'math/py-numpy',
    'security/openssl',
    'devel/gtk+',
    'x11/libX11',
    'wip/root6',
  ])('accepts %s', (p) => {
    expect(isValidPkgPath(p)).toBe(true);
  });
  it.each([
    ...HOSTILE,
    'gsl',
    'math/',
    '/gsl',
    'math/gsl/',
    'a/b/c',
    '../gsl',
    'math/..',
    './gsl',
    'math/-x',
    '-m/x',
  ])('refuses %j', (p) => {
    expect(isValidPkgPath(p)).toBe(false);
  });
});

describe('isValidPattern', () => {
  it.each([
    'gsl',
    'gsl-2.8',
    'gsl>=2.7',
    'gsl>=2.7<3',
    'gsl-2.7*',
    'gsl-[0-9]*',
    'gsl-?.*',
    '{gsl,fftw}-[0-9]*',
    'py311-numpy>=1.26<2',
    'gsl-{2.{7,8},3}',
    'gtk+>=2',
  ])('accepts %s', (p) => {
    expect(isValidPattern(p)).toBe(true);
  });
  it.each([
    ...HOSTILE,
    '{gsl',
    'gsl}',
    '}{',
    'gsl-[!0-9]*',
    'gsl-[^0]*',
    '-gsl',
    'gsl>=2 <3',
  ])('refuses %j', (p) => {
    expect(isValidPattern(p)).toBe(false);
  });
});
