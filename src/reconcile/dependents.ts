/**
 * "Which installed packages require PKGNAME?" answered from an index of the site's dependency records instead of a
 * scan of all of them (a site of 1,000 packages has thousands of records, asked about for every change). Pure.
 */
import type { Dependency } from '../grid/protocol/types.js';
import { matchPattern } from '../pkgsrc/index.js';

export interface DependentsIndex {
  /** The dependency records of other packages whose pattern matches `pkgname`, in the records' order. */
  dependentsOf(pkgname: string): readonly Dependency[];
}

/** Every name a pkg_match pattern matches starts with the pattern's text before its first special character. */
export function literalPrefix(pattern: string): string {
  let end = 0;
  while (end < pattern.length && !'{[*?<>='.includes(pattern.charAt(end))) end++;
  return pattern.slice(0, end);
}

/**
 * The first `-`-separated part that every name the pattern matches starts with, or undefined when the pattern does
 * not fix it (a glob or a brace within it). With a `-` in the literal prefix it is the text before that `-`; a
 * dewey pattern (`foo>=1`) fixes the whole PKGBASE; a plain name `foo` matches `foo` or `foo-[0-9]*`.
 */
function firstPart(pattern: string): string | undefined {
  const prefix = literalPrefix(pattern);
  const dash = prefix.indexOf('-');
  if (dash >= 0) return prefix.slice(0, dash);
  if (prefix.length === 0) return undefined;
  const next = pattern.charAt(prefix.length);
  if (next === '' || next === '<' || next === '>') return prefix;
  return undefined;
}

function firstPartOfName(pkgname: string): string {
  const dash = pkgname.indexOf('-');
  return dash < 0 ? pkgname : pkgname.slice(0, dash);
}

export function indexDependents(dependencies: readonly Dependency[]): DependentsIndex {
  // Records keep their position so that candidates from the two buckets merge back into the records' order.
  const byFirstPart = new Map<string, number[]>();
  const unkeyed: number[] = [];
  const prefixes = dependencies.map((d) => literalPrefix(d.pattern));
  dependencies.forEach((d, position) => {
    const key = firstPart(d.pattern);
    if (key === undefined) unkeyed.push(position);
    else {
      const bucket = byFirstPart.get(key);
      if (bucket) bucket.push(position);
      else byFirstPart.set(key, [position]);
    }
  });
  const answers = new Map<string, readonly Dependency[]>();
  return {
    dependentsOf(pkgname) {
      const known = answers.get(pkgname);
      if (known) return known;
      const keyed = byFirstPart.get(firstPartOfName(pkgname)) ?? [];
      const candidates = unkeyed.length === 0 ? keyed : [...keyed, ...unkeyed].sort((a, b) => a - b);
      const found: Dependency[] = [];
      for (const position of candidates) {
        const d = dependencies[position] as Dependency;
        if (
          d.pkgname !== pkgname &&
          pkgname.startsWith(prefixes[position] as string) &&
          matchPattern(d.pattern, pkgname)
        )
          found.push(d);
      }
      answers.set(pkgname, found);
      return found;
    },
  };
}
