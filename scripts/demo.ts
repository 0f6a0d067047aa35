/**
 * `npm run demo`: three simulated sites for desired-state.example.yaml, then plan, apply and plan again.
 * The sites run the pkgsrc simulator (test/pkgsrc-sim, a test and demo double), not real pkgsrc.
 */
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processIO } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';
import { buildSimulator } from '../test/pkgsrc-sim/build.js';
import { createRepository } from '../test/pkgsrc-sim/repository.js';
import { createSite, sitePrefix } from '../test/pkgsrc-sim/site.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'demo-sites');
const spec = join(root, 'desired-state.example.yaml');
const io = processIO();

function banner(text: string): void {
  io.out(`\n${io.style.bold(`=== ${text} ===`)}\n\n`);
}

await rm(demo, { recursive: true, force: true });
await buildSimulator();
banner('Creating three simulated sites under demo-sites/');
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

const base = ['-f', spec, '--state-dir', join(demo, 'state')];
banner('gridpkg plan');
await runCli(['plan', ...base], io);
banner('gridpkg apply --auto-approve');
const applied = await runCli(['apply', '--auto-approve', ...base], io);
banner('gridpkg plan --detailed-exitcode (again)');
const second = await runCli(['plan', '--detailed-exitcode', ...base], io);
io.out(`\nSecond plan exit code: ${second} (0 = every site matches the spec)\n`);
process.exitCode = applied === 0 && second === 0 ? 0 : 1;
