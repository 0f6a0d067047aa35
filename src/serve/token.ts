/** The bearer token of `--token-file`: read once, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { TerminalError } from '../model/errors.js';
import { readTextFile } from '../state/read-capped.js';

const MAX_TOKEN_BYTES = 4096;

export class TokenFileError extends TerminalError {
  override name = 'TokenFileError';
}

/** The token (the file's first line, surrounding white space dropped) and whether others may read the file. */
export async function readTokenFile(path: string): Promise<{ token: string; readableByOthers: boolean }> {
  let text: string;
  try {
    text = await readTextFile(path, 'the token file', MAX_TOKEN_BYTES);
  } catch (error) {
    throw new TokenFileError(`cannot read the token file ${path}: ${(error as Error).message}`);
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token.length < 16 || !/^[\x21-\x7e]+$/.test(token))
    throw new TokenFileError(
      `the token file ${path} must hold one token of at least 16 printable ASCII characters without spaces ` +
        '(e.g. from `openssl rand -hex 32`)',
    );
  const mode = (await stat(path)).mode;
  return { token, readableByOthers: (mode & 0o004) !== 0 };
}

/** Whether an Authorization header carries the token; the time taken does not depend on where they differ. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  // Hashing both sides gives equal lengths, so timingSafeEqual never throws and the length leaks nothing.
  const given = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted) && match !== null;
}
