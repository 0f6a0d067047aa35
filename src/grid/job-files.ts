/**
 * A job's local directory: creating it with its input files, and reading the files a job leaves in it (report,
 * stdout, stderr, exit status), never more than a cap.
 */
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { type CappedText, readCapped } from '../state/read-capped.js';
import type { JobOutput, JobOutputName, JobSubmission } from './backend.js';

/** Job output beyond this is cut: a runaway job must not take the controller's memory with it. */
export const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/**
 * The first MAX_OUTPUT_BYTES of a job's file and whether it went on; undefined when it does not exist, cannot be
 * read or is not a regular file (a FIFO named report.txt must not hang the controller).
 */
export async function readJobOutput(path: string): Promise<CappedText | undefined> {
  try {
    return await readCapped(path, MAX_OUTPUT_BYTES);
  } catch {
    return undefined;
  }
}

/** The file's text, at most MAX_OUTPUT_BYTES of it; undefined when it does not exist or cannot be read. */
export async function readJobFile(path: string): Promise<string | undefined> {
  return (await readJobOutput(path))?.text;
}

/** A job's report, stdout and stderr as JobOutput: files cut at the cap are named in `truncated`. */
export function jobOutput(files: Readonly<Record<JobOutputName, CappedText | undefined>>): JobOutput {
  const truncated = (['report', 'stdout', 'stderr'] as const).filter((name) => files[name]?.truncated);
  return {
    report: files.report?.text,
    stdout: files.stdout?.text ?? '',
    stderr: files.stderr?.text ?? '',
    ...(truncated.length > 0 ? { truncated } : {}),
  };
}

/** Reads report.txt, stdout.txt and stderr.txt of a local job directory. */
export async function readJobOutputs(dir: string): Promise<JobOutput> {
  const [report, stdout, stderr] = await Promise.all(
    ['report.txt', 'stdout.txt', 'stderr.txt'].map((name) => readJobOutput(join(dir, name))),
  );
  return jobOutput({ report, stdout, stderr });
}

/** Local paths that go on a command line (sbatch, templates): no white space, no `%` (Slurm expands %j), no `..`. */
const JOB_PATH = /^\/[A-Za-z0-9._/+,-]*$/;

export function isSafeJobPath(value: string): boolean {
  return (
    isAbsolute(value) && JOB_PATH.test(value) && value.length <= 1024 && !value.split('/').includes('..')
  );
}

/** The exit status the job's runner recorded: undefined while there is none, -1 when it is not a number. */
export async function readExitStatus(dir: string): Promise<number | undefined> {
  const text = await readJobFile(join(dir, 'exit-status'));
  if (text === undefined) return undefined;
  const value = text.trim();
  return /^\d+$/.test(value) ? Number(value) : -1;
}

/** A file of a new job directory: name, text and mode (default 0644). */
export type JobInputFile = readonly [name: string, text: string, mode?: number];

/** Makes the job directory (its parent as needed) with a copy of the site job script and the given files. */
export async function createJobDirectory(
  dir: string,
  scriptPath: string,
  files: readonly JobInputFile[],
): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir); // fails if the job exists: a job id is submitted once
  await copyFile(scriptPath, join(dir, 'site-job.sh'));
  // Each file appears whole (written aside, then renamed): another gridpkg that finds the job by its job.json while
  // it is being submitted must never read half a file and take the job for gone.
  for (const [name, text, mode] of files) {
    const path = join(dir, name);
    await writeFile(`${path}.tmp`, text, { mode: mode ?? 0o644 });
    await rename(`${path}.tmp`, path);
  }
}

/** job.json: which site the job is for, when it was submitted and its timeout (plus backend details). */
export function jobInfoText(job: JobSubmission, extra: Readonly<Record<string, string>> = {}): string {
  return `${JSON.stringify({ site: job.site, ...extra, submittedAt: Date.now(), timeoutSeconds: job.timeoutSeconds })}\n`;
}
