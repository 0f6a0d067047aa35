/**
 * Ctrl-C and SIGTERM while a job is in flight, against the real `gridpkg` process: it says which jobs keep running
 * and that a rerun re-attaches, exits 130/143 without submitting anything else or leaving temporary files, and the
 * rerun does re-attach. The site's shell is a wrapper that holds the job until the test releases it, so the test
 * waits on files, never on the clock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { interruptMessage } from '../../src/cli/interrupt.js';
import { InFlightJobs } from '../../src/reconcile/in-flight.js';
import { World } from './harness.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function gridpkg(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stderr }));
  });
  return { child, done };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('interrupting a run with a job in flight', () => {
  let world: World;
  let gate: string;
  let started: string;
  let release: string;
  beforeEach(async () => {
    gate = await mkdtemp(join(tmpdir(), 'gridpkg-gate-'));
    started = join(gate, 'job-started');
    release = join(gate, 'job-released');
    const wrapper = join(gate, 'held-shell');
    await writeFile(
      wrapper,
      `#!/bin/sh\n: > ${started}\nwhile [ ! -e ${release} ]; do sleep 0.1; done\nexec dash "$@"\n`,
    );
    await chmod(wrapper, 0o755);
    world = await World.create([wrapper]);
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
  });
  afterEach(async () => {
    await writeFile(release, ''); // a job still held (a failed test) runs to its end
    await world.dispose();
    await rm(gate, { recursive: true, force: true });
  });

  it.each([
    ['SIGINT', 130, 'Interrupted'],
    ['SIGTERM', 143, 'Stopped by SIGTERM'],
  ] as const)('%s: says the job keeps running, exits %i, and the rerun re-attaches', async (signal, code, what) => {
    const run = gridpkg(['plan', '-f', world.specFile, '--state-dir', world.stateDir, '-q']);
    await vi.waitFor(() => expect(existsSync(started)).toBe(true), { timeout: 30_000, interval: 50 });
    // The shell starting is not yet the submission recorded: wait for the backend id in the ledger, else the
    // interrupt can land in between and the job is (rightly) named as still being submitted.
    const entry = join(world.stateDir, 'ledger', 'site-a.json');
    await vi.waitFor(async () => expect(await readFile(entry, 'utf8')).toContain('"backendId"'), {
      timeout: 30_000,
      interval: 50,
    });
    run.child.kill(signal);
    const { code: exitCode, stderr } = await run.done;
    expect(exitCode).toBe(code);
    const jobs = await readdir(join(world.stateDir, 'jobs'));
    expect(jobs).toHaveLength(1); // nothing else was submitted
    const jobId = jobs[0] as string;
    expect(stderr).toContain(
      `${what}: 1 job(s) keep running on their sites (site-a: ${jobId}); run the same command again to ` +
        're-attach to them. Nothing else was submitted.',
    );
    expect(stderr).not.toMatch(/\n\s+at /);
    expect((await filesUnder(world.stateDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    await writeFile(release, '');
    const rerun = await world.run('plan');
    expect(rerun.code).toBe(0);
    expect(await world.finishedJobs()).toContain(jobId); // re-attached: the interrupted job's report counted
  });
});

describe('the interrupt message', () => {
  const entry = (site: string, jobId: string, phase: 'intent' | 'submitted') => ({
    jobId,
    site,
    mode: 'probe' as const,
    backend: 'local',
    phase,
    createdAt: '2026-01-01T00:00:00Z',
    owner: { host: 'h', pid: 1 },
  });

  it('names every job in flight, marks one still being submitted, and escapes what it prints', () => {
    const jobs = new InFlightJobs();
    jobs.track(entry('site-b', 'site-b-probe-2', 'intent'));
    jobs.track(entry('site-a\u001b[2J', 'site-a-probe-1', 'submitted'));
    jobs.track(entry('site-c', 'site-c-probe-3', 'submitted'));
    jobs.untrack('site-c-probe-3');
    expect(interruptMessage(jobs, 'SIGINT')).toBe(
      '\nInterrupted: 2 job(s) keep running on their sites (site-a\\e[2J: site-a-probe-1, site-b: site-b-probe-2 ' +
        '(being submitted)); run the same command again to re-attach to them. Nothing else was submitted.\n',
    );
  });

  it('says when no job was in flight', () => {
    expect(interruptMessage(new InFlightJobs(), 'SIGTERM')).toBe(
      '\nStopped by SIGTERM. No job was in flight; nothing else was submitted.\n',
    );
  });
});
