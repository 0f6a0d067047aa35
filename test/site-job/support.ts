/** Helpers of the site job tests: real tools (shells, shellcheck) are required in CI and skipped loudly locally. */
import { spawnSync } from 'node:child_process';

const known = new Map<string, boolean>();

/** True when `name` is on PATH. */
export function haveTool(name: string): boolean {
  let found = known.get(name);
  if (found === undefined) {
    found = spawnSync('sh', ['-c', 'command -v "$1" >/dev/null 2>&1', 'sh', name]).status === 0;
    known.set(name, found);
  }
  return found;
}

/**
 * Whether the tests that need `name` can run. In CI (`CI` set) a missing tool is a failure: this throws. Locally it
 * returns false and says loudly what is skipped and why.
 */
export function requireTool(name: string, purpose = 'these tests'): boolean {
  if (haveTool(name)) return true;
  const message = `${name} is not installed: ${purpose} cannot run`;
  if (process.env.CI) throw new Error(`${message} (CI is set, so this is a failure, not a skip)`);
  console.warn(`\n*** SKIPPED: ${message}. Install ${name} to run them. ***\n`);
  return false;
}

/** The shells the job script must run under, as command + arguments; each one required like a tool. */
export const SHELLS: ReadonlyArray<{ name: string; command: readonly string[] }> = [
  { name: 'dash', command: ['dash'] },
  { name: 'bash', command: ['bash'] },
  { name: 'bash --posix', command: ['bash', '--posix'] },
  { name: 'busybox sh', command: ['busybox', 'sh'] },
];
