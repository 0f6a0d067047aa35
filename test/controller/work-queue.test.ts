import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/controller/work-queue.js';
import { ManualClock, settle } from '../support/manual-clock.js';

/** Work whose every run waits until the test ends it, recording starts and ends. */
function gatedWork() {
  const log: string[] = [];
  const gates = new Map<string, Array<() => void>>();
  const running = new Map<string, number>();
  let maxPerKey = 0;
  const work = (key: string) =>
    new Promise<void>((resolve) => {
      log.push(`start ${key}`);
      running.set(key, (running.get(key) ?? 0) + 1);
      maxPerKey = Math.max(maxPerKey, running.get(key) ?? 0);
      gates.set(key, [
        ...(gates.get(key) ?? []),
        () => {
          running.set(key, (running.get(key) ?? 1) - 1);
          log.push(`end ${key}`);
          resolve();
        },
      ]);
    });
  const finish = async (key: string) => {
    const gate = gates.get(key)?.shift();
    if (!gate) throw new Error(`${key} is not running`);
    gate();
    await settle();
  };
  return { work, finish, log, maxPerKey: () => maxPerKey };
}

describe('the work queue keyed by site', () => {
  it('never works on one site twice at once: a site added while running runs again after', async () => {
    const clock = new ManualClock();
    const { work, finish, log, maxPerKey } = gatedWork();
    const queue = new WorkQueue(work, { concurrency: 4, clock });
    queue.add('a');
    await settle();
    queue.add('a');
    queue.add('a');
    await settle();
    expect(log).toEqual(['start a']);
    await finish('a');
    expect(log).toEqual(['start a', 'end a', 'start a']);
    await finish('a');
    expect(log).toEqual(['start a', 'end a', 'start a', 'end a']);
    expect(maxPerKey()).toBe(1);
    await queue.idle();
  });

  it('keeps sites independent: a slow site holds up no other', async () => {
    const clock = new ManualClock();
    const { work, finish, log } = gatedWork();
    const queue = new WorkQueue(work, { concurrency: 2, clock });
    queue.add('slow');
    queue.add('fast');
    await settle();
    await finish('fast');
    queue.add('fast');
    await settle();
    await finish('fast');
    expect(log).toEqual(['start slow', 'start fast', 'end fast', 'start fast', 'end fast']);
    await finish('slow');
  });

  it('works on at most `concurrency` sites at once, the others in the order they came', async () => {
    const clock = new ManualClock();
    const { work, finish, log } = gatedWork();
    const queue = new WorkQueue(work, { concurrency: 2, clock });
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    await settle();
    expect(queue.counts).toEqual({ pending: 2, active: 2, waiting: 0 });
    await finish('b');
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    await finish('a');
    await finish('c');
    await finish('d');
    await queue.idle();
  });

  it('brings a site back after a delay, once, at the earliest time asked', async () => {
    const clock = new ManualClock();
    const { work, finish, log } = gatedWork();
    const queue = new WorkQueue(work, { concurrency: 1, clock });
    queue.addAfter('a', 5000);
    queue.addAfter('a', 1000);
    queue.addAfter('a', 3000);
    await clock.advance(999);
    expect(log).toEqual([]);
    await clock.advance(1);
    expect(log).toEqual(['start a']);
    await finish('a');
    await clock.advance(10_000);
    expect(log).toEqual(['start a', 'end a']);
    await queue.idle();
  });

  it('an add now supersedes a delayed one', async () => {
    const clock = new ManualClock();
    const { work, finish, log } = gatedWork();
    const queue = new WorkQueue(work, { concurrency: 1, clock });
    queue.addAfter('a', 1000);
    queue.add('a');
    await settle();
    await finish('a');
    await clock.advance(2000);
    expect(log).toEqual(['start a', 'end a']);
  });

  it('stop drops queued and delayed sites and lets work under way end', async () => {
    const clock = new ManualClock();
    const { work, finish, log } = gatedWork();
    const queue = new WorkQueue(work, { concurrency: 1, clock });
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 10);
    await settle();
    queue.stop();
    queue.add('d');
    await clock.advance(100);
    await finish('a');
    await queue.idle();
    expect(log).toEqual(['start a', 'end a']);
    expect(clock.pending()).toEqual([]);
  });

  it('idle rejects with the error a work function threw', async () => {
    const queue = new WorkQueue(
      async (key: string) => {
        if (key === 'bad') throw new TypeError('bug');
      },
      { concurrency: 1, clock: new ManualClock() },
    );
    queue.add('good');
    queue.add('bad');
    await expect(queue.idle()).rejects.toThrow('bug');
  });
});
