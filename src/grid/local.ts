/**
 * Local backend: each job is a detached process in its own directory, so it outlives the controller and a restarted
 * controller finds it again by its job id. The directory holds the inputs, stdout, stderr, the report, the runner's
 * pid and, once the job ends, its exit status — all the state there is.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic.js';
import type { GridBackend, JobHandle, JobOutput, JobState, JobSubmission } from './backend.js';
import { createJobDirectory, jobInfoText, readJobFile, readJobOutputs } from './job-files.js';

/** The runner is constant text; the job directory and the shell come in as positional arguments, never spliced. */
const RUNNER = [
  'cd "$1" || exit 1',
  'shift',
  'echo $$ > pid.tmp && mv pid.tmp pid',
  '"$@" ./site-job.sh request.txt report.txt > stdout.txt 2> stderr.txt',
  'echo $? > exit-status.tmp && mv exit-status.tmp exit-status',
].join('\n');

/** A job that has not written its pid this long after submission never started. */
const START_GRACE_MS = 60_000;

export interface LocalBackendOptions {
  jobsRoot: string;
  /** Command that runs the job script, e.g. ['dash'] or ['busybox', 'sh']. */
  shell: readonly string[];
  environment: Readonly<Record<string, string>>;
}

export class LocalBackend implements GridBackend {
  readonly kind = 'local';
  // A status call reads a few files in the job directory: cheap enough to ask often, so that a job is seen ending
  // within a quarter second instead of up to half its run time later (the default backs off to 5 s).
  readonly pollIntervalMs = { first: 50, max: 250 };

  constructor(private readonly options: LocalBackendOptions) {}

  private directory(jobId: string): string {
    return join(this.options.jobsRoot, jobId);
  }

  async submit(job: JobSubmission): Promise<JobHandle> {
    const dir = this.directory(job.jobId);
    await createJobDirectory(dir, job.scriptPath, [
      ['request.txt', job.request],
      ['job.json', jobInfoText(job)],
    ]);
    const child = spawn('/bin/sh', ['-c', RUNNER, 'gridpkg-local-job', dir, ...this.options.shell], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, ...this.options.environment },
    });
    child.unref();
    return { jobId: job.jobId, site: job.site, backendId: dir };
  }

  async find(site: string, jobId: string): Promise<JobHandle | undefined> {
    const dir = this.directory(jobId);
    return existsSync(join(dir, 'job.json')) ? { jobId, site, backendId: dir } : undefined;
  }

  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    const states = await Promise.all(jobs.map(async (job) => [job.jobId, await this.statusOf(job)] as const));
    return new Map(states);
  }

  private async statusOf(job: JobHandle): Promise<JobState> {
    const dir = job.backendId;
    const meta = await readJson<{ submittedAt: number; timeoutSeconds: number }>(join(dir, 'job.json'));
    if (!meta) return { state: 'lost', reason: `job directory ${dir} is gone`, raw: 'missing' };
    const finished = await this.finishedState(dir);
    if (finished) return finished;
    const pid = Number((await readJobFile(join(dir, 'pid')))?.trim());
    if (!pid) {
      return Date.now() - meta.submittedAt > START_GRACE_MS
        ? { state: 'lost', reason: 'the job process never started', raw: 'not-started' }
        : { state: 'queued', raw: 'starting' };
    }
    if (isRunnerAlive(pid, dir)) {
      if (Date.now() - meta.submittedAt > meta.timeoutSeconds * 1000) {
        await this.kill(dir, pid, 'timeout');
        return { state: 'failed', reason: `timed out after ${meta.timeoutSeconds} s`, raw: 'timeout' };
      }
      return { state: 'running', raw: `pid ${pid}` };
    }
    // The runner may have finished between the two looks.
    return (
      (await this.finishedState(dir)) ?? {
        state: 'lost',
        reason: `job process ${pid} ended without recording an exit status (killed?)`,
        raw: 'vanished',
      }
    );
  }

  private async finishedState(dir: string): Promise<JobState | undefined> {
    const ended = await readJobFile(join(dir, 'ended-by'));
    if (ended) return { state: 'failed', reason: ended.trim(), raw: 'killed' };
    const exit = await readJobFile(join(dir, 'exit-status'));
    if (exit === undefined) return undefined;
    const exitCode = Number(exit.trim());
    return {
      state: 'done',
      exitCode: Number.isInteger(exitCode) ? exitCode : -1,
      raw: `exit ${exit.trim()}`,
    };
  }

  async fetch(job: JobHandle): Promise<JobOutput> {
    return readJobOutputs(job.backendId);
  }

  async cancel(job: JobHandle): Promise<void> {
    const pid = Number((await readJobFile(join(job.backendId, 'pid')))?.trim());
    if (pid && isRunnerAlive(pid, job.backendId)) await this.kill(job.backendId, pid, 'cancelled');
  }

  private async kill(dir: string, pid: number, why: string): Promise<void> {
    await writeFileAtomic(join(dir, 'ended-by'), `${why}\n`);
    try {
      process.kill(-pid, 'SIGTERM'); // the whole process group: runner, shell, pkg tools
    } catch {
      // already gone
    }
  }

  async clean(job: JobHandle): Promise<void> {
    await rm(job.backendId, { recursive: true, force: true });
  }
}

/** Alive and still our runner: on Linux its command line names the job directory, which guards against pid reuse. */
function isRunnerAlive(pid: number, dir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return true; // no /proc here: trust kill(0)
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readJobFile(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
