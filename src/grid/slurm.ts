/**
 * Slurm backend. Each job is a directory under `jobsRoot` — on a file system the compute nodes share — holding the
 * local backend's files, and one Slurm batch job that runs a constant runner (./batch-runner.ts) in it:
 *
 *   sbatch --parsable -J gridpkg-JOBID -o DIR/stdout.txt -e DIR/stderr.txt --chdir DIR --no-requeue --export=ALL
 *          [--partition P] [--account A] [--qos Q] [--mem M] [--cpus-per-task N] [--time MINUTES] DIR/runner.sh
 *
 * The handle's backendId is `slurm:SLURMID:DIR`. Status is ONE `squeue -h -t all -j ID,ID,... -o '%i %T %r'` call
 * for all jobs; a job that has left squeue (after MinJobAge) is looked up in accounting — `sacct -c` on the
 * jobcomp/filetxt log when `jobCompLog` is set, plain `sacct` otherwise — in one more call, before it is ever
 * called lost. A Slurm command that cannot reach slurmctld throws SlurmUnavailableError (transient); it never
 * marks a job failed. SLURM_CONF is set from `slurmConf` when given.
 *
 * The login node is this machine, or (with `loginNode`) a host reached over ssh. The two differ in two things only,
 * each behind a small interface: how a Slurm command runs (SlurmExec: ./slurm/exec.ts locally, ./slurm/ssh-exec.ts
 * over the ssh connection) and where the job directories are written and read (./slurm/job-dirs.ts). Either way a
 * command runs with an argv array, never through a shell with user data in it.
 */
import { join, normalize } from 'node:path';
import type { SlurmBackendConfig } from '../spec/types.js';
import type { GridBackend, JobHandle, JobOutput, JobState, JobSubmission } from './backend.js';
import { RUNNER } from './batch-runner.js';
import { isSafeJobPath, jobInfoText, jobOutput } from './job-files.js';
import { checkedEnvironment, checkedShell, envFileText, shellFileText } from './job-settings.js';
import { isJobId } from './protocol/tokens.js';
import {
  defaultSlurmExec,
  type SlurmCommand,
  SlurmCommandError,
  type SlurmExec,
  type SlurmExecResult,
  SlurmUnavailableError,
} from './slurm/exec.js';
import { type JobDirectories, LocalJobDirectories, RemoteJobDirectories } from './slurm/job-dirs.js';
import { sshSlurmExec } from './slurm/ssh-exec.js';
import { mapSlurmState, parseSacct, parseSqueue, type SlurmRecord, timeLimit } from './slurm/states.js';
import { SshConnection, type SshExec } from './ssh/connection.js';
import { isRemotePath } from './ssh/quote.js';

export {
  defaultSlurmExec,
  type SlurmCommand,
  SlurmCommandError,
  type SlurmExec,
  type SlurmExecResult,
  SlurmUnavailableError,
} from './slurm/exec.js';
export { SlurmOutputError } from './slurm/states.js';
export type { SlurmBackendConfig };

export interface SlurmBackendOptions extends Omit<SlurmBackendConfig, 'type' | 'jobsRoot'> {
  /** Absolute directory for the job directories, shared with the compute nodes (on the login node, if remote). */
  jobsRoot: string;
  /** Runs the Slurm commands (default: here, or on `loginNode` over ssh). */
  exec?: SlurmExec;
  /** Runs ssh and sftp for `loginNode` (tests inject one). */
  sshExec?: SshExec;
  /** Keep one master connection to `loginNode` (default true). */
  multiplex?: boolean;
  /** Longest wait for one Slurm command (default 60 s). */
  commandTimeoutMs?: number;
}

/** Partition, account and QOS names. */
const SLURM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** --mem: a number with an optional unit. */
const MEMORY = /^[1-9][0-9]{0,8}[KMGT]?$/;
/** squeue and sacct say this when none of the ids they were asked about is known. */
const INVALID_JOB_ID = /Invalid job id specified/i;
const ACCOUNTING_DISABLED = /accounting storage is disabled/i;

export class SlurmBackend implements GridBackend {
  readonly kind = 'slurm';
  readonly jobsRoot: string;
  /** One squeue answers for all backends of one cluster and jobsRoot (status() takes only jobs under its own). */
  readonly statusGroup: string;
  private readonly shell: string[];
  private readonly environment: [string, string][];
  private readonly exec: SlurmExec;
  private readonly dirs: JobDirectories;
  /** The ssh connection to the login node, when it is not this machine. */
  private readonly connection: SshConnection | undefined;
  private readonly commandTimeoutMs: number;
  private readonly commandEnv: Record<string, string>;
  /** Every Slurm command run so far, as [command, ...args] (tests count and inspect them). */
  readonly calls: string[][] = [];

  constructor(private readonly options: SlurmBackendOptions) {
    const bad = (what: string, value: unknown, rule: string) =>
      new Error(`slurm backend: bad ${what} ${JSON.stringify(value)} (${rule})`);
    for (const key of ['partition', 'account', 'qos'] as const) {
      const value = options[key];
      if (value !== undefined && !SLURM_NAME.test(value))
        throw bad(key, value, 'A-Z a-z 0-9 _ . -, at most 64');
    }
    if (options.memory !== undefined && !MEMORY.test(options.memory))
      throw bad('memory', options.memory, 'a number with an optional unit K, M, G or T');
    if (
      options.cpusPerTask !== undefined &&
      !(Number.isInteger(options.cpusPerTask) && options.cpusPerTask >= 1 && options.cpusPerTask <= 4096)
    )
      throw bad('cpusPerTask', options.cpusPerTask, 'an integer from 1 to 4096');
    if (options.loginNode && !(isSafeJobPath(options.jobsRoot) && isRemotePath(options.jobsRoot)))
      throw bad(
        'jobsRoot',
        options.jobsRoot,
        'required with loginNode: an absolute directory on the login node, no component starting with "-"',
      );
    for (const key of ['jobsRoot', 'slurmConf', 'jobCompLog'] as const) {
      const value = options[key];
      if (value !== undefined && !isSafeJobPath(value))
        throw bad(key, value, 'an absolute path of A-Z a-z 0-9 . _ - / + , without ".."');
    }
    this.jobsRoot = normalize(options.jobsRoot).replace(/(.)\/$/, '$1');
    this.shell = checkedShell('slurm', options.shell);
    this.environment = checkedEnvironment('slurm', options.environment);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 60_000;
    if (options.loginNode) {
      const { loginNode } = options;
      this.connection = new SshConnection(
        {
          ...loginNode,
          exec: options.sshExec,
          multiplex: options.multiplex,
          commandTimeoutMs: this.commandTimeoutMs,
        },
        'slurm backend: loginNode',
      );
      this.exec = options.exec ?? sshSlurmExec(this.connection);
      this.dirs = new RemoteJobDirectories(this.connection);
    } else {
      this.connection = undefined;
      this.exec = options.exec ?? defaultSlurmExec;
      this.dirs = new LocalJobDirectories();
    }
    this.commandEnv = options.slurmConf ? { SLURM_CONF: options.slurmConf } : {};
    // A login node reached over ssh is part of the key: the same paths on two hosts are two clusters.
    const cluster = [
      options.slurmConf ?? null,
      options.jobCompLog ?? null,
      this.jobsRoot,
      ...(this.connection ? [this.connection.destination()] : []),
    ];
    this.statusGroup = `slurm:${JSON.stringify(cluster)}`;
  }

  // ----- argv -------------------------------------------------------------------------------------------------

  /** The sbatch argv of one job (everything from the typed settings; nothing free-form). */
  sbatchArgs(jobId: string, dir: string, timeoutSeconds: number): string[] {
    const o = this.options;
    const args = [
      '--parsable',
      '-J',
      `gridpkg-${jobId}`,
      '-o',
      join(dir, 'stdout.txt'),
      '-e',
      join(dir, 'stderr.txt'),
      '--chdir',
      dir,
      // Never run an install twice: a job whose node fails is reported failed, not silently started again.
      '--no-requeue',
      '--export=ALL',
    ];
    if (o.partition !== undefined) args.push('--partition', o.partition);
    if (o.account !== undefined) args.push('--account', o.account);
    if (o.qos !== undefined) args.push('--qos', o.qos);
    if (o.memory !== undefined) args.push('--mem', o.memory);
    if (o.cpusPerTask !== undefined) args.push('--cpus-per-task', String(o.cpusPerTask));
    const time = timeLimit(timeoutSeconds);
    if (time !== undefined) args.push('--time', time);
    args.push(join(dir, 'runner.sh'));
    return args;
  }

  squeueArgs(ids: readonly string[]): string[] {
    return ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i %T %r'];
  }

  sacctArgs(ids: readonly string[]): string[] {
    const log = this.options.jobCompLog;
    const source = log !== undefined ? ['-c', `--file=${log}`] : ['-X'];
    return [...source, '-n', '-P', '-j', ids.join(','), '-o', 'JobID,State,ExitCode'];
  }

  private async run(command: SlurmCommand, args: string[]): Promise<SlurmExecResult> {
    this.calls.push([command, ...args]);
    return this.exec(command, args, { env: this.commandEnv, timeoutMs: this.commandTimeoutMs });
  }

  // ----- handles ----------------------------------------------------------------------------------------------

  private jobDir(jobId: string): string {
    if (!isJobId(jobId) || jobId === '.' || jobId === '..' || jobId.startsWith('-'))
      throw new Error(`slurm backend: bad job id ${JSON.stringify(jobId)}`);
    return join(this.jobsRoot, jobId);
  }

  /** The Slurm id and directory of a handle, whose directory must be JOBSROOT/JOBID: nothing else is touched. */
  private parseHandle(job: JobHandle): { slurmId: string; dir: string } {
    const dir = this.jobDir(job.jobId);
    const match = /^slurm:(\d+):(.*)$/.exec(job.backendId);
    if (!match?.[1] || match[2] !== dir)
      throw new Error(
        `slurm backend: job ${job.jobId} has backend id ${JSON.stringify(job.backendId)}, not slurm:ID:${dir}; ` +
          'refusing to touch it',
      );
    return { slurmId: match[1], dir };
  }

  // ----- jobs -------------------------------------------------------------------------------------------------

  async submit(job: JobSubmission): Promise<JobHandle> {
    const dir = this.jobDir(job.jobId);
    if (!Number.isInteger(job.timeoutSeconds) || job.timeoutSeconds < 0)
      throw new Error(`slurm backend: bad timeout ${job.timeoutSeconds}`);
    const files: [string, string][] = [
      ['request.txt', job.request],
      ['runner.sh', RUNNER],
      ['env', envFileText(this.environment)],
      ['shell', shellFileText(this.shell)],
      ['job.json', jobInfoText(job)],
    ];
    await this.dirs.create(dir, job.scriptPath, files);
    // If sbatch times out the job may or may not exist: the directory stays, and find() looks for it by name.
    const result = await this.run('sbatch', this.sbatchArgs(job.jobId, dir, job.timeoutSeconds));
    const slurmId = /^(\d+)(;\S*)?$/.exec(result.stdout.trim())?.[1];
    if (result.exitCode !== 0 || !slurmId) {
      await this.dirs.remove(dir);
      const message = result.stderr.trim() || result.stdout.trim() || `exit ${result.exitCode}`;
      if (unreachable(message)) throw new SlurmUnavailableError(`sbatch: ${message}`);
      throw new SlurmCommandError(`sbatch refused job ${job.jobId}: ${message}`);
    }
    await this.dirs.write(dir, 'slurm-id', `${slurmId}\n`);
    return { jobId: job.jobId, site: job.site, backendId: `slurm:${slurmId}:${dir}` };
  }

  /** By the job directory's slurm-id file; failing that (a crash right after sbatch), by the job name in squeue. */
  async find(site: string, jobId: string): Promise<JobHandle | undefined> {
    const dir = this.jobDir(jobId);
    const [meta, idFile] = await this.dirs.read([join(dir, 'job.json'), join(dir, 'slurm-id')]);
    if (meta === undefined) return undefined;
    let slurmId = idFile?.trim();
    if (!slurmId) {
      const result = await this.run('squeue', ['-h', '-t', 'all', '-n', `gridpkg-${jobId}`, '-o', '%i']);
      if (result.exitCode !== 0) throw new SlurmUnavailableError(`squeue: ${result.stderr.trim()}`);
      slurmId = result.stdout
        .split('\n')
        .find((line) => /^\d+$/.test(line.trim()))
        ?.trim();
    }
    return slurmId && /^\d+$/.test(slurmId)
      ? { jobId, site, backendId: `slurm:${slurmId}:${dir}` }
      : undefined;
  }

  /**
   * One squeue call for all jobs, plus one accounting call for those that have left squeue. A failing Slurm command
   * throws (transient); it never reports a job as failed or lost.
   */
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    const states = new Map<string, JobState>();
    if (jobs.length === 0) return states;
    const parsed = jobs.map((job) => ({ job, ...this.parseHandle(job) }));
    const ids = [...new Set(parsed.map((p) => p.slurmId))];

    const queue = await this.run('squeue', this.squeueArgs(ids));
    let records: Map<string, SlurmRecord>;
    if (queue.exitCode === 0) records = parseSqueue(queue.stdout);
    else if (INVALID_JOB_ID.test(queue.stderr))
      records = new Map(); // none of them is in squeue any more
    else throw new SlurmUnavailableError(`squeue: ${queue.stderr.trim() || `exit ${queue.exitCode}`}`);

    const vanished = ids.filter((id) => !records.has(id));
    let accounting: Map<string, SlurmRecord> | undefined = new Map();
    if (vanished.length > 0) accounting = await this.accounting(vanished);

    // The runner's exit-status matters only for a COMPLETED job or one Slurm no longer knows: one read for those.
    const recordOf = (slurmId: string) => records.get(slurmId) ?? accounting?.get(slurmId);
    const needExit = parsed.filter((p) => {
      const record = recordOf(p.slurmId);
      return record === undefined || record.state === 'COMPLETED';
    });
    const exitTexts = await this.dirs.read(needExit.map((p) => join(p.dir, 'exit-status')));
    const exitStatuses = new Map(needExit.map((p, i) => [p.job.jobId, exitStatusOf(exitTexts[i])]));

    for (const { job, slurmId } of parsed) {
      const record = recordOf(slurmId);
      const exitStatus = exitStatuses.get(job.jobId);
      if (record) {
        states.set(job.jobId, mapSlurmState(record, exitStatus));
      } else if (exitStatus !== undefined) {
        // Not known to Slurm any more, but the runner recorded the job script's end in the shared directory.
        states.set(job.jobId, {
          state: 'done',
          exitCode: exitStatus,
          raw: 'exit-status (not in squeue or accounting)',
        });
      } else {
        states.set(job.jobId, {
          state: 'lost',
          reason:
            accounting === undefined
              ? `Slurm job ${slurmId} is no longer in squeue and accounting storage is disabled; set jobCompLog ` +
                "to the cluster's jobcomp/filetxt log to look finished jobs up"
              : `Slurm job ${slurmId} is neither in squeue nor in accounting`,
          raw: 'vanished',
        });
      }
    }
    return states;
  }

  /** Accounting records of jobs that left squeue; undefined when the cluster keeps none that we can read. */
  private async accounting(ids: readonly string[]): Promise<Map<string, SlurmRecord> | undefined> {
    const result = await this.run('sacct', this.sacctArgs(ids));
    if (result.exitCode === 0) return parseSacct(result.stdout);
    const message = result.stderr.trim() || result.stdout.trim();
    if (this.options.jobCompLog === undefined && ACCOUNTING_DISABLED.test(message)) return undefined;
    throw new SlurmUnavailableError(`sacct: ${message || `exit ${result.exitCode}`}`);
  }

  async fetch(job: JobHandle): Promise<JobOutput> {
    const { dir } = this.parseHandle(job);
    const [report, stdout, stderr] = await this.dirs.readCapped(
      ['report.txt', 'stdout.txt', 'stderr.txt'].map((name) => join(dir, name)),
    );
    return jobOutput({ report, stdout, stderr });
  }

  /** scancel; Slurm then reports the job CANCELLED (failed, reason `cancelled`). Unknown ids are no error. */
  async cancel(job: JobHandle): Promise<void> {
    const { slurmId } = this.parseHandle(job);
    const result = await this.run('scancel', [slurmId]);
    if (result.exitCode !== 0) {
      const message = result.stderr.trim() || `exit ${result.exitCode}`;
      if (INVALID_JOB_ID.test(message)) return;
      throw new SlurmUnavailableError(`scancel ${slurmId}: ${message}`);
    }
  }

  /** Removes the job directory (only JOBSROOT/JOBID); Slurm forgets the job by itself. */
  async clean(job: JobHandle): Promise<void> {
    const { dir } = this.parseHandle(job);
    await this.dirs.remove(dir);
  }

  /** Closes the ssh connection to the login node, if there is one. */
  async close(): Promise<void> {
    await this.connection?.close();
  }
}

/** The exit status the runner recorded: undefined while there is none, -1 when it is not a number. */
function exitStatusOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  return /^\d+$/.test(value) ? Number(value) : -1;
}

function unreachable(message: string): boolean {
  return /unable to contact slurm controller|connection refused|socket timed out|timed out|could not run/i.test(
    message,
  );
}
