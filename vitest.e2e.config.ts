import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:e2e`: the end-to-end suites against real services started by scripts/services/*-up.sh (OpenSSH,
// Slurm, an ARC CE). Without a service its suite skips loudly; with CI=true it fails. Same set-up and safety-net
// timeouts as `npm test`; only the files differ (spread, not mergeConfig, which would add the lists together), and
// there are no projects: `npm test`'s split into shared-worker unit tests and the rest is about its files only.
const { projects: _onlyForNpmTest, ...shared } = base.test ?? {};
export default defineConfig({
  ...base,
  test: {
    ...shared,
    include: ['test/e2e/**/*.e2e.test.ts'],
    exclude: [...configDefaults.exclude],
  },
});
