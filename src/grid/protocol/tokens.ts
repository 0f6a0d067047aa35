/**
 * Token character sets of the site job protocol (docs/site-job-protocol.md, "Token character sets").
 *
 * This is the one source of truth on the TypeScript side, and it mirrors exactly what src/grid/site-job.sh accepts
 * with `case` (request tokens) and awk (tokens it reads from the site). Change both together, and the doc's table.
 * test/site-job/conformance.test.ts feeds the same tokens to both sides and checks that they agree.
 *
 * Rules shared by every token: non-empty, at most MAX_TOKEN_LENGTH characters, and never starting with `-` (a
 * token that reaches pkg_add / pkg_delete must not be read as an option).
 */

import { isValidPattern, isValidPkgName, isValidPkgPath } from '../../pkgsrc/index.js';

/** Longest token either side accepts (pkg_install's PKG_PATTERN_MAX). */
export const MAX_TOKEN_LENGTH = 1024;
/** Longest job id: job ids end up in file names and lock owner lines. */
export const MAX_JOB_ID_LENGTH = 64;
/** Most `ended-job` lines in one request (the script refuses more). */
export const MAX_ENDED_JOBS = 32;
/** Most `known-listing` lines in a request. */
export const MAX_KNOWN_LISTINGS = 16;
/** Longest lock-stale value: 1–9 digits. */
export const MAX_SECONDS = 999_999_999;

const NAME_CHARS = /^[A-Za-z0-9._-]+$/;
const PATH_CHARS = /^\/[A-Za-z0-9._\-/+,]*$/;
const PKG_CHARS = /^[A-Za-z0-9._+-]+$/;
const FINGERPRINT_CHARS = /^[A-Za-z0-9:-]+$/;
const SECONDS = /^[0-9]{1,9}$/;
const FACT_KEY = /^[a-z0-9_-]+$/;
/** Free text in a report: printable ASCII only (the script strips everything else). */
const FREE_TEXT = /^[\x20-\x7e]*$/;

function sane(token: unknown, max = MAX_TOKEN_LENGTH): token is string {
  return typeof token === 'string' && token.length > 0 && token.length <= max && !token.startsWith('-');
}

/** Job id: `A-Z a-z 0-9 . _ -`, 1–64 characters. */
export function isJobId(token: unknown): token is string {
  return sane(token, MAX_JOB_ID_LENGTH) && NAME_CHARS.test(token);
}

/** VO name: `A-Z a-z 0-9 . _ -` (it becomes part of the environment variable VO_<VO>_SW_DIR). */
export function isVoName(token: unknown): token is string {
  return sane(token) && NAME_CHARS.test(token);
}

/** Absolute path: starts with `/`; `A-Z a-z 0-9 . _ - / + ,`; no `..` component. */
export function isAbsolutePath(token: unknown): token is string {
  return sane(token) && PATH_CHARS.test(token) && !token.split('/').includes('..');
}

const URL_TOKEN = /^(?:https?|ftp):\/\/[A-Za-z0-9][A-Za-z0-9.-]*(?::([0-9]{1,5}))?(\/[\s\S]*)?$/;

/**
 * Repository URL: `http://`, `https://` or `ftp://`, a host of `A-Z a-z 0-9 . -` (starting with a letter or digit),
 * an optional port (1–5 digits, at most 65535), and an optional path that is an absolute path token (so no `..`
 * component). No credentials (`user@`), no query, no fragment, nothing that needs escaping: pkg_add and the fetch
 * tool get it as one argument, exactly as written.
 */
export function isRepositoryUrl(token: unknown): token is string {
  if (!sane(token)) return false;
  const m = URL_TOKEN.exec(token);
  if (!m) return false;
  const [, port, urlPath] = m;
  if (port !== undefined && Number(port) > 65535) return false;
  return urlPath === undefined || isAbsolutePath(urlPath);
}

/** The `repository` of a request: an absolute path on the site, or a repository URL. */
export function isRepository(token: unknown): token is string {
  return isAbsolutePath(token) || isRepositoryUrl(token);
}

/**
 * PKGPATH, PKGNAME and pkg_match pattern: the pkgsrc domain's predicates are the rule (src/pkgsrc/charset.ts);
 * the protocol only names them. The script's `case` checks mirror them (test/site-job/conformance.test.ts).
 */
export const isPkgPath: (token: unknown) => token is string = isValidPkgPath;
export const isPkgName: (token: unknown) => token is string = isValidPkgName;
export const isPattern: (token: unknown) => token is string = isValidPattern;

/** Seconds: `0-9`, 1–9 digits. */
export function isSecondsToken(token: unknown): token is string {
  return typeof token === 'string' && SECONDS.test(token);
}

/** A lock-stale value the encoder can write: an integer 0 … 999 999 999. */
export function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SECONDS;
}

/** Fingerprint `ALGO:DIGEST`: `A-Z a-z 0-9 : -`. */
export function isFingerprint(token: unknown): token is string {
  return sane(token) && FINGERPRINT_CHARS.test(token);
}

/** The pkg_install version in `pkgsrc present PREFIX VERSION` (`20170419`, or `unknown`). */
export function isVersionToken(token: unknown): token is string {
  return sane(token) && PKG_CHARS.test(token);
}

/**
 * A package's FILE_NAME in the repository (`gsl-2.8.tgz`): `A-Z a-z 0-9 . _ - +`, no `/`, not `.` or `..`, so it
 * names a file inside the repository directory and nothing else.
 */
export function isFileName(token: unknown): token is string {
  return sane(token) && PKG_CHARS.test(token) && token !== '.' && token !== '..';
}

/** PKGTOOLS_VERSION, OPSYS and MACHINE_ARCH of an `avail` line: `A-Z a-z 0-9 . _ - +`. */
export function isBuildInfoToken(token: unknown): token is string {
  return sane(token) && PKG_CHARS.test(token);
}

/** The vulnerability type of an `audit` line (`denial-of-service`): `A-Z a-z 0-9 . _ - +`. */
export function isVulnerabilityType(token: unknown): token is string {
  return sane(token) && PKG_CHARS.test(token);
}

/** The key of a `fact` line: `a-z 0-9 _ -`. */
export function isFactKey(token: unknown): token is string {
  return sane(token) && FACT_KEY.test(token);
}

/** Free text (messages, owners, URLs, fact values): printable ASCII, no control characters. */
export function isFreeText(text: unknown): text is string {
  return typeof text === 'string' && FREE_TEXT.test(text);
}

const LISTING_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The digest of a repository listing: `sha256:` and 64 lower-case hex digits. */
export function isListingDigest(token: unknown): token is string {
  return typeof token === 'string' && LISTING_DIGEST.test(token);
}
