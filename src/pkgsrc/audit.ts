// `pkg_admin audit` / `audit-pkg` output (lib/vulnerabilities-file.c audit_package, admin/audit.c).
// pkg_admin exits 1 both for findings and for a missing list, so the two are told apart here, by the text.
import { isValidPkgName } from './charset.js';
import { PkgsrcError, quote } from './errors.js';
import { splitLines } from './lines.js';

export interface AuditOutputFinding {
  pkgname: string;
  /** The vulnerability classification (`buffer-overflow`, ...), or `eol` for an end-of-life notice (-e). */
  type: string;
  url: string;
  /** "has an ignored ... vulnerability": listed in IGNORE_URLS, shown only with `audit -i`. */
  ignored: boolean;
}

export type AuditOutput =
  | { status: 'clean' | 'vulnerable'; findings: AuditOutputFinding[]; warnings: string[] }
  /** "pkg_admin: Cannot open PATH: REASON": no vulnerability list to audit against (REASON from strerror). */
  | { status: 'no-list'; path: string; reason: string; findings: []; warnings: string[] };

// printf("Package %s has a%s %s vulnerability, see %s\n", pkgname, ignored ? "n ignored" : "", type, url)
const FINDING = /^Package (\S+) has a(n ignored)? (\S+) vulnerability, see (\S+)$/;
// printf("Package %s has reached end-of-life (eol), see %s/eol-packages\n", pkgname, base)
const EOL = /^Package (\S+) has reached end-of-life \(eol\), see (\S+\/eol-packages)$/;
// err(EXIT_FAILURE, "Cannot open %s", path) in read_pkg_vulnerabilities_file
const CANNOT_OPEN = /^pkg_admin: Cannot open (\/\S*): ([^:]+)$/;
// warnx() of check_and_read_pkg_vulnerabilities / verify_hash, and the -v summary: informational only.
const WARNINGS = [
  /^pkg_admin: pkg-vulnerabilities is out of date \(\d+ days old\)$/,
  /^pkg_admin: pkg-vulnerabilities is from the future$/,
  /^pkg_admin: pkg-vulnerabilities is \d+ days? old$/,
  /^pkg_admin: Unsupported hash algorithm: [A-Za-z0-9]*$/,
  /^No vulnerabilities found$/,
];

function fail(message: string, line: number): never {
  throw new PkgsrcError('bad-audit', message, line);
}

/**
 * Parse the combined output of `pkg_admin audit` (not `-q`). Every line must be a finding, a known warning or
 * the missing-list error; anything else (a bad checksum, an unknown message) is refused, so the caller reports
 * the audit as unknown instead of clean.
 */
export function parseAuditOutput(text: string): AuditOutput {
  if (typeof text !== 'string') throw new PkgsrcError('bad-audit', 'audit output must be a string');
  const findings: AuditOutputFinding[] = [];
  const warnings: string[] = [];
  let missing: { path: string; reason: string; line: number } | undefined;
  splitLines(text).forEach((l, i) => {
    const line = i + 1;
    let m = FINDING.exec(l);
    const eol = m === null ? EOL.exec(l) : null;
    if (m !== null || eol !== null) {
      const pkgname = (m?.[1] ?? eol?.[1]) as string;
      if (!isValidPkgName(pkgname)) fail(`${quote(pkgname)} is not a package name`, line);
      if (m !== null) {
        findings.push({ pkgname, type: m[3] as string, url: m[4] as string, ignored: m[2] !== undefined });
      } else {
        findings.push({ pkgname, type: 'eol', url: eol?.[2] as string, ignored: false });
      }
      return;
    }
    m = CANNOT_OPEN.exec(l);
    if (m !== null) {
      if (missing !== undefined) fail('second "Cannot open" message', line);
      missing = { path: m[1] as string, reason: m[2] as string, line };
      return;
    }
    if (WARNINGS.some((w) => w.test(l))) {
      warnings.push(l);
      return;
    }
    fail(`unrecognised pkg_admin audit output ${quote(l)}`, line);
  });
  if (missing !== undefined) {
    if (findings.length > 0)
      fail('findings reported although the vulnerability list could not be opened', missing.line);
    return { status: 'no-list', path: missing.path, reason: missing.reason, findings: [], warnings };
  }
  return { status: findings.length > 0 ? 'vulnerable' : 'clean', findings, warnings };
}
