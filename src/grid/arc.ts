/**
 * NorduGrid ARC backend: jobs go to an ARC CE through the ARC client (arcsub / arcstat / arcget / arckill /
 * arcclean) over the CE's REST interface (`-T arcrest`). Each job is a local directory under `jobsRoot` holding the
 * job's input files and an xRSL description (./arc/xrsl.ts); arcsub uploads them, the CE runs the constant runner
 * (./batch-runner.ts) on a worker node, and arcget brings report.txt, exit-status, stdout.txt and stderr.txt back.
 *
 *   arcsub   -j JOBLIST -C CE -T arcrest [-z CONF] job.xrsl          (in the job directory)
 *   arcstat  -J -l -j JOBLIST [-z CONF] URL URL ...                  (ONE call for all jobs of the CE per poll)
 *   arcget   -k -j JOBLIST -D DIR/out [-z CONF] URL                   (keeps the job: fetching twice is harmless)
 *   arckill  -k -j JOBLIST [-z CONF] URL                              (the CE then reports the job Killed)
 *   arcclean -j JOBLIST [-z CONF] URL
 *
 * The handle's backendId is the ARC job URL, which the ledger keeps. The ARC client only knows jobs that are in its
 * job list, so all jobs of one CE share one job list file (JOBSROOT/arc-HOST-PORT-HASH.jobs.dat), and the client
 * commands on one job list run one at a time in this process (the list is an SQLite file that arcsub, arcstat and
 * arcget all write). arcstat exits 0 even when the CE is down: a poll in which the CE returned information on none
 * of the jobs throws ArcUnavailableError (transient), never a job failure. Every command is an argv array, never a
 * shell; the X.509 proxy is the ARC client's usual one (X509_USER_PROXY) and is checked before every submission.
 */

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { RetryableError, TerminalError } from '../model/errors.js';
import type { ArcBackendConfig } from '../spec/types.js';
import { writeFileAtomic } from '../state/atomic.js';
import {
  isJobOfCe,
  jobsNotInJobList,
  mapArcState,
  parseArcstatJson,
  parseSubmittedJobId,
} from './arc/states.js';
import { buildXrsl } from './arc/xrsl.js';
import type { GridBackend, JobHandle, JobOutput, JobState, JobSubmission } from './backend.js';
import { RUNNER } from './batch-runner.js';
import { createJobDirectory, isSafeJobPath, jobInfoText, readJobFile, readJobOutputs } from './job-files.js';
import { badSetting, checkedEnvironment, checkedShell, envFileText, shellFileText } from './job-settings.js';
import { isJobId } from './protocol/tokens.js';
import { type CommandResult, runCommand } from './run-command.js';
import { timeLimit } from './slurm/states.js';

export { ArcOutputError } from './arc/states.js';
export type { ArcBackendConfig };

export type ArcCommand = 'arcsub' | 'arcstat' | 'arcget' | 'arckill' | 'arcclean';

export type ArcExecResult = CommandResult;

/** Runs one ARC client command with an argv array (never a shell). Injectable for tests. */
export type ArcExec = (
  command: ArcCommand,
  args: readonly string[],
  options: { cwd?: string; timeoutMs: number },
) => Promise<ArcExecResult>;

export interface ArcBackendOptions extends Omit<ArcBackendConfig, 'type' | 'jobsRoot'> {
  /** Absolute local directory for the job directories and the job list. */
  jobsRoot: string;
  exec?: ArcExec;
  /** Longest wait for one ARC client command (default 120 s). */
  commandTimeoutMs?: number;
}

/** The CE could not be reached, or a command timed out or could not run: transient, never a job failure. */
export class ArcUnavailableError extends RetryableError {
  override name = 'ArcUnavailableError';
}

/** The CE or the client refused a request (a bad description, no proxy, authorisation). */
export class ArcCommandError extends TerminalError {
  override name = 'ArcCommandError';
}

/** The CE endpoint: https, a host name, an optional port, an optional path of URL-safe characters. */
const CE_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;
/** xRSL queue names. */
const QUEUE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** What the ARC client prints when it could not talk to the CE at all. */
const UNREACHABLE =
  /failed to establish connection|connection refused|timed out|timeout|no resource returned any information|could not run|failed to connect/i;

export const defaultArcExec: ArcExec = (command, args, options) =>
  runCommand(command, args, options, (message) => new ArcUnavailableError(message));

/** ARC client commands on one job list run one at a time in this process (keyed by the job list's path). */
const jobListQueues = new Map<string, Promise<unknown>>();

function onJobList<T>(jobList: string, task: () => Promise<T>): Promise<T> {
  const previous = jobListQueues.get(jobList) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => undefined);
  jobListQueues.set(jobList, settled);
  void settled.then(() => {
    if (jobListQueues.get(jobList) === settled) jobListQueues.delete(jobList);
  });
  return next;
}

export class ArcBackend implements GridBackend {
  readonly kind = 'arc';
  readonly needsX509Proxy = true;
  readonly statusGroup: string;
  readonly jobsRoot: string;
  /** The ARC client's job list for this CE, shared by every site behind it. */
  readonly jobList: string;
  private readonly ce: string;
  private readonly shell: string[];
  private readonly environment: [string, string][];
  private readonly exec: ArcExec;
  private readonly commandTimeoutMs: number;
  /** Every ARC command run so far, as [command, ...args] (tests count and inspect them). */
  readonly calls: string[][] = [];

  constructor(private readonly options: ArcBackendOptions) {
    const bad = (what: string, value: unknown, rule: string) => badSetting('arc', what, value, rule);
    if (!CE_URL.test(options.ce) || options.ce.split('/').includes('..'))
      throw bad('ce', options.ce, 'an https URL such as https://ce.example.org:443/arex');
    this.ce = options.ce.replace(/\/+$/, '');
    if (options.queue !== undefined && !QUEUE.test(options.queue))
      throw bad('queue', options.queue, 'A-Z a-z 0-9 _ . -, at most 64');
    if (
      options.memoryMB !== undefined &&
      !(Number.isInteger(options.memoryMB) && options.memoryMB >= 1 && options.memoryMB <= 16_777_216)
    )
      throw bad('memoryMB', options.memoryMB, 'an integer number of megabytes');
    for (const key of ['jobsRoot', 'clientConfig'] as const) {
      const value = options[key];
      if (value !== undefined && !isSafeJobPath(value))
        throw bad(key, value, 'an absolute path of A-Z a-z 0-9 . _ - / + , without ".."');
    }
    this.shell = checkedShell('arc', options.shell);
    this.environment = checkedEnvironment('arc', options.environment);
    this.jobsRoot = normalize(options.jobsRoot).replace(/(.)\/$/, '$1');
    this.jobList = join(this.jobsRoot, jobListName(this.ce));
    this.exec = options.exec ?? defaultArcExec;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 120_000;
    this.statusGroup = ['arc', this.ce, this.jobList, options.clientConfig ?? ''].join('\n');
  }

  // ----- argv -------------------------------------------------------------------------------------------------

  /** Options every command shares: the job list and the client configuration. */
  private common(): string[] {
    const args = ['-j', this.jobList];
    if (this.options.clientConfig !== undefined) args.push('-z', this.options.clientConfig);
    return args;
  }

  arcsubArgs(): string[] {
    return [...this.common(), '-C', this.ce, '-T', 'arcrest', 'job.xrsl'];
  }

  arcstatArgs(ids: readonly string[]): string[] {
    return ['-J', '-l', ...this.common(), ...ids];
  }

  private run(command: ArcCommand, args: string[], cwd?: string): Promise<ArcExecResult> {
    return onJobList(this.jobList, () => {
      this.calls.push([command, ...args]);
      return this.exec(command, args, { timeoutMs: this.commandTimeoutMs, ...(cwd ? { cwd } : {}) });
    });
  }

  // ----- handles ----------------------------------------------------------------------------------------------

  private jobDir(jobId: string): string {
    if (!isJobId(jobId) || jobId === '.' || jobId === '..' || jobId.startsWith('-'))
      throw new Error(`arc backend: bad job id ${JSON.stringify(jobId)}`);
    return join(this.jobsRoot, jobId);
  }

  /** The job URL and directory of a handle; the URL must be a job of this CE: nothing else is touched. */
  private parseHandle(job: JobHandle): { url: string; dir: string } {
    const dir = this.jobDir(job.jobId);
    if (!isJobOfCe(job.backendId, this.ce))
      throw new Error(
        `arc backend: job ${job.jobId} has backend id ${JSON.stringify(job.backendId)}, not a job URL of ` +
          `${this.ce}; refusing to touch it`,
      );
    return { url: job.backendId, dir };
  }

  // ----- jobs -------------------------------------------------------------------------------------------------

  async submit(job: JobSubmission): Promise<JobHandle> {
    const dir = this.jobDir(job.jobId);
    if (!Number.isInteger(job.timeoutSeconds) || job.timeoutSeconds < 0)
      throw new Error(`arc backend: bad timeout ${job.timeoutSeconds}`);
    const wallTime = timeLimit(job.timeoutSeconds);
    const files: [string, string][] = [
      ['request.txt', job.request],
      ['runner.sh', RUNNER],
      ['env', envFileText(this.environment)],
      ['shell', shellFileText(this.shell)],
      [
        'job.xrsl',
        buildXrsl({
          jobName: jobName(job.jobId),
          wallTimeMinutes: wallTime === undefined ? undefined : Number(wallTime),
          queue: this.options.queue,
          memoryMB: this.options.memoryMB,
        }),
      ],
      ['job.json', jobInfoText(job, { ce: this.ce })],
    ];
    await createJobDirectory(dir, job.scriptPath, files);
    // arcsub resolves the description's relative input files against its working directory: the job directory.
    let result: ArcExecResult;
    try {
      result = await this.run('arcsub', this.arcsubArgs(), dir);
    } catch (error) {
      if (!(error instanceof ArcUnavailableError)) throw error;
      // arcsub may have created the job before it timed out: look for it by name before giving up on it.
      const found = await this.find(job.site, job.jobId).catch(() => undefined);
      if (found) {
        await writeFileAtomic(join(dir, 'arc-id'), `${found.backendId}\n`);
        return found;
      }
      throw new ArcUnavailableError(
        `${error.message}; the job may still exist on ${this.ce} as ${jobName(job.jobId)} (its directory ${dir} ` +
          'is kept, so a later run can find it by name)',
      );
    }
    const url = parseSubmittedJobId(result.stdout);
    if (result.exitCode !== 0 || url === undefined) {
      await rm(dir, { recursive: true, force: true });
      const message = lastErrors(result) || `exit ${result.exitCode}`;
      if (UNREACHABLE.test(message)) throw new ArcUnavailableError(`arcsub to ${this.ce}: ${message}`);
      throw new ArcCommandError(`arcsub refused job ${job.jobId} at ${this.ce}: ${message}`);
    }
    if (!isJobOfCe(url, this.ce))
      throw new ArcCommandError(`arcsub returned a job URL outside ${this.ce}: ${url}`);
    await writeFileAtomic(join(dir, 'arc-id'), `${url}\n`);
    return { jobId: job.jobId, site: job.site, backendId: url };
  }

  /** By the job directory's arc-id file; failing that (a crash right after arcsub), by the job name on the CE. */
  async find(site: string, jobId: string): Promise<JobHandle | undefined> {
    const dir = this.jobDir(jobId);
    if (!existsSync(join(dir, 'job.json'))) return undefined;
    const saved = (await readJobFile(join(dir, 'arc-id')))?.trim();
    if (saved && isJobOfCe(saved, this.ce)) return { jobId, site, backendId: saved };
    const result = await this.run('arcstat', ['-J', ...this.common(), '-c', this.ce, '-a']);
    const name = jobName(jobId);
    const found = [...this.records(result).values()].find((record) => record.name === name);
    if (found && isJobOfCe(found.id, this.ce)) return { jobId, site, backendId: found.id };
    // arcstat exits 0 with no jobs when the CE is down: that is "cannot tell", not "no such job" (the caller would
    // drop a job that may be running).
    const errors = lastErrors(result);
    if (UNREACHABLE.test(errors)) throw new ArcUnavailableError(`arcstat on ${this.ce}: ${errors}`);
    return undefined;
  }

  /**
   * ONE arcstat call for all jobs. A job the CE says nothing about this time is left out of the answer (ask again);
   * one that the client's job list no longer has is lost; no information on any job means the CE is down.
   */
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    const states = new Map<string, JobState>();
    if (jobs.length === 0) return states;
    const parsed = jobs.map((job) => ({ job, ...this.parseHandle(job) }));
    const urls = [...new Set(parsed.map((p) => p.url))];
    const result = await this.run('arcstat', this.arcstatArgs(urls));
    const records = this.records(result);
    const notListed = jobsNotInJobList(`${result.stdout}\n${result.stderr}`);
    if (records.size === 0 && notListed.size < urls.length)
      throw new ArcUnavailableError(
        `arcstat: ${this.ce} returned no information on ${urls.length} job(s)` +
          (lastErrors(result) ? `: ${lastErrors(result)}` : ''),
      );
    for (const { job, url } of parsed) {
      const record = records.get(url);
      if (record) {
        const state = mapArcState(record);
        if (state) states.set(job.jobId, state);
      } else if (notListed.has(url)) {
        states.set(job.jobId, {
          state: 'lost',
          reason: `ARC job ${url} is not in the ARC client's job list ${this.jobList} (cleaned by someone else?)`,
          raw: 'not in job list',
        });
      }
    }
    return states;
  }

  private records(result: ArcExecResult): ReturnType<typeof parseArcstatJson> {
    // Exit 1 with "No jobs found" when none of the ids is in the job list; other failures are the client's.
    if (result.exitCode !== 0 && !/^No jobs/m.test(result.stdout))
      throw new ArcUnavailableError(`arcstat: ${lastErrors(result) || `exit ${result.exitCode}`}`);
    return parseArcstatJson(result.stdout);
  }

  /** arcget -k into the job directory's out/ (replaced on every fetch); the job stays on the CE until clean(). */
  async fetch(job: JobHandle): Promise<JobOutput> {
    const { url, dir } = this.parseHandle(job);
    const out = join(dir, 'out');
    await rm(out, { recursive: true, force: true });
    const result = await this.run('arcget', ['-k', ...this.common(), '-D', out, url]);
    if (result.exitCode !== 0) {
      const message = lastErrors(result) || `exit ${result.exitCode}`;
      if (UNREACHABLE.test(message)) throw new ArcUnavailableError(`arcget ${url}: ${message}`);
      throw new ArcCommandError(`arcget ${url}: ${message}`);
    }
    const results = join(out, url.slice(url.lastIndexOf('/') + 1));
    const exitStatus = (await readJobFile(join(results, 'exit-status')))?.trim();
    const output = await readJobOutputs(results);
    // The job script's own exit status travels in a file: say it where people look for why a job went wrong.
    return exitStatus && exitStatus !== '0'
      ? { ...output, stderr: `${output.stderr}gridpkg runner: job script exited ${exitStatus}\n` }
      : output;
  }

  /** arckill -k: the job stays on the CE, which then reports it Killed (failed, reason `cancelled`). */
  async cancel(job: JobHandle): Promise<void> {
    const { url } = this.parseHandle(job);
    const result = await this.run('arckill', ['-k', ...this.common(), url]);
    if (result.exitCode !== 0 && !gone(result)) {
      const message = lastErrors(result) || `exit ${result.exitCode}`;
      throw new ArcUnavailableError(`arckill ${url}: ${message}`);
    }
  }

  /** arcclean on the CE (a job it no longer knows is no error), then the local job directory. */
  async clean(job: JobHandle): Promise<void> {
    const { url, dir } = this.parseHandle(job);
    const result = await this.run('arcclean', [...this.common(), url]);
    if (result.exitCode !== 0 && !gone(result)) {
      const message = lastErrors(result) || `exit ${result.exitCode}`;
      throw new ArcUnavailableError(`arcclean ${url}: ${message}`);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** The job's name on the CE: how find() recognises a job whose URL was never recorded. */
function jobName(jobId: string): string {
  return `gridpkg-${jobId}`;
}

/** One job list per CE, named so that a person can tell which CE it belongs to. */
function jobListName(ce: string): string {
  const host = new URL(ce).host.replace(/[^A-Za-z0-9.-]/g, '-');
  const hash = createHash('sha256').update(ce).digest('hex').slice(0, 8);
  return `arc-${host}-${hash}.jobs.dat`;
}

/** The job is not (or no longer) in the job list or on the CE: nothing left to kill or clean. */
function gone(result: ArcExecResult): boolean {
  const output = `${result.stdout}\n${result.stderr}`;
  return jobsNotInJobList(output).size > 0 || /^No jobs/m.test(output);
}

/** The ERROR lines of a command's output (or its last line), for messages. */
function lastErrors(result: ArcExecResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const errors = lines.filter((line) => line.startsWith('ERROR:'));
  return (errors.length > 0 ? errors : lines.slice(-1)).join('; ').slice(0, 500);
}
