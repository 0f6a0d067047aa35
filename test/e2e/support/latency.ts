/** The README's "one probe job end to end" figures: the same measurement for every backend. */
import { expect } from 'vitest';
import { type JobContext, runSiteJob } from '../../../src/reconcile/run-job.js';
import type { DesiredState } from '../../../src/spec/types.js';

/**
 * Runs `runs` probe jobs one after the other through the real backend, checks each observed the site, prints the
 * median and every time (label first, e.g. "slurm backend"), and returns the median in milliseconds.
 */
export async function measureProbeLatency(
  ctx: JobContext,
  desired: DesiredState,
  options: { runs: number; label: string; note?: string },
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const start = performance.now();
    const result = await runSiteJob(ctx, desired, 'probe');
    times.push(performance.now() - start);
    expect(result.observation.state).toBe('known');
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  console.log(
    `${options.label}: one probe job end to end, median of ${options.runs}: ${median.toFixed(0)} ms ` +
      `(all: ${times.map((t) => t.toFixed(0)).join(', ')} ms${options.note ? `; ${options.note}` : ''})`,
  );
  return median;
}
