/**
 * What `converge` and `watch` do alike with one attempt on one site: count it, say it started, run the reconcile
 * step, keep its jobs and observation; and, after a retryable failure, decide between another attempt (after a
 * backoff with jitter, or when the step asked) and giving up at the attempt limit. Each loop decides the rest:
 * converge ends the site, watch resyncs or stalls it.
 */
import type { EventSink } from '../model/events.js';
import type { Observation } from '../reconcile/observation.js';
import type { DesiredState } from '../spec/types.js';
import { type RetryPolicy, retryDelay } from './backoff.js';
import type { StepContext, StepInput, StepResult } from './reconcile-site.js';

export type ReconcileStep = (input: StepInput, ctx: StepContext) => Promise<StepResult>;

export interface AttemptState {
  desired: DesiredState;
  /** Attempts in a row so far (converge: of the run; watch: since the site last converged or changed). */
  attempts: number;
  /** Ids of the jobs run (or re-attached to) for the site, in order. */
  jobs: string[];
  /** The newest known observation, reused by the next attempt instead of a probe. */
  observation: Observation | undefined;
  last: StepResult | undefined;
}

export async function runAttempt(
  state: AttemptState,
  reconcile: ReconcileStep,
  ctx: StepContext,
  events: EventSink,
): Promise<StepResult> {
  state.attempts++;
  events({
    type: 'site-status',
    site: state.desired.site,
    phase: 'progressing',
    sync: state.last?.sync ?? 'unknown',
    attempt: state.attempts,
    message: '',
  });
  const input: StepInput = {
    desired: state.desired,
    ...(state.observation ? { observation: state.observation } : {}),
  };
  const result = await reconcile(input, ctx);
  state.jobs.push(...result.jobs);
  state.observation = result.observation;
  state.last = result;
  return result;
}

/** After a retryable failure: the wait before the next attempt, or why there is none (the attempt limit). */
export function nextAttempt(
  state: AttemptState,
  result: StepResult,
  retry: RetryPolicy,
  random?: () => number,
): { delayMs: number } | { giveUp: string } {
  if (state.attempts >= retry.maxAttempts)
    return { giveUp: `gave up after ${state.attempts} attempt(s): ${result.message}` };
  return { delayMs: result.requeueAfterMs ?? retryDelay(state.attempts, retry, random) };
}

/** Tells that the site is tried again after `delayMs` (the caller queues it). */
export function announceRetry(
  state: AttemptState,
  result: StepResult,
  delayMs: number,
  events: EventSink,
): void {
  events({
    type: 'site-status',
    site: state.desired.site,
    phase: 'retrying',
    sync: result.sync,
    attempt: state.attempts,
    message: result.message,
    retryInMs: delayMs,
  });
}
