/** Wires the pieces of one controller process: state directory, ledger, observations, backends, site queue. */
import { join } from 'node:path';
import type { GridBackend } from '../grid/backend.js';
import { createBackend, SITE_JOB_SCRIPT } from '../grid/index.js';
import { Ledger } from '../state/ledger.js';
import { ObservationStore } from '../state/observations.js';
import type { JobContext } from './run-job.js';
import { SiteQueue } from './site-queue.js';

export interface ControllerOptions {
  stateDir: string;
  progress?(site: string, message: string): void;
  pollIntervalMs?: { first: number; max: number };
}

export function createJobContext(options: ControllerOptions): JobContext {
  const backends = new Map<string, GridBackend>();
  return {
    backendFor(desired) {
      // One backend object per site: its settings (shell, environment) are per site.
      let backend = backends.get(desired.site);
      if (!backend) {
        backend = createBackend(desired.backend, { jobsRoot: join(options.stateDir, 'jobs') });
        backends.set(desired.site, backend);
      }
      return backend;
    },
    ledger: new Ledger(options.stateDir),
    observations: new ObservationStore(options.stateDir),
    queue: new SiteQueue(),
    scriptPath: SITE_JOB_SCRIPT,
    progress: options.progress ?? (() => undefined),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
  };
}
