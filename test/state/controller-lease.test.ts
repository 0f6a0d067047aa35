import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControllerLease, ControllerLeaseError, type LeaseRecord } from '../../src/state/controller-lease.js';
import { ManualClock } from '../support/manual-clock.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-lease-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const leaseFile = () => join(stateDir, 'controller.lease');
const readRecord = async () => JSON.parse(await readFile(leaseFile(), 'utf8')) as LeaseRecord;
const writeRecord = (record: Partial<LeaseRecord>) =>
  writeFile(
    leaseFile(),
    JSON.stringify({
      id: 'other',
      command: 'watch',
      host: hostname(),
      pid: process.pid,
      acquiredAt: '2026-12-02T08:00:00.000Z',
      heartbeatAt: '2026-12-02T09:00:00.000Z',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      ...record,
    }),
  );

describe('the controller lease: one active controller per state directory', () => {
  it('records its holder, refuses a second controller naming the holder, and is free again after release', async () => {
    const clock = new ManualClock();
    const first = await ControllerLease.acquire(stateDir, { command: 'converge', clock });
    expect(await readRecord()).toMatchObject({ command: 'converge', host: hostname(), pid: process.pid });
    const second = ControllerLease.acquire(stateDir, { command: 'converge', clock });
    await expect(second).rejects.toThrow(ControllerLeaseError);
    await expect(second).rejects.toThrow(
      new RegExp(
        `another gridpkg converge \\(pid ${process.pid} on this host\\) has been controlling this state directory since`,
      ),
    );
    await first.release();
    const third = await ControllerLease.acquire(stateDir, { command: 'converge', clock });
    await third.release();
  });

  it('takes over the lease of a holder whose process is gone', async () => {
    const dead = spawnSync('true').pid;
    await writeRecord({ pid: dead });
    const lease = await ControllerLease.acquire(stateDir, { command: 'converge', clock: new ManualClock() });
    expect((await readRecord()).id).toBe(lease.holder.id);
    await lease.release();
  });

  it('takes over an expired lease of another host, and refuses one that has not expired', async () => {
    await writeRecord({
      host: 'elsewhere.example.org',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    const clock = { now: () => Date.now(), after: () => () => undefined };
    await expect(ControllerLease.acquire(stateDir, { command: 'converge', clock })).rejects.toThrow(
      'pid', // names the holder
    );
    await writeRecord({
      host: 'elsewhere.example.org',
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    const lease = await ControllerLease.acquire(stateDir, { command: 'converge', clock });
    expect((await readRecord()).host).toBe(hostname());
    await lease.release();
  });

  it('keeps its lease alive with heartbeats, and says so when another controller took it over', async () => {
    // A clock whose timers the test fires by hand, so that each heartbeat can be awaited.
    let now = Date.parse('2026-12-02T10:00:00Z');
    const timers: number[] = [];
    const clock = {
      now: () => now,
      after: (ms: number) => {
        timers.push(ms);
        return () => undefined;
      },
    };
    const lost: Array<LeaseRecord | undefined> = [];
    const lease = await ControllerLease.acquire(stateDir, {
      command: 'converge',
      clock,
      ttlMs: 90_000,
      onLost: (holder) => lost.push(holder),
    });
    expect(timers).toEqual([30_000]);
    now += 30_000;
    await lease.heartbeat();
    expect(await readRecord()).toMatchObject({
      heartbeatAt: '2026-12-02T10:00:30.000Z',
      expiresAt: '2026-12-02T10:02:00.000Z',
    });
    expect(timers).toEqual([30_000, 30_000]);
    await writeRecord({ id: 'usurper', command: 'watch' });
    await lease.heartbeat();
    expect(lost.map((holder) => holder?.id)).toEqual(['usurper']);
    await lease.release();
    expect((await readRecord()).id).toBe('usurper'); // not ours to remove
  });

  it('refuses an unreadable lease file, saying what to do', async () => {
    await writeFile(leaseFile(), 'not json');
    await expect(
      ControllerLease.acquire(stateDir, { command: 'converge', clock: new ManualClock() }),
    ).rejects.toThrow(/unreadable; if no gridpkg converge or watch runs on this state directory, delete it/);
  });
});
