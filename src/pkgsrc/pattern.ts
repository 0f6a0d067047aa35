// pkg_match(3) of pkg_install 20170419 (lib/opattern.c: pkg_match, quick_pkg_match, alternate_match,
// glob_match, simple_match; lib/dewey.c: dewey_match) and pkg_order (the "best match" pkg_add picks).
import { countAlternatives, MAX_ALTERNATIVES } from './braces.js';
import { MAX_TOKEN_LENGTH } from './charset.js';
import { PkgsrcError, quote } from './errors.js';
import { fnmatch } from './glob.js';
import { compareVersionStrings, type DeweyOp, satisfies } from './version.js';

type Compiled =
  | { readonly kind: 'alt'; readonly alternatives: readonly string[] }
  | {
      readonly kind: 'dewey';
      readonly name: string;
      readonly op: DeweyOp;
      readonly version: string;
      readonly upper: { readonly op: DeweyOp; readonly version: string } | undefined;
    }
  | { readonly kind: 'plain'; readonly glob: boolean; readonly withVersion: string };

// dewey.c's tests[], tried in this order by dewey_mktest().
const TESTS: readonly DeweyOp[] = ['<=', '<', '>=', '>', '==', '!='];

/** dewey_mktest(): the relational operator at s[i]. Only called where s[i] is '<' or '>', so never fails. */
function mktest(s: string, i: number): DeweyOp {
  for (const t of TESTS) if (s.startsWith(t, i)) return t;
  throw new PkgsrcError('bad-pattern', `no relational operator at offset ${i} of ${quote(s)}`);
}

/** PKG_PATTERN_MAX: dewey_match copies the lower bound of a range into a buffer of this size (strlcpy). */
const PKG_PATTERN_MAX = 1024;

/** alternate_match(): expand the first top-level {a,b,...} group into whole patterns. */
function expandAlternatives(pattern: string, open: number): string[] {
  let depth = 0;
  let close = -1;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0) throw new PkgsrcError('bad-pattern', `malformed alternate ${quote(pattern)} (unclosed "{")`);
  const prefix = pattern.slice(0, open);
  const rest = pattern.slice(close + 1);
  const out: string[] = [];
  let start = open + 1;
  depth = 0;
  for (let i = start; i <= close; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    else if (depth === 0 && (c === ',' || i === close)) {
      out.push(prefix + pattern.slice(start, i) + rest);
      start = i + 1;
    }
  }
  return out;
}

function compile(pattern: string): Compiled {
  const open = pattern.indexOf('{');
  if (open >= 0) return { kind: 'alt', alternatives: expandAlternatives(pattern, open) };
  const lt = pattern.indexOf('<');
  const gt = pattern.indexOf('>');
  const sep = lt < 0 ? gt : gt < 0 ? lt : Math.min(lt, gt);
  if (sep >= 0) {
    const op = mktest(pattern, sep);
    const after = sep + op.length;
    let upper: { op: DeweyOp; version: string } | undefined;
    let version = pattern.slice(after);
    // "if greater than, look for less than": gsl>=2.7<3
    if (op === '>' || op === '>=') {
      const sep2 = pattern.indexOf('<', after);
      if (sep2 >= 0) {
        const op2 = mktest(pattern, sep2);
        upper = { op: op2, version: pattern.slice(sep2 + op2.length) };
        version = pattern.slice(after, sep2).slice(0, PKG_PATTERN_MAX - 1);
      }
    }
    return { kind: 'dewey', name: pattern.slice(0, sep), op, version, upper };
  }
  // Globbing patterns and simple matches may be given with or without the version: pkg_match finally tries
  // "PATTERN-[0-9]*", which is why a bare PKGBASE such as `gsl` matches gsl-2.8.
  return { kind: 'plain', glob: /[*?[\]]/.test(pattern), withVersion: `${pattern}-[0-9]*` };
}

const CACHE_LIMIT = 65_536;
const cache = new Map<string, Compiled>();

function compiled(pattern: string): Compiled {
  let c = cache.get(pattern);
  if (c === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    c = compile(pattern);
    cache.set(pattern, c);
  }
  return c;
}

/** isalnum(c) || c == '-' */
function simple(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45;
}

/** quick_pkg_match(): the first two literal characters of the pattern must be the package's. */
function quick(pattern: string, pkg: string): boolean {
  const p0 = pattern.charCodeAt(0);
  if (!simple(p0)) return true;
  if (p0 !== pkg.charCodeAt(0)) return false;
  const p1 = pattern.charCodeAt(1);
  if (!simple(p1)) return true;
  return p1 === pkg.charCodeAt(1);
}

function deweyMatch(c: Extract<Compiled, { kind: 'dewey' }>, pkg: string): boolean {
  const dash = pkg.lastIndexOf('-');
  if (dash < 0 || dash !== c.name.length || !pkg.startsWith(c.name)) return false;
  const version = pkg.slice(dash + 1);
  if (c.upper !== undefined && !satisfies(compareVersionStrings(version, c.upper.version), c.upper.op)) {
    return false;
  }
  return satisfies(compareVersionStrings(version, c.version), c.op);
}

function pkgMatch(pattern: string, pkg: string): boolean {
  if (!quick(pattern, pkg)) return false;
  const c = compiled(pattern);
  switch (c.kind) {
    case 'alt': {
      // alternate_match() tries every alternative (no short cut), so an error in a later one still surfaces.
      let found = false;
      for (const alt of c.alternatives) if (pkgMatch(alt, pkg)) found = true;
      return found;
    }
    case 'dewey':
      return deweyMatch(c, pkg);
    case 'plain':
      if (c.glob && fnmatch(pattern, pkg)) return true;
      if (pattern === pkg) return true;
      return fnmatch(c.withVersion, pkg);
  }
}

/**
 * pkg_install reports an unclosed '{' only when it reaches it for a given package name; we refuse such a
 * pattern up front, whatever the package, so a caller never sees a pattern that is valid "sometimes". We also
 * refuse what pkg_install would choke on or truncate: overlong patterns and exponential alternatives.
 */
function checkPattern(pattern: unknown): asserts pattern is string {
  if (typeof pattern === 'string' && checked.has(pattern)) return;
  checkUnseenPattern(pattern);
  if (checked.size >= CACHE_LIMIT) checked.clear();
  checked.add(pattern);
}

/** Patterns that passed checkPattern: a site's dependency patterns are matched thousands of times each. */
const checked = new Set<string>();

function checkUnseenPattern(pattern: unknown): asserts pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new PkgsrcError('bad-pattern', 'package pattern must be a non-empty string');
  }
  if (pattern.length > MAX_TOKEN_LENGTH) {
    throw new PkgsrcError('bad-pattern', `package pattern longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  const count = countAlternatives(pattern);
  if (count < 0) throw new PkgsrcError('bad-pattern', `malformed alternate ${quote(pattern)} (unclosed "{")`);
  if (count > MAX_ALTERNATIVES) {
    throw new PkgsrcError(
      'bad-pattern',
      `${quote(pattern)} expands to more than ${MAX_ALTERNATIVES} alternatives`,
    );
  }
}

/**
 * `pkg_admin pmatch PATTERN PKGNAME`: csh alternatives `{a,b}`, dewey ranges (`gsl>=2.7<3`), fnmatch globs
 * (`gsl-2.7*`), exact names, and a pattern without a version matching any version (`gsl` matches `gsl-2.8`).
 * Throws PkgsrcError('bad-pattern') for an empty pattern, an unclosed '{', a pattern longer than
 * MAX_TOKEN_LENGTH or one expanding to more than MAX_ALTERNATIVES alternatives.
 */
export function matchPattern(pattern: string, pkgname: string): boolean {
  checkPattern(pattern);
  if (typeof pkgname !== 'string') throw new PkgsrcError('bad-pkgname', 'package name must be a string');
  return pkgMatch(pattern, pkgname);
}

/** strcmp(): byte order of the UTF-8 encodings, which is code point order. */
function strcmp(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** pkg_order(): 0 neither matches, 1 the first is better, 2 the second is. */
function pkgOrder(pattern: string, first: string | undefined, second: string): 0 | 1 | 2 {
  if (first === undefined) return pkgMatch(pattern, second) ? 2 : 0;
  const v1 = first.lastIndexOf('-');
  const v2 = second.lastIndexOf('-');
  if (v1 < 0 || !pkgMatch(pattern, first)) return pkgMatch(pattern, second) ? 2 : 0;
  if (v2 < 0 || !pkgMatch(pattern, second)) return 1;
  const cmp = compareVersionStrings(first.slice(v1 + 1), second.slice(v2 + 1));
  if (cmp > 0) return 1;
  if (cmp < 0) return 2;
  return strcmp(first, second) < 0 ? 1 : 2;
}

/**
 * The package pkg_add would pick for PATTERN among CANDIDATES: the matching one with the highest version, ties
 * (equal dewey versions such as `2.7` and `2.7.0`) going to the smaller name in byte order, as pkg_order() does.
 */
export function bestMatch(pattern: string, candidates: Iterable<string>): string | undefined {
  checkPattern(pattern);
  if (candidates === null || typeof candidates !== 'object' || !(Symbol.iterator in candidates)) {
    throw new PkgsrcError('bad-pkgname', 'candidates must be an iterable of package names');
  }
  let best: string | undefined;
  for (const cand of candidates) {
    if (typeof cand !== 'string') throw new PkgsrcError('bad-pkgname', 'package name must be a string');
    if (pkgOrder(pattern, best, cand) === 2) best = cand;
  }
  return best;
}
