/**
 * The repository listing once per digest (issue 10, item 7), end to end on simulated sites: the first probe sends
 * the listing with its digest, the controller keeps it in the state directory and names it in later requests, and
 * later probes leave it out. A controller that lost its store leaves the site unknown, and the next probe sends the
 * listing again.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { availableShells, cli, World } from './harness.js';

/** The saved raw reports, oldest job first (job ids start with a timestamp). */
async function reports(world: World): Promise<string[]> {
  const dir = join(world.stateDir, 'reports');
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')));
}

describe.each(availableShells())('repository listing once per digest, job script under %s', (...shell) => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(shell);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('sends the listing once, plans from the stored one, and sends it again when the store is lost', async () => {
    await world.addSite('site-a');
    await world.addSite('site-b');
    await world.writeSpec({ 'site-a': '      - math/gsl', 'site-b': '      - math/gsl' });

    const first = await world.run('plan', '--detailed-exitcode');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(2);
    const firstReports = await reports(world);
    expect(firstReports).toHaveLength(2);
    for (const text of firstReports) {
      expect(text).toMatch(/^repository-digest sha256:[0-9a-f]{64} sent$/m);
      expect(text).toMatch(/^avail gsl-2\.8 math\/gsl /m); // the long form: file, build facts, DEPENDS
    }
    const stored = await readdir(join(world.stateDir, 'listings'));
    expect(stored).toHaveLength(1);

    const second = await world.run('plan', '--detailed-exitcode');
    expect(second.stderr).toBe('');
    expect(second.code).toBe(2);
    expect(second.stdout).toContain('install gsl-2.8');
    const secondReports = (await reports(world)).filter((text) => !firstReports.includes(text));
    expect(secondReports).toHaveLength(2);
    for (const text of secondReports) {
      expect(text).toMatch(/^repository-digest sha256:[0-9a-f]{64} known$/m);
      expect(text).not.toMatch(/^avail /m);
    }
    // The saved observations name the kept listing instead of holding a copy each, and are read back with it.
    const saved = JSON.parse(await readFile(join(world.stateDir, 'observations', 'site-a.json'), 'utf8'));
    expect(saved.available).toBe(stored[0]?.replace('-', ':'));
    const imported = await cli([
      'import',
      '-f',
      world.specFile,
      '--state-dir',
      world.stateDir,
      '--site',
      'site-a',
    ]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);

    // A lost store names nothing, so the job sends the listing again (a report naming a digest the store lost
    // meanwhile is test/state/listings.test.ts).
    await rm(join(world.stateDir, 'listings'), { recursive: true });
    const third = await world.run('plan', '--detailed-exitcode');
    expect(third.code).toBe(2);
    const thirdReports = (await reports(world)).filter(
      (text) => !firstReports.includes(text) && !secondReports.includes(text),
    );
    for (const text of thirdReports) expect(text).toMatch(/ sent$/m);
  });
});
