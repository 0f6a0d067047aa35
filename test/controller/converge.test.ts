/** The converge loop with a scripted step and a manual clock: attempts, backoff, independence, timeout, events. */
import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../src/controller/backoff.js';
import { converge } from '../../src/controller/converge.js';
import type { StepContext, StepInput, StepResult } from '../../src/controller/reconcile-site.js';
import type { ControllerEvent } from '../../src/model/events.js';
import type { JobContext } from '../../src/reconcile/run-job.js';
import { desired, observed } from '../reconcile/fixtures.js';
import { ManualClock, settle } from '../support/manual-clock.js';

const RETRY: RetryPolicy = { firstDelayMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: 0, maxAttempts: 4 };

const converged: StepResult = {
  outcome: 'converged',
  sync: 'in-sync',
  message: '',
  jobs: ['probe', 'apply'],
};
const retry = (message: string, extra: Partial<StepResult> = {}): StepResult => ({
  outcome: 'retry',
  sync: 'unknown',
  message,
  jobs: ['probe'],
  ...extra,
});

/** Each site answers with its script of results, one per step; `hang` never answers. */
function scripted(scripts: Record<string, Array<StepResult | 'hang'>>) {
  const inputs: Array<{ site: string; input: StepInput; at: number }> = [];
  let clock: ManualClock | undefined;
  const reconcile = async (input: StepInput, _ctx: StepContext): Promise<StepResult> => {
    inputs.push({ site: input.desired.site, input, at: clock?.now() ?? 0 });
    const next = scripts[input.desired.site]?.shift();
    if (next === undefined) throw new Error(`no more results for ${input.desired.site}`);
    if (next === 'hang') return new Promise<StepResult>(() => undefined);
    await settle();
    return next;
  };
  return { reconcile, inputs, bind: (c: ManualClock) => (clock = c) };
}

function run(
  sites: string[],
  script: ReturnType<typeof scripted>,
  options: { timeoutMs?: number; concurrency?: number } = {},
) {
  const clock = new ManualClock();
  script.bind(clock);
  const events: ControllerEvent[] = [];
  const result = converge({
    sites: sites.map((site) => desired([], site)),
    step: { jobs: {} as JobContext, planMeta: { specFile: 'spec.yaml', specDigest: 'sha256:0' }, clock },
    events: (event) => events.push(event),
    concurrency: options.concurrency ?? 8,
    retry: RETRY,
    random: () => 0.5,
    reconcile: script.reconcile,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return { clock, events, result };
}

const statuses = (events: ControllerEvent[], site: string) =>
  events.flatMap((e) =>
    e.type === 'site-status' && e.site === site
      ? [`${e.phase}#${e.attempt}${e.retryInMs !== undefined ? ` in ${e.retryInMs}` : ''}`]
      : [],
  );

describe('converge', () => {
  it('retries a retryable failure after the backoff, and says so in order', async () => {
    const script = scripted({ 'site-a': [retry('CE down'), retry('CE down'), converged] });
    const { clock, events, result } = run(['site-a'], script);
    await settle();
    expect(script.inputs).toHaveLength(1);
    await clock.advance(999);
    expect(script.inputs).toHaveLength(1);
    await clock.advance(1);
    expect(script.inputs).toHaveLength(2);
    await clock.advance(2000);
    expect(await result).toEqual([
      {
        site: 'site-a',
        verdict: 'converged',
        sync: 'in-sync',
        message: '',
        attempts: 3,
        jobs: ['probe', 'probe', 'probe', 'apply'],
      },
    ]);
    expect(statuses(events, 'site-a')).toEqual([
      'progressing#1',
      'retrying#1 in 1000',
      'progressing#2',
      'retrying#2 in 2000',
      'progressing#3',
      'converged#3',
    ]);
  });

  it('stops a site at a terminal failure at once', async () => {
    const script = scripted({
      'site-a': [
        { outcome: 'failed', sync: 'drifted', message: 'blocked: gsl required by root', jobs: ['p'] },
      ],
    });
    const { result } = run(['site-a'], script);
    expect(await result).toMatchObject([
      { verdict: 'failed', attempts: 1, message: 'blocked: gsl required by root' },
    ]);
    expect(script.inputs).toHaveLength(1);
  });

  it('gives up after the attempt limit: unknown when the site was never seen, failed when it was', async () => {
    const script = scripted({
      unseen: Array.from({ length: 4 }, () => retry('job lost')),
      seen: Array.from({ length: 4 }, () => retry('pkg_add failed', { sync: 'drifted' })),
    });
    const { clock, result } = run(['unseen', 'seen'], script);
    await clock.advance(60_000);
    expect(await result).toMatchObject([
      { site: 'unseen', verdict: 'unknown', attempts: 4, message: 'gave up after 4 attempt(s): job lost' },
      { site: 'seen', verdict: 'failed', attempts: 4 },
    ]);
  });

  it('plans again at once after a stale plan, from the observation the step returned', async () => {
    const fresh = observed(['gsl-2.8']);
    const script = scripted({
      'site-a': [retry('stale', { sync: 'drifted', requeueAfterMs: 0, observation: fresh }), converged],
    });
    const { result } = run(['site-a'], script);
    expect(await result).toMatchObject([{ verdict: 'converged', attempts: 2 }]);
    expect(script.inputs[0]?.input.observation).toBeUndefined();
    expect(script.inputs[1]?.input.observation).toBe(fresh);
    expect(script.inputs[1]?.at).toBe(0);
  });

  it('keeps sites independent: one converges and retries while another is still in its first step', async () => {
    const script = scripted({ slow: ['hang'], quick: [retry('locked', { sync: 'drifted' }), converged] });
    const { clock, events, result } = run(['slow', 'quick'], script, { timeoutMs: 10_000 });
    await clock.advance(1000);
    expect(statuses(events, 'quick')).toEqual([
      'progressing#1',
      'retrying#1 in 1000',
      'progressing#2',
      'converged#2',
    ]);
    expect(statuses(events, 'slow')).toEqual(['progressing#1']);
    await clock.advance(9000);
    const [slow, quick] = await result;
    expect(quick?.verdict).toBe('converged');
    expect(slow).toMatchObject({ verdict: 'unknown', attempts: 1 });
    expect(slow?.message).toContain('timed out after 1 attempt(s)');
    expect(slow?.message).toContain('the next run re-attaches');
    expect(statuses(events, 'slow')).toEqual(['progressing#1', 'stopped#1']);
  });

  it('does not wait for a retry that would come after the timeout', async () => {
    const script = scripted({ 'site-a': [retry('CE down', { sync: 'drifted' })] });
    const { result } = run(['site-a'], script, { timeoutMs: 500 });
    expect(await result).toMatchObject([
      { verdict: 'failed', message: 'CE down; no time for another attempt before the timeout' },
    ]);
  });

  it('bounds the steps in flight', async () => {
    const script = scripted({ a: ['hang'], b: ['hang'], c: ['hang'] });
    const { clock, result } = run(['a', 'b', 'c'], script, { concurrency: 2, timeoutMs: 1000 });
    await settle();
    expect(script.inputs.map((i) => i.site)).toEqual(['a', 'b']);
    await clock.advance(1000);
    expect((await result).map((v) => [v.site, v.attempts])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 0],
    ]);
  });
});
