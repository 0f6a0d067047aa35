/**
 * The slurm backend without Slurm: argv construction, state mapping, one squeue call for the status of many jobs,
 * the accounting look-up of jobs that left squeue, and a failing squeue as a transient error — through an injected
 * exec that records the calls. test/e2e/slurm/ has the real thing.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobHandle } from '../../src/grid/backend.js';
import { createBackend } from '../../src/grid/index.js';
import { mapSlurmState, parseSacct, parseSqueue, timeLimit } from '../../src/grid/slurm/states.js';
import {
  SlurmBackend,
  type SlurmBackendOptions,
  type SlurmCommand,
  SlurmCommandError,
  type SlurmExec,
  type SlurmExecResult,
  SlurmOutputError,
  SlurmUnavailableError,
} from '../../src/grid/slurm.js';
import { parseSpecText } from '../../src/spec/index.js';

type Answer = (command: SlurmCommand, args: readonly string[]) => Partial<SlurmExecResult>;

function fakeExec(answer: Answer): {
  exec: SlurmExec;
  calls: { command: SlurmCommand; args: string[]; env: Record<string, string> }[];
} {
  const calls: { command: SlurmCommand; args: string[]; env: Record<string, string> }[] = [];
  const exec: SlurmExec = async (command, args, options) => {
    calls.push({ command, args: [...args], env: { ...options.env } });
    return { exitCode: 0, stdout: '', stderr: '', ...answer(command, args) };
  };
  return { exec, calls };
}

let root: string;
let script: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridpkg-slurm-unit-'));
  script = join(root, 'site-job.sh');
  await writeFile(script, 'echo hi\n');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function backend(answer: Answer, extra: Partial<SlurmBackendOptions> = {}) {
  const fake = fakeExec(answer);
  const b = new SlurmBackend({ jobsRoot: join(root, 'jobs'), exec: fake.exec, ...extra });
  return { b, calls: fake.calls };
}

/** A handle as submit() makes it, with the job directory created by hand. */
async function handle(jobId: string, slurmId: number, exitStatus?: string): Promise<JobHandle> {
  const dir = join(root, 'jobs', jobId);
  await mkdir(dir, { recursive: true });
  if (exitStatus !== undefined) await writeFile(join(dir, 'exit-status'), exitStatus);
  return { jobId, site: 'site-a', backendId: `slurm:${slurmId}:${dir}` };
}

describe('slurm backend: argv', () => {
  it('builds sbatch from the typed settings only, with the time limit from the job timeout', async () => {
    const { b, calls } = backend(() => ({ stdout: '42\n' }), {
      partition: 'grid',
      account: 'pvier',
      qos: 'normal',
      memory: '2G',
      cpusPerTask: 2,
      slurmConf: '/etc/slurm-test/slurm.conf',
    });
    const job = await b.submit({
      jobId: 'j-1',
      site: 'site-a',
      scriptPath: script,
      request: 'req\n',
      timeoutSeconds: 601,
    });
    const dir = join(root, 'jobs', 'j-1');
    expect(job).toEqual({ jobId: 'j-1', site: 'site-a', backendId: `slurm:42:${dir}` });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.command).toBe('sbatch');
    expect(calls[0]?.args).toEqual([
      '--parsable',
      '-J',
      'gridpkg-j-1',
      '-o',
      `${dir}/stdout.txt`,
      '-e',
      `${dir}/stderr.txt`,
      '--chdir',
      dir,
      '--no-requeue',
      '--export=ALL',
      '--partition',
      'grid',
      '--account',
      'pvier',
      '--qos',
      'normal',
      '--mem',
      '2G',
      '--cpus-per-task',
      '2',
      '--time',
      '11',
      `${dir}/runner.sh`,
    ]);
    expect(calls[0]?.env).toEqual({ SLURM_CONF: '/etc/slurm-test/slurm.conf' });
    expect(await readFile(join(dir, 'request.txt'), 'utf8')).toBe('req\n');
    expect(await readFile(join(dir, 'site-job.sh'), 'utf8')).toBe('echo hi\n');
    expect(await readFile(join(dir, 'slurm-id'), 'utf8')).toBe('42\n');
    expect(await readFile(join(dir, 'shell'), 'utf8')).toBe('/bin/sh\n');
    expect(await readFile(join(dir, 'runner.sh'), 'utf8')).toMatch(/^#!\/bin\/sh\n/);
  });

  it('leaves out --time for a job without timeout and reads "ID;CLUSTER" answers', async () => {
    const { b, calls } = backend(() => ({ stdout: '7;ci\n' }));
    const job = await b.submit({
      jobId: 'j-2',
      site: 's',
      scriptPath: script,
      request: '',
      timeoutSeconds: 0,
    });
    expect(job.backendId).toMatch(/^slurm:7:/);
    expect(calls[0]?.args).not.toContain('--time');
    expect(calls[0]?.env).toEqual({});
    expect(timeLimit(1)).toBe('1');
    expect(timeLimit(60)).toBe('1');
    expect(timeLimit(61)).toBe('2');
  });

  it('builds squeue and sacct argv (jobcomp log or accounting)', () => {
    const { b } = backend(() => ({}));
    expect(b.squeueArgs(['1', '2'])).toEqual(['-h', '-t', 'all', '-j', '1,2', '-o', '%i %T %r']);
    expect(b.sacctArgs(['3'])).toEqual(['-X', '-n', '-P', '-j', '3', '-o', 'JobID,State,ExitCode']);
    const { b: c } = backend(() => ({}), { jobCompLog: '/var/log/slurm/jobcomp.log' });
    expect(c.sacctArgs(['3', '4'])).toEqual([
      '-c',
      '--file=/var/log/slurm/jobcomp.log',
      '-n',
      '-P',
      '-j',
      '3,4',
      '-o',
      'JobID,State,ExitCode',
    ]);
  });

  it('rejects free-form or unsafe settings', () => {
    const make = (extra: Partial<SlurmBackendOptions>) => () =>
      new SlurmBackend({ jobsRoot: '/tmp/jobs', exec: fakeExec(() => ({})).exec, ...extra });
    expect(make({ partition: '--wrap=id' })).toThrow(/bad partition/);
    expect(make({ account: 'a b' })).toThrow(/bad account/);
    expect(make({ memory: '2G --wrap' })).toThrow(/bad memory/);
    expect(make({ cpusPerTask: 0 })).toThrow(/bad cpusPerTask/);
    expect(make({ jobsRoot: 'relative/jobs' })).toThrow(/bad jobsRoot/);
    expect(make({ jobsRoot: '/tmp/%j' })).toThrow(/bad jobsRoot/);
    expect(make({ jobsRoot: '/tmp/../etc' })).toThrow(/bad jobsRoot/);
    expect(make({ jobCompLog: '/tmp/a b' })).toThrow(/bad jobCompLog/);
    expect(make({ shell: ['-c', 'id'] })).toThrow(/bad shell/);
    expect(make({ environment: { 'A-B': 'x' } })).toThrow(/environment variable name/);
    expect(make({ environment: { A: '$(id)' } })).toThrow(/environment variable A/);
  });

  it('removes the job directory when sbatch refuses the job, and calls an unreachable controller transient', async () => {
    const { b } = backend(() => ({
      exitCode: 1,
      stderr: 'sbatch: error: invalid partition specified: nope',
    }));
    await expect(
      b.submit({ jobId: 'j-3', site: 's', scriptPath: script, request: '', timeoutSeconds: 60 }),
    ).rejects.toThrow(SlurmCommandError);
    expect(existsSync(join(root, 'jobs', 'j-3'))).toBe(false);
    const { b: down } = backend(() => ({
      exitCode: 1,
      stderr:
        'sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)',
    }));
    await expect(
      down.submit({ jobId: 'j-4', site: 's', scriptPath: script, request: '', timeoutSeconds: 60 }),
    ).rejects.toThrow(SlurmUnavailableError);
  });

  it('refuses handles outside its jobs root', async () => {
    const { b, calls } = backend(() => ({}));
    const foreign = { jobId: 'x', site: 's', backendId: 'slurm:5:/etc' };
    await expect(b.status([foreign])).rejects.toThrow(/refusing/);
    await expect(b.clean(foreign)).rejects.toThrow(/refusing/);
    await expect(b.cancel(foreign)).rejects.toThrow(/refusing/);
    expect(calls).toHaveLength(0);
  });

  it('creates the backend from a spec config, the jobs root defaulting to the state directory', () => {
    const b = createBackend({ type: 'slurm', partition: 'p' }, { jobsRoot: join(root, 'state', 'jobs') });
    expect(b).toBeInstanceOf(SlurmBackend);
    expect((b as SlurmBackend).jobsRoot).toBe(join(root, 'state', 'jobs'));
    const c = createBackend({ type: 'slurm', jobsRoot: '/shared/gridpkg' }, { jobsRoot: '/unused' });
    expect((c as SlurmBackend).jobsRoot).toBe('/shared/gridpkg');
  });
});

describe('slurm backend: states', () => {
  it('maps squeue states onto normalized ones, keeping the raw state', () => {
    const records = parseSqueue(
      [
        '1 PENDING Resources',
        '2 CONFIGURING None',
        '3 RUNNING None',
        '4 COMPLETING None',
        '5 COMPLETED None',
        '6 FAILED NonZeroExitCode',
        '7 TIMEOUT TimeLimit',
        '8 CANCELLED None',
        '9 NODE_FAIL None',
        '10 OUT_OF_MEMORY OutOfMemory',
        '',
      ].join('\n'),
    );
    const map = (id: string, exit?: number) => {
      const record = records.get(id);
      if (!record) throw new Error(`no ${id}`);
      return mapSlurmState(record, exit);
    };
    expect(map('1')).toEqual({ state: 'queued', raw: 'PENDING Resources' });
    expect(map('2')).toEqual({ state: 'queued', raw: 'CONFIGURING' });
    expect(map('3')).toEqual({ state: 'running', raw: 'RUNNING' });
    expect(map('4')).toEqual({ state: 'running', raw: 'COMPLETING' });
    expect(map('5', 3)).toEqual({ state: 'done', exitCode: 3, raw: 'COMPLETED' });
    expect(map('5')).toMatchObject({ state: 'failed', reason: /no exit status/ });
    expect(map('6')).toEqual({
      state: 'failed',
      reason: 'the Slurm job failed (NonZeroExitCode)',
      raw: 'FAILED NonZeroExitCode',
    });
    expect(map('7')).toMatchObject({ state: 'failed', reason: 'timed out (Slurm time limit) (TimeLimit)' });
    expect(map('8')).toEqual({ state: 'failed', reason: 'cancelled', raw: 'CANCELLED' });
    expect(map('9')).toMatchObject({ state: 'failed', raw: 'NODE_FAIL' });
    expect(map('10')).toMatchObject({ state: 'failed', reason: /out of memory/ });
    expect(() => mapSlurmState({ id: '1', state: 'WEIRD', detail: '', source: 'squeue' }, undefined)).toThrow(
      SlurmOutputError,
    );
    expect(() => parseSqueue('garbage here\n')).toThrow(SlurmOutputError);
  });

  it('reads sacct lines, skipping steps and taking the state word of "CANCELLED by 0"', () => {
    const records = parseSacct(
      '5|COMPLETED|0:0\n5.batch|COMPLETED|0:0\n6|CANCELLED by 0|0:15\n7|FAILED|3:0\n',
    );
    expect([...records.keys()]).toEqual(['5', '6', '7']);
    const six = records.get('6');
    expect(six && mapSlurmState(six, undefined)).toEqual({
      state: 'failed',
      reason: 'cancelled (signal 15)',
      raw: 'CANCELLED 0:15 (accounting)',
    });
    const seven = records.get('7');
    expect(seven && mapSlurmState(seven, undefined)).toMatchObject({
      reason: 'the Slurm job failed (exit 3)',
    });
    expect(() => parseSacct('x|y\n')).toThrow(SlurmOutputError);
  });
});

describe('slurm backend: status', () => {
  it('asks squeue once for many jobs', async () => {
    const jobs = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => handle(`job-${n}`, 100 + n, n === 6 ? '0\n' : undefined)),
    );
    const { b, calls } = backend(() => ({
      stdout:
        '101 PENDING Priority\n102 RUNNING None\n103 RUNNING None\n104 CANCELLED None\n105 FAILED NonZeroExitCode\n106 COMPLETED None\n',
    }));
    const states = await b.status(jobs);
    expect(calls.map((c) => c.command)).toEqual(['squeue']);
    expect(calls[0]?.args).toEqual(['-h', '-t', 'all', '-j', '101,102,103,104,105,106', '-o', '%i %T %r']);
    expect([...states.entries()].map(([id, s]) => [id, s.state])).toEqual([
      ['job-1', 'queued'],
      ['job-2', 'running'],
      ['job-3', 'running'],
      ['job-4', 'failed'],
      ['job-5', 'failed'],
      ['job-6', 'done'],
    ]);
    expect(states.get('job-6')).toEqual({ state: 'done', exitCode: 0, raw: 'COMPLETED' });
    expect(await b.status([])).toEqual(new Map());
    expect(calls).toHaveLength(1);
  });

  it('looks jobs that left squeue up in the jobcomp log before calling them lost', async () => {
    const jobs = [
      await handle('a', 11, '0\n'),
      await handle('b', 12),
      await handle('c', 13),
      await handle('d', 14, '2\n'),
      await handle('e', 15),
    ];
    const { b, calls } = backend(
      (command) =>
        command === 'squeue'
          ? { stdout: '15 RUNNING None\n' }
          : { stdout: '11|COMPLETED|0:0\n12|CANCELLED by 0|0:15\n' },
      { jobCompLog: '/tmp/jobcomp.log' },
    );
    const states = await b.status(jobs);
    expect(calls.map((c) => c.command)).toEqual(['squeue', 'sacct']);
    expect(calls[1]?.args).toEqual([
      '-c',
      '--file=/tmp/jobcomp.log',
      '-n',
      '-P',
      '-j',
      '11,12,13,14',
      '-o',
      'JobID,State,ExitCode',
    ]);
    expect(states.get('a')).toEqual({ state: 'done', exitCode: 0, raw: 'COMPLETED 0:0 (accounting)' });
    expect(states.get('b')).toMatchObject({ state: 'failed', reason: 'cancelled (signal 15)' });
    expect(states.get('c')).toEqual({
      state: 'lost',
      reason: 'Slurm job 13 is neither in squeue nor in accounting',
      raw: 'vanished',
    });
    // Not in accounting either, but the runner recorded its end in the shared job directory.
    expect(states.get('d')).toMatchObject({ state: 'done', exitCode: 2 });
    expect(states.get('e')).toMatchObject({ state: 'running' });
  });

  it('reads "Invalid job id" from squeue as "none of them is queued" and asks accounting', async () => {
    const jobs = [await handle('a', 21)];
    const { b, calls } = backend((command) =>
      command === 'squeue'
        ? { exitCode: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' }
        : { stdout: '21|TIMEOUT|0:0\n' },
    );
    const states = await b.status(jobs);
    expect(calls.map((c) => c.command)).toEqual(['squeue', 'sacct']);
    expect(calls[1]?.args.slice(0, 1)).toEqual(['-X']);
    expect(states.get('a')).toMatchObject({ state: 'failed', reason: 'timed out (Slurm time limit)' });
  });

  it('says why a vanished job is lost when accounting storage is disabled and no jobcomp log is set', async () => {
    const jobs = [await handle('a', 31)];
    const { b } = backend((command) =>
      command === 'squeue'
        ? { exitCode: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' }
        : { exitCode: 1, stderr: 'Slurm accounting storage is disabled\n' },
    );
    expect((await b.status(jobs)).get('a')).toMatchObject({ state: 'lost', reason: /set jobCompLog/ });
  });

  it('throws when squeue cannot reach slurmctld, and never marks jobs failed or lost', async () => {
    const jobs = [await handle('a', 41), await handle('b', 42, '0\n')];
    const { b, calls } = backend(() => ({
      exitCode: 1,
      stderr: 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n',
    }));
    await expect(b.status(jobs)).rejects.toThrow(SlurmUnavailableError);
    expect(calls.map((c) => c.command)).toEqual(['squeue']);
    // sacct failing for another reason is transient too.
    const { b: c } = backend((command) =>
      command === 'squeue' ? { stdout: '' } : { exitCode: 1, stderr: 'sacct: error: cannot open /x' },
    );
    await expect(c.status(jobs)).rejects.toThrow(SlurmUnavailableError);
  });
});

describe('slurm backend: find, cancel, clean, fetch', () => {
  it('finds a job by its slurm-id file, or by name in squeue after a crash before the file was written', async () => {
    const { b, calls } = backend(() => ({ stdout: '77\n' }));
    const job = await b.submit({
      jobId: 'f-1',
      site: 's',
      scriptPath: script,
      request: '',
      timeoutSeconds: 60,
    });
    expect(await b.find('s', 'f-1')).toEqual(job);
    expect(await b.find('s', 'nothing')).toBeUndefined();
    await rm(join(root, 'jobs', 'f-1', 'slurm-id'));
    expect(await b.find('s', 'f-1')).toEqual(job);
    expect(calls.at(-1)?.args).toEqual(['-h', '-t', 'all', '-n', 'gridpkg-f-1', '-o', '%i']);
  });

  it('cancels with scancel and cleans only the job directory', async () => {
    const { b, calls } = backend(() => ({ stdout: '88\n' }));
    const job = await b.submit({
      jobId: 'c-1',
      site: 's',
      scriptPath: script,
      request: '',
      timeoutSeconds: 60,
    });
    await writeFile(join(root, 'jobs', 'c-1', 'report.txt'), 'report\n');
    await writeFile(join(root, 'jobs', 'c-1', 'stdout.txt'), 'out\n');
    expect(await b.fetch(job)).toEqual({ report: 'report\n', stdout: 'out\n', stderr: '' });
    await b.cancel(job);
    expect(calls.at(-1)).toMatchObject({ command: 'scancel', args: ['88'] });
    await b.clean(job);
    expect(existsSync(join(root, 'jobs', 'c-1'))).toBe(false);
    expect(existsSync(join(root, 'jobs'))).toBe(true);
  });
});

describe('slurm backend in the spec', () => {
  it('resolves the login-node paths against the spec directory and keeps the typed settings', () => {
    const [site] = parseSpecText(
      'apiVersion: gridpkg/v1\nsites:\n  CE-1:\n    softwareArea: /data/sw/pvier\n    backend:\n' +
        '      { type: slurm, partition: grid, memory: 2G, cpusPerTask: 2, jobsRoot: shared/jobs,\n' +
        '        slurmConf: /etc/slurm/slurm.conf, jobCompLog: log/jobcomp.log, environment: { VO_PVIER_SW_DIR: /data/sw/pvier } }\n',
      '/specs/desired-state.yaml',
    );
    expect(site?.backend).toEqual({
      type: 'slurm',
      partition: 'grid',
      memory: '2G',
      cpusPerTask: 2,
      jobsRoot: '/specs/shared/jobs',
      slurmConf: '/etc/slurm/slurm.conf',
      jobCompLog: '/specs/log/jobcomp.log',
      environment: { VO_PVIER_SW_DIR: '/data/sw/pvier' },
    });
    expect(createBackend(site?.backend ?? { type: 'slurm' }, { jobsRoot: '/unused' })).toBeInstanceOf(
      SlurmBackend,
    );
  });
});
