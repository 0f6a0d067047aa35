/**
 * A full disk without a full disk: test files mock node:fs/promises with `failingDiskModule` (see
 * test/state/atomic.test.ts), then choose which files fail and where: the write, the fsync, or a write that hangs
 * until released (to interrupt a write in progress).
 */
import type * as fsp from 'node:fs/promises';

export type FailStage = 'write' | 'sync' | 'hang';

export interface FailingDisk {
  /** The errno code a file opened for writing at this path fails with; undefined: it works. */
  failWith?: (path: string) => string | undefined;
  stage: FailStage;
  /** Resolves the writes held by stage 'hang'. */
  release(): void;
}

export function createFailingDisk(): FailingDisk {
  return { stage: 'write', release: () => undefined };
}

const MESSAGES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'i/o error',
};

function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${MESSAGES[code] ?? 'failed'}, ${syscall}`), {
    code,
    syscall,
    path,
  });
}

/** The node:fs/promises module with `open` replaced: handles of failing paths fail as `disk` says. */
export function failingDiskModule(actual: typeof fsp, disk: FailingDisk): typeof fsp {
  const open: typeof fsp.open = async (path, flags, mode) => {
    const handle = await actual.open(path, flags, mode);
    const code = disk.failWith?.(String(path));
    if (code === undefined) return handle;
    if (disk.stage === 'write')
      handle.writeFile = async () => Promise.reject(errnoError(code, 'write', String(path)));
    if (disk.stage === 'sync')
      handle.sync = async () => Promise.reject(errnoError(code, 'fsync', String(path)));
    if (disk.stage === 'hang') {
      handle.writeFile = () =>
        new Promise<void>((resolve) => {
          disk.release = resolve;
        });
    }
    return handle;
  };
  return { ...actual, open };
}
