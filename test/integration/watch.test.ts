/**
 * `gridpkg watch` in-process on simulated sites (test/pkgsrc-sim) through the local backend and the real job script,
 * with the real spec-file watcher: it converges at start, reconciles an edited site, keeps the last good spec
 * through an invalid edit, cleans job directories up, and in observe-only mode applies nothing. The tests wait on
 * files and output (generous timeouts as a safety net), never on the clock.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runWatch, type WatchCommandOptions } from '../../src/cli/commands/watch.js';
import { availableShells, captureIO, World } from './harness.js';

const shell = availableShells()[0] ?? ['dash'];
const WAIT = { timeout: 120_000, interval: 50 };

function startWatch(world: World, extra: Partial<WatchCommandOptions> = {}) {
  const captured = captureIO();
  const stop = new AbortController();
  const options: WatchCommandOptions = {
    file: world.specFile,
    stateDir: world.stateDir,
    concurrency: 8,
    input: false,
    resync: 6 * 3_600_000,
    maxAttempts: 3,
    retryDelay: 30_000,
    maxRetryDelay: 30 * 60_000,
    drainTimeout: 60_000,
    debounce: 50,
    logFormat: 'text',
    ...extra,
  };
  const done = runWatch(options, captured.io, { stop: stop.signal });
  return { done, stop: () => stop.abort(), out: captured.stdout, err: captured.stderr };
}

describe('gridpkg watch on simulated sites', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(shell);
  });
  afterEach(async () => {
    await world.dispose();
  });

  const status = async (site: string) =>
    JSON.parse(await readFile(join(world.stateDir, 'status', `${site}.json`), 'utf8').catch(() => '{}')) as {
      health?: string;
      sync?: string;
      lastError?: string;
    };

  it('converges at start, reconciles only the edited site, and keeps the last good spec through an invalid edit', async () => {
    await world.addSite('site-a');
    await world.addSite('site-b');
    await world.writeSpec({ 'site-a': '      - math/gsl', 'site-b': '      - math/gsl' });
    const watch = startWatch(world);
    await vi.waitFor(async () => {
      expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
      expect(await world.installed('site-b')).toEqual(['gsl-2.8']);
      expect((await status('site-a')).health).toBe('healthy');
      expect((await status('site-b')).health).toBe('healthy');
    }, WAIT);
    const jobsAtStart = await world.finishedJobs();
    expect(jobsAtStart).toHaveLength(4);
    // Every job's outcome is recorded (ledger history), and its directory is cleaned up.
    expect(await readdir(join(world.stateDir, 'jobs')).catch(() => [])).toEqual([]);

    // An invalid edit: reported with its location; the last good spec keeps running.
    const good = await readFile(world.specFile, 'utf8');
    await writeFile(
      world.specFile,
      good.replace('      - math/gsl', '      - { pkgpath: math/gsl, state: maybe }'),
    );
    await vi.waitFor(() => expect(watch.out()).toContain('the last good spec keeps running'), WAIT);
    expect(watch.out()).toMatch(/desired-state\.yaml:\d+:\d+: /);

    // The fix, with site-b changed: only site-b is reconciled.
    await world.writeSpec({
      'site-a': '      - math/gsl',
      'site-b': ['      - math/gsl', '      - devel/hdf5'].join('\n'),
    });
    await vi.waitFor(
      async () =>
        expect(await world.installed('site-b'), watch.out()).toEqual([
          'gsl-2.8',
          'hdf5-1.14.3',
          'zlib-1.3.1*',
        ]),
      WAIT,
    );
    await vi.waitFor(async () => expect((await status('site-b')).health).toBe('healthy'), WAIT);
    expect(watch.out()).toContain('spec reloaded: 1 site(s) changed (site-b), 1 unchanged');
    const later = (await world.finishedJobs()).filter((id) => !jobsAtStart.includes(id));
    // site-b's last observation (the apply's post-state) is reused: one apply job, no probe; site-a: nothing.
    expect(later.filter((id) => id.startsWith('site-a-'))).toEqual([]);
    expect(later.filter((id) => id.startsWith('site-b-apply-'))).toHaveLength(1);

    watch.stop();
    expect(await watch.done).toBe(0);
    expect(existsSync(join(world.stateDir, 'controller.lease'))).toBe(false);
    expect(watch.err()).toBe('');
  }, 300_000);

  it('repairs drift made by hand at the next resync', async () => {
    const site = await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const watch = startWatch(world, { resync: 1000 });
    await vi.waitFor(async () => expect(await world.installed('site-a')).toEqual(['gsl-2.8']), WAIT);
    // Someone removes the package by hand; no spec edit.
    await execa(join(site.sbin, 'pkg_delete'), ['gsl']);
    expect(await world.installed('site-a')).toEqual([]);
    await vi.waitFor(async () => expect(await world.installed('site-a')).toEqual(['gsl-2.8']), WAIT);
    watch.stop();
    expect(await watch.done).toBe(0);
  }, 300_000);

  it('refuses to start beside another live controller of the state directory, before any job', async () => {
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    await mkdir(world.stateDir, { recursive: true });
    const since = '2026-12-02T08:00:00.000Z';
    const lease = { id: 'other', command: 'converge', host: hostname(), pid: process.pid, acquiredAt: since };
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    await writeFile(
      join(world.stateDir, 'controller.lease'),
      JSON.stringify({ ...lease, heartbeatAt: since, expiresAt }),
    );
    const run = await world.run('watch');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `another gridpkg converge (pid ${process.pid} on this host) has been controlling this state directory`,
    );
    expect(await world.finishedJobs()).toEqual([]);
  });

  it('--observe-only: probes and reports the drift, never applies', async () => {
    await world.addSite('site-a', ['gsl-2.7nb1']);
    await world.writeSpec({ 'site-a': '      - { pkgpath: math/gsl, pattern: "gsl>=2.8" }' });
    const watch = startWatch(world, { observeOnly: true, logFormat: 'json' });
    await vi.waitFor(async () => expect((await status('site-a')).sync).toBe('drifted'), WAIT);
    expect(await status('site-a')).toMatchObject({ health: 'healthy' });
    watch.stop();
    expect(await watch.done).toBe(0);
    expect(await world.installed('site-a')).toEqual(['gsl-2.7nb1']);
    expect((await world.finishedJobs()).filter((id) => id.includes('-apply-'))).toEqual([]);
    const records = watch
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; phase?: string; message?: string });
    expect(records[0]).toMatchObject({ type: 'watch-started', observeOnly: true });
    expect(records).toContainEqual(
      expect.objectContaining({ type: 'site-status', phase: 'observed', site: 'site-a', sync: 'drifted' }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ type: 'planned', outcome: 'changes', actions: 1 }),
    );
  }, 300_000);

  it('stalls a site whose attempts ran out, shows it in status, and un-stalls it when its spec changes', async () => {
    await world.addSite('site-a');
    // A software area that does not exist: every probe fails, retried at once (--retry-delay 0).
    const site = world.sites.get('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const spec = await readFile(world.specFile, 'utf8');
    await writeFile(
      world.specFile,
      spec.replace(`softwareArea: ${site?.swdir}`, 'softwareArea: /nonexistent/sw'),
    );
    const watch = startWatch(world, { maxAttempts: 2, retryDelay: 0 });
    await vi.waitFor(async () => expect((await status('site-a')).health).toBe('stalled'), WAIT);
    expect((await status('site-a')).lastError).toMatch(
      /; left alone until the site's desired state changes \(or SIGHUP\)$/,
    );
    const shown = await world.run('status');
    expect(shown.stdout).toMatch(/^site-a\s+unknown\s+stalled\s/m);

    await world.writeSpec({ 'site-a': '      - math/gsl' });
    await vi.waitFor(async () => expect((await status('site-a')).health).toBe('healthy'), WAIT);
    expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
    watch.stop();
    expect(await watch.done).toBe(0);
  }, 300_000);
});

describe('gridpkg watch --listen', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(shell);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('serves the report and metrics while it watches, with its own reconcile durations and job counts', async () => {
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    const watch = startWatch(world, { listen: '127.0.0.1:0' });
    let url = '';
    await vi.waitFor(() => {
      url = /serving the drift report and metrics at (http:\S+)/.exec(watch.out())?.[1] ?? '';
      expect(url).not.toBe('');
    }, WAIT);
    await vi.waitFor(async () => expect(await world.installed('site-a')).toEqual(['gsl-2.8']), WAIT);
    await vi.waitFor(async () => {
      const metrics = await (await fetch(new URL('/metrics', url))).text();
      expect(metrics).toMatch(/^gridpkg_reconcile_duration_seconds_count\{phase="converged"\} 1$/m);
      expect(metrics).toMatch(/^gridpkg_watch_jobs_submitted_total\{mode="probe"\} 1$/m);
      expect(metrics).toMatch(/^gridpkg_watch_jobs_submitted_total\{mode="apply"\} 1$/m);
      expect(metrics).toMatch(/^gridpkg_site_info\{site="site-a",sync="in-sync",health="healthy"\} 1$/m);
    }, WAIT);
    const report = (await (await fetch(new URL('/report.json', url))).json()) as {
      sites: Array<{ sync: string }>;
    };
    expect(report.sites.map((s) => s.sync)).toEqual(['in-sync']);
    watch.stop();
    expect(await watch.done).toBe(0);
    // Closed with the watch.
    await expect(fetch(new URL('/healthz', url))).rejects.toThrow();
  });
});
