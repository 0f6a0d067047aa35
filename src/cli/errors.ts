/**
 * How an error that reaches the top of the CLI is told. Expected errors (bad input, a file that cannot be read or
 * written, a site that cannot be reached) are one plain message, errno codes in plain language. Only a true bug (a
 * TypeError and its kin) prints a stack trace, saying that it is a bug. GRIDPKG_DEBUG=1 adds the stack to every
 * error.
 */
import { describeFsError, errnoCode, StateDirError } from '../state/fs-errors.js';

/** Errors the JavaScript engine raises for mistakes in code: never caused by input, always a bug in gridpkg. */
const BUG_ERRORS = [TypeError, ReferenceError, RangeError, SyntaxError, EvalError, URIError];

export function isBug(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return BUG_ERRORS.some((kind) => error.constructor === kind);
}

/** The lines to print for an error, without the `gridpkg: ` prefix of the first. */
export function describeError(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const debug = env.GRIDPKG_DEBUG === '1';
  const stack = error instanceof Error && error.stack ? `\n${error.stack}` : '';
  if (isBug(error)) {
    return (
      `internal error: ${(error as Error).message}\n` +
      'This is a bug in gridpkg; please report it with the lines below.' +
      stack
    );
  }
  return `${messageOf(error)}${hintFor(error)}${debug ? stack : ''}`;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errnoCode(error);
  // A raw Node errno error (`EROFS: read-only file system, open '/x'`): say which file and why, plainly.
  if (code && error.message.startsWith(`${code}:`)) {
    const { path, syscall } = error as NodeJS.ErrnoException;
    return `${syscall ? `${syscall} ` : ''}${path ?? ''}: ${describeFsError(error)}`.trimStart();
  }
  return error.message;
}

function hintFor(error: unknown): string {
  if (error instanceof StateDirError) {
    return (
      '\n  hint: gridpkg records its jobs there before it submits any; choose a writable state directory with ' +
      '--state-dir DIR or GRIDPKG_STATE_DIR=DIR. Nothing was submitted.'
    );
  }
  return '';
}
