/**
 * Reading what the ARC client prints (`arcstat -J -l`, `arcsub`) and mapping ARC's job states onto gridpkg's
 * normalized ones. Pure functions; anything unreadable throws ArcOutputError (a state is never guessed).
 */
import type { JobState } from '../backend.js';

/** The CE or the ARC client answered, but not in a form we can read: transient, never a job failure. */
export class ArcOutputError extends Error {
  override name = 'ArcOutputError';
}

export interface ArcJobRecord {
  id: string;
  name: string | undefined;
  /** ARC's generic state: Accepted, Preparing, Submitting, Hold, Queuing, Running, Finishing, Finished, ... */
  state: string;
  /** The CE's own state (ACCEPTED, INLRMS, EXITINGLRMS, FINISHED, ...), with `-l`. */
  specificState: string | undefined;
  exitCode: number | undefined;
  errors: string[];
}

/** An ARC job URL as arcsub prints it: https, a host name, an optional port, a path of URL-safe characters. */
const JOB_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/[A-Za-z0-9._~/-]+$/;

export function isArcJobUrl(value: string): boolean {
  return value.length <= 1024 && JOB_URL.test(value) && !value.split('/').includes('..');
}

/**
 * Whether a job URL belongs to the CE endpoint: same host, same port (443 when none is written: the client may
 * print `:443` where the spec has none, or the other way round) and a path under the endpoint's path.
 */
export function isJobOfCe(url: string, ce: string): boolean {
  if (!isArcJobUrl(url)) return false;
  const job = new URL(url);
  const endpoint = new URL(ce);
  const port = (u: URL) => u.port || '443';
  const base = endpoint.pathname.replace(/\/+$/, '');
  return (
    job.hostname.toLowerCase() === endpoint.hostname.toLowerCase() &&
    port(job) === port(endpoint) &&
    job.pathname.startsWith(`${base}/`)
  );
}

/** The job URL in arcsub's `Job submitted with jobid: URL`, if it is there and well-formed. */
export function parseSubmittedJobId(stdout: string): string | undefined {
  const id = /^Job submitted with jobid: (\S+)\s*$/m.exec(stdout)?.[1];
  return id !== undefined && isArcJobUrl(id) ? id : undefined;
}

/**
 * `arcstat -J` prints `"jobs": [ ... ]` without the outer braces, after any warnings (which go to stdout too, e.g.
 * `Warning: Job not found in job list: URL`). Output without a jobs array is an empty answer only when the client
 * says it found no jobs.
 */
export function parseArcstatJson(stdout: string): Map<string, ArcJobRecord> {
  const start = stdout.search(/^"jobs"\s*:/m);
  if (start < 0) {
    if (/^No jobs/m.test(stdout)) return new Map();
    throw new ArcOutputError(
      `arcstat: no JSON in its output: ${JSON.stringify(stdout.trim().slice(0, 200))}`,
    );
  }
  const text = stdout.slice(start).trim();
  let value: unknown;
  try {
    value = JSON.parse(`{${text}}`);
  } catch {
    throw new ArcOutputError(`arcstat: cannot read its JSON output: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const jobs = isObject(value) ? value.jobs : undefined;
  if (!Array.isArray(jobs)) throw new ArcOutputError('arcstat: JSON output without a "jobs" array');
  const records = new Map<string, ArcJobRecord>();
  for (const job of jobs) {
    if (!isObject(job) || typeof job.id !== 'string' || typeof job.state !== 'string')
      throw new ArcOutputError(`arcstat: a job without id or state: ${JSON.stringify(job).slice(0, 200)}`);
    const errors = Array.isArray(job.jobError)
      ? job.jobError.filter((e): e is string => typeof e === 'string')
      : [];
    records.set(job.id, {
      id: job.id,
      name: typeof job.name === 'string' ? job.name : undefined,
      state: job.state,
      specificState: typeof job.specificState === 'string' ? job.specificState : undefined,
      exitCode: typeof job.exitCode === 'number' && Number.isInteger(job.exitCode) ? job.exitCode : undefined,
      errors,
    });
  }
  return records;
}

/** Jobs the ARC client does not have in its job list (`Warning: Job not found in job list: URL`, on stdout). */
export function jobsNotInJobList(output: string): Set<string> {
  const ids = new Set<string>();
  for (const match of output.matchAll(/Job not found in job list: (\S+)/g)) if (match[1]) ids.add(match[1]);
  return ids;
}

const QUEUED = new Set(['Accepted', 'Preparing', 'Submitting', 'Hold', 'Queuing']);
const RUNNING = new Set(['Running', 'Finishing']);

/**
 * The normalized state of an ARC job, or undefined when the CE has no information about it right now
 * (`Undefined`: ask again next poll). The job's runner ends with status 0 once it has recorded the job script's
 * own exit status (fetched with the outputs), so `Finished` means the job script ran to its end, and `Failed`
 * means the runner itself was stopped (killed, walltime, a failed stage-in).
 */
export function mapArcState(record: ArcJobRecord): JobState | undefined {
  const raw = record.specificState ? `${record.state} (${record.specificState})` : record.state;
  const detail = record.errors.join('; ');
  if (QUEUED.has(record.state)) return { state: 'queued', raw };
  if (RUNNING.has(record.state)) return { state: 'running', raw };
  switch (record.state) {
    case 'Finished':
      return { state: 'done', exitCode: record.exitCode ?? 0, raw };
    case 'Failed':
      return {
        state: 'failed',
        reason: detail ? `the ARC job failed: ${detail}` : 'the ARC job failed',
        raw,
      };
    case 'Killed':
      return { state: 'failed', reason: detail ? `cancelled (${detail})` : 'cancelled', raw };
    case 'Deleted':
      return { state: 'lost', reason: 'the CE has deleted the job (its results expired)', raw };
    // Undefined: the CE has no information right now; Other: a state the client cannot name. Ask again next poll
    // (the controller's deadline ends a job that never leaves them).
    case 'Undefined':
    case 'Other':
      return undefined;
    default:
      throw new ArcOutputError(`unknown ARC job state ${JSON.stringify(record.state)} of ${record.id}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
