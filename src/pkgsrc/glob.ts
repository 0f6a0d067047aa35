// fnmatch(3) with flags FNM_PERIOD, as pkg_install's glob_match() calls it (lib/opattern.c), following glibc's
// fnmatch (the one a Linux bootstrap links): `*`, `?`, bracket expressions with `!`/`^` negation, ranges and
// [:class:], backslash escapes; an unclosed `[` is literal; a trailing backslash never matches; a leading '.' in
// the name must be matched by a literal '.' (FNM_PERIOD without FNM_PATHNAME only looks at the first character).
// Matching is the iterative star/backtrack algorithm, O(pattern x name) at worst: patterns also come from
// repositories and vulnerability lists, so no backtracking regular expression.

const LITERAL = 0;
const ANY = 1;
const STAR = 2;
const SET = 3;

interface CharSet {
  readonly negate: boolean;
  /** Inclusive [lo, hi] code ranges, flattened. */
  readonly ranges: readonly number[];
}

interface CompiledGlob {
  readonly kinds: readonly number[];
  /** The code unit of a LITERAL, the index into `sets` of a SET. */
  readonly args: readonly number[];
  readonly sets: readonly CharSet[];
  /** The pattern starts with a literal '.', so a name starting with '.' may match (FNM_PERIOD). */
  readonly leadingDot: boolean;
}

/** A pattern that can match nothing (a trailing backslash, an unknown [:class:]). */
const NEVER: CompiledGlob = { kinds: [], args: [], sets: [], leadingDot: false };

function r(lo: string, hi: string): number[] {
  return [lo.charCodeAt(0), hi.charCodeAt(0)];
}

// The POSIX classes in the C locale.
const CLASSES: Record<string, readonly number[]> = {
  alnum: [...r('0', '9'), ...r('A', 'Z'), ...r('a', 'z')],
  alpha: [...r('A', 'Z'), ...r('a', 'z')],
  blank: [32, 32, 9, 9],
  cntrl: [0, 31, 127, 127],
  digit: r('0', '9'),
  graph: [33, 126],
  lower: r('a', 'z'),
  print: [32, 126],
  punct: [...r('!', '/'), ...r(':', '@'), ...r('[', '`'), ...r('{', '~')],
  space: [9, 13, 32, 32],
  upper: r('A', 'Z'),
  xdigit: [...r('0', '9'), ...r('A', 'F'), ...r('a', 'f')],
};

/** Parse a bracket expression starting after '['; null when unclosed (then '[' is literal). */
function bracket(p: string, start: number): { set: CharSet; end: number } | null | 'never' {
  let i = start;
  let negate = false;
  if (p[i] === '!' || p[i] === '^') {
    negate = true;
    i++;
  }
  const ranges: number[] = [];
  let first = true;
  while (i < p.length) {
    let c = p[i] as string;
    if (c === ']' && !first) return { set: { negate, ranges }, end: i + 1 };
    first = false;
    if (c === '[' && p[i + 1] === ':') {
      // glibc: a lower-case word closed by ':]' is a class name (an unknown one makes the pattern match
      // nothing); anything else after '[:' is an ordinary '['.
      const m = /^[a-z]*:\]/.exec(p.slice(i + 2));
      if (m !== null) {
        const cls = CLASSES[m[0].slice(0, -2)];
        if (cls === undefined) return 'never';
        ranges.push(...cls);
        i += 2 + m[0].length;
        continue;
      }
    }
    if (c === '\\') {
      i++;
      if (i >= p.length) return null;
      c = p[i] as string;
    }
    const lo = c.charCodeAt(0);
    i++;
    if (p[i] === '-' && i + 1 < p.length && p[i + 1] !== ']') {
      let j = i + 1;
      if (p[j] === '\\') j++;
      if (j >= p.length) return null;
      const hi = (p[j] as string).charCodeAt(0);
      i = j + 1;
      if (lo <= hi) ranges.push(lo, hi); // a reversed range matches nothing
      continue;
    }
    ranges.push(lo, lo);
  }
  return null;
}

export function compileGlob(pattern: string): CompiledGlob {
  const kinds: number[] = [];
  const args: number[] = [];
  const sets: CharSet[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '*') {
      // consecutive stars are one star
      if (kinds[kinds.length - 1] !== STAR) {
        kinds.push(STAR);
        args.push(0);
      }
      i++;
    } else if (c === '?') {
      kinds.push(ANY);
      args.push(0);
      i++;
    } else if (c === '[') {
      const b = bracket(pattern, i + 1);
      if (b === 'never') return NEVER;
      if (b === null) {
        kinds.push(LITERAL);
        args.push(91);
        i++;
      } else {
        kinds.push(SET);
        args.push(sets.length);
        sets.push(b.set);
        i = b.end;
      }
    } else if (c === '\\') {
      if (i + 1 >= pattern.length) return NEVER;
      kinds.push(LITERAL);
      args.push(pattern.charCodeAt(i + 1));
      i += 2;
    } else {
      kinds.push(LITERAL);
      args.push(pattern.charCodeAt(i));
      i++;
    }
  }
  const leadingDot = kinds[0] === LITERAL && args[0] === 46;
  return { kinds, args, sets, leadingDot };
}

function inSet(set: CharSet, c: number): boolean {
  const rs = set.ranges;
  for (let k = 0; k < rs.length; k += 2) {
    if (c >= (rs[k] as number) && c <= (rs[k + 1] as number)) return !set.negate;
  }
  return set.negate;
}

function run(g: CompiledGlob, s: string): boolean {
  const { kinds, args, sets } = g;
  const m = kinds.length;
  const n = s.length;
  if (m === 0) return g !== NEVER && n === 0;
  let p = 0;
  let i = 0;
  let starP = -1;
  let starI = 0;
  while (i < n) {
    if (p < m) {
      const k = kinds[p];
      if (k === STAR) {
        starP = p++;
        starI = i;
        continue;
      }
      const c = s.charCodeAt(i);
      const a = args[p] as number;
      if (k === ANY || (k === LITERAL ? c === a : inSet(sets[a] as CharSet, c))) {
        p++;
        i++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP + 1;
    i = ++starI;
  }
  while (p < m && kinds[p] === STAR) p++;
  return p === m;
}

const CACHE_LIMIT = 2048;
const cache = new Map<string, CompiledGlob>();

/** fnmatch(pattern, name, FNM_PERIOD) == 0 */
export function fnmatch(pattern: string, name: string): boolean {
  let g = cache.get(pattern);
  if (g === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    g = compileGlob(pattern);
    cache.set(pattern, g);
  }
  if (g === NEVER) return false;
  if (name.charCodeAt(0) === 46 && !g.leadingDot) return false;
  return run(g, name);
}
