/**
 * The controller's loop for one run: probe every site (one probe job each, sites in parallel), plan, and apply one
 * job per site that needs changes. Sites run in parallel up to a bound; a site never has two jobs at once.
 */
import pLimit from 'p-limit';
import { parseReport } from '../grid/protocol/index.js';
import type { ParsedReport, ReportStatus } from '../grid/protocol/types.js';
import type { DesiredState } from '../spec/types.js';
import { FileError } from '../state/fs-errors.js';
import type { FinishedEntry } from '../state/ledger.js';
import { type Observation, observationFromReport } from './observation.js';
import { buildPlan, type Plan, planSite, type SitePlan } from './plan.js';
import { applyPlannedSite, type JobContext, type JobResult, runSiteJob } from './run-job.js';

export interface EngineOptions {
  concurrency: number;
}

export async function observeSites(
  context: JobContext,
  sites: readonly DesiredState[],
  options: EngineOptions,
): Promise<Observation[]> {
  const limit = pLimit(options.concurrency);
  return Promise.all(
    sites.map((desired) => limit(async () => (await observeSite(context, desired)).observation)),
  );
}

/** One site's probe: its observation, with the job's result, or the error that kept the job from running. */
export interface SiteObservation {
  observation: Observation;
  result?: JobResult;
  error?: unknown;
}

export async function observeSite(context: JobContext, desired: DesiredState): Promise<SiteObservation> {
  context.progress(desired.site, 'probing');
  try {
    const result = await runSiteJob(context, desired, 'probe');
    return { observation: result.observation, result };
  } catch (error) {
    return { observation: failedObservation(desired.site, error), error };
  }
}

export async function planSites(
  context: JobContext,
  sites: readonly DesiredState[],
  options: EngineOptions & { specFile: string; specDigest: string },
): Promise<Plan> {
  const observations = await observeSites(context, sites, options);
  return buildPlan(sites, observations, { specFile: options.specFile, specDigest: options.specDigest });
}

/** A job's report status, or: `not-converged` (the job said ok, its post-state still differs from the spec). */
export type ApplyStatus = ReportStatus | 'unknown' | 'not-run' | 'not-converged';

export interface SiteApplyResult {
  site: string;
  status: ApplyStatus;
  message: string;
  jobId?: string;
  result?: JobResult;
  /** What still differs from the spec after the job (planning again against its post-state); empty: converged. */
  remaining?: string[];
  /** Set when an earlier run's job had already carried out this plan for the site: nothing was submitted now. */
  appliedBefore?: { finishedAt: string };
  /** The error that kept the job from running or being followed (status `error`), for deciding whether to retry. */
  error?: unknown;
}

export async function applyPlan(
  context: JobContext,
  plan: Plan,
  options: EngineOptions,
): Promise<SiteApplyResult[]> {
  const limit = pLimit(options.concurrency);
  const drifted = plan.sites.filter((site) => site.outcome === 'changes');
  return Promise.all(drifted.map((site) => limit(() => applySite(context, plan.id, site))));
}

/** One site's part of a plan: its apply job (or an earlier run's), judged against the job's post-state. */
export async function applySite(
  context: JobContext,
  planId: string,
  site: SitePlan,
): Promise<SiteApplyResult> {
  context.progress(site.site, `applying ${site.actions.length} action(s)`);
  try {
    const outcome = await applyPlannedSite(context, site.desired, planId, {
      actions: site.actions,
      ...(site.fingerprint ? { expectFingerprint: site.fingerprint } : {}),
    });
    if (outcome.kind === 'applied-before') return await appliedBefore(context, site, outcome.entry);
    const { result } = outcome;
    return {
      site: site.site,
      jobId: result.jobId,
      result,
      ...judge(site, result.report, result.observation),
    };
  } catch (error) {
    return { site: site.site, status: 'error', message: errorMessage(error), error };
  }
}

/**
 * Whether a site converged is decided by planning again against the apply job's own post-state, never by the
 * tools' exit codes: a pkg_add that exits 0 and installs nothing leaves the site not converged.
 */
function judge(
  site: SitePlan,
  report: ParsedReport,
  observation: Observation,
): Pick<SiteApplyResult, 'status' | 'message' | 'remaining'> {
  if (!report.ok) {
    return {
      status: 'unknown',
      message: observation.state === 'unknown' ? observation.reason : report.problem.message,
    };
  }
  const { status, statusMessage } = report.report;
  // Stale and locked jobs did nothing: their post-state says nothing about the plan.
  if (status === 'stale' || status === 'locked') return { status, message: statusMessage };
  if (observation.state === 'unknown') {
    return { status: status === 'ok' ? 'unknown' : status, message: observation.reason };
  }
  const again = planSite(site.desired, observation);
  if (again.outcome === 'in-sync') return { status: 'ok', message: statusMessage, remaining: [] };
  return {
    status: status === 'ok' ? 'not-converged' : status,
    message: statusMessage,
    remaining: remainingDifferences(again),
  };
}

/** The changes a plan against the post-state still finds, one short phrase each. */
function remainingDifferences(plan: SitePlan): string[] {
  return plan.changes
    .filter((change) => change.kind !== 'unchanged')
    .map((change) => {
      const versions =
        change.from && change.to ? `${change.from} -> ${change.to}` : (change.to ?? change.from ?? '');
      const detail = change.kind === 'unknown' || change.kind === 'blocked' ? `: ${change.reason ?? ''}` : '';
      return `${change.kind} ${change.pkgpath}${versions ? ` (${versions})` : ''}${detail}`;
    });
}

/** A plan re-run for a site whose part an earlier job already carried out: its outcome, from its saved report. */
async function appliedBefore(
  context: JobContext,
  site: SitePlan,
  entry: FinishedEntry,
): Promise<SiteApplyResult> {
  const base = { site: site.site, jobId: entry.jobId, appliedBefore: { finishedAt: entry.finishedAt } };
  const text = await context.observations.loadReport(entry.jobId);
  const report = text === undefined ? undefined : parseReport(text);
  if (!report?.ok) {
    const why = entry.detail ?? `the job ended ${entry.jobState} without a readable report`;
    return { ...base, status: 'unknown', message: `its outcome is unknown (${why}); run \`gridpkg plan\`` };
  }
  const observation = observationFromReport(site.site, report.report, entry.finishedAt);
  return { ...base, ...judge(site, report, observation) };
}

function failedObservation(site: string, error: unknown): Observation {
  return {
    state: 'unknown',
    site,
    observedAt: new Date().toISOString(),
    jobId: undefined,
    // A state file that could not be written (a full disk) is not the job's fault: say what failed.
    reason: error instanceof FileError ? error.message : `probe job could not run: ${errorMessage(error)}`,
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
