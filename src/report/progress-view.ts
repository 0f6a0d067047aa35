/**
 * One line of progress per controller event, as the CLI prints it after `SITE: ` and the JSON log records it. The
 * text returned is raw (it quotes job output, backend states, reasons): whoever prints it makes it safe.
 */
import type { ControllerEvent } from '../model/events.js';

export function describeEvent(event: ControllerEvent): string {
  switch (event.type) {
    case 'job-submitted':
      return `${event.mode} job ${event.jobId} submitted`;
    case 'job-state':
      return `${event.jobId}: ${event.state}, backend says ${event.raw}`;
    case 'job-finished':
      return `${event.mode} job ${event.jobId} ${event.description}`;
    case 'job-note':
      return event.message;
    case 'observed':
      if (event.state === 'unknown') return `not observed: ${event.reason ?? 'unknown reason'}`;
      return event.reused
        ? `using the observation of ${event.observedAt} (job ${event.jobId ?? '?'}), no probe job`
        : `observed (job ${event.jobId ?? '?'})`;
    case 'planned':
      switch (event.outcome) {
        case 'in-sync':
          return 'plan: no changes';
        case 'changes':
          return `plan: ${event.actions} action(s)`;
        default:
          return `plan: ${event.outcome}: ${event.reasons.join('; ')}`;
      }
    case 'applied': {
      const job = event.jobId ? ` (job ${event.jobId})` : '';
      if (event.status === 'ok') return `applied${job}, converged`;
      const remaining = event.remaining.length > 0 ? `; still different: ${event.remaining.join('; ')}` : '';
      return `apply ${event.status}${job}${event.message ? `: ${event.message}` : ''}${remaining}`;
    }
    case 'site-status':
      switch (event.phase) {
        case 'progressing':
          return `attempt ${event.attempt}`;
        case 'retrying':
          return `attempt ${event.attempt} did not converge (${event.message}); trying again in ${seconds(event.retryInMs ?? 0)}`;
        default:
          return `${event.phase}${event.message ? `: ${event.message}` : ''}`;
      }
  }
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 6000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}
