/**
 * `gridpkg force-unlock SITE JOB_ID`: frees a site whose ledger entry was left by a gridpkg that died (Terraform's
 * force-unlock). Only with the job id the busy message showed, never while the owner still runs on this host, and
 * after confirmation. The entry goes to the ledger history, so the record of that job is kept.
 */
import type { Command } from 'commander';
import { printable } from '../../report/untrusted.js';
import { loadSpec } from '../../spec/index.js';
import { Ledger, ownerAlive } from '../../state/ledger.js';
import { parseBool, stateDirFor } from '../common.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { selectSites } from '../site-selection.js';

export interface ForceUnlockOptions {
  file: string;
  stateDir?: string;
  force?: boolean;
  input: boolean;
}

export function registerForceUnlockCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  program
    .command('force-unlock <site> <job-id>')
    .summary('free a site whose ledger entry a dead gridpkg left behind')
    .description(
      "A gridpkg that dies between recording a job and recording its outcome leaves the site's ledger entry " +
        '(STATE_DIR/ledger/SITE.json); other runs then wait for it and finally leave the site alone, naming the ' +
        'job. This removes that entry, given the job id the message showed, after asking. It refuses while the ' +
        'owner still runs on this host. The job itself may still run on the site: its site lock keeps any new ' +
        'job off until it ends (a lock without heartbeat is broken by the next job after lockStaleAfter).',
    )
    .option('-f, --file <spec>', 'desired-state spec file', 'desired-state.yaml')
    .option('--state-dir <dir>', 'state directory (default: .gridpkg/ beside the spec)')
    .option('--force', 'do not ask for confirmation (also -force)')
    .option('--input <bool>', 'false: never ask on the terminal (also -input=false)', parseBool, true)
    .addHelpText('after', '\nExample:\n  gridpkg force-unlock site-a site-a-probe-20261202T101500Z-1a2b3c')
    .action(async (site: string, jobId: string, options: ForceUnlockOptions) =>
      setExit(await runForceUnlock(site, jobId, options, io)),
    );
}

export async function runForceUnlock(
  site: string,
  jobId: string,
  options: ForceUnlockOptions,
  io: CliIO,
): Promise<ExitCodeValue> {
  const spec = await loadSpec(options.file);
  selectSites(spec.sites, { site: [site] }); // a site of the spec, or an error with a suggestion
  const ledger = new Ledger(stateDirFor(options.file, options.stateDir));
  const entry = await ledger.active(site);
  const id = printable(jobId, 120);
  const fail = (message: string): ExitCodeValue => {
    io.err(`gridpkg: ${message}; nothing was changed\n`);
    return ExitCode.error;
  };
  if (entry === undefined) return fail(`${site} has no ledger entry (no job of gridpkg is in flight there)`);
  if (entry.jobId !== jobId)
    return fail(`the ledger entry of ${site} is job ${printable(entry.jobId, 120)}, not ${id}`);
  if (ownerAlive(entry) === true)
    return fail(
      `job ${id} is being followed by gridpkg pid ${entry.owner.pid}, which still runs on this host`,
    );

  const where =
    entry.phase === 'submitted'
      ? `it was submitted (backend id ${printable(entry.backendId ?? '?', 120)}) and may still run on the site`
      : 'it was never submitted';
  io.err(
    `Job ${id} (${entry.mode}) of ${site} was recorded by pid ${entry.owner.pid} on ` +
      `${printable(entry.owner.host, 120)} at ${entry.createdAt}; ${where}.\n`,
  );
  if (!options.force) {
    const answer = options.input
      ? await io.confirm("Remove this ledger entry? Only 'yes' will be accepted: ")
      : undefined;
    if (answer === undefined)
      return fail(`${options.input ? 'no terminal to ask for confirmation' : '-input=false'}; use --force`);
    if (!answer) return fail('force-unlock cancelled');
  }
  // A job never submitted did nothing (its plan may still be applied); a submitted one may have: its outcome is
  // unknown, so it counts as carried out and a re-run of its plan re-checks the site instead of applying twice.
  await ledger.complete(entry, {
    finishedAt: new Date().toISOString(),
    jobState: entry.phase === 'intent' ? 'abandoned' : 'force-unlocked',
    detail: 'ledger entry removed by gridpkg force-unlock; the outcome of the job was not recorded',
  });
  io.out(`${site} is free: the ledger entry of job ${id} is in the ledger history.\n`);
  return ExitCode.ok;
}
