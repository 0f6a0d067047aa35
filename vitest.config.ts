import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Safety nets against a hung test, never performance checks (those are `npm run bench`): a test that starts
    // shells and simulator processes must pass on a machine busy with other work, so the limits are generous.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
