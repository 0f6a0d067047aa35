/** The local backend with a stand-in job script: detachment, status, outputs, cancel, and jobs killed from outside. */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobHandle, JobState } from '../../src/grid/backend.js';
import { LocalBackend } from '../../src/grid/local.js';

let dir: string;
let script: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-local-'));
  script = join(dir, 'job.sh');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function waitFor(
  backend: LocalBackend,
  job: JobHandle,
  wanted: JobState['state'][],
): Promise<JobState> {
  for (let i = 0; i < 200; i++) {
    const state = (await backend.status([job])).get(job.jobId);
    if (state && wanted.includes(state.state)) return state;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job never reached ${wanted.join('/')}`);
}

/** Alive and not a zombie (a killed orphan stays a zombie where PID 1 does not reap). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

const submit = (backend: LocalBackend, jobId: string) =>
  backend.submit({ jobId, site: 'site-a', scriptPath: script, request: 'req\n', timeoutSeconds: 60 });

describe('local backend', () => {
  it('runs the script with the request in its own directory and collects report, stdout, stderr, exit code', async () => {
    await writeFile(
      script,
      'cat "$1" > "$2"; echo out; echo err >&2; echo "$VO_TEST_SW_DIR" >> "$2"; exit 3\n',
    );
    const backend = new LocalBackend({
      jobsRoot: join(dir, 'jobs'),
      shell: ['sh'],
      environment: { VO_TEST_SW_DIR: '/sw' },
    });
    const job = await submit(backend, 'job-1');
    expect(await waitFor(backend, job, ['done'])).toMatchObject({ state: 'done', exitCode: 3 });
    expect(await backend.fetch(job)).toEqual({ report: 'req\n/sw\n', stdout: 'out\n', stderr: 'err\n' });
  });

  it('lets a restarted controller find a job by its id, and refuses to submit the same id twice', async () => {
    await writeFile(script, 'echo done > "$2"\n');
    const first = new LocalBackend({ jobsRoot: join(dir, 'jobs'), shell: ['sh'], environment: {} });
    const job = await submit(first, 'job-2');
    const restarted = new LocalBackend({ jobsRoot: join(dir, 'jobs'), shell: ['sh'], environment: {} });
    expect(await restarted.find('site-a', 'job-2')).toEqual(job);
    expect(await restarted.find('site-a', 'job-unknown')).toBeUndefined();
    await waitFor(restarted, job, ['done']);
    await expect(submit(restarted, 'job-2')).rejects.toThrow();
  });

  it('cancels a running job and its children', async () => {
    await writeFile(script, 'sleep 30 & echo $! > child.pid; wait\n');
    const backend = new LocalBackend({ jobsRoot: join(dir, 'jobs'), shell: ['sh'], environment: {} });
    const job = await submit(backend, 'job-3');
    await waitFor(backend, job, ['running']);
    for (let i = 0; i < 100 && !existsSync(join(job.backendId, 'child.pid')); i++)
      await new Promise((r) => setTimeout(r, 20));
    await backend.cancel(job);
    expect(await waitFor(backend, job, ['failed'])).toMatchObject({ state: 'failed', reason: 'cancelled' });
    const child = Number(await readFile(join(job.backendId, 'child.pid'), 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(child)).toBe(false);
  });

  it('reports a job killed from outside as lost, not as done', async () => {
    await writeFile(script, 'sleep 30\n');
    const backend = new LocalBackend({ jobsRoot: join(dir, 'jobs'), shell: ['sh'], environment: {} });
    const job = await submit(backend, 'job-4');
    await waitFor(backend, job, ['running']);
    const pid = Number(await readFile(join(job.backendId, 'pid'), 'utf8'));
    process.kill(-pid, 'SIGKILL');
    const state = await waitFor(backend, job, ['lost', 'done', 'failed']);
    expect(state.state).toBe('lost');
  });

  it('passes the shell and job directory as arguments, never through a command line', async () => {
    await writeFile(script, 'pwd > "$2"\n');
    const jobsRoot = join(dir, "jobs with 'quotes' $(touch pwned)");
    const backend = new LocalBackend({ jobsRoot, shell: ['sh'], environment: {} });
    const job = await submit(backend, 'job-5');
    await waitFor(backend, job, ['done']);
    expect((await backend.fetch(job)).report?.trim()).toBe(join(jobsRoot, 'job-5'));
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });
});
