/**
 * Wires the pieces of one controller process: state directory, ledger, observations, backends, site queue, status
 * poller.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import type { GridBackend } from '../grid/backend.js';
import { createBackend, SITE_JOB_SCRIPT } from '../grid/index.js';
import { canonicalJson } from '../model/canonical-json.js';
import type { EventSink } from '../model/events.js';
import { asciiSafeJson } from '../report/safe-output.js';
import type { DesiredState } from '../spec/types.js';
import { StateDirError } from '../state/fs-errors.js';
import { Ledger } from '../state/ledger.js';
import { ListingStore } from '../state/listings.js';
import { ObservationStore } from '../state/observations.js';
import type { InFlightJobs } from './in-flight.js';
import type { JobContext } from './run-job.js';
import { SiteQueue } from './site-queue.js';
import { StatusPoller } from './status-poller.js';

export interface ControllerOptions {
  stateDir: string;
  progress?(site: string, message: string): void;
  pollIntervalMs?: { first: number; max: number };
  /** Jobs being followed, shared with whoever reports an interrupted run. */
  inFlight?: InFlightJobs;
  /** Where typed events go (every event is also a line of the log, and of `progress`). */
  events?: EventSink;
}

export function createJobContext(options: ControllerOptions): JobContext {
  const backends = new Map<string, GridBackend>();
  // One listings store for the jobs and the saved observations: both hand out its one in-memory copy per digest.
  const listings = new ListingStore(options.stateDir);
  // Every job event also goes to a JSON-lines log in the state directory: what cron and CI runs leave behind.
  const log = openLog(options.stateDir);
  const show = options.progress;
  return {
    backendFor(desired) {
      // One backend object per site and settings: settings (shell, environment, CE) are per site, and a spec edit
      // that changes them (under `watch`) gets a new object instead of the one made from the old settings.
      const key = backendKey(desired);
      let backend = backends.get(key);
      if (!backend) {
        backend = createBackend(desired.backend, { jobsRoot: join(options.stateDir, 'jobs') });
        backends.set(key, backend);
      }
      return backend;
    },
    ledger: new Ledger(options.stateDir),
    observations: new ObservationStore(options.stateDir, listings),
    listings,
    queue: new SiteQueue(),
    // One poller for the whole process: jobs of sites behind one batch system or CE share each status call.
    poller: new StatusPoller(),
    scriptPath: SITE_JOB_SCRIPT,
    async close() {
      await Promise.all([...backends.values()].map((backend) => backend.close?.()));
      backends.clear();
    },
    progress(site, message) {
      log.info({ site }, message);
      show?.(site, message);
    },
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.inFlight ? { inFlight: options.inFlight } : {}),
    ...(options.events ? { events: options.events } : {}),
  };
}

/** The site and its backend settings, as canonical JSON (key order does not matter). */
export function backendKey(desired: Pick<DesiredState, 'site' | 'backend'>): string {
  return canonicalJson([desired.site, desired.backend]);
}

/**
 * Every job event also goes to a JSON-lines log in the state directory: what cron and CI runs leave behind. Opening
 * it is the first write to the state directory, so a directory that cannot be written stops the run here, before
 * any job is submitted.
 */
function openLog(stateDir: string): Logger {
  const file = join(stateDir, 'gridpkg.log');
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (error) {
    throw new StateDirError(stateDir, 'creating it', error);
  }
  try {
    const destination = pino.destination({ dest: file, sync: true });
    // Messages quote job output: JSON escapes C0 controls, asciiSafeJson the C1, bidi and separator characters, so
    // that `tail -f gridpkg.log` shows them as escapes while a JSON reader still gets the exact text.
    return pino(
      { base: { pid: process.pid } },
      { write: (line: string) => destination.write(asciiSafeJson(line)) },
    );
  } catch (error) {
    throw new StateDirError(stateDir, `opening ${file}`, error);
  }
}
