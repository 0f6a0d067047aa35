/**
 * The arc backend against a real NorduGrid ARC 6 CE (A-REX with the fork LRMS and the REST interface, throw-away
 * test CA, on loopback; scripts/services/arc-up.sh): the real job script converging a simulated pkgsrc site through
 * the engine, the ARC job URLs in the ledger, one arcstat call per poll for all jobs of the CE, cancel (arckill),
 * the CE down during a poll and back, a job killed from outside reported failed and retried by the next apply,
 * re-attaching from a new backend object, and the latency of one probe job. Without the CE these tests skip loudly;
 * with CI=true they fail.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArcBackend,
  type ArcBackendConfig,
  type ArcBackendOptions,
  type ArcExec,
  ArcUnavailableError,
  defaultArcExec,
} from '../../../src/grid/arc.js';
import type { JobHandle, JobState } from '../../../src/grid/backend.js';
import { SITE_JOB_SCRIPT } from '../../../src/grid/index.js';
import { applyPlan, planSites } from '../../../src/reconcile/engine.js';
import { type JobContext, runSiteJob } from '../../../src/reconcile/run-job.js';
import { SiteQueue } from '../../../src/reconcile/site-queue.js';
import type { DesiredState, Requirement } from '../../../src/spec/types.js';
import { Ledger, type LedgerEntry, type LedgerOutcome } from '../../../src/state/ledger.js';
import { ObservationStore } from '../../../src/state/observations.js';
import type { SiteWithRepository } from '../../pkgsrc-sim/site.js';
import { expectConverges } from '../support/converge.js';
import { measureProbeLatency } from '../support/latency.js';
import {
  ARC_UP,
  type ArcEnv,
  ArcWorld,
  answers,
  arcEnvironment,
  killTree,
  pidOf,
  useClientEnvironment,
} from './harness.js';

const env = arcEnvironment();
const run = Math.random().toString(36).slice(2, 8);
/** Progress of the controller, shown with GRIDPKG_E2E_VERBOSE=1. */
const log = (site: string, message: string) => {
  if (process.env.GRIDPKG_E2E_VERBOSE) console.log(`${new Date().toISOString()} ${site}: ${message}`);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function requirement(pkgpath: string): Requirement {
  return { pkgpath, pattern: undefined, state: 'present', source: { file: 'spec.yaml', line: 1, column: 1 } };
}

/** Every ARC command run, with the time it started (to tell which jobs were in flight together). */
interface Call {
  at: number;
  command: string;
  args: readonly string[];
}

describe.skipIf(!env)('arc backend against a real ARC CE', () => {
  const e = env as ArcEnv;
  let world: ArcWorld;
  let jobsRoot: string;
  const calls: Call[] = [];
  const recordingExec: ArcExec = (command, args, options) => {
    calls.push({ at: Date.now(), command, args });
    return defaultArcExec(command, args, options);
  };
  const config = (extra: Partial<ArcBackendConfig> = {}): ArcBackendConfig => ({
    type: 'arc',
    ce: e.ce,
    jobsRoot,
    ...extra,
  });
  const backend = (extra: Partial<ArcBackendOptions> = {}): ArcBackend => {
    const { type: _type, ...settings } = config();
    return new ArcBackend({ ...settings, jobsRoot, exec: recordingExec, ...extra });
  };
  /** A stand-in job script the job account can read. */
  const script = async (name: string, text: string) => {
    const path = join(world.root, name);
    await writeFile(path, `#!/bin/sh\n${text}`, { mode: 0o755 });
    return path;
  };
  const submit = (b: ArcBackend, jobId: string, scriptPath: string) =>
    b.submit({ jobId: `${jobId}-${run}`, site: 'site-a', scriptPath, request: 'req\n', timeoutSeconds: 600 });

  async function waitFor(b: ArcBackend, job: JobHandle, wanted: JobState['state'][]): Promise<JobState> {
    for (let i = 0; i < 240; i++) {
      const state = (await b.status([job])).get(job.jobId);
      if (state && wanted.includes(state.state)) return state;
      await sleep(500);
    }
    throw new Error(`job ${job.jobId} never reached ${wanted.join('/')}`);
  }

  function context(stateDir: string, progress: (site: string, message: string) => void = log) {
    const context: JobContext = {
      backendFor: (desired) => {
        const { type: _type, ...settings } = desired.backend as ArcBackendConfig;
        return new ArcBackend({ ...settings, jobsRoot, exec: recordingExec });
      },
      ledger: new Ledger(stateDir),
      observations: new ObservationStore(stateDir),
      queue: new SiteQueue(),
      scriptPath: SITE_JOB_SCRIPT,
      pollIntervalMs: { first: 500, max: 2000 },
      progress,
    };
    return context;
  }

  function desiredFor(
    where: SiteWithRepository,
    site: string,
    requirements: Requirement[],
    extra: Partial<ArcBackendConfig> = {},
  ): DesiredState {
    return {
      site,
      vo: 'pvier',
      softwareArea: where.swdir,
      prefix: undefined,
      repository: where.repository,
      lockStaleSeconds: 1800,
      jobTimeoutSeconds: 600,
      backend: config(extra),
      requirements,
      labels: [],
      installMode: 'binary',
      pkgsrcTree: undefined,
      bootstrap: undefined,
      prune: undefined,
      vulnerabilityPolicy: 'warn',
      ignores: [],
      // The test CA's proxy (arcproxy) has no VOMS attributes: the check still wants it valid for the job timeout.
      proxy: { vomsRole: undefined, minValiditySeconds: 0, requireVoms: false },
    };
  }

  /** A shell for the job script that first sleeps: a job that stays running long enough to act on. */
  const slowShell = async (seconds: number) => [
    await script(`slow-${seconds}.sh`, `sleep ${seconds}\nexec /bin/sh "$@"\n`),
  ];

  /** The runner's pid of a running job, from its session directory on the CE (this machine). */
  async function runnerPid(url: string): Promise<number> {
    const pidFile = join(e.sessionDir, url.slice(url.lastIndexOf('/') + 1), 'pid');
    for (let i = 0; i < 240 && !existsSync(pidFile); i++) await sleep(250);
    return Number(await readFile(pidFile, 'utf8'));
  }

  beforeAll(async () => {
    useClientEnvironment(e);
    world = await ArcWorld.create(e);
    jobsRoot = join(world.root, 'jobs');
  });
  afterAll(async () => {
    // Nothing of ours may keep running on the CE: kill and clean every job of this run still in the job list.
    const list = backend().jobList;
    if (existsSync(list)) {
      for (const command of ['arckill', 'arcclean']) {
        try {
          execFileSync(command, ['-j', list, '-a'], { stdio: 'ignore', timeout: 60_000 });
        } catch {
          // nothing left
        }
      }
    }
    await world?.dispose();
  }, 120_000);

  it('converges a simulated site through the engine: plan, apply, plan again clean; ARC job URLs in the ledger', async () => {
    const site = await world.addSite('converge', ['gsl-2.7nb1']);
    const stateDir = join(world.root, 'state-converge');
    const ctx = context(stateDir);
    const desired = desiredFor(site, `site-arc-${run}`, [requirement('math/gsl'), requirement('math/root')]);
    await expectConverges(ctx, desired, site.pkgdb);
    // The ledger keeps the ARC job URL of every job (probe, apply, probe).
    const history = await ledgerHistory(stateDir);
    expect(history.map((entry) => entry.mode)).toEqual(['probe', 'apply', 'probe']);
    for (const entry of history)
      expect(entry.backendId).toMatch(new RegExp(`^${e.ce}/rest/1\\.0/jobs/\\w+$`));
  }, 240_000);

  it('asks for the status of all jobs of the CE with one arcstat call per poll, across sites', async () => {
    const sites = await Promise.all([0, 1, 2].map((i) => world.addSite(`many-${i}`)));
    const ctx = context(join(world.root, 'state-many'));
    const desired = sites.map((site, i) =>
      desiredFor(site, `site-many-${i}-${run}`, [requirement('math/gsl')]),
    );
    const from = Date.now();
    const plan = await planSites(ctx, desired, { concurrency: 3, specFile: 'spec.yaml', specDigest: 'x' });
    expect(plan.sites.map((s) => s.outcome)).toEqual(['changes', 'changes', 'changes']);
    const polls = calls.filter((c) => c.at >= from && c.command === 'arcstat');
    const submits = calls.filter((c) => c.at >= from && c.command === 'arcsub');
    expect(submits).toHaveLength(3);
    // Once the third probe was watched too, each poll asked about every unfinished job in one call: the number of
    // jobs per call reaches 3 and only goes down from there, as jobs finish.
    const jobsPerCall = polls.map((c) => c.args.filter((a) => a.startsWith(`${e.ce}/`)).length);
    const firstAll = jobsPerCall.indexOf(3);
    expect(firstAll).toBeGreaterThanOrEqual(0);
    const after = jobsPerCall.slice(firstAll);
    expect(after).toEqual([...after].sort((a, b) => b - a));
    // Three separate pollers would have made one call per job per round.
    expect(jobsPerCall.reduce((a, b) => a + b, 0)).toBeGreaterThan(polls.length);
  }, 240_000);

  it('cancels a running job with arckill: failed, cancelled', async () => {
    const b = backend();
    const job = await submit(b, 'cancel', await script('sleepy.sh', 'sleep 120\n'));
    await waitFor(b, job, ['running']);
    await b.cancel(job);
    expect(await waitFor(b, job, ['failed', 'done', 'lost'])).toMatchObject({
      state: 'failed',
      raw: 'Killed (KILLED)',
    });
    await b.clean(job);
    expect(existsSync(join(jobsRoot, job.jobId))).toBe(false);
    // Cleaned on the CE too: the job list no longer has it.
    expect((await b.status([job])).get(job.jobId)).toMatchObject({ state: 'lost', raw: 'not in job list' });
  }, 240_000);

  it('reports a job killed from outside as failed, and the next apply retries and converges', async () => {
    const site = await world.addSite('killed');
    const ctx = context(join(world.root, 'state-killed'));
    const slow = desiredFor(site, `site-killed-${run}`, [requirement('math/gsl')], {
      shell: await slowShell(20),
    });
    const plan = await planSites(ctx, [slow], { concurrency: 1, specFile: 'spec.yaml', specDigest: 'x' });
    // The apply job's runner and everything under it killed on the worker node while the job sleeps.
    const applying = applyPlan(ctx, plan, { concurrency: 1 });
    const submitted = Date.now();
    let url: string | undefined;
    for (let i = 0; i < 240 && url === undefined; i++) {
      await sleep(250);
      const entry = await ctx.ledger.active(slow.site);
      if (entry?.mode === 'apply' && calls.some((c) => c.command === 'arcsub' && c.at >= submitted))
        url = entry.backendId;
    }
    if (!url) throw new Error('the apply job was never submitted');
    killTree(await runnerPid(url));
    const results = await applying;
    expect(results[0]?.status).not.toBe('ok');
    const killed = (await ledgerHistory(join(world.root, 'state-killed'))).find(
      (entry) => entry.mode === 'apply',
    );
    expect(killed).toMatchObject({ backendId: url, jobState: 'failed' });
    expect(await readdir(site.pkgdb)).not.toContain('gsl-2.8');
    // The next apply (normal shell) plans the same change again and makes it.
    const desired = desiredFor(site, slow.site, [requirement('math/gsl')]);
    const retry = await planSites(ctx, [desired], { concurrency: 1, specFile: 'spec.yaml', specDigest: 'x' });
    expect(retry.sites[0]?.outcome).toBe('changes');
    expect((await applyPlan(ctx, retry, { concurrency: 1 })).map((r) => r.status)).toEqual(['ok']);
    expect((await readdir(site.pkgdb)).some((n) => n.startsWith('gsl-'))).toBe(true);
  }, 300_000);

  it('survives the CE going down during a poll: transient errors, then the job is collected after restart', async () => {
    const site = await world.addSite('outage');
    const messages: string[] = [];
    const ctx = context(join(world.root, 'state-outage'), (_site, message) => messages.push(message));
    const desired = desiredFor(site, `site-outage-${run}`, [requirement('math/gsl')], {
      shell: await slowShell(15),
    });
    const probing = runSiteJob(ctx, desired, 'probe');
    // Wait until the job runs, then stop the CE's web service (REST interface) while the controller polls.
    for (let i = 0; i < 240 && !messages.some((m) => /submitted/.test(m)); i++) await sleep(250);
    await sleep(3000);
    const pid = pidOf(e.arexWsPidFile);
    if (pid === undefined) throw new Error('A-REX web service is not running');
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 120 && pidOf(e.arexWsPidFile) !== undefined; i++) await sleep(250);
    try {
      // The backend itself: the job's URL, asked while the CE is down, is a transient error, not a job state.
      const entry = await ctx.ledger.active(desired.site);
      if (!entry?.backendId) throw new Error('the probe has no ARC job URL in the ledger');
      const handle = { jobId: entry.jobId, site: desired.site, backendId: entry.backendId };
      await expect(backend().status([handle])).rejects.toBeInstanceOf(ArcUnavailableError);
      // The controller, polling meanwhile, says so and keeps waiting.
      for (let i = 0; i < 40 && !messages.some((m) => /unavailable, retrying/.test(m)); i++) await sleep(250);
      expect(messages.some((m) => /unavailable, retrying/.test(m))).toBe(true);
    } finally {
      execFileSync('bash', [ARC_UP], { stdio: 'ignore', timeout: 180_000 });
    }
    expect(answers(e)).toBe(true);
    const result = await probing;
    expect(result.observation.state).toBe('known');
    expect(result.jobState.state).toBe('done');
    // The controller showed the CE's own states on the way (again after the outage), not on every poll.
    const running = messages.filter((m) => /: running, backend says Running/.test(m));
    expect(running.length).toBeGreaterThan(0);
    expect(running.length).toBeLessThanOrEqual(4);
  }, 300_000);

  it('finds a job again from a new backend object (a restarted controller), by arc-id and by job name', async () => {
    const b = backend();
    const job = await submit(b, 'find', await script('find.sh', 'echo found > "$2"\n'));
    expect(await backend().find('site-a', job.jobId)).toEqual(job);
    // A crash between arcsub and writing arc-id: the job is found by its name on the CE.
    await rm(join(jobsRoot, job.jobId, 'arc-id'));
    expect(await backend().find('site-a', job.jobId)).toEqual(job);
    expect(await backend().find('site-a', `nothing-${run}`)).toBeUndefined();
    expect(await waitFor(b, job, ['done'])).toMatchObject({ state: 'done', exitCode: 0 });
    expect((await b.fetch(job)).report).toBe('found\n');
    await b.clean(job);
  }, 240_000);

  it('measures one probe job end to end (median of 3)', async () => {
    const site = await world.addSite('latency');
    const ctx = context(join(world.root, 'state-latency'));
    const desired = desiredFor(site, `site-latency-${run}`, [requirement('math/gsl')]);
    const median = await measureProbeLatency(ctx, desired, { runs: 3, label: 'arc backend' });
    expect(median).toBeLessThan(120_000);
  }, 600_000);
});

/** The finished jobs of a state directory's ledger, oldest first by job id's time stamp. */
async function ledgerHistory(stateDir: string): Promise<(LedgerEntry & LedgerOutcome)[]> {
  const dir = join(stateDir, 'ledger', 'history');
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json'));
  const entries = await Promise.all(
    names.map(
      async (name) => JSON.parse(await readFile(join(dir, name), 'utf8')) as LedgerEntry & LedgerOutcome,
    ),
  );
  return entries.sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
}
