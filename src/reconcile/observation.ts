/** What gridpkg believes a site holds, taken from the last trustworthy job report. */
import { describeLockOwner } from '../grid/protocol/lock-owner.js';
import type {
  AuditFinding,
  AvailablePackage,
  Dependency,
  InstalledPackage,
  PkgsrcResult,
  SiteReport,
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
  audit: AuditFinding[];
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
    return unknown(
      `pkgsrc is not installed under ${report.pkgsrc.prefix} (bootstrapping is not implemented yet)`,
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
    audit: report.audit,
    host: { os: report.facts.os, arch: report.facts.arch },
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
