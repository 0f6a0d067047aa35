/** `gridpkg init`: writes a commented starter spec that validates, and never overwrites a file. */
import { open, unlink } from 'node:fs/promises';
import type { Command } from 'commander';
import { printable } from '../../report/untrusted.js';
import { parseSpecText } from '../../spec/index.js';
import { STARTER_DEFAULTS, starterSpec } from '../../spec/starter.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';

interface InitOptions {
  file: string;
  site: string;
  softwareArea: string;
  repository: string;
  vo?: string;
}

export function registerInitCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  program
    .command('init')
    .summary('write a commented starter spec')
    .description(
      'Writes a commented starter spec with one package set and one site (local backend), checked like ' +
        '`gridpkg validate` before it is written. An existing file is never overwritten (exit 1).',
    )
    .option('-f, --file <spec>', 'the spec file to create', 'desired-state.yaml')
    .option('--site <name>', 'the first site', STARTER_DEFAULTS.site)
    .option('--software-area <dir>', "the site's VO software area", STARTER_DEFAULTS.softwareArea)
    .option(
      '--repository <dir-or-url>',
      'binary packages for its prefix (PKG_PATH)',
      STARTER_DEFAULTS.repository,
    )
    .option('--vo <name>', 'the virtual organisation')
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg init\n  gridpkg init -f first.yaml --site RUG-CIT --software-area RUG-CIT/sw --repository packages/RUG-CIT/All',
    )
    .action(async (options: InitOptions) => setExit(await runInit(options, io)));
}

export async function runInit(options: InitOptions, io: CliIO): Promise<ExitCodeValue> {
  const text = starterSpec(options);
  // The values given on the command line are checked by the spec's own rules: a SpecError names the bad one.
  const sites = parseSpecText(text, options.file);
  const file = printable(options.file);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(options.file, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      io.err(`gridpkg: ${file} exists; init never overwrites a file (name another with -f)\n`);
      return ExitCode.error;
    }
    throw error;
  }
  try {
    await handle.writeFile(text);
    await handle.close();
  } catch (error) {
    // A half-written spec (a full disk) must not stay behind looking like a real one.
    await handle.close().catch(() => undefined);
    await unlink(options.file).catch(() => undefined);
    throw error;
  }
  const spec = options.file === 'desired-state.yaml' ? '' : ` -f ${file}`;
  io.out(
    `Wrote ${file}: a starter spec with ${sites.length} site(s) (${sites.map((s) => printable(s.site)).join(', ')}). ` +
      `Check it with \`gridpkg validate${spec}\`, then see what would change with \`gridpkg plan${spec}\`.\n`,
  );
  return ExitCode.ok;
}
