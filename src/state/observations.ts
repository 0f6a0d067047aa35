/** The last observation of every site, one file per site, written atomically. Raw reports are kept beside. */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Observation } from '../reconcile/observation.js';
import { asciiSafeJson } from '../report/safe-output.js';
import { writeFileAtomic } from './atomic.js';

export class ObservationStore {
  constructor(private readonly stateDir: string) {}

  async save(observation: Observation): Promise<void> {
    const dir = join(this.stateDir, 'observations');
    await mkdir(dir, { recursive: true });
    // The reason of an unknown observation quotes job output: stored with escapes, decoded exactly by JSON.parse.
    const text = asciiSafeJson(JSON.stringify(observation, null, 2));
    await writeFileAtomic(join(dir, `${observation.site}.json`), `${text}\n`);
  }

  async load(site: string): Promise<Observation | undefined> {
    try {
      return JSON.parse(
        await readFile(join(this.stateDir, 'observations', `${site}.json`), 'utf8'),
      ) as Observation;
    } catch {
      return undefined;
    }
  }

  /** The raw report a job left, if it left one. */
  async loadReport(jobId: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.stateDir, 'reports', `${jobId}.txt`), 'utf8');
    } catch {
      return undefined;
    }
  }

  async saveReport(jobId: string, text: string): Promise<void> {
    const dir = join(this.stateDir, 'reports');
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, `${jobId}.txt`), text);
  }
}
