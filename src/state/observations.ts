/** The last observation of every site, one file per site, written atomically. Raw reports are kept beside. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readJsonAsset } from '../assets.js';
import { MAX_OUTPUT_BYTES } from '../grid/job-files.js';
import { lazily } from '../lazy.js';
import type { KnownObservation, Observation } from '../reconcile/observation.js';
import { asciiSafeJson } from '../report/safe-output.js';
import { printable } from '../report/untrusted.js';
import { writeFileAtomic } from './atomic.js';
import { errnoCode, FileError } from './fs-errors.js';
import { ListingStore } from './listings.js';
import { readTextFile } from './read-capped.js';

/** Far above any real site (tens of thousands of packages, the repository listing included). */
export const MAX_OBSERVATION_BYTES = 64 * 1024 * 1024;

const observationValidator = lazily(() =>
  new Ajv2020({ allErrors: false, strict: true }).compile<StoredObservation>(
    readJsonAsset('schemas/observation.schema.json') as object,
  ),
);

/** An observation as its file holds it: a known one may name its listing by digest (kept in the listings store). */
type StoredObservation = Observation | (Omit<KnownObservation, 'available'> & { available: string });

/** An observation file that exists but cannot be used: its message says what is wrong with it. */
export class ObservationFileError extends FileError {
  override name = 'ObservationFileError';
}

export class ObservationStore {
  /**
   * `listings`: where the repository listings are kept by digest. An observation whose listing is there is saved
   * without it and gets the shared in-memory copy back when loaded: a thousand sites reading one 25,000-package
   * repository then keep one listing on disk and in memory, not a thousand. Share the store the jobs use.
   */
  constructor(
    private readonly stateDir: string,
    private readonly listings: ListingStore = new ListingStore(stateDir),
  ) {}

  private path(site: string): string {
    return join(this.stateDir, 'observations', `${site}.json`);
  }

  async save(observation: Observation): Promise<void> {
    const path = this.path(observation.site);
    const what = { what: `the observation of ${observation.site}` };
    await mkdir(join(this.stateDir, 'observations'), { recursive: true }).catch((error: unknown) => {
      throw FileError.from(`could not save ${what.what} to`, path, error);
    });
    const stored = await this.withoutKeptListing(observation);
    // The reason of an unknown observation quotes job output: stored with escapes, decoded exactly by JSON.parse.
    await writeFileAtomic(path, `${asciiSafeJson(JSON.stringify(stored, null, 2))}\n`, what);
  }

  /** The observation as saved: its listing named by digest when the listings store keeps it. */
  private async withoutKeptListing(observation: Observation): Promise<StoredObservation> {
    if (observation.state !== 'known') return observation;
    const digest = observation.repositoryDigest;
    if (digest === undefined || !(await this.listings.has(digest))) return observation;
    return { ...observation, available: digest };
  }

  /**
   * The site's last observation; undefined when there is none. A file that is there but unreadable, too large or
   * of the wrong shape is an ObservationFileError saying so, never mistaken for a site without packages.
   */
  async load(site: string): Promise<Observation | undefined> {
    const path = this.path(site);
    let text: string;
    try {
      text = await readTextFile(path, `the observation of ${site}`, MAX_OBSERVATION_BYTES);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    const bad = (reason: string) =>
      new ObservationFileError(
        `cannot use the observation of ${site} in`,
        path,
        `${reason}; run \`gridpkg plan\` to observe the site again`,
      );
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw bad(`not JSON (${printable((error as Error).message, 200)})`);
    }
    const validate = observationValidator();
    if (!validate(value)) {
      const first = validate.errors?.[0];
      throw bad(
        printable(
          `not a gridpkg observation: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trimEnd(),
          300,
        ),
      );
    }
    if (value.site !== site) throw bad(`it describes site ${printable(value.site, 64)}, not ${site}`);
    if (value.state === 'unknown' || typeof value.available !== 'string') return value as Observation;
    // Saved with its listing named by digest: joined back from the listings store.
    const listing = await this.listings.load(value.available);
    if (!listing.ok) throw bad(printable(listing.reason, 400));
    return { ...value, available: listing.available };
  }

  /**
   * The site's recorded known observation when it is at most `maxAgeMs` old at `now` (ms since 1970); undefined
   * when there is none, it is unknown or older, or its file cannot be used (the caller then probes the site).
   */
  async loadRecent(site: string, maxAgeMs: number, now: number): Promise<KnownObservation | undefined> {
    const observation = await this.load(site).catch(() => undefined);
    if (observation?.state !== 'known') return undefined;
    const age = now - Date.parse(observation.observedAt);
    return age >= 0 && age <= maxAgeMs ? observation : undefined;
  }

  /** The raw report a job left, if it left one. */
  async loadReport(jobId: string): Promise<string | undefined> {
    try {
      return await readTextFile(
        join(this.stateDir, 'reports', `${jobId}.txt`),
        `the report of job ${jobId}`,
        MAX_OUTPUT_BYTES,
      );
    } catch {
      return undefined;
    }
  }

  async saveReport(jobId: string, text: string): Promise<void> {
    const dir = join(this.stateDir, 'reports');
    const path = join(dir, `${jobId}.txt`);
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw FileError.from(`could not save the report of job ${jobId} to`, path, error);
    });
    await writeFileAtomic(path, text, { what: `the report of job ${jobId}` });
  }
}
