/** `gridpkg show PLANFILE [--json]`: a saved plan, as plan printed it or as its JSON document (Terraform's show). */
import type { Command } from 'commander';
import { planDocument, readPlanFile } from '../../reconcile/plan-file.js';
import { renderPlan } from '../../report/plan-view.js';
import { printable } from '../../report/untrusted.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';

export function registerShowCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  program
    .command('show <planfile>')
    .summary('print a saved plan')
    .description(
      'Prints a plan saved with `gridpkg plan -out PLANFILE` as plan showed it, or with --json as one JSON document ' +
        '(schemas/plan.schema.json). Reads the file only: it submits nothing and checks no site.',
    )
    .option('--json', 'the plan as one JSON document (also -json)')
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg show tonight.plan\n  gridpkg show -json tonight.plan | jq .sites',
    )
    .action(async (planfile: string, options: { json?: boolean }) => {
      const saved = await readPlanFile(planfile);
      if (options.json) {
        io.out(planDocument(saved, saved.stateDir));
      } else {
        io.out(
          `Saved plan ${printable(saved.id)} made ${printable(saved.createdAt)} from ${printable(saved.specFile)} ` +
            `(state directory ${printable(saved.stateDir)})\n\n`,
        );
        io.out(renderPlan(saved, io.style));
        io.out(`\nApply exactly these actions with: gridpkg apply ${printable(planfile)}\n`);
      }
      setExit(ExitCode.ok);
    });
}
