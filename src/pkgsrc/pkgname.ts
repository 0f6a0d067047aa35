// PKGNAME = PKGBASE-PKGVERSION, split at the last '-' as pkg_install does everywhere (strrchr(pkg, '-')).
import { isValidPkgBase, isValidVersion } from './charset.js';
import { PkgsrcError, quote } from './errors.js';

export interface PkgName {
  /** PKGBASE, e.g. `py311-numpy` */
  base: string;
  /** PKGVERSION including any `nbN` revision, e.g. `1.26.4`, `2.7nb1` */
  version: string;
}

/**
 * Split `py311-numpy-1.26.4` into `{ base: 'py311-numpy', version: '1.26.4' }`.
 * Strict: pkgsrc characters only, non-empty base, and a version that starts with a digit (so a bare PKGBASE such
 * as `p5-Net-SSLeay` is refused instead of being read as base `p5-Net`, version `SSLeay`).
 */
export function parsePkgName(name: string): Readonly<PkgName> {
  if (typeof name !== 'string') throw new PkgsrcError('bad-pkgname', `package name must be a string`);
  const known = cache.get(name);
  if (known) return known;
  const parsed = Object.freeze(parseUncached(name));
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(name, parsed);
  return parsed;
}

// Planning splits the same names over and over (every site holds the same packages); valid results are kept in a
// bounded cache, cleared wholesale when full. The results are frozen, so the cache cannot be changed through them.
const CACHE_LIMIT = 65_536;
const cache = new Map<string, Readonly<PkgName>>();

function parseUncached(name: string): PkgName {
  const dash = name.lastIndexOf('-');
  if (dash < 0) throw new PkgsrcError('bad-pkgname', `${quote(name)} has no version (expected NAME-VERSION)`);
  const base = name.slice(0, dash);
  const version = name.slice(dash + 1);
  if (!isValidPkgBase(base)) {
    throw new PkgsrcError('bad-pkgname', `${quote(name)}: bad package base ${quote(base)}`);
  }
  if (!isValidVersion(version)) {
    throw new PkgsrcError(
      'bad-pkgname',
      `${quote(name)}: bad version ${quote(version)} (must start with a digit; letters, digits, ".", "_", "+")`,
    );
  }
  return { base, version };
}
