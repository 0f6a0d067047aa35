/**
 * Template backend: the submit / status / fetch / cancel / clean commands of some batch system or grid middleware
 * (HTCondor-CE, gLite WMS, DIRAC, Slurm, ...) are configured in the spec, so a site can be reached without new code.
 * Ready-made templates: docs/templates.md.
 *
 * Each job is a directory JOBSROOT/JOBID holding the slurm backend's files (site-job.sh, request.txt, the constant
 * runner.sh, env, shell, job.json) plus the constant `files:` of the config. Commands are argv arrays run with execa,
 * never through a shell. A placeholder is replaced inside an argv element (`--chdir={jobDir}` works); `{ids}` must be
 * a whole element and becomes one element per job. No other interpolation happens. Substituted values are checked
 * against strict charsets first:
 *
 *   {jobDir}  the job directory             /[A-Za-z0-9._/+,-]*   (no "..")
 *   {runner}  {jobDir}/runner.sh
 *   {jobName} gridpkg-JOBID                 [A-Za-z0-9._-]+
 *   {id}      the backend's job id          [A-Za-z0-9._:/@-]+, not starting with "-"
 *   {ids}     every id of one status call   (as {id}, one argv element each; must be a whole element)
 *   {idsComma} every id of one status call joined with "," (ids hold no ","), e.g. squeue -j {idsComma}
 *   {timeoutMinutes} the job timeout in whole minutes (rounded up; 0 for none)
 *
 * submit, fetch and find run in the job directory, status / cancel / clean in JOBSROOT. A command that cannot run,
 * times out or exits non-zero during status / fetch / cancel / clean / find throws TemplateUnavailableError
 * (transient, never a job failure); so does a status line whose state is in none of the configured lists. A job
 * missing from the status output is done when its directory holds exit-status (shared file system); otherwise it is
 * left out of the answer (no news) and called lost only after `missingPolls` consecutive polls without it (counted by
 * this backend object).
 *
 * A submit that times out may have submitted the job anyway. With a `find` command ({jobName}, {jobDir}) the job is
 * then looked up by its name — at once by submit(), and by find() when a later controller meets a job directory
 * without backend-id (a controller that died between the submit answering and backend-id being written).
 */

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { RetryableError, TerminalError } from '../model/errors.js';
import type { TemplateBackendConfig, TemplateCommand } from '../spec/types.js';
import { writeFileAtomic } from '../state/atomic.js';
import type { GridBackend, JobHandle, JobOutput, JobState, JobSubmission } from './backend.js';
import { RUNNER } from './batch-runner.js';
import {
  createJobDirectory,
  isSafeJobPath,
  type JobInputFile,
  jobInfoText,
  readExitStatus,
  readJobFile,
  readJobOutputs,
} from './job-files.js';
import { checkedEnvironment, checkedShell, envFileText, shellFileText } from './job-settings.js';
import { isJobId } from './protocol/tokens.js';
import { type CommandResult, runCommand } from './run-command.js';

export type { TemplateBackendConfig };

export type TemplateExecResult = CommandResult;

/** Runs one configured command (argv[0] is the program) without a shell. Injectable for tests. */
export type TemplateExec = (
  argv: readonly string[],
  options: { env: Readonly<Record<string, string>>; cwd: string | undefined; timeoutMs: number },
) => Promise<TemplateExecResult>;

export interface TemplateBackendOptions extends Omit<TemplateBackendConfig, 'type' | 'jobsRoot'> {
  /** Absolute directory for the job directories. */
  jobsRoot: string;
  exec?: TemplateExec;
  /** Longest wait for one command (default 120 s). */
  commandTimeoutMs?: number;
}

/** A command could not run, timed out, failed, or said something unreadable: transient, never a job failure. */
export class TemplateUnavailableError extends RetryableError {
  override name = 'TemplateUnavailableError';
}

/** The submit command refused the job, or its output held no job id. */
export class TemplateCommandError extends TerminalError {
  override name = 'TemplateCommandError';
}

export const PLACEHOLDERS = [
  'jobDir',
  'runner',
  'jobName',
  'id',
  'ids',
  'idsComma',
  'timeoutMinutes',
] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
type Values = Partial<Record<Placeholder, string | readonly string[]>>;

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const BACKEND_ID = /^[A-Za-z0-9._:/@][A-Za-z0-9._:/@-]*$/;
const JOB_NAME = /^[A-Za-z0-9._-]+$/;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** Files the backend writes itself: a `files:` entry may not replace them. */
const RESERVED = new Set([
  'site-job.sh',
  'request.txt',
  'runner.sh',
  'env',
  'shell',
  'job.json',
  'backend-id',
  'pid',
  'exit-status',
  'report.txt',
  'stdout.txt',
  'stderr.txt',
]);
const ARGV_WORD = /^[^\0\n\r]+$/;
const MAX_OUTPUT_LINE = 200;

export const defaultTemplateExec: TemplateExec = async (argv, options) => {
  const [program, ...args] = argv;
  if (program === undefined) throw new TemplateUnavailableError('empty command');
  return runCommand(program, args, options, (message) => new TemplateUnavailableError(message));
};

/** Checks the argv of one command: words without NUL or newlines, a program that is no option, known placeholders. */
function checkArgv(what: string, argv: readonly string[] | undefined, allowed: readonly Placeholder[]): void {
  const bad = (rule: string) =>
    new Error(`template backend: bad ${what}.argv ${JSON.stringify(argv)} (${rule})`);
  if (!Array.isArray(argv) || argv.length === 0) throw bad('a non-empty list of words');
  for (const word of argv) {
    if (typeof word !== 'string' || !ARGV_WORD.test(word) || word.length > 4096)
      throw bad('words without NUL or line breaks, at most 4096 characters');
    for (const match of word.matchAll(PLACEHOLDER)) {
      const name = match[1] as Placeholder;
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) throw bad(`unknown placeholder {${match[1]}}`);
      if (!allowed.includes(name)) throw bad(`{${name}} is not available here`);
      if (name === 'ids' && word !== '{ids}') throw bad('{ids} must be a whole argv element');
    }
  }
  const program = argv[0] as string;
  if (program.startsWith('-') || PLACEHOLDER.test(program)) throw bad('the program must be a fixed word');
  PLACEHOLDER.lastIndex = 0;
}

/** Replaces placeholders in argv (values already checked); `{ids}` expands to one element per id. */
export function substitute(argv: readonly string[], values: Values): string[] {
  const out: string[] = [];
  for (const word of argv) {
    if (word === '{ids}') {
      const ids = values.ids;
      if (!Array.isArray(ids)) throw new Error('template backend: {ids} without ids');
      out.push(...(ids as readonly string[]));
      continue;
    }
    out.push(
      word.replace(PLACEHOLDER, (_all, name: string) => {
        const value = values[name as Placeholder];
        if (typeof value !== 'string')
          throw new Error(`template backend: no value for placeholder {${name}} in ${JSON.stringify(word)}`);
        return value;
      }),
    );
  }
  return out;
}

export function isBackendId(value: string): boolean {
  return BACKEND_ID.test(value) && value.length <= 1024;
}

function compile(what: string, source: string | undefined, flags: string): RegExp {
  if (typeof source !== 'string') throw new Error(`template backend: ${what} is missing`);
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new Error(`template backend: ${what} is not a regular expression: ${(error as Error).message}`);
  }
}

/** A multi-line regular expression with exactly one capture group (the backend id). */
function oneGroup(what: string, source: string | undefined): RegExp {
  const pattern = compile(what, source, 'm');
  const groups = (new RegExp(`${pattern.source}|`).exec('')?.length ?? 1) - 1;
  if (groups !== 1)
    throw new Error(`template backend: bad ${what} ${JSON.stringify(source)} (exactly one capture group)`);
  return pattern;
}

function firstLines(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_OUTPUT_LINE ? `${trimmed.slice(0, MAX_OUTPUT_LINE)}...` : trimmed;
}

export class TemplateBackend implements GridBackend {
  readonly kind = 'template';
  readonly needsX509Proxy: boolean;
  readonly jobsRoot: string;
  /** Backends that run the same status command on the same job directories and read its answer alike. */
  readonly statusGroup: string;
  /** Every command run so far, as argv (tests count and inspect them). */
  readonly calls: string[][] = [];
  private readonly shell: string[];
  private readonly environment: [string, string][];
  private readonly commandEnv: Record<string, string>;
  private readonly exec: TemplateExec;
  private readonly commandTimeoutMs: number;
  private readonly jobIdPattern: RegExp;
  private readonly findPattern: RegExp | undefined;
  private readonly linePattern: RegExp;
  private readonly stateOf = new Map<string, 'queued' | 'running' | 'done' | 'failed'>();
  private readonly missingPolls: number;
  private readonly missing = new Map<string, number>();
  private readonly files: [string, string][];

  constructor(private readonly options: TemplateBackendOptions) {
    const bad = (what: string, value: unknown, rule: string) =>
      new Error(`template backend: bad ${what} ${JSON.stringify(value)} (${rule})`);
    if (!isSafeJobPath(options.jobsRoot))
      throw bad('jobsRoot', options.jobsRoot, 'an absolute path of A-Z a-z 0-9 . _ - / + , without ".."');
    this.jobsRoot = normalize(options.jobsRoot).replace(/(.)\/$/, '$1');
    this.shell = checkedShell('template', options.shell);
    this.environment = checkedEnvironment('template', options.environment);
    const commandEnvironment = checkedEnvironment('template', options.commandEnvironment);
    this.commandEnv = Object.fromEntries(commandEnvironment);
    if (options.credentials !== undefined && options.credentials !== 'none' && options.credentials !== 'x509')
      throw bad('credentials', options.credentials, 'none or x509');
    this.needsX509Proxy = options.credentials === 'x509';
    const missingPolls = options.missingPolls ?? 3;
    if (!Number.isInteger(missingPolls) || missingPolls < 1 || missingPolls > 1000)
      throw bad('missingPolls', missingPolls, 'an integer from 1 to 1000');
    this.missingPolls = missingPolls;
    this.files = Object.entries(options.files ?? {});
    for (const [name, text] of this.files) {
      if (!FILE_NAME.test(name) || RESERVED.has(name))
        throw bad('file name', name, 'A-Z a-z 0-9 . _ -, not one of the files the backend writes itself');
      if (typeof text !== 'string') throw bad(`content of file ${name}`, text, 'a string');
    }

    const perJob: Placeholder[] = ['jobDir', 'runner', 'jobName', 'timeoutMinutes'];
    checkArgv('submit', options.submit?.argv, perJob);
    checkArgv('status', options.status?.argv, ['id', 'ids', 'idsComma']);
    const statusWords = options.status.argv;
    const perId = statusWords.some((w) => w.includes('{id}'));
    const allIds = statusWords.some((w) => w === '{ids}' || w.includes('{idsComma}'));
    if (perId === allIds)
      throw bad(
        'status.argv',
        statusWords,
        'exactly one of {ids} / {idsComma} (one call for all jobs) or {id} (one call per job)',
      );
    for (const key of ['fetch', 'cancel', 'clean'] as const) {
      const command: TemplateCommand | undefined = options[key];
      if (command !== undefined || key === 'cancel')
        checkArgv(key, command?.argv, ['id', 'jobDir', 'jobName']);
    }
    this.jobIdPattern = oneGroup('submit.jobId', options.submit.jobId);
    if (options.find !== undefined) {
      // No backend id exists yet: the job is looked up by what gridpkg gave it.
      checkArgv('find', options.find.argv, ['jobName', 'jobDir']);
      this.findPattern = oneGroup('find.jobId', options.find.jobId);
    }
    this.linePattern = compile('status.line', options.status.line, '');
    if ((allIds && !/\(\?<id>/.test(options.status.line)) || !/\(\?<state>/.test(options.status.line))
      throw bad(
        'status.line',
        options.status.line,
        'named groups (?<id>...) and (?<state>...); (?<id>...) may be left out when status runs once per job ({id})',
      );
    for (const state of ['queued', 'running', 'done', 'failed'] as const) {
      for (const raw of options.status.states?.[state] ?? []) {
        const known = this.stateOf.get(raw);
        if (known !== undefined && known !== state)
          throw bad('status.states', raw, `listed as both ${known} and ${state}`);
        this.stateOf.set(raw, state);
      }
    }
    this.exec = options.exec ?? defaultTemplateExec;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 120_000;
    // Beyond argv and jobsRoot, everything that shapes status()'s answer: its environment, how it reads the output,
    // and the fetch / missingPolls settings that decide done and lost.
    this.statusGroup = `template:${JSON.stringify([
      this.jobsRoot,
      options.status.argv,
      options.status.line,
      options.status.states ?? {},
      this.commandEnv,
      options.fetch !== undefined,
      this.missingPolls,
    ])}`;
  }

  private async run(argv: string[], cwd: string | undefined): Promise<TemplateExecResult> {
    this.calls.push(argv);
    return this.exec(argv, {
      env: this.commandEnv,
      cwd: cwd !== undefined && existsSync(cwd) ? cwd : undefined,
      timeoutMs: this.commandTimeoutMs,
    });
  }

  private async runOrThrow(
    what: string,
    argv: string[],
    cwd: string | undefined,
  ): Promise<TemplateExecResult> {
    let result: TemplateExecResult;
    try {
      result = await this.run(argv, cwd);
    } catch (error) {
      if (error instanceof TemplateUnavailableError) throw error;
      throw new TemplateUnavailableError(`${what}: ${(error as Error).message}`);
    }
    if (result.exitCode !== 0)
      throw new TemplateUnavailableError(
        `${what} (${argv[0]}) exited ${result.exitCode}: ${firstLines(result.stderr || result.stdout)}`,
      );
    return result;
  }

  // ----- handles ----------------------------------------------------------------------------------------------

  private jobDir(jobId: string): string {
    if (!isJobId(jobId) || jobId === '.' || jobId === '..' || jobId.startsWith('-') || !JOB_NAME.test(jobId))
      throw new Error(`template backend: bad job id ${JSON.stringify(jobId)}`);
    const dir = join(this.jobsRoot, jobId);
    if (!isSafeJobPath(dir))
      throw new Error(`template backend: job directory ${JSON.stringify(dir)} is not a safe path`);
    return dir;
  }

  /** The backend id and directory of a handle (`template:ID`, directory JOBSROOT/JOBID): nothing else is touched. */
  private parseHandle(job: JobHandle): { id: string; dir: string } {
    const dir = this.jobDir(job.jobId);
    const id = job.backendId.startsWith('template:') ? job.backendId.slice('template:'.length) : '';
    if (!isBackendId(id))
      throw new Error(
        `template backend: job ${job.jobId} has backend id ${JSON.stringify(job.backendId)}, not template:ID ` +
          'with ID of A-Z a-z 0-9 . _ : / @ -; refusing to touch it',
      );
    return { id, dir };
  }

  private jobValues(job: JobHandle): Values {
    const { id, dir } = this.parseHandle(job);
    return { id, jobDir: dir, jobName: `gridpkg-${job.jobId}` };
  }

  // ----- jobs -------------------------------------------------------------------------------------------------

  async submit(job: JobSubmission): Promise<JobHandle> {
    const dir = this.jobDir(job.jobId);
    if (!Number.isInteger(job.timeoutSeconds) || job.timeoutSeconds < 0)
      throw new Error(`template backend: bad timeout ${job.timeoutSeconds}`);
    const argv = substitute(this.options.submit.argv, {
      jobDir: dir,
      runner: join(dir, 'runner.sh'),
      jobName: `gridpkg-${job.jobId}`,
      timeoutMinutes: String(job.timeoutSeconds === 0 ? 0 : Math.max(1, Math.ceil(job.timeoutSeconds / 60))),
    });
    const files: JobInputFile[] = [
      ...this.files,
      ['request.txt', job.request],
      ['runner.sh', RUNNER, 0o755],
      ['env', envFileText(this.environment)],
      ['shell', shellFileText(this.shell)],
      ['job.json', jobInfoText(job)],
    ];
    await createJobDirectory(dir, job.scriptPath, files);
    let result: TemplateExecResult;
    try {
      result = await this.run(argv, dir);
    } catch (error) {
      // Timed out (or killed): it may or may not have been submitted. The directory stays, without backend-id.
      const why = `submit of job ${job.jobId} (${argv[0]}): ${(error as Error).message}`;
      const name = `gridpkg-${job.jobId}`;
      if (this.findPattern === undefined)
        throw new TemplateUnavailableError(
          `${why}; the job may exist anyway (${dir} has no backend-id) and nothing follows it: configure a ` +
            `find command (docs/templates.md) to let gridpkg look it up by its name ${name} and re-attach`,
        );
      let id: string | undefined;
      try {
        id = await this.lookUp(job.jobId, dir);
      } catch (findError) {
        throw new TemplateUnavailableError(
          `${why}; the job may exist anyway, and looking it up by its name ${name} failed too: ${(findError as Error).message}`,
        );
      }
      if (id === undefined)
        throw new TemplateUnavailableError(
          `${why}; the find command found no job named ${name}, so it was most likely not submitted`,
        );
      await writeFileAtomic(join(dir, 'backend-id'), `${id}\n`);
      return { jobId: job.jobId, site: job.site, backendId: `template:${id}` };
    }
    const id = this.jobIdPattern.exec(result.stdout)?.[1];
    if (result.exitCode !== 0 || id === undefined || !isBackendId(id)) {
      await rm(dir, { recursive: true, force: true });
      const why =
        result.exitCode !== 0
          ? `exited ${result.exitCode}: ${firstLines(result.stderr || result.stdout)}`
          : id === undefined
            ? `printed no job id matching /${this.jobIdPattern.source}/: ${JSON.stringify(firstLines(result.stdout))}`
            : `printed job id ${JSON.stringify(id)}, not of A-Z a-z 0-9 . _ : / @ -`;
      throw new TemplateCommandError(`submit of job ${job.jobId} (${argv[0]}) ${why}`);
    }
    await writeFileAtomic(join(dir, 'backend-id'), `${id}\n`);
    return { jobId: job.jobId, site: job.site, backendId: `template:${id}` };
  }

  /**
   * By the job directory's backend-id file; without one, by the job's name through the find command (if configured),
   * recording the id it prints. No job directory, or none that reached the submit command: undefined. A find command
   * that fails throws (transient): the job may exist, and must not be given up.
   */
  async find(site: string, jobId: string): Promise<JobHandle | undefined> {
    const dir = this.jobDir(jobId);
    const recorded = (await readJobFile(join(dir, 'backend-id')))?.trim();
    if (recorded && isBackendId(recorded)) return { jobId, site, backendId: `template:${recorded}` };
    // job.json is the last file written before the submit command runs: without it the command never ran.
    if (this.findPattern === undefined || !existsSync(join(dir, 'job.json'))) return undefined;
    const id = await this.lookUp(jobId, dir);
    if (id === undefined) return undefined;
    await writeFileAtomic(join(dir, 'backend-id'), `${id}\n`);
    return { jobId, site, backendId: `template:${id}` };
  }

  /** Runs the find command for one job: its backend id, or undefined when the output names none. */
  private async lookUp(jobId: string, dir: string): Promise<string | undefined> {
    const find = this.options.find;
    const pattern = this.findPattern;
    if (find === undefined || pattern === undefined) return undefined;
    const argv = substitute(find.argv, { jobName: `gridpkg-${jobId}`, jobDir: dir });
    const result = await this.runOrThrow('find', argv, dir);
    const id = pattern.exec(result.stdout)?.[1];
    if (id === undefined) return undefined;
    if (!isBackendId(id))
      throw new TemplateUnavailableError(
        `find (${argv[0]}) printed job id ${JSON.stringify(id)} for job ${jobId}, not of A-Z a-z 0-9 . _ : / @ -`,
      );
    return id;
  }

  /** One status call for all jobs ({ids}), or one per job ({id}). Failures and unknown states throw (transient). */
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    const states = new Map<string, JobState>();
    if (jobs.length === 0) return states;
    const parsed = jobs.map((job) => ({ job, ...this.parseHandle(job) }));
    const ids = [...new Set(parsed.map((p) => p.id))];
    const argv = this.options.status.argv;
    /** Outputs with the id they are about (one call per job), or undefined (one call for all). */
    const outputs: [string | undefined, string][] = [];
    if (!argv.some((w) => w.includes('{id}'))) {
      const values = { ids, idsComma: ids.join(',') };
      outputs.push([
        undefined,
        (await this.runOrThrow('status', substitute(argv, values), this.jobsRoot)).stdout,
      ]);
    } else {
      for (const id of ids)
        outputs.push([id, (await this.runOrThrow('status', substitute(argv, { id }), this.jobsRoot)).stdout]);
    }
    const raws = new Map<string, { state: string; reason: string | undefined }>();
    for (const [about, text] of outputs) {
      for (const line of text.split('\n')) {
        const match = this.linePattern.exec(line);
        // With one call per job the line need not name the job (gLite prints the id and the state on separate lines).
        const id = match?.groups?.id ?? about;
        const state = match?.groups?.state;
        if (id === undefined || state === undefined) continue; // headers, blank lines, chatter
        raws.set(id, { state, reason: match?.groups?.reason });
      }
    }
    for (const { job, id, dir } of parsed) {
      const exitStatus = await readExitStatus(dir);
      const seen = raws.get(id);
      if (seen === undefined) {
        if (exitStatus !== undefined) {
          this.missing.delete(job.jobId);
          states.set(job.jobId, {
            state: 'done',
            exitCode: exitStatus,
            raw: 'exit-status (not in the status output)',
          });
          continue;
        }
        const count = (this.missing.get(job.jobId) ?? 0) + 1;
        this.missing.set(job.jobId, count);
        // Within the grace: no news (left out of the map), the caller polls again.
        if (count < this.missingPolls) continue;
        states.set(job.jobId, {
          state: 'lost',
          reason: `backend job ${id} was missing from the status output in ${count} consecutive polls and left no exit status`,
          raw: 'missing',
        });
        continue;
      }
      this.missing.delete(job.jobId);
      const normalized = this.stateOf.get(seen.state);
      const raw = seen.reason ? `${seen.state} ${seen.reason}` : seen.state;
      if (normalized === undefined)
        throw new TemplateUnavailableError(
          `status: unknown state ${JSON.stringify(seen.state)} of backend job ${id} (add it to status.states)`,
        );
      if (normalized === 'queued' || normalized === 'running')
        states.set(job.jobId, { state: normalized, raw });
      else if (normalized === 'failed')
        states.set(job.jobId, {
          state: 'failed',
          reason: seen.reason ? `${seen.state}: ${seen.reason}` : seen.state,
          raw,
        });
      else if (exitStatus !== undefined) states.set(job.jobId, { state: 'done', exitCode: exitStatus, raw });
      else if (this.options.fetch !== undefined)
        // Not on a shared file system: the exit status comes with the fetched output; the report decides.
        states.set(job.jobId, { state: 'done', exitCode: 0, raw: `${raw} (exit status not fetched yet)` });
      else
        states.set(job.jobId, {
          state: 'failed',
          reason: `backend job ${id} is ${seen.state} but left no exit status in ${dir} (not a shared file system? configure fetch)`,
          raw,
        });
    }
    return states;
  }

  /** Runs the fetch command (if any) in the job directory, then reads the job's files from there. */
  async fetch(job: JobHandle): Promise<JobOutput> {
    const values = this.jobValues(job);
    const dir = values.jobDir as string;
    if (this.options.fetch !== undefined)
      await this.runOrThrow('fetch', substitute(this.options.fetch.argv, values), dir);
    return readJobOutputs(dir);
  }

  async cancel(job: JobHandle): Promise<void> {
    await this.runOrThrow('cancel', substitute(this.options.cancel.argv, this.jobValues(job)), this.jobsRoot);
  }

  /** Runs the clean command (if any), then removes the job directory (only JOBSROOT/JOBID). */
  async clean(job: JobHandle): Promise<void> {
    const values = this.jobValues(job);
    if (this.options.clean !== undefined)
      await this.runOrThrow('clean', substitute(this.options.clean.argv, values), this.jobsRoot);
    await rm(values.jobDir as string, { recursive: true, force: true });
    this.missing.delete(job.jobId);
  }
}
