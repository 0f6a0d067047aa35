/**
 * Bad options, unusable state directories, plan files that cannot be written or are not files, damaged observation
 * files: each is one clear message and exit 1, never a stack trace, and nothing is submitted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/cli/errors.js';
import { normalizeTerraformFlags } from '../../src/cli/terraform-flags.js';
import { observed } from '../reconcile/fixtures.js';
import { type CliRun, cli, World } from './harness.js';

/** A stack trace line, as Node prints them. */
const STACK = /\n\s+at /;

function expectCleanError(run: CliRun): void {
  expect(run.code).toBe(1);
  expect(run.stderr).not.toMatch(STACK);
}

let world: World;
beforeAll(async () => {
  world = await World.create(['dash']);
  await world.addSite('site-a');
  await world.writeSpec({ 'site-a': '      - math/gsl' });
});
afterAll(async () => {
  await world?.dispose();
});

/** No job was submitted: the state directory has no job directories and the ledger no history. */
function expectNothingSubmitted(stateDir: string): void {
  expect(existsSync(join(stateDir, 'jobs'))).toBe(false);
  expect(existsSync(join(stateDir, 'ledger'))).toBe(false);
}

describe('option values', () => {
  it.each([
    '0',
    'abc',
    '1.5',
    '1001',
  ])("-p %s is refused with commander's message, no stack trace", async (value) => {
    const run = await cli(['plan', '-f', world.specFile, '-p', value]);
    expectCleanError(run);
    expect(run.stderr).toContain(
      `option '-p, --concurrency <n>' argument '${value}' is invalid. expected a whole number from 1 to 1000`,
    );
  });

  it("accepts Terraform's -parallelism=N (and --parallelism N) for --concurrency", async () => {
    expect(normalizeTerraformFlags(['plan', '-parallelism=2', '--parallelism', '3'])).toEqual([
      'plan',
      '--concurrency=2',
      '--concurrency',
      '3',
    ]);
    const bad = await cli(['plan', '-f', world.specFile, '-parallelism=0']);
    expect(bad.stderr).toContain("option '-p, --concurrency <n>' argument '0' is invalid");
    const run = await cli([
      'plan',
      '-f',
      world.specFile,
      '--state-dir',
      world.stateDir,
      '-q',
      '-parallelism=2',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('a state directory that cannot be written', () => {
  it('names the directory, hints at --state-dir and GRIDPKG_STATE_DIR, and submits nothing', async () => {
    const file = join(world.root, 'a-file');
    await writeFile(file, '');
    const stateDir = join(file, 'state');
    const run = await cli(['plan', '-f', world.specFile, '--state-dir', stateDir, '-q']);
    expectCleanError(run);
    expect(run.stderr).toContain(
      `cannot use the state directory ${stateDir}: a part of the path is not a directory (ENOTDIR)`,
    );
    expect(run.stderr).toContain('--state-dir DIR or GRIDPKG_STATE_DIR=DIR');
    expect(run.stderr).toContain('Nothing was submitted.');
  });

  it('says so when the log cannot be opened (EROFS, EACCES, ... here: a directory in its place)', async () => {
    const stateDir = join(world.root, 'log-is-a-directory');
    await mkdir(join(stateDir, 'gridpkg.log'), { recursive: true });
    const run = await cli(['apply', '-f', world.specFile, '--state-dir', stateDir, '-q', '--auto-approve']);
    expectCleanError(run);
    expect(run.stderr).toContain(`cannot use the state directory ${stateDir}: it is a directory (EISDIR)`);
    expect(run.stderr).toContain(`opening ${join(stateDir, 'gridpkg.log')}`);
    expectNothingSubmitted(stateDir);
  });
});

describe('plan -out', () => {
  it.each([
    ['/nonexistent/x.plan', 'the directory /nonexistent does not exist'],
    ['.', 'it is a directory'],
  ])('checks that %s can be written before any site is probed', async (out, reason) => {
    const stateDir = join(world.root, `out-${out.length}`);
    const run = await cli(['plan', '-f', world.specFile, '--state-dir', stateDir, '-q', '-out', out]);
    expectCleanError(run);
    expect(run.stderr).toContain(`gridpkg: cannot write the plan file ${out}: ${reason}`);
    expectNothingSubmitted(stateDir);
  });
});

describe('apply PLANFILE that is not a plan file', () => {
  it('refuses a device and a FIFO at once, without reading them', async () => {
    const zero = await cli(['apply', '/dev/zero', '-q']);
    expectCleanError(zero);
    expect(zero.stderr).toContain(
      'cannot read the plan file /dev/zero: it is a character device, not a regular file',
    );
    const fifo = join(world.root, 'fifo.plan');
    execFileSync('mkfifo', [fifo]);
    const run = await cli(['apply', fifo, '-q']);
    expectCleanError(run);
    expect(run.stderr).toContain('it is a FIFO (named pipe), not a regular file');
  });
});

describe('import of an observation file of the wrong shape', () => {
  it('says what is wrong with the file', async () => {
    const stateDir = join(world.root, 'damaged');
    await mkdir(join(stateDir, 'observations'), { recursive: true });
    const file = join(stateDir, 'observations', 'site-a.json');
    await writeFile(file, JSON.stringify({ ...observed(['gsl-2.8']), installed: null }));
    const run = await cli(['import', '-f', world.specFile, '--state-dir', stateDir, '--site', 'site-a']);
    expectCleanError(run);
    expect(run.stderr).toContain(
      `gridpkg import: cannot use the observation of site-a in ${file}: not a gridpkg observation: /installed must be array`,
    );
  });
});

describe('a report larger than the 4 MiB read cap', () => {
  it('makes the site unknown because the report is too large, not because of what the cut line says', async () => {
    // The site's shell runs the job, then pads its report beyond the cap.
    const shell = join(world.root, 'padding-shell');
    await writeFile(
      shell,
      '#!/bin/sh\ndash "$@"\ns=$?\nhead -c 4200000 /dev/zero | tr "\\000" "#" >> "$3"\nexit $s\n',
    );
    await chmod(shell, 0o755);
    const padded = await World.create([shell]);
    try {
      await padded.addSite('site-a');
      await padded.writeSpec({ 'site-a': '      - math/gsl' });
      const run = await padded.run('plan');
      expect(run.code).toBe(3);
      expect(run.stdout).toContain("the job's report is larger than 4 MiB; not read");
      expect(run.stdout).not.toMatch(/bad|unreadable report/);
    } finally {
      await padded.dispose();
    }
  });
});

describe('errors at the top of the CLI', () => {
  it('prints a plain message for an expected error and a stack only for a bug, saying it is one', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y'"), {
      code: 'ENOENT',
      syscall: 'open',
      path: '/x/y',
    });
    expect(describeError(enoent, {})).toBe('open /x/y: no such file or directory (ENOENT)');
    expect(describeError(new Error('the site is busy'), {})).toBe('the site is busy');
    const bug = describeError(new TypeError("Cannot read properties of undefined (reading 'x')"), {});
    expect(bug).toMatch(/^internal error: Cannot read properties/);
    expect(bug).toContain('This is a bug in gridpkg');
    expect(bug).toMatch(STACK);
    expect(describeError(new Error('the site is busy'), { GRIDPKG_DEBUG: '1' })).toMatch(STACK);
  });
});
