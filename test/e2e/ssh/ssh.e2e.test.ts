/**
 * The ssh backend against a real OpenSSH server on loopback (scripts/services/sshd-up.sh): the real job script
 * converging a simulated pkgsrc site through the engine, cancel, a job killed from outside, sshd down during a
 * poll and back, host key checking, one ssh call for the status of many jobs, and the latency of one probe job.
 * Without the sshd these tests skip loudly; with CI=true they fail.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GridBackend, JobHandle, JobState } from '../../../src/grid/backend.js';
import { createBackend, SITE_JOB_SCRIPT } from '../../../src/grid/index.js';
import { SshBackend, type SshBackendConfig, SshConnectionError } from '../../../src/grid/ssh.js';
import { type JobContext, runSiteJob } from '../../../src/reconcile/run-job.js';
import { SiteQueue } from '../../../src/reconcile/site-queue.js';
import type { DesiredState, Requirement } from '../../../src/spec/types.js';
import { Ledger } from '../../../src/state/ledger.js';
import { ObservationStore } from '../../../src/state/observations.js';
import type { SiteWithRepository } from '../../pkgsrc-sim/site.js';
import { expectConverges } from '../support/converge.js';
import { measureProbeLatency } from '../support/latency.js';
import { backendOptions, remoteFile, type SshEnv, SshWorld, sshEnvironment } from './harness.js';

const env = await sshEnvironment();
const run = Math.random().toString(36).slice(2, 8);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(backend: GridBackend, job: JobHandle, wanted: JobState['state'][]): Promise<JobState> {
  for (let i = 0; i < 300; i++) {
    const state = (await backend.status([job])).get(job.jobId);
    if (state && wanted.includes(state.state)) return state;
    await sleep(50);
  }
  throw new Error(`job ${job.jobId} never reached ${wanted.join('/')}`);
}

/** Alive and not a zombie. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function requirement(pkgpath: string): Requirement {
  return { pkgpath, pattern: undefined, state: 'present', source: { file: 'spec.yaml', line: 1, column: 1 } };
}

describe.skipIf(!env)('ssh backend against a real sshd', () => {
  const e = env as SshEnv;
  let world: SshWorld;
  const workDir = `.gridpkg/e2e-${run}/jobs`;
  const backends: SshBackend[] = [];
  const backend = (extra: Partial<SshBackendConfig> = {}): SshBackend => {
    const b = new SshBackend(backendOptions(e, { workDir, ...extra }));
    backends.push(b);
    return b;
  };
  const submit = (b: SshBackend, jobId: string, scriptPath: string, timeoutSeconds = 120) =>
    b.submit({ jobId, site: 'site-a', scriptPath, request: 'req\n', timeoutSeconds });

  beforeAll(async () => {
    world = await SshWorld.create(e);
  });
  afterAll(async () => {
    for (const b of backends) await b.close();
    await world?.dispose();
    execFileSync('rm', ['-rf', remoteFile(e, `.gridpkg/e2e-${run}`)]);
  });

  function context(stateDir: string, made: GridBackend[]): JobContext {
    const bySite = new Map<string, GridBackend>();
    return {
      backendFor(desired) {
        // One backend object (one connection) per site, as the controller keeps them. The spec's BackendConfig
        // does not name ssh yet: the union of createBackend does.
        let b = bySite.get(desired.site);
        if (!b) {
          b = createBackend(desired.backend, { jobsRoot: '/unused' });
          bySite.set(desired.site, b);
          made.push(b);
        }
        return b;
      },
      ledger: new Ledger(stateDir),
      observations: new ObservationStore(stateDir),
      queue: new SiteQueue(),
      scriptPath: SITE_JOB_SCRIPT,
      pollIntervalMs: { first: 20, max: 200 },
      progress: () => undefined,
    };
  }

  function desiredFor(where: SiteWithRepository, site: string, requirements: Requirement[]): DesiredState {
    const config: SshBackendConfig = { type: 'ssh', ...backendOptions(e, { workDir }) };
    return {
      site,
      vo: 'pvier',
      softwareArea: where.swdir,
      prefix: undefined,
      repository: where.repository,
      lockStaleSeconds: 1800,
      jobTimeoutSeconds: 600,
      backend: config,
      requirements,
    };
  }

  it('converges a simulated site through the engine: plan, apply, plan again clean', async () => {
    const site = await world.addSite('converge', ['gsl-2.7nb1']);
    const made: GridBackend[] = [];
    const ctx = context(join(world.root, 'state-converge'), made);
    const desired = desiredFor(site, 'site-ssh', [requirement('math/gsl'), requirement('math/root')]);
    try {
      await expectConverges(ctx, desired, site.pkgdb);
    } finally {
      for (const b of made) await b.close?.();
    }
  });

  it('measures one probe job end to end (median of 5)', async () => {
    const site = await world.addSite('latency');
    const made: GridBackend[] = [];
    const ctx = context(join(world.root, 'state-latency'), made);
    const desired = desiredFor(site, 'site-latency', [requirement('math/gsl')]);
    try {
      const median = await measureProbeLatency(ctx, desired, {
        runs: 5,
        label: 'ssh backend',
        note: 'the first one includes connecting',
      });
      expect(median).toBeLessThan(30_000);
    } finally {
      for (const b of made) await b.close?.();
    }
  });

  it('asks for the status of many jobs with one ssh call', async () => {
    const b = backend();
    const script = await world.file('quick.sh', 'echo done > "$2"\n');
    const jobs = [];
    for (let i = 0; i < 6; i++) jobs.push(await submit(b, `many-${run}-${i}`, script));
    const before = b.invocations;
    for (;;) {
      const states = await b.status(jobs);
      expect(states.size).toBe(6);
      if ([...states.values()].every((s) => s.state === 'done')) break;
      await sleep(50);
    }
    const polls = b.invocations - before;
    expect(polls).toBeGreaterThanOrEqual(1);
    const once = b.invocations;
    await b.status(jobs);
    expect(b.invocations - once).toBe(1);
    expect((await b.fetch(jobs[0] as JobHandle)).report).toBe('done\n');
    await expect(submit(b, `many-${run}-0`, script)).rejects.toThrow(/upload failed/);
  });

  it('cancels a running job and its children', async () => {
    const b = backend();
    const script = await world.file('slow.sh', 'sleep 60 & echo $! > child.pid; wait\n');
    const job = await submit(b, `cancel-${run}`, script);
    await waitFor(b, job, ['running']);
    const childFile = remoteFile(e, `${job.backendId}/child.pid`);
    for (let i = 0; i < 100 && !existsSync(childFile); i++) await sleep(20);
    await b.cancel(job);
    expect(await waitFor(b, job, ['failed', 'done', 'lost'])).toMatchObject({
      state: 'failed',
      reason: 'cancelled',
    });
    await sleep(200);
    expect(isRunning(Number(await readFile(childFile, 'utf8')))).toBe(false);
    await b.clean(job);
    expect(existsSync(remoteFile(e, job.backendId))).toBe(false);
  });

  it('reports a job killed from outside as lost, and the next probe of the site works', async () => {
    const b = backend();
    const script = await world.file('sleepy.sh', 'sleep 60\n');
    const job = await submit(b, `killed-${run}`, script);
    await waitFor(b, job, ['running']);
    const pid = Number(await readFile(remoteFile(e, `${job.backendId}/pid`), 'utf8'));
    process.kill(-pid, 'SIGKILL');
    const state = await waitFor(b, job, ['lost', 'done', 'failed']);
    expect(state).toMatchObject({ state: 'lost', raw: 'vanished' });

    const site = await world.addSite('after-kill');
    const made: GridBackend[] = [];
    const ctx = context(join(world.root, 'state-after-kill'), made);
    try {
      const result = await runSiteJob(ctx, desiredFor(site, 'site-after-kill', []), 'probe');
      expect(result.observation.state).toBe('known');
    } finally {
      for (const m of made) await m.close?.();
    }
  });

  it('finds a job again by its id from a new backend object (a restarted controller)', async () => {
    const script = await world.file('find.sh', 'echo found > "$2"\n');
    const job = await submit(backend(), `find-${run}`, script);
    const restarted = backend();
    expect(await restarted.find('site-a', job.jobId)).toEqual(job);
    expect(await restarted.find('site-a', `nothing-${run}`)).toBeUndefined();
    await waitFor(restarted, job, ['done']);
  });

  it('throws on a host key that does not match known_hosts, and accepts a new one only when told to', async () => {
    const wrong = await world.file(
      'wrong_known_hosts',
      `[${e.host}]:${e.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`,
    );
    const strict = backend({ knownHostsFile: wrong });
    await expect(strict.status([{ jobId: 'x', site: 's', backendId: `${workDir}/x` }])).rejects.toThrow(
      SshConnectionError,
    );
    const fresh = await world.file('fresh_known_hosts', '');
    const tofu = backend({ knownHostsFile: fresh, insecureAcceptNewHostKeys: true });
    const states = await tofu.status([{ jobId: 'x', site: 's', backendId: `${workDir}/x` }]);
    expect(states.get('x')?.state).toBe('lost');
    expect(await readFile(fresh, 'utf8')).toContain('ssh-ed25519');
  });

  it('survives sshd going down during a poll: status throws, the job runs on, and is collected after restart', async () => {
    const port = await freePort();
    const pidFile = join(world.root, 'sshd-outage.pid');
    const startSshd = () =>
      execFileSync('/usr/sbin/sshd', [
        '-f',
        e.sshdConfig,
        '-o',
        `Port=${port}`,
        '-o',
        `PidFile=${pidFile}`,
        '-E',
        join(world.root, 'sshd-outage.log'),
      ]);
    const stopSshd = async () => {
      const pid = Number(await readFile(pidFile, 'utf8'));
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && isRunning(pid); i++) await sleep(20);
    };
    const key = (await readFile(e.hostPubkey, 'utf8')).split(' ').slice(0, 2).join(' ');
    const knownHosts = await world.file('outage_known_hosts', `[${e.host}]:${port} ${key}\n`);
    startSshd();
    try {
      const b = backend({ port, knownHostsFile: knownHosts, connectTimeoutSeconds: 3 });
      const script = await world.file('three-seconds.sh', 'sleep 3; echo survived > "$2"\n');
      const job = await submit(b, `outage-${run}`, script);
      await waitFor(b, job, ['running']);
      await stopSshd();
      await b.close(); // the established connection goes too, as when the host or the network goes away
      await expect(b.status([job])).rejects.toBeInstanceOf(SshConnectionError);
      await sleep(3500);
      await expect(b.status([job])).rejects.toBeInstanceOf(SshConnectionError);
      startSshd();
      expect(await waitFor(b, job, ['done', 'failed', 'lost'])).toMatchObject({ state: 'done', exitCode: 0 });
      expect((await b.fetch(job)).report).toBe('survived\n');
    } finally {
      if (existsSync(pidFile)) await stopSshd().catch(() => undefined);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error()),
      );
    });
  });
}
