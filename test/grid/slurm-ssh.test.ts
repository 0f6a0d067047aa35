/**
 * The slurm backend with its login node reached over ssh, without an ssh server or Slurm: the argv and remote
 * scripts it builds, hostile values refused before anything runs, ssh failures as transient errors, the remote
 * scripts under a local sh, and the spec. test/e2e/slurm/ has the real thing (sshd + Slurm on loopback).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobHandle } from '../../src/grid/backend.js';
import { createBackend } from '../../src/grid/index.js';
import { MAX_OUTPUT_BYTES } from '../../src/grid/job-files.js';
import { SLURM_COMMAND, slurmCommandArgs } from '../../src/grid/slurm/ssh-exec.js';
import {
  SlurmBackend,
  type SlurmBackendConfig,
  type SlurmBackendOptions,
  SlurmUnavailableError,
} from '../../src/grid/slurm.js';
import { SshConnectionError, type SshExec } from '../../src/grid/ssh/connection.js';
import { parseReadFiles, READ_FILES } from '../../src/grid/ssh/remote-files.js';
import { parseSpecText } from '../../src/spec/index.js';

interface Call {
  command: 'ssh' | 'sftp';
  args: readonly string[];
  input: string;
}

type Answer = (call: Call) => { exitCode?: number; stdout?: string; stderr?: string };

/** An ssh/sftp exec that records every call; the remote command of an ssh call is its last argv element. */
function fakeSsh(answer: Answer): { exec: SshExec; calls: Call[] } {
  const calls: Call[] = [];
  const exec: SshExec = async (command, args, options) => {
    const call = { command, args, input: options.input ?? '' };
    calls.push(call);
    const a = answer(call);
    return { exitCode: a.exitCode ?? 0, stdout: Buffer.from(a.stdout ?? ''), stderr: a.stderr ?? '' };
  };
  return { exec, calls };
}

/** The Slurm command of an ssh call that ran SLURM_COMMAND, or undefined for other scripts. */
const slurmCommandOf = (call: Call) =>
  call.input === SLURM_COMMAND
    ? /^\/bin\/sh -s -- '[^']*' '(\w+)'/.exec(call.args.at(-1) ?? '')?.[1]
    : undefined;

const ROOT = '/shared/gridpkg/jobs';
const base: SlurmBackendOptions = {
  jobsRoot: ROOT,
  partition: 'grid',
  slurmConf: '/etc/slurm/slurm.conf',
  jobCompLog: '/var/log/slurm/jobcomp.log',
  loginNode: { host: 'login01.example.org', user: 'pvisgm', port: 2222, knownHostsFile: '/keys/known_hosts' },
};

function backend(answer: Answer, extra: Partial<SlurmBackendOptions> = {}) {
  const fake = fakeSsh(answer);
  const b = new SlurmBackend({ ...base, sshExec: fake.exec, ...extra });
  return { b, calls: fake.calls };
}

const handle = (jobId: string, slurmId: number): JobHandle => ({
  jobId,
  site: 'site-a',
  backendId: `slurm:${slurmId}:${ROOT}/${jobId}`,
});

/** Answers a master start (-f -N) with success and every other call with `answer`. */
const withMaster =
  (answer: Answer): Answer =>
  (call) =>
    call.args.includes('-N') ? {} : answer(call);

let dir: string;
let script: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-slurm-ssh-unit-'));
  script = join(dir, 'site-job.sh');
  await writeFile(script, 'echo hi\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('slurm over ssh: argv and remote scripts', () => {
  it('submits with one sftp upload, one ssh call running sbatch on the login node, and one sftp write', async () => {
    const uploaded = new Map<string, string>();
    const { b, calls } = backend(
      withMaster((call) => {
        if (call.command === 'sftp') {
          // The staging directory is gone after the call: read what the upload puts while the call runs.
          for (const line of uploaded.size === 0 ? call.input.split('\n') : []) {
            const put = /^put (\S+) (\S+)$/.exec(line);
            if (put?.[1] && put[2]) uploaded.set(put[2], existsSync(put[1]) ? 'staged' : 'missing');
          }
          return {};
        }
        return { stdout: '42\n' };
      }),
    );
    const job = await b.submit({
      jobId: 'site-a-probe-1',
      site: 'site-a',
      scriptPath: script,
      request: 'req\n',
      timeoutSeconds: 600,
    });
    const jobDir = `${ROOT}/site-a-probe-1`;
    expect(job).toEqual({ jobId: 'site-a-probe-1', site: 'site-a', backendId: `slurm:42:${jobDir}` });
    const work = calls.filter((c) => !c.args.includes('-N'));
    expect(work.map((c) => c.command)).toEqual(['sftp', 'ssh', 'sftp']);

    // 1. The job directory: parents made as needed, the directory itself new, every file uploaded.
    const batch = work[0]?.input.split('\n') ?? [];
    expect(batch.slice(0, 5)).toEqual([
      '-mkdir /shared',
      '-mkdir /shared/gridpkg',
      '-mkdir /shared/gridpkg/jobs',
      `mkdir ${jobDir}`,
      expect.stringMatching(new RegExp(`^put \\S+/site-job\\.sh ${jobDir}/site-job\\.sh$`)),
    ]);
    expect([...uploaded.keys()].map((p) => p.slice(jobDir.length + 1)).sort()).toEqual(
      ['env', 'job.json', 'request.txt', 'runner.sh', 'shell', 'site-job.sh'].sort(),
    );
    expect([...uploaded.values()].every((v) => v === 'staged')).toBe(true);

    // 2. sbatch on the login node: the constant script on stdin, SLURM_CONF and every argument single-quoted.
    const sbatch = work[1];
    expect(sbatch?.input).toBe(SLURM_COMMAND);
    expect(sbatch?.args.slice(-3, -1)).toEqual(['--', 'login01.example.org']);
    expect(sbatch?.args).toEqual(
      expect.arrayContaining(['BatchMode=yes', 'StrictHostKeyChecking=yes', 'User=pvisgm', 'Port=2222']),
    );
    expect(sbatch?.args.at(-1)).toBe(
      `/bin/sh -s -- '/etc/slurm/slurm.conf' 'sbatch' '--parsable' '-J' 'gridpkg-site-a-probe-1' ` +
        `'-o' '${jobDir}/stdout.txt' '-e' '${jobDir}/stderr.txt' '--chdir' '${jobDir}' '--no-requeue' ` +
        `'--export=ALL' '--partition' 'grid' '--time' '10' '${jobDir}/runner.sh'`,
    );
    expect(b.calls).toEqual([['sbatch', ...b.sbatchArgs('site-a-probe-1', jobDir, 600)]]);

    // 3. slurm-id: uploaded under a temporary name and renamed over.
    expect(work[2]?.input.split('\n').slice(1)).toEqual([
      `rename ${jobDir}/.slurm-id.tmp ${jobDir}/slurm-id`,
      '',
    ]);
    await b.close();
  });

  it('asks squeue once over ssh for many running jobs, and reads exit-status of finished ones in one more call', async () => {
    const jobs = Array.from({ length: 8 }, (_, i) => handle(`j-${i}`, 100 + i));
    let finished = false;
    const { b, calls } = backend(
      (call) => {
        if (slurmCommandOf(call) === 'squeue') {
          const state = finished ? 'COMPLETED' : 'RUNNING';
          return { stdout: jobs.map((_, i) => `${100 + i} ${state} None\n`).join('') };
        }
        if (call.input === READ_FILES) return { stdout: jobs.map(() => '2\n0\n').join('') };
        return { exitCode: 99 };
      },
      { multiplex: false },
    );

    const running = await b.status(jobs);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args.at(-1)).toBe(
      `/bin/sh -s -- '/etc/slurm/slurm.conf' 'squeue' '-h' '-t' 'all' '-j' ` +
        `'${jobs.map((_, i) => 100 + i).join(',')}' '-o' '%i %T %r'`,
    );
    expect([...running.values()].every((s) => s.state === 'running')).toBe(true);

    finished = true;
    const done = await b.status(jobs);
    expect(calls).toHaveLength(3);
    expect(calls[2]?.input).toBe(READ_FILES);
    expect(calls[2]?.args.at(-1)).toBe(
      `/bin/sh -s -- '${MAX_OUTPUT_BYTES + 1}' ${jobs.map((j) => `'${ROOT}/${j.jobId}/exit-status'`).join(' ')}`,
    );
    expect(done.get('j-3')).toEqual({ state: 'done', exitCode: 0, raw: 'COMPLETED' });
  });

  it('looks jobs that left squeue up with sacct -c on the login node', async () => {
    const { b, calls } = backend(
      (call) => {
        const command = slurmCommandOf(call);
        if (command === 'squeue')
          return { exitCode: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' };
        if (command === 'sacct') return { stdout: '7|CANCELLED by 0|0:15\n' };
        return { stdout: '-\n' };
      },
      { multiplex: false },
    );
    const states = await b.status([handle('gone', 7)]);
    expect(calls.map(slurmCommandOf)).toEqual(['squeue', 'sacct']);
    expect(calls[1]?.args.at(-1)).toContain(`'-c' '--file=/var/log/slurm/jobcomp.log'`);
    expect(states.get('gone')).toMatchObject({ state: 'failed', raw: 'CANCELLED 0:15 (accounting)' });
  });

  it('fetches report, stdout and stderr in one call, cancels with scancel and cleans with the constant clean script', async () => {
    const { b, calls } = backend(
      (call) => {
        if (call.input === READ_FILES) return { stdout: '7\nreport\n4\nout\n-\n' };
        return {};
      },
      { multiplex: false },
    );
    const job = handle('c-1', 88);
    expect(await b.fetch(job)).toEqual({ report: 'report\n', stdout: 'out\n', stderr: '' });
    expect(calls[0]?.args.at(-1)).toBe(
      `/bin/sh -s -- '${MAX_OUTPUT_BYTES + 1}' '${ROOT}/c-1/report.txt' '${ROOT}/c-1/stdout.txt' '${ROOT}/c-1/stderr.txt'`,
    );
    await b.cancel(job);
    expect(calls[1]?.args.at(-1)).toBe(`/bin/sh -s -- '/etc/slurm/slurm.conf' 'scancel' '88'`);
    await b.clean(job);
    expect(calls[2]?.args.at(-1)).toBe(`/bin/sh -s -- '${ROOT}' 'c-1'`);
  });

  it('says which output file the login node sent beyond the cap (it is asked for one byte more)', async () => {
    const big = 'x'.repeat(MAX_OUTPUT_BYTES + 1);
    const { b } = backend(
      (call) => (call.input === READ_FILES ? { stdout: `${big.length}\n${big}4\nout\n-\n` } : {}),
      { multiplex: false },
    );
    const output = await b.fetch(handle('c-2', 89));
    expect(output.truncated).toEqual(['report']);
    expect(output.report).toHaveLength(MAX_OUTPUT_BYTES);
    expect(output.stdout).toBe('out\n');
  });

  it('finds a job by its files on the login node', async () => {
    const { b } = backend((call) => (call.input === READ_FILES ? { stdout: '3\n{}\n3\n55\n' } : {}), {
      multiplex: false,
    });
    expect(await b.find('site-a', 'f-1')).toEqual(handle('f-1', 55));
    const { b: none } = backend(() => ({ stdout: '-\n-\n' }), { multiplex: false });
    expect(await none.find('site-a', 'f-2')).toBeUndefined();
  });

  it('closes the master connection on close()', async () => {
    let controlPath = '';
    const { b, calls } = backend((call) => {
      const path = call.args.find((a) => a.startsWith('ControlPath='))?.slice('ControlPath='.length);
      if (call.args.includes('ControlMaster=yes') && path) {
        controlPath = path;
        writeFileSync(path, ''); // plays the master's socket
      }
      return { stdout: '' };
    });
    await b.cancel(handle('m-1', 1));
    expect(calls.filter((c) => c.args.includes('ControlMaster=yes'))).toHaveLength(1);
    expect(existsSync(controlPath)).toBe(true);
    await b.close();
    expect(calls.at(-1)?.args).toEqual(expect.arrayContaining(['-O', 'exit', 'login01.example.org']));
    expect(existsSync(controlPath)).toBe(false);
  });
});

describe('slurm over ssh: hostile values are refused before anything runs', () => {
  it.each<[string, Partial<SlurmBackendOptions>]>([
    ['host', { loginNode: { host: '-oProxyCommand=touch /tmp/x' } }],
    ['host', { loginNode: { host: 'login01;id' } }],
    ['user', { loginNode: { host: 'login01', user: 'root;id' } }],
    ['port', { loginNode: { host: 'login01', port: 0 } }],
    ['identityFile', { loginNode: { host: 'login01', identityFile: '/keys/id %h' } }],
    ['knownHostsFile', { loginNode: { host: 'login01', knownHostsFile: "/keys/'kh" } }],
    ['jobsRoot', { jobsRoot: '' }],
    ['jobsRoot', { jobsRoot: 'relative/jobs' }],
    ['jobsRoot', { jobsRoot: '/shared/$(id)' }],
    ['slurmConf', { slurmConf: "/etc/slurm.conf';id;'" }],
    ['jobCompLog', { jobCompLog: '/var/log/../../etc/shadow' }],
  ])('a bad %s in the settings', (what, override) => {
    const { calls } = fakeSsh(() => ({}));
    expect(() => new SlurmBackend({ ...base, ...override })).toThrow(what);
    expect(calls).toHaveLength(0);
  });

  it.each([
    ['a command substitution', ['-j', '$(touch /tmp/pwned)']],
    ['a quote', ['-j', "1'; id; '"]],
    ['a newline', ['-j', '1\nid']],
    ['a backquote', ['`id`']],
    ['a semicolon', ['1;id']],
  ])('a Slurm argument with %s', (_what, args) => {
    expect(() => slurmCommandArgs('squeue', args, {})).toThrow(/refusing argument/);
  });

  it('passes only SLURM_CONF, and only a safe absolute path, to the login node', () => {
    expect(slurmCommandArgs('squeue', ['-h'], { SLURM_CONF: '/etc/slurm/slurm.conf' })).toEqual([
      '/etc/slurm/slurm.conf',
      'squeue',
      '-h',
    ]);
    expect(slurmCommandArgs('scancel', ['1'], {})).toEqual(['', 'scancel', '1']);
    expect(() => slurmCommandArgs('squeue', [], { LD_PRELOAD: '/tmp/x.so' })).toThrow(/only SLURM_CONF/);
    expect(() => slurmCommandArgs('squeue', [], { SLURM_CONF: '/etc/$(id)' })).toThrow(/bad SLURM_CONF/);
    expect(() => slurmCommandArgs('rm' as 'squeue', ['-rf', '/'], {})).toThrow(/not a Slurm command/);
  });

  it('refuses hostile job ids and handles outside its jobs root without a single call', async () => {
    const { b, calls } = backend(() => ({}), { multiplex: false });
    await expect(
      b.submit({ jobId: "x';id;'", site: 's', scriptPath: script, request: '', timeoutSeconds: 60 }),
    ).rejects.toThrow(/bad job id/);
    await expect(
      b.submit({ jobId: '-rf', site: 's', scriptPath: script, request: '', timeoutSeconds: 60 }),
    ).rejects.toThrow(/bad job id/);
    await expect(b.status([{ jobId: 'j', site: 's', backendId: 'slurm:1:/etc' }])).rejects.toThrow(
      /refusing/,
    );
    await expect(b.fetch({ jobId: '..', site: 's', backendId: `slurm:1:${ROOT}/..` })).rejects.toThrow(
      /bad job id/,
    );
    await expect(b.clean({ jobId: 'j', site: 's', backendId: 'slurm:1:/' })).rejects.toThrow(/refusing/);
    expect(calls).toHaveLength(0);
  });
});

describe('slurm over ssh: ssh failures are transient', () => {
  const unreachable: Answer = () => ({
    exitCode: 255,
    stderr: 'ssh: connect to host login01.example.org port 2222: Connection refused',
  });

  it('turns ssh exit 255 into SlurmUnavailableError for squeue, scancel and sbatch', async () => {
    const { b } = backend(unreachable, { multiplex: false });
    await expect(b.status([handle('j1', 1)])).rejects.toBeInstanceOf(SlurmUnavailableError);
    await expect(b.cancel(handle('j1', 1))).rejects.toBeInstanceOf(SlurmUnavailableError);
    const { b: submitter } = backend((call) => (call.command === 'sftp' ? {} : unreachable(call)), {
      multiplex: false,
    });
    await expect(
      submitter.submit({ jobId: 'j2', site: 's', scriptPath: script, request: '', timeoutSeconds: 60 }),
    ).rejects.toBeInstanceOf(SlurmUnavailableError);
  });

  it('turns a failing master connection, an sftp connection failure and a timeout into SlurmUnavailableError', async () => {
    const { b } = backend(unreachable);
    await expect(b.status([handle('j1', 1)])).rejects.toThrow(SlurmUnavailableError);
    await b.close();
    const { b: sftpDown } = backend(unreachable, { multiplex: false });
    await expect(
      sftpDown.submit({ jobId: 'j3', site: 's', scriptPath: script, request: '', timeoutSeconds: 60 }),
    ).rejects.toBeInstanceOf(SlurmUnavailableError);
    const timeout: SshExec = async () => {
      throw new SshConnectionError('ssh timed out after 60000 ms');
    };
    const slow = new SlurmBackend({ ...base, sshExec: timeout, multiplex: false });
    await expect(slow.fetch(handle('j4', 4))).rejects.toBeInstanceOf(SlurmUnavailableError);
    await expect(slow.status([handle('j4', 4)])).rejects.toBeInstanceOf(SlurmUnavailableError);
  });

  it('calls a login node without the Slurm commands unavailable, and a refused sbatch a refused job', async () => {
    const { b } = backend(
      () => ({ exitCode: 127, stderr: "gridpkg: squeue is not on the login node's PATH\n" }),
      { multiplex: false },
    );
    await expect(b.status([handle('j1', 1)])).rejects.toThrow(/could not run/);
    const { b: refused, calls } = backend(
      (call) =>
        slurmCommandOf(call) === 'sbatch'
          ? { exitCode: 1, stderr: 'sbatch: error: invalid partition specified: grid\n' }
          : {},
      { multiplex: false },
    );
    await expect(
      refused.submit({ jobId: 'j5', site: 's', scriptPath: script, request: '', timeoutSeconds: 60 }),
    ).rejects.toThrow(/sbatch refused job j5: sbatch: error: invalid partition/);
    // The job directory it made is removed again.
    expect(calls.at(-1)?.args.at(-1)).toBe(`/bin/sh -s -- '${ROOT}' 'j5'`);
  });
});

describe('slurm over ssh: the remote scripts under a local sh', () => {
  it('runs the named Slurm command with SLURM_CONF and its arguments as data, never evaluated', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(
      join(bin, 'squeue'),
      '#!/bin/sh\nprintf "conf=%s\\n" "$SLURM_CONF"\nfor a; do printf "arg=%s\\n" "$a"; done\nexit 3\n',
    );
    await chmod(join(bin, 'squeue'), 0o755);
    // Only the stand-in squeue on the PATH (this machine may have the real Slurm commands).
    const run = (args: string[]) =>
      execa('/bin/sh', ['-s', '--', ...args], {
        input: SLURM_COMMAND,
        reject: false,
        cwd: dir,
        env: { PATH: bin },
        extendEnv: false,
      });
    const result = await run(['/etc/slurm/slurm.conf', 'squeue', '-o', '%i %T', '$(touch pwned)']);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('conf=/etc/slurm/slurm.conf\narg=-o\narg=%i %T\narg=$(touch pwned)');
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    const refused = await run(['', 'rm', '-rf', dir]);
    expect(refused.exitCode).toBe(2);
    expect(existsSync(dir)).toBe(true);
    const missing = await run(['', 'sbatch', 'x']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/^gridpkg: sbatch is not on the login node's PATH/);
  });

  it('reads files capped at the limit, missing ones as -, and the answer parses back', async () => {
    await writeFile(join(dir, 'a'), 'hello\n');
    await writeFile(join(dir, 'big'), 'x'.repeat(100));
    await writeFile(join(dir, 'empty'), '');
    const paths = ['a', 'missing', 'big', 'empty'].map((n) => join(dir, n));
    const result = await execa('sh', ['-s', '--', '10', ...paths], {
      input: READ_FILES,
      encoding: 'buffer',
      stripFinalNewline: false,
    });
    const answer = Buffer.from(result.stdout);
    expect(parseReadFiles(answer, 4)).toEqual(['hello\n', undefined, 'x'.repeat(10), '']);
    expect(() => parseReadFiles(answer.subarray(0, 12), 4)).toThrow(/truncated/);
    expect(() => parseReadFiles(Buffer.from('abc\n'), 1)).toThrow(/bad header/);
    expect(() => parseReadFiles(Buffer.from('-\n-\n'), 1)).toThrow(/unexpected data/);
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('hello\n');
  });
});

describe('slurm over ssh in the spec', () => {
  it('keeps the login-node paths as written and resolves the local key files against the spec directory', () => {
    const [site] = parseSpecText(
      'apiVersion: gridpkg/v1\nsites:\n  CE-1:\n    softwareArea: /data/sw/pvier\n    backend:\n' +
        '      type: slurm\n      partition: grid\n      jobsRoot: /shared/gridpkg/jobs\n' +
        '      slurmConf: /etc/slurm/slurm.conf\n' +
        '      loginNode: { host: login01.example.org, user: pvisgm, identityFile: keys/id, knownHostsFile: ~/.ssh/kh }\n',
      '/specs/desired-state.yaml',
    );
    expect(site?.softwareArea).toBe('/data/sw/pvier');
    expect(site?.backend).toEqual({
      type: 'slurm',
      partition: 'grid',
      jobsRoot: '/shared/gridpkg/jobs',
      slurmConf: '/etc/slurm/slurm.conf',
      loginNode: {
        host: 'login01.example.org',
        user: 'pvisgm',
        identityFile: '/specs/keys/id',
        knownHostsFile: '~/.ssh/kh',
      },
    });
    const b = createBackend(site?.backend ?? { type: 'slurm' }, { jobsRoot: '/state/jobs' });
    expect(b).toBeInstanceOf(SlurmBackend);
    expect((b as SlurmBackend).jobsRoot).toBe('/shared/gridpkg/jobs');
    // Two clusters with the same paths behind different login nodes never share a status call.
    const { loginNode: _loginNode, ...here } = site?.backend as SlurmBackendConfig;
    const local = createBackend(here, { jobsRoot: '/state/jobs' });
    expect(b.statusGroup).toContain('pvisgm@login01.example.org');
    expect(b.statusGroup).not.toBe(local.statusGroup);
  });

  it('refuses a login node without jobsRoot when built directly (the schema says so in a spec)', () => {
    expect(() =>
      createBackend({ type: 'slurm', loginNode: { host: 'login01' } }, { jobsRoot: '/state' }),
    ).toThrow(/jobsRoot/);
  });
});
