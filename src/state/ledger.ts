/**
 * The job ledger is the lease that keeps one job per site across controller processes. A site's active entry is
 * created exclusively (intent) before the job is submitted and completed with the backend id after; a controller
 * that finds an active entry re-attaches to that job instead of submitting another. Finished jobs move to history.
 */
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { JobMode } from '../grid/protocol/types.js';
import { createFileExclusive, writeFileAtomic } from './atomic.js';

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
}

export interface LedgerOutcome {
  finishedAt: string;
  jobState: string;
  reportStatus?: string;
  detail?: string;
}

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

  private activePath(site: string): string {
    return join(this.activeDir, `${site}.json`);
  }

  async active(site: string): Promise<LedgerEntry | undefined> {
    let text: string;
    try {
      text = await readFile(this.activePath(site), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
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
    await mkdir(this.activeDir, { recursive: true });
    const full: LedgerEntry = {
      ...entry,
      phase: 'intent',
      createdAt: new Date().toISOString(),
      owner: { host: hostname(), pid: process.pid },
    };
    return (await createFileExclusive(this.activePath(entry.site), serialize(full))) ? full : undefined;
  }

  async recordSubmitted(entry: LedgerEntry, backendId: string): Promise<LedgerEntry> {
    const submitted: LedgerEntry = {
      ...entry,
      phase: 'submitted',
      backendId,
      submittedAt: new Date().toISOString(),
    };
    await writeFileAtomic(this.activePath(entry.site), serialize(submitted));
    return submitted;
  }

  /** Moves the entry to history and frees the site. Only the entry of this job is removed. */
  async complete(entry: LedgerEntry, outcome: LedgerOutcome): Promise<void> {
    await mkdir(this.historyDir, { recursive: true });
    await writeFileAtomic(join(this.historyDir, `${entry.jobId}.json`), serialize({ ...entry, ...outcome }));
    const current = await this.active(entry.site).catch(() => undefined);
    if (current?.jobId === entry.jobId) await unlink(this.activePath(entry.site)).catch(() => undefined);
  }

  /**
   * The most recent jobs of `site` that the backend reported ended — done or failed (cancelled and killed jobs
   * are failed) — newest first, at most `limit`. A job merely `lost` (the controller stopped waiting; it may still
   * run) or never submitted is not among them. The next job names these, so that a site lock one of them left
   * behind is broken at once instead of after lockStaleAfter.
   */
  async endedJobs(site: string, limit = ENDED_JOBS_NAMED): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.historyDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    // Job ids are SITE-MODE-STAMP-HEX (run-job.ts newJobId): the stamp orders them without reading every file.
    const candidates = names
      .filter((name) => name.startsWith(`${site}-`) && name.endsWith('.json'))
      .map((name) => ({ name, stamp: JOB_STAMP.exec(name)?.[1] ?? '' }))
      .sort((a, b) => (a.stamp < b.stamp ? 1 : a.stamp > b.stamp ? -1 : 0))
      .slice(0, limit * 4);
    const ended: Array<{ jobId: string; finishedAt: string }> = [];
    for (const { name } of candidates) {
      const text = await readFile(join(this.historyDir, name), 'utf8').catch(() => undefined);
      const entry = text === undefined ? undefined : parseHistory(text);
      if (entry?.site === site && (entry.jobState === 'done' || entry.jobState === 'failed'))
        ended.push({ jobId: entry.jobId, finishedAt: entry.finishedAt });
    }
    ended.sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0));
    return ended.slice(0, limit).map((e) => e.jobId);
  }

  /** Drops an intent whose submitter died before submitting (same host, process gone). */
  async dropAbandonedIntent(entry: LedgerEntry): Promise<boolean> {
    if (entry.phase !== 'intent' || entry.owner.host !== hostname() || isProcessAlive(entry.owner.pid))
      return false;
    await this.complete(entry, {
      finishedAt: new Date().toISOString(),
      jobState: 'abandoned',
      detail: 'the submitting controller died before submission',
    });
    return true;
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
      typeof value.owner?.pid === 'number';
    return valid ? (value as LedgerEntry) : undefined;
  } catch {
    return undefined;
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
