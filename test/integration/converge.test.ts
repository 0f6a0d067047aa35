/**
 * End to end through the local backend: the real CLI, the real job script under dash, bash and busybox sh, and
 * the pkgsrc simulator as the site's package tools.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { it as base, describe, expect } from 'vitest';
import { availableShells, World } from './harness.js';

// Concurrent: each test has a world of its own (a fixture), and most of a test's time is spent waiting on its jobs'
// processes; one test after the other left a core idle.
describe.concurrent.each(
  availableShells(),
)('converging simulated sites with the job script under %s', (...shell) => {
  const it = base.extend<{ world: World }>({
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter
    world: async ({}, use) => {
      const world = await World.create(shell);
      await use(world);
      await world.dispose();
    },
  });

  const applyJobs = async (world: World) =>
    (await world.finishedJobs()).filter((id) => id.includes('-apply-'));

  it('converges an empty site: plan shows the changes, apply makes them with one apply job, plan is then clean', async ({
    world,
  }) => {
    await world.addSite('site-a');
    await world.writeSpec({
      'site-a': [
        '      - math/gsl',
        '      - math/root',
        '      - { pkgpath: devel/hdf5, state: absent }',
      ].join('\n'),
    });

    const plan = await world.run('plan', '--detailed-exitcode');
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('+ math/gsl');
    expect(plan.stdout).toContain('install root-6.30.02');
    expect(plan.stdout).toContain(
      'Plan: 5 to install, 0 to upgrade, 0 to downgrade, 0 to remove on 1 of 1 site(s).',
    );

    const apply = await world.run('apply', '--auto-approve');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('site-a: applied');
    expect(await world.installed('site-a')).toEqual([
      'fftw-3.3.10*',
      'gsl-2.8',
      'python311-3.11.7*',
      'root-6.30.02',
      'zlib-1.3.1*',
    ]);
    expect(await applyJobs(world)).toHaveLength(1);

    const again = await world.run('plan', '--detailed-exitcode');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
  }, 180_000); // a safety net only: five pkg_add runs (dependencies are actions of their own) on a loaded machine

  it('upgrades to satisfy a version pattern', async ({ world }) => {
    await world.addSite('site-a', ['gsl-2.7nb1']);
    await world.writeSpec({ 'site-a': '      - { pkgpath: math/gsl, pattern: "gsl>=2.8" }' });
    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stdout).toContain('upgrade gsl-2.7nb1 -> gsl-2.8');
    expect(apply.code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
  });

  it('downgrades to satisfy a version pattern', async ({ world }) => {
    await world.addSite('site-a', ['gsl-2.8']);
    await world.writeSpec({ 'site-a': '      - { pkgpath: math/gsl, pattern: "gsl-2.7*" }' });
    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stdout).toContain('downgrade gsl-2.8 -> gsl-2.7nb1');
    expect(apply.code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.7nb1']);
  });

  it('removes a package that must be absent and keeps its automatic dependency', async ({ world }) => {
    await world.addSite('site-a', ['hdf5-1.14.3']);
    await world.writeSpec({ 'site-a': '      - { pkgpath: devel/hdf5, state: absent }' });
    const apply = await world.run('apply', '--auto-approve');
    expect(apply.code).toBe(0);
    expect(await world.installed('site-a')).toEqual(['zlib-1.3.1*']);
  });

  it('refuses to remove a package that a kept package requires, submitting nothing', async ({ world }) => {
    await world.addSite('site-a', ['root-6.30.02']);
    const before = await world.installed('site-a');
    await world.writeSpec({
      'site-a': ['      - math/root', '      - { pkgpath: math/gsl, state: absent }'].join('\n'),
    });
    const plan = await world.run('plan');
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain('blocked');
    expect(plan.stdout).toContain('required by root-6.30.02');
    const apply = await world.run('apply', '--auto-approve');
    expect(apply.code).toBe(1);
    expect(await applyJobs(world)).toEqual([]);
    expect(await world.installed('site-a')).toEqual(before);
  });

  it('removes a dependent before the package it requires when both must go', async ({ world }) => {
    await world.addSite('site-a', ['root-6.30.02']);
    await world.writeSpec({
      'site-a': [
        '      - { pkgpath: math/root, state: absent }',
        '      - { pkgpath: math/gsl, state: absent }',
      ].join('\n'),
    });
    const apply = await world.run('apply', '--auto-approve');
    expect(apply.code).toBe(0);
    expect(apply.stdout.indexOf('remove root-6.30.02: ok')).toBeGreaterThan(0);
    expect(apply.stdout.indexOf('remove root-6.30.02: ok')).toBeLessThan(
      apply.stdout.indexOf('remove gsl-2.8: ok'),
    );
    expect(await world.installed('site-a')).toEqual(['fftw-3.3.10*', 'python311-3.11.7*', 'zlib-1.3.1*']);
  });

  it('an apply job that finds the site lock held reports locked and changes nothing', async ({ world }) => {
    const site = await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const planFile = join(world.root, 'saved.plan');
    expect((await world.run('plan', `-out=${planFile}`)).code).toBe(0);
    // Another job holds the lock right now (fresh owner line: job host pid epoch).
    await mkdir(join(site.swdir, '.gridpkg-lock'));
    await writeFile(
      join(site.swdir, '.gridpkg-lock', 'owner'),
      `other-job wn-1.example.org 4242 ${Math.floor(Date.now() / 1000)}\n`,
    );
    const apply = await world.run('apply', planFile);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toContain('locked');
    expect(await world.installed('site-a')).toEqual([]);
    expect(existsSync(join(site.swdir, '.gridpkg-lock', 'owner'))).toBe(true);
  });

  it('a saved plan whose site changed since is refused as stale, and apply says to plan again', async ({
    world,
  }) => {
    const site = await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const planFile = join(world.root, 'saved.plan');
    expect((await world.run('plan', '-out', planFile)).code).toBe(0);
    // Someone installs a package by hand between plan and apply.
    await execa(join(site.sbin, 'pkg_add'), ['cmake'], { env: { PKG_PATH: world.repository } });
    const apply = await world.run('apply', planFile);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toContain('stale');
    expect(apply.stdout).toContain('gridpkg plan');
    expect(await world.installed('site-a')).toEqual(['cmake-3.28.1']);
  });

  it('a truncated report leaves the site unknown: exit 3 and no action', async ({ world }) => {
    await world.addSite('site-a', ['gsl-2.7nb1']);
    // A job wrapper that loses the end of the report, as a job killed while writing would.
    const wrapper = join(world.root, 'truncating-job.sh');
    await writeFile(
      wrapper,
      '#!/bin/sh\n"$@"\nhead -n 5 report.txt > cut.txt; mv cut.txt report.txt\n: > stdout.txt\n',
    );
    await chmod(wrapper, 0o755);
    const shellList = [...shell, wrapper, ...shell];
    const site = world.sites.get('site-a');
    await writeFile(
      world.specFile,
      [
        'apiVersion: gridpkg/v1',
        'sites:',
        '  site-a:',
        `    softwareArea: ${site?.swdir}`,
        `    repository: ${world.repository}`,
        `    backend: { type: local, shell: [${shellList.join(', ')}] }`,
        '    packages:',
        '      - { pkgpath: math/gsl, pattern: "gsl>=2.8" }',
        '',
      ].join('\n'),
    );
    const plan = await world.run('plan');
    expect(plan.code).toBe(3);
    expect(plan.stdout).toContain('unknown');
    expect(plan.stdout).toContain('unreadable report');
    const apply = await world.run('apply', '--auto-approve');
    expect(apply.code).toBe(3);
    expect(await applyJobs(world)).toEqual([]);
    expect(await world.installed('site-a')).toEqual(['gsl-2.7nb1']);
  });

  it.for([
    ['gsl;touch /tmp/x', '"math/gsl;touch MARKER"'],
    ['$(id)', '"math/$(touch MARKER)"'],
    ['a newline', '"math/gsl\\ntouch MARKER"'],
    ['a hostile pattern', '{ pkgpath: math/gsl, pattern: "gsl>=2;touch MARKER" }'],
  ])('a spec with %s is rejected before any job runs', async ([_label, entry = ''], { world }) => {
    await world.addSite('site-a');
    const marker = join(world.root, 'pwned');
    await world.writeSpec({ 'site-a': `      - ${entry.replace('MARKER', marker)}` });
    const plan = await world.run('plan');
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/desired-state\.yaml:\d+:\d+: /);
    expect(plan.stderr).toContain('nothing was submitted');
    expect(await world.finishedJobs()).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  it('a tampered saved plan with a hostile package name is refused before any job runs', async ({
    world,
  }) => {
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const planFile = join(world.root, 'saved.plan');
    await world.run('plan', '-out', planFile);
    const marker = join(world.root, 'pwned');
    const tampered = (await readFile(planFile, 'utf8')).replaceAll(
      '"pkgname": "gsl-2.8"',
      `"pkgname": ${JSON.stringify(`gsl-2.8;touch ${marker}`)}`,
    );
    await writeFile(planFile, tampered);
    const jobsBefore = await world.finishedJobs();
    const apply = await world.run('apply', planFile);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('not a valid gridpkg plan file');
    expect(await world.finishedJobs()).toEqual(jobsBefore);
    expect(existsSync(marker)).toBe(false);
    expect(await world.installed('site-a')).toEqual([]);
  });
});
