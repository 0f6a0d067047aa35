/**
 * The ssh backend without an ssh server: quoting, argv, the remote scripts run by a local sh, status parsing, and
 * one ssh call for the status of many jobs (through an injected exec that counts). test/e2e/ssh/ has the real thing.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobHandle } from '../../src/grid/backend.js';
import { createBackend } from '../../src/grid/index.js';
import { normalizeRemoteDir, shellQuote } from '../../src/grid/ssh/quote.js';
import { RUNNER, STATUS } from '../../src/grid/ssh/remote-scripts.js';
import {
  parseFetch,
  parseStatus,
  remoteCommand,
  SshBackend,
  type SshBackendOptions,
  SshConnectionError,
  type SshExec,
  SshRemoteError,
} from '../../src/grid/ssh.js';

interface Call {
  command: 'ssh' | 'sftp';
  args: readonly string[];
  input: string | undefined;
}

/** An exec that records calls and answers from a function. */
function fakeExec(answer: (call: Call) => { exitCode?: number; stdout?: string; stderr?: string }): {
  exec: SshExec;
  calls: Call[];
} {
  const calls: Call[] = [];
  const exec: SshExec = async (command, args, options) => {
    const call = { command, args, input: options.input };
    calls.push(call);
    const a = answer(call);
    return { exitCode: a.exitCode ?? 0, stdout: Buffer.from(a.stdout ?? ''), stderr: a.stderr ?? '' };
  };
  return { exec, calls };
}

const base: SshBackendOptions = { host: 'ce.example.org', user: 'sgm', multiplex: false };
const handle = (jobId: string, workDir = '.gridpkg/jobs'): JobHandle => ({
  jobId,
  site: 'site-a',
  backendId: `${workDir}/${jobId}`,
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-ssh-unit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shellQuote', () => {
  it('gives back every string unchanged through a real sh', async () => {
    const samples = fc
      .sample(fc.string({ unit: 'binary', maxLength: 40 }), 60)
      .map((s) => s.replace(/\0/g, ''));
    samples.push("it's", "'", "''", '$(touch x)', '`id`', 'a\nb', '\\', '"', '!', ' lead', '');
    const script = samples.map((s) => `printf '%s\\0' ${shellQuote(s)}`).join('\n');
    const { stdout } = await execa('sh', ['-c', script], { encoding: 'buffer', cwd: dir });
    expect(Buffer.from(stdout).toString('utf8').split('\0').slice(0, -1)).toEqual(samples);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('wraps in single quotes and escapes a single quote as quote-backslash-quote-quote', () => {
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});

describe('remote directories', () => {
  it.each([
    ['~/.gridpkg/jobs', '.gridpkg/jobs'],
    ['.gridpkg/jobs/', '.gridpkg/jobs'],
    ['/data/sw/jobs', '/data/sw/jobs'],
    ['jobs', 'jobs'],
  ])('accepts %s as %s', (input, output) => {
    expect(normalizeRemoteDir(input)).toBe(output);
  });

  it.each([
    '',
    '/',
    '~',
    '../etc',
    'a/../b',
    'a//b',
    'a b',
    "a'b",
    'a;b',
    '$HOME/x',
    '-rf',
    'a/-x',
    '~user/x',
    'a\nb',
  ])('rejects %j', (input) => {
    expect(() => normalizeRemoteDir(input)).toThrow(/not allowed/);
  });
});

describe('configuration checks', () => {
  it.each<[string, Partial<SshBackendOptions>]>([
    ['host', { host: '-oProxyCommand=x' }],
    ['host', { host: 'a b' }],
    ['user', { user: 'root;id' }],
    ['port', { port: 70000 }],
    ['identityFile', { identityFile: '/a b/key' }],
    ['knownHostsFile', { knownHostsFile: '/tmp/%h' }],
    ['shell', { shell: ['bash', '-c', 'rm -rf /'] }],
    ['shell', { shell: [] }],
    ['environment variable name', { environment: { 'A-B': '/x' } }],
    ['value of environment variable VO_X_SW_DIR', { environment: { VO_X_SW_DIR: '/x $(id)' } }],
    ['value of environment variable X', { environment: { X: 'a\nb' } }],
  ])('rejects a bad %s', (what, override) => {
    expect(() => new SshBackend({ ...base, ...override })).toThrow(what);
  });

  it('is what createBackend builds for type ssh', () => {
    const backend = createBackend({ type: 'ssh', host: 'ce.example.org' }, { jobsRoot: '/unused' });
    expect(backend).toBeInstanceOf(SshBackend);
    expect((backend as SshBackend).workDir).toBe('.gridpkg/jobs');
  });
});

describe('argv', () => {
  it('checks host keys by default, batch mode, connect timeout, and puts the host after --', () => {
    const backend = new SshBackend({
      ...base,
      port: 2222,
      identityFile: '/keys/id',
      knownHostsFile: '/keys/known_hosts',
    });
    const args = backend.sshArgs('/tmp/cm', ['.gridpkg/jobs/j1']);
    const options = args.slice(0, -3);
    expect(options.join(' ')).toContain('-o StrictHostKeyChecking=yes');
    expect(options).toEqual(
      expect.arrayContaining([
        'BatchMode=yes',
        'ConnectTimeout=10',
        'Port=2222',
        'User=sgm',
        'IdentitiesOnly=yes',
        'UserKnownHostsFile=/keys/known_hosts',
        'ControlPath=/tmp/cm',
        '/keys/id',
      ]),
    );
    expect(args.slice(-3)).toEqual(['--', 'ce.example.org', "/bin/sh -s -- '.gridpkg/jobs/j1'"]);
  });

  it('accepts new host keys only when told to', () => {
    const backend = new SshBackend({ ...base, insecureAcceptNewHostKeys: true });
    expect(backend.commonOptions(undefined)).toContain('StrictHostKeyChecking=accept-new');
  });

  it('builds one remote command of a constant shell and single-quoted arguments', () => {
    expect(remoteCommand(['a', 'b-1'])).toBe("/bin/sh -s -- 'a' 'b-1'");
  });
});

describe('status', () => {
  const answerFor = (ids: string[]) =>
    [
      'gridpkg-status 1',
      ...ids.map((id, i) => (i % 2 ? `${id} running 42` : `${id} exit 0`)),
      'end',
      '',
    ].join('\n');

  it('asks for the states of many jobs in one ssh call, with the constant status script on stdin', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `site-a-probe-${i}`);
    const { exec, calls } = fakeExec(() => ({ stdout: answerFor(ids) }));
    const backend = new SshBackend({ ...base, exec });
    const states = await backend.status(ids.map((id) => handle(id)));
    expect(calls).toHaveLength(1);
    expect(backend.invocations).toBe(1);
    expect(calls[0]?.input).toBe(STATUS);
    expect(calls[0]?.args.at(-1)).toBe(
      `/bin/sh -s -- '.gridpkg/jobs' ${ids.map((id) => `'${id}'`).join(' ')}`,
    );
    expect(states.size).toBe(25);
    expect(states.get('site-a-probe-0')).toEqual({ state: 'done', exitCode: 0, raw: 'exit 0' });
    expect(states.get('site-a-probe-1')).toEqual({ state: 'running', raw: 'pid 42' });
  });

  it('throws when ssh fails (exit 255): a transient problem, never a failed job', async () => {
    const { exec } = fakeExec(() => ({
      exitCode: 255,
      stderr: 'ssh: connect to host x port 22: Connection refused',
    }));
    const backend = new SshBackend({ ...base, exec });
    await expect(backend.status([handle('j1')])).rejects.toBeInstanceOf(SshConnectionError);
  });

  it('throws on an incomplete answer (connection dropped mid-way)', async () => {
    const { exec } = fakeExec(() => ({ stdout: 'gridpkg-status 1\nj1 exit 0\n' }));
    await expect(new SshBackend({ ...base, exec }).status([handle('j1')])).rejects.toBeInstanceOf(
      SshRemoteError,
    );
  });

  it('maps every line of the status script', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const text = [
      'gridpkg-status 1',
      'a missing',
      'b exit 3',
      'c ended cancelled',
      'd starting 5',
      'e starting 61',
      'f running 1234',
      'g vanished 1234',
      'h unstarted',
      'end',
    ].join('\n');
    const states = parseStatus(text, ids, 'w');
    expect(Object.fromEntries([...states].map(([id, s]) => [id, s.state]))).toEqual({
      a: 'lost',
      b: 'done',
      c: 'failed',
      d: 'queued',
      e: 'lost',
      f: 'running',
      g: 'lost',
      h: 'lost',
    });
    expect(states.get('c')).toMatchObject({ reason: 'cancelled' });
    expect(() => parseStatus('gridpkg-status 1\na bogus\nend\n', ['a'], 'w')).toThrow(/cannot read/);
    expect(() => parseStatus('gridpkg-status 1\nend\n', ['a'], 'w')).toThrow(/no answer for a/);
    expect(() => parseStatus('', ['a'], 'w')).toThrow(/incomplete/);
  });

  it('refuses a handle whose directory is not under its work directory, before any call', async () => {
    const { exec, calls } = fakeExec(() => ({}));
    const backend = new SshBackend({ ...base, exec });
    const foreign: JobHandle = { jobId: 'j1', site: 'site-a', backendId: '/home/sgm' };
    await expect(backend.clean(foreign)).rejects.toThrow(/refusing/);
    await expect(backend.status([foreign])).rejects.toThrow(/refusing/);
    await expect(backend.clean({ ...handle('j1'), jobId: '../x' })).rejects.toThrow(/bad job id/);
    expect(calls).toHaveLength(0);
  });
});

describe('fetch answer', () => {
  it('reads sized sections, including a missing report', () => {
    const data = Buffer.concat([Buffer.from('report.txt -\nstdout.txt 6\nhé\nx\nstderr.txt 0\n')]);
    const files = parseFetch(data, 100);
    expect(files.get('report.txt')).toBeUndefined();
    expect(files.get('stdout.txt')).toEqual({ text: 'hé\nx\n', truncated: false }); // sizes are bytes
    expect(files.get('stderr.txt')).toEqual({ text: '', truncated: false });
    expect(() => parseFetch(Buffer.from('stdout.txt 10\nabc'), 100)).toThrow(/truncated/);
    expect(() => parseFetch(Buffer.from('../etc/passwd 1\nx'), 100)).toThrow(/bad header/);
  });

  it('says which file was cut at the cap: FETCH sends one byte more than the cap of a larger file', () => {
    const files = parseFetch(Buffer.from('report.txt 5\nabcdestdout.txt 4\nabcd'), 4);
    expect(files.get('report.txt')).toEqual({ text: 'abcd', truncated: true });
    expect(files.get('stdout.txt')).toEqual({ text: 'abcd', truncated: false });
  });
});

describe('submit', () => {
  it('uploads the inputs with one sftp batch into a new directory, then starts the runner with one ssh call', async () => {
    const script = join(dir, 'job.sh');
    await writeFile(script, 'true\n');
    const uploads = new Map<string, string>();
    const { exec, calls } = fakeExec((call) => {
      if (call.command === 'sftp') {
        for (const line of (call.input ?? '').split('\n')) {
          const put = /^put (\S+) (\S+)$/.exec(line);
          // The staging directory is gone after submit: read the files while the call runs.
          if (put?.[1] && put[2]) uploads.set(put[2], require_(put[1]));
        }
        return {};
      }
      return { stdout: 'started 99\n' };
    });
    const require_ = (path: string) => (existsSync(path) ? 'present' : 'absent');
    const backend = new SshBackend({
      ...base,
      exec,
      workDir: '/data/jobs',
      environment: { VO_PVIER_SW_DIR: '/data/sw/pvier' },
    });
    const job = await backend.submit({
      jobId: 'site-a-probe-1',
      site: 'site-a',
      scriptPath: script,
      request: 'x\n',
      timeoutSeconds: 60,
    });
    expect(job.backendId).toBe('/data/jobs/site-a-probe-1');
    expect(calls.map((c) => c.command)).toEqual(['sftp', 'ssh']);
    const batch = (calls[0]?.input ?? '').split('\n');
    expect(batch.slice(0, 3)).toEqual([
      '-mkdir /data',
      '-mkdir /data/jobs',
      'mkdir /data/jobs/site-a-probe-1',
    ]);
    expect([...uploads.keys()].map((p) => p.split('/').pop()).sort()).toEqual(
      ['env', 'request.txt', 'runner.sh', 'shell', 'site-job.sh', 'timeout'].sort(),
    );
    expect([...uploads.values()].every((v) => v === 'present')).toBe(true);
    expect(calls[1]?.args.at(-1)).toBe("/bin/sh -s -- '/data/jobs/site-a-probe-1'");
  });

  it('rejects a job id outside the protocol charset before any call', async () => {
    const { exec, calls } = fakeExec(() => ({}));
    const backend = new SshBackend({ ...base, exec });
    await expect(
      backend.submit({
        jobId: "x';id;'",
        site: 's',
        scriptPath: '/dev/null',
        request: '',
        timeoutSeconds: 1,
      }),
    ).rejects.toThrow(/bad job id/);
    expect(calls).toHaveLength(0);
  });
});

describe('the runner and the status script under a local sh', () => {
  async function jobDir(
    id: string,
    env: string,
    shell = 'sh\n',
    script = 'cat "$1" > "$2"; echo "$V"; exit 4\n',
  ) {
    const d = join(dir, 'jobs', id);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'runner.sh'), RUNNER);
    await writeFile(join(d, 'site-job.sh'), script);
    await writeFile(join(d, 'request.txt'), 'req\n');
    await writeFile(join(d, 'env'), env);
    await writeFile(join(d, 'shell'), shell);
    await writeFile(join(d, 'timeout'), '60\n');
    return d;
  }
  const status = async (...ids: string[]) =>
    (await execa('sh', ['-s', '--', join(dir, 'jobs'), ...ids], { input: STATUS })).stdout;

  it('exports env values as data and records pid, outputs and exit status', async () => {
    const d = await jobDir('j1', 'V=/sw/a:b\n');
    await execa('sh', [join(d, 'runner.sh')], { reject: false });
    expect(await readFile(join(d, 'report.txt'), 'utf8')).toBe('req\n');
    expect(await readFile(join(d, 'stdout.txt'), 'utf8')).toBe('/sw/a:b\n');
    expect((await readFile(join(d, 'exit-status'), 'utf8')).trim()).toBe('4');
    expect(await readFile(join(d, 'pid'), 'utf8')).toMatch(/^\d+\n$/);
    await writeFile(join(d, 'submitted'), `${Math.floor(Date.now() / 1000)}\n`);
    expect(await status('j1', 'nope')).toBe('gridpkg-status 1\nj1 exit 4\nnope missing\nend');
  });

  it.each([
    ['a value with $(…)', 'V=$(touch pwned)\n'],
    ['a bad name', 'A-B=/x\n'],
    ['a line without =', 'junk\n'],
  ])('refuses an env file with %s and never evaluates it', async (_what, env) => {
    const d = await jobDir('j2', env);
    await execa('sh', [join(d, 'runner.sh')], { cwd: dir, reject: false });
    expect((await readFile(join(d, 'exit-status'), 'utf8')).trim()).toBe('126');
    expect(await readFile(join(d, 'stderr.txt'), 'utf8')).toMatch(/gridpkg runner: /);
    expect(existsSync(join(d, 'pwned'))).toBe(false);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('tells starting, unstarted and vanished jobs apart', async () => {
    await jobDir('fresh', '');
    await jobDir('gone', '');
    const now = Math.floor(Date.now() / 1000);
    await writeFile(join(dir, 'jobs', 'fresh', 'submitted'), `${now}\n`);
    await writeFile(join(dir, 'jobs', 'gone', 'submitted'), `${now}\n`);
    await writeFile(join(dir, 'jobs', 'gone', 'pid'), '999999\n');
    await jobDir('never', '');
    const lines = (await status('fresh', 'gone', 'never')).split('\n');
    expect(lines[1]).toMatch(/^fresh starting \d+$/);
    expect(lines.slice(2)).toEqual(['gone vanished 999999', 'never unstarted', 'end']);
  });
});
