/**
 * Reading what squeue and sacct print, and mapping Slurm's job states onto gridpkg's normalized ones. Pure
 * functions; anything unreadable throws (a state is never guessed).
 */
import type { JobState } from '../backend.js';

/** Slurm answered, but not in a form we can read: transient for the controller, never a job failure. */
export class SlurmOutputError extends Error {
  override name = 'SlurmOutputError';
}

export interface SlurmRecord {
  /** The Slurm job id. */
  id: string;
  /** The state word: PENDING, RUNNING, COMPLETED, CANCELLED, ... */
  state: string;
  /** squeue's %r (Resources, NonZeroExitCode, None, ...), or sacct's ExitCode `code:signal`. */
  detail: string;
  source: 'squeue' | 'accounting';
}

const QUEUED = new Set([
  'PENDING',
  'CONFIGURING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
]);
const RUNNING = new Set([
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'STOPPED',
  'SIGNALING',
  'STAGE_OUT',
  'RESIZING',
]);
const FAILED: Record<string, string> = {
  FAILED: 'the Slurm job failed',
  CANCELLED: 'cancelled',
  TIMEOUT: 'timed out (Slurm time limit)',
  NODE_FAIL: 'the node running the job failed',
  OUT_OF_MEMORY: 'out of memory',
  BOOT_FAIL: 'the node failed to boot',
  DEADLINE: 'the job missed its deadline',
  PREEMPTED: 'preempted',
  REVOKED: 'revoked (federation)',
  SPECIAL_EXIT: 'special exit',
};

/** Lines `ID STATE REASON` of `squeue -h -t all -j ... -o '%i %T %r'`. */
export function parseSqueue(text: string): Map<string, SlurmRecord> {
  const records = new Map<string, SlurmRecord>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^\s*(\d+)\s+([A-Z_]+)(?:\s+(.*))?$/.exec(line);
    if (!match?.[1] || !match[2]) throw new SlurmOutputError(`squeue: cannot read ${JSON.stringify(line)}`);
    records.set(match[1], {
      id: match[1],
      state: match[2],
      detail: (match[3] ?? '').trim(),
      source: 'squeue',
    });
  }
  return records;
}

/** Lines `JobID|State|ExitCode` of `sacct -n -P -o JobID,State,ExitCode` (with or without -c); steps are skipped. */
export function parseSacct(text: string): Map<string, SlurmRecord> {
  const records = new Map<string, SlurmRecord>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split('|');
    const [id = '', stateText = '', exit = ''] = fields;
    if (/^\d+\./.test(id)) continue; // a step (1.batch, 1.0): the allocation's line says it all
    const state = /^([A-Z_]+)\b/.exec(stateText)?.[1]; // "CANCELLED by 0" -> CANCELLED
    if (!/^\d+$/.test(id) || !state || fields.length < 3)
      throw new SlurmOutputError(`sacct: cannot read ${JSON.stringify(line)}`);
    // The jobcomp log holds one line per end of a job; a requeued job ends more than once: the last line wins.
    records.set(id, { id, state, detail: exit, source: 'accounting' });
  }
  return records;
}

/**
 * The normalized state of a job from Slurm's record. `exitStatus` is the job script's exit status as the runner
 * recorded it in the job directory (undefined when there is none).
 */
export function mapSlurmState(record: SlurmRecord, exitStatus: number | undefined): JobState {
  const raw = rawOf(record);
  if (QUEUED.has(record.state)) return { state: 'queued', raw };
  if (RUNNING.has(record.state)) return { state: 'running', raw };
  if (record.state === 'COMPLETED') {
    if (exitStatus !== undefined) return { state: 'done', exitCode: exitStatus, raw };
    return {
      state: 'failed',
      reason: 'the Slurm job completed but the runner recorded no exit status (job directory not shared?)',
      raw,
    };
  }
  const why = FAILED[record.state];
  if (why === undefined)
    throw new SlurmOutputError(`unknown Slurm job state ${record.state} of job ${record.id}`);
  const detail = failureDetail(record);
  return { state: 'failed', reason: detail ? `${why} (${detail})` : why, raw };
}

function failureDetail(record: SlurmRecord): string {
  if (record.source === 'squeue') return record.detail === 'None' ? '' : record.detail;
  const [code = '0', signal = '0'] = record.detail.split(':');
  if (signal !== '0') return `signal ${signal}`;
  return code !== '0' ? `exit ${code}` : '';
}

function rawOf(record: SlurmRecord): string {
  const detail = record.detail && record.detail !== 'None' ? ` ${record.detail}` : '';
  return `${record.state}${detail}${record.source === 'accounting' ? ' (accounting)' : ''}`;
}

/** `--time` for a job timeout in seconds: whole minutes, rounded up (Slurm's smallest unit); undefined for none. */
export function timeLimit(timeoutSeconds: number): string | undefined {
  if (timeoutSeconds <= 0) return undefined;
  return String(Math.max(1, Math.ceil(timeoutSeconds / 60)));
}
