/**
 * `gridpkg converge` end to end on simulated sites (test/pkgsrc-sim) through the local backend and the real job
 * script: several drifted sites converge with one probe and one apply job each, a site whose plan is refused fails
 * without holding up the others, and a recent observation saves the probe.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { availableShells, cli, World } from './harness.js';

// The job script's portability is covered by the other integration tests; one shell is enough here.
const shell = availableShells()[0] ?? ['dash'];

describe('gridpkg converge on simulated sites', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(shell);
  });
  afterEach(async () => {
    await world.dispose();
  });

  const jobsOf = async (site: string) => {
    const jobs = (await world.finishedJobs()).filter((id) => id.startsWith(`${site}-`));
    return {
      probe: jobs.filter((id) => id.includes('-probe-')).length,
      apply: jobs.filter((id) => id.includes('-apply-')).length,
    };
  };

  it('converges several drifted sites with one probe and one apply job each', async () => {
    await world.addSite('site-a');
    await world.addSite('site-b', ['gsl-2.7nb1']);
    await world.addSite('site-c', ['hdf5-1.14.3']);
    await world.writeSpec({
      'site-a': '      - math/gsl',
      'site-b': '      - { pkgpath: math/gsl, pattern: "gsl>=2.8" }',
      'site-c': '      - { pkgpath: devel/hdf5, state: absent }',
    });
    const run = await world.run('converge');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^SITE\s+RESULT\s+ATTEMPTS\s+JOBS\s+DETAIL$/m);
    expect(run.stdout).toMatch(/^site-a\s+converged\s+1\s+2$/m);
    expect(run.stdout).toContain('Converge: 3 converged, 0 failed, 0 unknown (of 3 site(s), 6 job(s)).');
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
    expect(await world.installed('site-b')).toEqual(['gsl-2.8']);
    expect(await world.installed('site-c')).toEqual(['zlib-1.3.1*']);
    for (const site of ['site-a', 'site-b', 'site-c'])
      expect(await jobsOf(site)).toEqual({ probe: 1, apply: 1 });

    // In sync now; a recent observation (the apply jobs' post-state) is reused: no job at all.
    const again = await world.run('converge', '--max-age', '1h');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Converge: 3 converged, 0 failed, 0 unknown (of 3 site(s), 0 job(s)).');
    expect((await world.finishedJobs()).length).toBe(6);
  }, 300_000); // a safety net only, on a loaded machine

  it('reports a site whose plan is refused as failed (exit 1) and converges the others', async () => {
    await world.addSite('good');
    await world.addSite('blocked', ['root-6.30.02']);
    await world.writeSpec({
      good: '      - math/gsl',
      blocked: ['      - math/root', '      - { pkgpath: math/gsl, state: absent }'].join('\n'),
    });
    const before = await world.installed('blocked');
    const run = await world.run('converge', '--max-attempts', '3');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^good\s+converged\s+1\s+2$/m);
    expect(run.stdout).toMatch(
      /^blocked\s+failed \(drifted\)\s+1\s+1\s+blocked: .*required by root-6\.30\.02/m,
    );
    expect(run.stdout).toContain('Converge: 1 converged, 1 failed, 0 unknown');
    expect(await jobsOf('blocked')).toEqual({ probe: 1, apply: 0 });
    expect(await world.installed('blocked')).toEqual(before);
    expect(await world.installed('good')).toEqual(['gsl-2.8']);

    // What converge recorded, without any job: sync and health per site.
    const status = await world.run('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^SITE\s+SYNC\s+HEALTH\s+OBSERVED\s+ATTEMPTS\s+LAST ERROR$/m);
    expect(status.stdout).toMatch(/^good\s+in-sync\s+healthy\s+\d+s ago\s+1$/m);
    expect(status.stdout).toMatch(/^blocked\s+drifted\s+stalled\s+\d+s ago\s+1\s+blocked: /m);
    const json = JSON.parse((await world.run('status', '--json', '--site', 'blocked')).stdout) as unknown[];
    expect(json).toEqual([expect.objectContaining({ site: 'blocked', sync: 'drifted', health: 'stalled' })]);
    expect((await jobsOf('good')).probe).toBe(1);
  }, 300_000);

  it('shows typed progress on stderr in the order of a site life, and reconciles only the chosen sites', async () => {
    await world.addSite('site-a');
    await world.addSite('site-b');
    await world.writeSpec({ 'site-a': '      - math/gsl', 'site-b': '      - math/gsl' });
    expect((await world.run('converge', '--site', 'site-a')).code).toBe(0);
    // Again without --quiet, to see the progress lines: site-a is in sync by now; site-b is still not chosen.
    const run = await cli([
      'converge',
      '--exclude',
      'site-b',
      '-f',
      world.specFile,
      '--state-dir',
      world.stateDir,
    ]);
    expect(run.code).toBe(0);
    const lines = run.stderr.split('\n').filter((line) => line.startsWith('site-a: '));
    const order = [
      'probe job',
      'submitted',
      'finished: ok',
      'observed (job',
      'plan: no changes',
      'converged',
    ];
    const positions = order.map((text) => lines.findIndex((line) => line.includes(text)));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(run.stderr).not.toContain('site-b');
    expect(await world.installed('site-b')).toEqual([]);
    expect(await jobsOf('site-b')).toEqual({ probe: 0, apply: 0 });
  }, 300_000);

  it('refuses a site name the spec does not have, with a suggestion, before any job', async () => {
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const run = await world.run('converge', '--site', 'site-x');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--site "site-x": the spec has no such site (did you mean site-a?)');
    expect(await world.finishedJobs()).toEqual([]);
  });

  it('refuses to run beside another live controller of the state directory, naming it, before any job', async () => {
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    await mkdir(world.stateDir, { recursive: true });
    const since = '2026-12-02T08:00:00.000Z';
    await writeFile(
      join(world.stateDir, 'controller.lease'),
      JSON.stringify({
        id: 'other-controller',
        command: 'watch',
        host: hostname(),
        pid: process.pid, // alive
        acquiredAt: since,
        heartbeatAt: since,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    const run = await world.run('converge');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `another gridpkg watch (pid ${process.pid} on this host) has been controlling this state directory since ${since}`,
    );
    expect(await world.finishedJobs()).toEqual([]);
    expect(await world.installed('site-a')).toEqual([]);
  });
});
