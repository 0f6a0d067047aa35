/**
 * Whether apply converged a site is decided by planning again against the apply job's own post-state, never by the
 * tools' exit codes (docs: DESIGN "Optimistic concurrency on the site").
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { World } from './harness.js';

describe('the verdict of apply', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['dash']);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('is "not converged" when pkg_add exits 0 and installs nothing: exit 1, and the rest still to do is named', async () => {
    const site = await world.addSite('site-a');
    // A pkg_add that says nothing, does nothing and exits 0.
    await writeFile(join(site.sbin, 'pkg_add'), '#!/bin/sh\nexit 0\n');
    await chmod(join(site.sbin, 'pkg_add'), 0o755);
    await world.writeSpec({ 'site-a': '      - math/gsl' });

    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stdout).toMatch(/site-a: not converged \(job \S+\): install math\/gsl \(gsl-2\.8\)\n/);
    expect(apply.stdout).toContain('0 site(s) converged, 1 not converged');
    expect(apply.code).toBe(1);
    expect(await world.installed('site-a')).toEqual([]);
  });

  it('is "applied" when the post-state matches the spec', async () => {
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stdout).toContain('site-a: applied');
    expect(apply.stdout).toContain('1 site(s) converged, 0 not converged');
    expect(apply.code).toBe(0);
  });
});
