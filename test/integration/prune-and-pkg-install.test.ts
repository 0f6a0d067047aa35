/**
 * Prune and pkgsrc.minPkgInstall (issue 13, items 4 and 2) end to end through the local backend: the real CLI, the
 * real job script and the pkgsrc simulator (a test double of pkg_install, not pkgsrc).
 */
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NEEDS_NEW_PKG_INSTALL, NEW_PKG_INSTALL } from '../pkgsrc-sim/newer-tools.js';
import { DEFAULT_PACKAGES } from '../pkgsrc-sim/repository.js';
import { availableShells, World } from './harness.js';

/** The job's actions run under every shell; what a blocked plan refuses never reaches one, so one shell is enough. */
const SHELLS = availableShells().map((command) => ({ name: command.join(' '), command }));
const FIRST = SHELLS[0]?.name;

const ROOT_AND_DEPENDENCIES = [
  'fftw-3.3.10*',
  'gsl-2.8*',
  'python311-3.11.7*',
  'root-6.30.02',
  'zlib-1.3.1*',
] as const;

const BOOTSTRAP_NAMES = DEFAULT_PACKAGES.filter((p) => p.bootstrap).map((p) => p.pkgname);

describe.each(SHELLS)('prune on a simulated site under $name', ({ name, command }) => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(command);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('removes exactly the undeclared packages and their orphaned dependencies, never pkgsrc itself', async () => {
    const site = await world.addSite('site-a', ['root', 'cmake']);
    expect(await world.installed('site-a')).toEqual(['cmake-3.28.1', ...ROOT_AND_DEPENDENCIES]);
    await world.writeSpec({ 'site-a': '      - devel/cmake' }, '    prune: true');

    const plan = await world.run('plan', '--detailed-exitcode');
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('- math/root                remove root-6.30.02 (not declared)');
    expect(plan.stdout).toContain(
      '- devel/zlib               remove zlib-1.3.1 (not declared; installed as a dependency and nothing needs it any more)',
    );
    expect(plan.stdout).toContain(
      '0 to install, 0 to upgrade, 0 to downgrade, 5 to remove on 1 of 1 site(s)',
    );

    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['cmake-3.28.1']);
    // The bootstrap packages are all still there.
    const left = await readdir(site.pkgdb);
    for (const name of BOOTSTRAP_NAMES) expect(left).toContain(name);

    const again = await world.run('plan', '--detailed-exitcode');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
  }, 180_000); // safety net only: three jobs through the real script

  it.skipIf(name !== FIRST)(
    'blocks a prune over prune.maxRemovals: plan says how to allow it, apply changes nothing',
    async () => {
      await world.addSite('site-a', ['root', 'cmake']);
      await world.writeSpec({ 'site-a': '      - devel/cmake' }, '    prune: { maxRemovals: 3 }');

      const plan = await world.run('plan');
      expect(plan.code).toBe(1);
      expect(plan.stdout).toContain('# site-a: blocked');
      expect(plan.stdout).toMatch(
        /! prune blocked: prune would remove 5 packages the spec does not declare, more than prune\.maxRemovals \(3\): declare the packages to keep, or allow it with prune: \{ maxRemovals: 5 \} \(.*desired-state\.yaml:\d+\)/,
      );

      const apply = await world.run('apply', '--auto-approve');
      expect(apply.code).toBe(1);
      expect(await world.installed('site-a')).toEqual(['cmake-3.28.1', ...ROOT_AND_DEPENDENCIES]);
    },
    180_000,
  );
});

describe.each(SHELLS)('pkgsrc.minPkgInstall on a simulated site under $name', ({ name, command }) => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(command);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('upgrades an old pkg_install first, then installs what needs it, and converges', async () => {
    const site = await world.addSite('site-a', [], {
      packages: [...DEFAULT_PACKAGES, NEW_PKG_INSTALL, NEEDS_NEW_PKG_INSTALL],
    });
    await world.writeSpec({ 'site-a': '      - devel/newtool' }, '    pkgsrc: { minPkgInstall: 20211115 }');

    const plan = await world.run('plan', '--detailed-exitcode');
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    const lines = plan.stdout.split('\n');
    const upgrade = lines.findIndex((l) =>
      l.includes(
        'upgrade pkg_install-20170419 -> pkg_install-20211115 (pkg_install 20170419 is older than pkgsrc.minPkgInstall 20211115: upgraded first)',
      ),
    );
    expect(upgrade).toBeGreaterThan(0);
    expect(lines.findIndex((l) => l.includes('install newtool-1.0'))).toBeGreaterThan(upgrade);

    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(
      /upgrade-pkg_install pkg_install-20211115: ok[\s\S]*install newtool-1\.0: ok/,
    );
    expect(await world.installed('site-a')).toEqual(['newtool-1.0']);
    expect(await readdir(site.pkgdb)).toContain('pkg_install-20211115');

    const again = await world.run('plan', '--detailed-exitcode');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
  }, 180_000);

  it.skipIf(name !== FIRST)(
    'blocks the site, with the reason, when the repository has no new-enough pkg_install',
    async () => {
      await world.addSite('site-a');
      await world.writeSpec({ 'site-a': '      - devel/cmake' }, '    pkgsrc: { minPkgInstall: 20211115 }');
      const plan = await world.run('plan');
      expect(plan.code).toBe(1);
      expect(plan.stdout).toContain(
        '! pkgtools/pkg_install     blocked: pkg_install 20170419 is older than pkgsrc.minPkgInstall 20211115, and the repository offers no new-enough pkg_install',
      );
      const apply = await world.run('apply', '--auto-approve');
      expect(apply.code).toBe(1);
      expect(await world.installed('site-a')).toEqual([]);
    },
    180_000,
  );
});
