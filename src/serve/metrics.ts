/**
 * The service's Prometheus metrics, on a registry of its own (never prom-client's global one). Site state comes as
 * an info metric; counts and times per site in base units; no site × package labels (their number would grow with
 * the matrix). Label values from the spec and the state directory are escaped by prom-client; states are closed
 * lists. A long-running caller (`gridpkg watch`) may hand in a registry that already holds its own metrics (a
 * reconcile duration histogram, status calls): they are served on the same /metrics.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';
import type { DriftReport } from '../report/drift/index.js';
import type { ReportSnapshot } from './state-report.js';

/** The metrics this module registers (by name), so that a second registration replaces the first. */
const REPORT_METRICS = [
  'gridpkg_build_info',
  'gridpkg_site_info',
  'gridpkg_site_drifted_packages',
  'gridpkg_site_vulnerable_packages',
  'gridpkg_site_last_observation_timestamp_seconds',
  'gridpkg_sites',
  'gridpkg_jobs_total',
  'gridpkg_report_generated_timestamp_seconds',
  'gridpkg_report_build_duration_seconds',
  'gridpkg_report_build_failures_total',
];

export interface ReportMetrics {
  /** Sets every report metric from this snapshot (drops sites no longer in it). */
  update(snapshot: ReportSnapshot): void;
  /** A report build failed: site metrics are dropped (no stale figures), the failure counted. */
  buildFailed(): void;
}

export function registerReportMetrics(registry: Registry, version: string): ReportMetrics {
  const registers = [registry];
  // A caller's registry may hold the process metrics already, or this server's from an earlier start (watch
  // restarting its server): registered once, replaced rather than refused as duplicates.
  if (registry.getSingleMetric('process_cpu_seconds_total') === undefined)
    collectDefaultMetrics({ register: registry });
  for (const name of REPORT_METRICS) registry.removeSingleMetric(name);
  new Gauge({
    name: 'gridpkg_build_info',
    help: 'The gridpkg version serving these metrics; always 1.',
    labelNames: ['version'],
    registers,
  }).set({ version }, 1);
  const siteInfo = new Gauge({
    name: 'gridpkg_site_info',
    help: 'Sync (in-sync, drifted, unknown) and health of each site as recorded in the state directory; always 1.',
    labelNames: ['site', 'sync', 'health'],
    registers,
  });
  const drifted = new Gauge({
    name: 'gridpkg_site_drifted_packages',
    help: 'Packages with drift on the site (missing, wrong version, must be absent, blocked, ...); not set while the site is unknown.',
    labelNames: ['site'],
    registers,
  });
  const vulnerable = new Gauge({
    name: 'gridpkg_site_vulnerable_packages',
    help: 'Installed packages the vulnerability audit names on the site; not set while the site is unknown.',
    labelNames: ['site'],
    registers,
  });
  const observed = new Gauge({
    name: 'gridpkg_site_last_observation_timestamp_seconds',
    help: 'When the site was last observed by a probe or apply job (seconds since 1970); not set before the first.',
    labelNames: ['site'],
    registers,
  });
  const sites = new Gauge({
    name: 'gridpkg_sites',
    help: 'Sites of the report by sync state.',
    labelNames: ['sync'],
    registers,
  });
  const jobs = new Counter({
    name: 'gridpkg_jobs_total',
    help: 'Finished grid jobs recorded in the ledger history, by mode (probe, apply) and outcome (the report status, or the job end state).',
    labelNames: ['mode', 'outcome'],
    registers,
  });
  const generated = new Gauge({
    name: 'gridpkg_report_generated_timestamp_seconds',
    help: 'When the report served was built (seconds since 1970).',
    registers,
  });
  const buildDuration = new Histogram({
    name: 'gridpkg_report_build_duration_seconds',
    help: 'Time to build the report from the state directory and the spec.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
    registers,
  });
  const buildFailures = new Counter({
    name: 'gridpkg_report_build_failures_total',
    help: 'Report builds that failed (a spec that no longer loads, an unreadable state directory).',
    registers,
  });
  let lastBuild: ReportSnapshot | undefined;
  const resetSites = () => {
    for (const gauge of [siteInfo, drifted, vulnerable, observed, sites]) gauge.reset();
  };
  return {
    update(snapshot) {
      // A cached snapshot is one build: set (and observed) once.
      if (lastBuild === snapshot) return;
      resetSites();
      setSiteMetrics(snapshot.report, { siteInfo, drifted, vulnerable, observed, sites });
      jobs.reset();
      for (const { mode, outcome, count } of snapshot.jobs) jobs.inc({ mode, outcome }, count);
      generated.set(Date.parse(snapshot.report.generatedAt) / 1000);
      buildDuration.observe(snapshot.buildSeconds);
      lastBuild = snapshot;
    },
    buildFailed() {
      lastBuild = undefined;
      resetSites();
      buildFailures.inc();
    },
  };
}

function setSiteMetrics(
  report: DriftReport,
  gauges: Record<'siteInfo' | 'drifted' | 'vulnerable' | 'observed' | 'sites', Gauge>,
): void {
  for (const sync of ['in-sync', 'drifted', 'unknown'] as const)
    gauges.sites.set({ sync }, report.sites.filter((s) => s.sync === sync).length);
  for (const site of report.sites) {
    gauges.siteInfo.set({ site: site.site, sync: site.sync, health: site.health }, 1);
    if (site.observation) gauges.observed.set({ site: site.site }, Date.parse(site.observation.at) / 1000);
    if (site.sync === 'unknown') continue;
    const driftedPackages = new Set(
      site.items.filter((i) => i.severity === 'drift').map((i) => i.pkgpath ?? i.installed ?? i.kind),
    );
    const vulnerablePackages = new Set(
      site.items.filter((i) => i.kind === 'vulnerable').map((i) => i.installed ?? i.pkgpath),
    );
    gauges.drifted.set({ site: site.site }, driftedPackages.size);
    gauges.vulnerable.set({ site: site.site }, vulnerablePackages.size);
  }
}
