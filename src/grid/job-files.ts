/**
 * A job's local directory: creating it with its input files, and reading the files a job leaves in it (report,
 * stdout, stderr, exit status), never more than a cap.
 */
import { copyFile, mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { JobSubmission } from './backend.js';

/** Job output beyond this is cut: a runaway job must not take the controller's memory with it. */
export const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** The file's text, at most MAX_OUTPUT_BYTES of it; undefined when it does not exist or cannot be read. */
export async function readJobFile(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (info.size <= MAX_OUTPUT_BYTES) return await readFile(path, 'utf8');
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(MAX_OUTPUT_BYTES);
      await handle.read(buffer, 0, MAX_OUTPUT_BYTES, 0);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
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
  for (const [name, text, mode] of files) await writeFile(join(dir, name), text, { mode: mode ?? 0o644 });
}

/** job.json: which site the job is for, when it was submitted and its timeout (plus backend details). */
export function jobInfoText(job: JobSubmission, extra: Readonly<Record<string, string>> = {}): string {
  return `${JSON.stringify({ site: job.site, ...extra, submittedAt: Date.now(), timeoutSeconds: job.timeoutSeconds })}\n`;
}
