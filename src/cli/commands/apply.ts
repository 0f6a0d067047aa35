import { resolve } from 'node:path';
import type { Command } from 'commander';
import { applyPlan, planSites, type SiteApplyResult } from '../../reconcile/engine.js';
import type { Plan } from '../../reconcile/plan.js';
import { summarizePlan } from '../../reconcile/plan.js';
import { readPlanFile, specDigest } from '../../reconcile/plan-file.js';
import type { JobContext } from '../../reconcile/run-job.js';
import { renderApply } from '../../report/apply-view.js';
import { renderPlan } from '../../report/plan-view.js';
import { loadSpec } from '../../spec/index.js';
import { addSiteOptions, jobContextFor, type SiteCommandOptions, stateDirFor } from '../common.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';

export interface ApplyOptions extends SiteCommandOptions {
  autoApprove?: boolean;
}

export function registerApplyCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  addSiteOptions(
    program
      .command('apply [planfile]')
      .summary('make the sites match the spec')
      .description(
        'Without PLANFILE: probes and plans like `gridpkg plan`, shows the plan, asks for confirmation and applies it. ' +
          'With PLANFILE (from `gridpkg plan -out`): applies exactly that plan without asking. ' +
          'Each drifted site gets one apply job (never two jobs on one site at once). The job refuses with "stale" ' +
          'when the site changed since its observation; then run `gridpkg plan` again.',
      ),
  )
    .option('--auto-approve', 'do not ask for confirmation (also -auto-approve)')
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg apply\n  gridpkg apply --auto-approve\n  gridpkg apply tonight.plan',
    )
    .action(async (planfile: string | undefined, options: ApplyOptions) =>
      setExit(await runApply(planfile, options, io)),
    );
}

export async function runApply(
  planfile: string | undefined,
  options: ApplyOptions,
  io: CliIO,
): Promise<ExitCodeValue> {
  let plan: Plan;
  let context: JobContext;
  if (planfile) {
    plan = await readPlanFile(planfile);
    context = jobContextFor(stateDirFor(plan.specFile, options.stateDir), io, options.quiet);
  } else {
    const spec = await loadSpec(options.file);
    // One context for planning and applying: one site queue serializes both phases.
    context = jobContextFor(stateDirFor(options.file, options.stateDir), io, options.quiet);
    plan = await planSites(context, spec.sites, {
      concurrency: options.concurrency,
      specFile: resolve(spec.file),
      specDigest: specDigest(spec.files),
    });
    io.out(renderPlan(plan, io.style));
  }
  try {
    return await confirmAndApply(plan, context, Boolean(planfile), options, io);
  } finally {
    await context.close?.();
  }
}

async function confirmAndApply(
  plan: Plan,
  context: JobContext,
  fromPlanFile: boolean,
  options: ApplyOptions,
  io: CliIO,
): Promise<ExitCodeValue> {
  const summary = summarizePlan(plan);
  if (summary.sitesWithChanges === 0) {
    io.out('\nNothing to apply.\n');
    return untouchedExitCode(plan);
  }
  if (!fromPlanFile && !options.autoApprove) {
    const answer = await io.confirm(
      `\nDo you want to perform these actions on ${summary.sitesWithChanges} site(s)? Only 'yes' will be accepted: `,
    );
    if (answer === undefined) {
      io.err(
        'gridpkg: no terminal to ask for confirmation; review with `gridpkg plan` and use --auto-approve\n',
      );
      return ExitCode.error;
    }
    if (!answer) {
      // As Terraform: declining is not success, so a script that piped in the wrong answer stops here.
      io.err('Apply cancelled.\n');
      return ExitCode.error;
    }
  }
  const results = await applyPlan(context, plan, { concurrency: options.concurrency });
  io.out(`\n${renderApply(results, io.style)}`);
  return applyExitCode(plan, results);
}

/** Sites that were not applied because they are unknown or blocked still decide the exit code. */
function untouchedExitCode(plan: Plan): ExitCodeValue {
  if (plan.sites.some((s) => s.outcome === 'blocked')) return ExitCode.error;
  if (plan.sites.some((s) => s.outcome === 'unknown')) return ExitCode.unknown;
  return ExitCode.ok;
}

export function applyExitCode(plan: Plan, results: readonly SiteApplyResult[]): ExitCodeValue {
  if (results.some((r) => r.status !== 'ok')) return ExitCode.error;
  return untouchedExitCode(plan);
}
