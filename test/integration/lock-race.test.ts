/**
 * Two controllers with separate state directories apply to the same site at once (issue 9, item 1). The first one's
 * pkg_add is held running (the pkgsrc simulator's test-only hold) for longer than lockStaleAfter, which is at the
 * spec's floor; the second one's jobs run as if on another worker node (a `uname` that says so), so only the lock's
 * heartbeat can keep them out. A site-side log (the simulator's test-only activity log) shows when each pkg_add and
 * pkg_delete ran: they must never overlap, and the second run must report the site locked.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIN_LOCK_STALE_SECONDS } from '../../src/spec/resolve.js';
import { cli, World } from './harness.js';

const TIMEOUT_MS = 300_000; // a safety net: the test waits on files, and once on purpose past lockStaleAfter
const THIS_HOST = hostname().replace(/[^A-Za-z0-9._-]/g, '') || 'unknown';

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const readText = (file: string): Promise<string | undefined> => readFile(file, 'utf8').catch(() => undefined);

interface ToolRun {
  tool: string;
  pid: string;
  start: number;
  end: number | undefined;
}

/** The activity log as one interval per tool process. */
async function toolRuns(log: string): Promise<ToolRun[]> {
  const runs = new Map<string, ToolRun>();
  for (const line of ((await readText(log)) ?? '').split('\n').filter(Boolean)) {
    const [what, tool = '', pid = '', ms = ''] = line.split(' ');
    if (what === 'start') runs.set(pid, { tool, pid, start: Number(ms), end: undefined });
    else {
      const run = runs.get(pid);
      if (run) run.end = Number(ms);
    }
  }
  return [...runs.values()];
}

describe('two controllers applying to one site at once', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['dash']);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it(
    'never run two jobs on its package database: the second finds the site locked while the first pkg_add runs past lockStaleAfter',
    async () => {
      const site = await world.addSite('site-a');
      const log = join(world.root, 'site-activity.log');
      const gate = join(world.root, 'release-pkg_add');
      const otherNode = join(world.root, 'other-node');
      await mkdir(otherNode);
      const realUname = ['/usr/bin/uname', '/bin/uname'].find((p) => existsSync(p)) ?? 'uname';
      await writeFile(
        join(otherNode, 'uname'),
        `#!/bin/sh\nif [ "$1" = -n ]; then echo other-node; exit 0; fi\nexec ${realUname} "$@"\n`,
        { mode: 0o755 },
      );
      const spec = async (name: string, environment: Record<string, string>) => {
        const file = join(world.root, `${name}.yaml`);
        await writeFile(
          file,
          [
            'apiVersion: gridpkg/v1',
            'defaults:',
            '  vo: pvier',
            `  repository: ${world.repository}`,
            'sites:',
            '  site-a:',
            `    softwareArea: ${site.swdir}`,
            `    lockStaleAfter: ${MIN_LOCK_STALE_SECONDS}s`,
            `    backend: { type: local, shell: [dash], environment: ${JSON.stringify(environment)} }`,
            '    packages:',
            '      - math/gsl',
            '',
          ].join('\n'),
        );
        return file;
      };
      const first = await spec('first', {
        PKGSIM_TEST_ACTIVITY_LOG: log,
        PKGSIM_TEST_HOLD_UNTIL: gate,
      });
      const second = await spec('second', {
        PKGSIM_TEST_ACTIVITY_LOG: log,
        PATH: `${otherNode}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      });
      const stateOf = (name: string) => join(world.root, `state-${name}`);
      const apply = (file: string, name: string) =>
        cli(['apply', '-f', file, '--state-dir', stateOf(name), '--auto-approve']);

      const firstRun = apply(first, 'first');
      let secondRun: Awaited<ReturnType<typeof apply>> | undefined;
      let firstDone: Awaited<ReturnType<typeof apply>> | undefined;
      try {
        // The first controller's apply job is in pkg_add, held there.
        await waitFor(
          'the first pkg_add to start',
          async () => ((await toolRuns(log)).length > 0 ? true : undefined),
          120_000,
        );
        const lock = join(site.swdir, '.gridpkg-lock');
        const owner = ((await readText(join(lock, 'owner'))) ?? '').trim().split(' ');
        const takenAt = Number(owner[3]);
        expect(owner[0]).toMatch(/^site-a-apply-/);
        // Wait on purpose until the lock is older than lockStaleAfter by the time it was taken (one clock here).
        await waitFor(
          'the lock to be older than lockStaleAfter',
          async () => (Date.now() / 1000 > takenAt + MIN_LOCK_STALE_SECONDS + 2 ? true : undefined),
          180_000,
        );
        secondRun = await apply(second, 'second');
      } finally {
        await writeFile(gate, '');
        firstDone = await firstRun;
      }

      // The site-side log: every pkg_add/pkg_delete ended before the next one started; the only one was the first's.
      const runs = (await toolRuns(log)).sort((a, b) => a.start - b.start);
      for (const [i, run] of runs.entries()) {
        expect(run.end, `${run.tool} ${run.pid} ended`).toBeDefined();
        const next = runs[i + 1];
        if (next)
          expect(next.start, `${next.tool} ${next.pid} started while ${run.pid} ran`).toBeGreaterThanOrEqual(
            run.end as number,
          );
      }
      expect(runs.map((r) => r.tool)).toEqual(['pkg_add']);

      // The second run reports the site locked, with a readable owner, and applied nothing.
      if (!secondRun || !firstDone) throw new Error('a controller did not run');
      const secondText = `${secondRun.stdout}\n${secondRun.stderr}`;
      expect(secondRun.code).not.toBe(0);
      expect(secondText).toMatch(
        new RegExp(
          `locked by another job: job site-a-apply-\\S+ on host ${THIS_HOST.replace(/\./g, '\\.')} \\(pid \\d+\\), ` +
            'taken \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC, last heartbeat \\d+ s ago',
        ),
      );
      expect(secondText).not.toMatch(/converged|broke the site lock/);
      const secondJobs = existsSync(join(stateOf('second'), 'ledger', 'history'))
        ? await readdir(join(stateOf('second'), 'ledger', 'history'))
        : [];
      expect(secondJobs.filter((name) => name.includes('-apply-'))).toEqual([]);

      // The first run converged, and the site has what it installed.
      expect(firstDone.code).toBe(0);
      expect(firstDone.stdout).toContain('site-a: applied');
      expect(await world.installed('site-a')).toEqual(['gsl-2.8']);
    },
    TIMEOUT_MS,
  );
});
