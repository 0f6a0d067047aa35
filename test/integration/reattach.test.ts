/** The ledger as a lease across controller processes: a restarted controller re-attaches instead of resubmitting. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend, SITE_JOB_SCRIPT } from '../../src/grid/index.js';
import { encodeRequest } from '../../src/grid/protocol/index.js';
import { Ledger } from '../../src/state/ledger.js';
import { cli, World } from './harness.js';

describe('a controller that finds a job in the ledger', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['dash']);
    await world.addSite('site-a', ['gsl-2.7nb1']);
    await world.writeSpec({ 'site-a': '      - math/gsl' });
  });
  afterEach(async () => {
    await world.dispose();
  });

  const plan = () => cli(['plan', '-f', world.specFile, '--state-dir', world.stateDir]);

  it('re-attaches to a job submitted by a controller that died, uses its report, and then runs its own', async () => {
    // What a controller leaves behind when it is killed right after submitting: a ledger entry and a running job.
    const ledger = new Ledger(world.stateDir);
    const site = world.sites.get('site-a');
    const jobId = 'site-a-probe-orphan';
    const entry = await ledger.recordIntent({ jobId, site: 'site-a', mode: 'probe', backend: 'local' });
    if (!entry || !site) throw new Error('setup failed');
    const backend = new LocalBackend({
      jobsRoot: join(world.stateDir, 'jobs'),
      shell: ['dash'],
      environment: {},
    });
    const handle = await backend.submit({
      jobId,
      site: 'site-a',
      scriptPath: SITE_JOB_SCRIPT,
      request: encodeRequest({
        jobId,
        mode: 'probe',
        swdir: site.swdir,
        repository: world.repository,
        actions: [],
      }),
      timeoutSeconds: 600,
    });
    await ledger.recordSubmitted(entry, handle.backendId);

    const run = await plan();
    expect(run.stderr).toContain(`re-attaching to probe job ${jobId}`);
    expect(run.code).toBe(0);
    const finished = await world.finishedJobs();
    expect(finished).toContain(jobId);
    expect(finished.filter((id) => id.includes('-probe-'))).toHaveLength(2);
    expect(await ledger.active('site-a')).toBeUndefined();
    const history = JSON.parse(
      await readFile(join(world.stateDir, 'ledger', 'history', `${jobId}.json`), 'utf8'),
    );
    expect(history).toMatchObject({ jobState: 'done', reportStatus: 'ok' });
  });

  it('clears an intent whose controller died before submitting, then proceeds', async () => {
    const ledger = new Ledger(world.stateDir);
    const entry = await ledger.recordIntent({
      jobId: 'never-submitted',
      site: 'site-a',
      mode: 'apply',
      backend: 'local',
    });
    if (!entry) throw new Error('setup failed');
    // Rewrite the owner to a pid that does not exist.
    const { writeFileAtomic } = await import('../../src/state/atomic.js');
    await writeFileAtomic(
      join(world.stateDir, 'ledger', 'site-a.json'),
      JSON.stringify({ ...entry, owner: { ...entry.owner, pid: 2 ** 22 + 4321 } }),
    );
    const run = await plan();
    expect(run.code).toBe(0);
    expect(await world.finishedJobs()).toContain('never-submitted');
  });

  it('waits for another live controller that is still submitting to the site, then follows its job', async () => {
    // Another gridpkg (alive: this very process) has recorded its intent and is still talking to the backend.
    const ledger = new Ledger(world.stateDir);
    const jobId = 'being-submitted';
    const entry = await ledger.recordIntent({ jobId, site: 'site-a', mode: 'probe', backend: 'local' });
    const site = world.sites.get('site-a');
    if (!entry || !site) throw new Error('setup failed');
    const running = plan();
    await untilFileContains(join(world.stateDir, 'gridpkg.log'), 'waiting for it');

    // Now it has submitted, and records the backend id.
    const backend = new LocalBackend({
      jobsRoot: join(world.stateDir, 'jobs'),
      shell: ['dash'],
      environment: {},
    });
    const handle = await backend.submit({
      jobId,
      site: 'site-a',
      scriptPath: SITE_JOB_SCRIPT,
      request: encodeRequest({
        jobId,
        mode: 'probe',
        swdir: site.swdir,
        repository: world.repository,
        actions: [],
      }),
      timeoutSeconds: 600,
    });
    await ledger.recordSubmitted(entry, handle.backendId);

    const run = await running;
    expect(run.stderr).toContain(
      `another gridpkg (pid ${process.pid} on this host) is submitting probe job ${jobId}; waiting for it`,
    );
    expect(run.stderr).toContain(`re-attaching to probe job ${jobId}`);
    expect(run.stdout).not.toMatch(/remove the ledger entry/);
    expect(run.code).toBe(0);
    expect(await world.finishedJobs()).toContain(jobId);
    expect(await ledger.active('site-a')).toBeUndefined();
  });
});

/** Resolves once `file` exists and holds `text` (the test's own timeout is the safety net). */
async function untilFileContains(file: string, text: string): Promise<void> {
  for (;;) {
    const content = await readFile(file, 'utf8').catch(() => '');
    if (content.includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
