/**
 * Dependencies decide what can be installed (issue 10, item 2), end to end through the local backend: the real CLI,
 * the real job script and the pkgsrc simulator, whose pkg_add refuses an installed dependency of another version
 * ("A different version of zlib-1.3.1 is already installed: zlib-1.2.13" / "Can't install dependency zlib>=1.3") as
 * the real one does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { availableShells, World } from './harness.js';

const [shell] = availableShells();

describe.skipIf(shell === undefined)('planning the dependency closure on a simulated site', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(shell ?? []);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('upgrades a user-installed zlib first when hdf5 needs a newer one, and the site converges', async () => {
    await world.addSite('site-a', ['zlib-1.2.13']);
    await world.writeSpec({ 'site-a': '      - devel/hdf5' });

    const plan = await world.run('plan', '--detailed-exitcode');
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('install hdf5-1.14.3');
    expect(plan.stdout).toContain('upgrade zlib-1.2.13 -> zlib-1.3.1 (needed by hdf5-1.14.3)');
    expect(plan.stdout).toContain(
      'Plan: 1 to install, 1 to upgrade, 0 to downgrade, 0 to remove on 1 of 1 site(s).',
    );

    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('site-a: applied');
    expect(await world.installed('site-a')).toEqual(['hdf5-1.14.3', 'zlib-1.3.1']);

    const again = await world.run('plan', '--detailed-exitcode');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
  }, 180_000); // safety net only: three jobs through the real script

  it('installs the older hdf5 that fits when the spec pins zlib-1.2*', async () => {
    await world.addSite('site-a', ['zlib-1.2.13']);
    await world.writeSpec({
      'site-a': ['      - devel/hdf5', '      - { pkgpath: devel/zlib, pattern: "zlib-1.2*" }'].join('\n'),
    });

    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('install hdf5-1.12.2nb3');
    expect(await world.installed('site-a')).toEqual(['hdf5-1.12.2nb3', 'zlib-1.2.13']);

    const again = await world.run('plan', '--detailed-exitcode');
    expect(again.code).toBe(0);
  }, 180_000);
});
