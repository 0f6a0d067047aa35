/**
 * The controller's loop for one run: probe every site (one probe job each, sites in parallel), plan, and apply one
 * job per site that needs changes. Sites run in parallel up to a bound; a site never has two jobs at once.
 */
import pLimit from 'p-limit';
import type { ReportStatus } from '../grid/protocol/types.js';
import type { DesiredState } from '../spec/types.js';
import { FileError } from '../state/fs-errors.js';
import type { Observation } from './observation.js';
import { buildPlan, type Plan, type SitePlan } from './plan.js';
import { type JobContext, type JobResult, runSiteJob } from './run-job.js';

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
    sites.map((desired) =>
      limit(async () => {
        context.progress(desired.site, 'probing');
        try {
          return (await runSiteJob(context, desired, 'probe')).observation;
        } catch (error) {
          return failedObservation(desired.site, error);
        }
      }),
    ),
  );
}

export async function planSites(
  context: JobContext,
  sites: readonly DesiredState[],
  options: EngineOptions & { specFile: string; specDigest: string },
): Promise<Plan> {
  const observations = await observeSites(context, sites, options);
  return buildPlan(sites, observations, { specFile: options.specFile, specDigest: options.specDigest });
}

export type ApplyStatus = ReportStatus | 'unknown' | 'not-run';

export interface SiteApplyResult {
  site: string;
  status: ApplyStatus;
  message: string;
  jobId?: string;
  result?: JobResult;
}

export async function applyPlan(
  context: JobContext,
  plan: Plan,
  options: EngineOptions,
): Promise<SiteApplyResult[]> {
  const limit = pLimit(options.concurrency);
  const drifted = plan.sites.filter((site) => site.outcome === 'changes');
  return Promise.all(drifted.map((site) => limit(() => applySite(context, site))));
}

async function applySite(context: JobContext, site: SitePlan): Promise<SiteApplyResult> {
  context.progress(site.site, `applying ${site.actions.length} action(s)`);
  try {
    const result = await runSiteJob(context, site.desired, 'apply', {
      actions: site.actions,
      ...(site.fingerprint ? { expectFingerprint: site.fingerprint } : {}),
    });
    if (!result.report.ok) {
      const reason =
        result.observation.state === 'unknown' ? result.observation.reason : result.report.problem.message;
      return { site: site.site, status: 'unknown', message: reason, jobId: result.jobId, result };
    }
    const { status, statusMessage } = result.report.report;
    return { site: site.site, status, message: statusMessage, jobId: result.jobId, result };
  } catch (error) {
    return { site: site.site, status: 'error', message: errorMessage(error) };
  }
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
