/**
 * The report service under load, on loopback only: many concurrent clients (autocannon) against `/healthz` and
 * `/metrics`, first on an idle service, then while report builds run one after another (a client keeps asking for
 * /report.json with the cache off, so every request rebuilds: load the spec, read every observation, plan, build
 * the model). The service runs in a process of its own. Bounded: a few seconds per case, then everything stops.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ObservationStore } from '../src/state/observations.js';
import { generateObservation, generateRepository, generateSpecText } from './generate.js';

const SITES = 200;
const PACKAGES = 300;
const CONNECTIONS = 50;
const SECONDS = 5;

export interface ServeFigure {
  name: string;
  requestsPerSecond: number;
  p99Ms: number;
  maxMs: number;
  failed: number;
  /** Report builds finished during the case. */
  builds?: number;
}

async function startServer(spec: string, stateDir: string, ttlMs: number) {
  const script = fileURLToPath(new URL('./serve-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, spec, stateDir, String(ttlMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the bench server exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function load(
  url: string,
  name: string,
  builds?: () => number,
  seconds = SECONDS,
): Promise<ServeFigure> {
  const before = builds?.() ?? 0;
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, timeout: 30 });
  return {
    name,
    requestsPerSecond: result.requests.total / seconds,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    failed: result.non2xx + result.errors + result.timeouts,
    ...(builds ? { builds: builds() - before } : {}),
  };
}

/** Keeps asking for /report.json (one at a time) until stopped; counts the answers. */
function rebuildLoop(url: string): { count: () => number; stop: () => Promise<void> } {
  let count = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const response = await fetch(new URL('report.json', url));
      await response.arrayBuffer();
      if (response.ok) count++;
    }
  })();
  return {
    count: () => count,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export const SERVE_BENCH_SIZE = `${SITES} sites × ${PACKAGES} packages`;

/** The load cases, and how long one report build took on an idle service (wall time, ms). */
export async function runServeBench(): Promise<{ buildMs: number; cases: ServeFigure[] }> {
  const root = await mkdtemp(join(tmpdir(), 'gridpkg-bench-serve-'));
  try {
    const spec = join(root, 'desired-state.yaml');
    const stateDir = join(root, 'state');
    await writeFile(spec, generateSpecText(SITES, PACKAGES));
    const listing = generateRepository(PACKAGES, PACKAGES * 4);
    const store = new ObservationStore(stateDir);
    for (let s = 0; s < SITES; s++) await store.save(generateObservation(s, PACKAGES, listing));

    const figures: ServeFigure[] = [];
    let buildMs = 0;
    const cached = await startServer(spec, stateDir, 3_600_000);
    try {
      await fetch(new URL('metrics', cached.url)).then((r) => r.arrayBuffer());
      figures.push(await load(new URL('healthz', cached.url).href, 'idle: /healthz'));
      figures.push(await load(new URL('metrics', cached.url).href, 'idle: /metrics (report cached)'));
    } finally {
      await cached.stop();
    }
    const rebuilding = await startServer(spec, stateDir, 0);
    try {
      const first = performance.now();
      await fetch(new URL('report.json', rebuilding.url)).then((r) => r.arrayBuffer());
      buildMs = performance.now() - first;
      // Long enough for a few whole builds, whatever this machine's pace; never more than 30 s.
      const seconds = Math.min(30, Math.max(SECONDS, Math.ceil((3 * buildMs) / 1000)));
      const loop = rebuildLoop(rebuilding.url);
      try {
        figures.push(
          await load(
            new URL('healthz', rebuilding.url).href,
            'while reports build: /healthz',
            loop.count,
            seconds,
          ),
        );
      } finally {
        await loop.stop();
      }
    } finally {
      await rebuilding.stop();
    }
    return { buildMs, cases: figures };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
