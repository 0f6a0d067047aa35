/**
 * End to end with a repository URL: the spec says `repository: http://127.0.0.1:PORT/All`, the job script fetches
 * the repository's pkg_summary with the node's fetch tool and each package file it installs. A local HTTP server
 * serves the site's repository directory the way a CDN or an object store does: files only, no index pages, so
 * pkg_add could not resolve a package name there (the simulator refuses it as the real pkg_add does).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { availableShells, World } from './harness.js';

/** Serves `dir` as /All/FILE; everything else (the directory /All/ too) is 404. Records the paths asked for. */
async function serveRepository(dir: string, seen: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    seen.push(url);
    const file = /^\/All\/([A-Za-z0-9._+-]+)$/.exec(url)?.[1];
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    readFile(join(dir, file)).then(
      (body) => res.writeHead(200).end(body),
      () => res.writeHead(404).end(),
    );
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  return { server, url: `http://127.0.0.1:${port}` };
}

describe.each(availableShells())('a repository URL in the spec, job script under %s', (...shell) => {
  let world: World;
  let server: Server;
  let base: string;
  let seen: string[];
  beforeEach(async () => {
    world = await World.create(shell);
    seen = [];
    await world.addSite('site-a');
    ({ server, url: base } = await serveRepository(world.repositoryOf('site-a'), seen));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await world.dispose();
  });

  it('plans the installs, applies them file by file from a URL without listings, and plans clean again', async () => {
    // root's dependencies are required too, so every package is one exact file installed in order.
    const packages = ['devel/zlib', 'lang/python311', 'math/fftw', 'math/gsl', 'math/root'];
    await world.writeSpec({ 'site-a': packages.map((p) => `      - ${p}`).join('\n') }, '', {
      repository: `${base}/All`,
    });

    const plan = await world.run('plan', '--detailed-exitcode');
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('+ math/gsl');
    expect(plan.stdout).toContain('install root-6.30.02');
    expect(plan.stdout).toContain(
      'Plan: 5 to install, 0 to upgrade, 0 to downgrade, 0 to remove on 1 of 1 site(s).',
    );
    expect(seen).toContain('/All/pkg_summary.gz');

    const apply = await world.run('apply', '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('site-a: applied');
    expect(await world.installed('site-a')).toEqual([
      'fftw-3.3.10',
      'gsl-2.8',
      'python311-3.11.7',
      'root-6.30.02',
      'zlib-1.3.1',
    ]);
    expect(seen).toContain('/All/root-6.30.02.tgz');

    const again = await world.run('plan', '--detailed-exitcode');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
  }, 180_000); // a safety net only: five pkg_add runs (dependencies are actions of their own) on a loaded machine

  it('says the site could not read the repository when the URL is wrong, and installs nothing', async () => {
    await world.writeSpec({ 'site-a': '      - math/gsl' }, '', { repository: `${base}/no/such/All` });

    const plan = await world.run('plan', '--detailed-exitcode');
    expect(plan.stdout).toContain('the site could not read the package repository');
    expect(plan.stdout).not.toContain('+ math/gsl');
    expect(await world.installed('site-a')).toEqual([]);
  });
});
