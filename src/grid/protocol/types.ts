/** Data model of the site job protocol, version 1 (docs/site-job-protocol.md). */

export const PROTOCOL_VERSION = 1;

/** The lines around the report when the script echoes it on stdout (for backends that only return stdout). */
export const REPORT_BEGIN_MARKER = '==== gridpkg-report begin ====';
export const REPORT_END_MARKER = '==== gridpkg-report end ====';

export type JobMode = 'probe' | 'apply';
/**
 * `upgrade-pkg_install`: `pkg_add -u` of pkgsrc's own pkg_install (pkgsrc.minPkgInstall); only ever the first
 * action of a job, and when it fails the job runs no other action (they were planned for the new pkg_install).
 */
export type ActionVerb = 'install' | 'upgrade' | 'downgrade' | 'remove' | 'upgrade-pkg_install';

/** One step the site job performs, in order. `pkgname` is the exact package to add, or the installed one to delete. */
export interface SiteAction {
  verb: ActionVerb;
  pkgpath: string;
  pkgname: string;
  /** For install, upgrade, downgrade: the package's FILE_NAME in the repository (pkg_summary), when it gave one. */
  file?: string;
  /** An install the plan makes only because another package needs it: pkg_add would mark it automatic. */
  automatic?: boolean;
}

export interface SiteRequest {
  jobId: string;
  mode: JobMode;
  vo?: string;
  swdir?: string;
  prefix?: string;
  /** PKG_PATH: an absolute path on the site, or an http://, https:// or ftp:// URL (tokens.ts isRepository). */
  repository?: string;
  lockStaleSeconds?: number;
  expectFingerprint?: string;
  /**
   * Jobs of this site the backend reported ended (done, failed, cancelled): a site lock one of them still holds
   * was left by a killed job and is broken at once (`lock broken-ended`). Never a job the controller merely lost.
   */
  endedJobs?: string[];
  /**
   * Digests (`sha256:HEX`) of the repository listings the controller holds: when the job's listing has one of them,
   * it reports the digest alone instead of every `avail` line.
   */
  knownListings?: string[];
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

/**
 * One package the repository offers, from its pkg_summary record. The fields after PKGPATH come from the long
 * `avail` line; a report of the short form (or a record without them) leaves them undefined.
 */
export interface AvailablePackage {
  pkgname: string;
  pkgpath: string;
  /** FILE_NAME: the package file in the repository directory. */
  fileName?: string;
  /** PKGTOOLS_VERSION: the pkg_install version the package was built with (pkg_add refuses newer than its own). */
  pkgtoolsVersion?: string;
  /** OPSYS and MACHINE_ARCH the package was built for. */
  opsys?: string;
  machineArch?: string;
  /** DEPENDS patterns, in order; undefined when the report did not say (short `avail` line). */
  depends?: string[];
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

/** The job that holds (or held) a site lock, read from its owner line `JOBID HOST PID EPOCH [heartbeat AGE]`. */
export interface LockHolder {
  jobId: string;
  host: string;
  pid: number;
  /** When the lock was taken: seconds since 1970 by the holder's clock. */
  takenAt: number;
  /** Seconds since its last heartbeat, by the reading job's clock; undefined when it has none. */
  heartbeatAgeSeconds: number | undefined;
}

/** A lock found taken: kept (`busy`), or broken because its holder stopped beating (`stale`) or has ended. */
export type LockFoundState = 'busy' | 'broken-stale' | 'broken-ended';

export type LockResult =
  | { state: 'acquired' }
  | {
      state: LockFoundState;
      /** The owner as the report gives it (free text). */
      owner: string;
      /** The owner's fields, when its text is a well-formed owner line. */
      holder?: LockHolder;
    };

export type PkgsrcResult =
  | { state: 'present'; prefix: string; version: string }
  | { state: 'absent'; prefix: string }
  /**
   * pkg_install under the prefix uses a package database outside it (PKG_DBDIR is compiled in: a copied or moved
   * prefix keeps the original's): the job refused to read or change it.
   */
  | { state: 'foreign-pkgdb'; prefix: string; pkgdb: string };

/**
 * Whether the software area stays writable for the VO (the report's `software-area` line): can this job's account
 * create files in the prefix and its package database, and how many of their directories (and files pkg_add
 * rewrites in place) are not group-writable, so that another pool account of the VO's group could not change them.
 */
export interface SoftwareAreaAccess {
  writable: boolean;
  notGroupWritable: number;
  /** The first path that is not group-writable (free text), when there is one. */
  example: string | undefined;
}

/** A fully parsed, trustworthy site report. */
export interface SiteReport {
  protocol: 1;
  jobId: string | undefined;
  mode: JobMode | undefined;
  facts: Record<string, string>;
  swdir: string | undefined;
  lock: LockResult | undefined;
  pkgsrc: PkgsrcResult | undefined;
  /** Absent in reports that do not check it (the script writes it whenever pkgsrc is present). */
  softwareArea?: SoftwareAreaAccess;
  fingerprintBefore: string | undefined;
  fingerprintAfter: string | undefined;
  actions: ActionOutcome[];
  installed: InstalledPackage[];
  dependencies: Dependency[];
  available: AvailablePackage[];
  /** The prefix the repository's packages are built for (`repository-prefix`), when the job could tell. */
  repositoryPrefix?: string;
  /**
   * The `repository-digest` line: the sha256 of the job's listing (its `avail` lines), and whether the lines were
   * `sent` (then `available` holds them, checked against the digest) or left out as `known` to the controller.
   */
  repositoryDigest: { digest: string; listing: 'sent' | 'known' } | undefined;
  auditStatus: { status: AuditStatus; message: string } | undefined;
  audit: AuditFinding[];
  /** `note` lines: things the script noticed and skipped (an unsafe pkgdb entry, an unreadable repository). */
  notes: string[];
  status: ReportStatus;
  statusMessage: string;
}

/** Why a report could not be trusted: the controller then treats the site as unknown. */
export interface ReportProblem {
  line: number | undefined;
  message: string;
}

export type ParsedReport = { ok: true; report: SiteReport } | { ok: false; problem: ReportProblem };
