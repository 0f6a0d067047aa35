/** Atomic writes on a failing disk: the message says which file and why, and no temporary file is left behind. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFileExclusive, removePendingTemporaries, writeFileAtomic } from '../../src/state/atomic.js';
import { FileError } from '../../src/state/fs-errors.js';
import type { FailingDisk } from '../support/failing-disk.js';

const disk = vi.hoisted(() => ({ current: undefined as FailingDisk | undefined }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const { createFailingDisk, failingDiskModule } = await import('../support/failing-disk.js');
  disk.current = createFailingDisk();
  return failingDiskModule(actual, disk.current);
});

function failing() {
  if (!disk.current) throw new Error('the failing disk mock is not installed');
  return disk.current;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-atomic-'));
});
afterEach(async () => {
  failing().failWith = undefined;
  failing().stage = 'write';
  await rm(dir, { recursive: true, force: true });
});

const enospcIn = (root: string) => (path: string) => (path.startsWith(root) ? 'ENOSPC' : undefined);

describe('atomic writes on a full disk', () => {
  for (const stage of ['write', 'sync'] as const) {
    it(`says what could not be saved and leaves the old file and no temporary file (failing ${stage})`, async () => {
      const file = join(dir, 'site-a.json');
      await writeFileAtomic(file, 'old\n');
      failing().stage = stage;
      failing().failWith = enospcIn(dir);
      const error = await writeFileAtomic(file, 'new\n', { what: 'the observation of site-a' }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FileError);
      expect((error as FileError).message).toBe(
        `could not save the observation of site-a to ${file}: no space left on device (ENOSPC)`,
      );
      expect((error as FileError).code).toBe('ENOSPC');
      expect(await readdir(dir)).toEqual(['site-a.json']);
      expect(await readFile(file, 'utf8')).toBe('old\n');
    });
  }

  it('creates nothing and leaves no temporary file when an exclusive create fails', async () => {
    failing().failWith = enospcIn(dir);
    const file = join(dir, 'site-a.json');
    await expect(createFileExclusive(file, 'x', { what: 'the intent to submit job j1' })).rejects.toThrow(
      `could not save the intent to submit job j1 to ${file}: no space left on device (ENOSPC)`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes the temporary file of a write in progress when the process is interrupted', async () => {
    failing().stage = 'hang';
    failing().failWith = enospcIn(dir);
    const file = join(dir, 'site-a.json');
    await writeFile(file, 'old\n');
    const write = writeFileAtomic(file, 'new\n').catch((e: unknown) => e);
    await vi.waitFor(async () => expect((await readdir(dir)).some((f) => f.endsWith('.tmp'))).toBe(true));
    removePendingTemporaries();
    expect(await readdir(dir)).toEqual(['site-a.json']);
    failing().release();
    await write;
    expect(await readdir(dir)).toEqual(['site-a.json']);
    expect(await readFile(file, 'utf8')).toBe('old\n');
  });
});
