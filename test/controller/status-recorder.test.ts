import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatusRecorder } from '../../src/controller/status-recorder.js';
import type { ControllerEvent } from '../../src/model/events.js';
import { SiteStatusStore } from '../../src/state/site-status.js';
import { ManualClock } from '../support/manual-clock.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-status-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const status = (
  phase: Extract<ControllerEvent, { type: 'site-status' }>['phase'],
  extra = {},
): ControllerEvent => ({
  type: 'site-status',
  site: 'site-a',
  phase,
  sync: 'drifted',
  attempt: 1,
  message: '',
  ...extra,
});

describe('site status on two axes, persisted', () => {
  it('follows a site from drifted and degraded to in sync and healthy, with the time of each transition', async () => {
    const clock = new ManualClock();
    const store = new SiteStatusStore(stateDir);
    const recorder = new StatusRecorder(store, clock);
    recorder.listener(status('progressing', { sync: 'unknown' }));
    recorder.listener({
      type: 'observed',
      site: 'site-a',
      state: 'known',
      reused: false,
      jobId: 'site-a-probe-1',
      observedAt: '2026-12-02T10:00:00.000Z',
    });
    await clock.advance(1000);
    recorder.listener(status('retrying', { message: 'locked by another job', retryInMs: 30_000 }));
    await recorder.flush();
    expect(await store.load('site-a')).toMatchObject({
      sync: 'drifted',
      health: 'degraded',
      observedAt: '2026-12-02T10:00:00.000Z',
      syncSince: '1970-01-01T00:00:01.000Z',
      healthSince: '1970-01-01T00:00:01.000Z',
      lastError: 'locked by another job',
    });
    await clock.advance(30_000);
    recorder.listener(status('progressing', { attempt: 2 }));
    await recorder.flush();
    expect(await store.load('site-a')).toMatchObject({
      health: 'progressing',
      lastError: 'locked by another job',
    });
    recorder.listener(status('converged', { sync: 'in-sync', attempt: 2 }));
    await recorder.flush();
    const converged = await store.load('site-a');
    expect(converged).toMatchObject({
      sync: 'in-sync',
      health: 'healthy',
      attempts: 2,
      syncSince: '1970-01-01T00:00:31.000Z',
    });
    expect(converged?.lastError).toBeUndefined();
  });

  it('marks a site given up on as stalled, and keeps transition times across runs', async () => {
    const clock = new ManualClock();
    const store = new SiteStatusStore(stateDir);
    const first = new StatusRecorder(store, clock);
    first.listener(status('failed', { message: 'blocked: gsl required by root' }));
    await first.flush();
    await clock.advance(60_000);
    const second = new StatusRecorder(store, clock);
    await second.load(['site-a']);
    second.listener(status('failed', { message: 'blocked: gsl required by root', attempt: 1 }));
    await second.flush();
    expect(await store.load('site-a')).toMatchObject({
      health: 'stalled',
      healthSince: '1970-01-01T00:00:00.000Z',
      updatedAt: '1970-01-01T00:01:00.000Z',
    });
  });
});
