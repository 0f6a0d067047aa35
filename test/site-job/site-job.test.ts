/**
 * The site job script, run directly (`<shell> site-job.sh request report`) under every shell it must support,
 * against sites of the pkgsrc simulator (test/pkgsrc-sim: a test double of pkg_install, not pkgsrc).
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteAction, SiteRequest } from '../../src/grid/protocol/types.js';
import { BOOTSTRAP_PACKAGES, createRepository, DEFAULT_PACKAGES } from '../pkgsrc-sim/repository.js';
import { type CreateSiteOptions, createSite, type SimSite, sitePrefix } from '../pkgsrc-sim/site.js';
import { JobRoom, type JobRun, reportOf, SCRIPT, snapshot, userPackages } from './harness.js';
import { requireTool, SHELLS } from './support.js';

let root: string;
/** A repository built for another prefix (another site's software area): no site here may install from it. */
let foreignRepository: string;
let foreignPrefix: string;
/** Each site's own repository, built for its prefix (the layout real pkg_add installs from), by prefix. */
const repositories = new Map<string, string>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridpkg-site-job-'));
  await chmod(root, 0o755);
  foreignPrefix = sitePrefix(join(root, 'foreign'));
  foreignRepository = await createRepository(join(root, 'foreign-packages'), undefined, {
    prefix: foreignPrefix,
  });
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const PKGPATH = new Map(DEFAULT_PACKAGES.map((p) => [p.pkgname, p.pkgpath]));
const pathOf = (pkgname: string): string => PKGPATH.get(pkgname) ?? 'unknown/unknown';
const action = (verb: SiteAction['verb'], pkgname: string): SiteAction => ({
  verb,
  pkgpath: pathOf(pkgname),
  pkgname,
});

let siteCount = 0;

/** A fresh simulated site and a room for its jobs, in their own directory. */
async function freshSite(
  options: Partial<CreateSiteOptions> = {},
): Promise<{ site: SimSite; room: JobRoom }> {
  siteCount += 1;
  const dir = join(root, `site-${siteCount}`);
  await mkdir(dir, { mode: 0o755 });
  const repository = await createRepository(join(dir, 'packages'), undefined, {
    prefix: sitePrefix(join(dir, 'root')),
  });
  const site = await createSite({ root: join(dir, 'root'), repository, ...options });
  repositories.set(site.prefix, repository);
  await chmod(join(dir, 'root'), 0o755);
  const room = await JobRoom.create(dir);
  return { site, room };
}

let jobCount = 0;
function request(site: SimSite, mode: 'probe' | 'apply', extra: Partial<SiteRequest> = {}): SiteRequest {
  jobCount += 1;
  const repository = repositories.get(site.prefix);
  return { jobId: `test-${mode}-${jobCount}`, mode, swdir: site.swdir, repository, actions: [], ...extra };
}

/** Nothing left behind: no temporary report, no lock, no scratch directory. */
async function expectClean(run: JobRun, site: SimSite, room: JobRoom): Promise<void> {
  expect((await readdir(run.jobDir)).sort()).toEqual(['report.txt', 'request.txt']);
  expect(existsSync(join(site.swdir, '.gridpkg-lock'))).toBe(false);
  expect((await readdir(site.swdir)).filter((n) => n.startsWith('.gridpkg'))).toEqual([]);
  expect(await readdir(room.tmp)).toEqual([]);
}

const shells = SHELLS.filter((s) =>
  requireTool(s.command[0] as string, `the site job tests under ${s.name}`),
);

describe.concurrent.each(shells)('site-job.sh under $name', ({ name, command: shell }) => {
  const shellFact = name === 'busybox sh' ? 'busybox' : (name.split(' ')[0] as string);

  it('probes a freshly bootstrapped site', async () => {
    const { site, room } = await freshSite();
    const before = await snapshot(site.swdir);
    const run = await room.run(shell, request(site, 'probe'));
    const report = reportOf(run);
    expect(run.code).toBe(0);
    expect(report.status).toBe('ok');
    expect(report.facts).toMatchObject({ shell: shellFact, os: 'Linux' });
    expect(report.facts.hostname).toBeTruthy();
    expect(report.swdir).toBe(site.swdir);
    expect(report.lock).toEqual({ state: 'acquired' });
    expect(report.pkgsrc).toEqual({ state: 'present', prefix: site.prefix, version: '20170419' });
    expect(report.installed).toEqual(
      [...BOOTSTRAP_PACKAGES]
        .sort()
        .map((pkgname) => ({ pkgname, pkgpath: pathOf(pkgname), automatic: false })),
    );
    expect(report.installed).toHaveLength(6);
    expect(report.available.map((a) => `${a.pkgname} ${a.pkgpath}`).sort()).toEqual(
      DEFAULT_PACKAGES.map((p) => `${p.pkgname} ${p.pkgpath}`).sort(),
    );
    expect(report.auditStatus?.status).toBe('clean');
    expect(report.auditStatus?.message).toMatch(/list not refreshed: .*Could not fetch vulnerability file/);
    expect(report.fingerprintBefore).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(report.fingerprintAfter).toBe(report.fingerprintBefore);
    expect(report.actions).toEqual([]);
    expect(report.notes).toEqual([]);
    // stdout carries the same report between the markers, and nothing else
    expect(run.stdout).toBe(`==== gridpkg-report begin ====\n${run.reportText}==== gridpkg-report end ====`);
    expect(await snapshot(site.swdir)).toEqual(before);
    await expectClean(run, site, room);
  });

  it('reports audit findings and a missing vulnerability list', async () => {
    const vulnerable = await freshSite({ installed: ['openssl-3.0.13'] });
    const report = reportOf(await vulnerable.room.run(shell, request(vulnerable.site, 'probe')));
    expect(report.auditStatus?.status).toBe('vulnerable');
    expect(report.audit).toEqual([
      {
        pkgname: 'openssl-3.0.13',
        type: 'denial-of-service',
        url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-4603',
      },
      {
        pkgname: 'openssl-3.0.13',
        type: 'buffer-overflow',
        url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-5535',
      },
    ]);
    expect(report.status).toBe('ok');

    const noList = await freshSite({ vulnerabilityList: 'missing' });
    const run = await noList.room.run(shell, request(noList.site, 'probe'));
    expect(reportOf(run).auditStatus?.status).toBe('no-list');
    expect(reportOf(run).auditStatus?.message).toMatch(
      /^no vulnerability list on the site: pkg_admin exit 1: pkg_admin: Cannot open \/.*\/pkg-vulnerabilities: No such file or directory; list not refreshed: /,
    );
    expect(reportOf(run).status).toBe('ok');
    expect(run.code).toBe(0);
  });

  it('says the audit did not run when the vulnerability list is damaged, never "clean"', async () => {
    // A vulnerable package and a list whose #CHECKSUM no longer matches: the real pkg_admin audit prints
    // `pkg_admin: SHA512 hash doesn't match` and exits 1, finding nothing.
    const { site, room } = await freshSite({ installed: ['openssl-3.0.13'] });
    const list = join(site.pkgdb, 'pkg-vulnerabilities');
    await writeFile(list, (await readFile(list, 'utf8')).replace('openssl<3.0.14', 'openssl<3.0.15'));
    const run = await room.run(shell, request(site, 'probe'));
    const report = reportOf(run);
    expect(report.auditStatus).toEqual({
      status: 'skipped',
      message:
        "pkg_admin exit 1: pkg_admin: SHA512 hash doesn't match; list not refreshed: pkg_admin exit 1: " +
        'pkg_admin: Could not fetch vulnerability file: No address record',
    });
    expect(report.audit).toEqual([]);
    expect(report.status).toBe('ok');
    expect(run.code).toBe(0);
  });

  it("refuses a copied prefix whose pkg_install still uses the original's database (PKG_DBDIR is compiled in)", async () => {
    const original = await freshSite();
    const copyRoot = join(root, `copy-${++siteCount}`);
    await mkdir(copyRoot, { mode: 0o755 });
    const copy = join(copyRoot, 'sw');
    await execa('cp', ['-a', original.site.swdir, copy]);
    const room = await JobRoom.create(copyRoot);
    const before = await snapshot(original.site.swdir);
    const copyBefore = await snapshot(copy);
    const apply = {
      ...request(original.site, 'apply'),
      swdir: copy,
      actions: [action('install', 'gsl-2.8')],
    };
    const run = await room.run(shell, apply);
    const report = reportOf(run);
    expect(report.pkgsrc).toEqual({
      state: 'foreign-pkgdb',
      prefix: `${copy}/pkg`,
      pkgdb: original.site.pkgdb,
    });
    expect(report.status).toBe('error');
    expect(report.statusMessage).toBe(
      `the package database ${original.site.pkgdb} is not this site's: bootstrap pkgsrc again at ${copy}/pkg, ` +
        "or set PKG_DBDIR in the job's environment",
    );
    expect(report.installed).toEqual([]);
    expect(report.actions).toEqual([]);
    expect(run.code).toBe(1);
    // Neither the original's database nor the copy was read for packages or changed.
    expect(await snapshot(original.site.swdir)).toEqual(before);
    expect(await snapshot(copy)).toEqual(copyBefore);
    await expectClean(run, { ...original.site, swdir: copy }, room);

    // The fix: PKG_DBDIR set (on purpose) in the job's environment to the copy's own database.
    const fixed = await room.run(shell, request(original.site, 'probe', { swdir: copy }), {
      env: { PKG_DBDIR: `${copy}/pkg/pkgdb` },
    });
    expect(reportOf(fixed).status).toBe('ok');
    expect(reportOf(fixed).pkgsrc).toMatchObject({ state: 'present', prefix: `${copy}/pkg` });
  });

  it('accepts its own database reached through a symbolic link to the software area', async () => {
    const { site, room } = await freshSite();
    const link = join(site.root, '..', 'sw-link');
    await symlink(site.swdir, link);
    const run = await room.run(shell, request(site, 'probe', { swdir: link }));
    expect(reportOf(run).status).toBe('ok');
    expect(reportOf(run).pkgsrc).toEqual({ state: 'present', prefix: `${link}/pkg`, version: '20170419' });
  });

  describe('a software area shared by the pool accounts of one group', () => {
    const isRoot = process.getuid?.() === 0;
    // Another account of the site owner's group (the sites belong to this process's uid and gid).
    const poolAccount = (): [number, number] => [65534, process.getgid?.() ?? 0];

    it('reports what bootstrap leaves not group-writable (pkgdb/ 0755, pkgdb.byfile.db 0644)', async () => {
      const { site, room } = await freshSite();
      const report = reportOf(await room.run(shell, request(site, 'probe')));
      expect(report.status).toBe('ok');
      expect(report.softwareArea?.writable).toBe(true);
      expect(report.softwareArea?.notGroupWritable).toBeGreaterThan(6);
      expect(report.softwareArea?.example).toBe(site.prefix);
    });

    it('reports nothing to fix after chmod -R g+w, and leaves it so after an install (umask 002)', async () => {
      const { site, room } = await freshSite({ groupWritable: true });
      const probe = reportOf(await room.run(shell, request(site, 'probe')));
      expect(probe.softwareArea).toEqual({ writable: true, notGroupWritable: 0, example: undefined });
      const apply = reportOf(
        await room.run(shell, request(site, 'apply', { actions: [action('install', 'gsl-2.8')] })),
      );
      expect(apply.status).toBe('ok');
      const again = reportOf(await room.run(shell, request(site, 'probe')));
      expect(again.softwareArea).toEqual({ writable: true, notGroupWritable: 0, example: undefined });
    });

    it('as another pool account: read-only where bootstrap left it so, writable after chmod -R g+w', async () => {
      if (!isRoot || !requireTool('setpriv', 'the pool account test (running as root)')) return;
      const left = await freshSite();
      const denied = reportOf(
        await left.room.run(shell, request(left.site, 'probe'), { user: poolAccount() }),
      );
      expect(denied.status).toBe('ok');
      expect(denied.softwareArea?.writable).toBe(false);
      expect(denied.softwareArea?.example).toBe(left.site.prefix);

      const shared = await freshSite({ groupWritable: true });
      const run = await shared.room.run(
        shell,
        request(shared.site, 'apply', { actions: [action('install', 'gsl-2.8')] }),
        { user: poolAccount() },
      );
      expect(reportOf(run).actions.map((a) => a.result)).toEqual(['ok']);
      expect(reportOf(run).softwareArea).toEqual({ writable: true, notGroupWritable: 0, example: undefined });
    });
  });

  it('reports pkgsrc absent without touching the software area', async () => {
    const { site, room } = await freshSite({ bootstrap: false });
    const run = await room.run(shell, request(site, 'probe'));
    const report = reportOf(run);
    expect(run.code).toBe(1);
    expect(report.pkgsrc).toEqual({ state: 'absent', prefix: site.prefix });
    expect(report.status).toBe('error');
    expect(report.statusMessage).toMatch(/^pkgsrc is not installed under /);
    expect(report.installed).toEqual([]);
    expect(await readdir(site.swdir)).toEqual([]);
    await expectClean(run, site, room);
  });

  it('reports the prefix its repository is built for', async () => {
    const { site, room } = await freshSite();
    const own = reportOf(await room.run(shell, request(site, 'probe')));
    expect(own.repositoryPrefix).toBe(site.prefix);
    const foreign = reportOf(
      await room.run(shell, request(site, 'probe', { repository: foreignRepository })),
    );
    expect(foreign.repositoryPrefix).toBe(foreignPrefix);
  }, 300_000); // a safety net for a loaded machine: two jobs run one after another

  it('refuses to add a package file built for another prefix, and writes nothing there', async () => {
    const { site, room } = await freshSite();
    const run = await room.run(
      shell,
      request(site, 'apply', {
        repository: foreignRepository,
        actions: [action('install', 'gsl-2.8'), action('upgrade', 'zlib-1.3.1')],
      }),
    );
    const report = reportOf(run);
    expect(report.status).toBe('partial');
    const refusal = (file: string) =>
      `${file} is built for prefix ${foreignPrefix}, not this site's prefix ${site.prefix}; not installed (pkg_add would write into ${foreignPrefix})`;
    expect(report.actions.map((a) => [a.pkgname, a.result, a.message])).toEqual([
      ['gsl-2.8', 'failed', refusal('gsl-2.8.tgz')],
      ['zlib-1.3.1', 'failed', refusal('zlib-1.3.1.tgz')],
    ]);
    expect(userPackages(report, BOOTSTRAP_PACKAGES)).toEqual([]);
    expect(existsSync(foreignPrefix)).toBe(false);
    await expectClean(run, site, room);
  }, 300_000); // a safety net for a loaded machine: two jobs run one after another

  it('adds the exact file the action names, not what a name lookup would pick', async () => {
    const { site, room } = await freshSite();
    const run = await room.run(
      shell,
      request(site, 'apply', {
        actions: [{ verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.7nb1', file: 'gsl-2.7nb1.tgz' }],
      }),
    );
    const report = reportOf(run);
    expect(report.status).toBe('ok');
    expect(userPackages(report, BOOTSTRAP_PACKAGES)).toEqual(['gsl-2.7nb1']);
    const missing = reportOf(
      await room.run(
        shell,
        request(site, 'apply', {
          actions: [{ verb: 'install', pkgpath: 'math/fftw', pkgname: 'fftw-3.3.10', file: 'fftw-9.tgz' }],
        }),
      ),
    );
    expect(missing.actions).toMatchObject([
      { result: 'failed', message: `no package file ${repositories.get(site.prefix)}/fftw-9.tgz` },
    ]);
  }, 300_000); // a safety net for a loaded machine: two jobs run one after another

  it('installs root with its dependencies as automatic, then skips it the second time', async () => {
    const { site, room } = await freshSite();
    const run = await room.run(
      shell,
      request(site, 'apply', { actions: [action('install', 'root-6.30.02')] }),
    );
    const report = reportOf(run);
    expect(run.code).toBe(0);
    expect(report.status).toBe('ok');
    expect(report.actions).toEqual([
      { index: 1, verb: 'install', pkgpath: 'math/root', pkgname: 'root-6.30.02', result: 'ok', message: '' },
    ]);
    expect(userPackages(report, BOOTSTRAP_PACKAGES)).toEqual([
      'fftw-3.3.10*',
      'gsl-2.8*',
      'python311-3.11.7*',
      'root-6.30.02',
      'zlib-1.3.1*',
    ]);
    expect(report.dependencies).toEqual(
      expect.arrayContaining([
        { pkgname: 'root-6.30.02', pattern: 'gsl>=2.7' },
        { pkgname: 'root-6.30.02', pattern: 'fftw>=3' },
        { pkgname: 'python311-3.11.7', pattern: 'zlib>=1.2' },
      ]),
    );
    expect(report.fingerprintAfter).not.toBe(report.fingerprintBefore);
    await expectClean(run, site, room);

    const again = await room.run(
      shell,
      request(site, 'apply', {
        actions: [action('install', 'root-6.30.02')],
        expectFingerprint: report.fingerprintAfter,
      }),
    );
    const second = reportOf(again);
    expect(again.code).toBe(0);
    expect(second.actions[0]).toMatchObject({ result: 'skipped', message: 'already installed' });
    expect(second.fingerprintBefore).toBe(report.fingerprintAfter);
    expect(second.fingerprintAfter).toBe(report.fingerprintAfter);
  });

  it('lists each available package with its file, build facts and DEPENDS', async () => {
    const { site, room } = await freshSite();
    const report = reportOf(await room.run(shell, request(site, 'probe')));
    expect(report.available.find((a) => a.pkgname === 'root-6.30.02')).toEqual({
      pkgname: 'root-6.30.02',
      pkgpath: 'math/root',
      fileName: 'root-6.30.02.tgz',
      pkgtoolsVersion: '20091115',
      opsys: 'Linux',
      machineArch: 'x86_64',
      depends: ['fftw>=3', 'gsl>=2.7', 'python311>=3.11'],
    });
    expect(report.available.find((a) => a.pkgname === 'zlib-1.3.1')?.depends).toEqual([]);
  });

  it('leaves out a whole pkg_summary record with an unsafe DEPENDS or FILE_NAME, and says so', async () => {
    const { site, room } = await freshSite();
    const hostile = join(site.swdir, 'hostile-repo');
    await mkdir(hostile);
    await writeFile(
      join(hostile, 'pkg_summary'),
      [
        'DEPENDS=zlib>=1.3;rm -rf /',
        'PKGNAME=evil-1.0',
        'PKGPATH=misc/evil',
        'FILE_NAME=evil-1.0.tgz',
        '',
        'PKGNAME=sneaky-1.0',
        'PKGPATH=misc/sneaky',
        'FILE_NAME=../../etc/passwd',
        '',
        'DEPENDS=zlib>=1.3',
        'PKGNAME=good-1.0',
        'PKGPATH=misc/good',
        'OPSYS=Linux',
        '',
      ].join('\n'),
    );
    const report = reportOf(await room.run(shell, request(site, 'probe', { repository: hostile })));
    expect(report.status).toBe('ok');
    expect(report.available).toEqual([
      { pkgname: 'good-1.0', pkgpath: 'misc/good', opsys: 'Linux', depends: ['zlib>=1.3'] },
    ]);
    // The repository's prefix is read from the first record that passed (this repository has no package files).
    expect(report.notes).toEqual([
      '2 pkg_summary record(s) with an unsafe PKGNAME, PKGPATH, FILE_NAME, build fact or DEPENDS pattern skipped',
      `the repository prefix is unknown: no package file ${hostile}/good-1.0.tgz`,
    ]);
  });

  it('marks an install named on an automatic line as automatic, and only that one', async () => {
    const { site, room } = await freshSite({ installed: ['zlib-1.2.13'] });
    const run = await room.run(
      shell,
      request(site, 'apply', {
        actions: [
          action('upgrade', 'zlib-1.3.1'),
          { ...action('install', 'gsl-2.8'), automatic: true },
          action('install', 'hdf5-1.14.3'),
        ],
      }),
    );
    const report = reportOf(run);
    expect(report.status).toBe('ok');
    expect(report.actions.map((a) => `${a.verb} ${a.pkgname} ${a.result}`)).toEqual([
      'upgrade zlib-1.3.1 ok',
      'install gsl-2.8 ok',
      'install hdf5-1.14.3 ok',
    ]);
    expect(userPackages(report, BOOTSTRAP_PACKAGES)).toEqual(['gsl-2.8*', 'hdf5-1.14.3', 'zlib-1.3.1']);
  });

  it('upgrades gsl 2.7nb1 to 2.8 and downgrades it to 2.6', async () => {
    const { site, room } = await freshSite({ installed: ['gsl-2.7nb1'] });
    const up = reportOf(
      await room.run(shell, request(site, 'apply', { actions: [action('upgrade', 'gsl-2.8')] })),
    );
    expect(up.status).toBe('ok');
    expect(up.actions[0]?.result).toBe('ok');
    expect(userPackages(up, BOOTSTRAP_PACKAGES)).toEqual(['gsl-2.8']);

    const down = reportOf(
      await room.run(shell, request(site, 'apply', { actions: [action('downgrade', 'gsl-2.6')] })),
    );
    expect(down.status).toBe('ok');
    expect(down.actions[0]?.result).toBe('ok');
    expect(userPackages(down, BOOTSTRAP_PACKAGES)).toEqual(['gsl-2.6']);
    expect(down.installed.find((p) => p.pkgname === 'gsl-2.6')?.pkgpath).toBe('math/gsl');
  });

  it('removes a package, and skips removing one that is not installed', async () => {
    const { site, room } = await freshSite({ installed: ['gsl-2.8'] });
    const run = await room.run(
      shell,
      request(site, 'apply', { actions: [action('remove', 'gsl-2.8'), action('remove', 'fftw-3.3.10')] }),
    );
    const report = reportOf(run);
    expect(run.code).toBe(0);
    expect(report.actions.map((a) => [a.pkgname, a.result, a.message])).toEqual([
      ['gsl-2.8', 'ok', ''],
      ['fftw-3.3.10', 'skipped', 'not installed'],
    ]);
    expect(userPackages(report, BOOTSTRAP_PACKAGES)).toEqual([]);
    expect(existsSync(join(site.pkgdb, 'gsl-2.8'))).toBe(false);
    await expectClean(run, site, room);
  });

  it('reports a refused removal as a failed action, runs the rest, and ends partial', async () => {
    const { site, room } = await freshSite({ installed: ['root-6.30.02'] });
    const run = await room.run(
      shell,
      request(site, 'apply', { actions: [action('remove', 'gsl-2.8'), action('install', 'cmake-3.28.1')] }),
    );
    const report = reportOf(run);
    expect(run.code).toBe(1);
    expect(report.status).toBe('partial');
    expect(report.statusMessage).toBe('1 of 2 action(s) failed');
    expect(report.actions[0]).toMatchObject({ pkgname: 'gsl-2.8', result: 'failed' });
    expect(report.actions[0]?.message).toMatch(
      /^pkg_delete exit 1: .*gsl-2\.8.* is still required by other packages: root-6\.30\.02$/,
    );
    expect(report.actions[1]).toMatchObject({ pkgname: 'cmake-3.28.1', result: 'ok' });
    expect(userPackages(report, BOOTSTRAP_PACKAGES)).toEqual([
      'cmake-3.28.1',
      'fftw-3.3.10*',
      'gsl-2.8*',
      'python311-3.11.7*',
      'root-6.30.02',
      'zlib-1.3.1*',
    ]);
    await expectClean(run, site, room);
  });

  it('reports a fresh lock as busy and changes nothing', async () => {
    const { site, room } = await freshSite();
    const lock = join(site.swdir, '.gridpkg-lock');
    await mkdir(lock);
    const owner = `other-job wn-9 4242 ${Math.floor(Date.now() / 1000) - 60}\n`;
    await writeFile(join(lock, 'owner'), owner);
    const before = await snapshot(site.swdir);
    const run = await room.run(shell, request(site, 'apply', { actions: [action('install', 'gsl-2.8')] }));
    const report = reportOf(run);
    expect(run.code).toBe(3);
    expect(report.status).toBe('locked');
    expect(report.lock).toMatchObject({ state: 'busy', owner: owner.trim() });
    expect(report.actions).toEqual([]);
    expect(report.installed).toEqual([]);
    expect(report.fingerprintBefore).toBeUndefined();
    expect(await snapshot(site.swdir)).toEqual(before);
    expect(await readFile(join(lock, 'owner'), 'utf8')).toBe(owner);
  });

  it('breaks a stale lock and proceeds', async () => {
    const { site, room } = await freshSite();
    const lock = join(site.swdir, '.gridpkg-lock');
    await mkdir(lock);
    const owner = `dead-job wn-9 4242 ${Math.floor(Date.now() / 1000) - 7200}`;
    await writeFile(join(lock, 'owner'), `${owner}\n`);
    const run = await room.run(shell, request(site, 'apply', { actions: [action('install', 'gsl-2.8')] }));
    const report = reportOf(run);
    expect(run.code).toBe(0);
    expect(report.lock).toMatchObject({ state: 'broken-stale', owner });
    expect(report.status).toBe('ok');
    expect(userPackages(report, BOOTSTRAP_PACKAGES)).toEqual(['gsl-2.8']);
    await expectClean(run, site, room);
  });

  it('judges a lock without owner by its age, with the request lock-stale', async () => {
    const { site, room } = await freshSite();
    const lock = join(site.swdir, '.gridpkg-lock');
    await mkdir(lock);
    const fresh = reportOf(await room.run(shell, request(site, 'probe', { lockStaleSeconds: 600 })));
    expect(fresh.status).toBe('locked');
    expect(fresh.lock).toEqual({ state: 'busy', owner: 'unknown owner' });
    const old = new Date(Date.now() - 3600_000);
    await utimes(lock, old, old);
    const stale = reportOf(await room.run(shell, request(site, 'probe', { lockStaleSeconds: 600 })));
    expect(stale.status).toBe('ok');
    expect(stale.lock).toEqual({ state: 'broken-stale', owner: 'unknown owner' });
  });

  it('refuses with stale when the package database changed since the plan', async () => {
    const { site, room } = await freshSite({ installed: ['gsl-2.7nb1'] });
    const probe = reportOf(await room.run(shell, request(site, 'probe')));
    const before = await snapshot(site.swdir);
    const run = await room.run(
      shell,
      request(site, 'apply', {
        actions: [action('upgrade', 'gsl-2.8')],
        expectFingerprint: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
      }),
    );
    const report = reportOf(run);
    expect(run.code).toBe(3);
    expect(report.status).toBe('stale');
    expect(report.actions).toEqual([]);
    expect(report.fingerprintBefore).toBe(probe.fingerprintAfter);
    expect(report.installed).toEqual(probe.installed); // the full post-state, for re-planning
    expect(report.available.length).toBeGreaterThan(0);
    expect(await snapshot(site.swdir)).toEqual(before);
    await expectClean(run, site, room);

    const matching = reportOf(
      await room.run(
        shell,
        request(site, 'apply', {
          actions: [action('upgrade', 'gsl-2.8')],
          expectFingerprint: probe.fingerprintAfter,
        }),
      ),
    );
    expect(matching.status).toBe('ok');
    expect(userPackages(matching, BOOTSTRAP_PACKAGES)).toEqual(['gsl-2.8']);
  });

  it('compares a cksum fingerprint with cksum', async () => {
    const { site, room } = await freshSite();
    const probe = reportOf(await room.run(shell, request(site, 'probe')));
    const first = reportOf(await room.run(shell, request(site, 'apply', { expectFingerprint: 'cksum:1-2' })));
    expect(first.status).toBe('stale');
    expect(first.fingerprintBefore).toMatch(/^cksum:[0-9]+-[0-9]+$/);
    const second = reportOf(
      await room.run(shell, request(site, 'apply', { expectFingerprint: first.fingerprintBefore })),
    );
    expect(second.status).toBe('ok');
    expect(second.fingerprintAfter).toBe(first.fingerprintBefore);
    expect(probe.fingerprintAfter).toMatch(/^sha256:/);
  });

  describe('refuses hostile requests before touching the site', () => {
    const hostile: Array<[string, (marker: string) => string]> = [
      ['a semicolon', (m) => `action install math/gsl gsl;touch${'$'}{IFS}${m}`],
      ['a semicolon and space', (m) => `action install math/gsl gsl;touch ${m}`],
      ['command substitution', (m) => `action install math/gsl gsl-$(touch ${m})`],
      ['command substitution without space', (m) => `action install math/gsl $(touch${'$'}{IFS}${m})`],
      ['backquotes', (m) => `action install math/gsl gsl-\`touch ${m}\``],
      ['backquotes without space', (m) => `action install math/gsl \`touch${'$'}{IFS}${m}\``],
      ['a line split by a newline', (m) => `action install math/gsl\ngsl-2.8 ${m}`],
      ['a newline-split pkgpath', () => 'action install math/\ngsl gsl-2.8'],
      ['a tab', () => 'action install\tmath/gsl gsl-2.8'],
      ['a carriage return', () => 'action install math/gsl gsl-2.8\r'],
      ['an option for pkg_add', () => 'action install math/gsl -fgsl-2.8'],
      ['a swdir with ..', () => 'swdir /tmp/../etc'],
      ['a glob', () => 'action remove math/gsl gsl-*'],
      ['a redirection', (m) => `action install math/gsl gsl-2.8>${m}`],
    ];
    // Refused before the lock, these jobs never write to the site: they share one (asserting it unchanged), each
    // with a room of its own for its job directory and scratch space.
    let shared: Promise<SimSite> | undefined;
    const hostileSite = (): Promise<SimSite> =>
      (shared ??= freshSite({ installed: ['gsl-2.7nb1'] }).then(({ site }) => site));
    it.each(hostile)('%s', async (_, line) => {
      const site = await hostileSite();
      const room = await JobRoom.create(dirname(site.root));
      const marker = join(room.dir, 'pwned');
      const text = [
        'gridpkg-request 1',
        'job hostile-1',
        'mode apply',
        `swdir ${site.swdir}`,
        line(marker),
        'end',
        '',
      ].join('\n');
      const before = await snapshot(site.swdir);
      const run = await room.run(shell, text);
      const report = reportOf(run);
      expect(run.code).toBe(1);
      expect(report.status).toBe('error');
      expect(report.statusMessage).toMatch(/^invalid request line [0-9]+: /);
      expect(report.jobId).toBeUndefined();
      expect(report.lock).toBeUndefined();
      expect(existsSync(marker)).toBe(false);
      expect(await snapshot(site.swdir)).toEqual(before);
      await expectClean(run, site, room);
    });

    it('refuses malformed request files', async () => {
      const { site, room } = await freshSite();
      const good = ['gridpkg-request 1', 'job j', 'mode probe', `swdir ${site.swdir}`, 'end'];
      const cases: Array<[string, string]> = [
        ['', 'line 1: empty request'],
        ['gridpkg-request 2\nend\n', 'line 1: unsupported request version'],
        [`${good.slice(0, 4).join('\n')}\n`, 'line 4: no end line'],
        [`${good.join('\n')}\nmode apply\n`, 'line 6: text after end'],
        [`${good.slice(0, 3).join('\n')}\n\n${good.slice(3).join('\n')}\n`, 'line 4: empty line'],
        [`${good.slice(0, 3).join('\n')}\n# comment\nend\n`, 'line 4: character outside the protocol set'],
        ['gridpkg-request 1\nmode probe\nend\n', 'line 3: no job line'],
        [
          'gridpkg-request 1\njob j\nmode probe\naction install math/gsl gsl-2.8 gsl-2.8.tgz\nend\n',
          'line 4: a probe carries no actions',
        ],
        // install, upgrade and downgrade add one exact repository file; a removal names none.
        [
          'gridpkg-request 1\njob j\nmode apply\naction install math/gsl gsl-2.8\nend\n',
          'line 4: install needs the package FILE',
        ],
        [
          'gridpkg-request 1\njob j\nmode apply\naction remove math/gsl gsl-2.8 gsl-2.8.tgz\nend\n',
          'line 4: remove takes no FILE',
        ],
        [
          'gridpkg-request 1\njob j\nmode apply\naction upgrade math/gsl gsl-2.8 ../All/gsl-2.8.tgz\nend\n',
          'line 4: bad FILE',
        ],
        [
          'gridpkg-request 1\njob j\nmode apply\nlock-stale 1234567890\nend\n',
          'line 4: lock-stale must be 1-9 digits',
        ],
      ];
      for (const [text, message] of cases) {
        const run = await room.run(shell, text);
        expect(reportOf(run).statusMessage, JSON.stringify(text)).toContain(`invalid request ${message}`);
        expect(run.code).toBe(1);
      }
      const missing = await room.run(shell, '', { omitRequest: true });
      expect(reportOf(missing).statusMessage).toBe('cannot read the request file');
      expect(missing.code).toBe(1);
      expect(await readdir(site.swdir)).not.toContain('.gridpkg-lock');
    });
  });

  it('refuses a software area it cannot write to', async () => {
    const { site, room } = await freshSite();
    const isRoot = process.getuid?.() === 0;
    if (isRoot && !requireTool('setpriv', 'the unwritable software area test (running as root)')) return;
    await chmod(site.swdir, 0o555);
    try {
      const before = await snapshot(site.swdir);
      const run = await room.run(shell, request(site, 'probe'), isRoot ? { user: [65534, 65534] } : {});
      const report = reportOf(run);
      expect(run.code).toBe(1);
      expect(report.status).toBe('error');
      expect(report.statusMessage).toBe(`software area ${site.swdir} is not writable`);
      expect(report.lock).toBeUndefined();
      expect(await snapshot(site.swdir)).toEqual(before);
    } finally {
      await chmod(site.swdir, 0o775);
    }
  });

  it('finds the software area from VO_<VO>_SW_DIR', async () => {
    const { site, room } = await freshSite();
    const base: SiteRequest = { jobId: 'vo-1', mode: 'probe', vo: 'pvier.test-vo', actions: [] };
    const found = await room.run(shell, base, { env: { VO_PVIER_TEST_VO_SW_DIR: site.swdir } });
    expect(reportOf(found).swdir).toBe(site.swdir);
    expect(reportOf(found).status).toBe('ok');

    const unset = reportOf(await room.run(shell, base, { env: { VO_OTHER_SW_DIR: site.swdir } }));
    expect(unset.status).toBe('error');
    expect(unset.statusMessage).toBe(
      'VO_PVIER_TEST_VO_SW_DIR is not set: cannot find the software area of VO pvier.test-vo',
    );

    const marker = join(room.dir, 'pwned');
    const hostile = reportOf(
      await room.run(shell, base, { env: { VO_PVIER_TEST_VO_SW_DIR: `${site.swdir};touch ${marker}` } }),
    );
    expect(hostile.status).toBe('error');
    expect(hostile.statusMessage).toBe('VO_PVIER_TEST_VO_SW_DIR is not a safe absolute path');
    expect(existsSync(marker)).toBe(false);

    const none = reportOf(await room.run(shell, { jobId: 'vo-2', mode: 'probe', actions: [] }));
    expect(none.status).toBe('error');
    expect(none.statusMessage).toMatch(/names no swdir or vo/);
  });

  it('skips package database entries and values that would break the report', async () => {
    const { site, room } = await freshSite({ installed: ['gsl-2.8'] });
    for (const odd of ['evil;name-1.0', 'new\nline-1.0', 'sp ace-1.0', '-rf-1.0']) {
      await mkdir(join(site.pkgdb, odd));
      await writeFile(join(site.pkgdb, odd, '+CONTENTS'), `@name ${odd}\n`);
    }
    await mkdir(join(site.pkgdb, 'weird-1.0'));
    await writeFile(
      join(site.pkgdb, 'weird-1.0', '+CONTENTS'),
      '@pkgdep gsl>=2;id\n@pkgdep $(id)\n@pkgdep zlib>=1\n',
    );
    await writeFile(join(site.pkgdb, 'weird-1.0', '+BUILD_INFO'), 'PKGPATH=math/weird `id`\n');
    const run = await room.run(shell, request(site, 'probe'));
    const report = reportOf(run);
    expect(report.status).toBe('ok');
    expect(report.installed.find((p) => p.pkgname === 'weird-1.0')).toEqual({
      pkgname: 'weird-1.0',
      pkgpath: undefined,
      automatic: false,
    });
    expect(report.dependencies.filter((d) => d.pkgname === 'weird-1.0')).toEqual([
      { pkgname: 'weird-1.0', pattern: 'zlib>=1' },
    ]);
    expect(report.installed.map((p) => p.pkgname)).not.toContain('evil;name-1.0');
    expect(report.notes).toEqual([
      '1 installed package(s) with an unsafe PKGPATH listed with PKGPATH -',
      '2 @pkgdep line(s) with an unsafe pattern skipped',
      '4 package database entr(y/ies) with an unsafe name skipped',
    ]);
  });

  it('delivers the report on stdout alone when the report directory is not writable', async () => {
    const { site, room } = await freshSite();
    const isRoot = process.getuid?.() === 0;
    if (isRoot && !requireTool('setpriv', 'the unwritable report directory test (running as root)')) return;
    const run = await room.run(shell, request(site, 'probe'), {
      jobDirMode: 0o555,
      ...(isRoot ? { user: [65534, 65534] as [number, number] } : {}),
    });
    expect(run.reportText).toBeUndefined();
    expect(await readdir(run.jobDir)).toEqual(['request.txt']);
    expect(run.stdout).toMatch(
      /^==== gridpkg-report begin ====\ngridpkg-report 1\n[\s\S]*\nend\n==== gridpkg-report end ====$/,
    );
    // as root the job runs as nobody, who cannot write the software area either: still a complete report
    expect(reportOf(run).status).toBe(isRoot ? 'error' : 'ok');
    expect(await readdir(room.tmp)).toEqual([]);
  });

  it('writes the report file even when started with stdout closed', async () => {
    const { site, room } = await freshSite();
    const run = await room.run(shell, request(site, 'probe'), { closedStdout: true });
    expect(run.stdout).toBe('');
    expect(reportOf(run).status).toBe('ok');
    expect(run.code).toBe(0);
    await expectClean(run, site, room);
  });

  it('ends with status error, releases the lock and leaves no temporary file when killed', async () => {
    const { site, room } = await freshSite();
    const lock = join(site.swdir, '.gridpkg-lock');
    const run = await room.run(
      shell,
      request(site, 'apply', {
        actions: [action('install', 'root-6.30.02'), action('install', 'cmake-3.28.1')],
      }),
      {
        onStart: (job) => {
          const poll = setInterval(() => {
            if (existsSync(lock)) {
              clearInterval(poll);
              job.kill('SIGTERM');
            }
          }, 2);
          void job.finally(() => clearInterval(poll));
        },
      },
    );
    const report = reportOf(run);
    expect(report.status).toBe('error');
    expect(report.statusMessage).toBe('interrupted by signal TERM');
    expect(run.code).toBe(1);
    await expectClean(run, site, room);
  });
});

describe('the script file', () => {
  it('is a POSIX sh script', async () => {
    const text = await readFile(SCRIPT, 'utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    const code = text.split('\n').filter((line) => !line.trimStart().startsWith('#'));
    expect(code.filter((line) => /\beval\b/.test(line))).toEqual([]);
  });
});
