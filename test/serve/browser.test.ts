/**
 * The served page in a real browser (Debian's chromium driven by playwright-core): under the Content-Security-Policy
 * header the server sends, the page's own inline script runs (the matrix filters), nothing is blocked or fetched,
 * and a hostile package name from a site shows as text and runs nothing. Skipped loudly without chromium or
 * playwright-core (in CI: a failure once package.json declares playwright-core).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReportServer, startReportServer } from '../../src/serve/server.js';
import { stateReportSource } from '../../src/serve/state-report.js';
import { World } from '../integration/harness.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

interface Chromium {
  launch(options: { executablePath: string; args: string[] }): Promise<Browser>;
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Page {
  on(event: 'console', listener: (message: { text(): string }) => void): void;
  on(event: 'request', listener: (request: { url(): string }) => void): void;
  goto(url: string, options: { extraHTTPHeaders?: Record<string, string> }): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  evaluate<T>(code: string): Promise<T>;
  textContent(selector: string): Promise<string | null>;
}

// A variable specifier: the type check does not need the package, which the project may not declare yet.
const PLAYWRIGHT = 'playwright-core';

async function loadChromium(): Promise<Chromium | undefined> {
  const module = (await import(PLAYWRIGHT).catch(() => undefined)) as { chromium: Chromium } | undefined;
  const reason = !CHROMIUM
    ? 'chromium is not installed (apt-get install chromium)'
    : module === undefined
      ? 'playwright-core is not installed'
      : undefined;
  if (reason === undefined) return module?.chromium;
  // In CI a missing browser fails the run once the project declares its browser driver.
  const declared = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    devDependencies?: Record<string, string>;
  };
  if (process.env.CI && declared.devDependencies?.[PLAYWRIGHT] !== undefined)
    throw new Error(`the browser test needs ${reason}`);
  console.warn(`\n*** SKIPPING the served page in a browser: ${reason} ***\n`);
  return undefined;
}

const chromium = await loadChromium();

describe.skipIf(chromium === undefined)('the served report in a browser', () => {
  let world: World;
  let server: ReportServer;
  let browser: Browser;
  const IMG = '<img src=x onerror="window.pwned=1">';

  beforeAll(async () => {
    world = await World.create(['dash']);
    await world.addSite('alpha', ['gsl-2.8']);
    await world.addSite('beta');
    await world.writeSpec({ alpha: '      - math/gsl', beta: '      - math/gsl' });
    await world.run('drift');
    // A hostile site reported a package of this name (as a crafted observation file would say).
    const path = join(world.stateDir, 'observations', 'alpha.json');
    const observation = JSON.parse(await readFile(path, 'utf8')) as { installed: unknown[] };
    observation.installed.push({ pkgname: `${IMG}-1.0`, pkgpath: 'evil/pkg', automatic: false });
    await writeFile(path, JSON.stringify(observation));
    server = await startReportServer({
      host: '127.0.0.1',
      port: 0,
      version: 'test',
      source: stateReportSource({ specFile: world.specFile, stateDir: world.stateDir }),
    });
    browser = await (chromium as Chromium).launch({
      executablePath: CHROMIUM as string,
      args: ['--no-sandbox', '--disable-gpu'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await world?.dispose();
  });

  it('runs its own script under the served policy, fetches nothing else, and runs nothing from a site', async () => {
    const page = await browser.newPage();
    const messages: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => messages.push(message.text()));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(server.url, {});
    const shownRows = () =>
      page.evaluate<string[]>(
        "Array.from(document.querySelectorAll('#matrix tbody tr:not([hidden]) td:first-child')).map(c => c.textContent)",
      );
    expect(await shownRows()).toEqual(expect.arrayContaining(['math/gsl', 'evil/pkg']));
    // The filter is the page's inline script: it works only if the policy let it run.
    await page.fill('#matrix-filter', 'math/gsl');
    expect(await shownRows()).toEqual(['math/gsl']);
    expect(await page.evaluate<unknown>('window.pwned')).toBeUndefined();
    expect(await page.evaluate<number>('document.images.length')).toBe(0);
    expect(await page.textContent('body')).toContain(`${IMG}-1.0`);
    expect(messages.filter((m) => /Content Security Policy|Refused/i.test(m))).toEqual([]);
    expect(requests).toEqual([server.url]);
  }, 60_000);
});
