/** Every file gridpkg reads is a regular file read up to a cap: a FIFO never hangs, /dev/zero never fills memory. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJobOutput, readJobOutputs } from '../../src/grid/job-files.js';
import { describeFsError, FileError } from '../../src/state/fs-errors.js';
import { readCapped, readTextFile } from '../../src/state/read-capped.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-read-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

describe('capped reads', () => {
  it('says whether a file went on beyond the cap, exactly at the boundary', async () => {
    await writeFile(join(dir, 'exact'), 'abcd');
    await writeFile(join(dir, 'over'), 'abcde');
    expect(await readCapped(join(dir, 'exact'), 4)).toEqual({ text: 'abcd', truncated: false });
    expect(await readCapped(join(dir, 'over'), 4)).toEqual({ text: 'abcd', truncated: true });
  });

  it('reads files whose size stat reports as 0 (/proc)', async () => {
    const read = await readCapped('/proc/self/status', 1024 * 1024);
    expect(read.text).toContain('Name:');
  });

  it('refuses a FIFO at once instead of waiting for a writer, and a device instead of reading it forever', async () => {
    await expect(readTextFile(fifo('plan'), 'the plan file', 1024)).rejects.toThrow(
      /cannot read the plan file .*plan: it is a FIFO \(named pipe\), not a regular file/,
    );
    await expect(readTextFile('/dev/zero', 'the plan file', 1024)).rejects.toThrow(
      'cannot read the plan file /dev/zero: it is a character device, not a regular file',
    );
    await expect(readTextFile(dir, 'the plan file', 1024)).rejects.toThrow('it is a directory');
  });

  it('refuses a file over the cap as too large, naming the cap', async () => {
    const big = join(dir, 'big.plan');
    await writeFile(big, '');
    await truncate(big, 2 * 1024 * 1024 + 1);
    const error = await readTextFile(big, 'the plan file', 2 * 1024 * 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileError);
    expect((error as Error).message).toBe(
      `cannot read the plan file ${big}: it is larger than 2 MiB; not read`,
    );
  });

  it('says a missing file plainly and keeps its errno code', async () => {
    const error = await readTextFile(join(dir, 'missing'), 'the plan file', 10).catch((e: unknown) => e);
    expect((error as FileError).code).toBe('ENOENT');
    expect((error as Error).message).toMatch(/missing: no such file or directory \(ENOENT\)$/);
  });
});

describe('job output files', () => {
  it('names the files that were cut at the 4 MiB cap, and never hangs on a FIFO', async () => {
    const job = join(dir, 'job');
    await mkdir(job);
    await writeFile(join(job, 'report.txt'), 'x'.repeat(4 * 1024 * 1024 + 1));
    await writeFile(join(job, 'stderr.txt'), 'oops\n');
    fifo('job/stdout.txt');
    const output = await readJobOutputs(job);
    expect(output.truncated).toEqual(['report']);
    expect(output.report).toHaveLength(4 * 1024 * 1024);
    expect(output.stdout).toBe('');
    expect(output.stderr).toBe('oops\n');
    expect(await readJobOutput(join(job, 'stdout.txt'))).toBeUndefined();
  });
});

describe('errno codes in plain language', () => {
  it.each([
    ['ENOSPC', 'no space left on device (ENOSPC)'],
    ['EROFS', 'read-only file system (EROFS)'],
    ['EACCES', 'permission denied (EACCES)'],
  ])('%s', (code, plain) => {
    expect(describeFsError(Object.assign(new Error(`${code}: whatever, open '/x'`), { code }))).toBe(plain);
  });
});
