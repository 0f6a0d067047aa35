/**
 * One job on one site, from lease to parsed report: re-attach to a job another controller left behind, record the
 * intent, submit, wait for the end (./status-poller.ts polls, shared with other jobs of the same batch system or
 * CE), fetch, parse, complete the lease. Everything that waits lives here.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { GridBackend, JobHandle, JobOutput, JobState } from '../grid/backend.js';
import { requireValidProxy } from '../grid/credentials.js';
import { MAX_OUTPUT_BYTES } from '../grid/job-files.js';
import { encodeRequest, extractReportFromStdout, parseReport } from '../grid/protocol/index.js';
import type { JobMode, ParsedReport, SiteAction, SiteReport } from '../grid/protocol/types.js';
import { RetryableError } from '../model/errors.js';
import type { ControllerEvent, EventSink } from '../model/events.js';
import { describeEvent } from '../report/progress-view.js';
import { desiredDigest } from '../spec/desired-digest.js';
import type { DesiredState } from '../spec/types.js';
import {
  carriedOut,
  type FinishedEntry,
  type Ledger,
  type LedgerEntry,
  ownerAlive,
} from '../state/ledger.js';
import type { ListingStore } from '../state/listings.js';
import type { ObservationStore } from '../state/observations.js';
import { formatBytes } from '../state/read-capped.js';
import type { InFlightJobs } from './in-flight.js';
import { brokenLockNote, type Observation, observationFromReport } from './observation.js';
import type { SiteQueue } from './site-queue.js';
import { StatusPoller } from './status-poller.js';

export interface JobContext {
  backendFor(desired: DesiredState): GridBackend;
  ledger: Ledger;
  observations: ObservationStore;
  queue: SiteQueue;
  scriptPath: string;
  pollIntervalMs?: { first: number; max: number };
  /**
   * Waits for jobs to end, sharing status calls between jobs of one batch system or CE: one per controller process
   * (createJobContext makes it). Created on first use when left out.
   */
  poller?: StatusPoller;
  /** How long to wait for another live gridpkg process to submit the job it recorded (default 10 minutes). */
  submissionWaitMs?: number;
  /**
   * `-lock-timeout`: how long a job that found the site lock held by another job is submitted again (with growing
   * pauses) before the site is reported locked. Default 0: reported at once.
   */
  lockTimeoutMs?: number;
  /** How long past the job timeout to keep waiting for a backend that does not answer (default 10 minutes). */
  deadlineGraceMs?: number;
  progress(site: string, message: string): void;
  /** Typed events (job submitted, state changed, finished, notes); each is also passed to progress as a line. */
  events?: EventSink;
  /** The X.509 proxy check for backends that need one (default: requireValidProxy); replaceable in tests. */
  requireProxy?(options: ProxyCheckOptions): Promise<unknown>;
  /** Releases what backends hold open (ssh master connections); call once the run is over. */
  close?(): Promise<void>;
  /** Jobs being followed right now, for the message of an interrupted run. */
  inFlight?: InFlightJobs;
  /** Repository listings by digest: requests name them, so jobs leave a known listing out of their report. */
  listings?: ListingStore;
  /**
   * Once aborted (watch stopping), no job is submitted any more: a job under way, or one re-attached to, is still
   * followed to its end and recorded.
   */
  signal?: AbortSignal;
}

/** What the proxy check is asked for one site: its VO and job timeout, and its resolved `proxy:` settings. */
export interface ProxyCheckOptions {
  jobTimeoutSeconds: number;
  vo: string | undefined;
  /** proxy.vomsRole: the proxy must carry /<vo>/Role=<role>. */
  requiredRole: string | undefined;
  /** proxy.minValidity: seconds the proxy must stay valid beyond the job timeout. */
  marginSeconds: number;
  /** proxy.requireVoms: VOMS attributes (membership of vo) are required; default true when vo is set. */
  requireVoms: boolean;
}

export function proxyCheckOptions(desired: DesiredState): ProxyCheckOptions {
  return {
    jobTimeoutSeconds: desired.jobTimeoutSeconds,
    vo: desired.vo,
    requiredRole: desired.proxy?.vomsRole,
    marginSeconds: desired.proxy?.minValiditySeconds ?? 0,
    requireVoms: desired.proxy?.requireVoms ?? desired.vo !== undefined,
  };
}

export interface JobResult {
  jobId: string;
  jobState: JobState;
  report: ParsedReport;
  observation: Observation;
}

/** Tells the event listeners, and the progress log in words (the same words the CLI shows). */
export function announce(context: Pick<JobContext, 'events' | 'progress'>, event: ControllerEvent): void {
  context.events?.(event);
  context.progress(event.site, describeEvent(event));
}

export class SiteBusyError extends RetryableError {
  override name = 'SiteBusyError';
}

export interface SiteJobOptions {
  actions?: SiteAction[];
  expectFingerprint?: string;
}

export function runSiteJob(
  context: JobContext,
  desired: DesiredState,
  mode: JobMode,
  options: SiteJobOptions = {},
): Promise<JobResult> {
  return context.queue.run(desired.site, async () => {
    const backend = context.backendFor(desired);
    const lockedAgain = lockRetry(context, desired.site);
    for (;;) {
      await reattach(context, backend, desired);
      const result = await submitAndFollow(context, backend, desired, mode, options);
      if (result && !(await lockedAgain(result))) return result;
    }
  });
}

/** What became of one site's part of a plan. */
export type PlannedApply =
  /** An apply job carried it out now: ours, or the plan's own job left running by an earlier run (re-attached). */
  | { kind: 'ran'; result: JobResult; reattached: boolean }
  /** A job of an earlier run already carried it out and finished: nothing was submitted. */
  | { kind: 'applied-before'; entry: FinishedEntry };

/**
 * Carries out a site's part of a plan, once: the apply job records the plan's id in the ledger, so a re-run of the
 * same plan re-attaches to that job if it still runs, or finds its outcome if it ended, and submits nothing.
 */
export function applyPlannedSite(
  context: JobContext,
  desired: DesiredState,
  planId: string,
  options: SiteJobOptions,
): Promise<PlannedApply> {
  return context.queue.run(desired.site, async () => {
    const backend = context.backendFor(desired);
    const ownJob = (entry: LedgerEntry) => entry.mode === 'apply' && entry.planId === planId;
    const lockedAgain = lockRetry(context, desired.site);
    for (;;) {
      const reattached = await reattach(context, backend, desired, ownJob);
      if (reattached) return { kind: 'ran', result: reattached, reattached: true };
      const before = await context.ledger.lastJobOfPlan(planId, desired.site);
      if (before && carriedOut(before)) return { kind: 'applied-before', entry: before };
      const result = await submitAndFollow(context, backend, desired, 'apply', options, planId);
      if (result && !(await lockedAgain(result))) return { kind: 'ran', result, reattached: false };
    }
  });
}

/** Records the intent, submits and follows; undefined when another process recorded an intent first. */
async function submitAndFollow(
  context: JobContext,
  backend: GridBackend,
  desired: DesiredState,
  mode: JobMode,
  options: SiteJobOptions,
  planId?: string,
): Promise<JobResult | undefined> {
  if (context.signal?.aborted)
    throw new RetryableError(`${desired.site}: stopping; no ${mode} job submitted`);
  const jobId = newJobId(desired.site, mode);
  // Encoding validates every token: a hostile value stops here, before anything is recorded or submitted.
  const request = encodeRequest({
    jobId,
    mode,
    vo: desired.vo,
    swdir: desired.softwareArea,
    prefix: desired.prefix,
    repository: desired.repository,
    lockStaleSeconds: desired.lockStaleSeconds,
    expectFingerprint: options.expectFingerprint,
    // A site lock left by one of these (killed) jobs is broken at once, not after lockStaleAfter.
    endedJobs: await context.ledger.endedJobs(desired.site),
    ...(context.listings ? { knownListings: await context.listings.known() } : {}),
    actions: options.actions ?? [],
  });
  if (backend.needsX509Proxy) {
    // A proxy that is missing or would expire mid-job stops here: nothing recorded, nothing submitted.
    await (context.requireProxy ?? requireValidProxy)(proxyCheckOptions(desired));
  }
  const intent = await context.ledger.recordIntent({
    jobId,
    site: desired.site,
    mode,
    backend: backend.kind,
    ...(planId !== undefined ? { planId } : {}),
    ...(mode === 'apply' ? { desiredDigest: desiredDigest(desired) } : {}),
  });
  // Another gridpkg got the site between our look at the ledger and now: the caller re-attaches to its job.
  if (!intent) return undefined;
  let entry: LedgerEntry = intent;
  context.inFlight?.track(entry);
  try {
    const handle = await backend.submit({
      jobId,
      site: desired.site,
      scriptPath: context.scriptPath,
      request,
      timeoutSeconds: desired.jobTimeoutSeconds,
    });
    entry = await context.ledger.recordSubmitted(entry, handle.backendId);
    context.inFlight?.track(entry);
    announce(context, { type: 'job-submitted', site: desired.site, jobId, mode });
    return await follow(context, backend, entry, handle, desired.jobTimeoutSeconds);
  } catch (error) {
    if (entry.phase === 'intent') {
      await context.ledger.complete(entry, {
        finishedAt: new Date().toISOString(),
        jobState: 'not-submitted',
        detail: String(error),
      });
    }
    throw error;
  } finally {
    context.inFlight?.untrack(jobId);
  }
}

/** First pause before a job that found the site locked is submitted again; it doubles up to the maximum. */
const LOCK_RETRY_FIRST_MS = 2000;
const LOCK_RETRY_MAX_MS = 60_000;

/**
 * `-lock-timeout`: returns a check that, for a job that found the site lock held, waits and answers true (submit
 * again) until the timeout is used up. The pause happens inside the site's queue, so the site still never has two
 * jobs of this process at once.
 */
function lockRetry(context: JobContext, site: string): (result: JobResult) => Promise<boolean> {
  const until = Date.now() + (context.lockTimeoutMs ?? 0);
  let pause = LOCK_RETRY_FIRST_MS;
  return async (result) => {
    if (!result.report.ok || result.report.report.status !== 'locked') return false;
    const left = until - Date.now();
    if (left <= 0) return false;
    const wait = Math.min(pause, left);
    pause = Math.min(pause * 2, LOCK_RETRY_MAX_MS);
    // An event, not only a log line: converge and watch show it too.
    announce(context, {
      type: 'job-note',
      site,
      message: `the site lock is held by another job; trying again in ${Math.ceil(wait / 1000)} s (-lock-timeout)`,
    });
    await sleep(wait);
    return true;
  };
}

/** How long to wait for another live gridpkg process to submit the job it recorded (default 10 minutes). */
const DEFAULT_SUBMISSION_WAIT_MS = 10 * 60 * 1000;

/**
 * A job left in the ledger by another controller (dead or alive) runs to its end, and its report counts, before
 * ours starts. Returns its result when `adopt` says it was the job we were about to submit. An intent whose owner is
 * still submitting is waited for: once it is submitted it is followed like any other; if it is dropped, or its owner
 * dies, the site is free.
 */
async function reattach(
  context: JobContext,
  backend: GridBackend,
  desired: DesiredState,
  adopt?: (entry: LedgerEntry) => boolean,
): Promise<JobResult | undefined> {
  const waitUntil = Date.now() + (context.submissionWaitMs ?? DEFAULT_SUBMISSION_WAIT_MS);
  let waitingFor: string | undefined;
  let pause = context.pollIntervalMs?.first ?? 500;
  for (;;) {
    const entry = await context.ledger.active(desired.site);
    if (!entry) return undefined;
    // An intent whose owner still runs here is that process's to submit and follow: looking its job up at the
    // backend could find it half-submitted (directory made, process not yet started), take it for lost and free
    // the site while the owner goes on to start it. Only a submitted job, or a job of an owner that is gone (or
    // on another host), is followed from here.
    const ownerSubmitting = entry.backendId === undefined && ownerAlive(entry) === true;
    const handle: JobHandle | undefined =
      entry.backendId !== undefined
        ? { jobId: entry.jobId, site: entry.site, backendId: entry.backendId }
        : ownerSubmitting
          ? undefined
          : await backend.find(entry.site, entry.jobId);
    if (handle) {
      announce(context, {
        type: 'job-note',
        site: desired.site,
        message: `re-attaching to ${entry.mode} job ${entry.jobId} left by an earlier run`,
      });
      const attached = { ...entry, backendId: handle.backendId };
      context.inFlight?.track(attached);
      try {
        const result = await follow(context, backend, attached, handle, desired.jobTimeoutSeconds);
        return adopt?.(entry) ? result : undefined;
      } finally {
        context.inFlight?.untrack(entry.jobId);
      }
    }
    if (await context.ledger.dropAbandonedIntent(entry)) return undefined;
    if (Date.now() >= waitUntil) throw new SiteBusyError(busyMessage(entry));
    if (waitingFor !== entry.jobId) {
      waitingFor = entry.jobId;
      announce(context, {
        type: 'job-note',
        site: desired.site,
        message: `another gridpkg (${ownerText(entry)}) is submitting ${entry.mode} job ${entry.jobId}; waiting for it`,
      });
    }
    await sleep(pause);
    pause = Math.min(pause * 2, context.pollIntervalMs?.max ?? 5000);
  }
}

function ownerText(entry: LedgerEntry): string {
  return `pid ${entry.owner.pid} on ${entry.owner.host === hostname() ? 'this host' : entry.owner.host}`;
}

/** Says plainly who holds the site; advises removing the entry only when its owner cannot be seen from here. */
function busyMessage(entry: LedgerEntry): string {
  const held =
    `${entry.site}: another gridpkg (${ownerText(entry)}) has been submitting ${entry.mode} job ${entry.jobId} ` +
    `since ${entry.createdAt} and has not finished; this site was left alone`;
  return ownerAlive(entry) === undefined
    ? `${held}. Run again later; only if that process is gone, free the site with ` +
        `\`gridpkg force-unlock ${entry.site} ${entry.jobId}\``
    : `${held}. Run again once it is done`;
}

/** The report text with a listing it left out as known joined back from the store (see state/listings.ts). */
async function joinListing(
  listings: ListingStore | undefined,
  reportText: string | undefined,
): Promise<{ text: string | undefined; joined: boolean } | { missing: string }> {
  if (!listings || reportText === undefined) return { text: reportText, joined: false };
  const rejoined = await listings.rejoin(reportText);
  return rejoined.ok
    ? { text: rejoined.text, joined: rejoined.joined !== undefined }
    : { missing: rejoined.reason };
}

/** Stores a listing the job sent, and gives the report the one in-memory copy every site with it shares. */
async function keepListing(
  listings: ListingStore | undefined,
  report: SiteReport,
  listing: { text: string | undefined; joined: boolean } | { missing: string },
  reportText: string | undefined,
): Promise<void> {
  const digest = report.repositoryDigest?.digest;
  if (!listings || !digest || 'missing' in listing) return;
  if (!listing.joined && reportText !== undefined) await listings.save(digest, reportText);
  report.available = listings.shared(digest, report.available);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function follow(
  context: JobContext,
  backend: GridBackend,
  entry: LedgerEntry,
  handle: JobHandle,
  timeoutSeconds: number,
): Promise<JobResult> {
  const jobState = await waitForEnd(context, backend, handle, timeoutSeconds);
  const output = await backend.fetch(handle);
  const tooLarge = oversizedReport(output);
  const reportText = tooLarge ? undefined : (output.report ?? extractReportFromStdout(output.stdout));
  const listing = await joinListing(context.listings, reportText);
  const report: ParsedReport = tooLarge
    ? { ok: false, problem: { line: undefined, message: tooLarge } }
    : 'missing' in listing
      ? { ok: false, problem: { line: undefined, message: listing.missing } }
      : parseReport(listing.text);
  if (report.ok) await keepListing(context.listings, report.report, listing, reportText);
  const observedAt = new Date().toISOString();
  const observation: Observation = report.ok
    ? observationFromReport(entry.site, report.report, observedAt)
    : {
        state: 'unknown',
        site: entry.site,
        observedAt,
        jobId: entry.jobId,
        reason:
          tooLarge ??
          ('missing' in listing
            ? listing.missing
            : unreadableReason(jobState, report.problem.message, output.stderr)),
      };
  if (reportText !== undefined) await context.observations.saveReport(entry.jobId, reportText);
  const lockNote = report.ok ? brokenLockNote(report.report) : undefined;
  if (lockNote) announce(context, { type: 'job-note', site: entry.site, message: lockNote });
  // A locked site says nothing new about its packages: keep the last observation rather than forget it.
  if (observation.state === 'known' || !report.ok || report.report.status !== 'locked') {
    await context.observations.save(observation);
  }
  await context.ledger.complete(entry, {
    finishedAt: observedAt,
    jobState: jobState.state,
    ...(report.ok ? { reportStatus: report.report.status } : { detail: report.problem.message }),
  });
  announce(context, {
    type: 'job-finished',
    site: entry.site,
    jobId: entry.jobId,
    mode: entry.mode,
    description: describeEnd(jobState, report),
  });
  await cleanUp(context, backend, handle, jobState);
  return { jobId: entry.jobId, jobState, report, observation };
}

/**
 * Once the outcome is recorded (ledger, observation, report), the job's leftovers go: its directory in the state
 * directory or on the login node, an ARC job on the CE. A lost job is left alone: it may still be running somewhere
 * (the controller stopped waiting), and its directory is what a person looks at. Cleaning is housekeeping: a
 * failure is a note, never the job's outcome.
 */
async function cleanUp(
  context: JobContext,
  backend: GridBackend,
  handle: JobHandle,
  jobState: JobState,
): Promise<void> {
  if (jobState.state === 'lost') return;
  try {
    await backend.clean(handle);
  } catch (error) {
    announce(context, {
      type: 'job-note',
      site: handle.site,
      message: `could not clean up job ${handle.jobId} (its outcome is recorded): ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

/**
 * Why the report cannot be read, when it was cut at the backends' read cap (or, without a report file, the stdout
 * it is echoed to was): a cut report is never parsed, since its missing end could hold anything.
 */
function oversizedReport(output: JobOutput): string | undefined {
  const cut = output.truncated ?? [];
  const cap = formatBytes(MAX_OUTPUT_BYTES);
  if (output.report !== undefined)
    return cut.includes('report') ? `the job's report is larger than ${cap}; not read` : undefined;
  return cut.includes('stdout')
    ? `the job's stdout (which carries its report) is larger than ${cap}; not read`
    : undefined;
}

/** Beyond the job timeout the controller stops waiting even if the backend never answers: the job is then lost. */
const DEFAULT_DEADLINE_GRACE_MS = 10 * 60 * 1000;

/** Polls through the context's poller, so that jobs of one batch system or CE share their status calls. */
function waitForEnd(
  context: JobContext,
  backend: GridBackend,
  handle: JobHandle,
  timeoutSeconds: number,
): Promise<JobState> {
  context.poller ??= new StatusPoller();
  let reported: string | undefined;
  return context.poller.watch(backend, handle, {
    timeoutSeconds,
    deadlineGraceMs: context.deadlineGraceMs ?? DEFAULT_DEADLINE_GRACE_MS,
    pollIntervalMs: context.pollIntervalMs,
    // A backend that cannot answer (CE down, timeout) is a transient problem, never a job failure.
    onUnavailable: (error) => {
      announce(context, {
        type: 'job-note',
        site: handle.site,
        message: `status of ${handle.jobId} unavailable, retrying: ${String(error)}`,
      });
      reported = undefined; // say the state again once the backend answers
    },
    // Long jobs (grid queues) show where they are: each change of the backend's own state, once.
    onState: (state) => {
      if (state.raw === reported) return;
      reported = state.raw;
      announce(context, {
        type: 'job-state',
        site: handle.site,
        jobId: handle.jobId,
        state: state.state,
        raw: state.raw,
      });
    },
  });
}

function unreadableReason(jobState: JobState, problem: string, stderr: string): string {
  const job =
    jobState.state === 'done'
      ? `job exited with ${jobState.exitCode}`
      : `job ${jobState.state}: ${'reason' in jobState ? jobState.reason : jobState.raw}`;
  const lastError = stderr.trim().split('\n').slice(-1)[0]?.slice(0, 200);
  return `unreadable report (${problem}); ${job}${lastError ? `; stderr: ${lastError}` : ''}`;
}

function describeEnd(jobState: JobState, report: ParsedReport): string {
  if (!report.ok) return `ended without a readable report (${jobState.state})`;
  return `finished: ${report.report.status}${report.report.statusMessage ? ` (${report.report.statusMessage})` : ''}`;
}

export function newJobId(site: string, mode: JobMode): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${site}-${mode}-${stamp}-${randomBytes(2).toString('hex')}`;
}
