/**
 * Saved plans end to end: applied with the state directory and spec they were made from, refused when the spec
 * changed, carried out once per site (a re-run re-attaches to the plan's own job or reports what it did), and for
 * every kind of backend, not only local ones.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend, SITE_JOB_SCRIPT } from '../../src/grid/index.js';
import { encodeRequest } from '../../src/grid/protocol/index.js';
import { readPlanFile } from '../../src/reconcile/plan-file.js';
import { Ledger } from '../../src/state/ledger.js';
import { cli, World } from './harness.js';

describe('a saved plan', () => {
  let world: World;
  let planFile: string;
  beforeEach(async () => {
    world = await World.create(['dash']);
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    planFile = join(world.root, 'saved.plan');
  });
  afterEach(async () => {
    await world.dispose();
  });

  const applyJobs = async () => (await world.finishedJobs()).filter((id) => id.includes('-apply-'));
  const makePlan = async () => {
    const run = await cli([
      'plan',
      '-f',
      world.specFile,
      '--state-dir',
      world.stateDir,
      '-q',
      '-out',
      planFile,
    ]);
    expect(run.code).toBe(0);
  };
  const applySaved = (...args: string[]) => cli(['apply', '-q', ...args, planFile]);

  it('is applied with the state directory it was made with, not the default beside the spec', async () => {
    await makePlan();
    const run = await applySaved();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await applyJobs()).toHaveLength(1);
    expect(existsSync(join(world.root, '.gridpkg'))).toBe(false);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
  });

  it('refuses a --state-dir that names another directory than the plan was made with', async () => {
    await makePlan();
    const run = await applySaved('--state-dir', join(world.root, 'other-state'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`was made with the state directory ${world.stateDir}`);
    expect(run.stderr).toContain('leave out --state-dir');
    expect(existsSync(join(world.root, 'other-state'))).toBe(false);
    expect(await world.installed('site-a')).toEqual([]);
  });

  it('refuses -f naming another spec instead of ignoring it, and accepts the plan’s own', async () => {
    await makePlan();
    const other = join(world.root, 'other.yaml');
    const refused = await applySaved('-f', other);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`-f names ${other}`);
    expect(await world.installed('site-a')).toEqual([]);
    const own = await applySaved('-f', world.specFile);
    expect(own.code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
  });

  it('is stale once its spec changed: a site deleted from the spec is never applied', async () => {
    await world.addSite('site-b');
    await world.writeSpec({ 'site-a': '      - math/gsl', 'site-b': '      - math/gsl' });
    await makePlan();
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const run = await applySaved();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Saved plan is stale');
    expect(run.stderr).toContain('changed since the plan was made');
    expect(await applyJobs()).toEqual([]);
    expect(await world.installed('site-b')).toEqual([]);
    expect(await world.installed('site-a')).toEqual([]);
  });

  it('is stale once its spec is gone', async () => {
    await makePlan();
    await rm(world.specFile);
    const run = await applySaved();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Saved plan is stale');
    expect(await applyJobs()).toEqual([]);
  });

  it('applied twice submits nothing the second time and reports the first job’s outcome', async () => {
    await makePlan();
    expect((await applySaved()).code).toBe(0);
    const [jobId] = await applyJobs();
    const again = await applySaved();
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`site-a: already applied by job ${jobId} at \\S+ — converged`));
    expect(again.stdout).toContain('1 site(s) converged');
    expect(await applyJobs()).toEqual([jobId]);
  });

  it('re-run after the controller was killed mid-apply re-attaches to the plan’s own job and counts it', async () => {
    await makePlan();
    // What `apply saved.plan` leaves behind when killed -9 right after submitting: a ledger entry naming the plan
    // and its running apply job.
    const plan = await readPlanFile(planFile);
    const [sitePlan] = plan.sites;
    if (!sitePlan?.fingerprint) throw new Error('setup: no site plan');
    const jobId = 'site-a-apply-killed';
    const ledger = new Ledger(world.stateDir);
    const entry = await ledger.recordIntent({
      jobId,
      site: 'site-a',
      mode: 'apply',
      backend: 'local',
      planId: plan.id,
    });
    if (!entry) throw new Error('setup: site busy');
    const backend = new LocalBackend({
      jobsRoot: join(world.stateDir, 'jobs'),
      shell: ['dash'],
      environment: {},
    });
    const desired = sitePlan.desired;
    const handle = await backend.submit({
      jobId,
      site: 'site-a',
      scriptPath: SITE_JOB_SCRIPT,
      request: encodeRequest({
        jobId,
        mode: 'apply',
        vo: desired.vo,
        swdir: desired.softwareArea,
        repository: desired.repository,
        lockStaleSeconds: desired.lockStaleSeconds,
        expectFingerprint: sitePlan.fingerprint,
        actions: sitePlan.actions,
      }),
      timeoutSeconds: 600,
    });
    await ledger.recordSubmitted(entry, handle.backendId);

    const rerun = await cli(['apply', planFile]);
    expect(rerun.stderr).toContain(`re-attaching to apply job ${jobId}`);
    expect(rerun.stdout).toContain(`site-a: applied (job ${jobId})`);
    expect(rerun.stdout).toContain('1 site(s) converged, 0 not converged, 0 stale');
    expect(rerun.code).toBe(0);
    expect(await applyJobs()).toEqual([jobId]);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
  });
});

describe('a saved plan of a site behind a batch system (template backend)', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['dash']);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('is applied: the plan file takes non-local backend settings and apply submits through them', async () => {
    const site = await world.addSite('site-t');
    // A "batch system" of plain commands on this machine: submit starts the runner in the background and answers
    // the job directory as the id; a job is running until its runner has written exit-status.
    await writeFile(
      world.specFile,
      [
        'apiVersion: gridpkg/v1',
        'sites:',
        '  site-t:',
        `    softwareArea: ${site.swdir}`,
        `    repository: ${world.repository}`,
        '    backend:',
        '      type: template',
        '      shell: [dash]',
        `      submit: { argv: [sh, -c, 'sh ./runner.sh >stdout.txt 2>stderr.txt </dev/null & pwd'], jobId: '^(/\\S+)' }`,
        `      status: { argv: [sh, -c, 'for d; do [ -f "$d/exit-status" ] || echo "$d running"; done', sh, '{ids}'], line: '^(?<id>\\S+) (?<state>running)$', states: { running: [running] } }`,
        `      cancel: { argv: [sh, -c, 'kill "$(cat "$1/pid")"', sh, '{id}'] }`,
        '    packages:',
        '      - math/gsl',
        '',
      ].join('\n'),
    );
    const planFile = join(world.root, 'saved.plan');
    const plan = await world.run('plan', '-out', planFile);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect((await readPlanFile(planFile)).sites[0]?.desired.backend.type).toBe('template');
    const apply = await cli(['apply', '-q', planFile]);
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toContain('site-t: applied');
    expect(apply.code).toBe(0);
    expect(await world.installed('site-t')).toEqual(['gsl-2.8']);
  });
});
