/** The ledger's history of each site, newest first, for reports (gridpkg drift). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Ledger } from '../../src/state/ledger.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-history-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function finished(ledger: Ledger, site: string, jobId: string, jobState: string, finishedAt: string) {
  const entry = await ledger.recordIntent({ jobId, site, mode: 'probe', backend: 'local' });
  if (!entry) throw new Error('intent refused');
  await ledger.complete(await ledger.recordSubmitted(entry, `/jobs/${jobId}`), { finishedAt, jobState });
}

it('gives each site its last jobs, newest first, whatever their end, and skips unreadable files', async () => {
  const ledger = new Ledger(dir);
  expect(await ledger.histories(['site-a'], 5)).toEqual(new Map([['site-a', []]]));
  for (let hour = 10; hour < 14; hour++)
    await finished(
      ledger,
      'site-a',
      `site-a-probe-20260101T${hour}0000Z-00${hour}`,
      hour === 12 ? 'lost' : 'done',
      `2026-01-01T${hour}:05:00Z`,
    );
  // another site whose name starts like this one's, and a damaged history file
  await finished(ledger, 'site-a-b', 'site-a-b-probe-20260101T150000Z-0015', 'done', '2026-01-01T15:05:00Z');
  await writeFile(join(dir, 'ledger', 'history', 'site-a-probe-20260101T160000Z-0016.json'), '{ not json');
  const histories = await ledger.histories(['site-a', 'site-a-b'], 3);
  expect(histories.get('site-a')?.map((e) => [e.jobId, e.jobState])).toEqual([
    ['site-a-probe-20260101T130000Z-0013', 'done'],
    ['site-a-probe-20260101T120000Z-0012', 'lost'],
    ['site-a-probe-20260101T110000Z-0011', 'done'],
  ]);
  expect(histories.get('site-a-b')?.map((e) => e.jobId)).toEqual(['site-a-b-probe-20260101T150000Z-0015']);
});
