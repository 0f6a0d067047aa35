// The repository listing once per digest (issue 10, item 7): the report's `repository-digest` line and the
// request's `known-listing` lines, both strict.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeRequest, parseReport } from '../../src/grid/protocol/index.js';
import { AVAIL, probeReport as report } from './listing-fixture.js';

const DIGEST = `sha256:${createHash('sha256').update(AVAIL).digest('hex')}`;
const probeReport = (middle: string) => report(middle, ['pkg gsl-2.7 math/gsl no']);

describe('repository-digest in a report', () => {
  it('reads a listing sent with its digest', () => {
    const parsed = parseReport(probeReport(`repository-digest ${DIGEST} sent\n${AVAIL}`));
    if (!parsed.ok) throw new Error(parsed.problem.message);
    expect(parsed.report.repositoryDigest).toEqual({ digest: DIGEST, listing: 'sent' });
    expect(parsed.report.available.map((p) => p.pkgname)).toEqual(['gsl-2.8', 'zlib-1.3.1']);
  });

  it('reads a listing left out as known: no avail lines', () => {
    const parsed = parseReport(probeReport(`repository-digest ${DIGEST} known\n`));
    if (!parsed.ok) throw new Error(parsed.problem.message);
    expect(parsed.report.repositoryDigest).toEqual({ digest: DIGEST, listing: 'known' });
    expect(parsed.report.available).toEqual([]);
  });

  it('refuses a listing that does not hash to its digest', () => {
    const parsed = parseReport(probeReport(`repository-digest ${DIGEST} sent\navail gsl-2.9 math/gsl\n`));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem.message).toMatch(/does not match its repository-digest/);
  });

  it('refuses avail lines after a listing reported as known', () => {
    const parsed = parseReport(probeReport(`repository-digest ${DIGEST} known\n${AVAIL}`));
    expect(parsed.ok).toBe(false);
  });

  it.each([
    ['a short digest', 'repository-digest sha256:abc sent\n'],
    ['upper-case hex', `repository-digest ${DIGEST.toUpperCase().replace('SHA256', 'sha256')} sent\n`],
    ['another algorithm', `repository-digest cksum:${'0'.repeat(64)} sent\n`],
    ['no verdict', `repository-digest ${DIGEST}\n`],
    ['an unknown verdict', `repository-digest ${DIGEST} maybe\n`],
    ['a duplicate line', `repository-digest ${DIGEST} known\nrepository-digest ${DIGEST} known\n`],
  ])('refuses %s', (_, middle) => {
    expect(parseReport(probeReport(middle)).ok).toBe(false);
  });

  it('refuses a repository-digest line after the listing', () => {
    expect(parseReport(probeReport(`${AVAIL}repository-digest ${DIGEST} sent\n`)).ok).toBe(false);
  });
});

describe('known-listing in a request', () => {
  const base = { jobId: 'j1', mode: 'probe' as const, actions: [] };

  it('names each digest the controller holds', () => {
    const text = encodeRequest({ ...base, knownListings: [DIGEST] });
    expect(text).toContain(`\nknown-listing ${DIGEST}\n`);
  });

  it.each([
    ['sha256:xyz'],
    [`${DIGEST} x`],
    [`sha1:${'0'.repeat(40)}`],
    [DIGEST.toUpperCase()],
  ])('refuses the digest %j', (digest) => {
    expect(() => encodeRequest({ ...base, knownListings: [digest] })).toThrow(/knownListings\[0\]/);
  });

  it('refuses more than 16 digests', () => {
    expect(() => encodeRequest({ ...base, knownListings: Array(17).fill(DIGEST) })).toThrow(/at most 16/);
  });
});
