/**
 * The HTML drift report in a real browser (Debian's chromium, driven headless by playwright-core): the page renders
 * its summary and matrix, the matrix filters and sorts, it fetches nothing from the network, and text from a hostile
 * site (an audit URL and a job message carrying markup and script) shows as text and runs nothing. A screenshot of
 * the report is kept as a test artefact (test-artifacts/drift-report.png).
 *
 * Without chromium the suite skips loudly; with CI=true it fails (.ci/run installs chromium).
 */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, World } from '../../integration/harness.js';

const execFileAsync = promisify(execFile);

const CHROMIUM = process.env.GRIDPKG_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');

function chromiumOrSkip(): string | undefined {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const message = `no chromium at ${CHROMIUM} (apt-get install chromium, or set GRIDPKG_CHROMIUM): the HTML report is not checked in a browser`;
  if (process.env.CI) throw new Error(`${message} (required in CI)`);
  console.warn(`SKIPPED: ${message}`);
  return undefined;
}

const executable = chromiumOrSkip();
const HOSTILE_URL = `javascript:window.__pwned='url'`;
const HOSTILE_TEXT = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script>`;

describe.skipIf(!executable)('the HTML drift report in chromium', () => {
  let world: World;
  let browser: Browser;
  let reportFile: string;

  beforeAll(async () => {
    world = await World.create(['dash']);
    await world.addSite('good', ['gsl-2.8', 'openssl-3.0.13']);
    await world.addSite('behind', ['gsl-2.6']);
    await world.writeSpec({
      good: '      - math/gsl\n      - security/openssl',
      behind: '      - math/gsl\n      - devel/zlib',
    });
    expect((await world.run('plan')).code).toBe(0);

    // What a hostile site and job could put in the state: an audit URL and a job message with markup.
    const goodFile = join(world.stateDir, 'observations', 'good.json');
    const good = JSON.parse(await readFile(goodFile, 'utf8')) as { audit: Array<{ url: string }> };
    expect(good.audit.length).toBeGreaterThan(0);
    for (const finding of good.audit) finding.url = HOSTILE_URL;
    await writeFile(goodFile, JSON.stringify(good));
    const history = join(world.stateDir, 'ledger', 'history');
    const [entryFile] = (await readdir(history)).filter((f) => f.startsWith('behind-'));
    if (entryFile === undefined) throw new Error('no history entry of site behind');
    const entry = JSON.parse(await readFile(join(history, entryFile), 'utf8')) as Record<string, unknown>;
    await writeFile(join(history, entryFile), JSON.stringify({ ...entry, detail: HOSTILE_TEXT }));

    reportFile = join(world.root, 'report.html');
    const drift = await world.run('drift', '--max-age', '1h', '--format', 'html', '--output', reportFile);
    expect(drift.stderr).toBe('');
    expect(drift.code).toBe(2);
    browser = await chromium.launch({ executablePath: executable, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await world?.dispose();
  });

  it('renders, filters and sorts the matrix, fetches nothing and runs no site text', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const fetched: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) fetched.push(request.url());
    });
    const dialogs: string[] = [];
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(reportFile).href);

    // Renders: the summary counts and a matrix row per package, a column per site.
    await expect(page.locator('#summary').textContent()).resolves.toMatch(/Drifted/);
    const headers = await page.locator('#matrix thead th').allTextContents();
    expect(headers).toEqual(['Package', 'good', 'behind']); // sites in spec order
    const rows = page.locator('#matrix tbody tr');
    const all = await rows.count();
    expect(all).toBeGreaterThanOrEqual(3);

    // Filters: by text, then only rows with drift.
    await page.fill('#matrix-filter', 'zlib');
    await expect(rows.locator('visible=true').count()).resolves.toBe(1);
    await page.fill('#matrix-filter', '');
    await page.check('#matrix-drift');
    const drifted = await rows.locator('visible=true').allTextContents();
    expect(drifted.length).toBeGreaterThan(0);
    expect(drifted.length).toBeLessThan(all);
    expect(drifted.join('\n')).toMatch(/devel\/zlib/);
    await page.uncheck('#matrix-drift');

    // Sorts: a click on the Package header orders the rows, a second click reverses them.
    await page.click('#matrix thead th:first-child');
    const ascending = await rows.locator('td:first-child').allTextContents();
    expect(ascending).toEqual(
      [...ascending].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })),
    );
    await page.click('#matrix thead th:first-child');
    expect(await rows.locator('td:first-child').allTextContents()).toEqual([...ascending].reverse());

    // Hostile text is shown as text; nothing of it ran, no element came of it, nothing was fetched.
    const body = (await page.textContent('body')) ?? '';
    expect(body).toContain(HOSTILE_URL);
    expect(body).toContain('<img src=x onerror=');
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1); // the report's own
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    expect(fetched).toEqual([]);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'drift-report.png'), fullPage: true });
  });

  it("renders the demo's report, kept as a screenshot", async () => {
    // `npm run demo` into a directory of its own, then drift over what it recorded (no job).
    const demo = join(world.root, 'demo');
    await execFileAsync(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'demo.ts'), demo],
      {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const html = join(demo, 'report.html');
    const drift = await cli([
      'drift',
      '-f',
      join(demo, 'desired-state.yaml'),
      '--max-age',
      '1d',
      '--format',
      'html',
      '--output',
      html,
    ]);
    expect(drift.stderr).toBe('');
    expect(drift.code).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(html).href);
    const headers = await page.locator('#matrix thead th').allTextContents();
    expect(headers.slice(1).sort()).toEqual(['NIKHEF-ELPROD', 'RUG-CIT', 'SARA-MATRIX'].sort());
    await expect(page.locator('#summary').textContent()).resolves.toMatch(/In sync/);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-drift-report.png'), fullPage: true });
  });
});
