/**
 * Whether a failed step may succeed if tried again. Errors carry the answer (src/model/errors.ts: the backends'
 * "unavailable" errors are retryable, credential and refused-command errors terminal); the outcomes of jobs, which
 * are results rather than exceptions, are classified here.
 */
import { GridpkgError } from '../model/errors.js';
import type { SiteApplyResult, SiteObservation } from '../reconcile/engine.js';
import { errorMessage } from '../reconcile/engine.js';

export interface Failure {
  retryable: boolean;
  message: string;
}

export function classifyError(error: unknown): Failure {
  // Only gridpkg's own errors say they pass (a CE down, a site busy). Everything else is terminal: bad input (a spec
  // error, a value the protocol refuses), the state directory (FileError), an unreadable ledger entry, a bug.
  return { retryable: error instanceof GridpkgError && error.retryable, message: errorMessage(error) };
}

/**
 * Why a probe left the site unknown, and whether probing again can help. A lost job (timeout), an unreadable report
 * (a job killed while writing) or a site locked by another job pass; a site without pkgsrc, or with a package
 * database that is not its own, needs a person.
 */
export function classifyObservation(probe: SiteObservation): Failure | undefined {
  const { observation } = probe;
  if (observation.state === 'known') return undefined;
  if (probe.error !== undefined) return { ...classifyError(probe.error), message: observation.reason };
  const report = probe.result?.report;
  if (report?.ok) {
    const pkgsrc = report.report.pkgsrc?.state;
    if (pkgsrc === 'absent' || pkgsrc === 'foreign-pkgdb')
      return { retryable: false, message: observation.reason };
  }
  return { retryable: true, message: observation.reason };
}

/**
 * Whether an apply that did not converge may converge if tried again: a stale plan, a locked site, a lost job or an
 * unreadable report pass; a job that could not be submitted is classified by its error. Failed actions (partial,
 * not converged) are retried too, within the attempt limit: a pkg_add that failed on a busy file server may not fail
 * again.
 */
export function classifyApply(result: SiteApplyResult): Failure | undefined {
  if (result.status === 'ok') return undefined;
  if (result.error !== undefined) return classifyError(result.error);
  const detail = result.remaining?.length ? `; still different: ${result.remaining.join('; ')}` : '';
  return { retryable: true, message: `${result.status}: ${result.message}${detail}` };
}
