import { resolve } from 'node:path';
import type { Command } from 'commander';
import { applyPlan, planSites, type SiteApplyResult } from '../../reconcile/engine.js';
import type { Plan } from '../../reconcile/plan.js';
import { summarizePlan } from '../../reconcile/plan.js';
import { PlanFileError, readPlanFile, type SavedPlan, specDigest } from '../../reconcile/plan-file.js';
import type { JobContext } from '../../reconcile/run-job.js';
import { renderApply } from '../../report/apply-view.js';
import { renderPlan } from '../../report/plan-view.js';
import { printable } from '../../report/untrusted.js';
import { type LoadedSpec, loadSpec, SpecError } from '../../spec/index.js';
import { addSiteOptions, jobContextFor, type SiteCommandOptions, stateDirFor } from '../common.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import {
  addSelectionOptions,
  isSelecting,
  partialRunNote,
  type SiteSelection,
  SiteSelectionError,
  selectSites,
} from '../site-selection.js';

export interface ApplyOptions extends SiteCommandOptions, SiteSelection {
  autoApprove?: boolean;
  /** -f was given on the command line (not its default): with PLANFILE it must name the plan's spec. */
  fileGiven?: boolean;
}

export function registerApplyCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  addSelectionOptions(
    addSiteOptions(
      program
        .command('apply [planfile]')
        .summary('make the sites match the spec')
        .description(
          'Without PLANFILE: probes and plans like `gridpkg plan`, shows the plan, asks for confirmation and applies it. ' +
            'With PLANFILE (from `gridpkg plan -out`): applies exactly that plan without asking, with the state ' +
            'directory it was made with, and only while its spec is unchanged; a plan is carried out once per site ' +
            '(a re-run re-attaches to its jobs or reports what they did). ' +
            'Each drifted site gets one apply job (never two jobs on one site at once). The job refuses with "stale" ' +
            'when the site changed since its observation; then run `gridpkg plan` again.',
        ),
    ),
  )
    .option('--auto-approve', 'do not ask for confirmation (also -auto-approve)')
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg apply\n  gridpkg apply --auto-approve\n  gridpkg apply tonight.plan\n  gridpkg apply --site nikhef',
    )
    .action(async (planfile: string | undefined, options: ApplyOptions, command: Command) =>
      setExit(
        await runApply(
          planfile,
          { ...options, fileGiven: command.getOptionValueSource('file') === 'cli' },
          io,
        ),
      ),
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
    if (isSelecting(options))
      throw new SiteSelectionError(
        `--site, --exclude and --where choose the sites to plan; ${printable(planfile)} applies the sites it was made for. ` +
          'Make a plan of the sites you want with `gridpkg plan --site … -out FILE`',
      );
    const saved = await readPlanFile(planfile);
    await checkSavedPlan(planfile, saved, options);
    plan = saved;
    context = jobContextFor(saved.stateDir, io, options);
  } else {
    const spec = await loadSpec(options.file);
    const sites = selectSites(spec.sites, options);
    const partial = partialRunNote(sites, spec.sites);
    if (partial) io.err(partial);
    // One context for planning and applying: one site queue serializes both phases.
    context = jobContextFor(stateDirFor(options.file, options.stateDir), io, options);
    plan = await planSites(context, sites, {
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

/**
 * A saved plan is applied as it was made, or not at all (Terraform's rules): against the spec it was made from,
 * unchanged since (else "Saved plan is stale"), with the state directory it was made with. An -f, --state-dir or
 * GRIDPKG_STATE_DIR that names something else is an error, never silently ignored.
 */
async function checkSavedPlan(planfile: string, saved: SavedPlan, options: ApplyOptions): Promise<void> {
  const spec = printable(saved.specFile);
  if (options.fileGiven && resolve(options.file) !== saved.specFile) {
    throw new PlanFileError(
      `${planfile} was made from the spec ${spec}, but -f names ${printable(resolve(options.file))}; ` +
        'a saved plan is applied against its own spec: leave out -f, or make a new plan with `gridpkg plan -out`',
    );
  }
  const stateDir = options.stateDir ?? process.env.GRIDPKG_STATE_DIR;
  if (stateDir !== undefined && resolve(stateDir) !== saved.stateDir) {
    throw new PlanFileError(
      `${planfile} was made with the state directory ${printable(saved.stateDir)}, but ` +
        `${options.stateDir !== undefined ? '--state-dir' : 'GRIDPKG_STATE_DIR'} names ${printable(resolve(stateDir))}; ` +
        'a saved plan is applied with the ledger it was planned with: leave out --state-dir (and GRIDPKG_STATE_DIR)',
    );
  }
  const stale = (why: string) =>
    new PlanFileError(
      `Saved plan is stale: ${why}; nothing was applied. Make a new plan with \`gridpkg plan -f ${spec} -out ${planfile}\``,
    );
  let current: LoadedSpec;
  try {
    current = await loadSpec(saved.specFile);
  } catch (error) {
    if (error instanceof SpecError)
      throw stale(`its spec ${spec} cannot be loaded any more (see \`gridpkg validate -f ${spec}\`)`);
    throw error;
  }
  if (specDigest(current.files) !== saved.specDigest)
    throw stale(`its spec ${spec} (or a file it includes) changed since the plan was made`);
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
    const answer = !options.input
      ? undefined
      : await io.confirm(
          `\nDo you want to perform these actions on ${summary.sitesWithChanges} site(s)? Only 'yes' will be accepted: `,
        );
    if (answer === undefined) {
      io.err(
        `gridpkg: ${options.input ? 'no terminal to ask for confirmation' : '-input=false: no confirmation is asked'}; ` +
          'review with `gridpkg plan` and use --auto-approve\n',
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
