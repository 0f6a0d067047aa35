// pkgsrc "dewey" version order, a port of lib/dewey.c of pkg_install 20170419 (mkcomponent, mkversion, vtest).
import { PkgsrcError, quote } from './errors.js';

/** The relational tests of dewey.c (DEWEY_LT ... DEWEY_NE). */
export type DeweyOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A version as dewey.c's arr_t: the numeric components and the `nbN` revision, compared last. */
export interface DeweyVersion {
  readonly parts: readonly number[];
  readonly nb: number;
}

// Modifier values of dewey.c: alpha < beta < pre == rc < '.' == '_' == 'pl'.
const ALPHA = -3;
const BETA = -2;
const RC = -1;
const DOT = 0;

// dewey.c's `modifiers[]`, in the order mkcomponent tries them (after digits, before "nb" and single letters).
const MODIFIERS: ReadonlyArray<readonly [string, number]> = [
  ['alpha', ALPHA],
  ['beta', BETA],
  ['pre', RC],
  ['rc', RC],
  ['pl', DOT],
  ['_', DOT],
  ['.', DOT],
];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** ASCII lower case of an ASCII letter code, or -1 (C isalpha in the C locale). */
function lowerLetter(c: number): number {
  if (c >= 97 && c <= 122) return c;
  if (c >= 65 && c <= 90) return c + 32;
  return -1;
}

/** strncasecmp(s + i, word, strlen(word)) == 0, word being lower case ASCII. */
function startsWithCI(s: string, i: number, word: string): boolean {
  if (i + word.length > s.length) return false;
  for (let k = 0; k < word.length; k++) {
    const c = s.charCodeAt(i + k);
    const l = lowerLetter(c);
    if ((l < 0 ? c : l) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * mkversion(): digits make a number, modifiers make their value, `nbN` sets the revision, any other letter
 * becomes two components (Dot, its position in the alphabet: `1.0a` == `1.0.0.1`... == `1.0.1`), and every
 * other character is skipped. Numbers accumulate in a C `int`, so (as on every platform pkg_install runs on)
 * they wrap at 32 bits; this only matters for components of ten or more digits.
 */
export function parseDewey(version: string): DeweyVersion {
  if (typeof version !== 'string') throw new PkgsrcError('bad-version', 'version must be a string');
  const parts: number[] = [];
  let nb = 0;
  let i = 0;
  const n = version.length;
  outer: while (i < n) {
    const c = version.charCodeAt(i);
    if (isDigit(c)) {
      let v = 0;
      while (i < n && isDigit(version.charCodeAt(i))) {
        v = (v * 10 + (version.charCodeAt(i) - 48)) | 0;
        i++;
      }
      parts.push(v);
      continue;
    }
    for (const [word, value] of MODIFIERS) {
      if (startsWithCI(version, i, word)) {
        parts.push(value);
        i += word.length;
        continue outer;
      }
    }
    if (startsWithCI(version, i, 'nb')) {
      i += 2;
      let v = 0;
      while (i < n && isDigit(version.charCodeAt(i))) {
        v = (v * 10 + (version.charCodeAt(i) - 48)) | 0;
        i++;
      }
      nb = v;
      continue;
    }
    const l = lowerLetter(c);
    if (l >= 0) parts.push(DOT, l - 96);
    i++;
  }
  return { parts, nb };
}

/**
 * vtest(): compare component by component, missing components count as 0 (so `1.0 == 1.0.0`), then the nb
 * revision. dewey.c subtracts two ints and tests the sign; we compare instead, which is the same except where that
 * subtraction would overflow (undefined behaviour in C), and keeps the order total.
 */
export function compareDewey(a: DeweyVersion, b: DeweyVersion): -1 | 0 | 1 {
  const pa = a.parts;
  const pb = b.parts;
  const len = Math.max(pa.length, pb.length);
  for (let i = 0; i < len; i++) {
    const x = i < pa.length ? (pa[i] as number) : 0;
    const y = i < pb.length ? (pb[i] as number) : 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  if (a.nb === b.nb) return 0;
  return a.nb < b.nb ? -1 : 1;
}

/** dewey.c result(): does a comparison outcome satisfy the test? */
export function satisfies(cmp: -1 | 0 | 1, op: DeweyOp): boolean {
  switch (op) {
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
    case '==':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
  }
}

// Parsed versions are small and callers compare the same few hundred versions over and over (a repository, the
// installed set); a bounded cache avoids re-parsing them. Cleared wholesale when full: cheap and never unbounded.
const CACHE_LIMIT = 65_536;
const cache = new Map<string, DeweyVersion>();

function parseCached(version: string): DeweyVersion {
  let v = cache.get(version);
  if (v === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    v = parseDewey(version);
    cache.set(version, v);
  }
  return v;
}

/** Internal: compare two version strings without validating them (pkg_match feeds it whatever follows '-'). */
export function compareVersionStrings(a: string, b: string): -1 | 0 | 1 {
  return compareDewey(parseCached(a), parseCached(b));
}

const VERSION_CHARS = /^[A-Za-z0-9._+]+$/;

function checkVersion(v: unknown, which: string): asserts v is string {
  if (typeof v !== 'string' || !VERSION_CHARS.test(v)) {
    throw new PkgsrcError(
      'bad-version',
      `${which} version ${typeof v === 'string' ? quote(v) : typeof v} is not a pkgsrc version ` +
        '(expected letters, digits, ".", "_", "+")',
    );
  }
}

/**
 * Order two package versions (`2.7nb1`, `1.0rc1`, `6.30.02`) as pkg_install does: -1, 0 or 1.
 * Throws PkgsrcError('bad-version') for an empty version or one with characters outside pkgsrc's set.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  checkVersion(a, 'left');
  checkVersion(b, 'right');
  return compareVersionStrings(a, b);
}
