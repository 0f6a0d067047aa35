/** A ledger entry whose owner has died: what a controller killed in the middle leaves behind. */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { Ledger, type LedgerEntry } from '../../src/state/ledger.js';

/** The pid of a process that has ended (a child that ran and was reaped). */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

/**
 * Makes the site's ledger entry name an owner that has ended. Tests that play a dying controller in-process (its
 * pid is the test's, which runs) need it: gridpkg waits for a live owner's intent and never takes its job over.
 */
export async function markOwnerDead(stateDir: string, site: string): Promise<void> {
  const path = new Ledger(stateDir).activePath(site);
  const entry = JSON.parse(await readFile(path, 'utf8')) as LedgerEntry;
  await writeFile(path, JSON.stringify({ ...entry, owner: { ...entry.owner, pid: deadPid() } }));
}
