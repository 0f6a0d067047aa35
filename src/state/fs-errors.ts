/**
 * File-system errors in plain language. A Node errno error says `ENOSPC: no space left on device, write`; the user
 * needs to know which of gridpkg's files failed and why, not which system call.
 */

const PLAIN_LANGUAGE: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EBUSY: 'the file is busy',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'the file already exists',
  EFBIG: 'the file is too large',
  EIO: 'input/output error',
  EISDIR: 'it is a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the file name is too long',
  ENFILE: 'too many open files in the system',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space left on device',
  ENOTDIR: 'a part of the path is not a directory',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ESTALE: 'stale file handle (NFS)',
};

/** The errno code of a Node system error (`ENOSPC`), if it is one. */
export function errnoCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** `no space left on device (ENOSPC)`; the error's own message for anything that is not an errno error. */
export function describeFsError(error: unknown): string {
  if (error instanceof FileError) return error.reason;
  const code = errnoCode(error);
  if (code) return `${PLAIN_LANGUAGE[code] ?? (error as Error).message.replace(/,.*$/, '')} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * An expected failure on one of gridpkg's files: the message says what gridpkg was doing, on which file, and why
 * (`could not save the observation of site-a to /st/observations/site-a.json: no space left on device (ENOSPC)`).
 */
export class FileError extends Error {
  override name = 'FileError';
  readonly code: string | undefined;

  constructor(
    readonly action: string,
    readonly path: string,
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${action} ${path}: ${reason}`, options);
    this.code = errnoCode(options.cause);
  }

  /** Wraps a file-system error (or another FileError's reason) as `ACTION PATH: plain reason`. */
  static from(action: string, path: string, error: unknown): FileError {
    return new FileError(action, path, describeFsError(error), { cause: error });
  }
}

/** The state directory cannot be created or written: nothing can be recorded, so nothing may be submitted. */
export class StateDirError extends FileError {
  override name = 'StateDirError';

  constructor(stateDir: string, doing: string, error: unknown) {
    super('cannot use the state directory', stateDir, `${describeFsError(error)} (${doing})`, {
      cause: error,
    });
  }
}
