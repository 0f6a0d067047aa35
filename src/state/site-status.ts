/**
 * Each site's status as the controller last saw it, on two axes (as Argo CD shows them): sync — does the site hold
 * what the spec says (in-sync, drifted, unknown) — and health — how its reconciliation goes (healthy, progressing,
 * degraded: a failure that is being retried, stalled: given up until something changes). With the observation's age,
 * the last transition of each axis, the attempts and the last error. One file per site, written atomically.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SyncState } from '../model/events.js';
import { asciiSafeJson } from '../report/safe-output.js';
import { writeFileAtomic } from './atomic.js';
import { errnoCode, FileError } from './fs-errors.js';
import { readTextFile } from './read-capped.js';

export type Health = 'healthy' | 'progressing' | 'degraded' | 'stalled';

export interface SiteStatus {
  site: string;
  sync: SyncState;
  health: Health;
  /** When the last observation used was made (a probe, or an apply job's post-state). */
  observedAt?: string;
  syncSince: string;
  healthSince: string;
  /** Attempts of the last run for this site. */
  attempts: number;
  /** Why the site is not healthy (raw text from sites and jobs). */
  lastError?: string;
  updatedAt: string;
}

const MAX_STATUS_BYTES = 256 * 1024;

export class SiteStatusStore {
  constructor(private readonly stateDir: string) {}

  private get dir(): string {
    return join(this.stateDir, 'status');
  }

  async save(status: SiteStatus): Promise<void> {
    const path = join(this.dir, `${status.site}.json`);
    await mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
      throw FileError.from(`could not save the status of ${status.site} to`, path, error);
    });
    await writeFileAtomic(path, `${asciiSafeJson(JSON.stringify(status, null, 2))}\n`, {
      what: `the status of ${status.site}`,
    });
  }

  /** The recorded status of a site; undefined when there is none or it cannot be read (it is only a record). */
  async load(site: string): Promise<SiteStatus | undefined> {
    try {
      const text = await readTextFile(
        join(this.dir, `${site}.json`),
        `the status of ${site}`,
        MAX_STATUS_BYTES,
      );
      const value = JSON.parse(text) as Partial<SiteStatus>;
      return value.site === site && typeof value.sync === 'string' && typeof value.health === 'string'
        ? (value as SiteStatus)
        : undefined;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Sites with a recorded status. */
  async sites(): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((name) => name.endsWith('.json'))
        .map((name) => name.slice(0, -5));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw error;
    }
  }
}
