/**
 * ssh backend: each job is a directory on the remote host (under `workDir`, default `~/.gridpkg/jobs`) holding the
 * same files as the local backend's, run detached by a constant runner in its own session, so it survives a
 * dropped connection and the controller's exit. All calls of one backend object share one multiplexed connection.
 *
 * Nothing user-supplied is ever spliced into a remote command: every remote command is `/bin/sh -s -- ARGS` with
 * a constant script on stdin (./ssh/remote-scripts.ts) and ARGS validated (job ids by the protocol's job-id
 * charset, directories by a strict path charset) and single-quoted. Data travels as files over sftp: the job
 * script, the request, the runner, `env` (KEY=VALUE lines that the runner exports without evaluating), `shell`
 * (the words of the command that runs the job script) and `timeout`.
 */

import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { SshBackendConfig } from '../spec/types.js';
import type { GridBackend, JobHandle, JobOutput, JobState, JobSubmission } from './backend.js';
import { MAX_OUTPUT_BYTES } from './job-files.js';
import { isJobId } from './protocol/tokens.js';
import {
  isEnvName,
  isEnvValue,
  isHost,
  isLocalOptionPath,
  isShellWord,
  isUserName,
  normalizeRemoteDir,
  shellQuote,
} from './ssh/quote.js';
import { CANCEL, CLEAN, FETCH, FIND, RUNNER, START, STATUS } from './ssh/remote-scripts.js';

/** The ssh backend's settings as the spec gives them (`backend: { type: ssh, ... }`). */

export type { SshBackendConfig };

export interface SshExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs ssh or sftp with an argv array (never a local shell). Injectable for tests. */
export type SshExec = (
  command: 'ssh' | 'sftp',
  args: readonly string[],
  options: { input?: string; timeoutMs: number; stderrFile?: string },
) => Promise<SshExecResult>;

export interface SshBackendOptions extends Omit<SshBackendConfig, 'type'> {
  exec?: SshExec;
  /** Keep one master connection per backend object (default true). */
  multiplex?: boolean;
  /** Longest wait for one ssh or sftp call (default: connect timeout + 120 s). */
  commandTimeoutMs?: number;
}

/** ssh could not reach the host or lost the connection (exit 255, timeout): transient, never a job failure. */
export class SshConnectionError extends Error {
  override name = 'SshConnectionError';
}

/** The remote side answered, but not as expected. */
export class SshRemoteError extends Error {
  override name = 'SshRemoteError';
}

/** A job that has not written its pid this long after it was started never started. */
const START_GRACE_SECONDS = 60;
const CONTROL_PERSIST_SECONDS = 60;

export const defaultSshExec: SshExec = async (command, args, options) => {
  const result = await execa(command, [...args], {
    input: options.input ?? '',
    reject: false,
    encoding: 'buffer',
    timeout: options.timeoutMs,
    stripFinalNewline: false,
    ...(options.stderrFile ? { stderr: { file: options.stderrFile }, stdout: 'ignore' } : {}),
  });
  if (result.timedOut) {
    throw new SshConnectionError(`${command} timed out after ${options.timeoutMs} ms`);
  }
  if (result.exitCode === undefined) {
    throw new SshConnectionError(`${command} could not run: ${result.shortMessage}`);
  }
  const text = (value: unknown): Buffer =>
    value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(typeof value === 'string' ? value : '');
  return {
    exitCode: result.exitCode,
    stdout: text(result.stdout),
    stderr: text(result.stderr).toString('utf8'),
  };
};

export class SshBackend implements GridBackend {
  readonly kind = 'ssh';
  readonly workDir: string;
  private readonly shell: string[];
  private readonly environment: [string, string][];
  private readonly exec: SshExec;
  private readonly connectTimeout: number;
  private readonly commandTimeoutMs: number;
  private controlDir: string | undefined;
  private master: Promise<void> | undefined;
  /** Every ssh and sftp invocation so far (tests count them). */
  invocations = 0;

  constructor(private readonly options: SshBackendOptions) {
    if (!isHost(options.host)) throw new Error(`ssh backend: bad host ${JSON.stringify(options.host)}`);
    if (options.user !== undefined && !isUserName(options.user))
      throw new Error(`ssh backend: bad user ${JSON.stringify(options.user)}`);
    if (
      options.port !== undefined &&
      !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)
    )
      throw new Error(`ssh backend: bad port ${options.port}`);
    for (const [name, path] of [
      ['identityFile', options.identityFile],
      ['knownHostsFile', options.knownHostsFile],
    ] as const) {
      if (path !== undefined && !isLocalOptionPath(path))
        throw new Error(
          `ssh backend: ${name} ${JSON.stringify(path)} may not contain white space, quotes or %`,
        );
    }
    this.workDir = normalizeRemoteDir(options.workDir ?? '~/.gridpkg/jobs');
    this.shell = options.shell ?? ['/bin/sh'];
    if (this.shell.length === 0 || !this.shell.every(isShellWord) || this.shell[0]?.startsWith('-'))
      throw new Error(
        `ssh backend: bad shell ${JSON.stringify(this.shell)} (words of A-Z a-z 0-9 . _ / + , : = @ % -)`,
      );
    this.environment = Object.entries(options.environment ?? {});
    for (const [name, value] of this.environment) {
      if (!isEnvName(name))
        throw new Error(`ssh backend: bad environment variable name ${JSON.stringify(name)}`);
      if (!isEnvValue(value))
        throw new Error(
          `ssh backend: environment variable ${name}: value ${JSON.stringify(value)} has characters outside ` +
            'A-Z a-z 0-9 . _ / + , : = @ % -',
        );
    }
    this.exec = options.exec ?? defaultSshExec;
    this.connectTimeout = options.connectTimeoutSeconds ?? 10;
    this.commandTimeoutMs = options.commandTimeoutMs ?? this.connectTimeout * 1000 + 120_000;
  }

  // ----- argv -------------------------------------------------------------------------------------------------

  /** Options shared by ssh and sftp (both take -o and -i). */
  commonOptions(controlPath: string | undefined): string[] {
    const o = this.options;
    const args = [
      '-o',
      'BatchMode=yes',
      '-o',
      `ConnectTimeout=${this.connectTimeout}`,
      '-o',
      `StrictHostKeyChecking=${o.insecureAcceptNewHostKeys ? 'accept-new' : 'yes'}`,
      '-o',
      'GSSAPIAuthentication=no',
      '-o',
      'ServerAliveInterval=10',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      'LogLevel=ERROR',
    ];
    if (o.port !== undefined) args.push('-o', `Port=${o.port}`);
    if (o.user !== undefined) args.push('-o', `User=${o.user}`);
    if (o.identityFile !== undefined) args.push('-i', o.identityFile, '-o', 'IdentitiesOnly=yes');
    if (o.knownHostsFile !== undefined) args.push('-o', `UserKnownHostsFile=${o.knownHostsFile}`);
    if (controlPath !== undefined) args.push('-o', 'ControlMaster=no', '-o', `ControlPath=${controlPath}`);
    return args;
  }

  /** argv of `ssh` running one constant script with validated arguments. */
  sshArgs(controlPath: string | undefined, scriptArgs: readonly string[]): string[] {
    return [...this.commonOptions(controlPath), '--', this.options.host, remoteCommand(scriptArgs)];
  }

  // ----- connection -------------------------------------------------------------------------------------------

  private async controlPath(): Promise<string | undefined> {
    if (this.options.multiplex === false) return undefined;
    if (!this.controlDir) {
      const dir = await mkdtemp(join(tmpdir(), 'gridpkg-ssh-'));
      if (!isLocalOptionPath(dir)) throw new Error(`ssh backend: unusable temporary directory ${dir}`);
      this.controlDir = dir;
    }
    const path = join(this.controlDir, 'cm');
    // The master goes away after ControlPersist idle seconds, or when the connection dies: start a new one.
    if (this.master && !existsSync(path)) this.master = undefined;
    this.master ??= this.startMaster(path).catch((error: unknown) => {
      this.master = undefined;
      throw error;
    });
    await this.master;
    return path;
  }

  /**
   * The master runs in the background (-f) with its stderr in a file: a master started implicitly by a client
   * call (ControlMaster=auto) would keep that call's stderr pipe open for ControlPersist seconds.
   */
  private async startMaster(path: string): Promise<void> {
    const dir = this.controlDir ?? '';
    const args = [
      ...this.commonOptions(undefined),
      '-o',
      'ControlMaster=yes',
      '-o',
      `ControlPath=${path}`,
      '-o',
      `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
      '-f',
      '-N',
      '--',
      this.options.host,
    ];
    this.invocations++;
    const stderrFile = join(dir, 'master.err');
    const result = await this.exec('ssh', args, {
      timeoutMs: this.connectTimeout * 1000 + 15_000,
      stderrFile,
    });
    if (result.exitCode !== 0) {
      const message = (await readFile(stderrFile, 'utf8').catch(() => '')).trim() || result.stderr.trim();
      throw new SshConnectionError(
        `ssh ${this.destination()}: cannot connect: ${message || `exit ${result.exitCode}`}`,
      );
    }
  }

  private destination(): string {
    const o = this.options;
    return `${o.user ? `${o.user}@` : ''}${o.host}${o.port ? `:${o.port}` : ''}`;
  }

  /** Runs one constant script remotely. Exit 255 (ssh's own failure) is a connection error. */
  private async run(script: string, args: readonly string[]): Promise<SshExecResult> {
    const controlPath = await this.controlPath();
    this.invocations++;
    const result = await this.exec('ssh', this.sshArgs(controlPath, args), {
      input: script,
      timeoutMs: this.commandTimeoutMs,
    });
    if (result.exitCode === 255) {
      this.master = undefined;
      throw new SshConnectionError(
        `ssh ${this.destination()}: ${result.stderr.trim() || 'connection failed'}`,
      );
    }
    return result;
  }

  /** Closes the shared connection and removes the private control directory. */
  async close(): Promise<void> {
    const dir = this.controlDir;
    if (!dir) return;
    const path = join(dir, 'cm');
    if (existsSync(path)) {
      await this.exec('ssh', [...this.commonOptions(path), '-O', 'exit', '--', this.options.host], {
        timeoutMs: 10_000,
      }).catch(() => undefined);
    }
    this.master = undefined;
    this.controlDir = undefined;
    await rm(dir, { recursive: true, force: true });
  }

  // ----- jobs -------------------------------------------------------------------------------------------------

  private jobDir(jobId: string): string {
    if (!isJobId(jobId)) throw new Error(`ssh backend: bad job id ${JSON.stringify(jobId)}`);
    return `${this.workDir}/${jobId}`;
  }

  /** The job directory of a handle, which must be WORKDIR/JOBID of this backend: nothing else is touched. */
  private handleDir(job: JobHandle): string {
    const dir = this.jobDir(job.jobId);
    if (job.backendId !== dir)
      throw new Error(
        `ssh backend: job ${job.jobId} lives in ${JSON.stringify(job.backendId)}, not under this backend's ` +
          `work directory ${this.workDir}; refusing to touch it`,
      );
    return dir;
  }

  async submit(job: JobSubmission): Promise<JobHandle> {
    const dir = this.jobDir(job.jobId);
    if (!Number.isInteger(job.timeoutSeconds) || job.timeoutSeconds < 0)
      throw new Error(`ssh backend: bad timeout ${job.timeoutSeconds}`);
    await this.controlPath();
    const staging = await mkdtemp(join(this.controlDir ?? tmpdir(), 'stage-'));
    try {
      if (!isLocalOptionPath(staging)) throw new Error(`ssh backend: unusable staging directory ${staging}`);
      const files: [string, string][] = [
        ['request.txt', job.request],
        ['runner.sh', RUNNER],
        ['env', this.environment.map(([k, v]) => `${k}=${v}\n`).join('')],
        ['shell', this.shell.map((word) => `${word}\n`).join('')],
        ['timeout', `${job.timeoutSeconds}\n`],
      ];
      await copyFile(job.scriptPath, join(staging, 'site-job.sh'));
      for (const [name, text] of files) await writeFile(join(staging, name), text, { mode: 0o644 });
      const batch = [
        ...parents(this.workDir).map((p) => `-mkdir ${p}`),
        `mkdir ${dir}`, // fails if the job exists: a job id is submitted once
        ...['site-job.sh', ...files.map(([name]) => name)].map(
          (name) => `put ${staging}/${name} ${dir}/${name}`,
        ),
        '',
      ].join('\n');
      await this.sftp(batch);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    const started = await this.run(START, [dir]);
    if (started.exitCode !== 0 || !/^started \d+/.test(started.stdout.toString('utf8')))
      throw new SshRemoteError(
        `ssh ${this.destination()}: job ${job.jobId} did not start: ${started.stderr.trim() || `exit ${started.exitCode}`}`,
      );
    return { jobId: job.jobId, site: job.site, backendId: dir };
  }

  private async sftp(batch: string): Promise<void> {
    const controlPath = await this.controlPath();
    this.invocations++;
    const result = await this.exec(
      'sftp',
      ['-q', '-b', '-', ...this.commonOptions(controlPath), '--', this.options.host],
      { input: batch, timeoutMs: this.commandTimeoutMs },
    );
    if (result.exitCode === 255 && /connect|connection|timed out|host key/i.test(result.stderr)) {
      this.master = undefined;
      throw new SshConnectionError(`sftp ${this.destination()}: ${result.stderr.trim()}`);
    }
    if (result.exitCode !== 0)
      throw new SshRemoteError(
        `sftp ${this.destination()}: upload failed: ${result.stderr.trim() || result.exitCode}`,
      );
  }

  async find(site: string, jobId: string): Promise<JobHandle | undefined> {
    const dir = this.jobDir(jobId);
    const result = await this.run(FIND, [this.workDir, jobId]);
    const answer = result.stdout.toString('utf8').trim();
    if (result.exitCode !== 0 || (answer !== 'found' && answer !== 'missing'))
      throw new SshRemoteError(`ssh ${this.destination()}: find ${jobId}: unexpected answer`);
    return answer === 'found' ? { jobId, site, backendId: dir } : undefined;
  }

  /** One ssh call for all jobs. A failed call throws (transient); it never reports a job as failed. */
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    if (jobs.length === 0) return new Map();
    for (const job of jobs) this.handleDir(job);
    const ids = [...new Set(jobs.map((job) => job.jobId))];
    const result = await this.run(STATUS, [this.workDir, ...ids]);
    if (result.exitCode !== 0)
      throw new SshRemoteError(
        `ssh ${this.destination()}: status script exited ${result.exitCode}: ${result.stderr.trim()}`,
      );
    return parseStatus(result.stdout.toString('utf8'), ids, this.workDir);
  }

  async fetch(job: JobHandle): Promise<JobOutput> {
    const dir = this.handleDir(job);
    const result = await this.run(FETCH, [dir, String(MAX_OUTPUT_BYTES)]);
    if (result.exitCode === 4) return { report: undefined, stdout: '', stderr: '' };
    if (result.exitCode !== 0)
      throw new SshRemoteError(`ssh ${this.destination()}: fetch ${job.jobId} exited ${result.exitCode}`);
    const files = parseFetch(result.stdout);
    return {
      report: files.get('report.txt'),
      stdout: files.get('stdout.txt') ?? '',
      stderr: files.get('stderr.txt') ?? '',
    };
  }

  async cancel(job: JobHandle): Promise<void> {
    const result = await this.run(CANCEL, [this.handleDir(job)]);
    if (result.exitCode !== 0)
      throw new SshRemoteError(`ssh ${this.destination()}: cancel ${job.jobId} exited ${result.exitCode}`);
  }

  async clean(job: JobHandle): Promise<void> {
    this.handleDir(job);
    const result = await this.run(CLEAN, [this.workDir, job.jobId]);
    if (result.exitCode !== 0)
      throw new SshRemoteError(`ssh ${this.destination()}: clean ${job.jobId} exited ${result.exitCode}`);
  }
}

/** The one remote command string: a constant shell reading a constant script on stdin, with quoted arguments. */
export function remoteCommand(args: readonly string[]): string {
  return ['/bin/sh', '-s', '--', ...args.map(shellQuote)].join(' ');
}

/** `a/b/c` → [`a`, `a/b`, `a/b/c`]; `/x/y` → [`/x`, `/x/y`]. */
function parents(dir: string): string[] {
  const absolute = dir.startsWith('/');
  const parts = (absolute ? dir.slice(1) : dir).split('/');
  return parts.map((_, i) => `${absolute ? '/' : ''}${parts.slice(0, i + 1).join('/')}`);
}

/** Reads the STATUS script's answer. Anything incomplete or malformed throws: a status is never guessed. */
export function parseStatus(text: string, ids: readonly string[], workDir: string): Map<string, JobState> {
  const lines = text.split('\n');
  if (lines[0] !== 'gridpkg-status 1' || !lines.includes('end'))
    throw new SshRemoteError('ssh status: incomplete answer from the remote host');
  const states = new Map<string, JobState>();
  for (const line of lines.slice(1, lines.indexOf('end'))) {
    const [id, word, arg = ''] = line.split(' ');
    if (id === undefined || !ids.includes(id)) continue;
    const state = statusLine(word ?? '', arg, `${workDir}/${id}`);
    if (!state) throw new SshRemoteError(`ssh status: cannot read ${JSON.stringify(line)}`);
    states.set(id, state);
  }
  const missing = ids.filter((id) => !states.has(id));
  if (missing.length > 0) throw new SshRemoteError(`ssh status: no answer for ${missing.join(', ')}`);
  return states;
}

function statusLine(word: string, arg: string, dir: string): JobState | undefined {
  switch (word) {
    case 'missing':
      return { state: 'lost', reason: `job directory ${dir} is gone`, raw: 'missing' };
    case 'unstarted':
      return { state: 'lost', reason: 'the job was uploaded but never started', raw: 'unstarted' };
    case 'exit': {
      const exitCode = /^\d+$/.test(arg) ? Number(arg) : -1;
      return { state: 'done', exitCode, raw: `exit ${arg}` };
    }
    case 'ended':
      return { state: 'failed', reason: arg || 'killed', raw: 'killed' };
    case 'starting': {
      const age = Number(arg);
      if (!/^-?\d+$/.test(arg)) return undefined;
      return age > START_GRACE_SECONDS
        ? { state: 'lost', reason: 'the job process never started', raw: 'not-started' }
        : { state: 'queued', raw: 'starting' };
    }
    case 'running':
      return /^\d+$/.test(arg) ? { state: 'running', raw: `pid ${arg}` } : undefined;
    case 'vanished':
      return {
        state: 'lost',
        reason: `job process ${arg} ended without recording an exit status (killed?)`,
        raw: 'vanished',
      };
    default:
      return undefined;
  }
}

/** Reads the FETCH script's answer: `NAME SIZE\n` + SIZE bytes, or `NAME -\n`, for each file. */
export function parseFetch(data: Buffer): Map<string, string | undefined> {
  const files = new Map<string, string | undefined>();
  let at = 0;
  while (at < data.length) {
    const eol = data.indexOf(0x0a, at);
    if (eol < 0) throw new SshRemoteError('ssh fetch: truncated answer');
    const header = data.subarray(at, eol).toString('utf8');
    const match = /^(report\.txt|stdout\.txt|stderr\.txt) (-|\d+)$/.exec(header);
    if (!match?.[1] || !match[2]) throw new SshRemoteError(`ssh fetch: bad header ${JSON.stringify(header)}`);
    at = eol + 1;
    if (match[2] === '-') {
      files.set(match[1], undefined);
      continue;
    }
    const size = Number(match[2]);
    if (at + size > data.length) throw new SshRemoteError('ssh fetch: truncated answer');
    files.set(match[1], data.subarray(at, at + size).toString('utf8'));
    at += size;
  }
  return files;
}
