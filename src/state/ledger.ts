/**
 * The job ledger is the lease that keeps one job per site across controller processes. A site's active entry is
 * created exclusively (intent) before the job is submitted and completed with the backend id after; a controller
 * that finds an active entry re-attaches to that job instead of submitting another. Finished jobs move to history.
 * An apply job that carries out a site's part of a plan records the plan's id; `plans/PLANID/SITE.json` then names
 * the last job that did, so re-running an applied plan finds its outcome instead of submitting again.
 */
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { JobMode } from '../grid/protocol/types.js';
import { createFileExclusive, writeFileAtomic } from './atomic.js';
import { errnoCode, FileError } from './fs-errors.js';
import { readTextFile } from './read-capped.js';

/** A ledger entry is a few hundred bytes; anything near this is not one. */
const MAX_ENTRY_BYTES = 64 * 1024;

export interface LedgerEntry {
  jobId: string;
  site: string;
  mode: JobMode;
  backend: string;
  phase: 'intent' | 'submitted';
  backendId?: string;
  createdAt: string;
  submittedAt?: string;
  owner: { host: string; pid: number };
  /** The plan whose part for this site the (apply) job carries out. */
  planId?: string;
  /**
   * An apply job: the digest of the site's resolved desired state it worked towards (src/spec/desired-digest.ts).
   * The same as the site's previous apply: it corrected drift; another: it carried out a change of the spec.
   */
  desiredDigest?: string;
}

export interface LedgerOutcome {
  finishedAt: string;
  jobState: string;
  reportStatus?: string;
  detail?: string;
}

/** A finished job as history records it. */
export type FinishedEntry = LedgerEntry & LedgerOutcome;

/**
 * Whether a finished job carried out its plan's part: it was submitted and got past the site lock. A job that never
 * left the controller, or found the site locked, did nothing; its plan may still be applied.
 */
export function carriedOut(entry: FinishedEntry): boolean {
  return (
    entry.jobState !== 'not-submitted' && entry.jobState !== 'abandoned' && entry.reportStatus !== 'locked'
  );
}

/** Plan ids are used as directory names: only this shape (plans make UUIDs). */
const PLAN_ID = /^[A-Za-z0-9-]{8,64}$/;

export class LedgerError extends Error {
  override name = 'LedgerError';
}

export class Ledger {
  private readonly activeDir: string;
  private readonly historyDir: string;

  constructor(stateDir: string) {
    this.activeDir = join(stateDir, 'ledger');
    this.historyDir = join(stateDir, 'ledger', 'history');
  }

  /** The file of a site's job in flight (named in messages about it). */
  activePath(site: string): string {
    return join(this.activeDir, `${site}.json`);
  }

  private planPath(planId: string, site: string): string {
    if (!PLAN_ID.test(planId)) throw new LedgerError(`not a plan id: ${JSON.stringify(planId)}`);
    return join(this.activeDir, 'plans', planId, `${site}.json`);
  }

  async active(site: string): Promise<LedgerEntry | undefined> {
    const text = await readIfExists(this.activePath(site), `the ledger entry of ${site}`);
    if (text === undefined) return undefined;
    const entry = parseEntry(text);
    if (!entry || entry.site !== site) {
      throw new LedgerError(
        `the ledger entry ${this.activePath(site)} is unreadable; inspect the job it names, then delete the file`,
      );
    }
    return entry;
  }

  /** Records the intent to submit; false when the site already has an active job. */
  async recordIntent(
    entry: Omit<LedgerEntry, 'phase' | 'owner' | 'createdAt'>,
  ): Promise<LedgerEntry | undefined> {
    await mkdir(this.activeDir, { recursive: true }).catch((error: unknown) => {
      throw FileError.from(`could not record the job of ${entry.site} in the ledger`, this.activeDir, error);
    });
    const full: LedgerEntry = {
      ...entry,
      phase: 'intent',
      createdAt: new Date().toISOString(),
      owner: { host: hostname(), pid: process.pid },
    };
    const label = { what: `the intent to submit job ${entry.jobId}` };
    return (await createFileExclusive(this.activePath(entry.site), serialize(full), label))
      ? full
      : undefined;
  }

  async recordSubmitted(entry: LedgerEntry, backendId: string): Promise<LedgerEntry> {
    const submitted: LedgerEntry = {
      ...entry,
      phase: 'submitted',
      backendId,
      submittedAt: new Date().toISOString(),
    };
    await writeFileAtomic(this.activePath(entry.site), serialize(submitted), {
      what: `the submission of job ${entry.jobId} (backend id ${backendId})`,
    });
    return submitted;
  }

  /**
   * Moves the entry to history and frees the site. Only the entry of this job is removed. A plan's job is named in
   * the plan's record first: a crash before the history is written leaves the active entry, which is re-attached.
   */
  async complete(entry: LedgerEntry, outcome: LedgerOutcome): Promise<void> {
    if (entry.planId !== undefined) {
      const record = this.planPath(entry.planId, entry.site);
      await mkdir(dirname(record), { recursive: true }).catch((error: unknown) => {
        throw FileError.from(`could not record the job of plan ${entry.planId} in`, record, error);
      });
      await writeFileAtomic(record, serialize({ jobId: entry.jobId }), {
        what: `the job of plan ${entry.planId}`,
      });
    }
    const path = join(this.historyDir, `${entry.jobId}.json`);
    const what = `the end of job ${entry.jobId}`;
    await mkdir(this.historyDir, { recursive: true }).catch((error: unknown) => {
      throw FileError.from(`could not save ${what} to`, path, error);
    });
    await writeFileAtomic(path, serialize({ ...entry, ...outcome }), { what });
    const current = await this.active(entry.site).catch(() => undefined);
    if (current?.jobId === entry.jobId) await unlink(this.activePath(entry.site)).catch(() => undefined);
  }

  /** The last finished job that worked on this plan's part for the site, if any. */
  async lastJobOfPlan(planId: string, site: string): Promise<FinishedEntry | undefined> {
    const record = await readIfExists(this.planPath(planId, site), `the record of plan ${planId}`);
    const jobId = record === undefined ? undefined : parseJobRef(record);
    if (jobId === undefined) return undefined;
    const text = await readIfExists(join(this.historyDir, `${jobId}.json`), `the end of job ${jobId}`);
    const entry = text === undefined ? undefined : parseEntry(text);
    if (!entry || entry.site !== site || entry.planId !== planId) return undefined;
    return entry as FinishedEntry;
  }

  /**
   * The most recent jobs of `site` that the backend reported ended — done or failed (cancelled and killed jobs
   * are failed) — newest first, at most `limit`. A job merely `lost` (the controller stopped waiting; it may still
   * run) or never submitted is not among them. The next job names these, so that a site lock one of them left
   * behind is broken at once instead of after lockStaleAfter.
   */
  async endedJobs(site: string, limit = ENDED_JOBS_NAMED): Promise<string[]> {
    const recent = await this.recentHistory(site, limit * 4);
    return recent
      .filter((entry) => entry.jobState === 'done' || entry.jobState === 'failed')
      .slice(0, limit)
      .map((e) => e.jobId);
  }

  /**
   * Each site's last `limit` finished jobs, newest first (for reports); unreadable history files are skipped. The
   * history directory is listed once for all the sites.
   */
  async histories(sites: readonly string[], limit: number): Promise<Map<string, FinishedEntry[]>> {
    const names = await this.historyNames();
    const result = new Map<string, FinishedEntry[]>();
    for (const site of sites)
      result.set(site, (await this.recentHistory(site, limit * 4, names)).slice(0, limit));
    return result;
  }

  private async historyNames(): Promise<string[]> {
    try {
      return await readdir(this.historyDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /**
   * Finished jobs among the site's `scan` newest history files (by their job id's stamp), newest end first. (Names
   * of another site that starts with this one's name and a dash take places in the scan: it reads 4 per job wanted.)
   */
  private async recentHistory(
    site: string,
    scan: number,
    listed?: readonly string[],
  ): Promise<FinishedEntry[]> {
    const names = listed ?? (await this.historyNames());
    // Job ids are SITE-MODE-STAMP-HEX (run-job.ts newJobId): the stamp orders them without reading every file.
    const candidates = names
      .filter((name) => name.startsWith(`${site}-`) && name.endsWith('.json'))
      .map((name) => ({ name, stamp: JOB_STAMP.exec(name)?.[1] ?? '' }))
      .sort((a, b) => (a.stamp < b.stamp ? 1 : a.stamp > b.stamp ? -1 : 0))
      .slice(0, scan);
    const finished: FinishedEntry[] = [];
    for (const { name } of candidates) {
      const text = await readIfExists(join(this.historyDir, name), `the end of job ${name}`).catch(
        () => undefined,
      );
      const entry = text === undefined ? undefined : parseHistory(text);
      if (entry?.site === site) finished.push(entry);
    }
    return finished.sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0));
  }

  /** Drops an intent whose submitter died before submitting (same host, process gone). */
  async dropAbandonedIntent(entry: LedgerEntry): Promise<boolean> {
    if (entry.phase !== 'intent' || ownerAlive(entry) !== false) return false;
    await this.complete(entry, {
      finishedAt: new Date().toISOString(),
      jobState: 'abandoned',
      detail: 'the submitting controller died before submission',
    });
    return true;
  }
}

async function readIfExists(path: string, what: string): Promise<string | undefined> {
  try {
    return await readTextFile(path, what, MAX_ENTRY_BYTES);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function parseJobRef(text: string): string | undefined {
  try {
    const { jobId } = JSON.parse(text) as { jobId?: unknown };
    return typeof jobId === 'string' && /^[A-Za-z0-9._-]+$/.test(jobId) ? jobId : undefined;
  } catch {
    return undefined;
  }
}

/** How many ended jobs a request names (the protocol allows up to 32). */
const ENDED_JOBS_NAMED = 8;
const JOB_STAMP = /-(\d{8}T\d{6}Z)-[0-9a-f]+\.json$/;

/** A history file: the entry and its outcome; undefined when it is not one. */
function parseHistory(text: string): (LedgerEntry & LedgerOutcome) | undefined {
  try {
    const value = JSON.parse(text) as Partial<LedgerEntry & LedgerOutcome>;
    const valid =
      typeof value.jobId === 'string' &&
      typeof value.site === 'string' &&
      typeof value.jobState === 'string' &&
      typeof value.finishedAt === 'string';
    return valid ? (value as LedgerEntry & LedgerOutcome) : undefined;
  } catch {
    return undefined;
  }
}

function serialize(value: object): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function parseEntry(text: string): LedgerEntry | undefined {
  try {
    const value = JSON.parse(text) as Partial<LedgerEntry>;
    const valid =
      typeof value.jobId === 'string' &&
      typeof value.site === 'string' &&
      (value.mode === 'probe' || value.mode === 'apply') &&
      (value.phase === 'intent' || value.phase === 'submitted') &&
      typeof value.owner?.pid === 'number' &&
      (value.planId === undefined || typeof value.planId === 'string');
    return valid ? (value as LedgerEntry) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote the entry still runs; undefined when it ran on another host (unknowable here). */
export function ownerAlive(entry: Pick<LedgerEntry, 'owner'>): boolean | undefined {
  return entry.owner.host === hostname() ? isProcessAlive(entry.owner.pid) : undefined;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
