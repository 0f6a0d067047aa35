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
 * A hash of the first `-`-separated part that every name the pattern matches starts with, or undefined when the
 * pattern does not fix it (a glob or a brace before the first `-`). A dewey pattern (`foo>=1`) fixes the whole
 * PKGBASE; a plain name `foo` matches `foo` or `foo-[0-9]*`. A hash, not the text: no string is made per record, and
 * records that merely share a hash are told apart by the match itself.
 */
function patternKey(pattern: string): number | undefined {
  let hash = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === DASH) return hash;
    if (SPECIAL.has(c)) return i > 0 && (c === LT || c === GT) ? hash : undefined;
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  return hash;
}

/** The hash patternKey gives the first `-`-separated part of a PKGNAME. */
function nameKey(pkgname: string): number {
  let hash = 0;
  for (let i = 0; i < pkgname.length; i++) {
    const c = pkgname.charCodeAt(i);
    if (c === DASH) return hash;
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  return hash;
}

const DASH = 45;
const LT = 60;
const GT = 62;
const SPECIAL = new Set([...'{[*?<>='].map((c) => c.charCodeAt(0)));

/** Built on the first question (a site without removals or replacements never asks). */
export function indexDependents(dependencies: readonly Dependency[]): DependentsIndex {
  // Records by key as chains through `next` (in the records' order), so the index is one Map and one array.
  let first: Map<number, number> | undefined;
  let next: Int32Array | undefined;
  const unkeyed: number[] = [];
  const answers = new Map<string, readonly Dependency[]>();
  const build = (): void => {
    first = new Map();
    next = new Int32Array(dependencies.length).fill(-1);
    for (let position = dependencies.length - 1; position >= 0; position--) {
      const key = patternKey((dependencies[position] as Dependency).pattern);
      if (key === undefined) unkeyed.push(position);
      else {
        const head = first.get(key);
        if (head !== undefined) next[position] = head;
        first.set(key, position);
      }
    }
    unkeyed.reverse();
  };
  const matches = (position: number, pkgname: string): boolean => {
    const d = dependencies[position] as Dependency;
    return d.pkgname !== pkgname && safeMatch(d.pattern, pkgname);
  };
  return {
    dependentsOf(pkgname) {
      const known = answers.get(pkgname);
      if (known) return known;
      if (first === undefined) build();
      const chain = next as Int32Array;
      const found: Dependency[] = [];
      let position = (first as Map<number, number>).get(nameKey(pkgname)) ?? -1;
      if (unkeyed.length === 0) {
        for (; position >= 0; position = chain[position] as number)
          if (matches(position, pkgname)) found.push(dependencies[position] as Dependency);
      } else {
        // Merge the chain with the unkeyed records, both in the records' order.
        const candidates: number[] = [];
        for (; position >= 0; position = chain[position] as number) candidates.push(position);
        for (const p of [...candidates, ...unkeyed].sort((a, b) => a - b))
          if (matches(p, pkgname)) found.push(dependencies[p] as Dependency);
      }
      answers.set(pkgname, found);
      return found;
    },
  };
}
