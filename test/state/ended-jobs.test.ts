/** The ledger tells which jobs of a site the backend reported ended, so that the next job may break their locks. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/state/ledger.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-ended-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs one job of `site` through the ledger to its end with the backend state `jobState`. */
async function finished(ledger: Ledger, site: string, jobId: string, jobState: string, finishedAt: string) {
  const entry = await ledger.recordIntent({ jobId, site, mode: 'apply', backend: 'local' });
  if (!entry) throw new Error('intent refused');
  const submitted = await ledger.recordSubmitted(entry, `/jobs/${jobId}`);
  await ledger.complete(submitted, { finishedAt, jobState });
}

describe('Ledger.endedJobs', () => {
  it('names the jobs of the site that ended (done or failed), newest first, never lost or unsubmitted ones', async () => {
    const ledger = new Ledger(dir);
    await finished(ledger, 'site-a', 'site-a-apply-20260101T100000Z-0001', 'done', '2026-01-01T10:05:00Z');
    await finished(ledger, 'site-a', 'site-a-apply-20260101T110000Z-0002', 'failed', '2026-01-01T11:05:00Z');
    await finished(ledger, 'site-a', 'site-a-apply-20260101T120000Z-0003', 'lost', '2026-01-01T12:05:00Z');
    await finished(
      ledger,
      'site-a',
      'site-a-probe-20260101T130000Z-0004',
      'not-submitted',
      '2026-01-01T13:00:00Z',
    );
    // another site, whose name starts like this one's
    await finished(
      ledger,
      'site-a-b',
      'site-a-b-apply-20260101T140000Z-0005',
      'done',
      '2026-01-01T14:05:00Z',
    );
    expect(await ledger.endedJobs('site-a')).toEqual([
      'site-a-apply-20260101T110000Z-0002',
      'site-a-apply-20260101T100000Z-0001',
    ]);
    expect(await ledger.endedJobs('site-a-b')).toEqual(['site-a-b-apply-20260101T140000Z-0005']);
  });

  it('names at most the limit, the most recent, and reads nothing when there is no history', async () => {
    const ledger = new Ledger(dir);
    expect(await ledger.endedJobs('site-a')).toEqual([]);
    for (let hour = 10; hour < 22; hour++) {
      await finished(
        ledger,
        'site-a',
        `site-a-apply-20260101T${hour}0000Z-00${hour}`,
        'done',
        `2026-01-01T${hour}:05:00Z`,
      );
    }
    expect(await ledger.endedJobs('site-a', 3)).toEqual([
      'site-a-apply-20260101T210000Z-0021',
      'site-a-apply-20260101T200000Z-0020',
      'site-a-apply-20260101T190000Z-0019',
    ]);
    expect(await ledger.endedJobs('site-a')).toHaveLength(8);
  });

  it('skips history files it cannot read', async () => {
    const ledger = new Ledger(dir);
    await finished(ledger, 'site-a', 'site-a-apply-20260101T100000Z-0001', 'done', '2026-01-01T10:05:00Z');
    await writeFile(join(dir, 'ledger', 'history', 'site-a-apply-20260101T110000Z-0002.json'), '{not json');
    expect(await ledger.endedJobs('site-a')).toEqual(['site-a-apply-20260101T100000Z-0001']);
  });
});
