/**
 * The site job's `upgrade-pkg_install` action (pkgsrc.minPkgInstall), under every shell it must support, against
 * sites of the pkgsrc simulator (test/pkgsrc-sim: a test double of pkg_install, not pkgsrc).
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteAction, SiteRequest } from '../../src/grid/protocol/types.js';
import { NEEDS_NEW_PKG_INSTALL, NEW_PKG_INSTALL } from '../pkgsrc-sim/newer-tools.js';
import { DEFAULT_PACKAGES, type PackageDefinition } from '../pkgsrc-sim/repository.js';
import { createSiteWithRepository, type SiteWithRepository } from '../pkgsrc-sim/site.js';
import { JobRoom, reportOf, snapshot } from './harness.js';
import { requireTool, SHELLS } from './support.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridpkg-site-job-tools-'));
  await chmod(root, 0o755);
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const UPGRADE_TOOLS: SiteAction = {
  verb: 'upgrade-pkg_install',
  pkgpath: 'pkgtools/pkg_install',
  pkgname: 'pkg_install-20211115',
};
const INSTALL_NEWTOOL: SiteAction = { verb: 'install', pkgpath: 'devel/newtool', pkgname: 'newtool-1.0' };

let count = 0;
async function freshSite(
  packages: readonly PackageDefinition[],
): Promise<{ site: SiteWithRepository; room: JobRoom }> {
  count += 1;
  const dir = join(root, `site-${count}`);
  await mkdir(dir, { mode: 0o755 });
  const site = await createSiteWithRepository({
    root: join(dir, 'root'),
    repositoryDir: join(dir, 'packages'),
    packages,
  });
  return { site, room: await JobRoom.create(dir) };
}

function request(site: SiteWithRepository, actions: SiteAction[]): SiteRequest {
  count += 1;
  const mode = actions.length > 0 ? 'apply' : 'probe';
  return { jobId: `tools-${count}`, mode, swdir: site.swdir, repository: site.repository, actions };
}

const shells = SHELLS.filter((s) =>
  requireTool(s.command[0] as string, `the site job tests under ${s.name}`),
);

describe.concurrent.each(shells)('upgrade-pkg_install under $name', ({ command: shell }) => {
  it('upgrades pkg_install first, so the next action may need it; the next probe reports the new version', async () => {
    const { site, room } = await freshSite([...DEFAULT_PACKAGES, NEW_PKG_INSTALL, NEEDS_NEW_PKG_INSTALL]);
    const report = reportOf(await room.run(shell, request(site, [UPGRADE_TOOLS, INSTALL_NEWTOOL])));
    expect(report.status).toBe('ok');
    expect(report.actions.map((a) => `${a.verb} ${a.pkgname} ${a.result}`)).toEqual([
      'upgrade-pkg_install pkg_install-20211115 ok',
      'install newtool-1.0 ok',
    ]);
    // The version line is read before the actions; the post-state lists the new registration.
    expect(report.pkgsrc).toMatchObject({ state: 'present', version: '20170419' });
    const names = report.installed.map((p) => p.pkgname);
    expect(names).toContain('pkg_install-20211115');
    expect(names).not.toContain('pkg_install-20170419');
    const probe = reportOf(await room.run(shell, request(site, [])));
    expect(probe.pkgsrc).toMatchObject({ state: 'present', version: '20211115' });
    // Idempotent: a re-run after a lost report skips it.
    const again = reportOf(await room.run(shell, request(site, [UPGRADE_TOOLS])));
    expect(again.actions.map((a) => [a.result, a.message])).toEqual([['skipped', 'already installed']]);
  });

  it('runs nothing after a failed pkg_install upgrade, and ends partial', async () => {
    // The repository has no pkg_install-20211115.tgz: the upgrade fails, newtool must not be tried.
    const { site, room } = await freshSite([...DEFAULT_PACKAGES, NEEDS_NEW_PKG_INSTALL]);
    const before = await snapshot(site.pkgdb);
    const gsl: SiteAction = { verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8' };
    const run = await room.run(shell, request(site, [UPGRADE_TOOLS, INSTALL_NEWTOOL, gsl]));
    const report = reportOf(run);
    expect(run.code).toBe(1);
    expect(report.status).toBe('partial');
    expect(report.statusMessage).toBe('3 of 3 action(s) failed');
    expect(report.actions.map((a) => [a.verb, a.pkgname, a.result, a.message])).toEqual([
      [
        'upgrade-pkg_install',
        'pkg_install-20211115',
        'failed',
        `no package file ${site.repository}/pkg_install-20211115.tgz`,
      ],
      ['install', 'newtool-1.0', 'failed', 'not run: the pkg_install upgrade before it failed'],
      ['install', 'gsl-2.8', 'failed', 'not run: the pkg_install upgrade before it failed'],
    ]);
    expect(await snapshot(site.pkgdb)).toEqual(before);
  });

  it('refuses upgrade-pkg_install anywhere but first, or for another package, before touching the site', async () => {
    const { site, room } = await freshSite(DEFAULT_PACKAGES);
    const head = ['gridpkg-request 1', 'job j', 'mode apply', `swdir ${site.swdir}`];
    const cases: Array<[string[], string]> = [
      [
        [
          'action install math/gsl gsl-2.8 gsl-2.8.tgz',
          'action upgrade-pkg_install pkgtools/pkg_install pkg_install-20211115 pkg_install-20211115.tgz',
        ],
        'line 6: upgrade-pkg_install only as the first action',
      ],
      [
        ['action upgrade-pkg_install math/gsl pkg_install-20211115 pkg_install-20211115.tgz'],
        'line 5: upgrade-pkg_install takes pkgtools/pkg_install',
      ],
      [
        ['action upgrade-pkg_install pkgtools/pkg_install gsl-2.8 gsl-2.8.tgz'],
        'line 5: upgrade-pkg_install takes a pkg_install PKGNAME',
      ],
      [
        ['action upgrade-pkg_install pkgtools/pkg_install pkg_install-20211115'],
        'line 5: upgrade-pkg_install needs the package FILE',
      ],
    ];
    const before = await snapshot(site.swdir);
    for (const [actions, message] of cases) {
      const run = await room.run(shell, `${[...head, ...actions, 'end'].join('\n')}\n`);
      expect(reportOf(run).statusMessage, actions.join(' / ')).toContain(`invalid request ${message}`);
      expect(run.code).toBe(1);
    }
    expect(await snapshot(site.swdir)).toEqual(before);
  });
});
