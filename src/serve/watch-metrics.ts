/**
 * The metrics only a running watch knows, for `gridpkg watch --listen`: how long each reconcile step of a site took
 * (from its `progressing` status to the phase it ended in) and how many job status changes the backends reported.
 * Fed from the engine's typed events; registered on the registry the report server then serves beside its own.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ControllerEvent } from '../model/events.js';

/** Seconds: a local probe takes about one, a grid job queued for an hour takes thousands. */
const BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600];

export function watchMetrics(registry: Registry, now: () => number): (event: ControllerEvent) => void {
  const duration = new Histogram({
    name: 'gridpkg_reconcile_duration_seconds',
    help: 'Duration of a reconcile step of one site (observe, plan, apply, verify), by the phase it ended in.',
    labelNames: ['phase'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'gridpkg_watch_jobs_submitted_total',
    help: 'Jobs this watch submitted, by mode.',
    labelNames: ['mode'],
    registers: [registry],
  });
  const jobStates = new Counter({
    name: 'gridpkg_watch_job_state_changes_total',
    help: 'Changes of a job state the backends reported to this watch (queued, running, ...).',
    registers: [registry],
  });
  const started = new Map<string, number>();
  return (event) => {
    if (event.type === 'job-submitted') jobs.inc({ mode: event.mode });
    else if (event.type === 'job-state') jobStates.inc();
    else if (event.type === 'site-status') {
      if (event.phase === 'progressing') {
        if (!started.has(event.site)) started.set(event.site, now());
        return;
      }
      const since = started.get(event.site);
      if (since === undefined) return;
      started.delete(event.site);
      duration.observe({ phase: event.phase }, (now() - since) / 1000);
    }
  };
}
