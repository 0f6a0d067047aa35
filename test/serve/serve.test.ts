/**
 * The report service over a real state directory: `gridpkg drift` records observations and history of simulated
 * sites (test/pkgsrc-sim, a test double), then the server built over them answers every endpoint; /metrics is read
 * with a Prometheus text parser. The service runs no job and changes no file.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_HTML_CSP } from '../../src/report/drift/html.js';
import { loopbackHostAllowed } from '../../src/serve/listen.js';
import { hostName, type ReportServer, startReportServer } from '../../src/serve/server.js';
import { stateReportSource } from '../../src/serve/state-report.js';
import { World } from '../integration/harness.js';
import { expectValidDriftReport } from '../report/drift/schema.js';

const TOKEN = 'a-test-token-0123456789abcdef';

function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const family = parsePrometheusTextFormat(text).find((f: ParsedFamily) => f.name === name);
  return (family?.metrics ?? []).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
}

async function stateFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => join(e.parentPath, e.name)).sort();
}

describe('gridpkg serve: the report service', () => {
  let world: World;
  let server: ReportServer;
  let secured: ReportServer;

  beforeAll(async () => {
    world = await World.create(['dash']);
    await world.addSite('good', ['gsl-2.8', 'openssl-3.0.13']);
    await world.addSite('behind');
    await world.addSite('never');
    await world.writeSpec({
      good: '      - math/gsl\n      - security/openssl',
      behind: '      - math/gsl',
      never: '      - math/gsl',
    });
    // Two sites observed by drift (one probe job each); `never` has no observation at all.
    const run = await world.run('drift', '--site', 'good', '--site', 'behind');
    expect(run.code).toBe(2);
    const source = () => stateReportSource({ specFile: world.specFile, stateDir: world.stateDir, ttlMs: 0 });
    server = await startReportServer({ host: '127.0.0.1', port: 0, version: '9.9.9', source: source() });
    secured = await startReportServer({
      host: '127.0.0.1',
      port: 0,
      version: '9.9.9',
      source: source(),
      token: TOKEN,
    });
  });
  afterAll(async () => {
    await server?.close();
    await secured?.close();
    await world?.dispose();
  });

  it('serves the report model built from the recorded state, without running a job', async () => {
    const before = await stateFiles(world.stateDir);
    const response = await fetch(new URL('report.json', server.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const report = (await response.json()) as {
      sites: Array<{ site: string; sync: string; observation?: { source: string } }>;
    };
    expectValidDriftReport(report);
    expect(report.sites.map((s) => [s.site, s.sync, s.observation?.source])).toEqual([
      ['good', 'in-sync', 'recorded'],
      ['behind', 'drifted', 'recorded'],
      ['never', 'unknown', undefined],
    ]);
    for (const path of ['', 'metrics', 'healthz']) await fetch(new URL(path, server.url));
    expect(await stateFiles(world.stateDir)).toEqual(before);
  });

  it('serves the HTML report with a Content-Security-Policy that allows only its own inline script', async () => {
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(`${DRIFT_HTML_CSP}; frame-ancestors 'none'`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    expect(html).toContain(`content="${DRIFT_HTML_CSP}"`);
    expect(html).toContain('<td>behind</td><td class="drifted">drifted</td>');
  });

  it('exposes per-site metrics that a Prometheus parser reads', async () => {
    const response = await fetch(new URL('metrics', server.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const observedAt = JSON.parse(
      await readFile(join(world.stateDir, 'observations', 'good.json'), 'utf8'),
    ) as { observedAt: string };
    expect(samples(text, 'gridpkg_site_info').map((s) => [s.labels, s.value])).toEqual([
      [{ site: 'good', sync: 'in-sync', health: 'unrecorded' }, 1],
      [{ site: 'behind', sync: 'drifted', health: 'unrecorded' }, 1],
      [{ site: 'never', sync: 'unknown', health: 'unrecorded' }, 1],
    ]);
    // An unknown site has no counts: absent, never a reassuring 0.
    expect(samples(text, 'gridpkg_site_drifted_packages')).toEqual([
      { labels: { site: 'good' }, value: 0 },
      { labels: { site: 'behind' }, value: 1 },
    ]);
    expect(samples(text, 'gridpkg_site_vulnerable_packages')).toEqual([
      { labels: { site: 'good' }, value: 1 },
      { labels: { site: 'behind' }, value: 0 },
    ]);
    expect(samples(text, 'gridpkg_site_last_observation_timestamp_seconds')).toContainEqual({
      labels: { site: 'good' },
      value: Date.parse(observedAt.observedAt) / 1000,
    });
    expect(samples(text, 'gridpkg_site_last_observation_timestamp_seconds')).toHaveLength(2);
    expect(samples(text, 'gridpkg_jobs_total')).toEqual([
      { labels: { mode: 'probe', outcome: 'ok' }, value: 2 },
    ]);
    expect(samples(text, 'gridpkg_build_info')).toEqual([{ labels: { version: '9.9.9' }, value: 1 }]);
    expect(samples(text, 'gridpkg_sites')).toContainEqual({ labels: { sync: 'unknown' }, value: 1 });
    expect(samples(text, 'process_cpu_seconds_total')).toHaveLength(1);
  });

  it('shows a new job of the state directory at the next request', async () => {
    // `never` holds nothing of what the spec wants: drifted, once observed.
    expect((await world.run('drift', '--site', 'never')).code).toBe(2);
    const text = await (await fetch(new URL('metrics', server.url))).text();
    expect(samples(text, 'gridpkg_jobs_total')).toEqual([
      { labels: { mode: 'probe', outcome: 'ok' }, value: 3 },
    ]);
    expect(samples(text, 'gridpkg_site_info')).toContainEqual({
      labels: { site: 'never', sync: 'drifted', health: 'unrecorded' },
      value: 1,
    });
  });

  it('builds the report once while nothing changes, again when the state directory changes', async () => {
    const cached = await startReportServer({
      host: '127.0.0.1',
      port: 0,
      version: '9.9.9',
      source: stateReportSource({ specFile: world.specFile, stateDir: world.stateDir, ttlMs: 3_600_000 }),
    });
    try {
      const builds = async () => {
        const text = await (await fetch(new URL('metrics', cached.url))).text();
        const family = parsePrometheusTextFormat(text).find(
          (f) => f.name === 'gridpkg_report_build_duration_seconds',
        );
        return Number(family?.metrics[0]?.count);
      };
      await Promise.all([fetch(cached.url), fetch(cached.url), fetch(new URL('report.json', cached.url))]);
      expect(await builds()).toBe(1);
      expect(await builds()).toBe(1);
      const status = join(world.stateDir, 'status');
      await mkdir(status, { recursive: true });
      await writeFile(join(status, 'unrelated.txt'), 'x');
      expect(await builds()).toBe(2);
    } finally {
      await cached.close();
    }
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await fetch(new URL('report.json', server.url));
    const body = await get.arrayBuffer();
    const head = await fetch(new URL('report.json', server.url), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
    expect(Number(head.headers.get('content-length'))).toBe(body.byteLength);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('refuses every method that is not GET or HEAD, and unknown paths', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await fetch(new URL('report.json', server.url), { method, body: 'x' });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    }
    for (const path of ['nope', 'report.json/', 'Metrics', '%2e%2e/state', 'report.json%00']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    }
    expect((await fetch(new URL('healthz', server.url))).status).toBe(200);
  });

  it('with a token: 401 without it or with a wrong one, the report with it; /healthz stays open', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', `Basic ${TOKEN}`, TOKEN]) {
      for (const path of ['', 'report.json', 'metrics']) {
        const response = await fetch(new URL(path, secured.url), {
          headers: authorization === undefined ? {} : { authorization },
        });
        expect(response.status, `${path} ${authorization}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="gridpkg"');
        expect(await response.text()).not.toContain('good');
      }
    }
    // Even a write is refused as unauthorised first: nothing tells a stranger what exists.
    expect((await fetch(new URL('nope', secured.url), { method: 'POST' })).status).toBe(401);
    const ok = await fetch(new URL('report.json', secured.url), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect((await fetch(new URL('healthz', secured.url))).status).toBe(200);
  });

  it('keeps hostile strings from the state directory out of the metrics format and the HTML markup', async () => {
    const img = '<img src=x onerror=alert(1)>';
    const path = join(world.stateDir, 'observations', 'good.json');
    const observation = JSON.parse(await readFile(path, 'utf8')) as {
      installed: Array<{ pkgname: string; pkgpath?: string; automatic: boolean }>;
    };
    observation.installed.push({
      pkgname: `${img}-1.0`,
      pkgpath: `x/"} 1\nevil 1\n${img}`,
      automatic: false,
    });
    await writeFile(path, JSON.stringify(observation));
    const history = join(world.stateDir, 'ledger', 'history');
    const [jobFile] = (await readdir(history)).filter((f) => f.startsWith('good-'));
    const job = JSON.parse(await readFile(join(history, jobFile as string), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(
      join(history, (jobFile as string).replace(/-[0-9a-f]+\.json$/, '-ffff.json')),
      JSON.stringify({ ...job, jobId: 'x', jobState: 'done', reportStatus: 'ok"} 1\nevil_total 1' }),
    );

    const metrics = await (await fetch(new URL('metrics', server.url))).text();
    const families = parsePrometheusTextFormat(metrics).map((f) => f.name);
    expect(families.filter((name) => name.startsWith('evil'))).toEqual([]);
    expect(metrics).not.toMatch(/^evil/m);
    expect(samples(metrics, 'gridpkg_jobs_total')).toContainEqual({
      labels: { mode: 'probe', outcome: 'other' },
      value: 1,
    });
    const html = await (await fetch(server.url)).text();
    expect(html).not.toContain(img);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;-1.0');
  });

  it('answers 503 with the reason while the spec does not load, and recovers', async () => {
    const spec = await readFile(world.specFile, 'utf8');
    await writeFile(world.specFile, `${spec}\n  bad: [\n`);
    try {
      const response = await fetch(server.url);
      expect(response.status).toBe(503);
      expect(await response.text()).toMatch(/^gridpkg: the report cannot be built: /);
      const metrics = await (await fetch(new URL('metrics', server.url))).text();
      expect(samples(metrics, 'gridpkg_report_build_failures_total')[0]?.value).toBeGreaterThan(0);
      expect(samples(metrics, 'gridpkg_site_info')).toEqual([]);
    } finally {
      await writeFile(world.specFile, spec);
    }
    expect((await fetch(server.url)).status).toBe(200);
  });
});

describe('startReportServer for a long-running caller (watch)', () => {
  it("serves the caller's own metrics beside the report's, on IPv6 loopback too, and can be started again", async () => {
    const registry = new Registry();
    const reconciles = new Histogram({
      name: 'gridpkg_reconcile_duration_seconds',
      help: 'test',
      registers: [registry],
    });
    reconciles.observe(2);
    const source = {
      snapshot: async () => {
        throw new Error('no report yet');
      },
    };
    for (const host of ['::1', '127.0.0.1']) {
      const server = await startReportServer({ host, port: 0, version: 'x', source, registry });
      try {
        if (host === '::1') expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+\/$/);
        const text = await (await fetch(new URL('metrics', server.url))).text();
        const names = parsePrometheusTextFormat(text).map((f) => f.name);
        expect(names).toEqual(
          expect.arrayContaining(['gridpkg_reconcile_duration_seconds', 'gridpkg_build_info']),
        );
        expect(samples(text, 'gridpkg_report_build_failures_total')).toEqual([{ labels: {}, value: 1 }]);
        expect((await fetch(server.url)).status).toBe(503);
      } finally {
        await server.close();
      }
    }
  });
});

describe('Host names (DNS rebinding)', () => {
  /** A GET with a Host header of our choosing (fetch does not let a caller set it). */
  function getWithHost(url: string, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = httpGet(url, { headers: { host } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
    });
  }

  it('reads the host name of a Host header', () => {
    expect(hostName('LocalHost:9090')).toBe('localhost');
    expect(hostName('[::1]:9090')).toBe('::1');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName(undefined)).toBe('');
    expect(hostName('evil.example:80')).toBe('evil.example');
  });

  it('answers only the names it allows, with 421 for any other', async () => {
    const server = await startReportServer({
      host: '127.0.0.1',
      port: 0,
      version: 'x',
      source: { snapshot: () => Promise.reject(new Error('none')) },
      allowHost: (name) => loopbackHostAllowed(name) || name === 'gridpkg.example.org',
    });
    try {
      const healthz = new URL('healthz', server.url).href;
      for (const host of ['127.0.0.1:1234', 'localhost', '[::1]:9090', 'GRIDPKG.example.org'])
        expect(await getWithHost(healthz, host), host).toBe(200);
      for (const host of ['evil.example', 'evil.example:9090', '127.0.0.1.evil.example', '[::2]'])
        expect(await getWithHost(new URL('metrics', server.url).href, host), host).toBe(421);
    } finally {
      await server.close();
    }
  });
});
