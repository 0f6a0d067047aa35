import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// `npm test`: unit and integration tests, no services. The end-to-end suites under test/e2e (real sshd, Slurm, ARC)
// have their own command, `npm run test:e2e` (vitest.e2e.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/e2e/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // vitest's default (cores - 1) runs one file at a time on 2 cores. Most test time is spent waiting on the
    // shells and simulator processes a file starts, so two files at a time keep both cores busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Safety nets against a hung test, never performance checks (those are `npm run bench`): a test that starts
    // shells and simulator processes must pass on a machine busy with other work, so the limits are generous.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
