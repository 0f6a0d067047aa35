/**
 * The one way gridpkg reads a file it did not just write: a regular file only (a FIFO would block forever, a
 * device like /dev/zero never ends), and never more than a cap. Opening with O_NONBLOCK makes opening a FIFO return
 * at once, so the type check can refuse it.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { FileError } from './fs-errors.js';

/** Text read from the start of a file, and whether the file went on beyond the cap. */
export interface CappedText {
  text: string;
  truncated: boolean;
}

const CHUNK_BYTES = 64 * 1024;

/** `4 MiB`, `512 KiB`, `100 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * Bytes read with a cap of `maxBytes + 1`, as text of at most `maxBytes` bytes: one byte more than the cap proves
 * the file was cut. Also used for remote reads that are asked for `maxBytes + 1` bytes.
 */
export function cappedText(bytes: Buffer, maxBytes: number): CappedText {
  const truncated = bytes.length > maxBytes;
  return { text: (truncated ? bytes.subarray(0, maxBytes) : bytes).toString('utf8'), truncated };
}

/**
 * The first `maxBytes` bytes of a regular file, and whether there was more. Throws the file-system error (ENOENT,
 * EACCES, ...) as it is, and a FileError for anything that is not a regular file.
 */
export async function readCapped(path: string, maxBytes: number): Promise<CappedText> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new FileError('cannot read', path, `it is ${kindOf(info)}, not a regular file`);
    // Read until the end, whatever stat said: files under /proc report size 0.
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= maxBytes) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    return cappedText(Buffer.concat(chunks, total), maxBytes);
  } finally {
    await handle.close();
  }
}

/**
 * The whole text of a regular file of at most `maxBytes`; `what` names it in errors (`the plan file`). Every
 * failure is a FileError that says what and why: missing, not a regular file, too large, unreadable.
 */
export async function readTextFile(path: string, what: string, maxBytes: number): Promise<string> {
  let read: CappedText;
  try {
    read = await readCapped(path, maxBytes);
  } catch (error) {
    throw FileError.from(`cannot read ${what}`, path, error);
  }
  if (read.truncated)
    throw new FileError(`cannot read ${what}`, path, `it is larger than ${formatBytes(maxBytes)}; not read`);
  return read.text;
}

function kindOf(info: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'a special file';
}
