/**
 * Repository listings by digest: the `avail` lines of a probe report, kept once in the state directory
 * (`listings/sha256-HEX`, content-addressed: the file's sha256 is its name) so that sites reading the same
 * pkg_summary send it once. A request names the digests held here (`known-listing`); a report that left its listing
 * out (`repository-digest … known`) gets it joined back from here before it is parsed.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseListing } from '../grid/protocol/report.js';
import type { AvailablePackage } from '../grid/protocol/types.js';
import { writeFileAtomic } from './atomic.js';
import { errnoCode, FileError } from './fs-errors.js';
import { readTextFile } from './read-capped.js';

/** Far above a real repository (25,000 packages make about 1 MB of `avail` lines). */
export const MAX_LISTING_BYTES = 64 * 1024 * 1024;
/** How many digests a request names: the most recently used listings. */
export const KNOWN_LISTINGS_IN_REQUEST = 16;

const KNOWN_LINE = /^repository-digest (sha256:[0-9a-f]{64}) known$/m;
const FILE_NAME = /^sha256-[0-9a-f]{64}$/;

/** The sha256 digest of a listing's text, as the job computes it over the same lines. */
export function listingDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export type Rejoined = { ok: true; text: string; joined: string | undefined } | { ok: false; reason: string };

export class ListingStore {
  /** One parsed listing per digest in this process, shared by every site that reads it (see diff.ts). */
  private readonly parsed = new Map<string, AvailablePackage[]>();

  constructor(private readonly stateDir: string) {}

  private get dir(): string {
    return join(this.stateDir, 'listings');
  }

  private path(digest: string): string {
    return join(this.dir, digest.replace(':', '-'));
  }

  /** The digests to name in a request: the most recently written or used listings. */
  async known(): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((name) => FILE_NAME.test(name));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw FileError.from('cannot list the repository listings in', this.dir, error);
    }
    const dated = await Promise.all(
      names.map(async (name) => ({
        name,
        mtime: (await stat(join(this.dir, name)).catch(() => undefined))?.mtimeMs,
      })),
    );
    return dated
      .filter((d) => d.mtime !== undefined)
      .sort((a, b) => (b.mtime as number) - (a.mtime as number))
      .slice(0, KNOWN_LISTINGS_IN_REQUEST)
      .map((d) => d.name.replace('-', ':'));
  }

  /** Keeps the `avail` lines of a report that sent its listing (already checked against `digest` by the parser). */
  async save(digest: string, reportText: string): Promise<void> {
    const text = availLines(reportText);
    if (listingDigest(text) !== digest) return; // never store a listing under a digest it does not have
    await mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
      throw FileError.from('could not create the repository listings directory', this.dir, error);
    });
    await writeFileAtomic(this.path(digest), text, { what: `the repository listing ${digest}` });
  }

  /**
   * A report that left its listing out gets the stored lines back in place of `repository-digest … known` (then
   * marked `sent`, so the parser checks them against the digest again). A digest this store does not hold (or holds
   * damaged) leaves the site unknown with the reason; the next probe does not name it, so the job sends it again.
   */
  async rejoin(reportText: string): Promise<Rejoined> {
    const match = KNOWN_LINE.exec(reportText);
    if (!match) return { ok: true, text: reportText, joined: undefined };
    const digest = match[1] as string;
    // Already parsed in this process: the report stays as it is, and keeps the shared copy (see `shared`).
    if (this.parsed.has(digest)) return { ok: true, text: reportText, joined: digest };
    let listing: string;
    try {
      listing = await readTextFile(this.path(digest), `the repository listing ${digest}`, MAX_LISTING_BYTES);
    } catch (error) {
      const missing = error instanceof FileError && error.code === 'ENOENT';
      const why = missing
        ? 'the state directory no longer holds it'
        : `it cannot be read: ${error instanceof Error ? error.message : String(error)}`;
      return {
        ok: false,
        reason: `the job left out the repository listing ${digest} as known to gridpkg, but ${why}; the next probe sends it again`,
      };
    }
    if (listingDigest(listing) !== digest) {
      await rm(this.path(digest), { force: true }); // not named again: the next probe sends the listing afresh
      return {
        ok: false,
        reason: `the stored repository listing ${digest} is damaged (its content has another digest); the next probe sends it again`,
      };
    }
    const at = match.index;
    const text = `${reportText.slice(0, at)}repository-digest ${digest} sent\n${listing}${reportText.slice(at + match[0].length + 1)}`;
    return { ok: true, text, joined: digest };
  }

  /** Whether the store holds a listing under `digest` (its file exists; its content is checked when read). */
  async has(digest: string): Promise<boolean> {
    if (this.parsed.has(digest)) return true;
    return stat(this.path(digest)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /**
   * The packages of the listing kept under `digest`, parsed once per process and shared like fresh ones (see
   * `shared`). Says why it cannot be used: not there, unreadable, damaged (content of another digest) or not a
   * listing.
   */
  async load(
    digest: string,
  ): Promise<{ ok: true; available: AvailablePackage[] } | { ok: false; reason: string }> {
    const known = this.parsed.get(digest);
    if (known) return { ok: true, available: known };
    let text: string;
    try {
      text = await readTextFile(this.path(digest), `the repository listing ${digest}`, MAX_LISTING_BYTES);
    } catch (error) {
      const missing = error instanceof FileError && error.code === 'ENOENT';
      return {
        ok: false,
        reason: missing
          ? `its repository listing ${digest} is no longer in the state directory`
          : `its repository listing ${digest} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    if (listingDigest(text) !== digest)
      return {
        ok: false,
        reason: `its repository listing ${digest} is damaged (its content has another digest)`,
      };
    const parsed = parseListing(text);
    if (!parsed.ok)
      return {
        ok: false,
        reason: `its repository listing ${digest} is not a listing (line ${parsed.problem.line}: ${parsed.problem.message})`,
      };
    return { ok: true, available: this.shared(digest, parsed.available) };
  }

  /** Forgets a damaged or missing listing so that the next request does not name it. */
  async forget(digest: string): Promise<void> {
    this.parsed.delete(digest);
    await rm(this.path(digest), { force: true });
  }

  /** The one in-memory listing for `digest`: the first parsed copy is kept and handed to every later site. */
  shared(digest: string, available: AvailablePackage[]): AvailablePackage[] {
    const known = this.parsed.get(digest);
    if (known) return known;
    this.parsed.set(digest, available);
    return available;
  }
}

/** The report's `avail` lines, each with its newline: the text the job hashed. */
function availLines(reportText: string): string {
  const out: string[] = [];
  for (const line of reportText.split('\n')) if (line.startsWith('avail ')) out.push(`${line}\n`);
  return out.join('');
}
