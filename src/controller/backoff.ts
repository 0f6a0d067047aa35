/**
 * When to try a site again after a retryable failure: exponential backoff with jitter, so that sites that failed
 * together (a CE that was down) do not all come back in the same second. Pure.
 */
export interface RetryPolicy {
  /** Delay after the first failed attempt. */
  firstDelayMs: number;
  /** Each further failed attempt multiplies the delay by this. */
  factor: number;
  maxDelayMs: number;
  /** Fraction of the delay by which it is moved at random, up or down (0: none). */
  jitter: number;
  /** Attempts per site; after the last one the site is given up (converge) or stalled (watch). */
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  firstDelayMs: 30_000,
  factor: 2,
  maxDelayMs: 30 * 60_000,
  jitter: 0.2,
  maxAttempts: 5,
};

/** The wait after `failedAttempts` (1 or more) failed attempts in a row. `random` returns [0, 1). */
export function retryDelay(
  failedAttempts: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const base = Math.min(policy.maxDelayMs, policy.firstDelayMs * policy.factor ** exponent);
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(Math.min(policy.maxDelayMs, base - spread + 2 * spread * random())));
}
