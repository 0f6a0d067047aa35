/**
 * One reconcile step for one site, in the spirit of controller-runtime's Reconcile(request) -> Result: observe (or
 * reuse a fresh observation), plan, apply, and verify from the apply job's own post-state. The step never throws:
 * its result says whether the site converged, failed for good, or should be tried again (and may say when). The
 * caller (converge now, watch next) owns attempts, backoff and the queue. Probe, plan, apply and the verdict on the
 * post-state are the engine's own functions (src/reconcile/engine.ts, plan.ts).
 */
import type { SyncState } from '../model/events.js';
import { applySite, observeSite, type SiteApplyResult } from '../reconcile/engine.js';
import type { KnownObservation, Observation } from '../reconcile/observation.js';
import { buildPlan, type Plan, type SitePlan, sitesFailingAudit } from '../reconcile/plan.js';
import { announce, type JobContext } from '../reconcile/run-job.js';
import type { DesiredState } from '../spec/types.js';
import { classifyApply, classifyObservation, type Failure } from './classify.js';
import type { Clock } from './clock.js';

export interface StepContext {
  /** The job runner's context; its `events` sink gets the step's events too. */
  jobs: JobContext;
  /** Recorded in every plan the step makes. */
  planMeta: { specFile: string; specDigest: string };
  clock: Clock;
  /** A recorded observation younger than this is used instead of a probe job (converge --max-age). */
  maxObservationAgeMs?: number;
  /** Once aborted, the step submits no further job (timeout, shutdown); one under way runs to its end. */
  signal?: AbortSignal;
  /** Probe and plan, never apply (watch --observe-only): a site with changes ends the step as `drifted`. */
  observeOnly?: boolean;
}

export interface StepInput {
  desired: DesiredState;
  /**
   * A known observation the caller knows to be fresh: the post-state of this site's previous step in the same run.
   * Used as is, without a probe job.
   */
  observation?: Observation;
}

export type StepOutcome =
  /** The site holds what the spec says, verified from a job's report. */
  | 'converged'
  /** Try again: the failure may pass (see `requeueAfterMs`, else the caller's backoff). */
  | 'retry'
  /** Needs a person: a refused (blocked) plan, bad input, credentials, a failing audit under policy fail. */
  | 'failed'
  /** Needs a person, and the site could not be observed (no pkgsrc, a foreign package database). */
  | 'unknown'
  /** Observe-only: the site differs from the spec, and nothing was applied. */
  | 'drifted';

export interface StepResult {
  outcome: StepOutcome;
  sync: SyncState;
  /** Why the site did not converge; empty when it did. Raw text from sites and jobs. */
  message: string;
  /** Come back after this long whatever the backoff says (0: at once, e.g. after a stale plan). */
  requeueAfterMs?: number;
  /** The newest known observation of the site after this step, for the caller to pass to the next step. */
  observation?: KnownObservation;
  /** Ids of the jobs this step ran or re-attached to, in order. */
  jobs: string[];
}

export async function reconcileSite(input: StepInput, ctx: StepContext): Promise<StepResult> {
  const { desired } = input;
  const jobs: string[] = [];
  const observed = await observe(input, ctx);
  if (observed.jobId !== undefined) jobs.push(observed.jobId);
  // A job that could not run at all (credentials, a refused submission) failed; a site it could not see is unknown.
  if (observed.failure)
    return failureResult(
      observed.failure,
      'unknown',
      jobs,
      undefined,
      observed.thrown ? 'failed' : 'unknown',
    );
  const { observation } = observed;

  const plan = buildPlan([desired], [observation], ctx.planMeta);
  const site = plan.sites[0] as SitePlan;
  announce(ctx.jobs, {
    type: 'planned',
    site: desired.site,
    outcome: site.outcome,
    actions: site.actions.length,
    reasons: site.reasons,
  });
  const message = site.reasons.join('; ');
  switch (site.outcome) {
    case 'blocked':
      return { outcome: 'failed', sync: 'drifted', message: `blocked: ${message}`, observation, jobs };
    case 'unknown':
      // A known observation with parts gridpkg cannot judge (a repository it could not read): look again later.
      return { outcome: 'retry', sync: 'unknown', message, jobs };
    case 'in-sync':
      return verdictInSync(plan, observation, jobs);
    case 'changes':
      break;
  }
  if (ctx.observeOnly) {
    const pending = `${site.actions.length} change(s) pending, not applied (observe-only)`;
    return {
      outcome: 'drifted',
      sync: 'drifted',
      message: message ? `${pending}: ${message}` : pending,
      observation,
      jobs,
    };
  }
  // Changes the site cannot take (a software area the job's account cannot write): refused, as plan refuses them.
  if (site.actions.length === 0)
    return { outcome: 'failed', sync: 'drifted', message: `refused: ${message}`, observation, jobs };
  if (ctx.signal?.aborted) return stopped(jobs, observation);

  const applied = await applySite(ctx.jobs, plan.id, site);
  if (applied.jobId !== undefined) jobs.push(applied.jobId);
  announce(ctx.jobs, {
    type: 'applied',
    site: desired.site,
    status: applied.status,
    jobId: applied.jobId,
    message: applied.message,
    remaining: applied.remaining ?? [],
  });
  return verdictAfterApply(desired, applied, observation, jobs, ctx);
}

interface Observed {
  observation: KnownObservation;
  jobId?: string;
  failure?: undefined;
}

interface NotObserved {
  failure: Failure;
  jobId?: string;
  /** The probe job could not run or be followed (an exception), as opposed to a job that could not see the site. */
  thrown: boolean;
}

async function observe(input: StepInput, ctx: StepContext): Promise<Observed | NotObserved> {
  const site = input.desired.site;
  const reused = input.observation?.state === 'known' ? input.observation : await recorded(site, ctx);
  if (reused) {
    announce(ctx.jobs, {
      type: 'observed',
      site,
      state: 'known',
      reused: true,
      jobId: reused.jobId,
      observedAt: reused.observedAt,
    });
    return { observation: reused };
  }
  if (ctx.signal?.aborted) return { failure: { retryable: true, message: STOPPED }, thrown: false };
  const probe = await observeSite(ctx.jobs, input.desired);
  const { observation } = probe;
  announce(ctx.jobs, {
    type: 'observed',
    site,
    state: observation.state,
    reused: false,
    jobId: observation.jobId,
    observedAt: observation.observedAt,
    ...(observation.state === 'unknown' ? { reason: observation.reason } : {}),
  });
  const jobId = probe.result?.jobId;
  const failure = classifyObservation(probe);
  if (failure || observation.state !== 'known') {
    return {
      failure: failure ?? { retryable: true, message: 'not observed' },
      thrown: probe.error !== undefined,
      ...(jobId ? { jobId } : {}),
    };
  }
  return { observation, ...(jobId ? { jobId } : {}) };
}

/** The site's recorded observation when it is known and younger than --max-age; a file that cannot be used is not. */
async function recorded(site: string, ctx: StepContext): Promise<KnownObservation | undefined> {
  if (ctx.maxObservationAgeMs === undefined) return undefined;
  return ctx.jobs.observations.loadRecent(site, ctx.maxObservationAgeMs, ctx.clock.now());
}

/** In sync; but a site whose spec makes vulnerable packages an error (policy fail) has not converged. */
function verdictInSync(plan: Plan, observation: KnownObservation, jobs: string[]): StepResult {
  const failing = sitesFailingAudit(plan)[0];
  if (failing)
    return { outcome: 'failed', sync: 'in-sync', message: auditMessage(failing), observation, jobs };
  return { outcome: 'converged', sync: 'in-sync', message: '', observation, jobs };
}

function verdictAfterApply(
  desired: DesiredState,
  applied: SiteApplyResult,
  plannedFrom: KnownObservation,
  jobs: string[],
  ctx: StepContext,
): StepResult {
  const after = applied.result?.observation;
  const postState = after?.state === 'known' ? after : undefined;
  if (applied.status === 'ok' && postState) {
    const again = buildPlan([desired], [postState], ctx.planMeta);
    return verdictInSync(again, postState, jobs);
  }
  const failure = classifyApply(applied) ?? { retryable: true, message: applied.message };
  switch (applied.status) {
    case 'stale':
      // The site changed since it was observed: plan again at once from the job's report of it.
      return { ...failureResult(failure, 'drifted', jobs, postState), requeueAfterMs: 0 };
    case 'locked':
      // Another job held the site: it did nothing, so the observation planned from still stands (the fingerprint
      // protects the next apply if the other job changed the site).
      return failureResult(failure, 'drifted', jobs, plannedFrom);
    case 'partial':
    case 'not-converged':
      return failureResult(failure, 'drifted', jobs, postState);
    default:
      return failureResult(failure, 'unknown', jobs, postState);
  }
}

function failureResult(
  failure: Failure,
  sync: SyncState,
  jobs: string[],
  observation: KnownObservation | undefined,
  terminal: 'failed' | 'unknown' = 'failed',
): StepResult {
  return {
    outcome: failure.retryable ? 'retry' : terminal,
    sync,
    message: failure.message,
    jobs,
    ...(observation ? { observation } : {}),
  };
}

const STOPPED = 'stopped before submitting a job';

function stopped(jobs: string[], observation: KnownObservation): StepResult {
  return { outcome: 'retry', sync: 'drifted', message: STOPPED, observation, jobs };
}

function auditMessage(site: SitePlan): string {
  if (site.audit.length > 0) {
    const names = [...new Set(site.audit.map((finding) => finding.pkgname))].join(', ');
    return `vulnerable packages under vulnerabilities.policy fail: ${names}`;
  }
  return `the vulnerability audit did not run (${site.auditNotRun?.message ?? 'no list'}), and vulnerabilities.policy is fail`;
}
