/**
 * The site lock of src/grid/site-job.sh under every shell it must support: a holder proves it is alive with a
 * heartbeat, staleness is judged on that heartbeat, a live holder on this host is never broken, a lock whose job
 * the controller names as ended is broken at once, and no heartbeat loop outlives its job. Sites are pkgsrc
 * simulator sites (a test double); its test-only hooks hold a pkg_add running and log when package tools run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteRequest } from '../../src/grid/protocol/types.js';
import { createRepository, DEFAULT_PACKAGES } from '../pkgsrc-sim/repository.js';
import { createSite, type SimSite, sitePrefix } from '../pkgsrc-sim/site.js';
import { JobRoom, reportOf } from './harness.js';
import { requireTool, SHELLS } from './support.js';

let root: string;
/** Each site's repository, built for its prefix (binary packages install into the prefix they were built for). */
const repositories = new Map<string, string>();
/** A directory with a `uname` that calls this machine `other-node`: a job started with it plays another node. */
let otherNode: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridpkg-site-lock-'));
  await chmod(root, 0o755);
  otherNode = join(root, 'other-node');
  await mkdir(otherNode);
  const realUname = ['/usr/bin/uname', '/bin/uname'].find((p) => existsSync(p)) ?? 'uname';
  await writeFile(
    join(otherNode, 'uname'),
    `#!/bin/sh\nif [ "$1" = -n ]; then echo other-node; exit 0; fi\nexec ${realUname} "$@"\n`,
    { mode: 0o755 },
  );
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** This host as the script writes it in the owner line (`uname -n` reduced to A-Z a-z 0-9 . _ -). */
const THIS_HOST = hostname().replace(/[^A-Za-z0-9._-]/g, '') || 'unknown';
const GSL = DEFAULT_PACKAGES.find((p) => p.pkgname === 'gsl-2.8');
const installGsl = [{ verb: 'install' as const, pkgpath: GSL?.pkgpath ?? 'math/gsl', pkgname: 'gsl-2.8' }];
const epoch = (): number => Math.floor(Date.now() / 1000);

let count = 0;
async function freshSite(): Promise<{ site: SimSite; room: JobRoom; dir: string; lock: string }> {
  count += 1;
  const dir = join(root, `site-${count}`);
  await mkdir(dir, { mode: 0o755 });
  const repository = await createRepository(join(dir, 'packages'), undefined, {
    prefix: sitePrefix(join(dir, 'root')),
  });
  const site = await createSite({ root: join(dir, 'root'), repository });
  repositories.set(site.prefix, repository);
  await chmod(join(dir, 'root'), 0o755);
  return { site, room: await JobRoom.create(dir), dir, lock: join(site.swdir, '.gridpkg-lock') };
}

function request(site: SimSite, extra: Partial<SiteRequest> = {}): SiteRequest {
  count += 1;
  const repository = repositories.get(site.prefix);
  return { jobId: `lock-test-${count}`, mode: 'probe', swdir: site.swdir, repository, actions: [], ...extra };
}

/** A lock as a job elsewhere left it: owner line and, when given, heartbeat content. */
async function plantLock(lock: string, owner: string, heartbeat?: number): Promise<void> {
  await mkdir(lock);
  await writeFile(join(lock, 'owner'), `${owner}\n`);
  if (heartbeat !== undefined) await writeFile(join(lock, 'heartbeat'), `${heartbeat}\n`);
}

const TIMEOUT_MS = 300_000; // a safety net for a loaded machine: every wait inside is on an event or a file
/**
 * lock-stale of the "stays alive" test: the holder beats every 2 s, so a reader on a machine too busy to run the
 * heartbeat loop for 18 s on end is the only way to see it stale; the test waits this long once.
 */
const STALE_S = 20;

const readText = (file: string): Promise<string | undefined> => readFile(file, 'utf8').catch(() => undefined);

/** Polls `check` until it gives a value; the timeout is only a safety net against a hang. */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 240_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Processes whose working directory is `dir`: a job's shell and whatever it started (the heartbeat loop too). */
async function processesIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cwd = await readlink(`/proc/${name}/cwd`).catch(() => undefined);
    if (cwd === dir) pids.push(Number(name));
  }
  return pids;
}

/** The activity log of the simulator's test hook as "start pkg_add" / "end pkg_add" lines. */
async function activity(log: string): Promise<string[]> {
  return ((await readText(log)) ?? '')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ').slice(0, 2).join(' '));
}

const shells = SHELLS.filter((s) =>
  requireTool(s.command[0] as string, `the site lock tests under ${s.name}`),
);

describe.concurrent.each(shells)('the site lock under $name', ({ command: shell }) => {
  it(
    'stays alive while pkg_add runs past lock-stale: a job from another node finds it busy, not stale',
    async () => {
      const { site, room, dir, lock } = await freshSite();
      const gate = join(dir, 'gate');
      const log = join(dir, 'activity.log');
      const holderRequest = request(site, { mode: 'apply', lockStaleSeconds: STALE_S, actions: installGsl });
      let holderDir = '';
      const holder = room.run(shell, holderRequest, {
        env: { PKGSIM_TEST_HOLD_UNTIL: gate, PKGSIM_TEST_ACTIVITY_LOG: log },
        onStart: (_job, jobDir) => {
          holderDir = jobDir;
        },
      });
      try {
        await waitFor('pkg_add to start', async () => ((await activity(log)).length > 0 ? true : undefined));
        const owner = ((await readText(join(lock, 'owner'))) ?? '').trim();
        const takenAt = Number(owner.split(' ')[3]);
        expect(owner).toMatch(new RegExp(`^${holderRequest.jobId} ${THIS_HOST} [1-9][0-9]* ${takenAt}$`));
        // The heartbeat moves on while pkg_add is held, until the lock is older than lock-stale by its taking time.
        await waitFor('the heartbeat to pass lock-stale', async () => {
          const beat = Number((await readText(join(lock, 'heartbeat')))?.trim());
          return beat > takenAt + STALE_S ? beat : undefined;
        });

        const other = await room.run(
          shell,
          request(site, { mode: 'apply', lockStaleSeconds: STALE_S, actions: installGsl }),
          {
            env: {
              PKGSIM_TEST_ACTIVITY_LOG: log,
              PATH: `${otherNode}:${process.env.PATH ?? '/usr/bin:/bin'}`,
            },
          },
        );
        const report = reportOf(other);
        expect(report.facts.hostname).toBe('other-node');
        expect(other.code).toBe(3);
        expect(report.status).toBe('locked');
        expect(report.lock).toMatchObject({
          state: 'busy',
          holder: { jobId: holderRequest.jobId, host: THIS_HOST, takenAt },
        });
        const age = report.lock?.state === 'busy' ? report.lock.holder?.heartbeatAgeSeconds : undefined;
        expect(age).toBeLessThanOrEqual(STALE_S);
        expect(report.statusMessage).toMatch(
          /^another job holds the site lock: its last heartbeat was \d+ s ago; it is broken after 20 s without one$/,
        );
      } finally {
        await writeFile(gate, '');
      }
      const done = reportOf(await holder);
      expect(done.status).toBe('ok');
      expect(done.lock).toEqual({ state: 'acquired' });
      // one pkg_add ran, the holder's; no heartbeat loop or sleep of the holder is left; the lock is released
      expect(await activity(log)).toEqual(['start pkg_add', 'end pkg_add']);
      expect(await processesIn(holderDir)).toEqual([]);
      expect(existsSync(lock)).toBe(false);
    },
    TIMEOUT_MS,
  );

  it(
    'judges a lock by its last heartbeat, not by when it was taken',
    async () => {
      const { site, room, lock } = await freshSite();
      const owner = `long-job other-node 4242 ${epoch() - 7200}`;
      await plantLock(lock, owner, epoch() - 5);
      const fresh = await room.run(shell, request(site, { lockStaleSeconds: 60 }));
      expect(reportOf(fresh).status).toBe('locked');
      expect(reportOf(fresh).lock).toMatchObject({ state: 'busy', holder: { jobId: 'long-job' } });
      expect(reportOf(fresh).statusMessage).toMatch(
        /its last heartbeat was \d+ s ago; it is broken after 60 s/,
      );

      await writeFile(join(lock, 'heartbeat'), `${epoch() - 120}\n`);
      const stale = await room.run(shell, request(site, { lockStaleSeconds: 60 }));
      const report = reportOf(stale);
      expect(report.status).toBe('ok');
      expect(report.lock).toMatchObject({
        state: 'broken-stale',
        holder: { jobId: 'long-job', host: 'other-node', pid: 4242 },
      });
      expect(report.lock?.state === 'broken-stale' && report.lock.owner).toMatch(
        /^long-job other-node 4242 \d+ heartbeat (1[2-9]\d|[2-9]\d\d)$/,
      );
      expect((await readdir(site.swdir)).filter((n) => n.startsWith('.gridpkg'))).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    'never breaks a lock whose holder runs on this host, whatever its age, even when named as ended',
    async () => {
      const { site, room, lock } = await freshSite();
      const live: ChildProcess = spawn('sleep', ['600'], { stdio: 'ignore' });
      try {
        const pid = live.pid as number;
        await plantLock(lock, `live-job ${THIS_HOST} ${pid} ${epoch() - 86_400}`, epoch() - 86_000);
        const run = await room.run(shell, request(site, { lockStaleSeconds: 60, endedJobs: ['live-job'] }));
        const report = reportOf(run);
        expect(report.status).toBe('locked');
        expect(report.statusMessage).toBe(
          `another job holds the site lock: its process ${pid} is running on this host`,
        );
        expect(existsSync(join(lock, 'owner'))).toBe(true);
      } finally {
        live.kill('SIGKILL');
      }
      await new Promise((resolve) =>
        live.exitCode !== null || live.signalCode !== null ? resolve(0) : live.once('exit', resolve),
      );
      // once that process is gone, the day-old heartbeat makes the lock stale
      const after = reportOf(await room.run(shell, request(site, { lockStaleSeconds: 60 })));
      expect(after.status).toBe('ok');
      expect(after.lock?.state).toBe('broken-stale');
    },
    TIMEOUT_MS,
  );

  it(
    'breaks at once a lock held by a job the controller names as ended',
    async () => {
      const { site, room, lock } = await freshSite();
      await plantLock(lock, `killed-job other-node 4242 ${epoch() - 30}`, epoch() - 2);
      const unnamed = reportOf(await room.run(shell, request(site, { endedJobs: ['some-other-job'] })));
      expect(unnamed.status).toBe('locked');
      const named = reportOf(
        await room.run(shell, request(site, { endedJobs: ['some-other-job', 'killed-job'] })),
      );
      expect(named.status).toBe('ok');
      expect(named.lock).toMatchObject({ state: 'broken-ended', holder: { jobId: 'killed-job', pid: 4242 } });
      expect((await readdir(site.swdir)).filter((n) => n.startsWith('.gridpkg'))).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    'leaves no heartbeat loop behind when its job is killed with SIGKILL, and the lock is then broken as ended',
    async () => {
      const { site, room, dir, lock } = await freshSite();
      const gate = join(dir, 'gate');
      const log = join(dir, 'activity.log');
      const killedRequest = request(site, { mode: 'apply', lockStaleSeconds: 6, actions: installGsl });
      let killedDir = '';
      const killed = room.run(shell, killedRequest, {
        env: { PKGSIM_TEST_HOLD_UNTIL: gate, PKGSIM_TEST_ACTIVITY_LOG: log },
        onStart: (job, jobDir) => {
          killedDir = jobDir;
          void waitFor('pkg_add to start', async () => ((await activity(log)).length > 0 ? true : undefined))
            .then(() => job.kill('SIGKILL'))
            .finally(() => writeFile(gate, ''));
        },
      });
      await killed;
      // the held pkg_add ends (the gate is open); the heartbeat loop sees its job gone and stops by itself
      await waitFor('every process of the killed job to end', async () =>
        (await processesIn(killedDir)).length === 0 ? true : undefined,
      );
      expect(await activity(log)).toEqual(['start pkg_add', 'end pkg_add']);
      expect(existsSync(join(lock, 'owner'))).toBe(true); // a killed job cannot release its lock
      const next = reportOf(await room.run(shell, request(site, { endedJobs: [killedRequest.jobId] })));
      expect(next.lock).toMatchObject({ state: 'broken-ended', holder: { jobId: killedRequest.jobId } });
      expect(next.status).toBe('ok');
    },
    TIMEOUT_MS,
  );
});
