/**
 * One benchmark at real sizes, run in its own Node process (`--expose-gc`) so that its memory figure is its own:
 * `tsx bench/size-case.ts plan|spec|reports SITES PACKAGES`. Prints one JSON line: seconds and peak memory.
 *
 * The input is generated before the clock starts; the figure is the time of the work alone and the peak resident
 * memory of the whole process (input included, as in a real controller that holds them).
 */
import { createHash } from 'node:crypto';
import { parseReport } from '../src/grid/protocol/report.js';
import { buildPlan } from '../src/reconcile/plan.js';
import { buildDriftReport, type DriftFormat, renderDrift } from '../src/report/drift/index.js';
import { parseSpecText } from '../src/spec/index.js';
import {
  availText,
  desiredSite,
  generateObservation,
  generateReportText,
  generateRepository,
  generateRequirements,
  generateSpecText,
} from './generate.js';

export interface SizeFigures {
  /** Wall-clock time of the work. */
  seconds: number;
  /** CPU time of the process during the work (user + system, garbage collector threads included): on a shared
   * machine this is the steadier figure, as it does not count time spent waiting for a core. */
  cpuSeconds: number;
  /** Peak resident set size of the process, in MB. */
  peakMB: number;
  /** What the work produced, to check it did the work (sites planned, requirements resolved, reports parsed). */
  count: number;
}

/**
 * Sites beyond this many share the observation objects of site `s % OBSERVATION_VARIANTS` (under their own
 * name): 10,000 distinct observations of 1,000 packages would not fit in memory on a 2-core CI machine, and the
 * planner does the same work per site either way (it indexes every site afresh).
 */
const OBSERVATION_VARIANTS = 1000;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function peakMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * The value as the controller holds it after reading it (from a report or a saved JSON file): every string flat and
 * its own. Strings built by templates are V8 rope strings, slower to compare and hash than anything gridpkg reads.
 */
function asLoaded<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function timed(work: () => number): SizeFigures {
  gc();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const count = work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, peakMB: peakMB(), count };
}

/** The planner's input at real sizes: sites that each hold and require `packages` packages, one listing. */
function planInputs(sites: number, packages: number) {
  const listing = asLoaded(generateRepository(packages));
  const requirements = asLoaded(generateRequirements(packages));
  const desired = Array.from({ length: sites }, (_, s) => desiredSite(s, requirements));
  const variants = Array.from({ length: Math.min(sites, OBSERVATION_VARIANTS) }, (_, s) => ({
    ...asLoaded(generateObservation(s, packages, [])),
    available: listing,
  }));
  const observations = desired.map((d, s) => {
    const variant = variants[s % variants.length];
    if (!variant) throw new Error('no observation');
    return s < variants.length ? variant : { ...variant, site: d.site, jobId: `job-${s}` };
  });
  return { desired, observations };
}

function planCase(sites: number, packages: number): SizeFigures {
  const { desired, observations } = planInputs(sites, packages);
  return timed(() => {
    const plan = buildPlan(desired, observations, { specFile: 'bench.yaml', specDigest: 'sha256:0' });
    const planned = plan.sites.filter((p) => p.outcome === 'changes').length;
    if (planned !== sites) throw new Error(`only ${planned} of ${sites} sites planned with changes`);
    return planned;
  });
}

function specCase(sites: number, packages: number): SizeFigures {
  const text = generateSpecText(sites, packages);
  parseSpecText(generateSpecText(6, 10), 'warmup.yaml', { today: '2026-12-01' }); // compile the schema
  return timed(() => {
    const resolved = parseSpecText(text, 'bench.yaml', { today: '2026-12-01' });
    const requirements = resolved.reduce((n, s) => n + s.requirements.length, 0);
    if (resolved.length !== sites || requirements < sites * packages)
      throw new Error('spec lost requirements');
    return requirements;
  });
}

/**
 * `sites` probe reports. `listingEvery`: how many of them carry the repository listing; the others name it by
 * digest only (`sites` = every report carries it, as before the listing was sent once per digest).
 */
function reportsCase(sites: number, packages: number, listingEvery: number): SizeFigures {
  const text = availText(generateRepository(packages));
  const digest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const texts = Array.from({ length: sites }, (_, s) =>
    generateReportText(s, packages, { text, digest, sent: s < listingEvery }),
  );
  return timed(() => {
    let parsed = 0;
    for (const text of texts) {
      const result = parseReport(text);
      if (!result.ok) throw new Error(`report not parsed: ${result.problem.message}`);
      parsed++;
    }
    return parsed;
  });
}

/** The drift report of `sites` sites in one format: the plan it rests on, the model and the rendering. */
function driftCase(sites: number, packages: number, format: DriftFormat): SizeFigures {
  const { desired, observations } = planInputs(sites, packages);
  const now = Date.parse('2026-12-01T12:00:00Z');
  return timed(() => {
    const plan = buildPlan(desired, observations, { specFile: 'bench.yaml', specDigest: 'sha256:0' });
    const report = buildDriftReport({
      plan,
      observations: new Map(
        observations.map((o) => [o.site, { observation: o, source: 'recorded' as const }]),
      ),
      now,
    });
    const text = renderDrift(report, format);
    if (report.sites.length !== sites || text.length === 0) throw new Error('drift report lost sites');
    return text.length;
  });
}

const [kind, sitesArg, packagesArg, extra] = process.argv.slice(2);
const sites = Number(sitesArg);
const packages = Number(packagesArg);
const figures =
  kind === 'plan'
    ? planCase(sites, packages)
    : kind === 'spec'
      ? specCase(sites, packages)
      : kind === 'reports'
        ? reportsCase(sites, packages, Number(extra ?? sites))
        : kind === 'drift'
          ? driftCase(sites, packages, extra as DriftFormat)
          : undefined;
if (!figures) throw new Error(`unknown case ${kind}`);
console.log(JSON.stringify(figures));
