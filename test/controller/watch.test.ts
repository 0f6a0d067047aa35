/** The watch loop with a scripted step and a manual clock: changed sites only, resync, backoff, stall, drain. */
import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../src/controller/backoff.js';
import type { StepContext, StepInput, StepResult } from '../../src/controller/reconcile-site.js';
import { resyncDelay, WatchLoop } from '../../src/controller/watch.js';
import type { ControllerEvent } from '../../src/model/events.js';
import type { JobContext } from '../../src/reconcile/run-job.js';
import type { DesiredState } from '../../src/spec/types.js';
import { desired, observed, requirement } from '../reconcile/fixtures.js';
import { ManualClock, settle } from '../support/manual-clock.js';

const RETRY: RetryPolicy = { firstDelayMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: 0, maxAttempts: 3 };
const HOUR = 3_600_000;

const converged = (): StepResult => ({
  outcome: 'converged',
  sync: 'in-sync',
  message: '',
  jobs: ['probe'],
  observation: observed([]),
});
const retry = (): StepResult => ({ outcome: 'retry', sync: 'unknown', message: 'CE down', jobs: [] });

interface Call {
  site: string;
  at: number;
  input: StepInput;
  ctx: StepContext;
}

/** Every site answers with `answer(site)`, or waits for `release(site)` when held. */
function harness(
  answer: (site: string) => StepResult,
  options: { random?: () => number; observeOnly?: boolean } = {},
) {
  const clock = new ManualClock();
  const calls: Call[] = [];
  const events: ControllerEvent[] = [];
  const held = new Map<string, () => void>();
  const holding = new Set<string>();
  const loop = new WatchLoop({
    step: { jobs: {} as JobContext, clock },
    events: (event) => events.push(event),
    concurrency: 8,
    retry: RETRY,
    resync: { intervalMs: HOUR, jitter: 0.1 },
    random: options.random ?? (() => 0.5),
    ...(options.observeOnly ? { observeOnly: true } : {}),
    reconcile: async (input, ctx) => {
      const site = input.desired.site;
      calls.push({ site, at: clock.now(), input, ctx });
      if (holding.has(site)) await new Promise<void>((resolve) => held.set(site, resolve));
      return answer(site);
    },
  });
  const spec = (sites: DesiredState[]) => ({ sites, planMeta: { specFile: 'spec.yaml', specDigest: 'd' } });
  const stepsOf = (site: string) => calls.filter((c) => c.site === site);
  const phases = (site: string) =>
    events.flatMap((e) => (e.type === 'site-status' && e.site === site ? [e.phase] : []));
  return { clock, calls, events, loop, spec, stepsOf, phases, holding, held };
}

describe('resync delay', () => {
  it('stays within the interval plus or minus the jitter', () => {
    const policy = { intervalMs: HOUR, jitter: 0.1 };
    expect(resyncDelay(policy, () => 0)).toBe(0.9 * HOUR);
    expect(resyncDelay(policy, () => 0.5)).toBe(HOUR);
    expect(resyncDelay(policy, () => 0.999999)).toBeLessThanOrEqual(1.1 * HOUR);
    expect(resyncDelay(policy, () => 0.999999)).toBeGreaterThan(1.09 * HOUR);
  });
});

describe('the watch loop', () => {
  it('reconciles every site at start, then probes each again at its resync time (jitter applied), afresh', async () => {
    // a's resync is drawn first (the shortest wait), b's second (the longest).
    const draws = [0, 0.999999];
    const h = harness(converged, { random: () => draws.shift() ?? 0.5 });
    h.loop.update(h.spec([desired([], 'a'), desired([], 'b')]));
    await h.clock.advance(0);
    expect(h.calls.map((c) => c.site).sort()).toEqual(['a', 'b']);
    expect(h.phases('a')).toEqual(['progressing', 'converged']);

    await h.clock.advance(0.9 * HOUR - 1);
    expect(h.stepsOf('a')).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.stepsOf('a')).toHaveLength(2);
    // A resync probes: the observation the first step left is not passed on.
    expect(h.stepsOf('a')[1]?.input.observation).toBeUndefined();
    expect(h.stepsOf('b')).toHaveLength(1);
    await h.clock.advance(0.2 * HOUR);
    expect(h.stepsOf('b')).toHaveLength(2);
  });

  it("uses a site's own resync interval from the spec", async () => {
    const h = harness(converged);
    h.loop.update(h.spec([{ ...desired([], 'a'), resyncSeconds: 60 }, desired([], 'b')]));
    await h.clock.advance(60_000);
    expect(h.stepsOf('a')).toHaveLength(2);
    expect(h.stepsOf('b')).toHaveLength(1);
  });

  it('reconciles only the sites whose resolved desired state changed, reusing their last observation', async () => {
    const h = harness(converged);
    const a = desired([requirement('math/gsl')], 'a');
    const b = desired([requirement('math/gsl')], 'b');
    h.loop.update(h.spec([a, b]));
    await h.clock.advance(0);
    expect(h.calls).toHaveLength(2);

    // Only where a requirement was written moved (a comment added above it): no change of meaning.
    const moved = {
      ...a,
      requirements: [{ ...requirement('math/gsl'), source: { file: 'spec.yaml', line: 9, column: 3 } }],
    };
    const same = h.loop.update(h.spec([moved, b]));
    expect(same).toEqual({ changed: [], removed: [], unchanged: 2 });
    const changed = h.loop.update(h.spec([moved, desired([requirement('math/fftw')], 'b')]));
    expect(changed).toEqual({ changed: ['b'], removed: [], unchanged: 1 });
    await h.clock.advance(0);
    expect(h.calls.map((c) => c.site)).toEqual(['a', 'b', 'b']);
    expect(h.stepsOf('b')[1]?.input.desired.requirements[0]?.pkgpath).toBe('math/fftw');
    expect(h.stepsOf('b')[1]?.input.observation).toBeDefined();
  });

  it('counts a change of backend settings as a change of the site', async () => {
    const h = harness(converged);
    const a = desired([], 'a');
    h.loop.update(h.spec([a]));
    await h.clock.advance(0);
    const update = h.loop.update(
      h.spec([{ ...a, backend: { type: 'local', shell: ['bash'], environment: {} } }]),
    );
    expect(update.changed).toEqual(['a']);
    await h.clock.advance(0);
    expect(h.stepsOf('a')[1]?.input.desired.backend).toMatchObject({ shell: ['bash'] });
  });

  it('retries with exponential backoff, stalls at the attempt limit, and un-stalls when the site changes', async () => {
    const h = harness(retry);
    h.loop.update(h.spec([desired([], 'a')]));
    await h.clock.advance(0);
    await h.clock.advance(10 * HOUR);
    expect(h.stepsOf('a').map((c) => c.at)).toEqual([0, 1000, 3000]);
    const retrying = h.events.flatMap((e) =>
      e.type === 'site-status' && e.phase === 'retrying' ? [e.retryInMs] : [],
    );
    expect(retrying).toEqual([1000, 2000]);
    expect(h.phases('a').at(-1)).toBe('stalled');
    const stall = h.events.at(-1);
    expect(stall).toMatchObject({ phase: 'stalled', attempt: 3 });
    expect(stall?.type === 'site-status' && stall.message).toMatch(
      /^gave up after 3 attempt\(s\): CE down; left alone until/,
    );
    expect(h.loop.stalledSites()).toEqual(['a']);

    // The same desired state again (a reload that changed another site) leaves it stalled.
    h.loop.update(h.spec([desired([], 'a')]));
    await h.clock.advance(HOUR);
    expect(h.stepsOf('a')).toHaveLength(3);
    // A change of it starts a new series of attempts.
    h.loop.update(h.spec([desired([requirement('math/gsl')], 'a')]));
    await h.clock.advance(0);
    expect(h.stepsOf('a')).toHaveLength(4);
    expect(h.events.filter((e) => e.type === 'site-status').at(-2)).toMatchObject({
      phase: 'progressing',
      attempt: 1,
    });
  });

  it('stalls at once on a failure that needs a person; SIGHUP (retryStalled) tries it again', async () => {
    const h = harness(() => ({ outcome: 'failed', sync: 'drifted', message: 'blocked: x', jobs: [] }));
    h.loop.update(h.spec([desired([], 'a')]));
    await h.clock.advance(HOUR);
    expect(h.stepsOf('a')).toHaveLength(1);
    expect(h.phases('a')).toEqual(['progressing', 'stalled']);
    expect(h.loop.retryStalled()).toEqual(['a']);
    await h.clock.advance(0);
    expect(h.stepsOf('a')).toHaveLength(2);
  });

  it('observe-only: every step is told not to apply; a drifted site is reported and resynced, not retried', async () => {
    const h = harness(
      () => ({ outcome: 'drifted', sync: 'drifted', message: '1 change(s) pending', jobs: ['probe'] }),
      { observeOnly: true },
    );
    h.loop.update(h.spec([desired([], 'a')]));
    await h.clock.advance(0);
    expect(h.calls[0]?.ctx.observeOnly).toBe(true);
    expect(h.phases('a')).toEqual(['progressing', 'observed']);
    await h.clock.advance(0.5 * HOUR);
    expect(h.stepsOf('a')).toHaveLength(1);
    await h.clock.advance(0.6 * HOUR);
    expect(h.stepsOf('a')).toHaveLength(2);
  });

  it('drops the result of a step that began before its site changed, and runs the new desired state next', async () => {
    const h = harness(converged);
    h.holding.add('a');
    h.loop.update(h.spec([desired([], 'a')]));
    await h.clock.advance(0);
    h.loop.update(h.spec([desired([requirement('math/gsl')], 'a')]));
    h.holding.delete('a');
    h.held.get('a')?.();
    await h.clock.advance(0);
    expect(h.stepsOf('a')).toHaveLength(2);
    expect(h.stepsOf('a')[1]?.input.desired.requirements).toHaveLength(1);
    // One verdict: the step of the old desired state said nothing.
    expect(h.phases('a')).toEqual(['progressing', 'progressing', 'converged']);
  });

  it('stop: nothing new starts, the step under way is waited for within the grace time', async () => {
    const h = harness(converged);
    h.holding.add('a');
    h.loop.update(h.spec([desired([], 'a'), desired([], 'b')]));
    await h.clock.advance(0);
    h.loop.stop('SIGTERM');
    expect(h.calls[0]?.ctx.signal?.aborted).toBe(true);
    const drained = h.loop.drain(60_000);
    await h.clock.advance(30_000);
    h.held.get('a')?.();
    expect(await drained).toEqual([]);
    expect(h.phases('a').at(-1)).toBe('stopped');
    // b converged before the stop and its resync was cancelled: no step after it.
    await h.clock.advance(10 * HOUR);
    expect(h.calls.map((c) => c.site).sort()).toEqual(['a', 'b']);
    h.loop.update(h.spec([desired([requirement('math/gsl')], 'b')]));
    await h.clock.advance(0);
    expect(h.calls).toHaveLength(2);
  });

  it('stops, and says so, when a step throws (a bug)', async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const loop = new WatchLoop({
      step: { jobs: {} as JobContext, clock },
      events: () => undefined,
      concurrency: 1,
      retry: RETRY,
      resync: { intervalMs: HOUR, jitter: 0 },
      reconcile: async () => {
        throw new TypeError('boom');
      },
      onError: (error) => errors.push(error),
    });
    loop.update({ sites: [desired([], 'a')], planMeta: { specFile: 's', specDigest: 'd' } });
    await clock.advance(0);
    expect(errors).toHaveLength(1);
    expect(loop.stopped).toBe(true);
    expect(loop.error).toBeInstanceOf(TypeError);
  });

  it('stop: a step that does not end within the grace time is named, and not waited for', async () => {
    const h = harness(converged);
    h.holding.add('a');
    h.loop.update(h.spec([desired([], 'a')]));
    await h.clock.advance(0);
    h.loop.stop();
    const drained = h.loop.drain(60_000);
    await h.clock.advance(60_000);
    expect(await drained).toEqual(['a']);
    await settle();
  });
});
