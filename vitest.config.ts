import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// `npm test`: unit and integration tests, no services. The end-to-end suites under test/e2e (real sshd, Slurm, ARC)
// have their own command, `npm run test:e2e` (vitest.e2e.config.ts).

/**
 * Pure in-process tests: no child processes, no module mocks, no fake timers, nothing left in process state that
 * another file reads. They share worker processes (isolate: false): a fresh process and module graph per file cost
 * more than the tests themselves (measured: these folders in 17 s instead of 45 s, half the CPU).
 */
const SHARED_WORKER_FOLDERS = ['pkgsrc', 'protocol', 'report', 'controller', 'spec'].map(
  (folder) => `test/${folder}/**/*.test.ts`,
);

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, 'test/e2e/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // vitest's default (cores - 1) runs one file at a time on 2 cores. Most test time is spent waiting on the
    // shells and simulator processes a file starts, so two files at a time keep both cores busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Safety nets against a hung test, never performance checks (those are `npm run bench`): a test that starts
    // shells and simulator processes must pass on a machine busy with other work, so the limits are generous.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: SHARED_WORKER_FOLDERS, isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/e2e/**', ...SHARED_WORKER_FOLDERS],
        },
      },
    ],
  },
});
