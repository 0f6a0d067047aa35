/**
 * --site, --exclude and --where on plan and apply (as on converge and status): only the chosen sites get jobs, the
 * run says that it is partial, and a saved plan is never narrowed after the fact.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { World } from './harness.js';

describe('choosing sites for plan and apply', () => {
  let world: World;
  const jobsOf = async (site: string) =>
    (await world.finishedJobs()).filter((id) => id.startsWith(`${site}-`)).length;

  beforeEach(async () => {
    world = await World.create(['dash']);
    for (const name of ['site-a', 'site-b', 'site-c']) await world.addSite(name);
    await world.writeSpec({
      'site-a': '      - math/gsl',
      'site-b': '      - math/gsl',
      'site-c': '      - math/gsl',
    });
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('plans only the chosen sites, and says the run is partial', async () => {
    const run = await world.run('plan', '--site', 'site-a', '--site', 'site-c', '--exclude', 'site-c');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('site-a');
    expect(run.stdout).not.toMatch(/site-[bc]/);
    expect(run.stderr).toContain("only 1 of the spec's 3 sites are selected");
    expect([await jobsOf('site-a'), await jobsOf('site-b'), await jobsOf('site-c')]).toEqual([1, 0, 0]);
  });

  it('applies only the chosen sites', async () => {
    const run = await world.run('apply', '--auto-approve', '--site', 'site-b');
    expect(run.stderr).toContain("only 1 of the spec's 3 sites are selected");
    expect(run.code).toBe(0);
    expect(await world.installed('site-a')).not.toContain('gsl-2.8');
    expect(await world.installed('site-b')).toContain('gsl-2.8');
    expect(await world.installed('site-c')).not.toContain('gsl-2.8');
  });

  it('refuses to narrow a saved plan, and a name no site has, before any job', async () => {
    const planFile = join(world.stateDir, '..', 'all.plan');
    expect((await world.run('plan', '-out', planFile)).code).toBe(0);
    const before = (await world.finishedJobs()).length;
    const narrowed = await world.run('apply', planFile, '--site', 'site-a');
    expect(narrowed.code).toBe(1);
    expect(narrowed.stderr).toContain('applies the sites it was made for');
    const typo = await world.run('plan', '--site', 'site-x');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('--site "site-x": the spec has no such site');
    expect((await world.finishedJobs()).length).toBe(before);
    for (const name of ['site-a', 'site-b', 'site-c'])
      expect(await world.installed(name)).not.toContain('gsl-2.8');
  });
});
