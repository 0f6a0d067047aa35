// Test-only hooks of the pkgsrc simulator (NOT behaviour of pkg_install; see README.md, "Test-only hooks"). With
// neither variable set they do nothing. They let a test see when a package tool runs and hold it running, to play
// a slow pkg_add against the site lock.
//
//   PKGSIM_TEST_ACTIVITY_LOG=FILE   pkg_add and pkg_delete append "start TOOL PID MS" before and "end TOOL PID MS"
//                                   after their work (MS: milliseconds since 1970; one short O_APPEND write each)
//   PKGSIM_TEST_HOLD_UNTIL=FILE     after the start line, pkg_add and pkg_delete wait until FILE exists
import { appendFileSync, existsSync } from 'node:fs';

const HELD_TOOLS: ReadonlySet<string> = new Set(['pkg_add', 'pkg_delete']);
const HOLD_POLL_MS = 50;

function record(log: string | undefined, what: 'start' | 'end', tool: string): void {
  if (log) appendFileSync(log, `${what} ${tool} ${process.pid} ${Date.now()}\n`);
}

/** Runs `work` for `tool` between the activity log's start and end lines, held first while the hold file is absent. */
export async function withTestHooks(
  tool: string,
  env: NodeJS.ProcessEnv,
  work: () => Promise<number>,
): Promise<number> {
  if (!HELD_TOOLS.has(tool)) return work();
  const log = env.PKGSIM_TEST_ACTIVITY_LOG || undefined;
  const hold = env.PKGSIM_TEST_HOLD_UNTIL || undefined;
  record(log, 'start', tool);
  while (hold && !existsSync(hold)) await new Promise((resolve) => setTimeout(resolve, HOLD_POLL_MS));
  try {
    return await work();
  } finally {
    record(log, 'end', tool);
  }
}
