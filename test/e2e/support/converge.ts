/** The converge scenario every backend's end-to-end suite runs through the engine against a simulated site. */
import { readdir } from 'node:fs/promises';
import { expect } from 'vitest';
import { applyPlan, planSites } from '../../../src/reconcile/engine.js';
import type { JobContext } from '../../../src/reconcile/run-job.js';
import type { DesiredState } from '../../../src/spec/types.js';

/**
 * For a site that has gsl-2.7nb1 and must have math/gsl and math/root: plan (changes), apply (ok), the package
 * database holds root and its dependencies next to the kept gsl, and a second plan finds the site in sync.
 */
export async function expectConverges(ctx: JobContext, desired: DesiredState, pkgdb: string): Promise<void> {
  const options = { concurrency: 1, specFile: 'spec.yaml', specDigest: 'x' };
  const plan = await planSites(ctx, [desired], options);
  expect(plan.sites[0]?.outcome).toBe('changes');
  const results = await applyPlan(ctx, plan, { concurrency: 1 });
  expect(results.map((r) => [r.site, r.status])).toEqual([[desired.site, 'ok']]);
  const installed = (await readdir(pkgdb)).filter((n) => /^(gsl|root|fftw|python311|zlib)-/.test(n)).sort();
  expect(installed).toEqual(['fftw-3.3.10', 'gsl-2.7nb1', 'python311-3.11.7', 'root-6.30.02', 'zlib-1.3.1']);
  const again = await planSites(ctx, [desired], options);
  expect(again.sites[0]?.outcome).toBe('in-sync');
}
