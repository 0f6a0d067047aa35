/**
 * Runs src/grid/site-job.sh directly under a given shell against simulated pkgsrc sites (test/pkgsrc-sim, a test
 * double) and reads back what it did: exit code, stdout, the report file (parsed), and the state of the site.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { encodeRequest, extractReportFromStdout, parseReport } from '../../src/grid/protocol/index.js';
import type { ParsedReport, SiteReport, SiteRequest } from '../../src/grid/protocol/types.js';

export const SCRIPT = fileURLToPath(new URL('../../src/grid/site-job.sh', import.meta.url));

export interface JobRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The report file as written (undefined when there is none). */
  reportText: string | undefined;
  parsed: ParsedReport;
  /** The job directory: request.txt, report.txt and nothing else when the job went well. */
  jobDir: string;
  /** Wall time of the job, in milliseconds. */
  ms: number;
}

export interface RunOptions {
  /** Extra environment (the job gets a clean one: PATH, TMPDIR and these). */
  env?: Record<string, string>;
  /** Run as another user: [uid, gid]. */
  user?: [number, number];
  /** Start the job with its stdout closed. */
  closedStdout?: boolean;
  /** Write no request file at all. */
  omitRequest?: boolean;
  /** chmod of the job directory once the request is in it (to make it unwritable). */
  jobDirMode?: number;
  /** Called with the running job (to signal it). */
  onStart?: (job: ResultPromise, jobDir: string) => void;
}

/** A directory for the jobs of one test: job dirs and the scripts' TMPDIR live under it. */
export class JobRoom {
  private count = 0;

  private constructor(readonly dir: string) {}

  static async create(parent: string): Promise<JobRoom> {
    const dir = await mkdtemp(join(parent, 'jobs-'));
    await chmod(dir, 0o777);
    await mkdir(join(dir, 'tmp'), { mode: 0o777 });
    await chmod(join(dir, 'tmp'), 0o777);
    return new JobRoom(dir);
  }

  get tmp(): string {
    return join(this.dir, 'tmp');
  }

  async run(
    shell: readonly string[],
    request: SiteRequest | string,
    options: RunOptions = {},
  ): Promise<JobRun> {
    this.count += 1;
    const jobDir = join(this.dir, `job-${this.count}`);
    await mkdir(jobDir, { mode: 0o777 });
    await chmod(jobDir, 0o777);
    const text = typeof request === 'string' ? request : encodeRequest(request);
    if (!options.omitRequest) await writeFile(join(jobDir, 'request.txt'), text, { mode: 0o644 });
    if (options.jobDirMode !== undefined) await chmod(jobDir, options.jobDirMode);
    const closer = options.closedStdout ? ['sh', '-c', 'exec >&-; exec "$@"', 'sh'] : [];
    const [command, ...args] = options.user
      ? [
          ...closer,
          'setpriv',
          `--reuid=${options.user[0]}`,
          `--regid=${options.user[1]}`,
          '--clear-groups',
          ...shell,
        ]
      : [...closer, ...shell];
    const started = performance.now();
    const job = execa(command as string, [...args, SCRIPT, 'request.txt', 'report.txt'], {
      cwd: jobDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: this.tmp, ...options.env },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    options.onStart?.(job, jobDir);
    const result = await job;
    const ms = performance.now() - started;
    const reportText = await readFile(join(jobDir, 'report.txt'), 'utf8').catch(() => undefined);
    return {
      code: result.exitCode ?? -1,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      reportText,
      parsed: parseReport(reportText ?? extractReportFromStdout(String(result.stdout))),
      jobDir,
      ms,
    };
  }
}

/** What the script's request validation said about one request: `error` is its req_error, '' when accepted. */
export interface RequestVerdict {
  accepted: boolean;
  error: string;
}

/**
 * Many requests through the script's own request validation in one shell process. The shell runs the script as it
 * stands up to its top-level `read_request` call (set-up, token checks, the request state initialised), then reads
 * each request file with `read_request` in a subshell of its own: a fork that starts from that same initialised
 * state and prints req_error. Starting one shell per request (the script's set-up and host facts each time) made
 * the token tests take minutes on a busy machine; the verdicts come from the same code on the same files.
 */
export async function validateRequests(
  room: JobRoom,
  shell: readonly string[],
  requests: readonly string[],
): Promise<RequestVerdict[]> {
  const script = await readFile(SCRIPT, 'utf8');
  const calls = script.split('\n').filter((line) => line === 'read_request');
  if (calls.length !== 1) {
    throw new Error(`${SCRIPT}: expected one top-level "read_request" line, found ${calls.length}`);
  }
  const dir = await mkdtemp(join(room.dir, 'validate-'));
  await chmod(dir, 0o777);
  const upToValidation = join(dir, 'up-to-read-request.sh');
  await writeFile(upToValidation, script.slice(0, script.indexOf('\nread_request\n') + 1));
  await Promise.all(requests.map((text, i) => writeFile(join(dir, `request-${i + 1}.txt`), text)));
  // REQUEST_FILE is what read_request reads (set from the script's first argument). Validated action lines are
  // appended to one scratch file for all requests; the validation never reads it back.
  const driver = [
    'set -- request-1.txt report.txt',
    `. "${upToValidation}"`,
    'gridpkg_i=1',
    'while [ "$gridpkg_i" -le "$GRIDPKG_REQUESTS" ]; do',
    '  (',
    '    REQUEST_FILE=request-$gridpkg_i.txt',
    '    read_request',
    '    printf \'verdict %s %s\\n\' "$gridpkg_i" "$req_error"',
    '  )',
    '  gridpkg_i=$((gridpkg_i + 1))',
    'done',
  ].join('\n');
  const [command, ...args] = shell;
  const result = await execa(command as string, [...args, '-c', driver], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TMPDIR: room.tmp,
      GRIDPKG_REQUESTS: String(requests.length),
    },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  const verdicts = new Map<number, RequestVerdict>();
  for (const line of String(result.stdout).split('\n')) {
    const match = /^verdict ([0-9]+) ?(.*)$/.exec(line);
    if (match) verdicts.set(Number(match[1]), { accepted: match[2] === '', error: match[2] ?? '' });
  }
  return requests.map((_, i) => {
    const verdict = verdicts.get(i + 1);
    if (verdict === undefined) {
      throw new Error(
        `no verdict for request ${i + 1} of ${requests.length} under ${shell.join(' ')}: exit ${result.exitCode}\n` +
          `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      );
    }
    return verdict;
  });
}

/** The parsed report, or a failure that shows why it did not parse. */
export function reportOf(run: JobRun): SiteReport {
  if (!run.parsed.ok) {
    throw new Error(
      `report did not parse (line ${run.parsed.problem.line}: ${run.parsed.problem.message})\n` +
        `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`,
    );
  }
  return run.parsed.report;
}

/** Every file and directory below `dir` with a digest of its content: equal snapshots mean nothing changed. */
export async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(d, e.name);
      const rel = relative(dir, full);
      if (e.isDirectory()) {
        out.push(`${rel}/`);
        await walk(full);
      } else {
        const digest = createHash('sha1')
          .update(await readFile(full))
          .digest('hex');
        out.push(`${rel} ${digest}`);
      }
    }
  };
  await walk(dir);
  return out;
}

/** Installed packages as "name" or "name*" (automatic), bootstrap packages left out, from the report. */
export function userPackages(report: SiteReport, bootstrap: readonly string[]): string[] {
  return report.installed
    .filter((p) => !bootstrap.includes(p.pkgname))
    .map((p) => (p.automatic ? `${p.pkgname}*` : p.pkgname))
    .sort();
}
