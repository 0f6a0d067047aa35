/** What gridpkg believes a site holds, taken from the last trustworthy job report. */
import { describeLockOwner } from '../grid/protocol/lock-owner.js';
import type {
  AuditFinding,
  AuditStatus,
  AvailablePackage,
  Dependency,
  InstalledPackage,
  PkgsrcResult,
  SiteReport,
  SoftwareAreaAccess,
} from '../grid/protocol/types.js';
import { printable } from '../report/untrusted.js';

export interface KnownObservation {
  state: 'known';
  site: string;
  observedAt: string;
  jobId: string;
  /** Fingerprint of the package database this observation describes (the report's `fingerprint after`). */
  fingerprint: string;
  pkgsrc: PkgsrcResult;
  installed: InstalledPackage[];
  dependencies: Dependency[];
  /** Packages the repository offers; empty when the site could not read it. */
  available: AvailablePackage[];
  repositoryReadable: boolean;
  /** The digest of the repository listing (`repository-digest`), under which the state directory keeps it. */
  repositoryDigest?: string;
  /**
   * The prefix the repository's packages are built for (their @cwd), when the job could tell: pkg_add installs
   * them there whatever the site's prefix is.
   */
  repositoryPrefix?: string;
  audit: AuditFinding[];
  /**
   * How the vulnerability audit went (the report's `audit-status`): `no-list` and `skipped` mean it did not run, so
   * `audit` being empty says nothing. Absent in observations saved by older versions.
   */
  auditStatus?: { status: AuditStatus; message: string };
  /**
   * Whether this job's account could write the prefix and its database, and what of them is not group-writable
   * (the report's `software-area`); absent when not reported.
   */
  softwareArea?: SoftwareAreaAccess;
  /** The report's `note` lines: what the job skipped (absent in observations saved by older versions). */
  notes?: string[];
  /** The site's `uname -s` and `uname -m` (facts `os`, `arch`), which pkg_add checks packages against. */
  host?: { os: string | undefined; arch: string | undefined };
}

export interface UnknownObservation {
  state: 'unknown';
  site: string;
  observedAt: string;
  jobId: string | undefined;
  reason: string;
  /** The report's `note` lines, when there was a readable report. */
  notes?: string[];
}

export type Observation = KnownObservation | UnknownObservation;

/**
 * Turns a report into an observation. Only a report that went through the whole job (lock taken, pkgsrc found,
 * post-state listed) describes the site; anything else leaves the site unknown.
 */
export function observationFromReport(site: string, report: SiteReport, observedAt: string): Observation {
  const notes = report.notes.length > 0 ? { notes: report.notes } : {};
  const unknown = (reason: string): UnknownObservation => ({
    state: 'unknown',
    site,
    observedAt,
    jobId: report.jobId,
    reason,
    ...notes,
  });
  if (report.status === 'locked') return unknown(`the site is locked by another job: ${lockOwner(report)}`);
  if (report.pkgsrc?.state === 'absent') {
    const prefix = report.pkgsrc.prefix;
    return unknown(
      `pkgsrc is not installed under ${prefix}: gridpkg does not bootstrap sites yet, so bootstrap it there ` +
        `(bootstrap --unprivileged --prefix ${prefix}, then chmod -R g+w ${prefix}) or set prefix: to where it is`,
    );
  }
  if (report.pkgsrc?.state === 'foreign-pkgdb') {
    const { prefix, pkgdb } = report.pkgsrc;
    return unknown(
      `pkg_install under ${prefix} uses the package database ${pkgdb}, which is not this site's ` +
        '(PKG_DBDIR is compiled into pkg_install at bootstrap: a copied or moved prefix keeps using the ' +
        "original's database), so the job neither read nor changed it; bootstrap pkgsrc again at " +
        `${prefix}, or set PKG_DBDIR to this site's database in the backend's environment`,
    );
  }
  if (report.status === 'error') return unknown(`the job failed: ${report.statusMessage || 'no message'}`);
  if (!report.pkgsrc || !report.fingerprintAfter)
    return unknown('the report does not list the package database');
  return {
    state: 'known',
    site,
    observedAt,
    jobId: report.jobId ?? 'unknown',
    fingerprint: report.fingerprintAfter,
    pkgsrc: report.pkgsrc,
    installed: report.installed,
    dependencies: report.dependencies,
    available: report.available,
    repositoryReadable: report.available.length > 0,
    ...(report.repositoryDigest ? { repositoryDigest: report.repositoryDigest.digest } : {}),
    ...(report.repositoryPrefix !== undefined ? { repositoryPrefix: report.repositoryPrefix } : {}),
    audit: report.audit,
    host: { os: report.facts.os, arch: report.facts.arch },
    ...(report.auditStatus ? { auditStatus: report.auditStatus } : {}),
    ...(report.softwareArea ? { softwareArea: report.softwareArea } : {}),
    ...notes,
  };
}

/** When the job broke the site lock of another job: says whose, and why, for the progress log. */
export function brokenLockNote(report: SiteReport): string | undefined {
  const lock = report.lock;
  if (lock?.state !== 'broken-stale' && lock?.state !== 'broken-ended') return undefined;
  const why =
    lock.state === 'broken-ended'
      ? 'the backend reported that job ended'
      : 'it showed no heartbeat for longer than lockStaleAfter';
  return `broke the site lock of ${lockOwner(report)}: ${why}`;
}

/** The lock's holder in words (job, host, pid, when taken, heartbeat age); site text, so made printable. */
function lockOwner(report: SiteReport): string {
  const lock = report.lock;
  if (!lock || lock.state === 'acquired') return 'unknown owner';
  return printable(describeLockOwner(lock.owner, lock.holder), 300);
}
