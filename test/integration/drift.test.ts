/**
 * `gridpkg drift` end to end: simulated sites (test/pkgsrc-sim, a test double), the site job under dash, the CLI.
 * Exit 0 in sync, 2 drift, 3 unknown (winning over drift); only probe jobs, nothing applied; reports written in
 * every format, the JSON one valid against its schema; recorded observations reused under --max-age.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectValidDriftReport } from '../report/drift/schema.js';
import { World } from './harness.js';

describe('gridpkg drift', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.create(['dash']);
    await world.addSite('good', ['gsl-2.8', 'openssl-3.0.13']);
    await world.addSite('behind');
    await world.addSite('lost');
    await world.writeSpec({
      good: '      - math/gsl\n      - security/openssl',
      behind: '      - math/gsl',
      lost: '      - math/gsl',
    });
    // The third site's software area does not exist: its probe job fails, so the site is unknown.
    const spec = await readFile(world.specFile, 'utf8');
    const lost = world.sites.get('lost')?.swdir as string;
    await writeFile(world.specFile, spec.replace(`softwareArea: ${lost}`, `softwareArea: ${lost}-gone`));
  });
  afterAll(async () => {
    await world.dispose();
  });

  const applyJobs = async () => (await world.finishedJobs()).filter((id) => id.includes('-apply-'));
  const json = (stdout: string) => {
    const report = JSON.parse(stdout) as {
      summary: Record<string, number>;
      sites: Array<{
        site: string;
        sync: string;
        observation?: { source: string; byJob?: string };
        items: unknown[];
        history: Array<{ jobId: string; mode: string; jobState: string; actions?: unknown[] }>;
      }>;
      vulnerabilities: Array<{ pkgname: string; sites: string[] }>;
    };
    expectValidDriftReport(report);
    return report;
  };

  it('exits 0 when the selected sites are in sync, and lists their vulnerable packages', async () => {
    const run = await world.run('drift', '--site', 'good', '--format', 'json');
    expect(run.code).toBe(0);
    const report = json(run.stdout);
    expect(report.sites.map((s) => [s.site, s.sync])).toEqual([['good', 'in-sync']]);
    expect(report.vulnerabilities.map((v) => [v.pkgname, v.sites])).toContainEqual([
      'openssl-3.0.13',
      ['good'],
    ]);
  });

  it('exits 2 on drift, applies nothing, and writes each format to its own output', async () => {
    const junit = join(world.root, 'drift.xml');
    const markdown = join(world.root, 'drift.md');
    const run = await world.run(
      'drift',
      '--site',
      'good',
      '--site',
      'behind',
      '--format',
      'junit',
      '--output',
      junit,
      '--format',
      'markdown',
      '--output',
      markdown,
      '--format',
      'text',
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^behind +drifted/m);
    expect(run.stdout).toContain('+ missing math/gsl wants any version -> gsl-2.8');
    expect(await world.installed('behind')).toEqual([]);
    expect(await applyJobs()).toEqual([]);
    const xml = await readFile(junit, 'utf8');
    // The failing case points at the spec line that requires math/gsl for the site.
    const line = (await readFile(world.specFile, 'utf8'))
      .split('\n')
      .findIndex(
        (l, i, all) => l.includes('- math/gsl') && all.slice(0, i).some((x) => x.includes('behind:')),
      );
    expect(xml).toContain(
      `<testcase classname="behind" name="math/gsl any version" file="${world.specFile}" line="${line + 1}">`,
    );
    expect(xml).toContain('<failure message="missing: wants any version, plan gsl-2.8" type="drift">');
    expect(await readFile(markdown, 'utf8')).toContain('| behind | drifted |');
  });

  it('exits 3 when a site is unknown, even with another drifted, and says why', async () => {
    const run = await world.run('drift', '--format', 'json');
    expect(run.code).toBe(3);
    const report = json(run.stdout);
    expect(report.summary).toMatchObject({ sites: 3, inSync: 1, drifted: 1, unknown: 1 });
    const lost = report.sites.find((s) => s.site === 'lost') as { unknownReason?: string };
    expect(lost.unknownReason).toMatch(/software area|job failed/);
    expect(await applyJobs()).toEqual([]);
  });

  it('reuses observations younger than --max-age instead of probing', async () => {
    const before = await world.finishedJobs();
    const run = await world.run(
      'drift',
      '--site',
      'good',
      '--site',
      'behind',
      '--max-age',
      '1h',
      '--format',
      'json',
    );
    expect(run.code).toBe(2);
    const report = json(run.stdout);
    expect(report.sites.map((s) => s.observation?.source)).toEqual(['recorded', 'recorded']);
    expect(await world.finishedJobs()).toEqual(before);
    // The history is the ledger's: the probe jobs of the earlier runs, newest first, the observing one among them.
    const good = report.sites[0];
    expect(good?.history.length).toBeGreaterThanOrEqual(3);
    expect(good?.history.every((h) => h.mode === 'probe' && h.jobState === 'done')).toBe(true);
    expect(good?.history[0]?.jobId).toBe(good?.observation?.byJob);
  });

  it('documents its exit codes in --help', async () => {
    const run = await world.run('drift', '--help');
    expect(run.stdout).toContain('Exit codes: 0 all selected sites in sync, 2 drift, 3 some site unknown');
  });

  it('refuses two formats on stdout before probing anything', async () => {
    const before = await world.finishedJobs();
    const run = await world.run('drift', '--format', 'json', '--format', 'text');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('more than one --format goes to stdout');
    const extra = await world.run('drift', '--format', 'json', '--output', 'a.json', '--output', 'b.json');
    expect(extra.code).toBe(1);
    expect(extra.stderr).toContain('2 --output for 1 --format');
    const unknown = await world.run('drift', '--format', 'yaml');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('expected one of text, json, markdown, junit, html');
    expect(await world.finishedJobs()).toEqual(before);
  });

  // Last: it changes the site.
  it('shows no drift once apply has converged the site, and the apply job with its actions in the history', async () => {
    await world.run('apply', '--auto-approve');
    expect(await world.installed('behind')).toEqual(['gsl-2.8']);
    const run = await world.run('drift', '--site', 'behind', '--format', 'json');
    expect(run.code).toBe(0);
    const [behind] = json(run.stdout).sites;
    expect(behind?.sync).toBe('in-sync');
    const apply = behind?.history.find((h) => h.mode === 'apply');
    expect(apply?.actions).toEqual([
      { verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8', result: 'ok' },
    ]);
  });
});
