/** Data model of the site job protocol, version 1 (docs/site-job-protocol.md). */

export const PROTOCOL_VERSION = 1;

export type JobMode = 'probe' | 'apply';
export type ActionVerb = 'install' | 'upgrade' | 'downgrade' | 'remove';

/** One step the site job performs, in order. `pkgname` is the exact package to add, or the installed one to delete. */
export interface SiteAction {
  verb: ActionVerb;
  pkgpath: string;
  pkgname: string;
}

export interface SiteRequest {
  jobId: string;
  mode: JobMode;
  vo?: string;
  swdir?: string;
  prefix?: string;
  repository?: string;
  lockStaleSeconds?: number;
  expectFingerprint?: string;
  actions: SiteAction[];
}

export type ReportStatus = 'ok' | 'partial' | 'locked' | 'stale' | 'error';
export type ActionResult = 'ok' | 'skipped' | 'failed';
export type AuditStatus = 'clean' | 'vulnerable' | 'no-list' | 'skipped';

export interface InstalledPackage {
  pkgname: string;
  /** PKGPATH from +BUILD_INFO, or undefined when the package does not record one. */
  pkgpath: string | undefined;
  automatic: boolean;
}

export interface AvailablePackage {
  pkgname: string;
  pkgpath: string;
}

export interface Dependency {
  pkgname: string;
  pattern: string;
}

export interface ActionOutcome extends SiteAction {
  index: number;
  result: ActionResult;
  message: string;
}

export interface AuditFinding {
  pkgname: string;
  type: string;
  url: string;
}

export type LockResult =
  | { state: 'acquired' }
  | { state: 'busy'; owner: string }
  | { state: 'broken-stale'; owner: string };

export type PkgsrcResult =
  | { state: 'present'; prefix: string; version: string }
  | { state: 'absent'; prefix: string };

/** A fully parsed, trustworthy site report. */
export interface SiteReport {
  protocol: 1;
  jobId: string | undefined;
  mode: JobMode | undefined;
  facts: Record<string, string>;
  swdir: string | undefined;
  lock: LockResult | undefined;
  pkgsrc: PkgsrcResult | undefined;
  fingerprintBefore: string | undefined;
  fingerprintAfter: string | undefined;
  actions: ActionOutcome[];
  installed: InstalledPackage[];
  dependencies: Dependency[];
  available: AvailablePackage[];
  auditStatus: { status: AuditStatus; message: string } | undefined;
  audit: AuditFinding[];
  status: ReportStatus;
  statusMessage: string;
}

/** Why a report could not be trusted: the controller then treats the site as unknown. */
export interface ReportProblem {
  line: number | undefined;
  message: string;
}

export type ParsedReport = { ok: true; report: SiteReport } | { ok: false; problem: ReportProblem };
