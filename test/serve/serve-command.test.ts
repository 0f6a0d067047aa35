/**
 * `gridpkg serve` as a real process: it says where it listens, answers there, and Ctrl-C / SIGTERM stop it with
 * 130 / 143. Bad options stop it before it listens, with exit 1. Waits on the process's own output, never on time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { World } from '../integration/harness.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface Served {
  child: ChildProcess;
  /** The URL from the start-up line. */
  url: Promise<string>;
  done: Promise<{ code: number | null; stderr: string }>;
}

function serve(args: string[]): Served {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'serve', ...args],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let announce: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    announce = resolve;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    const found = /at (http:\/\/\S+\/) \(/.exec(stderr);
    if (found?.[1]) announce(found[1]);
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stderr }));
  });
  return { child, url, done };
}

describe('gridpkg serve (the process)', () => {
  let world: World;
  let common: string[];
  beforeAll(async () => {
    world = await World.create(['dash']);
    await world.addSite('alpha', ['gsl-2.8']);
    await world.writeSpec({ alpha: '      - math/gsl' });
    expect((await world.run('drift')).code).toBe(0);
    common = ['-f', world.specFile, '--state-dir', world.stateDir, '--listen', '127.0.0.1:0'];
  });
  afterAll(async () => {
    await world?.dispose();
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('serves on the port it announces until %s, then exits %i', async (signal, code) => {
    const served = serve(common);
    const url = await served.url;
    const metrics = await (await fetch(new URL('metrics', url))).text();
    expect(metrics).toContain('gridpkg_site_info{site="alpha",sync="in-sync",health="unrecorded"} 1');
    served.child.kill(signal);
    const end = await served.done;
    expect(end.code).toBe(code);
    expect(end.stderr).toMatch(/Serving the drift report of 1 site\(s\) at http:\/\/127\.0\.0\.1:\d+\//);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('requires the token of --token-file', async () => {
    const tokenFile = join(world.root, 'token');
    await writeFile(tokenFile, 'served-token-0123456789\n');
    await chmod(tokenFile, 0o600);
    const served = serve([...common, '--token-file', tokenFile]);
    const url = await served.url;
    expect((await fetch(url)).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: 'Bearer served-token-0123456789' } });
    expect(ok.status).toBe(200);
    served.child.kill('SIGTERM');
    expect((await served.done).stderr).toContain('bearer token required');
  });

  it.each([
    [['--listen', 'nowhere'], /cannot listen on "nowhere": expected HOST:PORT/],
    [['--token-file', '/nonexistent/token'], /cannot read the token file \/nonexistent\/token/],
    [['--site', 'nosuch'], /nosuch/],
  ])('exits 1 before listening on %j', async (extra, message) => {
    // In-process: each of these ends runCli before anything listens (a server would keep it waiting).
    const run = await world.run('serve', '--listen', '127.0.0.1:0', ...extra);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('Serving');
  });
});
