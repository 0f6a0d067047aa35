/**
 * The real `gridpkg watch` process on a simulated site: SIGTERM while a job is in flight waits for the job to be
 * recorded and submits nothing new (exit 0); SIGTERM with a short --drain-timeout leaves the job running, and the
 * restarted watch re-attaches to it instead of submitting it again; the restarted watch converges the site and
 * converges it again after an edit of the spec file. The site's shell is a wrapper that holds each job until the
 * test releases it, so the test waits on files, never on the clock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { World } from './harness.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const WAIT = { timeout: 120_000, interval: 50 };

interface Running {
  child: ChildProcess;
  out: () => string;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function watch(world: World, ...args: string[]): Running {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'src/cli/main.ts'),
      'watch',
      '-f',
      world.specFile,
      '--state-dir',
      world.stateDir,
      '--debounce',
      '100ms',
      ...args,
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, out: () => stdout, done };
}

interface HistoryEntry {
  jobId: string;
  mode: string;
  createdAt: string;
  finishedAt: string;
  jobState: string;
}

describe('the gridpkg watch process', () => {
  let world: World;
  let gate: string;
  let release: string;
  let running: Running | undefined;
  beforeEach(async () => {
    gate = await mkdtemp(join(tmpdir(), 'gridpkg-gate-'));
    release = join(gate, 'job-released');
    const wrapper = join(gate, 'held-shell');
    await writeFile(wrapper, `#!/bin/sh\nwhile [ ! -e ${release} ]; do sleep 0.1; done\nexec dash "$@"\n`);
    await chmod(wrapper, 0o755);
    world = await World.create([wrapper]);
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
  });
  afterEach(async () => {
    running?.child.kill('SIGKILL');
    await writeFile(release, ''); // a job still held (a failed test) runs to its end
    await world.dispose();
    await rm(gate, { recursive: true, force: true });
  });

  const active = async () => readFile(join(world.stateDir, 'ledger', 'site-a.json'), 'utf8').catch(() => '');
  const submittedJob = async () => {
    const text = await active();
    return text.includes('"backendId"') ? (JSON.parse(text) as { jobId: string }).jobId : undefined;
  };
  const history = async (): Promise<HistoryEntry[]> => {
    const dir = join(world.stateDir, 'ledger', 'history');
    const files = existsSync(dir) ? await readdir(dir) : [];
    return Promise.all(
      files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as HistoryEntry),
    );
  };

  it('drains on SIGTERM, re-attaches after a restart without submitting again, and follows spec edits', async () => {
    // 1. SIGTERM while the probe job is held: the watch waits for it, records it, submits nothing else, exits 0.
    running = watch(world);
    await vi.waitFor(async () => expect(await submittedJob()).toBeDefined(), WAIT);
    const firstJob = await submittedJob();
    running.child.kill('SIGTERM');
    await vi.waitFor(
      () => expect(running?.out()).toContain('stopping (SIGTERM): no new job; waiting up to 60 s'),
      WAIT,
    );
    await writeFile(release, '');
    const first = await running.done;
    expect(first.code).toBe(0);
    expect((await history()).map((h) => h.jobId)).toEqual([firstJob]);
    expect(await active()).toBe('');
    expect(await world.installed('site-a')).toEqual([]);

    // 2. SIGTERM with a drain time shorter than the held job: it keeps running and is named; exit 0 all the same.
    await rm(release);
    running = watch(world, '--drain-timeout', '1s');
    await vi.waitFor(async () => expect(await submittedJob()).toBeDefined(), WAIT);
    const heldJob = await submittedJob();
    running.child.kill('SIGTERM');
    const second = await running.done;
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`1 job(s) keep running on their sites (site-a: ${heldJob})`);
    expect(await submittedJob()).toBe(heldJob);

    // 3. The restart re-attaches to that job (its report counts), then converges the site.
    await writeFile(release, '');
    running = watch(world);
    await vi.waitFor(async () => expect(await world.installed('site-a')).toEqual(['gsl-2.8']), WAIT);
    expect(running.out()).toContain(`re-attaching to probe job ${heldJob}`);

    // 4. An edit of the spec file: the site converges to it.
    await world.writeSpec({ 'site-a': ['      - math/gsl', '      - devel/hdf5'].join('\n') });
    await vi.waitFor(
      async () => expect(await world.installed('site-a')).toEqual(['gsl-2.8', 'hdf5-1.14.3', 'zlib-1.3.1*']),
      WAIT,
    );
    await vi.waitFor(() => expect(running?.out()).toMatch(/spec reloaded[\s\S]*site-a: converged\n/), WAIT);
    running.child.kill('SIGTERM');
    const third = await running.done;
    expect(third.code).toBe(0);
    expect(existsSync(join(world.stateDir, 'controller.lease'))).toBe(false);
    expect(await active()).toBe('');

    // Every job ended and was recorded once; the held job was never submitted again; no two jobs overlapped.
    const jobs = (await history()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    expect(jobs.map((j) => j.jobId)).toContain(heldJob);
    expect(jobs.map((j) => j.mode)).toEqual(['probe', 'probe', 'probe', 'apply', 'apply']);
    expect(jobs.every((j) => j.jobState === 'done')).toBe(true);
    for (let i = 1; i < jobs.length; i++)
      expect(Date.parse(jobs[i]?.createdAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(jobs[i - 1]?.finishedAt ?? ''),
      );
  }, 400_000);
});
