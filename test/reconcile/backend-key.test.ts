/** One backend object per site and settings: a spec edit of a site's backend gets a new object. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobContext } from '../../src/reconcile/controller.js';
import { desired } from './fixtures.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-backends-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('backends of a job context', () => {
  it('are shared by a site with the same settings (in any key order), and new when the settings change', async () => {
    const context = createJobContext({ stateDir });
    const a = desired([], 'a');
    const first = context.backendFor(a);
    expect(
      context.backendFor({ ...a, backend: { environment: {}, shell: ['/bin/sh'], type: 'local' } }),
    ).toBe(first);
    const edited = context.backendFor({ ...a, backend: { type: 'local', shell: ['bash'], environment: {} } });
    expect(edited).not.toBe(first);
    expect(context.backendFor(desired([], 'b'))).not.toBe(first);
    await context.close?.();
  });
});
