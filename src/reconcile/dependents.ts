/**
 * "Which installed packages require PKGNAME?" answered from an index of the site's dependency records instead of a
 * scan of all of them (a site of 1,000 packages has thousands of records, asked about for every change). Pure.
 */
import type { Dependency } from '../grid/protocol/types.js';
import { safeMatch } from './candidates.js';

export interface DependentsIndex {
  /** The dependency records of other packages whose pattern matches `pkgname`, in the records' order. */
  dependentsOf(pkgname: string): readonly Dependency[];
}

/**
 * The first `-`-separated part that every name the pattern matches starts with, or undefined when the pattern does
 * not fix it (a glob or a brace before the first `-`). A dewey pattern (`foo>=1`) fixes the whole PKGBASE; a plain
 * name `foo` matches `foo` or `foo-[0-9]*`.
 */
function firstPart(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === DASH) return pattern.slice(0, i);
    if (SPECIAL.has(c)) return i > 0 && (c === LT || c === GT) ? pattern.slice(0, i) : undefined;
  }
  return pattern;
}

const DASH = 45;
const LT = 60;
const GT = 62;
const SPECIAL = new Set([...'{[*?<>='].map((c) => c.charCodeAt(0)));

function firstPartOfName(pkgname: string): string {
  const dash = pkgname.indexOf('-');
  return dash < 0 ? pkgname : pkgname.slice(0, dash);
}

/** Built on the first question (a site without removals or replacements never asks). */
export function indexDependents(dependencies: readonly Dependency[]): DependentsIndex {
  // Records keep their position so that candidates from the two buckets merge back into the records' order.
  let byFirstPart: Map<string, number[]> | undefined;
  const unkeyed: number[] = [];
  const answers = new Map<string, readonly Dependency[]>();
  const build = (): Map<string, number[]> => {
    const index = new Map<string, number[]>();
    for (let position = 0; position < dependencies.length; position++) {
      const key = firstPart((dependencies[position] as Dependency).pattern);
      if (key === undefined) unkeyed.push(position);
      else {
        const bucket = index.get(key);
        if (bucket) bucket.push(position);
        else index.set(key, [position]);
      }
    }
    return index;
  };
  return {
    dependentsOf(pkgname) {
      const known = answers.get(pkgname);
      if (known) return known;
      byFirstPart ??= build();
      const keyed = byFirstPart.get(firstPartOfName(pkgname)) ?? NONE;
      const candidates = unkeyed.length === 0 ? keyed : [...keyed, ...unkeyed].sort((a, b) => a - b);
      const found: Dependency[] = [];
      for (const position of candidates) {
        const d = dependencies[position] as Dependency;
        if (d.pkgname !== pkgname && safeMatch(d.pattern, pkgname)) found.push(d);
      }
      answers.set(pkgname, found);
      return found;
    },
  };
}

const NONE: readonly number[] = [];
