/**
 * Files that are either the old or the new version, never half of one: write beside, fsync, rename. A write that
 * fails (a full disk) leaves no temporary file behind and says which file it was; an interrupted process removes
 * the temporary files it was writing (removePendingTemporaries).
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileError } from './fs-errors.js';

/** What is being written, for error messages: `the observation of site-a`. */
export interface WriteLabel {
  what?: string;
}

/** Temporary files of writes in progress, so that an interrupted process can remove them. */
const pendingTemporaries = new Set<string>();

/** Removes the temporary files of writes in progress (synchronously: called on the way out of an interrupt). */
export function removePendingTemporaries(): void {
  for (const temporary of pendingTemporaries) {
    try {
      unlinkSync(temporary);
    } catch {
      // already renamed or removed
    }
  }
  pendingTemporaries.clear();
}

async function discard(temporary: string): Promise<void> {
  await unlink(temporary).catch(() => undefined);
  pendingTemporaries.delete(temporary);
}

async function writeTemporary(path: string, content: string): Promise<string> {
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  // Registered before the file exists: an interrupt while open() is under way must still find it (removing a name
  // that was never created is harmless).
  pendingTemporaries.add(temporary);
  let handle: FileHandle;
  try {
    handle = await open(temporary, 'wx', 0o644);
  } catch (error) {
    pendingTemporaries.delete(temporary);
    throw error;
  }
  try {
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close(); // NFS may report a full disk only here
    }
  } catch (error) {
    await discard(temporary);
    throw error;
  }
  return temporary;
}

function failure(path: string, label: WriteLabel, error: unknown): FileError {
  return FileError.from(label.what ? `could not save ${label.what} to` : 'could not write', path, error);
}

export async function writeFileAtomic(path: string, content: string, label: WriteLabel = {}): Promise<void> {
  let temporary: string | undefined;
  try {
    temporary = await writeTemporary(path, content);
    await rename(temporary, path);
    pendingTemporaries.delete(temporary);
  } catch (error) {
    if (temporary !== undefined) await discard(temporary);
    throw failure(path, label, error);
  }
}

/**
 * Creates `path` with `content` only if it does not exist yet, atomically (link(2) fails on an existing name).
 * Returns false when another writer got there first.
 */
export async function createFileExclusive(
  path: string,
  content: string,
  label: WriteLabel = {},
): Promise<boolean> {
  let temporary: string | undefined;
  try {
    temporary = await writeTemporary(path, content);
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw failure(path, label, error);
  } finally {
    if (temporary !== undefined) await discard(temporary);
  }
}
