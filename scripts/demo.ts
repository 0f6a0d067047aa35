/**
 * `npm run demo [-- DIR]`: three simulated sites under DIR (default demo-sites/), a copy of
 * desired-state.example.yaml there as DIR/desired-state.yaml, then plan, apply and plan again. The state goes to the
 * default place, DIR/.gridpkg/, so `cd demo-sites && gridpkg plan` afterwards works on the same sites as printed.
 * The sites run the pkgsrc simulator (test/pkgsrc-sim, a test and demo double), not real pkgsrc.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processIO } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';
import { buildSimulator } from '../test/pkgsrc-sim/build.js';
import { createRepository } from '../test/pkgsrc-sim/repository.js';
import { createSite, sitePrefix } from '../test/pkgsrc-sim/site.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demo = resolve(process.argv[2] ?? join(root, 'demo-sites'));
const example = join(root, 'desired-state.example.yaml');
const spec = join(demo, 'desired-state.yaml');
const io = processIO();

/** A path as the user would type it from here: relative below the current directory, else absolute. */
function shown(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere === '' ? '.' : fromHere.startsWith('..') ? path : fromHere;
}

function banner(text: string): void {
  io.out(`\n${io.style.bold(`=== ${text} ===`)}\n\n`);
}

/** The example's paths are relative to the repository root (demo-sites/...); the copy's to the demo directory. */
function demoSpec(text: string): string {
  const schemas = demo.startsWith(`${root}/`) ? relative(demo, join(root, 'schemas')) : join(root, 'schemas');
  return [
    `# yaml-language-server: $schema=${schemas}/desired-state.schema.json`,
    '# Written by `npm run demo` from desired-state.example.yaml (paths relative to this directory); the demo',
    '# overwrites it. Edit it and run `gridpkg plan` here to try changes on the simulated sites.',
    ...text
      .split('\n')
      .filter((line) => !line.startsWith('# yaml-language-server:'))
      .map((line) => line.replace(/^(\s*(?:softwareArea|repository): )demo-sites\//, '$1')),
  ].join('\n');
}

await rm(demo, { recursive: true, force: true });
await buildSimulator();
banner(`Creating three simulated sites under ${shown(demo)}/`);
const sites: Array<[string, string[], string]> = [
  ['NIKHEF-ELPROD', [], 'freshly bootstrapped, nothing installed'],
  ['SARA-MATRIX', ['gsl-2.8', 'hdf5-1.14.3', 'openssl-3.0.13'], 'gsl 2.8, hdf5, an old openssl'],
  ['RUG-CIT', ['gsl-2.6', 'zlib-1.2.13'], 'an old gsl and an old zlib'],
];
for (const [name, installed, description] of sites) {
  // One repository per prefix (demo-sites/packages/SITE/All): pkg_add installs a package where it was built for.
  const repository = await createRepository(join(demo, 'packages', name), undefined, {
    prefix: sitePrefix(join(demo, name)),
  });
  await createSite({ root: join(demo, name), repository, installed, groupWritable: true });
  io.out(`  ${name}: ${description}\n`);
}
await writeFile(spec, demoSpec(await readFile(example, 'utf8')));

const base = ['-f', spec];
banner('gridpkg plan');
await runCli(['plan', ...base], io);
banner('gridpkg apply --auto-approve');
const applied = await runCli(['apply', '--auto-approve', ...base], io);
banner('gridpkg plan --detailed-exitcode (again)');
const second = await runCli(['plan', '--detailed-exitcode', ...base], io);
io.out(`\nSecond plan exit code: ${second} (0 = every site matches the spec)\n`);
const where = shown(demo);
io.out(
  `\nThe demo's spec is ${join(where, 'desired-state.yaml')} and its state ${join(where, '.gridpkg')}/. ` +
    'Go on with the same sites:\n\n' +
    `  cd ${where}\n` +
    '  gridpkg plan                      # no changes\n' +
    '  gridpkg import --site RUG-CIT     # what RUG-CIT holds, as a spec fragment\n' +
    '  (edit desired-state.yaml)         # then: gridpkg plan, gridpkg apply\n',
);
process.exitCode = applied === 0 && second === 0 ? 0 : 1;
