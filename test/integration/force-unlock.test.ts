/**
 * `gridpkg force-unlock SITE JOB_ID` (issue 11): frees a site whose ledger entry a dead gridpkg left, only with the
 * right job id, never while its owner runs on this host, after confirmation; the entry is kept in the history.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, type LedgerEntry } from '../../src/state/ledger.js';
import { deadPid } from '../support/dead-owner.js';
import { cli, World } from './harness.js';

describe('gridpkg force-unlock', () => {
  let world: World;
  let ledger: Ledger;
  let entry: LedgerEntry;
  const run = (args: string[], answer?: boolean) =>
    cli(['force-unlock', '-f', world.specFile, '--state-dir', world.stateDir, ...args], answer);

  beforeEach(async () => {
    world = await World.create(['dash']);
    await world.addSite('site-a');
    await world.writeSpec({ 'site-a': '      - math/gsl' });
    ledger = new Ledger(world.stateDir);
    const recorded = await ledger.recordIntent({
      jobId: 'site-a-probe-dead',
      site: 'site-a',
      mode: 'probe',
      backend: 'local',
    });
    if (!recorded) throw new Error('no ledger entry');
    entry = await ledger.recordSubmitted(recorded, '4242');
  });
  afterEach(async () => {
    await world.dispose();
  });

  const setOwnerPid = async (pid: number) => {
    const path = ledger.activePath('site-a');
    const value = JSON.parse(await readFile(path, 'utf8')) as LedgerEntry;
    await writeFile(path, JSON.stringify({ ...value, owner: { ...value.owner, pid } }));
  };

  it('refuses a wrong id, a running owner, a site not in the spec and a missing answer, changing nothing', async () => {
    const wrong = await run(['site-a', 'site-a-probe-other', '--force']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      'the ledger entry of site-a is job site-a-probe-dead, not site-a-probe-other',
    );

    // The entry names this test's own process: it runs, so its job is still being followed.
    const alive = await run(['site-a', 'site-a-probe-dead', '-force']);
    expect(alive.code).toBe(1);
    expect(alive.stderr).toContain(`gridpkg pid ${process.pid}, which still runs on this host`);

    const unknownSite = await run(['site-b', 'site-a-probe-dead', '--force']);
    expect(unknownSite.code).toBe(1);
    expect(unknownSite.stderr).toContain('the spec has no such site');

    await setOwnerPid(deadPid());
    expect((await run(['site-a', 'site-a-probe-dead', '--input=false'])).stderr).toContain('use --force');
    const declined = await run(['site-a', 'site-a-probe-dead'], false);
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('force-unlock cancelled; nothing was changed');
    expect((await ledger.active('site-a'))?.jobId).toBe(entry.jobId);
  });

  it('frees the site of a dead owner after "yes", keeping the entry in the history', async () => {
    await setOwnerPid(deadPid());
    const freed = await run(['site-a', 'site-a-probe-dead'], true);
    expect(freed.stderr).toContain('it was submitted (backend id 4242) and may still run on the site');
    expect(freed.stdout).toContain('site-a is free');
    expect(freed.code).toBe(0);
    expect(await ledger.active('site-a')).toBeUndefined();
    expect(await world.finishedJobs()).toContain('site-a-probe-dead');

    // The site takes jobs again.
    const plan = await world.run('plan', '--detailed-exitcode');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('install gsl-2.8');
  });
});
