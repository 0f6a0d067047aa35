/** `gridpkg init`: a starter spec that validates and plans against a local site, never an overwrite. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, World } from '../integration/harness.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-init-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gridpkg init', () => {
  it('writes a commented starter spec that validate accepts', async () => {
    const file = join(dir, 'desired-state.yaml');
    const run = await cli(['init', '-f', file, '--vo', 'pvier']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Wrote ${file}: a starter spec with 1 site(s) (MY-SITE)`);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^# gridpkg spec/);
    expect(text).toContain('vo: "pvier"');
    const check = await cli(['validate', '-f', file]);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('valid, 1 site, 1 requirement');
  });

  it('refuses to overwrite an existing file and leaves it as it was (exit 1)', async () => {
    const file = join(dir, 'mine.yaml');
    await writeFile(file, 'my own spec\n');
    const run = await cli(['init', '-f', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file} exists; init never overwrites a file`);
    expect(await readFile(file, 'utf8')).toBe('my own spec\n');
  });

  it('checks the values given by the spec rules and writes nothing when one is bad', async () => {
    const file = join(dir, 'bad.yaml');
    const run = await cli(['init', '-f', file, '--site', 'evil\n::error::x']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('invalid name');
    expect(run.stderr).not.toContain('\n::error');
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('gives a first plan on a local test site named on the command line', async () => {
    const world = await World.create(['dash']);
    try {
      const site = await world.addSite('site-a');
      const repository = world.repositories.get('site-a') ?? '';
      const file = join(world.root, 'first.yaml');
      const init = await cli([
        'init',
        '-f',
        file,
        '--site',
        'site-a',
        '--software-area',
        site.swdir,
        '--repository',
        repository,
      ]);
      expect(init.code).toBe(0);
      const plan = await cli([
        'plan',
        '-f',
        file,
        '--state-dir',
        world.stateDir,
        '-q',
        '--detailed-exitcode',
      ]);
      expect(plan.stdout).toContain('+ math/gsl');
      expect(plan.code).toBe(2);
    } finally {
      await world.dispose();
    }
  });
});
