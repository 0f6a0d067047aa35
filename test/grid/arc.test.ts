/**
 * The ARC backend without ARC: argv of arcsub / arcstat / arcget / arckill / arcclean, the job directory, one arcstat
 * call for the status of many jobs, a CE that is down as a transient error, hostile settings and handles refused
 * before anything runs, and commands on one job list run one at a time — through an injected exec that records the
 * calls and answers with the real ARC 6.17 outputs in test/fixtures/arc/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARC_INPUT_FILES, buildXrsl } from '../../src/grid/arc/xrsl.js';
import {
  ArcBackend,
  type ArcBackendOptions,
  type ArcCommand,
  ArcCommandError,
  type ArcExec,
  type ArcExecResult,
  ArcOutputError,
  ArcUnavailableError,
} from '../../src/grid/arc.js';
import type { JobHandle, JobSubmission } from '../../src/grid/backend.js';
import { RUNNER } from '../../src/grid/batch-runner.js';
import { createBackend } from '../../src/grid/index.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/arc');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** What the real ARC client printed (exit codes as observed: arcstat exits 0 even when the CE is down). */
const SUBMIT_OK = { stdout: fixture('arcsub-ok.stdout.txt'), stderr: fixture('arcsub-ok.stderr.txt') };
const SUBMIT_DOWN = {
  exitCode: 1,
  stdout: fixture('arcsub-ce-down.stdout.txt'),
  stderr: fixture('arcsub-ce-down.stderr.txt'),
};
const STAT_MIXED = { stdout: fixture('arcstat-mixed.json.txt'), stderr: fixture('arcstat-mixed.stderr.txt') };
const STAT_DOWN = {
  exitCode: 0,
  stdout: fixture('arcstat-ce-down.json.txt'),
  stderr: fixture('arcstat-ce-down.stderr.txt'),
};

const CE = 'https://localhost:60443/arex';
const JOBS = `${CE}/rest/1.0/jobs`;
const SUBMITTED = `${JOBS}/hESLDmxerpAoOSAtDmABFKDmABFKDmABFKDmMqGKDmABFKDmB2CMbm`;
const FINISHED = `${JOBS}/xpuLDmGerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmCBFKDm0SprQm`;
const RUNNING = `${JOBS}/bgHODmGerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmDBFKDmCY2rcn`;
const FAILED = `${JOBS}/NLOMDmHerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmEBFKDmlLBAWn`;
const KILLED = `${JOBS}/rvPLDmIerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmFBFKDmMYcLam`;
const NOT_IN_LIST = `${JOBS}/notinlist`;

interface Call {
  command: ArcCommand;
  args: string[];
  cwd: string | undefined;
}

type Answer = (
  command: ArcCommand,
  args: readonly string[],
  cwd: string | undefined,
) => Partial<ArcExecResult> | Promise<Partial<ArcExecResult>>;

function fakeExec(answer: Answer): { exec: ArcExec; calls: Call[] } {
  const calls: Call[] = [];
  const exec: ArcExec = async (command, args, options) => {
    calls.push({ command, args: [...args], cwd: options.cwd });
    return { exitCode: 0, stdout: '', stderr: '', ...(await answer(command, args, options.cwd)) };
  };
  return { exec, calls };
}

let root: string;
let jobsRoot: string;
let script: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridpkg-arc-unit-'));
  jobsRoot = join(root, 'jobs');
  script = join(root, 'site-job.sh');
  await writeFile(script, 'echo hi\n');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function backend(answer: Answer, extra: Partial<ArcBackendOptions> = {}) {
  const fake = fakeExec(answer);
  const b = new ArcBackend({ ce: CE, jobsRoot, exec: fake.exec, ...extra });
  return { b, calls: fake.calls };
}

function submission(jobId: string, extra: Partial<JobSubmission> = {}): JobSubmission {
  return { jobId, site: 'site-a', scriptPath: script, request: 'req\n', timeoutSeconds: 601, ...extra };
}

/** A handle as submit() makes it, with the job directory created by hand. */
async function handle(jobId: string, url: string): Promise<JobHandle> {
  await mkdir(join(jobsRoot, jobId), { recursive: true });
  return { jobId, site: 'site-a', backendId: url };
}

/** The value after an option in an argv. */
function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('arc backend: settings', () => {
  it('refuses hostile settings when it is made, before any command runs or any file is written', () => {
    const { exec, calls } = fakeExec(() => ({}));
    const make = (extra: Partial<ArcBackendOptions>) => () =>
      new ArcBackend({ ce: CE, jobsRoot, exec, ...extra });
    const cases: [Partial<ArcBackendOptions>, RegExp][] = [
      [{ ce: 'http://localhost:60443/arex' }, /bad ce/],
      [{ ce: 'localhost:60443' }, /bad ce/],
      [{ ce: '-C' }, /bad ce/],
      [{ ce: 'https://localhost:60443/ar ex' }, /bad ce/],
      [{ ce: 'https://localhost:60443/arex/../etc' }, /bad ce/],
      [{ ce: 'https://localhost:60443/..' }, /bad ce/],
      [{ ce: 'https://localhost:60443/arex;id' }, /bad ce/],
      [{ ce: 'https://localhost:60443/arex?x=1' }, /bad ce/],
      [{ ce: 'https://user@localhost/arex' }, /bad ce/],
      [{ ce: 'https://localhost/arex\n-z' }, /bad ce/],
      [{ queue: '-x' }, /bad queue/],
      [{ queue: 'a b' }, /bad queue/],
      [{ queue: 'q")(executable="x' }, /bad queue/],
      [{ queue: '' }, /bad queue/],
      [{ memoryMB: 1.5 }, /bad memoryMB/],
      [{ memoryMB: 0 }, /bad memoryMB/],
      [{ memoryMB: -1 }, /bad memoryMB/],
      [{ memoryMB: Number.NaN }, /bad memoryMB/],
      [{ memoryMB: '2048' as unknown as number }, /bad memoryMB/],
      [{ jobsRoot: 'relative/jobs' }, /bad jobsRoot/],
      [{ jobsRoot: '/tmp/../etc' }, /bad jobsRoot/],
      [{ jobsRoot: '/tmp/a b' }, /bad jobsRoot/],
      [{ clientConfig: 'client.conf' }, /bad clientConfig/],
      [{ clientConfig: '/etc/arc/../shadow' }, /bad clientConfig/],
      [{ clientConfig: '/etc/arc/client conf' }, /bad clientConfig/],
      [{ shell: [] }, /bad shell/],
      [{ shell: ['/bin/sh;id'] }, /bad shell/],
      [{ shell: ['/bin/sh', '-c id'] }, /bad shell/],
      [{ shell: ['-c'] }, /bad shell/],
      [{ shell: ['/bin/sh', '$(id)'] }, /bad shell/],
      [{ environment: { 'A;B': 'x' } }, /environment variable name/],
      [{ environment: { 'A B': 'x' } }, /environment variable name/],
      [{ environment: { '1A': 'x' } }, /environment variable name/],
      [{ environment: { A: '$(id)' } }, /environment variable A/],
      [{ environment: { A: 'a b' } }, /environment variable A/],
      [{ environment: { A: 'a;b' } }, /environment variable A/],
      [{ environment: { A: '`id`' } }, /environment variable A/],
      [{ environment: { A: 'x\ny' } }, /environment variable A/],
    ];
    for (const [extra, message] of cases) expect(make(extra), JSON.stringify(extra)).toThrow(message);
    expect(calls).toHaveLength(0);
    expect(existsSync(jobsRoot)).toBe(false);
    // The sane versions of the same settings are accepted.
    expect(
      make({
        ce: 'https://ce.example.org:443/arex/',
        queue: 'grid.long',
        memoryMB: 2048,
        clientConfig: '/etc/arc/client.conf',
        shell: ['/bin/bash', '-e'],
        environment: { VO_PVIER_SW_DIR: '/data/sw/pvier' },
      }),
    ).not.toThrow();
  });

  it('shares the status group and the job list between backends of one CE, and only those', () => {
    const make = (extra: Partial<ArcBackendOptions> = {}) => backend(() => ({}), extra).b;
    const a = make();
    // Settings that change the jobs but not how they are looked up: the same group.
    const same = make({
      ce: `${CE}/`,
      queue: 'other',
      memoryMB: 1000,
      shell: ['/bin/bash'],
      environment: { X: '1' },
    });
    expect(same.statusGroup).toBe(a.statusGroup);
    expect(same.jobList).toBe(a.jobList);
    expect(a.statusGroup.startsWith('arc')).toBe(true);
    const others = [
      make({ ce: 'https://localhost:60444/arex' }),
      make({ ce: 'https://ce.example.org/arex' }),
      make({ ce: `${CE}2` }),
      make({ jobsRoot: join(root, 'other-jobs') }),
      make({ clientConfig: '/etc/arc/client.conf' }),
    ];
    const groups = new Set([a.statusGroup, ...others.map((b) => b.statusGroup)]);
    expect(groups.size).toBe(1 + others.length);
    // One job list per CE, in the jobs root, named after the CE's host and port.
    expect(dirname(a.jobList)).toBe(jobsRoot);
    expect(basename(a.jobList)).toMatch(/^arc-localhost-60443-[0-9a-f]{8}\.jobs\.dat$/);
    expect(basename(make({ ce: 'https://ce.example.org/arex' }).jobList)).toMatch(
      /^arc-ce\.example\.org-[0-9a-f]{8}\.jobs\.dat$/,
    );
    const lists = new Set(others.slice(0, 3).map((b) => basename(b.jobList)));
    lists.add(basename(a.jobList));
    expect(lists.size).toBe(4);
    expect(basename(make({ jobsRoot: join(root, 'other-jobs') }).jobList)).toBe(basename(a.jobList));
  });

  it('is made from a spec config, the jobs root defaulting to the state directory', () => {
    const b = createBackend({ type: 'arc', ce: CE }, { jobsRoot: join(root, 'state', 'jobs') });
    expect(b).toBeInstanceOf(ArcBackend);
    expect((b as ArcBackend).jobsRoot).toBe(join(root, 'state', 'jobs'));
    expect(b.needsX509Proxy).toBe(true);
    const c = createBackend({ type: 'arc', ce: CE, jobsRoot: '/shared/arc' }, { jobsRoot: '/unused' });
    expect((c as ArcBackend).jobsRoot).toBe('/shared/arc');
  });
});

describe('arc backend: submit', () => {
  it('writes the job directory and runs arcsub in it with the job list, the CE and the REST interface', async () => {
    const present: string[][] = [];
    const { b, calls } = backend(
      async (_command, _args, cwd) => {
        present.push(cwd ? (await readdir(cwd)).sort() : []);
        return SUBMIT_OK;
      },
      {
        queue: 'grid',
        memoryMB: 2048,
        shell: ['/bin/bash', '-e'],
        environment: { VO_PVIER_SW_DIR: '/data/sw/pvier', X: '1' },
      },
    );
    const before = Date.now();
    const job = await b.submit(submission('j-1'));
    const dir = join(jobsRoot, 'j-1');
    expect(job).toEqual({ jobId: 'j-1', site: 'site-a', backendId: SUBMITTED });
    expect(calls).toEqual([
      {
        command: 'arcsub',
        args: ['-j', b.jobList, '-C', CE, '-T', 'arcrest', 'job.xrsl'],
        cwd: dir,
      },
    ]);
    // Everything arcsub uploads is there when it runs; arc-id comes after.
    expect(present[0]).toEqual([...ARC_INPUT_FILES, 'job.json', 'job.xrsl'].sort());
    const read = (name: string) => readFile(join(dir, name), 'utf8');
    expect(await read('site-job.sh')).toBe('echo hi\n');
    expect(await read('request.txt')).toBe('req\n');
    expect(await read('runner.sh')).toBe(RUNNER);
    expect(await read('env')).toBe('VO_PVIER_SW_DIR=/data/sw/pvier\nX=1\n');
    expect(await read('shell')).toBe('/bin/bash\n-e\n');
    expect(await read('arc-id')).toBe(`${SUBMITTED}\n`);
    const xrsl = await read('job.xrsl');
    expect(xrsl).toBe(
      buildXrsl({ jobName: 'gridpkg-j-1', wallTimeMinutes: 11, queue: 'grid', memoryMB: 2048 }),
    );
    expect(xrsl).toContain('(walltime="11 minutes")');
    expect(xrsl).toContain('(queue="grid")');
    expect(xrsl).toContain('(memory="2048")');
    const meta = JSON.parse(await read('job.json'));
    expect(meta).toMatchObject({ site: 'site-a', ce: CE, timeoutSeconds: 601 });
    expect(meta.submittedAt).toBeGreaterThanOrEqual(before);
  });

  it('rounds the walltime up to whole minutes, leaves it out without a timeout, and passes -z', async () => {
    const { b, calls } = backend(() => SUBMIT_OK, { clientConfig: '/etc/arc/client.conf' });
    const xrslOf = async (jobId: string, timeoutSeconds: number) => {
      await b.submit(submission(jobId, { timeoutSeconds }));
      return readFile(join(jobsRoot, jobId, 'job.xrsl'), 'utf8');
    };
    expect(await xrslOf('t-1', 1)).toContain('(walltime="1 minutes")');
    expect(await xrslOf('t-60', 60)).toContain('(walltime="1 minutes")');
    expect(await xrslOf('t-61', 61)).toContain('(walltime="2 minutes")');
    const none = await xrslOf('t-0', 0);
    expect(none).not.toContain('walltime');
    expect(none).not.toContain('queue');
    expect(none).not.toContain('memory');
    expect(await readFile(join(jobsRoot, 't-0', 'env'), 'utf8')).toBe('');
    expect(await readFile(join(jobsRoot, 't-0', 'shell'), 'utf8')).toBe('/bin/sh\n');
    expect(calls.at(-1)?.args).toEqual([
      '-j',
      b.jobList,
      '-z',
      '/etc/arc/client.conf',
      '-C',
      CE,
      '-T',
      'arcrest',
      'job.xrsl',
    ]);
  });

  it('calls a CE that is down transient and removes the job directory', async () => {
    const { b } = backend(() => SUBMIT_DOWN);
    const error = await b.submit(submission('d-1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArcUnavailableError);
    expect(String(error)).toMatch(/no resource returned any information|Failed to establish connection/);
    expect(existsSync(join(jobsRoot, 'd-1'))).toBe(false);
    // The same output with exit status 0: still no job.
    const { b: zero } = backend(() => ({ ...SUBMIT_DOWN, exitCode: 0 }));
    await expect(zero.submit(submission('d-2'))).rejects.toThrow(ArcUnavailableError);
    expect(existsSync(join(jobsRoot, 'd-2'))).toBe(false);
  });

  it('looks a job up by name when arcsub timed out, and keeps its directory when it is not found', async () => {
    const timedOut = (command: ArcCommand) => {
      if (command === 'arcsub') throw new ArcUnavailableError('arcsub timed out after 120000 ms');
    };
    // The job was created before arcsub timed out: found by its name (gridpkg-test1 in the fixture).
    const { b, calls } = backend((command) => timedOut(command) ?? STAT_MIXED);
    expect(await b.submit(submission('test1'))).toEqual({
      jobId: 'test1',
      site: 'site-a',
      backendId: FINISHED,
    });
    expect(calls.map((c) => c.command)).toEqual(['arcsub', 'arcstat']);
    expect(readFileSync(join(jobsRoot, 'test1', 'arc-id'), 'utf8')).toBe(`${FINISHED}\n`);
    // Not found: a transient error saying the job may exist, and the directory stays for a later find().
    const { b: other } = backend((command) => timedOut(command) ?? STAT_DOWN);
    const error = await other.submit(submission('lost-1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArcUnavailableError);
    expect(String(error)).toMatch(/may still exist .* as gridpkg-lost-1/);
    expect(existsSync(join(jobsRoot, 'lost-1', 'job.json'))).toBe(true);
  });

  it('calls a refusal a command error and removes the job directory', async () => {
    const { b } = backend(() => ({
      exitCode: 1,
      stderr:
        'ERROR: Invalid job description\nERROR: Job description language is not supported or description is invalid\n',
    }));
    const error = await b.submit(submission('r-1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArcCommandError);
    expect(String(error)).toMatch(/Invalid job description/);
    expect(existsSync(join(jobsRoot, 'r-1'))).toBe(false);
  });

  it('refuses a job URL outside the CE, or not a URL at all', async () => {
    for (const [jobId, url] of [
      ['o-1', 'https://evil.example.org/arex/rest/1.0/jobs/abc'],
      ['o-2', 'https://localhost:60443/arex-evil/rest/1.0/jobs/abc'],
      ['o-3', 'https://localhost:60444/arex/rest/1.0/jobs/abc'],
    ] as const) {
      const { b } = backend(() => ({ stdout: `Job submitted with jobid: ${url}\n` }));
      await expect(b.submit(submission(jobId)), url).rejects.toThrow(/outside/);
      expect(existsSync(join(jobsRoot, jobId, 'arc-id'))).toBe(false);
    }
    for (const [jobId, url] of [
      ['u-1', `${JOBS}/../../../etc`],
      ['u-2', `${JOBS}/a;id`],
      ['u-3', 'http://localhost:60443/arex/rest/1.0/jobs/abc'],
    ] as const) {
      const { b } = backend(() => ({ stdout: `Job submitted with jobid: ${url}\n` }));
      await expect(b.submit(submission(jobId)), url).rejects.toThrow(ArcCommandError);
      expect(existsSync(join(jobsRoot, jobId, 'arc-id'))).toBe(false);
    }
  });

  it('submits a job id once, and refuses bad job ids and timeouts before anything runs', async () => {
    const { b, calls } = backend(() => SUBMIT_OK);
    await b.submit(submission('once'));
    await expect(b.submit(submission('once'))).rejects.toThrow();
    expect(calls).toHaveLength(1);
    expect(await readFile(join(jobsRoot, 'once', 'arc-id'), 'utf8')).toBe(`${SUBMITTED}\n`);
    for (const jobId of ['../escape', '..', '.', '-x', 'a/b', 'a b', ''])
      await expect(b.submit(submission(jobId)), jobId).rejects.toThrow(/bad job id/);
    for (const timeoutSeconds of [-1, 1.5, Number.NaN])
      await expect(b.submit(submission('t', { timeoutSeconds }))).rejects.toThrow(/bad timeout/);
    expect(calls).toHaveLength(1);
    expect(existsSync(join(root, 'escape'))).toBe(false);
    expect(existsSync(join(jobsRoot, 't'))).toBe(false);
  });
});

describe('arc backend: status', () => {
  it('asks arcstat once for all jobs and maps the real states', async () => {
    const { b, calls } = backend(() => STAT_MIXED);
    const jobs: JobHandle[] = [
      { jobId: 'fin', site: 'a', backendId: FINISHED },
      { jobId: 'run', site: 'b', backendId: RUNNING },
      { jobId: 'fail', site: 'a', backendId: FAILED },
      { jobId: 'kill', site: 'a', backendId: KILLED },
      { jobId: 'gone', site: 'a', backendId: NOT_IN_LIST },
      { jobId: 'missing', site: 'a', backendId: `${JOBS}/missing` },
    ];
    const states = await b.status(jobs);
    expect(calls).toEqual([
      {
        command: 'arcstat',
        args: ['-J', '-l', '-j', b.jobList, ...jobs.map((job) => job.backendId)],
        cwd: undefined,
      },
    ]);
    expect(states.get('fin')).toEqual({ state: 'done', exitCode: 0, raw: 'Finished (FINISHED)' });
    expect(states.get('run')).toEqual({ state: 'running', raw: 'Running (RUNNING)' });
    expect(states.get('fail')).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('LRMS error: (137) Job finished with wrong exit code'),
    });
    expect(states.get('kill')).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/^cancelled/),
    });
    expect(states.get('gone')).toMatchObject({ state: 'lost', raw: 'not in job list' });
    // Others answered, this one not: no state this time (ask again), certainly not lost.
    expect(states.has('missing')).toBe(false);
    expect(states.size).toBe(5);
    expect(await b.status([])).toEqual(new Map());
    expect(calls).toHaveLength(1);
  });

  it('asks once per URL and answers for every handle', async () => {
    const { b, calls } = backend(() => STAT_MIXED);
    const states = await b.status([
      { jobId: 'x', site: 'a', backendId: RUNNING },
      { jobId: 'y', site: 'b', backendId: RUNNING },
    ]);
    expect(calls[0]?.args).toEqual(['-J', '-l', '-j', b.jobList, RUNNING]);
    expect(states.get('x')?.state).toBe('running');
    expect(states.get('y')?.state).toBe('running');
  });

  it('passes -z when a client configuration is set', async () => {
    const { b, calls } = backend(() => STAT_MIXED, { clientConfig: '/etc/arc/client.conf' });
    await b.status([{ jobId: 'x', site: 'a', backendId: RUNNING }]);
    expect(calls[0]?.args).toEqual(['-J', '-l', '-j', b.jobList, '-z', '/etc/arc/client.conf', RUNNING]);
  });

  it('throws ArcUnavailableError when the CE is down, never a job failure', async () => {
    const { b, calls } = backend(() => STAT_DOWN);
    const error = await b
      .status([
        { jobId: 'a', site: 's', backendId: FINISHED },
        { jobId: 'b', site: 's', backendId: RUNNING },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArcUnavailableError);
    expect(String(error)).toMatch(/Failed to establish connection/);
    expect(calls).toHaveLength(1);
    // A client that fails outright is transient too; unreadable output is ArcOutputError (transient as well).
    const { b: failing } = backend(() => ({ exitCode: 1, stderr: 'ERROR: cannot open job list\n' }));
    await expect(failing.status([{ jobId: 'a', site: 's', backendId: FINISHED }])).rejects.toThrow(
      ArcUnavailableError,
    );
    const { b: garbage } = backend(() => ({ stdout: 'Segmentation fault\n' }));
    await expect(garbage.status([{ jobId: 'a', site: 's', backendId: FINISHED }])).rejects.toThrow(
      ArcOutputError,
    );
  });

  it('calls jobs lost when the job list has none of them', async () => {
    const { b } = backend(() => ({
      exitCode: 1,
      stdout: `Warning: Job not found in job list: ${FINISHED}\nWarning: Job not found in job list: ${RUNNING}\nNo jobs\n`,
    }));
    const states = await b.status([
      { jobId: 'a', site: 's', backendId: FINISHED },
      { jobId: 'b', site: 's', backendId: RUNNING },
    ]);
    expect([...states.values()].map((s) => s.state)).toEqual(['lost', 'lost']);
  });

  it('refuses a handle of another CE, or one that is not a job URL, before any command runs', async () => {
    const { b, calls } = backend(() => STAT_MIXED);
    const good = { jobId: 'good', site: 's', backendId: FINISHED };
    const hostile: JobHandle[] = [
      { jobId: 'x', site: 's', backendId: 'https://other.example.org/arex/rest/1.0/jobs/abc' },
      { jobId: 'x', site: 's', backendId: 'https://localhost:60444/arex/rest/1.0/jobs/abc' },
      { jobId: 'x', site: 's', backendId: 'https://localhost:60443/arex-evil/rest/1.0/jobs/abc' },
      { jobId: 'x', site: 's', backendId: `${JOBS}/../../../etc` },
      { jobId: 'x', site: 's', backendId: '/etc/passwd' },
      { jobId: 'x', site: 's', backendId: '-a' },
      { jobId: 'x', site: 's', backendId: `${JOBS}/abc def` },
      { jobId: 'x', site: 's', backendId: 'slurm:5:/etc' },
      { jobId: '../x', site: 's', backendId: FINISHED },
      { jobId: '-x', site: 's', backendId: FINISHED },
    ];
    for (const job of hostile) {
      const label = JSON.stringify(job);
      await expect(b.status([good, job]), label).rejects.toThrow(/refusing|bad job id/);
      await expect(b.fetch(job), label).rejects.toThrow(/refusing|bad job id/);
      await expect(b.cancel(job), label).rejects.toThrow(/refusing|bad job id/);
      await expect(b.clean(job), label).rejects.toThrow(/refusing|bad job id/);
    }
    expect(calls).toHaveLength(0);
  });
});

describe('arc backend: fetch', () => {
  /** arcget as ARC does it: the job's files in DIR/<the job's id at the service>. */
  function arcget(files: Record<string, string>): Answer {
    return async (command, args) => {
      if (command !== 'arcget') return {};
      const dir = option(args, '-D');
      const url = args.at(-1);
      if (!dir || !url) throw new Error('arcget without -D or URL');
      if (existsSync(dir)) return { exitCode: 1, stderr: `ERROR: ${dir} exists\n` };
      const results = join(dir, url.slice(url.lastIndexOf('/') + 1));
      await mkdir(results, { recursive: true });
      for (const [name, text] of Object.entries(files)) await writeFile(join(results, name), text);
      return { stdout: 'Results stored at: ...\nJobs processed: 1, successfully retrieved: 1\n' };
    };
  }

  it('brings the outputs back with arcget -k into out/ and reads them', async () => {
    const job = await handle('f-1', FINISHED);
    const { b, calls } = backend(
      arcget({
        'report.txt': 'report\n',
        'stdout.txt': 'out\n',
        'stderr.txt': 'err\n',
        'exit-status': '0\n',
      }),
    );
    expect(await b.fetch(job)).toEqual({ report: 'report\n', stdout: 'out\n', stderr: 'err\n' });
    const out = join(jobsRoot, 'f-1', 'out');
    expect(calls).toEqual([
      { command: 'arcget', args: ['-k', '-j', b.jobList, '-D', out, FINISHED], cwd: undefined },
    ]);
  });

  it("appends the job script's non-zero exit status to stderr, and replaces out/ on a second fetch", async () => {
    const job = await handle('f-2', FAILED);
    const first = backend(arcget({ 'stdout.txt': 'one\n', 'stderr.txt': 'e\n', 'exit-status': '0\n' }));
    expect(await first.b.fetch(job)).toEqual({ report: undefined, stdout: 'one\n', stderr: 'e\n' });
    const serviceDir = join(jobsRoot, 'f-2', 'out', 'NLOMDmHerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmEBFKDmlLBAWn');
    await writeFile(join(serviceDir, 'report.txt'), 'stale report\n');
    const second = backend(arcget({ 'stdout.txt': 'two\n', 'exit-status': '3\n' }));
    expect(await second.b.fetch(job)).toEqual({
      report: undefined,
      stdout: 'two\n',
      stderr: 'gridpkg runner: job script exited 3\n',
    });
    expect(existsSync(join(serviceDir, 'report.txt'))).toBe(false);
  });

  it('calls an unreachable CE transient and another arcget failure a command error', async () => {
    const job = await handle('f-3', FINISHED);
    const { b: down } = backend(() => ({ exitCode: 1, stderr: fixture('arcsub-ce-down.stderr.txt') }));
    await expect(down.fetch(job)).rejects.toThrow(ArcUnavailableError);
    const { b: refused } = backend(() => ({ exitCode: 1, stderr: 'ERROR: Access denied\n' }));
    await expect(refused.fetch(job)).rejects.toThrow(ArcCommandError);
  });
});

describe('arc backend: cancel, clean', () => {
  const notInList = (url: string) => ({
    exitCode: 1,
    stdout: `Warning: Job not found in job list: ${url}\nNo jobs\n`,
  });

  it('cancels with arckill -k, and a job the job list no longer has is no error', async () => {
    const { b, calls } = backend(() => ({ stdout: 'Jobs processed: 1, successfully killed: 1\n' }));
    const job = await handle('k-1', RUNNING);
    await b.cancel(job);
    expect(calls).toEqual([{ command: 'arckill', args: ['-k', '-j', b.jobList, RUNNING], cwd: undefined }]);
    const { b: gone } = backend(() => notInList(RUNNING));
    await expect(gone.cancel(job)).resolves.toBeUndefined();
    const { b: down } = backend(() => ({ exitCode: 1, stderr: fixture('arcstat-ce-down.stderr.txt') }));
    await expect(down.cancel(job)).rejects.toThrow(ArcUnavailableError);
  });

  it('cleans with arcclean, then removes only the job directory', async () => {
    const { b, calls } = backend(() => ({ stdout: 'Jobs processed: 1, deleted: 1\n' }));
    const job = await handle('c-1', FINISHED);
    await writeFile(join(jobsRoot, 'c-1', 'arc-id'), `${FINISHED}\n`);
    const other = await handle('c-2', RUNNING);
    await writeFile(b.jobList, 'sqlite\n');
    await b.clean(job);
    expect(calls).toEqual([{ command: 'arcclean', args: ['-j', b.jobList, FINISHED], cwd: undefined }]);
    expect(existsSync(join(jobsRoot, 'c-1'))).toBe(false);
    expect(existsSync(join(jobsRoot, other.jobId))).toBe(true);
    expect(await readFile(b.jobList, 'utf8')).toBe('sqlite\n');
  });

  it('cleans a job the job list no longer has, and keeps the directory when the CE cannot be reached', async () => {
    const job = await handle('c-3', FINISHED);
    const { b: down } = backend(() => ({ exitCode: 1, stderr: fixture('arcstat-ce-down.stderr.txt') }));
    await expect(down.clean(job)).rejects.toThrow(ArcUnavailableError);
    expect(existsSync(join(jobsRoot, 'c-3'))).toBe(true);
    const { b: gone } = backend(() => notInList(FINISHED));
    await gone.clean(job);
    expect(existsSync(join(jobsRoot, 'c-3'))).toBe(false);
  });
});

describe('arc backend: find', () => {
  it('finds a job by its arc-id file without asking the CE', async () => {
    const { b, calls } = backend(() => SUBMIT_OK);
    const job = await b.submit(submission('test1'));
    expect(await b.find('site-a', 'test1')).toEqual(job);
    expect(calls.map((c) => c.command)).toEqual(['arcsub']);
  });

  it('finds a job by its name on the CE when arc-id was never written', async () => {
    const { b, calls } = backend((command) => (command === 'arcsub' ? SUBMIT_OK : STAT_MIXED));
    await b.submit(submission('test1'));
    await rm(join(jobsRoot, 'test1', 'arc-id'));
    // The fixture's jobs are all named gridpkg-test1; the first is the one.
    expect(await b.find('site-a', 'test1')).toEqual({ jobId: 'test1', site: 'site-a', backendId: FINISHED });
    const args = calls.at(-1)?.args ?? [];
    expect(calls.at(-1)?.command).toBe('arcstat');
    expect(args).toContain('-J');
    expect(args).toContain('-a');
    expect(option(args, '-c')).toBe(CE);
    expect(option(args, '-j')).toBe(b.jobList);
    expect(args).toHaveLength(6);
    // A job directory whose job the CE does not know under that name.
    await b.submit(submission('test2'));
    await rm(join(jobsRoot, 'test2', 'arc-id'));
    expect(await b.find('site-a', 'test2')).toBeUndefined();
  });

  it('finds nothing, asking nobody, when the job directory does not exist', async () => {
    const { b, calls } = backend(() => STAT_MIXED);
    expect(await b.find('site-a', 'test1')).toBeUndefined();
    expect(calls).toHaveLength(0);
  });

  it('says the CE is down rather than "no such job" when it cannot ask', async () => {
    const { b } = backend((command) => (command === 'arcsub' ? SUBMIT_OK : STAT_DOWN));
    await b.submit(submission('test1'));
    await rm(join(jobsRoot, 'test1', 'arc-id'));
    await expect(b.find('site-a', 'test1')).rejects.toThrow(ArcUnavailableError);
  });
});

describe('arc backend: one command at a time per job list', () => {
  /** An exec that counts the commands running at the same time on each job list. */
  function overlapping() {
    const active = new Map<string, number>();
    let most = 0;
    let mostOverall = 0;
    let running = 0;
    const answer: Answer = async (command, args) => {
      const list = option(args, '-j') ?? '';
      const now = (active.get(list) ?? 0) + 1;
      active.set(list, now);
      running++;
      most = Math.max(most, now);
      mostOverall = Math.max(mostOverall, running);
      await sleep(15);
      active.set(list, (active.get(list) ?? 1) - 1);
      running--;
      if (command === 'arcsub') return SUBMIT_OK;
      if (command === 'arcstat') return STAT_MIXED;
      return {};
    };
    return { answer, most: () => most, mostOverall: () => mostOverall };
  }

  it('serialises commands on one job list from two backend objects', async () => {
    const counter = overlapping();
    const fake = fakeExec(counter.answer);
    const one = new ArcBackend({ ce: CE, jobsRoot, exec: fake.exec, queue: 'a' });
    const two = new ArcBackend({ ce: `${CE}/`, jobsRoot, exec: fake.exec, queue: 'b' });
    expect(two.jobList).toBe(one.jobList);
    const h1 = await handle('s-1', RUNNING);
    const h2 = await handle('s-2', FINISHED);
    await Promise.all([
      one.status([h1]),
      two.status([h2]),
      one.submit(submission('s-3')),
      two.submit(submission('s-4')),
      one.cancel(h1),
      two.cancel(h2),
      one.clean(h2),
    ]);
    expect(fake.calls).toHaveLength(7);
    expect(counter.most()).toBe(1);
  });

  it('goes on after a command that failed', async () => {
    let n = 0;
    const { exec, calls } = fakeExec(async () => {
      n++;
      await sleep(5);
      if (n === 1) throw new ArcUnavailableError('arcstat timed out after 5 ms');
      return STAT_MIXED;
    });
    const one = new ArcBackend({ ce: CE, jobsRoot, exec });
    const two = new ArcBackend({ ce: CE, jobsRoot, exec });
    const h = { jobId: 'a', site: 's', backendId: RUNNING };
    const [first, second] = await Promise.allSettled([one.status([h]), two.status([h])]);
    expect(first.status).toBe('rejected');
    expect(second.status === 'fulfilled' && second.value.get('a')?.state).toBe('running');
    expect(calls).toHaveLength(2);
  });

  it('does not hold up the job list of another CE', async () => {
    const counter = overlapping();
    const fake = fakeExec(counter.answer);
    const one = new ArcBackend({ ce: CE, jobsRoot, exec: fake.exec });
    const other = new ArcBackend({ ce: 'https://ce.example.org/arex', jobsRoot, exec: fake.exec });
    await Promise.all([
      one.status([{ jobId: 'a', site: 's', backendId: RUNNING }]),
      other.status([{ jobId: 'b', site: 's', backendId: 'https://ce.example.org/arex/rest/1.0/jobs/b' }]),
    ]).catch(() => undefined);
    expect(counter.most()).toBe(1);
    expect(counter.mostOverall()).toBe(2);
  });
});
