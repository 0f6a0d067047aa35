/**
 * The owner of a site lock as the report gives it (docs/site-job-protocol.md, "Lock"): `JOBID HOST PID EPOCH`,
 * then ` heartbeat AGE` when the lock has a heartbeat. Read into fields, and told back in words a person can use.
 */
import { isJobId } from './tokens.js';
import type { LockHolder } from './types.js';

const OWNER = /^(\S+) ([A-Za-z0-9._-]{1,255}) ([1-9][0-9]{0,9}) ([0-9]{1,12})(?: heartbeat ([0-9]{1,12}))?$/;

/** The fields of a well-formed owner text; undefined for anything else (a garbled line, `unknown owner`). */
export function parseLockOwner(text: string): LockHolder | undefined {
  const m = OWNER.exec(text);
  if (!m || !isJobId(m[1])) return undefined;
  return {
    jobId: m[1],
    host: m[2] as string,
    pid: Number(m[3]),
    takenAt: Number(m[4]),
    heartbeatAgeSeconds: m[5] === undefined ? undefined : Number(m[5]),
  };
}

/**
 * `job J on host H (pid P), taken 2026-01-05 10:15:00 UTC, last heartbeat 12 s ago` — or the raw owner text when it
 * is not a well-formed owner line. The caller still makes the result printable: the owner comes from a site.
 */
export function describeLockOwner(owner: string, holder: LockHolder | undefined): string {
  if (!holder) return owner;
  const taken = new Date(holder.takenAt * 1000);
  const when = Number.isNaN(taken.getTime())
    ? `at epoch ${holder.takenAt}`
    : `${taken
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')}`;
  const beat =
    holder.heartbeatAgeSeconds === undefined
      ? 'no heartbeat'
      : `last heartbeat ${holder.heartbeatAgeSeconds} s ago`;
  return `job ${holder.jobId} on host ${holder.host} (pid ${holder.pid}), taken ${when}, ${beat}`;
}
