/** Observation files: a file of the wrong shape is an error that says what is wrong, never a site without packages. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListingStore, listingDigest } from '../../src/state/listings.js';
import { ObservationFileError, ObservationStore } from '../../src/state/observations.js';
import { observed } from '../reconcile/fixtures.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-obs-'));
  await mkdir(join(dir, 'observations'));
  file = join(dir, 'observations', 'site-a.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const store = () => new ObservationStore(dir);

describe('loading observations', () => {
  it('gives back what was saved, and nothing for a site never observed', async () => {
    const observation = observed(['gsl-2.8', 'zlib-1.3.1*']);
    await store().save(observation);
    expect(await store().load('site-a')).toEqual(observation);
    expect(await store().load('site-b')).toBeUndefined();
  });

  it.each([
    [{ state: 'known', site: 'site-a', observedAt: 'x' }, "/ must have required property 'jobId'"],
    [
      { ...observed(['gsl-2.8']), installed: [{ pkgname: 'gsl-2.8' }] },
      "/installed/0 must have required property 'automatic'",
    ],
    [{ ...observed([]), installed: 'gsl-2.8' }, '/installed must be array'],
    [
      { state: 'maybe', site: 'site-a', observedAt: 'x' },
      '/state must be equal to one of the allowed values',
    ],
    [[1, 2], '/ must be object'],
  ])('says what is wrong with a file of the wrong shape (%#)', async (value, problem) => {
    await writeFile(file, JSON.stringify(value));
    const error = await store()
      .load('site-a')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObservationFileError);
    expect((error as Error).message).toBe(
      `cannot use the observation of site-a in ${file}: not a gridpkg observation: ${problem}; ` +
        'run `gridpkg plan` to observe the site again',
    );
  });

  it('refuses a file that is not JSON, describes another site, or is not a regular file', async () => {
    await writeFile(file, '\u001b[2J');
    const notJson = await store()
      .load('site-a')
      .catch((e: unknown) => e);
    expect((notJson as Error).message).toContain('not JSON (');
    expect((notJson as Error).message).not.toContain('\u001b'); // the file's text is shown escaped, if at all
    await writeFile(file, JSON.stringify({ ...observed([]), site: 'site-b' }));
    await expect(store().load('site-a')).rejects.toThrow('it describes site site-b, not site-a');
    await rm(file);
    await mkdir(file);
    await expect(store().load('site-a')).rejects.toThrow('it is a directory, not a regular file');
  });
});

// A thousand sites reading one repository keep one listing, in the listings store (issue 10: real sizes).
describe('observations that leave their repository listing to the listings store', () => {
  const listing = 'avail gsl-2.8 math/gsl\navail zlib-1.3.1 devel/zlib\n';
  const digest = listingDigest(listing);
  const withDigest = (site: string) => ({
    ...observed(['gsl-2.8']),
    site,
    available: [
      { pkgname: 'gsl-2.8', pkgpath: 'math/gsl' },
      { pkgname: 'zlib-1.3.1', pkgpath: 'devel/zlib' },
    ],
    repositoryDigest: digest,
  });
  const keepListing = () =>
    new ListingStore(dir).save(digest, `gridpkg-report 1\nrepository-digest ${digest} sent\n${listing}end\n`);

  it('are saved without it and get one shared copy back', async () => {
    await keepListing();
    await store().save(withDigest('site-a'));
    await store().save(withDigest('site-b'));
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(saved.available).toBe(digest);

    const reader = store();
    const a = await reader.load('site-a');
    const b = await reader.load('site-b');
    expect(a).toEqual(withDigest('site-a'));
    if (a?.state !== 'known' || b?.state !== 'known') throw new Error('expected known observations');
    expect(b.available).toBe(a.available); // one listing in memory: the planner indexes it once
  });

  it('keep the listing themselves when the store does not hold it', async () => {
    await store().save(withDigest('site-a'));
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(saved.available).toHaveLength(2);
    expect(await store().load('site-a')).toEqual(withDigest('site-a'));
  });

  it('are unusable, saying why, once the listing is gone or damaged', async () => {
    await keepListing();
    await store().save(withDigest('site-a'));
    const kept = join(dir, 'listings', digest.replace(':', '-'));
    await writeFile(kept, 'avail other-1.0 misc/other\n');
    const damaged = await store()
      .load('site-a')
      .catch((e: unknown) => e);
    expect(damaged).toBeInstanceOf(ObservationFileError);
    expect((damaged as Error).message).toContain(`its repository listing ${digest} is damaged`);
    await rm(kept);
    const gone = await store()
      .load('site-a')
      .catch((e: unknown) => e);
    expect((gone as Error).message).toContain(
      `its repository listing ${digest} is no longer in the state directory`,
    );
    expect((gone as Error).message).toContain('run `gridpkg plan` to observe the site again');
  });
});
