/**
 * The `gridpkg` command as users get it: the npm package (`npm pack`, then `npm install -g` into a temporary
 * prefix; `npm link` from the checkout into another) and the self-contained executable (`npm run build:exe`), each
 * run as a separate program against a simulated local site (the pkgsrc simulator, a test and demo double). Slow (a build, an npm install, a 100 MB
 * executable): an end-to-end suite.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { World } from '../../integration/harness.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; a non-zero exit is a result, not an exception. */
async function exec(
  file: string,
  args: string[],
  cwd = ROOT,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, {
      cwd,
      env: { ...env, NO_COLOR: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let world: World;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gridpkg-package-'));
  world = await World.create(['dash']);
  await world.addSite('site-a');
  await world.writeSpec({ 'site-a': '      - math/gsl' });
});
afterAll(async () => {
  await world.dispose();
  await rm(tmp, { recursive: true, force: true });
});

/** `gridpkg --version`, `version`, `validate` and `plan` as a user runs them, from another directory. */
async function expectWorkingCommand(gridpkg: string): Promise<void> {
  const shown = await exec(gridpkg, ['--version'], tmp);
  expect(shown).toMatchObject({ code: 0, stdout: `${version}\n` });
  const valid = await exec(gridpkg, ['validate', '-f', world.specFile], tmp);
  expect(valid.stdout).toContain('valid, 1 site, 1 requirement');
  expect(valid.code).toBe(0);
  const plan = await exec(
    gridpkg,
    ['plan', '-f', world.specFile, '--state-dir', world.stateDir, '-q', '--detailed-exitcode'],
    tmp,
  );
  expect(plan.stdout).toContain('+ math/gsl');
  expect(plan.code).toBe(2);
}

describe('the npm package', () => {
  it('installs with npm install -g from the packed tarball and runs from its installed location', async () => {
    expect((await exec('npm', ['run', 'build'])).code).toBe(0);
    const packed = await exec('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, '--json']);
    expect(packed.code).toBe(0);
    const [tarball] = JSON.parse(packed.stdout) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    if (tarball === undefined) throw new Error(`npm pack reported no tarball: ${packed.stdout}`);
    const { filename, files } = tarball;
    // The runtime assets are in the tarball; the tests and the sources are not.
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(
      expect.arrayContaining(['dist/cli/main.js', 'dist/grid/site-job.sh', 'schemas/plan.schema.json']),
    );
    expect(paths.filter((path) => path.startsWith('test/') || path.startsWith('src/cli/'))).toEqual([]);
    const prefix = join(tmp, 'prefix');
    const install = await exec('npm', [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(tmp, filename),
    ]);
    expect(install.stderr).not.toMatch(/ERR!/);
    expect(install.code).toBe(0);
    await expectWorkingCommand(join(prefix, 'bin', 'gridpkg'));
  });

  it('is put on the PATH by npm link, as the README sets it up from a checkout', async () => {
    expect((await exec('npm', ['run', 'build'])).code).toBe(0);
    // npm link links into npm's global prefix: a temporary one keeps the machine's untouched. The npm_* settings
    // that `npx vitest` passes down (its own prefixes among them) are left out, as in a user's shell.
    const prefix = join(tmp, 'link-prefix');
    const userEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
    const link = await exec('npm', ['link', '--no-audit', '--no-fund', '--ignore-scripts'], ROOT, {
      ...userEnv,
      npm_config_prefix: prefix,
    });
    expect(link.stderr).not.toMatch(/ERR!/);
    expect(link.code).toBe(0);
    await expectWorkingCommand(join(prefix, 'bin', 'gridpkg'));
  });
});

describe('the self-contained executable', () => {
  it('is built by npm run build:exe and plans and applies with its embedded job script and schemas', async () => {
    const built = await exec('npm', ['run', 'build:exe']);
    expect(built.stderr).not.toMatch(/Error/);
    expect(built.code).toBe(0);
    const exe = join(ROOT, 'build', 'gridpkg');
    await expectWorkingCommand(exe);
    const apply = await exec(
      exe,
      ['apply', '-f', world.specFile, '--state-dir', world.stateDir, '-q', '--auto-approve'],
      tmp,
    );
    expect(apply.stdout).toContain('applied');
    expect(apply.code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
  });
});
