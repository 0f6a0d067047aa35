/**
 * The report `gridpkg serve` shows: the drift report model built from what the state directory recorded (the
 * observations, each site's status, the ledger history) and the spec. It never probes and never applies: the
 * service reads, and `converge`, `drift` or `watch` observe. A build is cached until a state or spec file changes
 * (directory and file mtimes) or `ttlMs` passes (ages and staleness move with the clock); concurrent requests
 * share one build.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Observation } from '../reconcile/observation.js';
import { buildPlan, type Plan, type SitePlan } from '../reconcile/plan.js';
import { specDigest } from '../reconcile/plan-file.js';
import { buildDriftReport, type DriftReport } from '../report/drift/index.js';
import type { RecordedJob } from '../report/drift/model.js';
import { loadSpec } from '../spec/index.js';
import type { DesiredState } from '../spec/types.js';
import { recordedJobs } from '../state/job-history.js';
import { Ledger } from '../state/ledger.js';
import { ObservationStore } from '../state/observations.js';
import { type SiteStatus, SiteStatusStore } from '../state/site-status.js';
import { countJobs, type JobCount } from './job-counts.js';

/** What the service shows at one moment: the report and the job counts of the ledger history. */
export interface ReportSnapshot {
  report: DriftReport;
  jobs: JobCount[];
  /** How long the build took, in seconds (for the build duration metric). */
  buildSeconds: number;
}

/** Where the service gets its report: the state directory (serve), or the controller's latest one (watch). */
export interface ReportSource {
  snapshot(): Promise<ReportSnapshot>;
}

export interface StateReportOptions {
  specFile: string;
  stateDir: string;
  /** Chooses the sites of the loaded spec (the command's --site / --exclude / --where). */
  selectSites?: (sites: readonly DesiredState[]) => DesiredState[];
  /** Observations older than this count as unknown. */
  maxAgeMs?: number;
  /** A cached build is reused at most this long, even when no file changed. */
  ttlMs?: number;
  now?: () => number;
}

const DEFAULT_TTL_MS = 10_000;

export function stateReportSource(options: StateReportOptions): ReportSource {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  let cached: { key: string; at: number; snapshot: ReportSnapshot } | undefined;
  let building: { key: string; promise: Promise<ReportSnapshot> } | undefined;
  let specFiles: string[] = [options.specFile];
  return {
    async snapshot() {
      const key = await changeKey(options.stateDir, specFiles);
      if (cached && cached.key === key && now() - cached.at < ttlMs) return cached.snapshot;
      if (building?.key === key) return building.promise;
      const started = now();
      const promise = buildFromState(options, now).then(({ snapshot, files }) => {
        specFiles = files;
        cached = { key, at: started, snapshot };
        return snapshot;
      });
      building = { key, promise };
      try {
        return await promise;
      } finally {
        if (building?.promise === promise) building = undefined;
      }
    },
  };
}

/** The state directories whose entries change when a job ends or a status is recorded, and the spec's files. */
async function changeKey(stateDir: string, specFiles: readonly string[]): Promise<string> {
  const paths = [
    ...['observations', 'status', 'reports', join('ledger', 'history')].map((d) => join(stateDir, d)),
    ...specFiles,
  ];
  // Files are replaced by rename (atomic writes), which changes the directory's mtime too.
  const stamps = await Promise.all(
    paths.map((path) =>
      stat(path).then(
        (s) => `${s.mtimeMs}:${s.size}:${s.ino}`,
        () => '-',
      ),
    ),
  );
  return stamps.join('|');
}

async function buildFromState(
  options: StateReportOptions,
  now: () => number,
): Promise<{ snapshot: ReportSnapshot; files: string[] }> {
  const started = performance.now();
  const spec = await loadSpec(options.specFile);
  const sites = options.selectSites ? options.selectSites(spec.sites) : spec.sites;
  const store = new ObservationStore(options.stateDir);
  const statusStore = new SiteStatusStore(options.stateDir);
  const ledger = new Ledger(options.stateDir);
  const observations = new Map<string, { observation: Observation; source: 'recorded' }>();
  const statuses = new Map<string, SiteStatus | undefined>();
  const history: ReadonlyMap<string, RecordedJob[]> = await recordedJobs(
    { ledger, observations: store },
    sites.map((site) => site.site),
  );
  for (const site of sites) {
    const observation = await recordedObservation(store, site.site);
    if (observation) observations.set(site.site, { observation, source: 'recorded' });
    statuses.set(site.site, await statusStore.load(site.site).catch(() => undefined));
  }
  const plan = await planInSlices(
    sites,
    [...observations.values()].map((o) => o.observation),
    { specFile: spec.file, specDigest: specDigest(spec.files) },
  );
  const report = buildDriftReport({
    plan,
    observations,
    statuses,
    history,
    now: now(),
    ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
  });
  const jobs = await countJobs(
    ledger,
    sites.map((s) => s.site),
  );
  return {
    snapshot: { report, jobs, buildSeconds: (performance.now() - started) / 1000 },
    files: spec.files.map((f) => f.file),
  };
}

/** Sites planned per slice between which the event loop runs: the service keeps answering during a build. */
const PLAN_SLICE = 10;

async function planInSlices(
  sites: readonly DesiredState[],
  observations: readonly Observation[],
  meta: { specFile: string; specDigest: string },
): Promise<Plan> {
  const planned: SitePlan[] = [];
  for (let i = 0; i < sites.length; i += PLAN_SLICE) {
    planned.push(...buildPlan(sites.slice(i, i + PLAN_SLICE), observations, meta).sites);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { ...buildPlan([], [], meta), sites: planned };
}

/** The recorded observation; a file that cannot be used makes the site unknown, saying why. */
async function recordedObservation(store: ObservationStore, site: string): Promise<Observation | undefined> {
  try {
    return await store.load(site);
  } catch (error) {
    return {
      state: 'unknown',
      site,
      observedAt: new Date(0).toISOString(),
      jobId: undefined,
      reason: error instanceof Error ? error.message : String(error),
    };
  }
}
