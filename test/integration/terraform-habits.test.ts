/** Terraform habits (issue 14 item 4): plan --json, show, version, -input=false, -lock-timeout, --no-color in help. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { normalizeTerraformFlags } from '../../src/cli/terraform-flags.js';
import { plainStyle } from '../../src/report/style.js';
import type { SimSite } from '../pkgsrc-sim/site.js';
import { cli, World } from './harness.js';

const schema = async (name: string) =>
  JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'schemas', name), 'utf8')) as object;

describe('Terraform habits', () => {
  let world: World;
  let site: SimSite;
  beforeEach(async () => {
    world = await World.create(['dash']);
    site = await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('plan --json prints one document that the plan schema accepts, and nothing else on stdout', async () => {
    const run = await world.run('plan', '-json', '--detailed-exitcode');
    expect(run.code).toBe(2);
    const document = JSON.parse(run.stdout) as {
      formatVersion: number;
      sites: Array<{ site: string; outcome: string }>;
    };
    const validate = new Ajv2020({ strict: true })
      .addSchema(await schema('desired-state.schema.json'))
      .compile(await schema('plan.schema.json'));
    expect(validate.errors ?? validate(document)).toBe(true);
    expect(document.formatVersion).toBe(2);
    expect(document.sites.map((s) => [s.site, s.outcome])).toEqual([['site-a', 'changes']]);
  });

  it('show prints a saved plan as plan did, and --json as the saved document', async () => {
    const planFile = join(world.root, 'tonight.plan');
    expect((await world.run('plan', `-out=${planFile}`)).code).toBe(0);
    const human = await cli(['show', planFile]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('+ math/gsl');
    expect(human.stdout).toContain(`gridpkg apply ${planFile}`);
    const json = await cli(['show', '-json', planFile]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(await readFile(planFile, 'utf8')));
    const missing = await cli(['show', join(world.root, 'none.plan')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('none.plan');
  });

  it('-input=false never asks, so apply without -auto-approve refuses even with someone to say yes', async () => {
    const run = await cli(
      ['apply', '-f', world.specFile, '--state-dir', world.stateDir, '-q', '-input=false'],
      true,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('-input=false');
    expect(await world.installed('site-a')).toEqual([]);
  });

  /** Holds the site lock as another live job would; the other job ends once gridpkg has said it waits. */
  async function runWithLockHeld(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const lock = join(site.swdir, '.gridpkg-lock');
    await mkdir(lock);
    await writeFile(
      join(lock, 'owner'),
      `other-job wn-1.example.org 4242 ${Math.floor(Date.now() / 1000)}\n`,
    );
    let stderr = '';
    let stdout = '';
    const io: CliIO = {
      out: (text) => {
        stdout += text;
      },
      err: (text) => {
        stderr += text;
        if (text.includes('trying again')) void rm(lock, { recursive: true, force: true });
      },
      confirm: async () => undefined,
      style: plainStyle,
      errStyle: plainStyle,
    };
    const code = await runCli(args, io);
    return { code, stdout, stderr };
  }

  it('-lock-timeout waits for a site whose lock another job holds, then plans it', async () => {
    const args = ['plan', '-f', world.specFile, '--state-dir', world.stateDir, '--detailed-exitcode'];
    const { code, stdout, stderr } = await runWithLockHeld([...args, '-lock-timeout=5m']);
    expect(stderr).toContain('the site lock is held by another job; trying again in 2 s (-lock-timeout)');
    expect(stdout).toContain('+ math/gsl');
    expect(code).toBe(2);
  });

  it('-lock-timeout on apply PLANFILE waits for the lock, then applies the plan once', async () => {
    const planFile = join(world.stateDir, '..', 'gsl.plan');
    expect((await world.run('plan', '-out', planFile, '--detailed-exitcode')).code).toBe(2);
    const { code, stdout, stderr } = await runWithLockHeld(['apply', planFile, '-lock-timeout=5m']);
    expect(stderr).toContain('the site lock is held by another job; trying again in 2 s (-lock-timeout)');
    expect(stdout).toContain('applied');
    expect(code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
    // The job that found the lock did nothing; the plan was carried out by the next one, once.
    const again = await world.run('apply', planFile);
    expect(again.stdout).toContain('already applied by job');
    expect(again.code).toBe(0);
  });

  it('-lock-timeout on converge waits for the lock, then converges the site', async () => {
    const args = ['converge', '-f', world.specFile, '--state-dir', world.stateDir, '-lock-timeout=5m'];
    const { code, stdout } = await runWithLockHeld(args);
    expect(stdout).toContain('Converge: 1 converged');
    expect(code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
  });

  it('without -lock-timeout a locked site is unknown at once', async () => {
    const lock = join(site.swdir, '.gridpkg-lock');
    await mkdir(lock);
    await writeFile(
      join(lock, 'owner'),
      `other-job wn-1.example.org 4242 ${Math.floor(Date.now() / 1000)}\n`,
    );
    const run = await world.run('plan');
    expect(run.stdout).toContain('locked by another job');
    expect(run.code).toBe(3);
  });
});

describe('command line', () => {
  it('gridpkg version and --version print the version', async () => {
    const { version } = JSON.parse(
      await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
    ) as {
      version: string;
    };
    expect((await cli(['--version'])).stdout).toBe(`${version}\n`);
    const run = await cli(['version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`gridpkg v${version}\non Node.js ${process.version}`);
    expect(JSON.parse((await cli(['version', '-json'])).stdout)).toMatchObject({ gridpkg: version });
  });

  it('shows --no-color in the help of every command', async () => {
    for (const command of [
      'init',
      'plan',
      'apply',
      'show',
      'validate',
      'import',
      'version',
      'force-unlock',
    ]) {
      const run = await cli([command, '--help']);
      expect(run.code, command).toBe(0);
      expect(run.stdout, command).toContain('--no-color');
    }
  });

  it('accepts the Terraform spellings -input=false, -lock-timeout=DURATION and -json', async () => {
    expect(normalizeTerraformFlags(['plan', '-input=false', '-lock-timeout=30s', '-json'])).toEqual([
      'plan',
      '--input=false',
      '--lock-timeout=30s',
      '--json',
    ]);
    const bad = await cli(['plan', '-lock-timeout=soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('expected a duration such as 30s, 5m or 1h');
  });
});
