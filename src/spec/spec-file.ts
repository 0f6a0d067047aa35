/**
 * Reading spec files safely. A spec is committed by people and included by path, and its errors are printed (in CI
 * too), so a spec must not be able to make gridpkg read, hang on or echo other files of the machine: every file
 * read is a regular file of at most MAX_SPEC_BYTES, read with a bounded read, and an included file must lie in the
 * root spec file's directory tree once symlinks are resolved.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, realpath } from 'node:fs/promises';
import { sep } from 'node:path';

/** The largest spec file (root or included) gridpkg reads: far above any real spec, far below harm. */
export const MAX_SPEC_BYTES = 1024 * 1024;

export const INCLUDE_TREE_HINT =
  "an included file must be in the root spec file's directory or below it (after following symlinks), so that " +
  'a spec cannot make gridpkg read other files of this machine; move the file there, or the root spec up';

/** Why a spec file could not be read, in words for a diagnostic, with a hint when there is a useful one. */
export class SpecReadError extends Error {
  constructor(
    readonly reason: string,
    readonly hint?: string,
  ) {
    super(reason);
    this.name = 'SpecReadError';
  }
}

/** True when `path` is `dir` itself or lies below it (both absolute and normalised). */
export function isInsideTree(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

/**
 * Reads a spec file as UTF-8: a regular file (not a FIFO, device, socket or directory, nothing under /proc or /sys; opened without blocking, so a FIFO cannot hang the read) of at most MAX_SPEC_BYTES, read in bounded chunks
 * whatever size the file claims. With `tree` (for included files), the file must resolve inside that directory.
 */
export async function readSpecFile(path: string, options: { tree?: string } = {}): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    throw new SpecReadError(readError(error));
  }
  if (options.tree !== undefined && !isInsideTree(real, options.tree)) {
    throw new SpecReadError(
      `it leads outside the root spec's directory ${options.tree} (to ${real})`,
      INCLUDE_TREE_HINT,
    );
  }
  // Kernel file systems hold "regular" files that claim size 0 (/proc/self/environ): never a spec. (Devices
  // elsewhere, /dev/zero say, fail the regular-file check below.)
  const kernel = ['/proc', '/sys'].find((dir) => isInsideTree(real, dir));
  if (kernel)
    throw new SpecReadError(`it is in ${kernel}, not a spec file`, 'a spec is a file in a repository');
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: what was checked is what is opened; O_NONBLOCK: a FIFO put there meanwhile cannot hang us.
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    throw new SpecReadError(readError(error));
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new SpecReadError('is a directory');
    if (!stats.isFile()) {
      throw new SpecReadError(
        `is ${kindOf(stats)}, not a regular file`,
        'a spec file must be a regular file',
      );
    }
    if (stats.size > MAX_SPEC_BYTES) throw tooLarge();
    return await readBounded(handle);
  } finally {
    await handle.close();
  }
}

async function readBounded(handle: FileHandle): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > MAX_SPEC_BYTES) throw tooLarge();
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function tooLarge(): SpecReadError {
  return new SpecReadError(
    `is larger than ${MAX_SPEC_BYTES / 1024 / 1024} MiB, the limit for a spec file`,
    'split the spec with include, or check that the path names the spec',
  );
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

function readError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'it is a symlink loop, or was replaced by a symlink while being read';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}
