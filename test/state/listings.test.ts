// Repository listings by digest in the state directory (issue 10, item 7).
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseReport } from '../../src/grid/protocol/index.js';
import { ListingStore, listingDigest } from '../../src/state/listings.js';
import { AVAIL, probeReport as report } from '../protocol/listing-fixture.js';

const DIGEST = listingDigest(AVAIL);

describe('ListingStore', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-listings-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('keeps a sent listing under its digest, names it, and joins it back into a report that left it out', async () => {
    const store = new ListingStore(stateDir);
    expect(await store.known()).toEqual([]);
    await store.save(DIGEST, report(`repository-digest ${DIGEST} sent\n${AVAIL}`));
    expect(await readdir(join(stateDir, 'listings'))).toEqual([DIGEST.replace(':', '-')]);
    expect(await store.known()).toEqual([DIGEST]);

    // A fresh process (no listing parsed yet) joins the stored lines back; the parser checks them again.
    const rejoined = await new ListingStore(stateDir).rejoin(report(`repository-digest ${DIGEST} known\n`));
    if (!rejoined.ok) throw new Error(rejoined.reason);
    const parsed = parseReport(rejoined.text);
    if (!parsed.ok) throw new Error(parsed.problem.message);
    expect(parsed.report.available.map((p) => p.pkgname)).toEqual(['gsl-2.8', 'zlib-1.3.1']);
  });

  it('never stores a listing under a digest it does not have', async () => {
    const store = new ListingStore(stateDir);
    await store.save(DIGEST, report(`repository-digest ${DIGEST} sent\navail other-1.0 misc/other\n`));
    expect(await store.known()).toEqual([]);
  });

  it('shares one parsed listing per digest', () => {
    const store = new ListingStore(stateDir);
    const first = [{ pkgname: 'gsl-2.8', pkgpath: 'math/gsl' }];
    expect(store.shared(DIGEST, first)).toBe(first);
    expect(store.shared(DIGEST, [{ pkgname: 'gsl-2.8', pkgpath: 'math/gsl' }])).toBe(first);
  });

  it('says why when a report names a digest the store no longer holds', async () => {
    const rejoined = await new ListingStore(stateDir).rejoin(report(`repository-digest ${DIGEST} known\n`));
    expect(rejoined.ok).toBe(false);
    if (!rejoined.ok) {
      expect(rejoined.reason).toContain(DIGEST);
      expect(rejoined.reason).toMatch(/no longer holds it; the next probe sends it again/);
    }
  });

  it('drops a damaged listing, so that the next request does not name it', async () => {
    const store = new ListingStore(stateDir);
    await store.save(DIGEST, report(`repository-digest ${DIGEST} sent\n${AVAIL}`));
    await writeFile(join(stateDir, 'listings', DIGEST.replace(':', '-')), 'avail gsl-2.9 math/gsl\n');
    const rejoined = await new ListingStore(stateDir).rejoin(report(`repository-digest ${DIGEST} known\n`));
    expect(rejoined.ok).toBe(false);
    if (!rejoined.ok) expect(rejoined.reason).toMatch(/damaged/);
    expect(await store.known()).toEqual([]);
  });
});
