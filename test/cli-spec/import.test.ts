/**
 * `gridpkg import` end to end: simulated sites (test/pkgsrc-sim, a test double) are probed by `gridpkg plan`, and
 * their recorded observations become spec entries.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Observation } from '../../src/reconcile/observation.js';
import { loadSpec } from '../../src/spec/index.js';
import { cli, World } from '../integration/harness.js';

let world: World;
/** import on the world's spec and state directory (import has no progress, so no --quiet). */
const imp = (...args: string[]) =>
  cli(['import', '-f', world.specFile, '--state-dir', world.stateDir, ...args]);
let observedA: Observation;

function specText(world: World): string {
  const a = world.sites.get('site-a');
  const b = world.sites.get('site-b');
  if (!a || !b) throw new Error('sites missing');
  return [
    '# yaml-language-server: $schema=./schemas/desired-state.schema.json',
    '# The VO spec. This comment and the layout below must survive import --write.',
    'apiVersion: gridpkg/v1',
    'defaults:',
    '  vo: pvier',
    'sites:',
    '  site-a:',
    `    softwareArea: ${a.swdir}`,
    `    repository: ${world.repositoryOf('site-a')} # PKG_PATH, built for this prefix`,
    '    backend: { type: local, shell: [dash] } # flow style, kept as written',
    '',
    '  site-b:',
    `    softwareArea: ${b.swdir}`,
    `    repository: ${world.repositoryOf('site-b')}`,
    '    backend: { type: local, shell: [dash] }',
    '    packages:',
    '      - devel/hdf5 # already managed',
    '',
  ].join('\n');
}

beforeAll(async () => {
  world = await World.create(['dash']);
  await world.addSite('site-a', ['root-6.30.02', 'hdf5-1.14.3']);
  await world.addSite('site-b', ['hdf5-1.14.3', 'gsl-2.8']);
  await writeFile(world.specFile, specText(world));
  const plan = await world.run('plan');
  expect(plan.stderr).toBe('');
  expect(plan.code).toBe(0);
  observedA = JSON.parse(
    await readFile(join(world.stateDir, 'observations', 'site-a.json'), 'utf8'),
  ) as Observation;
  expect(observedA.state).toBe('known');
});
afterAll(async () => {
  await world?.dispose();
});

describe('gridpkg import', () => {
  it('prints the user-installed packages of a site by PKGPATH: no dependencies, no bootstrap packages', async () => {
    const run = await imp('--site', 'site-a');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(parse(run.stdout)).toEqual({ sites: { 'site-a': { packages: ['devel/hdf5', 'math/root'] } } });
    const automatic =
      observedA.state === 'known' ? observedA.installed.filter((p) => p.automatic).length : Number.NaN;
    expect(automatic).toBeGreaterThan(0);
    expect(run.stdout).toBe(
      [
        `# gridpkg import: spec fragment for ${world.specFile}`,
        '',
        'sites:',
        `  # site-a: user-installed packages as observed ${observedA.observedAt} (job ${observedA.jobId}).`,
        `  # Left out: ${automatic} package(s) installed automatically as dependencies.`,
        '  # Left out, part of the pkgsrc bootstrap: bmake-20150505, bootstrap-mk-files-20170802, ' +
          'cwrappers-20170611, nawk-20121220nb1, pkg_chk-2.0.8, pkg_install-20170419.',
        '  site-a:',
        '    packages:',
        '      - devel/hdf5',
        '      - math/root',
        '',
      ].join('\n'),
    );
  });

  it('--pin pins each package to its installed version or newer', async () => {
    const run = await imp('--site', 'site-a', '--pin');
    expect(run.code).toBe(0);
    expect(parse(run.stdout)).toEqual({
      sites: {
        'site-a': {
          packages: [
            { pkgpath: 'devel/hdf5', pattern: 'hdf5>=1.14.3' },
            { pkgpath: 'math/root', pattern: 'root>=6.30.02' },
          ],
        },
      },
    });
  });

  it('--all imports every site of the spec that has an observation', async () => {
    const run = await imp('--all');
    expect(run.code).toBe(0);
    expect(parse(run.stdout)).toEqual({
      sites: {
        'site-a': { packages: ['devel/hdf5', 'math/root'] },
        'site-b': { packages: ['devel/hdf5', 'math/gsl'] },
      },
    });
  });

  it('--write adds the packages to the spec, keeps the rest of the file, skips what is there; plan is clean', async () => {
    const file = join(world.root, 'write.yaml');
    const before = specText(world);
    await writeFile(file, before);
    const run = await cli(['import', '--all', '--write', '-f', file, '--state-dir', world.stateDir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'site-a: added 2 package(s): devel/hdf5, math/root',
        'site-b: added 1 package(s): math/gsl',
        'site-b: already in the spec: devel/hdf5',
        `Wrote ${file}. Review it, then run gridpkg plan.`,
        '',
      ].join('\n'),
    );
    const after = await readFile(file, 'utf8');
    const a = world.sites.get('site-a')?.swdir;
    const b = world.sites.get('site-b')?.swdir;
    const stamp = `# imported by gridpkg import from the observation of`;
    expect(after.replace(/(# imported by gridpkg import from the observation of) \S+/g, '$1 T')).toBe(
      [
        '# yaml-language-server: $schema=./schemas/desired-state.schema.json',
        '# The VO spec. This comment and the layout below must survive import --write.',
        'apiVersion: gridpkg/v1',
        'defaults:',
        '  vo: pvier',
        'sites:',
        '  site-a:',
        `    softwareArea: ${a}`,
        `    repository: ${world.repositoryOf('site-a')} # PKG_PATH, built for this prefix`,
        '    backend: { type: local, shell: [dash] } # flow style, kept as written',
        '    packages:',
        `      ${stamp} T`,
        '      - devel/hdf5',
        '      - math/root',
        '',
        '  site-b:',
        `    softwareArea: ${b}`,
        `    repository: ${world.repositoryOf('site-b')}`,
        '    backend: { type: local, shell: [dash] }',
        '    packages:',
        '      - devel/hdf5 # already managed',
        `      ${stamp} T`,
        '      - math/gsl',
        '',
      ].join('\n'),
    );
    const spec = await loadSpec(file);
    expect(spec.sites.find((s) => s.site === 'site-a')?.requirements.map((r) => r.pkgpath)).toEqual([
      'devel/hdf5',
      'math/root',
    ]);
    const plan = await cli(['plan', '-f', file, '--state-dir', world.stateDir, '-q', '--detailed-exitcode']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);

    const again = await cli(['import', '--all', '--write', '-f', file, '--state-dir', world.stateDir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      'site-a: nothing to add\nsite-a: already in the spec: devel/hdf5, math/root\n',
    );
    expect(again.stdout).toContain(`${file} is unchanged.`);
    expect(await readFile(file, 'utf8')).toBe(after);
  });

  it('--write --pin writes patterns that the spec accepts', async () => {
    const file = join(world.root, 'pin.yaml');
    await writeFile(file, specText(world));
    const run = await cli([
      'import',
      '--site',
      'site-a',
      '--pin',
      '--write',
      '-f',
      file,
      '--state-dir',
      world.stateDir,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'site-a: added 2 package(s): devel/hdf5 (hdf5>=1.14.3), math/root (root>=6.30.02)',
    );
    const spec = await loadSpec(file);
    expect(
      spec.sites.find((s) => s.site === 'site-a')?.requirements.map((r) => [r.pkgpath, r.pattern, r.state]),
    ).toEqual([
      ['devel/hdf5', 'hdf5>=1.14.3', 'present'],
      ['math/root', 'root>=6.30.02', 'present'],
    ]);
  });

  it('--write refuses to create an entry for a site the spec does not have, and explains why', async () => {
    const file = join(world.root, 'only-a.yaml');
    const text = specText(world).split('\n  site-b:')[0] as string;
    await writeFile(file, `${text.trimEnd()}\n`);
    const before = await readFile(file, 'utf8');
    const run = await cli([
      'import',
      '--site',
      'site-b',
      '--write',
      '-f',
      file,
      '--state-dir',
      world.stateDir,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`warning: site site-b is not in ${file}`);
    expect(run.stderr).toContain("site site-b is not in this file's sites");
    expect(run.stderr).toContain('needs at least softwareArea and backend');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('--write leaves a site defined in an included file alone and names that file', async () => {
    const root = join(world.root, 'root.yaml');
    const sites = join(world.root, 'sites-b.yaml');
    const [head, siteB] = specText(world).split('\n  site-b:') as [string, string];
    await writeFile(
      root,
      `${head.replace('apiVersion: gridpkg/v1', 'apiVersion: gridpkg/v1\ninclude: [sites-b.yaml]')}\n`,
    );
    await writeFile(sites, `apiVersion: gridpkg/v1\nsites:\n  site-b:${siteB}`);
    expect((await loadSpec(root)).sites.map((s) => s.site).sort()).toEqual(['site-a', 'site-b']);
    const before = [await readFile(root, 'utf8'), await readFile(sites, 'utf8')];
    const run = await cli([
      'import',
      '--site',
      'site-b',
      '--write',
      '-f',
      root,
      '--state-dir',
      world.stateDir,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the site is defined in ${sites}, which --write does not edit`);
    expect([await readFile(root, 'utf8'), await readFile(sites, 'utf8')]).toEqual(before);
  });

  it('says so and suggests gridpkg plan when there is no observation, exit 1', async () => {
    const run = await cli([
      'import',
      '--site',
      'site-a',
      '-f',
      world.specFile,
      '--state-dir',
      join(world.root, 'empty-state'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('gridpkg import: there is no observation of site-a yet\n');
    expect(run.stderr).toContain(`hint: run \`gridpkg plan -f ${world.specFile}\` to probe the site`);
  });

  it('--all with no observation at all is an error with the same hint', async () => {
    const run = await cli([
      'import',
      '--all',
      '-f',
      world.specFile,
      '--state-dir',
      join(world.root, 'empty2'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no site of');
    expect(run.stderr).toContain('gridpkg plan');
  });

  it('rejects an unknown site with a did-you-mean among the spec sites', async () => {
    const run = await imp('--site', 'site-c');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `gridpkg import: unknown site "site-c": it is not in ${world.specFile} and has no observation\n` +
        '  hint: did you mean "site-a"?\n',
    );
  });

  it('needs exactly one of --site and --all', async () => {
    expect((await imp()).stderr).toContain('give --site NAME (repeatable) or --all');
    const both = await imp('--all', '--site', 'site-a');
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('not both');
  });
});
