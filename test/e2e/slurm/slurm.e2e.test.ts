/**
 * The slurm backend against a real single-node Slurm 22.05 with munge on loopback (scripts/services/slurm-up.sh):
 * the real job script converging a simulated pkgsrc site through the engine, cancel (scancel), a job killed from
 * outside (scancel by someone else; kill of the job's process), slurmctld down during a poll and back, one squeue
 * call for the status of many jobs, a job that left squeue read back from the real jobcomp log, and the latency of
 * one probe job; the same backend with its login node reached over ssh (sshd-up.sh's sshd on loopback, the ssh
 * test user submitting): converge, one squeue over ssh for many jobs, cancel; and the template backend configured
 * to drive sbatch / squeue / scancel (converge, cancel, an apply cancelled from outside and retried, slurmctld
 * down during a poll, re-attaching by job name, latency). Without the cluster (or, for the ssh part, the sshd)
 * these tests skip loudly; with CI=true they fail.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GridBackend, JobHandle, JobState, JobSubmission } from '../../../src/grid/backend.js';
import { createBackend, SITE_JOB_SCRIPT } from '../../../src/grid/index.js';
import {
  defaultSlurmExec,
  SlurmBackend,
  type SlurmBackendConfig,
  type SlurmBackendOptions,
  type SlurmExec,
  SlurmUnavailableError,
} from '../../../src/grid/slurm.js';
import { defaultSshExec, type SshExec } from '../../../src/grid/ssh/connection.js';
import { TemplateBackend, TemplateUnavailableError } from '../../../src/grid/template.js';
import { applyPlan, planSites } from '../../../src/reconcile/engine.js';
import { type JobContext, runSiteJob } from '../../../src/reconcile/run-job.js';
import { SiteQueue } from '../../../src/reconcile/site-queue.js';
import type { DesiredState, Requirement, TemplateBackendConfig } from '../../../src/spec/types.js';
import { Ledger } from '../../../src/state/ledger.js';
import { ObservationStore } from '../../../src/state/observations.js';
import { createSiteWithRepository, type SiteWithRepository } from '../../pkgsrc-sim/site.js';
import { markOwnerDead } from '../../support/dead-owner.js';
import { type SshEnv, SshWorld, sshEnvironment } from '../ssh/harness.js';
import { expectConverges } from '../support/converge.js';
import { measureProbeLatency } from '../support/latency.js';
import { partitionState, type SlurmEnv, slurmEnvironment } from './harness.js';

const env = slurmEnvironment();
/** The sshd of scripts/services/sshd-up.sh, for the login node reached over ssh (required too when CI is set). */
const sshEnv = env ? await sshEnvironment() : undefined;
const run = Math.random().toString(36).slice(2, 8);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(
  backend: GridBackend,
  job: JobHandle,
  wanted: JobState['state'][],
  tries = 400,
): Promise<JobState> {
  for (let i = 0; i < tries; i++) {
    const state = (await backend.status([job])).get(job.jobId);
    if (state && wanted.includes(state.state)) return state;
    await sleep(50);
  }
  throw new Error(`job ${job.jobId} never reached ${wanted.join('/')}`);
}

function requirement(pkgpath: string): Requirement {
  return { pkgpath, pattern: undefined, state: 'present', source: { file: 'spec.yaml', line: 1, column: 1 } };
}

function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.skipIf(!env)('slurm backend against a real Slurm', () => {
  const e = env as SlurmEnv;
  /** The environment of Slurm commands the tests run themselves (a function: the body runs even when skipped). */
  const slurmEnv = () => ({ ...process.env, SLURM_CONF: e.conf });
  let root: string;
  const config = (extra: Partial<SlurmBackendConfig> = {}): SlurmBackendConfig => ({
    type: 'slurm',
    partition: e.partition,
    slurmConf: e.conf,
    jobCompLog: e.jobCompLog,
    jobsRoot: join(root, 'jobs'),
    ...extra,
  });
  const backend = (extra: Partial<SlurmBackendOptions> = {}): SlurmBackend => {
    const { type: _type, ...settings } = config();
    return new SlurmBackend({ ...settings, jobsRoot: join(root, 'jobs'), ...extra });
  };
  const submit = (b: SlurmBackend, jobId: string, scriptPath: string, timeoutSeconds = 120) =>
    b.submit({ jobId, site: 'site-a', scriptPath, request: 'req\n', timeoutSeconds });
  const file = async (name: string, text: string) => {
    const path = join(root, name);
    await writeFile(path, text, { mode: 0o755 });
    return path;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gridpkg-slurm-e2e-'));
  });
  afterAll(async () => {
    // Nothing of ours may keep running: cancel every job of this run still known to Slurm, then remove the files.
    const ids = execFileSync('squeue', ['-h', '-o', '%i %j'], { env: slurmEnv(), encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(`-${run}`))
      .map((line) => line.split(' ')[0] ?? '');
    if (ids.length > 0) execFileSync('scancel', ids, { env: slurmEnv() });
    await rm(root, { recursive: true, force: true });
  });

  function context(stateDir: string): JobContext {
    return {
      backendFor: (desired) => createBackend(desired.backend, { jobsRoot: '/unused' }),
      ledger: new Ledger(stateDir),
      observations: new ObservationStore(stateDir),
      queue: new SiteQueue(),
      scriptPath: SITE_JOB_SCRIPT,
      pollIntervalMs: { first: 20, max: 200 },
      progress: () => undefined,
    };
  }

  function desiredFor(where: SiteWithRepository, site: string, requirements: Requirement[]): DesiredState {
    return {
      site,
      vo: 'pvier',
      softwareArea: where.swdir,
      prefix: undefined,
      repository: where.repository,
      lockStaleSeconds: 1800,
      jobTimeoutSeconds: 600,
      backend: config(),
      requirements,
    };
  }

  const addSite = (name: string, installed: string[] = []) =>
    createSiteWithRepository({
      root: join(root, 'sites', name),
      repositoryDir: join(root, 'packages', name),
      installed,
    });

  it('converges a simulated site through the engine: plan, apply, plan again clean', async () => {
    const site = await addSite('converge', ['gsl-2.7nb1']);
    const ctx = context(join(root, 'state-converge'));
    const desired = desiredFor(site, `site-slurm-${run}`, [
      requirement('math/gsl'),
      requirement('math/root'),
    ]);
    await expectConverges(ctx, desired, site.pkgdb);
    // The jobs really went through Slurm: their names are in the jobcomp log.
    expect(readFileSync(e.jobCompLog, 'utf8')).toMatch(/Name=gridpkg-site-slurm-/);
  });

  it('measures one probe job end to end (median of 5)', async () => {
    const site = await addSite('latency');
    const ctx = context(join(root, 'state-latency'));
    const desired = desiredFor(site, `site-latency-${run}`, [requirement('math/gsl')]);
    const median = await measureProbeLatency(ctx, desired, { runs: 5, label: 'slurm backend' });
    expect(median).toBeLessThan(30_000);
  });

  it('asks for the status of many jobs with one squeue call', async () => {
    const b = backend();
    const script = await file('quick.sh', 'echo done > "$2"\n');
    const jobs: JobHandle[] = [];
    for (let i = 0; i < 6; i++) jobs.push(await submit(b, `many-${run}-${i}`, script));
    for (;;) {
      const before = b.calls.length;
      const states = await b.status(jobs);
      expect(b.calls.length - before).toBe(1);
      expect(b.calls.at(-1)?.[0]).toBe('squeue');
      expect(states.size).toBe(6);
      if ([...states.values()].every((s) => s.state === 'done')) break;
      await sleep(50);
    }
    expect((await b.fetch(jobs[0] as JobHandle)).report).toBe('done\n');
    await expect(submit(b, `many-${run}-0`, script)).rejects.toThrow(/EEXIST/);
  });

  it('reads a job that has left squeue from the real jobcomp log before calling it lost', async () => {
    const b = backend();
    const script = await file('ends.sh', 'exit 0\n');
    const job = await submit(b, `gone-${run}`, script);
    await waitFor(b, job, ['done']);
    // squeue keeps finished jobs for MinJobAge (300 s here); play its forgetting, and let sacct -c answer for real.
    const forgetful: SlurmExec = async (command, args, options) =>
      command === 'squeue'
        ? { exitCode: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified\n' }
        : defaultSlurmExec(command, args, options);
    const b2 = backend({ exec: forgetful });
    const state = (await b2.status([job])).get(job.jobId);
    expect(b2.calls.map((c) => c[0])).toEqual(['squeue', 'sacct']);
    expect(b2.calls[1]).toContain(`--file=${e.jobCompLog}`);
    expect(state).toEqual({ state: 'done', exitCode: 0, raw: 'COMPLETED 0:0 (accounting)' });
    const unknown = {
      jobId: `never-${run}`,
      site: 's',
      backendId: `slurm:999999:${join(root, 'jobs', `never-${run}`)}`,
    };
    expect((await b2.status([unknown])).get(unknown.jobId)).toMatchObject({ state: 'lost', raw: 'vanished' });
  });

  it('cancels a running job with scancel: failed, cancelled', async () => {
    const b = backend();
    const script = await file('slow.sh', 'sleep 60\n');
    const job = await submit(b, `cancel-${run}`, script);
    await waitFor(b, job, ['running']);
    await b.cancel(job);
    expect(await waitFor(b, job, ['failed', 'done', 'lost'])).toMatchObject({
      state: 'failed',
      reason: 'cancelled',
      raw: 'CANCELLED',
    });
    await b.clean(job);
    expect(existsSync(join(root, 'jobs', job.jobId))).toBe(false);
  });

  it('reports a job killed from outside as failed, and the next apply works', async () => {
    const b = backend();
    const script = await file('sleepy.sh', 'sleep 60\n');
    // Someone else's scancel.
    const first = await submit(b, `other-${run}`, script);
    await waitFor(b, first, ['running']);
    execFileSync('scancel', [first.backendId.split(':')[1] ?? ''], { env: slurmEnv() });
    expect(await waitFor(b, first, ['failed', 'done', 'lost'])).toMatchObject({
      state: 'failed',
      reason: 'cancelled',
    });
    // The job's own process (the batch script) killed on the node.
    const second = await submit(b, `killed-${run}`, script);
    await waitFor(b, second, ['running']);
    const pidFile = join(root, 'jobs', second.jobId, 'pid');
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(20);
    const pid = Number(await readFile(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    const killed = await waitFor(b, second, ['failed', 'done', 'lost']);
    expect(killed.state).toBe('failed');
    console.log(`slurm backend: a batch script killed with SIGKILL is reported as ${JSON.stringify(killed)}`);
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);

    const site = await addSite('after-kill');
    const ctx = context(join(root, 'state-after-kill'));
    const desired = desiredFor(site, `site-after-kill-${run}`, [requirement('math/gsl')]);
    const plan = await planSites(ctx, [desired], { concurrency: 1, specFile: 'spec.yaml', specDigest: 'x' });
    expect((await applyPlan(ctx, plan, { concurrency: 1 })).map((r) => r.status)).toEqual(['ok']);
  });

  it('finds a job again by its id from a new backend object (a restarted controller)', async () => {
    const script = await file('find.sh', 'echo found > "$2"\n');
    const job = await submit(backend(), `find-${run}`, script);
    const restarted = backend();
    expect(await restarted.find('site-a', job.jobId)).toEqual(job);
    expect(await restarted.find('site-a', `nothing-${run}`)).toBeUndefined();
    expect(await waitFor(restarted, job, ['done'])).toMatchObject({ exitCode: 0 });
  });

  // Same file as the outage test below, and before it: the template jobs never meet a stopped slurmctld.
  /** The Slurm commands as a template (docs/templates.md): what a site behind any batch system would configure. */
  const templateConfig = (): TemplateBackendConfig => ({
    type: 'template',
    jobsRoot: join(root, 'template-jobs'),
    commandEnvironment: { SLURM_CONF: e.conf },
    submit: {
      argv: [
        'sbatch',
        '--parsable',
        '-J',
        '{jobName}',
        '-o',
        '{jobDir}/stdout.txt',
        '-e',
        '{jobDir}/stderr.txt',
        '--chdir={jobDir}',
        '--no-requeue',
        '--export=ALL',
        '--partition',
        e.partition,
        '--time',
        '{timeoutMinutes}',
        '{runner}',
      ],
      jobId: '^(\\d+)',
    },
    status: {
      argv: ['squeue', '-h', '-t', 'all', '-j', '{idsComma}', '-o', '%i %T'],
      line: '^\\s*(?<id>\\d+)\\s+(?<state>[A-Z_]+)\\s*$',
      states: {
        queued: ['PENDING', 'CONFIGURING'],
        running: ['RUNNING', 'COMPLETING'],
        done: ['COMPLETED'],
        failed: ['FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY'],
      },
    },
    cancel: { argv: ['scancel', '{id}'] },
    // -t all: a job that has already ended is found too (while squeue keeps it, MinJobAge).
    find: { argv: ['squeue', '-h', '-t', 'all', '-n', '{jobName}', '-o', '%i'], jobId: '^(\\d+)' },
  });
  const templateBackend = (): TemplateBackend => {
    const { type: _type, jobsRoot, ...settings } = templateConfig();
    return new TemplateBackend({ ...settings, jobsRoot: jobsRoot as string });
  };

  describe('template backend driving the real Slurm commands', () => {
    it('converges a simulated site through the engine: plan, apply, plan again clean', async () => {
      const site = await addSite('template-converge', ['gsl-2.7nb1']);
      const ctx = context(join(root, 'state-template'));
      const desired: DesiredState = {
        ...desiredFor(site, `site-template-${run}`, [requirement('math/gsl'), requirement('math/root')]),
        backend: templateConfig(),
      };
      await expectConverges(ctx, desired, site.pkgdb);
      expect(readFileSync(e.jobCompLog, 'utf8')).toMatch(/Name=gridpkg-site-template-/);
    });

    it('reports an apply job cancelled from outside as failed, and the next apply retries and converges', async () => {
      const site = await addSite('template-killed');
      const ctx = context(join(root, 'state-template-killed'));
      const slowShell = await file('template-slow-shell.sh', '#!/bin/sh\nsleep 15\nexec /bin/sh "$@"\n');
      const desired: DesiredState = {
        ...desiredFor(site, `site-template-killed-${run}`, [requirement('math/gsl')]),
        backend: templateConfig(),
      };
      const slow: DesiredState = { ...desired, backend: { ...templateConfig(), shell: [slowShell] } };
      const plan = await planSites(ctx, [slow], { concurrency: 1, specFile: 'spec.yaml', specDigest: 'x' });
      const applying = applyPlan(ctx, plan, { concurrency: 1 });
      let slurmId: string | undefined;
      for (let i = 0; i < 400 && slurmId === undefined; i++) {
        await sleep(50);
        const entry = await ctx.ledger.active(slow.site);
        if (entry?.mode === 'apply') slurmId = entry.backendId?.split(':').at(-1);
      }
      if (!slurmId) throw new Error('the apply job was never submitted');
      // Someone else's scancel while the job sleeps in its shell.
      execFileSync('scancel', [slurmId], { env: slurmEnv() });
      const results = await applying;
      expect(results[0]?.status).not.toBe('ok');
      expect((await readdir(site.pkgdb)).some((n) => n.startsWith('gsl-'))).toBe(false);
      const retry = await planSites(ctx, [desired], {
        concurrency: 1,
        specFile: 'spec.yaml',
        specDigest: 'x',
      });
      expect(retry.sites[0]?.outcome).toBe('changes');
      expect((await applyPlan(ctx, retry, { concurrency: 1 })).map((r) => r.status)).toEqual(['ok']);
      expect((await readdir(site.pkgdb)).some((n) => n.startsWith('gsl-'))).toBe(true);
    }, 120_000);

    it('measures one probe job end to end (median of 5)', async () => {
      const site = await addSite('template-latency');
      const ctx = context(join(root, 'state-template-latency'));
      const desired: DesiredState = {
        ...desiredFor(site, `site-template-latency-${run}`, [requirement('math/gsl')]),
        backend: templateConfig(),
      };
      const median = await measureProbeLatency(ctx, desired, {
        runs: 5,
        label: 'template backend (Slurm commands)',
      });
      expect(median).toBeLessThan(30_000);
    });

    it('finds a job whose backend id was lost by its name with the real squeue, and follows it to done', async () => {
      const script = await file('template-find.sh', 'sleep 1\necho found > "$2"\n');
      const job = await templateBackend().submit({
        jobId: `tf-${run}`,
        site: 'site-t',
        scriptPath: script,
        request: 'req\n',
        timeoutSeconds: 120,
      });
      const dir = join(root, 'template-jobs', job.jobId);
      const slurmId = job.backendId.slice('template:'.length);
      await rm(join(dir, 'backend-id'));
      // A new backend object (a restarted controller) knows only the job directory: it asks squeue by name.
      const restarted = templateBackend();
      expect(await restarted.find('site-t', job.jobId)).toEqual(job);
      expect(restarted.calls).toEqual([['squeue', '-h', '-t', 'all', '-n', `gridpkg-tf-${run}`, '-o', '%i']]);
      expect(await readFile(join(dir, 'backend-id'), 'utf8')).toBe(`${slurmId}\n`);
      expect(await waitFor(restarted, job, ['done', 'failed', 'lost'])).toMatchObject({
        state: 'done',
        exitCode: 0,
      });
      expect((await restarted.fetch(job)).report).toBe('found\n');
      // Ended, it is still found by name (squeue -t all lists it for MinJobAge).
      await rm(join(dir, 'backend-id'));
      expect(await templateBackend().find('site-t', job.jobId)).toEqual(job);
      // A job directory whose job Slurm never saw: no match, no backend-id.
      const never = join(root, 'template-jobs', `tn-${run}`);
      await mkdir(never, { recursive: true });
      await writeFile(join(never, 'job.json'), '{}\n');
      expect(await templateBackend().find('site-t', `tn-${run}`)).toBeUndefined();
      expect(existsSync(join(never, 'backend-id'))).toBe(false);
    });

    it('re-attaches through the engine to a job whose controller died mid-submit: found by name, followed to done', async () => {
      const site = await addSite('template-reattach', ['gsl-2.7nb1']);
      const stateDir = join(root, 'state-template-reattach');
      const desired: DesiredState = {
        ...desiredFor(site, `site-template-reattach-${run}`, [requirement('math/gsl')]),
        backend: templateConfig(),
      };
      const { type: _type, jobsRoot, ...settings } = templateConfig();
      // The first controller: sbatch answers, and it dies before backend-id and the ledger's submitted phase.
      let submitted: JobHandle | undefined;
      class Dying extends TemplateBackend {
        override async submit(job: JobSubmission): Promise<JobHandle> {
          const handle = await super.submit(job);
          await rm(join(jobsRoot as string, job.jobId, 'backend-id'));
          submitted = handle;
          return new Promise<JobHandle>(() => undefined); // never answers: the controller is gone
        }
      }
      const dying = context(stateDir);
      dying.backendFor = () => new Dying({ ...settings, jobsRoot: jobsRoot as string });
      void runSiteJob(dying, desired, 'probe');
      for (let i = 0; i < 400 && submitted === undefined; i++) await sleep(50);
      const lost = submitted as JobHandle;
      expect(existsSync(join(jobsRoot as string, lost.jobId, 'backend-id'))).toBe(false);
      // That controller ran in this process: its entry must name an owner that is gone, as a killed one would.
      await markOwnerDead(stateDir, desired.site);
      // The next controller (same state directory) finds the intent, looks the job up by name, follows it.
      const messages: string[] = [];
      const ctx = {
        ...context(stateDir),
        progress: (_site: string, message: string) => messages.push(message),
      };
      const result = await runSiteJob(ctx, desired, 'probe');
      expect(messages).toContain(`re-attaching to probe job ${lost.jobId} left by an earlier run`);
      const history = JSON.parse(
        await readFile(join(stateDir, 'ledger', 'history', `${lost.jobId}.json`), 'utf8'),
      ) as { jobState: string; reportStatus?: string; backendId?: string };
      expect(history).toMatchObject({ jobState: 'done', backendId: lost.backendId });
      expect(result.jobId).not.toBe(lost.jobId);
      expect(result.observation.state).toBe('known');
    });

    it('asks for many jobs in one squeue call, and cancels a running job with scancel', async () => {
      const b = templateBackend();
      const quick = await file('template-quick.sh', 'echo done > "$2"\n');
      const slow = await file('template-slow.sh', 'sleep 60\n');
      const submitT = (jobId: string, scriptPath: string) =>
        b.submit({ jobId, site: 'site-t', scriptPath, request: 'req\n', timeoutSeconds: 120 });
      const jobs = [await submitT(`tq-${run}-0`, quick), await submitT(`tq-${run}-1`, quick)];
      const cancelled = await submitT(`tc-${run}`, slow);
      for (let i = 0; ; i++) {
        const before = b.calls.length;
        const states = await b.status([...jobs, cancelled]);
        expect(b.calls.length - before).toBe(1);
        expect(b.calls.at(-1)?.[0]).toBe('squeue');
        if (
          jobs.every((j) => states.get(j.jobId)?.state === 'done') &&
          states.get(cancelled.jobId)?.state === 'running'
        )
          break;
        if (i > 400) throw new Error(`never done / running: ${JSON.stringify([...states])}`);
        await sleep(50);
      }
      expect((await b.fetch(jobs[0] as JobHandle)).report).toBe('done\n');
      await b.cancel(cancelled);
      expect(await waitFor(b, cancelled, ['failed', 'done', 'lost'])).toMatchObject({
        state: 'failed',
        raw: 'CANCELLED',
      });
      await b.clean(cancelled);
      expect(existsSync(join(root, 'template-jobs', cancelled.jobId))).toBe(false);
      // A restarted controller finds a job again by its directory.
      expect(await templateBackend().find('site-t', jobs[1]?.jobId ?? '')).toEqual(jobs[1]);
    });
  });

  // Same file as the outage test below, and before it: these jobs never meet a stopped slurmctld.
  describe.skipIf(!sshEnv)('the login node reached over ssh (sshd-up.sh: the ssh test user submits)', () => {
    const s = sshEnv as SshEnv;
    let world: SshWorld;
    /** On the login node (this machine, as the ssh user): its home is shared with the compute node. */
    const remoteRoot = () => `${s.home}/.gridpkg/slurm-e2e-${run}`;
    const backends: GridBackend[] = [];
    const sshConfig = (): SlurmBackendConfig => ({
      type: 'slurm',
      partition: e.partition,
      slurmConf: e.conf,
      jobCompLog: e.jobCompLog,
      jobsRoot: `${remoteRoot()}/jobs`,
      loginNode: {
        host: s.host,
        port: s.port,
        user: s.user,
        identityFile: s.identity,
        knownHostsFile: s.knownHosts,
      },
    });
    /** A backend whose ssh and sftp calls are recorded (they still run for real). */
    const sshBackend = (sshCalls: string[][] = []): SlurmBackend => {
      const { type: _type, jobsRoot, ...settings } = sshConfig();
      const sshExec: SshExec = (command, args, options) => {
        sshCalls.push([command, ...args]);
        return defaultSshExec(command, args, options);
      };
      const b = new SlurmBackend({ ...settings, jobsRoot: jobsRoot ?? '', sshExec });
      backends.push(b);
      return b;
    };

    beforeAll(async () => {
      world = await SshWorld.create(s);
    });
    afterAll(async () => {
      for (const b of backends) await b.close?.();
      await world?.dispose();
      await rm(remoteRoot(), { recursive: true, force: true });
    });

    it('converges a simulated site through the engine over ssh: plan, apply, plan again clean', async () => {
      const site = await world.addSite('slurm-ssh-converge', ['gsl-2.7nb1']);
      const bySite = new Map<string, GridBackend>();
      const ctx: JobContext = {
        ...context(join(root, 'state-ssh-converge')),
        backendFor(desired) {
          // One backend object (one ssh connection) per site, as the controller keeps them.
          let b = bySite.get(desired.site);
          if (!b) {
            b = createBackend(desired.backend, { jobsRoot: '/unused' });
            bySite.set(desired.site, b);
            backends.push(b);
          }
          return b;
        },
      };
      const desired: DesiredState = {
        ...desiredFor(site, `site-slurm-ssh-${run}`, [requirement('math/gsl'), requirement('math/root')]),
        backend: sshConfig(),
      };
      await expectConverges(ctx, desired, site.pkgdb);
      // The jobs went through Slurm as the ssh user, submitted on the login node.
      const ours = readFileSync(e.jobCompLog, 'utf8')
        .split('\n')
        .filter((line) => line.includes(`Name=gridpkg-site-slurm-ssh-${run}-`));
      expect(ours.length).toBeGreaterThanOrEqual(3); // probe, apply, probe
      expect(ours.every((line) => line.includes(` UserId=${s.user}(`))).toBe(true);
      expect(ours.every((line) => line.includes(` WorkDir=${remoteRoot()}/jobs/`))).toBe(true);
    });

    it('asks for the status of many jobs with one squeue call over ssh, and cancels a running one', async () => {
      const sshCalls: string[][] = [];
      const b = sshBackend(sshCalls);
      const quick = await world.file('ssh-quick.sh', 'echo done > "$2"\n');
      const slow = await world.file('ssh-slow.sh', 'sleep 60\n');
      const submitS = (jobId: string, scriptPath: string) =>
        b.submit({ jobId, site: 'site-s', scriptPath, request: 'req\n', timeoutSeconds: 120 });
      const jobs: JobHandle[] = [];
      for (let i = 0; i < 4; i++) jobs.push(await submitS(`sq-${run}-${i}`, quick));
      const cancelled = await submitS(`sc-${run}`, slow);
      for (let i = 0; ; i++) {
        const before = { slurm: b.calls.length, ssh: sshCalls.length };
        const states = await b.status([...jobs, cancelled]);
        // One squeue for all five jobs; at most one more ssh call reads the exit status of the finished ones.
        expect(b.calls.slice(before.slurm).map((c) => c[0])).toEqual(['squeue']);
        expect(sshCalls.length - before.ssh).toBeLessThanOrEqual(2);
        expect(states.size).toBe(5);
        if (
          jobs.every((j) => states.get(j.jobId)?.state === 'done') &&
          states.get(cancelled.jobId)?.state === 'running'
        )
          break;
        if (i > 400) throw new Error(`never done / running: ${JSON.stringify([...states])}`);
        await sleep(50);
      }
      // Every ssh and sftp call went through the one master connection.
      expect(sshCalls.filter((c) => c.includes('ControlMaster=yes'))).toHaveLength(1);
      expect((await b.fetch(jobs[0] as JobHandle)).report).toBe('done\n');
      await expect(submitS(`sq-${run}-0`, quick)).rejects.toThrow(/upload failed/);

      await b.cancel(cancelled);
      expect(b.calls.at(-1)).toEqual(['scancel', cancelled.backendId.split(':')[1]]);
      expect(await waitFor(b, cancelled, ['failed', 'done', 'lost'])).toMatchObject({
        state: 'failed',
        reason: 'cancelled',
        raw: 'CANCELLED',
      });
      // A restarted controller finds a job again by its files on the login node.
      expect(await sshBackend().find('site-s', jobs[1]?.jobId ?? '')).toEqual(jobs[1]);
      await b.clean(cancelled);
      expect(existsSync(`${remoteRoot()}/jobs/${cancelled.jobId}`)).toBe(false);
      expect(existsSync(`${remoteRoot()}/jobs/${jobs[1]?.jobId}`)).toBe(true);
      await b.close();
      expect(sshCalls.at(-1)).toEqual(expect.arrayContaining(['-O', 'exit']));
    });
  });

  it('survives slurmctld going down during a poll: status throws, the job runs on, and is collected after restart', async () => {
    const b = backend({ commandTimeoutMs: 30_000 });
    const script = await file('three-seconds.sh', 'sleep 3; echo survived > "$2"\n');
    const job = await submit(b, `outage-${run}`, script);
    const t = templateBackend();
    const templateJob = await t.submit({
      jobId: `outage-template-${run}`,
      site: 'site-t',
      scriptPath: script,
      request: 'req\n',
      timeoutSeconds: 120,
    });
    await waitFor(b, job, ['running']);
    await waitFor(t, templateJob, ['running']);
    const pid = Number(readFileSync(e.slurmctldPidFile, 'utf8'));
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 200 && isAlive(pid); i++) await sleep(50);
    expect(isAlive(pid)).toBe(false);
    try {
      await expect(b.status([job])).rejects.toBeInstanceOf(SlurmUnavailableError);
      await expect(b.cancel({ ...job, jobId: job.jobId })).rejects.toBeInstanceOf(SlurmUnavailableError);
      // The template backend driving the same commands: a failing squeue is transient there too.
      await expect(t.status([templateJob])).rejects.toBeInstanceOf(TemplateUnavailableError);
    } finally {
      // Restart with the saved state (no -c): slurmctld writes its new pid to the same pid file.
      execFileSync('slurmctld', ['-f', e.conf], { env: slurmEnv() });
    }
    for (let i = 0; i < 100 && partitionState(e) === undefined; i++) await sleep(100);
    // The cancel above never reached slurmctld: the job ends on its own.
    expect(await waitFor(b, job, ['done', 'failed', 'lost'])).toMatchObject({ state: 'done', exitCode: 0 });
    expect((await b.fetch(job)).report).toBe('survived\n');
    expect(await waitFor(t, templateJob, ['done', 'failed', 'lost'])).toMatchObject({
      state: 'done',
      exitCode: 0,
    });
    expect((await t.fetch(templateJob)).report).toBe('survived\n');
  }, 120_000);
});
