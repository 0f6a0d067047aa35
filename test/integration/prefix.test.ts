/**
 * A binary package is built for one prefix and pkg_add installs it there, whatever the site's prefix. Two sites with
 * different software areas given one repository (the layout the README used to show) must not both install from
 * it: the site whose prefix is not the repository's is planned blocked, with what to do, and nothing is written
 * into the other site's software area.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { World } from './harness.js';

describe('a repository built for another prefix', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['dash']);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('blocks the site whose prefix differs, applies only where the prefix fits, and writes nothing elsewhere', async () => {
    const a = await world.addSite('site-a');
    const b = await world.addSite('site-b');
    const site = (name: string, swdir: string) => [
      `  ${name}:`,
      `    softwareArea: ${swdir}`,
      '    backend: { type: local, shell: [dash] }',
      '    packages:',
      '      - math/gsl',
    ];
    await writeFile(
      world.specFile,
      [
        'apiVersion: gridpkg/v1',
        'defaults:',
        '  vo: pvier',
        `  repository: ${world.repositoryOf('site-a')}`, // built for site-a's prefix only
        'sites:',
        ...site('site-a', a.swdir),
        ...site('site-b', b.swdir),
        '',
      ].join('\n'),
    );

    const plan = await world.run('plan');
    expect(plan.stdout).toContain('+ math/gsl');
    expect(plan.stdout).toContain(
      `the repository's packages are built for prefix ${a.prefix}, not this site's prefix ${b.prefix}`,
    );
    expect(plan.stdout).toContain('Give this site a repository built for');

    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stdout).toContain('site-a: applied');
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
    expect(await world.installed('site-b')).toEqual([]);
    // Nothing of site-b's went into site-a's area (one gsl, recorded by site-a), nor into site-b's.
    expect(existsSync(join(b.prefix, 'bin', 'gsl-hello'))).toBe(false);

    // With a repository of its own, built for its prefix, site-b converges too.
    await world.writeSpec({ 'site-a': '      - math/gsl', 'site-b': '      - math/gsl' });
    const fixed = await world.run('apply', '--auto-approve');
    expect(fixed.stdout).toContain('site-b: applied');
    expect(await world.installed('site-b')).toEqual(['gsl-2.8']);
    expect(existsSync(join(b.prefix, 'bin', 'gsl-hello'))).toBe(true);
  }, 600_000); // a safety net for a loaded machine: four jobs run one after another
});
