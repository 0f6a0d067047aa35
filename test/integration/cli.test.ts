/** The CLI's contract with its user: confirmation, exit codes, Terraform spellings, help. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeTerraformFlags } from '../../src/cli/terraform-flags.js';
import { cli, World } from './harness.js';

describe('apply asks before it changes anything', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['dash']);
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
  });
  afterEach(async () => {
    await world.dispose();
  });
  const applyJobs = async () => (await world.finishedJobs()).filter((id) => id.includes('-apply-'));
  const apply = (answer: boolean | undefined) =>
    cli(['apply', '-f', world.specFile, '--state-dir', world.stateDir, '-q'], answer);

  it('refuses without a terminal to ask and without --auto-approve', async () => {
    const run = await apply(undefined);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--auto-approve');
    expect(await applyJobs()).toEqual([]);
    expect(await world.installed('site-a')).toEqual([]);
  });

  it('does nothing and exits 1 when the answer is not yes (as Terraform)', async () => {
    const run = await apply(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Apply cancelled.');
    expect(await applyJobs()).toEqual([]);
  });

  it('applies when the answer is yes', async () => {
    const run = await apply(true);
    expect(run.code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
  });
});

describe('command line', () => {
  it('accepts Terraform single-dash spellings and leaves everything else alone', () => {
    expect(
      normalizeTerraformFlags(['plan', '-out=x.plan', '-detailed-exitcode', '-q', '-f', 'a.yaml']),
    ).toEqual(['plan', '--out=x.plan', '--detailed-exitcode', '-q', '-f', 'a.yaml']);
    expect(normalizeTerraformFlags(['apply', '-auto-approve', '--', '-out'])).toEqual([
      'apply',
      '--auto-approve',
      '--',
      '-out',
    ]);
  });

  it('documents the exit codes and the environment in --help', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/3 {2}unknown/);
    expect(run.stdout).toContain('GRIDPKG_STATE_DIR');
  });

  it('rejects an unknown command with a suggestion and exit code 1', async () => {
    const run = await cli(['plna']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Did you mean plan?');
  });

  it('rejects a bad --concurrency value', async () => {
    const run = await cli(['plan', '-p', 'lots']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('expected a whole number');
  });

  it('does not carry the exit code of one command into the next run in the same process', async () => {
    const world = await World.create(['dash']);
    try {
      await world.addSite('site-a');
      await world.writeSpec({ 'site-a': '      - math/gsl' });
      expect((await cli(['pkg', 'match', 'gsl>=3', 'gsl-2.8'])).code).toBe(1);
      expect((await cli(['validate', '-f', world.specFile])).code).toBe(0);
      expect(process.exitCode).toBeUndefined();
    } finally {
      await world.dispose();
    }
  });
});
