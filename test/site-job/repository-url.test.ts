/**
 * The site job with a repository URL: PKG_PATH is the URL (the simulator's pkg_add fetches from it, as the real one
 * does with libfetch), and the `avail` lines come from URL/pkg_summary.gz (or .bz2, or plain) fetched with curl, wget
 * or busybox wget, whichever the node has first. A local HTTP server on 127.0.0.1 serves a simulated repository.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteRequest } from '../../src/grid/protocol/types.js';
import { BOOTSTRAP_PACKAGES, createRepository, DEFAULT_PACKAGES } from '../pkgsrc-sim/repository.js';
import { createSite, type SimSite, sitePrefix } from '../pkgsrc-sim/site.js';
import { JobRoom, type JobRun, reportOf, userPackages } from './harness.js';
import { requireTool, SHELLS } from './support.js';

let root: string;
/** The repository served for a tag without one of its own (built for a prefix no site here has). */
let repository: string;
/** Each site's repository, built for its prefix, served under its tag. */
const repositories = new Map<string, string>();
/** The prefix `repository` is built for: no site's. */
let FOREIGN: string;
let server: Server;
let base: string;
let downUrl: string;
/** Requests the server saw: "METHOD path user-agent status". */
const seen: string[] = [];

/**
 * Serves the repository of TAG under /t/TAG/All/ (TAG: a test's own prefix, so its requests can be told apart),
 * /t/TAG/plain/All/ serves everything but pkg_summary.gz (the script falls back to .bz2, then the plain file);
 * anything else is 404. Like a CDN or an object store it has no index pages: a directory is 404, so real pkg_add
 * (and the simulator) can resolve no package name here, only exact file URLs.
 */
function serve(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
  const url = req.url ?? '';
  const m = /^\/t\/([A-Za-z0-9-]+)(\/plain)?\/All\/([A-Za-z0-9._+-]+)$/.exec(url);
  const file = m?.[3];
  const served = repositories.get(m?.[1] ?? '') ?? repository;
  const log = (status: number) =>
    seen.push(`${req.method} ${url} ${req.headers['user-agent'] ?? '-'} ${status}`);
  if (file === undefined || (m?.[2] && file === 'pkg_summary.gz')) {
    log(404);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  readFile(join(served, file)).then(
    (body) => {
      log(200);
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    },
    () => {
      log(404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    },
  );
}

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

/** A PATH of symlinks to every program on PATH except `hidden` (to make the script pick another fetch tool). */
async function pathWithout(name: string, hidden: readonly string[]): Promise<string> {
  const dir = join(root, `bin-${name}`);
  await mkdir(dir);
  const done = new Set<string>();
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const entries = await readdir(d).catch(() => [] as string[]);
    for (const e of entries) {
      if (hidden.includes(e) || done.has(e)) continue;
      done.add(e);
      await symlink(join(d, e), join(dir, e));
    }
  }
  return dir;
}

const FETCHERS: ReadonlyArray<{ name: string; hidden: string[]; agent: RegExp }> = [
  { name: 'curl', hidden: [], agent: /^curl\// },
  { name: 'wget', hidden: ['curl'], agent: /^Wget\/\d/ },
  { name: 'busybox wget', hidden: ['curl', 'wget'], agent: /^Wget$/ },
];
const paths = new Map<string, string>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridpkg-repo-url-'));
  await chmod(root, 0o755);
  FOREIGN = sitePrefix(join(root, 'foreign-site'));
  repository = await createRepository(join(root, 'packages'), undefined, { prefix: FOREIGN });
  server = createServer(serve);
  base = `http://127.0.0.1:${await listen(server)}`;
  const down = createServer();
  downUrl = `http://127.0.0.1:${await listen(down)}/All`;
  await new Promise((resolve) => down.close(resolve));
  for (const f of FETCHERS) {
    if (f.hidden.length > 0)
      paths.set(f.name, await pathWithout(basename(f.name.replace(' ', '-')), f.hidden));
  }
});

afterAll(async () => {
  if (server) await new Promise((resolve) => server.close(resolve));
  if (root) await rm(root, { recursive: true, force: true });
});

let count = 0;
async function freshSite(): Promise<{ site: SimSite; room: JobRoom; tag: string }> {
  count += 1;
  const n = count; // taken before any await: tests run concurrently
  const dir = join(root, `site-${n}`);
  await mkdir(dir, { mode: 0o755 });
  const own = await createRepository(join(dir, 'packages'), undefined, {
    prefix: sitePrefix(join(dir, 'root')),
  });
  const site = await createSite({ root: join(dir, 'root'), repository: own });
  await chmod(join(dir, 'root'), 0o755);
  const tag = `s${n}`;
  repositories.set(tag, own);
  return { site, room: await JobRoom.create(dir), tag };
}

function request(
  site: SimSite,
  mode: 'probe' | 'apply',
  url: string,
  extra: Partial<SiteRequest> = {},
): SiteRequest {
  count += 1;
  return { jobId: `url-${mode}-${count}`, mode, swdir: site.swdir, repository: url, actions: [], ...extra };
}

/** No scratch left: the script's work directory and the simulator's download directory are gone. */
async function expectClean(run: JobRun, site: SimSite, room: JobRoom): Promise<void> {
  expect((await readdir(run.jobDir)).sort()).toEqual(['report.txt', 'request.txt']);
  expect(existsSync(join(site.swdir, '.gridpkg-lock'))).toBe(false);
  expect(await readdir(room.tmp)).toEqual([]);
}

const requestsOf = (tag: string) => seen.filter((line) => line.includes(` /t/${tag}/`));
const AVAILABLE = DEFAULT_PACKAGES.map((p) => ({ pkgname: p.pkgname, pkgpath: p.pkgpath })).sort((a, b) =>
  a.pkgname < b.pkgname ? -1 : a.pkgname > b.pkgname ? 1 : 0,
);
/** PKGNAME and PKGPATH of each `avail` line, sorted (the build facts and DEPENDS are checked in site-job.test.ts). */
const sorted = (list: readonly { pkgname: string; pkgpath: string }[]) =>
  list
    .map(({ pkgname, pkgpath }) => ({ pkgname, pkgpath }))
    .sort((a, b) => (a.pkgname < b.pkgname ? -1 : a.pkgname > b.pkgname ? 1 : 0));

const shells = SHELLS.filter(
  (s) =>
    s.name !== 'bash --posix' &&
    requireTool(s.command[0] as string, `the repository URL tests under ${s.name}`),
);
const haveFetchers = ['curl', 'wget', 'busybox'].every((t) => requireTool(t, 'the repository URL tests'));

describe.runIf(haveFetchers).concurrent.each(shells)(
  'site-job.sh with a repository URL under $name',
  ({ command: shell }) => {
    it.each(
      FETCHERS.map((f) => [f.name, f] as const),
    )('lists what the repository offers, fetched with %s', async (_, fetcher) => {
      const { site, room, tag } = await freshSite();
      const hidden = paths.get(fetcher.name);
      const env = hidden ? { PATH: hidden } : undefined;
      const run = await room.run(shell, request(site, 'probe', `${base}/t/${tag}/All`), env ? { env } : {});
      const report = reportOf(run);
      expect(run.code).toBe(0);
      expect(report.status).toBe('ok');
      expect(report.notes).toEqual([]);
      expect(sorted(report.available)).toEqual(AVAILABLE);
      // One package file tells the prefix the repository is built for (here: this site's).
      expect(report.repositoryPrefix).toBe(site.prefix);
      const requests = requestsOf(tag);
      expect(requests.map((r) => r.split(' ')[1])).toEqual([
        `/t/${tag}/All/pkg_summary.gz`,
        `/t/${tag}/All/bmake-20150505.tgz`,
      ]);
      expect(requests[0]?.split(' ').slice(2, -1).join(' ')).toMatch(fetcher.agent);
      await expectClean(run, site, room);
    });

    it('falls back to pkg_summary.bz2, then the plain pkg_summary', async () => {
      const { site, room, tag } = await freshSite();
      const run = await room.run(shell, request(site, 'probe', `${base}/t/${tag}/plain/All`));
      const report = reportOf(run);
      expect(report.status).toBe('ok');
      expect(sorted(report.available)).toEqual(AVAILABLE);
      expect(requestsOf(tag).map((r) => r.split(' ')[1])).toEqual([
        `/t/${tag}/plain/All/pkg_summary.gz`,
        `/t/${tag}/plain/All/pkg_summary.bz2`,
        `/t/${tag}/plain/All/pkg_summary`,
        `/t/${tag}/plain/All/bmake-20150505.tgz`,
      ]);
      await expectClean(run, site, room);
    });

    it('installs root after its dependencies, each by exact file, from a server without listings', async () => {
      const { site, room, tag } = await freshSite();
      const url = `${base}/t/${tag}/All`;
      const order = ['zlib-1.3.1', 'python311-3.11.7', 'fftw-3.3.10', 'gsl-2.8', 'root-6.30.02'];
      const run = await room.run(
        shell,
        request(site, 'apply', url, {
          actions: order.map((pkgname) => ({
            verb: 'install' as const,
            pkgpath: DEFAULT_PACKAGES.find((p) => p.pkgname === pkgname)?.pkgpath ?? 'x/x',
            pkgname,
            file: `${pkgname}.tgz`,
          })),
        }),
      );
      const report = reportOf(run);
      expect(report.status).toBe('ok');
      expect(report.actions.map((a) => `${a.pkgname} ${a.result}`)).toEqual(order.map((n) => `${n} ok`));
      expect(userPackages(report, BOOTSTRAP_PACKAGES)).toEqual([
        'fftw-3.3.10',
        'gsl-2.8',
        'python311-3.11.7',
        'root-6.30.02',
        'zlib-1.3.1',
      ]);
      // Every package came as its own file (the server has no listings: a name would have failed).
      for (const name of order)
        expect(requestsOf(tag).some((r) => r.includes(`/All/${name}.tgz `))).toBe(true);
      await expectClean(run, site, room);
    });

    it('refuses a package file built for another prefix, and writes nothing there', async () => {
      const { site, room } = await freshSite();
      // No repository of its own under this tag: the server hands out the one built for another prefix.
      const url = `${base}/t/foreign/All`;
      const run = await room.run(
        shell,
        request(site, 'apply', url, {
          actions: [{ verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8', file: 'gsl-2.8.tgz' }],
        }),
      );
      const report = reportOf(run);
      expect(report.status).toBe('partial');
      expect(report.actions).toMatchObject([
        {
          pkgname: 'gsl-2.8',
          result: 'failed',
          message: `gsl-2.8.tgz is built for prefix ${FOREIGN}, not this site's prefix ${site.prefix}; not installed (pkg_add would write into ${FOREIGN})`,
        },
      ]);
      expect(report.repositoryPrefix).toBe(FOREIGN);
      expect(existsSync(FOREIGN)).toBe(false);
      await expectClean(run, site, room);
    });

    it('reports no avail lines and a note when the URL answers 404; a probe is still ok', async () => {
      const { site, room, tag } = await freshSite();
      const url = `${base}/t/${tag}/nothing-here`;
      const run = await room.run(shell, request(site, 'probe', url));
      const report = reportOf(run);
      expect(run.code).toBe(0);
      expect(report.status).toBe('ok');
      expect(report.available).toEqual([]);
      expect(report.notes).toEqual([`no readable pkg_summary at ${url} (curl exit 22)`]);
      await expectClean(run, site, room);
    });

    it('fails an install, and notes the unreadable repository, when the server is down', async () => {
      const { site, room } = await freshSite();
      const run = await room.run(
        shell,
        request(site, 'apply', downUrl, {
          actions: [{ verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8' }],
        }),
      );
      const report = reportOf(run);
      expect(report.status).toBe('partial');
      expect(report.actions).toMatchObject([
        {
          pkgname: 'gsl-2.8',
          result: 'failed',
          message: `cannot fetch ${downUrl}/gsl-2.8.tgz (curl exit 7)`,
        },
      ]);
      expect(report.available).toEqual([]);
      expect(report.notes).toEqual([`no readable pkg_summary at ${downUrl} (curl exit 7)`]);
      await expectClean(run, site, room);

      const probe = reportOf(await room.run(shell, request(site, 'probe', downUrl)));
      expect(probe.status).toBe('ok');
      expect(probe.notes).toEqual([`no readable pkg_summary at ${downUrl} (curl exit 7)`]);
    });

    it('names the fetch tool in the note, whichever it was', async () => {
      const { site, room, tag } = await freshSite();
      const url = `${base}/t/${tag}/nothing-here`;
      const wget = reportOf(
        await room.run(shell, request(site, 'probe', url), { env: { PATH: paths.get('wget') ?? '' } }),
      );
      expect(wget.notes).toEqual([`no readable pkg_summary at ${url} (wget exit 8)`]);
      const busybox = reportOf(
        await room.run(shell, request(site, 'probe', url), {
          env: { PATH: paths.get('busybox wget') ?? '' },
        }),
      );
      expect(busybox.notes).toEqual([`no readable pkg_summary at ${url} (busybox wget exit 1)`]);
    });
  },
);
