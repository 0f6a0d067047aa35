import { configDefaults, defineConfig } from 'vitest/config';

// `npm test`: unit and integration tests, no services. The end-to-end suites under test/e2e (real sshd, Slurm, ARC)
// have their own command, `npm run test:e2e` (vitest.e2e.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/e2e/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Safety nets against a hung test, never performance checks (those are `npm run bench`): a test that starts
    // shells and simulator processes must pass on a machine busy with other work, so the limits are generous.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
