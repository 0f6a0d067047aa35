/**
 * The job ledger is the lease that keeps one job per site across controller processes. A site's active entry is
 * created exclusively (intent) before the job is submitted and completed with the backend id after; a controller
 * that finds an active entry re-attaches to that job instead of submitting another. Finished jobs move to history.
 */
import { mkdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
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
      text = await readTextFile(this.activePath(site), `the ledger entry of ${site}`, MAX_ENTRY_BYTES);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
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

  /** Moves the entry to history and frees the site. Only the entry of this job is removed. */
  async complete(entry: LedgerEntry, outcome: LedgerOutcome): Promise<void> {
    const path = join(this.historyDir, `${entry.jobId}.json`);
    const what = `the end of job ${entry.jobId}`;
    await mkdir(this.historyDir, { recursive: true }).catch((error: unknown) => {
      throw FileError.from(`could not save ${what} to`, path, error);
    });
    await writeFileAtomic(path, serialize({ ...entry, ...outcome }), { what });
    const current = await this.active(entry.site).catch(() => undefined);
    if (current?.jobId === entry.jobId) await unlink(this.activePath(entry.site)).catch(() => undefined);
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
