import { resolve } from 'node:path';
import type { Command } from 'commander';
import { planSites } from '../../reconcile/engine.js';
import { type Plan, sitesFailingAudit } from '../../reconcile/plan.js';
import { planDocument, specDigest, writePlanFile } from '../../reconcile/plan-file.js';
import { renderPlan } from '../../report/plan-view.js';
import { printable } from '../../report/untrusted.js';
import { loadSpec } from '../../spec/index.js';
import { checkWritableFile } from '../../state/writable.js';
import { addSiteOptions, jobContextFor, type SiteCommandOptions, stateDirFor } from '../common.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { addSelectionOptions, partialRunNote, type SiteSelection, selectSites } from '../site-selection.js';

export interface PlanOptions extends SiteCommandOptions, SiteSelection {
  out?: string;
  detailedExitcode?: boolean;
  json?: boolean;
}

export function registerPlanCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  addSelectionOptions(
    addSiteOptions(
      program
        .command('plan')
        .summary('show what apply would change on each site')
        .description(
          'Probes every site in the spec (one probe job per site, sites in parallel), compares what it holds with ' +
            'the spec and prints the changes per site: + install, - remove, ~ upgrade/downgrade, ? unknown, ! blocked. ' +
            'A site that cannot be observed is unknown and is never acted on.',
        ),
    ),
  )
    .option('-o, --out <planfile>', 'save the plan for `gridpkg apply PLANFILE` (also -out=FILE)')
    .option('--detailed-exitcode', 'exit 2 when there are changes (0 none, 1 error, 3 a site unknown)')
    .option('--json', 'print the plan as one JSON document (schemas/plan.schema.json, as -out saves it)')
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg plan -f desired-state.yaml\n  gridpkg plan -out=tonight.plan --detailed-exitcode\n' +
        "  gridpkg plan --site nikhef --where 'physics and not legacy'",
    )
    .action(async (options: PlanOptions) => setExit(await runPlan(options, io)));
}

export async function runPlan(options: PlanOptions, io: CliIO): Promise<ExitCodeValue> {
  const spec = await loadSpec(options.file);
  const sites = selectSites(spec.sites, options);
  // Before any probe job: a plan that cannot be saved must not cost a job per site first.
  if (options.out) await checkWritableFile(options.out, 'the plan file');
  const stateDir = stateDirFor(options.file, options.stateDir);
  const context = jobContextFor(stateDir, io, options);
  const partial = partialRunNote(sites, spec.sites);
  if (partial) io.err(partial);
  const plan = await planSites(context, sites, {
    concurrency: options.concurrency,
    specFile: resolve(spec.file),
    specDigest: specDigest(spec.files),
  }).finally(() => context.close?.());
  io.out(options.json ? planDocument(plan, stateDir) : renderPlan(plan, io.style));
  if (options.out) {
    await writePlanFile(options.out, plan, stateDir);
    // With --json, stdout is the document alone.
    (options.json ? io.err : io.out)(
      `\nSaved the plan to ${printable(options.out)}. Apply exactly these actions with: gridpkg apply ${printable(options.out)}\n`,
    );
  }
  return planExitCode(plan, options.detailedExitcode === true);
}

export function planExitCode(plan: Plan, detailed: boolean): ExitCodeValue {
  if (plan.sites.some((s) => s.outcome === 'blocked') || sitesFailingAudit(plan).length > 0)
    return ExitCode.error;
  if (plan.sites.some((s) => s.outcome === 'unknown')) return ExitCode.unknown;
  if (detailed && plan.sites.some((s) => s.outcome === 'changes')) return ExitCode.changes;
  return ExitCode.ok;
}
