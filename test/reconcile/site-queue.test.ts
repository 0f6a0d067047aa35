import { describe, expect, it } from 'vitest';
import { SiteQueue } from '../../src/reconcile/site-queue.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('site queue', () => {
  it('never runs two pieces of work of one site at once, but runs sites in parallel', async () => {
    const queue = new SiteQueue();
    const running = new Map<string, number>();
    let maxPerSite = 0;
    let maxOverall = 0;
    const work = (site: string) =>
      queue.run(site, async () => {
        running.set(site, (running.get(site) ?? 0) + 1);
        maxPerSite = Math.max(maxPerSite, running.get(site) ?? 0);
        maxOverall = Math.max(
          maxOverall,
          [...running.values()].reduce((a, b) => a + b, 0),
        );
        await tick(5);
        running.set(site, (running.get(site) ?? 0) - 1);
      });
    await Promise.all(['a', 'b', 'a', 'c', 'a', 'b'].map(work));
    expect(maxPerSite).toBe(1);
    expect(maxOverall).toBeGreaterThan(1);
  });

  it('keeps going after a failed piece of work and preserves order', async () => {
    const queue = new SiteQueue();
    const order: number[] = [];
    const first = queue.run('a', async () => {
      order.push(1);
      throw new Error('boom');
    });
    const second = queue.run('a', async () => {
      order.push(2);
      return 'ok';
    });
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe('ok');
    expect(order).toEqual([1, 2]);
  });
});
