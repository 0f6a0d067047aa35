import type { Command } from 'commander';
import { asciiSafeJson } from '../../report/safe-output.js';
import { renderStatus } from '../../report/status-view.js';
import { loadSpec } from '../../spec/index.js';
import { SiteStatusStore } from '../../state/site-status.js';
import { stateDirFor } from '../common.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { addSelectionOptions, type SiteSelection, selectSites } from '../site-selection.js';

export interface StatusOptions extends SiteSelection {
  file: string;
  stateDir?: string;
  json?: boolean;
}

export function registerStatusCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  addSelectionOptions(
    program
      .command('status')
      .summary("show each site's sync and health as the last converge or watch recorded them")
      .description(
        'Prints, without running any job, what the last `gridpkg converge` or `watch` recorded for each site of the spec: ' +
          'sync (in-sync, drifted, unknown), health (healthy, progressing, degraded: failing and being retried, ' +
          'stalled: given up until something changes, with the reason), the age of the last observation, attempts and ' +
          'the last error.',
      )
      .option('-f, --file <spec>', 'desired-state spec file', 'desired-state.yaml')
      .option('--state-dir <dir>', 'state directory (default: .gridpkg/ beside the spec)')
      .option('--json', 'print the records as JSON')
      .option('-q, --quiet', 'accepted like the other commands (status prints no progress)'),
  ).action(async (options: StatusOptions) => setExit(await runStatus(options, io)));
}

export async function runStatus(options: StatusOptions, io: CliIO): Promise<ExitCodeValue> {
  const spec = await loadSpec(options.file);
  const sites = selectSites(spec.sites, options).map((s) => s.site);
  const store = new SiteStatusStore(stateDirFor(options.file, options.stateDir));
  const rows = await Promise.all(sites.map(async (site) => ({ site, status: await store.load(site) })));
  if (options.json) {
    const records = rows.map(({ site, status }) => status ?? { site, health: 'never reconciled' });
    // Recorded errors quote job output: escaped as JSON, decoded exactly by a JSON reader.
    io.out(`${asciiSafeJson(JSON.stringify(records, null, 2))}\n`);
  } else {
    io.out(renderStatus(rows, Date.now(), io.style));
  }
  return ExitCode.ok;
}
