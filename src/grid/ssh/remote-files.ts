/**
 * Files on the far side of an SshConnection. Data only ever travels as file contents — uploaded with sftp from a
 * local staging directory, or read back by a constant script — never on a command line; remote paths are checked
 * (isRemotePath) before anything runs.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CappedText, cappedText } from '../../state/read-capped.js';
import type { SshConnection } from './connection.js';
import { SshRemoteError } from './connection.js';
import { isRemotePath } from './quote.js';
import { CLEAN } from './remote-scripts.js';

/** One file to upload: its name in the directory, and its text or the local file to copy. */
export type UploadFile = { name: string; text: string } | { name: string; copyOf: string };

/** File names inside a directory: one plain component. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

function checkPath(path: string): string {
  if (!isRemotePath(path)) throw new Error(`ssh: refusing remote path ${JSON.stringify(path)}`);
  return path;
}

function checkName(name: string): string {
  if (!FILE_NAME.test(name)) throw new Error(`ssh: refusing file name ${JSON.stringify(name)}`);
  return name;
}

/** `a/b/c` → [`a`, `a/b`, `a/b/c`]; `/x/y` → [`/x`, `/x/y`]. */
export function parents(dir: string): string[] {
  const absolute = dir.startsWith('/');
  const parts = (absolute ? dir.slice(1) : dir).split('/');
  return parts.map((_, i) => `${absolute ? '/' : ''}${parts.slice(0, i + 1).join('/')}`);
}

/**
 * Creates the remote directory `root/name` and uploads the files into it, with one sftp batch. The parents are
 * made as needed; the directory itself must be new (sftp's mkdir fails on an existing one), so a job id is only
 * ever submitted once.
 */
export async function uploadNewDirectory(
  connection: SshConnection,
  root: string,
  name: string,
  files: readonly UploadFile[],
): Promise<void> {
  const dir = checkPath(`${checkPath(root)}/${checkName(name)}`);
  for (const file of files) checkName(file.name);
  await connection.withStaging(async (staging) => {
    for (const file of files) {
      if ('copyOf' in file) await copyFile(file.copyOf, join(staging, file.name));
      else await writeFile(join(staging, file.name), file.text, { mode: 0o644 });
    }
    const batch = [
      ...parents(root).map((p) => `-mkdir ${p}`),
      `mkdir ${dir}`,
      ...files.map((file) => `put ${staging}/${file.name} ${dir}/${file.name}`),
      '',
    ].join('\n');
    await connection.sftp(batch, 'upload');
  });
}

/** Writes one file into an existing remote directory: uploaded under a temporary name, then renamed over. */
export async function putFileAtomic(
  connection: SshConnection,
  dir: string,
  name: string,
  text: string,
): Promise<void> {
  checkPath(dir);
  checkName(name);
  await connection.withStaging(async (staging) => {
    await writeFile(join(staging, name), text, { mode: 0o644 });
    // OpenSSH's sftp renames with posix-rename when the server has it: an existing NAME is replaced atomically.
    const batch = [
      `put ${staging}/${name} ${dir}/.${name}.tmp`,
      `rename ${dir}/.${name}.tmp ${dir}/${name}`,
      '',
    ];
    await connection.sftp(batch.join('\n'), `writing ${name}`);
  });
}

/**
 * READ MAXBYTES FILE...: for each FILE, `SIZE\n` and then its first SIZE bytes (at most MAXBYTES), or `-\n` when
 * it is not a readable regular file. Each file is copied once before it is measured, so a file that grows or is
 * replaced meanwhile cannot make SIZE wrong.
 */
export const READ_FILES = `
max=$1
shift
t=$(mktemp) || exit 3
trap 'rm -f "$t"' EXIT
for f; do
  if [ -f "$f" ] && head -c "$max" "$f" >"$t" 2>/dev/null; then
    size=$(wc -c <"$t")
    printf '%s\\n' $((size))
    cat "$t"
  else
    echo -
  fi
done
`;

/**
 * Reads remote files, at most `maxBytes` of each, in one ssh call; undefined for a file that is not there. Each
 * file is asked for one byte more than `maxBytes`, so that a file cut at the cap says so (`truncated`).
 */
export async function readFilesCapped(
  connection: SshConnection,
  paths: readonly string[],
  maxBytes: number,
): Promise<(CappedText | undefined)[]> {
  if (paths.length === 0) return [];
  for (const path of paths) checkPath(path);
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new Error(`ssh: bad byte limit ${maxBytes}`);
  const result = await connection.run(READ_FILES, [String(maxBytes + 1), ...paths]);
  if (result.exitCode !== 0)
    throw new SshRemoteError(
      `ssh ${connection.destination()}: reading files exited ${result.exitCode}: ${result.stderr.trim()}`,
    );
  return parseReadFileBytes(result.stdout, paths.length).map((bytes) =>
    bytes === undefined ? undefined : cappedText(bytes, maxBytes),
  );
}

/** Reads remote files, at most `maxBytes` of each, in one ssh call; undefined for a file that is not there. */
export async function readFiles(
  connection: SshConnection,
  paths: readonly string[],
  maxBytes: number,
): Promise<(string | undefined)[]> {
  return (await readFilesCapped(connection, paths, maxBytes)).map((file) => file?.text);
}

/** Reads READ_FILES' answer for `count` files; a short or malformed answer throws (never read as "no file"). */
export function parseReadFiles(data: Buffer, count: number): (string | undefined)[] {
  return parseReadFileBytes(data, count).map((bytes) => bytes?.toString('utf8'));
}

function parseReadFileBytes(data: Buffer, count: number): (Buffer | undefined)[] {
  const files: (Buffer | undefined)[] = [];
  let at = 0;
  while (files.length < count) {
    const eol = data.indexOf(0x0a, at);
    if (eol < 0) throw new SshRemoteError('ssh read: truncated answer');
    const header = data.subarray(at, eol).toString('utf8');
    at = eol + 1;
    if (header === '-') {
      files.push(undefined);
      continue;
    }
    if (!/^\d+$/.test(header)) throw new SshRemoteError(`ssh read: bad header ${JSON.stringify(header)}`);
    const size = Number(header);
    if (at + size > data.length) throw new SshRemoteError('ssh read: truncated answer');
    files.push(data.subarray(at, at + size));
    at += size;
  }
  if (at !== data.length) throw new SshRemoteError('ssh read: unexpected data after the last file');
  return files;
}

/** Removes the remote directory `root/name` and everything in it; no error when it is already gone. */
export async function removeDirectory(connection: SshConnection, root: string, name: string): Promise<void> {
  checkPath(root);
  checkName(name);
  const result = await connection.run(CLEAN, [root, name]);
  if (result.exitCode !== 0)
    throw new SshRemoteError(
      `ssh ${connection.destination()}: removing ${root}/${name} exited ${result.exitCode}`,
    );
}
