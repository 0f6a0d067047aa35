import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileExclusive, writeFileAtomic } from '../../src/state/atomic.js';
import { carriedOut, Ledger, LedgerError } from '../../src/state/ledger.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-ledger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const intent = (jobId: string) => ({ jobId, site: 'site-a', mode: 'apply' as const, backend: 'local' });

describe('job ledger', () => {
  it('lets exactly one of many concurrent intents on a site win', async () => {
    const ledgers = Array.from({ length: 20 }, () => new Ledger(dir));
    const results = await Promise.all(ledgers.map((l, i) => l.recordIntent(intent(`job-${i}`))));
    const winners = results.filter(Boolean);
    expect(winners).toHaveLength(1);
    expect((await new Ledger(dir).active('site-a'))?.jobId).toBe(winners[0]?.jobId);
  });

  it('records the backend id after submission and frees the site when the job completes', async () => {
    const ledger = new Ledger(dir);
    const entry = await ledger.recordIntent(intent('job-1'));
    if (!entry) throw new Error('intent refused');
    const submitted = await ledger.recordSubmitted(entry, '/jobs/job-1');
    expect(await ledger.active('site-a')).toMatchObject({ phase: 'submitted', backendId: '/jobs/job-1' });
    await ledger.complete(submitted, { finishedAt: 'now', jobState: 'done', reportStatus: 'ok' });
    expect(await ledger.active('site-a')).toBeUndefined();
    const history = JSON.parse(await readFile(join(dir, 'ledger', 'history', 'job-1.json'), 'utf8'));
    expect(history).toMatchObject({ jobId: 'job-1', jobState: 'done', reportStatus: 'ok' });
    expect(await ledger.recordIntent(intent('job-2'))).toBeTruthy();
  });

  it('does not let a finished job free the lease of a newer one', async () => {
    const ledger = new Ledger(dir);
    const old = await ledger.recordIntent(intent('job-1'));
    if (!old) throw new Error('intent refused');
    await ledger.complete(old, { finishedAt: 'now', jobState: 'done' });
    await ledger.recordIntent(intent('job-2'));
    await ledger.complete(old, { finishedAt: 'later', jobState: 'done' });
    expect((await ledger.active('site-a'))?.jobId).toBe('job-2');
  });

  it('drops the intent of a submitter that died on this host, but not of a live one', async () => {
    const ledger = new Ledger(dir);
    const live = await ledger.recordIntent(intent('job-live'));
    if (!live) throw new Error('intent refused');
    expect(await ledger.dropAbandonedIntent(live)).toBe(false);
    await ledger.complete(live, { finishedAt: 'now', jobState: 'done' });
    const dead = await ledger.recordIntent(intent('job-dead'));
    if (!dead) throw new Error('intent refused');
    const orphan = { ...dead, owner: { ...dead.owner, pid: 2 ** 22 + 12345 } };
    expect(await ledger.dropAbandonedIntent(orphan)).toBe(true);
    expect(await ledger.active('site-a')).toBeUndefined();
  });

  it('remembers which job carried out a plan on a site, and what counts as carried out', async () => {
    const ledger = new Ledger(dir);
    const planId = '0b7c6f1e-2a4d-4c55-9a57-1c7f3f0d9e21';
    expect(await ledger.lastJobOfPlan(planId, 'site-a')).toBeUndefined();
    const never = await ledger.recordIntent({ ...intent('job-never'), planId });
    if (!never) throw new Error('setup failed');
    await ledger.complete(never, { finishedAt: 't1', jobState: 'not-submitted' });
    const first = await ledger.lastJobOfPlan(planId, 'site-a');
    expect(first).toMatchObject({ jobId: 'job-never', planId });
    expect(first && carriedOut(first)).toBe(false);
    const locked = await ledger.recordIntent({ ...intent('job-locked'), planId });
    if (!locked) throw new Error('setup failed');
    await ledger.complete(locked, { finishedAt: 't2', jobState: 'done', reportStatus: 'locked' });
    const second = await ledger.lastJobOfPlan(planId, 'site-a');
    expect(second && carriedOut(second)).toBe(false);
    const done = await ledger.recordIntent({ ...intent('job-done'), planId });
    if (!done) throw new Error('setup failed');
    await ledger.complete(done, { finishedAt: 't3', jobState: 'done', reportStatus: 'ok' });
    const third = await ledger.lastJobOfPlan(planId, 'site-a');
    expect(third).toMatchObject({ jobId: 'job-done', finishedAt: 't3' });
    expect(third && carriedOut(third)).toBe(true);
    expect(await ledger.lastJobOfPlan(planId, 'site-b')).toBeUndefined();
    await expect(ledger.lastJobOfPlan('../../etc', 'site-a')).rejects.toThrow(LedgerError);
  });

  it('refuses to guess on an unreadable ledger entry', async () => {
    const ledger = new Ledger(dir);
    await ledger.recordIntent(intent('job-1'));
    await writeFile(join(dir, 'ledger', 'site-a.json'), '{"jobId": ');
    await expect(ledger.active('site-a')).rejects.toBeInstanceOf(LedgerError);
  });
});

describe('atomic files', () => {
  it('replaces a file whole and leaves no temporary files behind', async () => {
    const path = join(dir, 'state.json');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    expect(await readFile(path, 'utf8')).toBe('two');
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('creates a file exclusively: the second writer is told, the first content stays', async () => {
    const path = join(dir, 'lease');
    expect(await createFileExclusive(path, 'first')).toBe(true);
    expect(await createFileExclusive(path, 'second')).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('first');
    expect(existsSync(path)).toBe(true);
  });
});
