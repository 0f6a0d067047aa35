import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import pLimit from 'p-limit';
import { TerminalError } from '../../model/errors.js';
import { observeSite } from '../../reconcile/engine.js';
import type { Observation } from '../../reconcile/observation.js';
import { buildPlan } from '../../reconcile/plan.js';
import { specDigest } from '../../reconcile/plan-file.js';
import type { JobContext } from '../../reconcile/run-job.js';
import {
  buildDriftReport,
  DRIFT_FORMATS,
  type DriftFormat,
  type DriftReport,
  driftVerdict,
  renderDrift,
} from '../../report/drift/index.js';
import { plainStyle } from '../../report/style.js';
import { printable } from '../../report/untrusted.js';
import { loadSpec } from '../../spec/index.js';
import type { DesiredState } from '../../spec/types.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { recordedJobs } from '../../state/job-history.js';
import { type SiteStatus, SiteStatusStore } from '../../state/site-status.js';
import { checkWritableFile } from '../../state/writable.js';
import { addSiteOptions, jobContextFor, type SiteCommandOptions, stateDirFor } from '../common.js';
import { parseDuration } from '../duration.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { addSelectionOptions, type SiteSelection, selectSites } from '../site-selection.js';

export interface DriftOptions extends SiteCommandOptions, SiteSelection {
  maxAge?: number;
  format?: DriftFormat[];
  output?: string[];
  verbose?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function parseFormat(value: string, previous: DriftFormat[] | undefined): DriftFormat[] {
  if (!(DRIFT_FORMATS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${DRIFT_FORMATS.join(', ')}`);
  return [...(previous ?? []), value as DriftFormat];
}

export function registerDriftCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  addSelectionOptions(
    addSiteOptions(
      program
        .command('drift')
        .summary('report which sites drifted from the spec, without changing anything (for cron and CI)')
        .description(
          'Probes every selected site (one probe job each; or reuses a recorded observation younger than ' +
            '--max-age), compares it with the spec and writes the drift report: per site sync (in-sync, drifted, ' +
            'unknown) and health, each drift item with its spec file:line, the package x site version matrix, ' +
            'vulnerabilities and the job history. Never applies anything. The Nth --format goes to the Nth --output ' +
            '(- or none: stdout). Exit 0: every site in sync; 2: drift; 3: some site unknown ' +
            '(wins over drift: an unknown site may hide more); 1: error.',
        ),
    ),
  )
    .option(
      '--max-age <duration>',
      'reuse a recorded observation younger than this instead of probing (e.g. 1h)',
      parseDuration,
    )
    .option(`--format <format>`, `${DRIFT_FORMATS.join(', ')} (repeatable; default text)`, parseFormat)
    .option(
      '-o, --output <file>',
      'where a --format goes, in order: the first --output for the first --format, ...; - is stdout (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'text: every item, notes and history (default: drift only, a few per site)')
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg drift\n  gridpkg drift --max-age 6h --format junit --output drift.xml --format markdown ' +
        '--output "$GITHUB_STEP_SUMMARY"\n  gridpkg drift --where physics --format json --output - --quiet\n' +
        '\nExit codes: 0 all selected sites in sync, 2 drift, 3 some site unknown (also when others drifted), 1 error.',
    )
    .action(async (options: DriftOptions) => setExit(await runDrift(options, io)));
}

interface Destination {
  format: DriftFormat;
  /** A file, or undefined for stdout. */
  file: string | undefined;
}

/** A --format / --output combination that cannot be carried out. */
export class DriftOptionsError extends TerminalError {
  override name = 'DriftOptionsError';
}

/** Pairs the Nth --format with the Nth --output; more outputs than formats, or two on stdout, is an error. */
export function destinations(
  formats: readonly DriftFormat[] = [],
  outputs: readonly string[] = [],
): Destination[] {
  const chosen = formats.length > 0 ? formats : (['text'] as const);
  if (outputs.length > chosen.length)
    throw new DriftOptionsError(
      `${outputs.length} --output for ${chosen.length} --format: give each output its --format before it`,
    );
  const list = chosen.map((format, i) => {
    const output = outputs[i];
    return { format, file: output === undefined || output === '-' ? undefined : output };
  });
  if (list.filter((d) => d.file === undefined).length > 1)
    throw new DriftOptionsError('more than one --format goes to stdout: give the others an --output FILE');
  return list;
}

export async function runDrift(options: DriftOptions, io: CliIO): Promise<ExitCodeValue> {
  const targets = destinations(options.format, options.output);
  const spec = await loadSpec(options.file);
  const sites = selectSites(spec.sites, options);
  // Before any probe job: a report that cannot be saved must not cost a job per site first.
  for (const target of targets) if (target.file) await checkWritableFile(target.file, 'the report file');
  const stateDir = stateDirFor(options.file, options.stateDir);
  const context = jobContextFor(stateDir, io, options);
  let observations: Map<string, SiteObservationUsed>;
  try {
    observations = await observeForDrift(context, sites, options);
  } finally {
    await context.close?.();
  }
  const plan = buildPlan(
    sites,
    sites.map((s) => (observations.get(s.site) as { observation: Observation }).observation),
    { specFile: spec.file, specDigest: specDigest(spec.files) },
  );
  const statusStore = new SiteStatusStore(stateDir);
  const statuses = new Map<string, SiteStatus | undefined>();
  for (const site of sites) statuses.set(site.site, await statusStore.load(site.site));
  const history = await recordedJobs(
    context,
    sites.map((s) => s.site),
  );
  const report = buildDriftReport({
    plan,
    observations,
    statuses,
    history,
    now: Date.now(),
    ...(options.maxAge !== undefined ? { maxAgeMs: options.maxAge } : {}),
  });
  await writeReports(report, targets, options, io);
  return driftExitCode(report);
}

interface SiteObservationUsed {
  observation: Observation;
  source: 'probed' | 'recorded';
}

/**
 * Each site's observation: a recorded one younger than --max-age, else a probe job (read-only: probe jobs change
 * nothing on the site). Probes run in parallel up to --concurrency, one job per site.
 */
async function observeForDrift(
  context: JobContext,
  sites: readonly DesiredState[],
  options: Pick<DriftOptions, 'maxAge' | 'concurrency'>,
): Promise<Map<string, SiteObservationUsed>> {
  const limit = pLimit(options.concurrency);
  const entries = await Promise.all(
    sites.map((desired) =>
      limit(async (): Promise<[string, SiteObservationUsed]> => {
        const recorded =
          options.maxAge === undefined
            ? undefined
            : await context.observations.loadRecent(desired.site, options.maxAge, Date.now());
        if (recorded) return [desired.site, { observation: recorded, source: 'recorded' }];
        const { observation } = await observeSite(context, desired);
        return [desired.site, { observation, source: 'probed' }];
      }),
    ),
  );
  return new Map(entries);
}

async function writeReports(
  report: DriftReport,
  targets: readonly Destination[],
  options: Pick<DriftOptions, 'verbose'>,
  io: CliIO,
): Promise<void> {
  for (const target of targets) {
    // Colours only for the terminal; a file gets plain text.
    const style = target.file === undefined ? io.style : plainStyle;
    const text = renderDrift(report, target.format, { style, verbose: options.verbose === true });
    if (target.file === undefined) io.out(text);
    else {
      await writeFileAtomic(resolve(target.file), text, { what: `the ${target.format} drift report` });
      if (!options.verbose) continue;
      io.err(`Wrote the ${target.format} drift report to ${printable(target.file)}\n`);
    }
  }
}

/** 3 when a site is unknown (whatever else: an unknown site may hide drift), 2 on drift, else 0. */
export function driftExitCode(report: DriftReport): ExitCodeValue {
  const verdict = driftVerdict(report);
  if (verdict === 'unknown') return ExitCode.unknown;
  return verdict === 'drifted' ? ExitCode.changes : ExitCode.ok;
}
