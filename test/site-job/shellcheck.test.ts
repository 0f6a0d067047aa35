import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requireTool } from './support.js';

const SCRIPT = fileURLToPath(new URL('../../src/grid/site-job.sh', import.meta.url));
const available = requireTool('shellcheck', 'the shellcheck lint of src/grid/site-job.sh');

describe('site-job.sh', () => {
  it.skipIf(!available)('passes shellcheck -s sh with no findings', () => {
    const run = spawnSync('shellcheck', ['-s', 'sh', '--format', 'gcc', SCRIPT], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('carries no blanket shellcheck disables', async () => {
    const text = await readFile(SCRIPT, 'utf8');
    expect(text).not.toMatch(/shellcheck\s+disable/);
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
  });
});

describe('the service and CI scripts', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  it.skipIf(!available)('pass shellcheck with no findings', async () => {
    const services = (await readdir(`${root}scripts/services`)).filter((name) => name.endsWith('.sh'));
    expect(services).toContain('arc-up.sh');
    const files = [...services.map((name) => `${root}scripts/services/${name}`), `${root}.ci/run`];
    const run = spawnSync('shellcheck', ['--format', 'gcc', ...files], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
