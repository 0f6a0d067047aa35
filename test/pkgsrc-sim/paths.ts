// Where the pkgsrc simulator (a test and demo double, see README.md) finds its bundle and fixtures. This module is
// used both from source (test/pkgsrc-sim/*.ts under vitest/tsx) and from the esbuild bundle build/pkgsrc-sim.cjs,
// so every path is derived from import.meta.url, never from the current directory.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUNDLE_NAME = 'pkgsrc-sim.cjs';

const here = fileURLToPath(import.meta.url);
const inBundle = path.basename(here) === BUNDLE_NAME;

/** The repository root: build/.. when running from the bundle, test/pkgsrc-sim/../.. when running from source. */
export const REPO_ROOT = inBundle
  ? path.resolve(path.dirname(here), '..')
  : path.resolve(path.dirname(here), '../..');

/** Absolute path of the bundled simulator that the per-site wrapper scripts exec. */
export const BUNDLE_PATH = path.join(REPO_ROOT, 'build', BUNDLE_NAME);

/** test/fixtures/repository: package definitions and the vulnerability list. */
export const FIXTURE_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'repository');
