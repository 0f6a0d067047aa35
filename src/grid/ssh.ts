/**
 * ssh backend: each job is a directory on the remote host (under `workDir`, default `~/.gridpkg/jobs`) holding the
 * same files as the local backend's, run detached by a constant runner in its own session, so it survives a
 * dropped connection and the controller's exit. All calls of one backend object share one multiplexed connection
 * (./ssh/connection.ts, shared with the Slurm backend's login node).
 *
 * Nothing user-supplied is ever spliced into a remote command: every remote command is `/bin/sh -s -- ARGS` with
 * a constant script on stdin (./ssh/remote-scripts.ts) and ARGS validated (job ids by the protocol's job-id
 * charset, directories by a strict path charset) and single-quoted. Data travels as files over sftp: the job
 * script, the request, the runner, `env` (KEY=VALUE lines that the runner exports without evaluating), `shell`
 * (the words of the command that runs the job script) and `timeout`.
 */

import type { SshBackendConfig } from '../spec/types.js';
import { type CappedText, cappedText } from '../state/read-capped.js';
import type { GridBackend, JobHandle, JobOutput, JobState, JobSubmission } from './backend.js';
import { jobOutput, MAX_OUTPUT_BYTES } from './job-files.js';
import { checkedEnvironment, checkedShell, envFileText, shellFileText } from './job-settings.js';
import { isJobId } from './protocol/tokens.js';
import {
  SshConnection,
  type SshConnectionOptions,
  type SshExecResult,
  SshRemoteError,
} from './ssh/connection.js';
import { normalizeRemoteDir } from './ssh/quote.js';
import { removeDirectory, type UploadFile, uploadNewDirectory } from './ssh/remote-files.js';
import { CANCEL, FETCH, FIND, RUNNER, START, STATUS } from './ssh/remote-scripts.js';

/** The ssh backend's settings as the spec gives them (`backend: { type: ssh, ... }`). */

export {
  defaultSshExec,
  remoteCommand,
  SshConnectionError,
  type SshExec,
  type SshExecResult,
  SshRemoteError,
} from './ssh/connection.js';
export type { SshBackendConfig };

export interface SshBackendOptions
  extends Omit<SshBackendConfig, 'type'>,
    Pick<SshConnectionOptions, 'exec' | 'multiplex' | 'commandTimeoutMs'> {}

/** A job that has not written its pid this long after it was started never started. */
const START_GRACE_SECONDS = 60;

export class SshBackend implements GridBackend {
  readonly kind = 'ssh';
  readonly workDir: string;
  private readonly shell: string[];
  private readonly environment: [string, string][];
  private readonly connection: SshConnection;

  constructor(options: SshBackendOptions) {
    this.connection = new SshConnection(options, 'ssh backend');
    this.workDir = normalizeRemoteDir(options.workDir ?? '~/.gridpkg/jobs');
    this.shell = checkedShell('ssh', options.shell);
    this.environment = checkedEnvironment('ssh', options.environment);
  }

  /** Every ssh and sftp invocation so far (tests count them). */
  get invocations(): number {
    return this.connection.invocations;
  }

  /** Options shared by ssh and sftp (see SshConnection). */
  commonOptions(controlPath: string | undefined): string[] {
    return this.connection.commonOptions(controlPath);
  }

  /** argv of `ssh` running one constant script with validated arguments. */
  sshArgs(controlPath: string | undefined, scriptArgs: readonly string[]): string[] {
    return this.connection.sshArgs(controlPath, scriptArgs);
  }

  private destination(): string {
    return this.connection.destination();
  }

  private run(script: string, args: readonly string[]): Promise<SshExecResult> {
    return this.connection.run(script, args);
  }

  /** Closes the shared connection. */
  close(): Promise<void> {
    return this.connection.close();
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
    const files: UploadFile[] = [
      { name: 'site-job.sh', copyOf: job.scriptPath },
      { name: 'request.txt', text: job.request },
      { name: 'runner.sh', text: RUNNER },
      { name: 'env', text: envFileText(this.environment) },
      { name: 'shell', text: shellFileText(this.shell) },
      { name: 'timeout', text: `${job.timeoutSeconds}\n` },
    ];
    await uploadNewDirectory(this.connection, this.workDir, job.jobId, files);
    const started = await this.run(START, [dir]);
    if (started.exitCode !== 0 || !/^started \d+/.test(started.stdout.toString('utf8')))
      throw new SshRemoteError(
        `ssh ${this.destination()}: job ${job.jobId} did not start: ${started.stderr.trim() || `exit ${started.exitCode}`}`,
      );
    return { jobId: job.jobId, site: job.site, backendId: dir };
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
    // One byte more than the cap tells a file that was cut from one that is exactly the cap.
    const result = await this.run(FETCH, [dir, String(MAX_OUTPUT_BYTES + 1)]);
    if (result.exitCode === 4) return { report: undefined, stdout: '', stderr: '' };
    if (result.exitCode !== 0)
      throw new SshRemoteError(`ssh ${this.destination()}: fetch ${job.jobId} exited ${result.exitCode}`);
    const files = parseFetch(result.stdout, MAX_OUTPUT_BYTES);
    return jobOutput({
      report: files.get('report.txt'),
      stdout: files.get('stdout.txt'),
      stderr: files.get('stderr.txt'),
    });
  }

  async cancel(job: JobHandle): Promise<void> {
    const result = await this.run(CANCEL, [this.handleDir(job)]);
    if (result.exitCode !== 0)
      throw new SshRemoteError(`ssh ${this.destination()}: cancel ${job.jobId} exited ${result.exitCode}`);
  }

  async clean(job: JobHandle): Promise<void> {
    this.handleDir(job);
    await removeDirectory(this.connection, this.workDir, job.jobId);
  }
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

/**
 * Reads the FETCH script's answer: `NAME SIZE\n` + SIZE bytes, or `NAME -\n`, for each file. FETCH was asked for
 * `maxBytes + 1` bytes, so a file that sent more than `maxBytes` is known to be cut (`truncated`).
 */
export function parseFetch(data: Buffer, maxBytes: number): Map<string, CappedText | undefined> {
  const files = new Map<string, CappedText | undefined>();
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
    files.set(match[1], cappedText(data.subarray(at, at + size), maxBytes));
    at += size;
  }
  return files;
}
