import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retryDelay } from '../../src/controller/backoff.js';

const policy: RetryPolicy = {
  firstDelayMs: 30_000,
  factor: 2,
  maxDelayMs: 30 * 60_000,
  jitter: 0.2,
  maxAttempts: 5,
};
const middle = () => 0.5;

describe('retry backoff', () => {
  it('doubles from the first delay after each failed attempt', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, policy, middle))).toEqual([
      30_000, 60_000, 120_000, 240_000,
    ]);
  });

  it('never waits longer than the maximum, jitter included', () => {
    for (const random of [0, 0.5, 0.999])
      expect(retryDelay(20, policy, () => random)).toBeLessThanOrEqual(1_800_000);
    expect(retryDelay(20, policy, middle)).toBe(1_800_000);
  });

  it('spreads sites that failed together by up to the jitter fraction either way', () => {
    expect(retryDelay(1, policy, () => 0)).toBe(24_000);
    expect(retryDelay(1, policy, () => 0.999_999)).toBeCloseTo(36_000, -1);
    const delays = new Set([0.1, 0.3, 0.7, 0.9].map((r) => retryDelay(2, policy, () => r)));
    expect(delays.size).toBe(4);
  });

  it('has the documented defaults: 30 s, doubling, up to 30 min, 5 attempts', () => {
    expect(DEFAULT_RETRY_POLICY).toMatchObject({
      firstDelayMs: 30_000,
      factor: 2,
      maxDelayMs: 1_800_000,
      maxAttempts: 5,
    });
  });
});
