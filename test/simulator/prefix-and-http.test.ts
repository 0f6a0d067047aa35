// Two things the real pkg_install 20170419 does that the simulator (a test double) used to hide
// (../shared/pkgsrc-reference/README.md, "More facts"): a binary package installs into the prefix it was built for,
// whatever the site's prefix; and over http pkg_add resolves a name by listing the directory, which servers without
// index pages (CDNs, object stores) refuse, while a full file URL needs no listing.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository } from '../pkgsrc-sim/repository.js';
import { createSite, sitePrefix } from '../pkgsrc-sim/site.js';
import { makeTempDir, type ShResult, sh, siteEnv } from './helpers.js';

/** sh() without blocking the event loop: the http server of these tests runs in this process. */
function shAsync(command: string, env: NodeJS.ProcessEnv, cwd: string): Promise<ShResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `exec 2>&1\n${command}`], { env, cwd });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ output, status: status ?? 128 }));
  });
}

let tmp: ReturnType<typeof makeTempDir>;

beforeAll(() => {
  tmp = makeTempDir('prefix-http');
});
afterAll(() => tmp.cleanup());

describe('a package built for another prefix', () => {
  it('is extracted into its own @cwd, recorded so, and deleted from there', async () => {
    const siteA = path.join(tmp.dir, 'A');
    const siteB = path.join(tmp.dir, 'B');
    const repoA = await createRepository(path.join(tmp.dir, 'repo-A'), undefined, {
      prefix: sitePrefix(siteA),
    });
    const b = await createSite({ root: siteB, repository: repoA });
    const env = siteEnv(b, repoA);

    const prefixOf = sh(`pkg_info -q -p ${repoA}/gsl-2.8.tgz`, env, siteB);
    expect(prefixOf).toEqual({ output: `@cwd ${sitePrefix(siteA)}\n@cwd ${sitePrefix(siteA)}\n`, status: 0 });

    expect(sh('pkg_add gsl-2.8', env, siteB)).toEqual({ output: '', status: 0 });
    // Written into A's software area, not B's; B's database records where the files went.
    expect(readFileSync(path.join(sitePrefix(siteA), 'bin/gsl-hello'), 'utf8')).toBe(
      '#!/bin/sh\necho gsl-2.8\n',
    );
    expect(existsSync(path.join(b.prefix, 'bin/gsl-hello'))).toBe(false);
    expect(readFileSync(path.join(b.pkgdb, 'gsl-2.8', '+CONTENTS'), 'utf8')).toMatch(
      new RegExp(`^@cwd ${sitePrefix(siteA)}\n@name gsl-2.8\n`),
    );

    expect(sh('pkg_delete gsl-2.8', env, siteB)).toEqual({ output: '', status: 0 });
    expect(existsSync(path.join(sitePrefix(siteA), 'bin/gsl-hello'))).toBe(false);
  });
});

describe('an http repository', () => {
  let server: Server;
  let base: string;
  let repository: string;
  let root: string;

  beforeAll(async () => {
    root = path.join(tmp.dir, 'http-site');
    repository = await createRepository(path.join(tmp.dir, 'repo-http'), undefined, {
      prefix: sitePrefix(root),
    });
    // /cdn/All/FILE: files only, the directory itself is Forbidden (no index pages); /listed/All/ has an index.
    server = createServer((req, res) => {
      const m = /^\/(cdn|listed)\/All\/([A-Za-z0-9._+-]*)$/.exec(req.url ?? '');
      if (m === null) return void res.writeHead(404).end();
      if (m[2] === '') {
        if (m[1] === 'cdn') return void res.writeHead(403).end('Forbidden\n');
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>index</html>\n');
      }
      readFile(path.join(repository, m[2] as string)).then(
        (body) => res.writeHead(200).end(body),
        () => res.writeHead(404).end(),
      );
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('without directory listings cannot resolve a name, exactly as the real pkg_add says', async () => {
    const site = await createSite({ root, repository });
    const r = await shAsync('pkg_add root-6.30.02', siteEnv(site, `${base}/cdn/All`), root);
    expect(r).toEqual({
      output:
        `pkg_add: Can't process ${base}/cdn/All/root-6*: Forbidden\n` +
        "pkg_add: no pkg found for 'root-6.30.02', sorry.\n" +
        'pkg_add: 1 package addition failed\n',
      status: 1,
    });
    // A full file URL needs no listing; a missing dependency of it would (pattern lookup), so install those first.
    const env = siteEnv(site, `${base}/cdn/All`);
    for (const file of ['zlib-1.3.1', 'python311-3.11.7', 'fftw-3.3.10', 'gsl-2.8', 'root-6.30.02']) {
      expect(await shAsync(`pkg_add ${base}/cdn/All/${file}.tgz`, env, root), file).toEqual({
        output: '',
        status: 0,
      });
    }
    expect(existsSync(path.join(site.pkgdb, 'root-6.30.02', '+CONTENTS'))).toBe(true);
  });

  it('without listings cannot pull in a missing dependency of a file URL', async () => {
    const other = path.join(tmp.dir, 'http-site-2');
    const own = await createRepository(`${other}-repo`, undefined, { prefix: sitePrefix(other) });
    const site = await createSite({ root: other, repository: own });
    const r = await shAsync(
      `pkg_add ${base}/cdn/All/python311-3.11.7.tgz`,
      siteEnv(site, `${base}/cdn/All`),
      other,
    );
    expect(r.status).toBe(1);
    expect(r.output).toContain(`pkg_add: Can't process ${base}/cdn/All/zlib*: Forbidden\n`);
    expect(r.output).toContain("pkg_add: Can't install dependency zlib>=1.2\n");
  });

  it('with directory listings resolves names and dependencies', async () => {
    const listed = path.join(tmp.dir, 'http-site-3');
    const own = await createRepository(`${listed}-repo`, undefined, { prefix: sitePrefix(listed) });
    const site = await createSite({ root: listed, repository: own });
    // The served packages are built for `root`'s prefix: this checks resolution, not where files land.
    expect(await shAsync('pkg_add python311', siteEnv(site, `${base}/listed/All`), listed)).toEqual({
      output: '',
      status: 0,
    });
    expect(existsSync(path.join(site.pkgdb, 'zlib-1.3.1', '+INSTALLED_INFO'))).toBe(true);
  });
});
