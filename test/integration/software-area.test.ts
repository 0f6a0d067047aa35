/**
 * A software area that is not group-writable (as `bootstrap --unprivileged` leaves it: pkgdb/ 0755, files 0644) is
 * a problem of the site: the next pool account of the VO's group could not change it. The plan says so, with the
 * fix, and still applies (this job's account can write). End to end: simulated site, site job under dash, CLI.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { World } from './harness.js';

describe('a software area as bootstrap left it', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['dash']);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('is shown with the fix under its site; the plan still applies', async () => {
    const site = await world.addSite('site-a', [], { groupWritable: false });
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const run = await world.run('plan');
    expect(run.stdout).toContain('  + math/gsl                 install gsl-2.8\n');
    expect(run.stdout).toMatch(
      new RegExp(
        `\\n  ! software area not group-writable: \\d+ path\\(s\\) not group-writable, e\\.g\\. ${site.prefix} under ` +
          `${site.prefix}; other pool accounts of the VO cannot change them: run \`chmod -R g\\+w ${site.prefix}\` ` +
          '\\(as their owner\\)\\n',
      ),
    );
    expect(run.stdout).toContain('1 site(s) whose software area is not group-writable');
    expect(run.code).toBe(0);
    const apply = await world.run('apply', '--auto-approve');
    expect(apply.code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
  });

  it('says nothing once it is group-writable', async () => {
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const run = await world.run('plan');
    expect(run.stdout).not.toContain('software area');
    expect(run.code).toBe(0);
  });
});
