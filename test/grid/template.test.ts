/**
 * The template backend without any middleware: argv substitution (hostile values refused, placeholders never split
 * or joined through a shell), one status call for many jobs with {ids}, state mapping, the grace of jobs missing
 * from the status output, and submit output without an id — through an injected exec that records the calls.
 * test/e2e/slurm/ drives the real Slurm commands through it.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobHandle } from '../../src/grid/backend.js';
import { createBackend } from '../../src/grid/index.js';
import {
  substitute,
  TemplateBackend,
  type TemplateBackendConfig,
  type TemplateBackendOptions,
  TemplateCommandError,
  type TemplateExec,
  type TemplateExecResult,
  TemplateUnavailableError,
} from '../../src/grid/template.js';
import { parseSpecText } from '../../src/spec/index.js';

type Answer = (argv: readonly string[]) => Partial<TemplateExecResult>;

interface Call {
  argv: string[];
  cwd: string | undefined;
  env: Record<string, string>;
}

function fakeExec(answer: Answer): { exec: TemplateExec; calls: Call[] } {
  const calls: Call[] = [];
  const exec: TemplateExec = async (argv, options) => {
    calls.push({ argv: [...argv], cwd: options.cwd, env: { ...options.env } });
    return { exitCode: 0, stdout: '', stderr: '', ...answer(argv) };
  };
  return { exec, calls };
}

let root: string;
let script: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridpkg-template-unit-'));
  script = join(root, 'site-job.sh');
  await writeFile(script, 'echo hi\n');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Slurm as a template (the e2e test drives the real commands with the same settings). */
const SLURM: Omit<TemplateBackendOptions, 'jobsRoot'> = {
  submit: {
    argv: [
      'sbatch',
      '--parsable',
      '-J',
      '{jobName}',
      '--chdir={jobDir}',
      '--time',
      '{timeoutMinutes}',
      '{runner}',
    ],
    jobId: '^(\\d+)',
  },
  status: {
    argv: ['squeue', '-h', '-t', 'all', '-j', '{idsComma}', '-o', '%i %T'],
    line: '^\\s*(?<id>\\d+)\\s+(?<state>[A-Z_]+)',
    states: {
      queued: ['PENDING', 'CONFIGURING'],
      running: ['RUNNING', 'COMPLETING'],
      done: ['COMPLETED'],
      failed: ['FAILED', 'CANCELLED', 'TIMEOUT'],
    },
  },
  cancel: { argv: ['scancel', '{id}'] },
};

function backend(answer: Answer, extra: Partial<TemplateBackendOptions> = {}) {
  const fake = fakeExec(answer);
  const b = new TemplateBackend({ ...SLURM, jobsRoot: join(root, 'jobs'), exec: fake.exec, ...extra });
  return { b, calls: fake.calls };
}

async function handle(jobId: string, id: string, exitStatus?: string): Promise<JobHandle> {
  const dir = join(root, 'jobs', jobId);
  await mkdir(dir, { recursive: true });
  if (exitStatus !== undefined) await writeFile(join(dir, 'exit-status'), exitStatus);
  return { jobId, site: 's', backendId: `template:${id}` };
}

describe('argv substitution', () => {
  it('replaces placeholders inside one element and expands {ids} to one element per id', () => {
    expect(
      substitute(['x', '--chdir={jobDir}', '{ids}', 'a{id}b'], { jobDir: '/j d', ids: ['1', '2'], id: '7' }),
    ).toEqual(['x', '--chdir=/j d', '1', '2', 'a7b']);
  });

  it('submits with each placeholder as part of exactly one argv element, in the job directory', async () => {
    const { b, calls } = backend(() => ({ stdout: '4242;cluster\n' }));
    const job = await b.submit({
      jobId: 'j1',
      site: 's',
      scriptPath: script,
      request: 'r\n',
      timeoutSeconds: 61,
    });
    const dir = join(root, 'jobs', 'j1');
    expect(job).toEqual({ jobId: 'j1', site: 's', backendId: 'template:4242' });
    expect(calls[0]?.argv).toEqual([
      'sbatch',
      '--parsable',
      '-J',
      'gridpkg-j1',
      `--chdir=${dir}`,
      '--time',
      '2',
      join(dir, 'runner.sh'),
    ]);
    expect(calls[0]?.cwd).toBe(dir);
    expect(await readFile(join(dir, 'backend-id'), 'utf8')).toBe('4242\n');
    expect(await b.find('s', 'j1')).toEqual(job);
  });

  it('refuses hostile values: job ids, backend ids, a jobsRoot with spaces or "..", and a backend id from submit', async () => {
    const { b, calls } = backend(() => ({ stdout: '-rf\n' }), {
      submit: { argv: ['sub', '{jobDir}'], jobId: '^(\\S+)' },
    });
    for (const jobId of ['a b', '../x', '-x', 'a;b', '$(id)'])
      await expect(
        b.submit({ jobId, site: 's', scriptPath: script, request: 'r', timeoutSeconds: 1 }),
      ).rejects.toThrow(/bad job id/);
    // An id that would read as an option is refused, and the job directory removed.
    await expect(
      b.submit({ jobId: 'ok', site: 's', scriptPath: script, request: 'r', timeoutSeconds: 1 }),
    ).rejects.toBeInstanceOf(TemplateCommandError);
    expect(existsSync(join(root, 'jobs', 'ok'))).toBe(false);
    const before = calls.length;
    for (const backendId of [
      'template:1 2',
      'template:$(id)',
      'template:-1',
      'template:a\nb',
      'slurm:1:/x',
      'template:',
    ])
      await expect(b.cancel({ jobId: 'ok', site: 's', backendId })).rejects.toThrow(/refusing to touch it/);
    expect(calls.length).toBe(before);
    expect(() => backend(() => ({}), { jobsRoot: '/tmp/a b' })).toThrow(/bad jobsRoot/);
    expect(() => backend(() => ({}), { jobsRoot: '/tmp/../etc' })).toThrow(/bad jobsRoot/);
  });

  it('refuses bad templates: unknown placeholders, {ids} inside a word, a placeholder as the program', () => {
    const bad = (extra: Partial<TemplateBackendOptions>) => () => backend(() => ({}), extra);
    expect(bad({ cancel: { argv: ['scancel', '{jobid}'] } })).toThrow(/unknown placeholder \{jobid\}/);
    expect(bad({ cancel: { argv: ['scancel', '{ids}'] } })).toThrow(/not available here/);
    expect(bad({ status: { ...SLURM.status, argv: ['squeue', '-j', 'x{ids}'] } })).toThrow(
      /whole argv element/,
    );
    expect(bad({ status: { ...SLURM.status, argv: ['squeue', '{id}', '{ids}'] } })).toThrow(/exactly one of/);
    expect(bad({ submit: { argv: ['{runner}'], jobId: '(\\d+)' } })).toThrow(/fixed word/);
    expect(bad({ submit: { argv: ['sbatch', 'a\nb'], jobId: '(\\d+)' } })).toThrow(/line breaks/);
    expect(bad({ submit: { argv: ['sbatch'], jobId: '\\d+' } })).toThrow(/one capture group/);
    expect(bad({ status: { ...SLURM.status, line: '(\\d+) (\\w+)' } })).toThrow(/named groups/);
    expect(bad({ status: { ...SLURM.status, line: '(?<state>\\w+)' } })).toThrow(/named groups/);
    expect(bad({ status: { ...SLURM.status, states: { done: ['X'], failed: ['X'] } } })).toThrow(
      /both done and failed/,
    );
    expect(bad({ files: { 'runner.sh': 'x' } })).toThrow(/bad file name/);
  });

  it('passes a value with shell metacharacters as one element, unexpanded', async () => {
    // A jobsRoot may hold "+" and ","; nothing of it is ever seen by a shell.
    const { b, calls } = backend(() => ({ stdout: '1\n' }), { jobsRoot: join(root, 'a+b,c') });
    await b.submit({ jobId: 'x', site: 's', scriptPath: script, request: 'r', timeoutSeconds: 0 });
    expect(calls[0]?.argv).toContain(`--chdir=${join(root, 'a+b,c', 'x')}`);
    expect(calls[0]?.argv).toContain('0');
  });
});

describe('submit', () => {
  it('is an error when the output holds no job id, and the job directory is removed', async () => {
    const { b } = backend(() => ({ stdout: 'Submitted, maybe.\n' }));
    await expect(
      b.submit({ jobId: 'j', site: 's', scriptPath: script, request: 'r', timeoutSeconds: 1 }),
    ).rejects.toThrow(/printed no job id/);
    expect(existsSync(join(root, 'jobs', 'j'))).toBe(false);
  });

  it('is an error when the command fails', async () => {
    const { b } = backend(() => ({ exitCode: 1, stderr: 'sbatch: error: invalid partition\n' }));
    await expect(
      b.submit({ jobId: 'j', site: 's', scriptPath: script, request: 'r', timeoutSeconds: 1 }),
    ).rejects.toThrow(/exited 1: sbatch: error: invalid partition/);
  });

  it('writes the constant files into the job directory', async () => {
    const { b } = backend(() => ({ stdout: '5\n' }), { files: { 'job.jdl': 'Executable = "runner.sh";\n' } });
    await b.submit({ jobId: 'f', site: 's', scriptPath: script, request: 'r', timeoutSeconds: 1 });
    expect(await readFile(join(root, 'jobs', 'f', 'job.jdl'), 'utf8')).toBe('Executable = "runner.sh";\n');
  });
});

describe('status', () => {
  it('asks for many jobs in ONE call with {ids} and maps the states', async () => {
    const { b, calls } = backend(() => ({
      stdout: '1 PENDING\n2 RUNNING\n3 COMPLETED\n4 CANCELLED\n5 COMPLETED\n',
    }));
    const jobs = [
      await handle('a', '1'),
      await handle('b', '2'),
      await handle('c', '3', '0\n'),
      await handle('d', '4'),
      await handle('e', '5', '3\n'),
    ];
    const states = await b.status(jobs);
    expect(calls.map((c) => c.argv)).toEqual([
      ['squeue', '-h', '-t', 'all', '-j', '1,2,3,4,5', '-o', '%i %T'],
    ]);
    expect(Object.fromEntries(states)).toEqual({
      a: { state: 'queued', raw: 'PENDING' },
      b: { state: 'running', raw: 'RUNNING' },
      c: { state: 'done', exitCode: 0, raw: 'COMPLETED' },
      d: { state: 'failed', reason: 'CANCELLED', raw: 'CANCELLED' },
      e: { state: 'done', exitCode: 3, raw: 'COMPLETED' },
    });
  });

  it('expands {ids} to one argv element per job, in one call', async () => {
    const { b, calls } = backend(() => ({ stdout: '1 RUNNING\n2 PENDING\n' }), {
      status: { ...SLURM.status, argv: ['st', '--', '{ids}'] },
    });
    const states = await b.status([await handle('a', '1'), await handle('b', '2'), await handle('c', '1')]);
    expect(calls.map((c) => c.argv)).toEqual([['st', '--', '1', '2']]);
    expect(states.get('c')).toEqual({ state: 'running', raw: 'RUNNING' });
  });

  it('calls once per job with {id}', async () => {
    const { b, calls } = backend((argv) => ({ stdout: `${argv[1]} RUNNING\n` }), {
      status: { ...SLURM.status, argv: ['st', '{id}'] },
    });
    const states = await b.status([await handle('a', '1'), await handle('b', '2')]);
    expect(calls.map((c) => c.argv)).toEqual([
      ['st', '1'],
      ['st', '2'],
    ]);
    expect(states.get('b')).toEqual({ state: 'running', raw: 'RUNNING' });
  });

  it('with {id}, takes a line without an id as the state of the job asked about (gLite style)', async () => {
    const { b } = backend(
      (argv) => ({
        stdout: `Status info for the Job : ${argv[2]}\nCurrent Status:     ${argv[2]?.endsWith('1') ? 'Running' : 'Done (Success)'}\n`,
      }),
      {
        status: {
          argv: ['glite-wms-job-status', '--noint', '{id}'],
          line: '^Current Status:\\s+(?<state>\\w+)(?:\\s+\\((?<reason>[^)]*)\\))?',
          states: { running: ['Running'], done: ['Done'] },
        },
      },
    );
    const states = await b.status([
      await handle('a', 'https://wms.example:9000/x1'),
      await handle('b', 'https://wms.example:9000/x2', '0\n'),
    ]);
    expect(states.get('a')).toEqual({ state: 'running', raw: 'Running' });
    expect(states.get('b')).toEqual({ state: 'done', exitCode: 0, raw: 'Done Success' });
  });

  it('throws on an unknown state (transient), never guesses', async () => {
    const { b } = backend(() => ({ stdout: '1 WEIRD\n' }));
    await expect(b.status([await handle('a', '1')])).rejects.toThrow(/unknown state "WEIRD"/);
    await expect(b.status([await handle('a', '1')])).rejects.toBeInstanceOf(TemplateUnavailableError);
  });

  it('throws when the status command fails (transient)', async () => {
    const { b } = backend(() => ({
      exitCode: 1,
      stderr: 'slurm_load_jobs error: Unable to contact slurm controller',
    }));
    await expect(b.status([await handle('a', '1')])).rejects.toBeInstanceOf(TemplateUnavailableError);
  });

  it('gives a missing job a grace of missingPolls polls before calling it lost; exit-status means done', async () => {
    const { b } = backend(() => ({ stdout: '' }), { missingPolls: 3 });
    const gone = await handle('gone', '1');
    const ended = await handle('ended', '2', '0\n');
    for (let poll = 1; poll < 3; poll++) {
      const states = await b.status([gone, ended]);
      expect(states.has('gone')).toBe(false); // no news
      expect(states.get('ended')).toMatchObject({ state: 'done', exitCode: 0 });
    }
    expect((await b.status([gone])).get('gone')).toMatchObject({ state: 'lost', raw: 'missing' });
  });

  it('resets the grace when the job shows up again', async () => {
    let out = '';
    const { b } = backend(() => ({ stdout: out }), { missingPolls: 2 });
    const job = await handle('j', '9');
    expect((await b.status([job])).has('j')).toBe(false);
    out = '9 RUNNING\n';
    expect((await b.status([job])).get('j')?.state).toBe('running');
    out = '';
    expect((await b.status([job])).has('j')).toBe(false);
  });

  it('calls a done job without exit status failed, unless a fetch command brings the output', async () => {
    const shared = backend(() => ({ stdout: '1 COMPLETED\n' })).b;
    expect((await shared.status([await handle('a', '1')])).get('a')).toMatchObject({ state: 'failed' });
    const fetching = backend(() => ({ stdout: '1 COMPLETED\n' }), {
      fetch: { argv: ['get', '{id}', '{jobDir}'] },
    });
    expect((await fetching.b.status([await handle('a', '1')])).get('a')).toMatchObject({
      state: 'done',
      exitCode: 0,
    });
    await fetching.b.fetch({ jobId: 'a', site: 's', backendId: 'template:1' });
    expect(fetching.calls.at(-1)).toMatchObject({
      argv: ['get', '1', join(root, 'jobs', 'a')],
      cwd: join(root, 'jobs', 'a'),
    });
  });
});

describe('find by name (a backend id that was never recorded)', () => {
  /** squeue by job name, as docs/templates.md configures it. */
  const FIND = { argv: ['squeue', '-h', '-t', 'all', '-n', '{jobName}', '-o', '%i'], jobId: '^(\\d+)' };
  const submission = (jobId: string) => ({
    jobId,
    site: 's',
    scriptPath: script,
    request: 'r\n',
    timeoutSeconds: 60,
  });

  it('finds a job by its name after its backend-id file was lost, and records the id atomically', async () => {
    const first = backend(() => ({ stdout: '4242\n' }));
    const job = await first.b.submit(submission('j1'));
    const dir = join(root, 'jobs', 'j1');
    await rm(join(dir, 'backend-id'));
    // Without a find command: today's behaviour, nothing is run.
    const plain = backend(() => ({ stdout: '4242\n' }));
    expect(await plain.b.find('s', 'j1')).toBeUndefined();
    expect(plain.calls).toEqual([]);
    // With one: a new backend object (a restarted controller) looks the job up by name.
    const { b, calls } = backend((argv) => ({ stdout: argv[0] === 'squeue' ? '4242\n' : '' }), {
      find: FIND,
    });
    expect(await b.find('s', 'j1')).toEqual(job);
    expect(calls).toEqual([
      {
        argv: ['squeue', '-h', '-t', 'all', '-n', 'gridpkg-j1', '-o', '%i'],
        cwd: dir,
        env: {},
      },
    ]);
    expect(await readFile(join(dir, 'backend-id'), 'utf8')).toBe('4242\n');
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    // Now recorded: the next find reads the file and runs nothing.
    expect(await b.find('s', 'j1')).toEqual(job);
    expect(calls.length).toBe(1);
  });

  it('answers undefined when the find output names no job, or the submit command never ran', async () => {
    const { b, calls } = backend(() => ({ stdout: '' }), { find: FIND });
    await mkdir(join(root, 'jobs', 'gone'), { recursive: true });
    await writeFile(join(root, 'jobs', 'gone', 'job.json'), '{}\n');
    expect(await b.find('s', 'gone')).toBeUndefined();
    expect(calls.length).toBe(1);
    expect(existsSync(join(root, 'jobs', 'gone', 'backend-id'))).toBe(false);
    // No directory, or one whose files were not all written (no job.json): no command is run.
    expect(await b.find('s', 'never')).toBeUndefined();
    await mkdir(join(root, 'jobs', 'half'));
    expect(await b.find('s', 'half')).toBeUndefined();
    expect(calls.length).toBe(1);
  });

  it('throws a transient error when the find command fails, times out or prints a hostile id', async () => {
    await mkdir(join(root, 'jobs', 'j'), { recursive: true });
    await writeFile(join(root, 'jobs', 'j', 'job.json'), '{}\n');
    const failing = backend(
      () => ({ exitCode: 1, stderr: 'squeue: error: Unable to contact slurm controller' }),
      {
        find: FIND,
      },
    ).b;
    await expect(failing.find('s', 'j')).rejects.toBeInstanceOf(TemplateUnavailableError);
    await expect(failing.find('s', 'j')).rejects.toThrow(/find \(squeue\) exited 1: squeue: error/);
    const timingOut: TemplateExec = async (argv) => {
      throw new TemplateUnavailableError(`${argv[0]} timed out after 120000 ms`);
    };
    const slow = new TemplateBackend({ ...SLURM, jobsRoot: join(root, 'jobs'), exec: timingOut, find: FIND });
    await expect(slow.find('s', 'j')).rejects.toThrow(/squeue timed out/);
    const hostile = backend(() => ({ stdout: '-rf\n' }), {
      find: { argv: ['look', '{jobName}'], jobId: '^(\\S+)' },
    });
    await expect(hostile.b.find('s', 'j')).rejects.toThrow(/printed job id "-rf"/);
    expect(existsSync(join(root, 'jobs', 'j', 'backend-id'))).toBe(false);
  });

  it('never lets a hostile job name reach argv, and checks the find template', async () => {
    const { b, calls } = backend(() => ({ stdout: '1\n' }), {
      find: {
        argv: ['condor_q', '-constraint', 'JobBatchName == "{jobName}"', '-af:j', 'JobStatus'],
        jobId: '^(\\d+\\.\\d+) ',
      },
    });
    for (const jobId of ['a b', '../x', '-x', 'a;b', '$(id)', 'a\nb', 'x"||true||"', '.', '..', ''])
      await expect(b.find('s', jobId)).rejects.toThrow(/bad job id/);
    expect(calls).toEqual([]);
    // A placeholder inside a word stays one argv element.
    await mkdir(join(root, 'jobs', 'ok'), { recursive: true });
    await writeFile(join(root, 'jobs', 'ok', 'job.json'), '{}\n');
    const condor = backend(() => ({ stdout: '17.0 2\n' }), {
      find: {
        argv: ['condor_q', '-constraint', 'JobBatchName == "{jobName}"', '-af:j', 'JobStatus'],
        jobId: '^(\\d+\\.\\d+) ',
      },
    });
    expect(await condor.b.find('s', 'ok')).toEqual({ jobId: 'ok', site: 's', backendId: 'template:17.0' });
    expect(condor.calls[0]?.argv).toEqual([
      'condor_q',
      '-constraint',
      'JobBatchName == "gridpkg-ok"',
      '-af:j',
      'JobStatus',
    ]);
    const bad = (find: TemplateBackendOptions['find']) => () => backend(() => ({}), { find });
    expect(bad({ argv: ['squeue', '-j', '{id}'], jobId: '(\\d+)' })).toThrow(/\{id\} is not available here/);
    expect(bad({ argv: ['squeue', '{runner}'], jobId: '(\\d+)' })).toThrow(
      /\{runner\} is not available here/,
    );
    expect(bad({ argv: ['{jobName}'], jobId: '(\\d+)' })).toThrow(/fixed word/);
    expect(bad({ argv: ['squeue', '{jobname}'], jobId: '(\\d+)' })).toThrow(/unknown placeholder/);
    expect(bad({ argv: ['squeue'], jobId: '\\d+' })).toThrow(/find.jobId .*one capture group/);
    expect(bad({ argv: ['squeue'], jobId: '(' })).toThrow(/find.jobId is not a regular expression/);
  });

  it('looks a job up by name when the submit command times out', async () => {
    const timedOut = (findAnswer: Partial<TemplateExecResult> | 'fail') => {
      const calls: string[][] = [];
      const exec: TemplateExec = async (argv) => {
        calls.push([...argv]);
        if (argv[0] === 'sbatch') throw new TemplateUnavailableError('sbatch timed out after 120000 ms');
        if (findAnswer === 'fail') return { exitCode: 1, stdout: '', stderr: 'no controller' };
        return { exitCode: 0, stdout: '', stderr: '', ...findAnswer };
      };
      return { calls, exec };
    };
    // Found: the job was submitted after all; submit answers as if sbatch had.
    const found = timedOut({ stdout: '77\n' });
    const b = new TemplateBackend({ ...SLURM, jobsRoot: join(root, 'jobs'), exec: found.exec, find: FIND });
    expect(await b.submit(submission('t1'))).toEqual({ jobId: 't1', site: 's', backendId: 'template:77' });
    expect(found.calls.map((c) => c[0])).toEqual(['sbatch', 'squeue']);
    expect(await readFile(join(root, 'jobs', 't1', 'backend-id'), 'utf8')).toBe('77\n');
    // Not found: most likely not submitted (transient, the job directory stays).
    const missing = timedOut({ stdout: '' });
    const b2 = new TemplateBackend({
      ...SLURM,
      jobsRoot: join(root, 'jobs'),
      exec: missing.exec,
      find: FIND,
    });
    await expect(b2.submit(submission('t2'))).rejects.toThrow(/timed out.*found no job named gridpkg-t2/);
    expect(existsSync(join(root, 'jobs', 't2', 'job.json'))).toBe(true);
    // The lookup fails too: the job may exist.
    const failing = timedOut('fail');
    const b3 = new TemplateBackend({
      ...SLURM,
      jobsRoot: join(root, 'jobs'),
      exec: failing.exec,
      find: FIND,
    });
    const error = await b3.submit(submission('t3')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateUnavailableError);
    expect(String(error)).toMatch(/may exist anyway, and looking it up by its name gridpkg-t3 failed too/);
    // No find command: the message says the job may exist and how to let gridpkg re-attach.
    const plain = timedOut({});
    const b4 = new TemplateBackend({ ...SLURM, jobsRoot: join(root, 'jobs'), exec: plain.exec });
    await expect(b4.submit(submission('t4'))).rejects.toThrow(
      /sbatch timed out.*may exist anyway .*no backend-id.*configure a find command .*re-attach/,
    );
    expect(plain.calls.length).toBe(1);
    expect(existsSync(join(root, 'jobs', 't4'))).toBe(true);
  });
});

describe('cancel, clean and configuration', () => {
  it('cancels with the id as one argv element; a failing cancel is transient', async () => {
    let code = 0;
    const { b, calls } = backend(() => ({ exitCode: code }), {
      commandEnvironment: { SLURM_CONF: '/etc/slurm.conf' },
    });
    const job = await handle('c', '77');
    await b.cancel(job);
    expect(calls[0]).toMatchObject({ argv: ['scancel', '77'], env: { SLURM_CONF: '/etc/slurm.conf' } });
    code = 1;
    await expect(b.cancel(job)).rejects.toBeInstanceOf(TemplateUnavailableError);
    await b.clean(job);
    expect(existsSync(join(root, 'jobs', 'c'))).toBe(false);
  });

  it('is created from a spec, with needsX509Proxy when credentials: x509', () => {
    const [site] = parseSpecText(
      [
        'apiVersion: gridpkg/v1',
        'sites:',
        '  ce:',
        '    backend:',
        '      type: template',
        '      credentials: x509',
        '      jobsRoot: /tmp/gridpkg-jobs',
        "      submit: { argv: [glite-wms-job-submit, -a, --nomsg, job.jdl], jobId: '^(https://\\S+)' }",
        "      status: { argv: [glite-wms-job-status, --noint, '{id}'], line: '^Current Status:\\s+(?<state>\\w+)', states: { running: [Running] } }",
        "      cancel: { argv: [glite-wms-job-cancel, --noint, '{id}'] }",
      ].join('\n'),
      '/specs/spec.yaml',
    );
    const config = site?.backend;
    expect(config).toMatchObject({ type: 'template', credentials: 'x509', jobsRoot: '/tmp/gridpkg-jobs' });
    expect(config?.type).toBe('template');
    // One gLite status call per job: the 'Current Status' line names no job, and needs no id group.
    const good = createBackend(config as TemplateBackendConfig, { jobsRoot: '/tmp' });
    expect(good.needsX509Proxy).toBe(true);
    expect(new TemplateBackend({ ...SLURM, jobsRoot: '/tmp' }).needsX509Proxy).toBe(false);
  });
});

describe('docs/templates.md', () => {
  it('every ready-made template passes the schema and the backend checks (the middleware itself is untested)', async () => {
    const text = await readFile(new URL('../../docs/templates.md', import.meta.url), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBe(4);
    for (const block of blocks) {
      const indented = block
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n');
      const [site] = parseSpecText(
        `apiVersion: gridpkg/v1\nsites:\n  ce:\n${indented}\n`,
        '/specs/spec.yaml',
      );
      const config = site?.backend as TemplateBackendConfig;
      expect(config.type).toBe('template');
      expect(() => createBackend(config, { jobsRoot: '/tmp/gridpkg-docs' })).not.toThrow();
    }
  });
});
