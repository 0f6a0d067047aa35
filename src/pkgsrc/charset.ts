// Strict token predicates. They guard the tokens that reach the site job script (docs/site-job-protocol.md), so
// they accept only the pkgsrc character set and refuse anything a shell or pkg_* could read as something else:
// a leading '-' (an option to pkg_add / pkg_delete), '.' / '..' path parts, empty or overlong tokens.
import { countAlternatives, MAX_ALTERNATIVES } from './braces.js';

/** pkg_install's PKG_PATTERN_MAX (lib/lib.h): longer patterns are truncated by dewey_match, so refuse them. */
export const MAX_TOKEN_LENGTH = 1024;

const PKGNAME_CHARS = /^[A-Za-z0-9._+-]+$/;
const PATTERN_CHARS = /^[A-Za-z0-9._+\-<>=*?[\]{},]+$/;
const PATH_PART = /^[A-Za-z0-9._+-]+$/;
const VERSION_CHARS = /^[0-9][A-Za-z0-9._+]*$/;

function sane(token: unknown): token is string {
  return (
    typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN_LENGTH && token[0] !== '-'
  );
}

/** A package version as pkgsrc writes it: starts with a digit, no '-' (the last '-' separates it from PKGBASE). */
export function isValidVersion(version: unknown): version is string {
  return sane(version) && VERSION_CHARS.test(version);
}

/** A PKGBASE such as `gsl` or `p5-Net-SSLeay`. */
export function isValidPkgBase(base: unknown): base is string {
  return sane(base) && base[0] !== '.' && PKGNAME_CHARS.test(base) && !base.endsWith('-');
}

/**
 * A full PKGNAME `base-version` such as `py311-numpy-1.26.4` or `gsl-2.7nb1`: pkgsrc characters only, and the
 * part after the last '-' is a version starting with a digit (so a bare PKGBASE like `gsl` is not a PKGNAME).
 */
export function isValidPkgName(name: unknown): name is string {
  if (!sane(name) || !PKGNAME_CHARS.test(name)) return false;
  const dash = name.lastIndexOf('-');
  return dash > 0 && isValidPkgBase(name.slice(0, dash)) && isValidVersion(name.slice(dash + 1));
}

/** A PKGPATH `category/name`: exactly one '/', each part in the pkgsrc character set, not '.' or '..'. */
export function isValidPkgPath(path: unknown): path is string {
  if (!sane(path)) return false;
  const slash = path.indexOf('/');
  if (slash < 0 || path.indexOf('/', slash + 1) >= 0) return false;
  const parts = [path.slice(0, slash), path.slice(slash + 1)];
  return parts.every((p) => PATH_PART.test(p) && p !== '.' && p !== '..' && p[0] !== '-');
}

/**
 * A pkg_match pattern (`gsl>=2.7<3`, `gsl-2.7*`, `{gsl,fftw}-[0-9]*`): the PKGNAME characters plus
 * `< > = * ? [ ] { } ,`, properly nested braces (pkg_install exits on an unclosed one) expanding to at most
 * MAX_ALTERNATIVES patterns. No backslash, no `!`.
 */
export function isValidPattern(pattern: unknown): pattern is string {
  if (!sane(pattern) || !PATTERN_CHARS.test(pattern)) return false;
  let depth = 0;
  for (const c of pattern) {
    if (c === '{') depth++;
    else if (c === '}' && --depth < 0) return false;
  }
  return depth === 0 && countAlternatives(pattern) <= MAX_ALTERNATIVES;
}
