/**
 * Checks, before any job is submitted, that a file the run will write at its end (`plan -out FILE`) can be written:
 * its directory exists and takes new files, and the name is not a directory. A run must not probe every site and
 * only then find out that it cannot save what it learned.
 */
import { randomBytes } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errnoCode, FileError } from './fs-errors.js';

export async function checkWritableFile(path: string, what: string): Promise<void> {
  const action = `cannot write ${what}`;
  const target = await stat(path).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw FileError.from(action, path, error);
  });
  if (target?.isDirectory()) throw new FileError(action, path, 'it is a directory');
  if (target && !target.isFile()) throw new FileError(action, path, 'it exists and is not a regular file');
  const dir = dirname(resolve(path));
  const parent = await stat(dir).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT')
      throw new FileError(action, path, `the directory ${dir} does not exist`);
    throw FileError.from(action, path, error);
  });
  if (!parent.isDirectory()) throw new FileError(action, path, `${dir} is not a directory`);
  // Only creating a file proves it can be done (read-only mounts, ACLs, root on NFS): the same kind of temporary
  // file the atomic write will create, removed at once.
  const probe = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await (await open(probe, 'wx', 0o644)).close();
  } catch (error) {
    throw FileError.from(action, path, error);
  }
  await unlink(probe).catch(() => undefined);
}
