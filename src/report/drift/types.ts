/**
 * The drift report's vocabulary (schemas/drift-report.schema.json describes the same document): what ./model.ts
 * builds and every renderer reads. Text in it is raw, from sites, jobs and the spec.
 */
import type { ActionOutcome } from '../../grid/protocol/types.js';
import type { Observation } from '../../reconcile/observation.js';
import type { Plan } from '../../reconcile/plan.js';
import type { SourceLocation } from '../../spec/types.js';
import type { FinishedEntry } from '../../state/ledger.js';
import type { SiteStatus } from '../../state/site-status.js';

/** Bumped when a field changes meaning or disappears; new optional fields do not bump it. */
export const DRIFT_REPORT_SCHEMA_VERSION = 1;

export type SiteSync = 'in-sync' | 'drifted' | 'unknown';

/** The site's health as the last converge recorded it (`gridpkg status`), or `unrecorded`. */
export type SiteHealth = 'healthy' | 'progressing' | 'degraded' | 'stalled' | 'unrecorded';

export type DriftKind =
  /** A required package is not installed. */
  | 'missing'
  /** Installed, but not a version the spec accepts (or not the newest, for `latest`). */
  | 'wrong-version'
  /** Installed, but the spec says absent. */
  | 'must-be-absent'
  /** Installed by hand (not automatic) and named nowhere in the spec; drift only where the site prunes. */
  | 'not-declared'
  /** The site has no pkgsrc under its prefix. */
  | 'pkgsrc-missing'
  /** The site's pkg_install is older than the repository's packages need. */
  | 'pkgsrc-too-old'
  /** The vulnerability audit names the installed package. */
  | 'vulnerable'
  /** The audit could not run: no vulnerabilities is not known. */
  | 'audit-not-run'
  /** Drift an ignore rule of the spec leaves alone. */
  | 'ignored'
  /** A change gridpkg refuses to make (it would break a package that stays, no candidate fits, ...). */
  | 'blocked'
  /** gridpkg cannot tell (an installed package without PKGPATH that could be this one). */
  | 'unknown';

/** What an item does to the site's verdict: drift, a warning, information, or "cannot tell". */
export type ItemSeverity = 'drift' | 'warning' | 'info' | 'unknown';

export interface DriftItem {
  kind: DriftKind;
  severity: ItemSeverity;
  pkgpath?: string;
  /** The installed PKGNAME. */
  installed?: string;
  /** What the spec wants: a pkg_match pattern, `latest`, `absent`, or `any version`. */
  wanted?: string;
  /** The PKGNAME a plan would install or replace it by. */
  target?: string;
  /** Why (blocked, unknown, pkgsrc), or what the change was needed by. */
  reason?: string;
  advisories?: Array<{ type: string; url: string }>;
  ignore?: { reason: string; until?: string; rule?: SourceLocation };
  /** The spec line that declares what this item is measured against. */
  source?: SourceLocation;
}

/** One requirement of the spec against the site: the JUnit test case. */
export interface RequirementCheck {
  pkgpath: string;
  wanted: string;
  result: 'ok' | 'drift' | 'unknown' | 'ignored';
  installed?: string;
  /** The drift items of this requirement (kind and reason), in words for a one-line message. */
  message?: string;
  source: SourceLocation;
}

export interface HistoryEntry {
  jobId: string;
  mode: 'probe' | 'apply';
  finishedAt: string;
  /** The backend's end state of the job (done, failed, lost, ...). */
  jobState: string;
  /** The job report's status (ok, partial, locked, stale, error), when there was a report. */
  reportStatus?: string;
  /** An apply job carrying out a saved plan. */
  planId?: string;
  /**
   * Why an apply job ran: `spec-change` when the site's desired state differed from the one of its previous apply
   * job, `drift-correction` when it was the same (the site had drifted from it). Absent when there is no earlier
   * apply job to compare with, or for jobs recorded before gridpkg kept the desired state's digest.
   */
  cause?: 'spec-change' | 'drift-correction';
  detail?: string;
  /** What an apply job did, from its saved report: each action and how it ended. */
  actions?: Array<{ verb: string; pkgpath: string; pkgname: string; result: string }>;
}

/** A finished job of the ledger, with the actions its saved report lists (apply jobs). */
export type RecordedJob = FinishedEntry & { actions?: readonly ActionOutcome[] };

export interface SiteDrift {
  site: string;
  sync: SiteSync;
  health: SiteHealth;
  /** Why the site is unknown (stale observation, failed probe, locked site, ...). */
  unknownReason?: string;
  observation?: {
    at: string;
    byJob?: string;
    ageSeconds: number;
    /** Probed by this run, or a recorded observation younger than the age limit. */
    source: 'probed' | 'recorded';
  };
  labels: string[];
  items: DriftItem[];
  requirements: RequirementCheck[];
  /** What the site job noted and skipped while observing. */
  notes: string[];
  history: HistoryEntry[];
  /** Since when the site has been drifted / in sync, as the last converge recorded (status/SITE.json). */
  lastDriftedAt?: string;
  lastConvergedAt?: string;
}

export type CellState =
  | 'ok'
  | 'missing'
  | 'wrong-version'
  | 'must-be-absent'
  | 'absent'
  | 'not-declared'
  | 'not-required'
  | 'ignored'
  | 'blocked'
  | 'unknown';

export interface MatrixCell {
  state: CellState;
  installed?: string;
  vulnerable?: boolean;
}

export interface MatrixRow {
  pkgpath: string;
  /** One per site of `matrix.sites`, in its order; null where the site neither requires nor holds the package. */
  cells: Array<MatrixCell | null>;
}

export interface VulnerabilityEntry {
  pkgname: string;
  pkgpath?: string;
  type: string;
  url: string;
  /** pkg_admin audit's `eol` type: the package is past its end of life. */
  endOfLife: boolean;
  sites: string[];
}

export interface DriftSummary {
  sites: number;
  inSync: number;
  drifted: number;
  unknown: number;
  /** Distinct PKGPATHs in the matrix. */
  packages: number;
  /** Distinct vulnerable PKGNAMEs across the sites. */
  vulnerablePackages: number;
  /** Drift items of severity drift, over all sites. */
  driftItems: number;
}

export interface DriftReport {
  schemaVersion: typeof DRIFT_REPORT_SCHEMA_VERSION;
  generatedAt: string;
  specFile: string;
  /** Observations older than this counted as unknown; absent: every observation was made by this run. */
  maxAgeSeconds?: number;
  summary: DriftSummary;
  sites: SiteDrift[];
  matrix: { sites: string[]; rows: MatrixRow[] };
  vulnerabilities: VulnerabilityEntry[];
}

export interface DriftInputs {
  /** The plan of the selected sites, from the observations below (buildPlan). */
  plan: Plan;
  /** The observation each site's plan was computed from, with where it came from. */
  observations: ReadonlyMap<string, { observation: Observation; source: 'probed' | 'recorded' }>;
  statuses?: ReadonlyMap<string, SiteStatus | undefined>;
  /** Finished jobs per site, newest first. */
  history?: ReadonlyMap<string, readonly RecordedJob[]>;
  /** Now, in milliseconds since 1970. */
  now: number;
  maxAgeMs?: number;
}
