// `gridpkg pkg match|compare`: the pkgsrc rules gridpkg uses (src/pkgsrc), runnable by hand to check a pattern or
// a version order before putting it in a spec. `match` behaves like `pkg_admin pmatch` (exit 0 match, 1 not).
import type { Command } from 'commander';
import {
  compareVersions,
  isValidPattern,
  isValidPkgName,
  matchPattern,
  PkgsrcError,
} from '../../pkgsrc/index.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';

interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Write through the program's configured output (commander passes it on to subcommands), so tests can capture it. */
function outputOf(cmd: Command): Output {
  const config = cmd.configureOutput();
  return {
    out: (text) => (config.writeOut ? config.writeOut(text) : process.stdout.write(text)),
    err: (text) => (config.writeErr ? config.writeErr(text) : process.stderr.write(text)),
  };
}

/** The exit code goes to the program's own setter, never to the global process.exitCode (it would leak into the
 * next command run in the same process). */
type SetExit = (code: ExitCodeValue) => void;

function run(cmd: Command, setExit: SetExit, body: (io: Output) => boolean): void {
  const io = outputOf(cmd);
  try {
    setExit(body(io) ? ExitCode.ok : ExitCode.error);
  } catch (error) {
    if (!(error instanceof PkgsrcError)) throw error;
    io.err(`gridpkg: ${error.message}\n`);
    setExit(ExitCode.error);
  }
}

export function runMatch(pattern: string, pkgname: string, io: Output): boolean {
  if (!isValidPattern(pattern)) {
    throw new PkgsrcError(
      'bad-pattern',
      `${JSON.stringify(pattern)} is not a package pattern (letters, digits, . _ + - < > = * ? [ ] { } , ` +
        'with balanced braces, not starting with "-")',
    );
  }
  if (!isValidPkgName(pkgname)) {
    throw new PkgsrcError('bad-pkgname', `${JSON.stringify(pkgname)} is not a package name like gsl-2.7nb1`);
  }
  const matches = matchPattern(pattern, pkgname);
  io.out(`${pkgname} ${matches ? 'matches' : 'does not match'} ${pattern}\n`);
  return matches;
}

export function runCompare(a: string, b: string, io: Output): boolean {
  const sign = compareVersions(a, b);
  io.out(`${a} ${sign < 0 ? '<' : sign > 0 ? '>' : '=='} ${b}\n`);
  return true;
}

export function registerPkgCommand(program: Command, setExit: SetExit): void {
  const pkg = program
    .command('pkg')
    .summary('check pkgsrc patterns and version order')
    .description(
      'pkgsrc helpers: the same pattern matching (pkg_match) and dewey version order as pkg_install, so you can\n' +
        'check a version pattern or an ordering before you write it into the spec.',
    );
  pkg
    .command('match')
    .argument('<pattern>', 'a pkg_match pattern: gsl>=2.7<3, gsl-2.7*, {gsl,fftw}-[0-9]*, gsl')
    .argument('<pkgname>', 'a package name with version: gsl-2.7nb1')
    .summary('does PKGNAME match PATTERN? (like pkg_admin pmatch)')
    .description(
      'Prints "PKGNAME matches PATTERN" and exits 0, or "PKGNAME does not match PATTERN" and exits 1, as\n' +
        '`pkg_admin pmatch` does. Exits 1 with a message for a malformed pattern or package name.',
    )
    .addHelpText(
      'after',
      "\nExamples:\n  gridpkg pkg match 'gsl>=2.7<3' gsl-2.7nb1\n  gridpkg pkg match 'gsl-2.*' gsl-2.8\n" +
        '  gridpkg pkg match gsl gsl-2.8        # a name without version matches any version',
    )
    .action(function (this: Command, pattern: string, pkgname: string) {
      run(this, setExit, (io) => runMatch(pattern, pkgname, io));
    });
  pkg
    .command('compare')
    .argument('<a>', 'a package version: 2.7nb1, 1.0rc1, 6.30.02')
    .argument('<b>', 'another package version')
    .summary('order two versions by pkgsrc (dewey) rules')
    .description(
      'Prints "A < B", "A == B" or "A > B" by pkgsrc\'s dewey order (nbN revisions last, alpha < beta < rc/pre <\n' +
        'release < pl, "_" is ".", 1.0 == 1.0.0, 1.0a == 1.0.1) and exits 0. Exits 1 for a malformed version.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg pkg compare 2.7nb1 2.8      # 2.7nb1 < 2.8\n  gridpkg pkg compare 1.0 1.0.0      # 1.0 == 1.0.0',
    )
    .action(function (this: Command, a: string, b: string) {
      run(this, setExit, (io) => runCompare(a, b, io));
    });
}
