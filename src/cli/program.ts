/** The commander program: every command registered, errors turned into messages and exit codes. */
import { Command, CommanderError } from 'commander';
import { readJsonAsset } from '../assets.js';
import { PlanFileError } from '../reconcile/plan-file.js';
import { printableLines } from '../report/safe-output.js';
import { SpecError } from '../spec/index.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerConvergeCommand } from './commands/converge.js';
import { registerDriftCommand } from './commands/drift.js';
import { registerForceUnlockCommand } from './commands/force-unlock.js';
import { registerImportCommand } from './commands/import.js';
import { registerInitCommand } from './commands/init.js';
import { registerPkgCommand } from './commands/pkg.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerServeCommand } from './commands/serve.js';
import { registerShowCommand } from './commands/show.js';
import { registerStatusCommand } from './commands/status.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerVersionCommand } from './commands/version.js';
import { registerWatchCommand } from './commands/watch.js';
import { describeError } from './errors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import type { CliIO } from './io.js';
import { normalizeTerraformFlags } from './terraform-flags.js';

const { version } = readJsonAsset('package.json') as { version: string };

const EXIT_CODE_HELP = `
Environment:
  GRIDPKG_STATE_DIR  state directory when --state-dir is not given
  GRIDPKG_DEBUG=1    print the stack trace of every error (by default only of a bug in gridpkg)
  NO_COLOR           no colours (colours are also off when output is not a terminal)

Exit codes:
  0  success; every site matches the spec
  1  error: bad input, a job failed or was refused, a blocked plan, vulnerable packages under policy fail
  2  changes pending (plan --detailed-exitcode), drift (drift)
  3  unknown: some site could not be observed; gridpkg did nothing there (drift: wins over drift)
  130  interrupted by Ctrl-C (143: by SIGTERM); jobs in flight keep running, the next run re-attaches
       (watch waits --drain-timeout for them first, and exits 0 on SIGTERM)`;

export async function runCli(argv: readonly string[], io: CliIO): Promise<ExitCodeValue> {
  let exitCode: ExitCodeValue = ExitCode.ok;
  const setExit = (code: ExitCodeValue) => {
    exitCode = code;
  };
  const program = new Command('gridpkg')
    .description(
      'Keeps the pkgsrc installations of a virtual organisation on many grid sites in the state declared in a ' +
        'YAML spec: probes each site with a grid job, plans the difference, applies it with one job per site.',
    )
    .version(version, '-V, --version')
    .option('--no-color', 'no colours in the output (also -no-color)')
    // Global options (--no-color) are listed in every command's help too.
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (t) => io.out(t), writeErr: (t) => io.err(t) })
    .exitOverride()
    .addHelpText('after', EXIT_CODE_HELP);
  registerInitCommand(program, io, setExit);
  registerPlanCommand(program, io, setExit);
  registerApplyCommand(program, io, setExit);
  registerValidateCommand(program, io, setExit);
  registerImportCommand(program, io, setExit);
  registerConvergeCommand(program, io, setExit);
  registerDriftCommand(program, io, setExit);
  registerWatchCommand(program, io, setExit);
  registerStatusCommand(program, io, setExit);
  registerForceUnlockCommand(program, io, setExit);
  registerServeCommand(program, io, setExit);
  registerShowCommand(program, io, setExit);
  registerPkgCommand(program, setExit);
  registerVersionCommand(program, io, version);
  try {
    await program.parseAsync(normalizeTerraformFlags(argv), { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIO): ExitCodeValue {
  if (error instanceof CommanderError) {
    // Help and version end through here too, with exit code 0.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.error;
  }
  if (error instanceof SpecError) {
    io.err(`${error.message}\n`);
    io.err(`gridpkg: the spec has ${error.diagnostics.length} problem(s); nothing was submitted\n`);
    return ExitCode.error;
  }
  if (error instanceof PlanFileError) {
    io.err(`gridpkg: ${printableLines(error.message)}\n`);
    return ExitCode.error;
  }
  // Errors can quote what a site, a job or a file said (JSON.parse quotes the text it choked on): escaped per line.
  io.err(`gridpkg: ${printableLines(describeError(error))}\n`);
  return ExitCode.error;
}
