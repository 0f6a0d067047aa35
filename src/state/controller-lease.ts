/**
 * One active controller per state directory (`converge` now, `watch` next): a lease file naming its holder (command,
 * host, pid), when it was taken, its last heartbeat and when it expires. A second controller refuses, naming the
 * holder; a holder that died (its pid is gone on this host, or its lease expired without a heartbeat) is taken over.
 * `plan` and `apply` do not take it: the per-site ledger keeps them apart from a controller.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TerminalError } from '../model/errors.js';
import { createFileExclusive, writeFileAtomic } from './atomic.js';
import { errnoCode, FileError } from './fs-errors.js';
import { ownerAlive } from './ledger.js';
import { readTextFile } from './read-capped.js';

export interface LeaseRecord {
  id: string;
  command: string;
  host: string;
  pid: number;
  acquiredAt: string;
  heartbeatAt: string;
  expiresAt: string;
}

export interface LeaseTimer {
  now(): number;
  after(ms: number, fn: () => void): () => void;
}

export interface LeaseOptions {
  command: string;
  /** How long the lease outlives its last heartbeat (default 2 minutes); heartbeats come every third of it. */
  ttlMs?: number;
  clock: LeaseTimer;
  /** Called when the lease was taken over by another controller (this one was presumed dead): stop submitting. */
  onLost?(holder: LeaseRecord | undefined): void;
}

export const DEFAULT_LEASE_TTL_MS = 2 * 60_000;
const MAX_LEASE_BYTES = 64 * 1024;

export class ControllerLeaseError extends TerminalError {
  override name = 'ControllerLeaseError';
}

export class ControllerLease {
  private cancelHeartbeat: () => void = () => undefined;
  private released = false;

  private constructor(
    readonly path: string,
    private record: LeaseRecord,
    private readonly options: LeaseOptions & { ttlMs: number },
  ) {}

  get holder(): LeaseRecord {
    return this.record;
  }

  /** Takes the lease of `stateDir`, or throws ControllerLeaseError naming the live holder. */
  static async acquire(stateDir: string, options: LeaseOptions): Promise<ControllerLease> {
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    const path = join(stateDir, 'controller.lease');
    await mkdir(stateDir, { recursive: true }).catch((error: unknown) => {
      throw FileError.from('could not create the state directory', stateDir, error);
    });
    const now = options.clock.now();
    const record: LeaseRecord = {
      id: randomUUID(),
      command: options.command,
      host: hostname(),
      pid: process.pid,
      acquiredAt: new Date(now).toISOString(),
      heartbeatAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlMs).toISOString(),
    };
    const what = { what: 'the controller lease' };
    for (let tries = 0; tries < 3; tries++) {
      if (await createFileExclusive(path, serialize(record), what)) {
        const lease = new ControllerLease(path, record, { ...options, ttlMs });
        lease.scheduleHeartbeat();
        return lease;
      }
      const holder = await readLease(path);
      if (holder === undefined) continue; // released meanwhile, or unreadable and moved aside: try again
      if (!isDead(holder, now)) throw new ControllerLeaseError(heldMessage(path, holder));
      await takeOver(path, holder);
    }
    throw new ControllerLeaseError(
      `could not take the controller lease ${path}: other controllers keep taking it`,
    );
  }

  /** Gives the lease up (only if it is still ours). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.cancelHeartbeat();
    const current = await readLease(this.path).catch(() => undefined);
    if (current?.id === this.record.id) await unlink(this.path).catch(() => undefined);
  }

  private scheduleHeartbeat(): void {
    this.cancelHeartbeat = this.options.clock.after(Math.max(1, Math.floor(this.options.ttlMs / 3)), () => {
      void this.heartbeat();
    });
  }

  /** Proves this controller alive; finding another's lease in the file means ours was taken over. */
  async heartbeat(): Promise<void> {
    if (this.released) return;
    const current = await readLease(this.path).catch(() => undefined);
    if (current?.id !== this.record.id) {
      this.released = true;
      this.options.onLost?.(current);
      return;
    }
    const now = this.options.clock.now();
    this.record = {
      ...this.record,
      heartbeatAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.options.ttlMs).toISOString(),
    };
    await writeFileAtomic(this.path, serialize(this.record), { what: 'the controller lease' }).catch(
      () => undefined,
    );
    if (!this.released) this.scheduleHeartbeat();
  }
}

/** Dead: its process is gone (same host), or it missed its heartbeats until the lease expired. */
function isDead(holder: LeaseRecord, now: number): boolean {
  const alive = ownerAlive({ owner: { host: holder.host, pid: holder.pid } });
  if (alive === false) return true;
  return now > Date.parse(holder.expiresAt);
}

/**
 * Moves a dead holder's lease aside, atomically: of two controllers taking over at once, the one whose rename moved
 * a newer lease (the other's fresh one) puts it back and does not create its own.
 */
async function takeOver(path: string, dead: LeaseRecord): Promise<void> {
  const aside = `${path}.taken-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw FileError.from('could not take over the controller lease', path, error);
  }
  const moved = await readLease(aside).catch(() => undefined);
  if (moved !== undefined && moved.id !== dead.id) {
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

async function readLease(path: string): Promise<LeaseRecord | undefined> {
  let text: string;
  try {
    text = await readTextFile(path, 'the controller lease', MAX_LEASE_BYTES);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const record = parse(text);
  if (record === undefined) {
    throw new ControllerLeaseError(
      `the controller lease ${path} is unreadable; if no gridpkg converge or watch runs on this state directory, delete it`,
    );
  }
  return record;
}

function parse(text: string): LeaseRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LeaseRecord>;
    const strings = ['id', 'command', 'host', 'acquiredAt', 'heartbeatAt', 'expiresAt'] as const;
    if (strings.every((key) => typeof value[key] === 'string') && typeof value.pid === 'number')
      return value as LeaseRecord;
  } catch {
    // not JSON
  }
  return undefined;
}

function heldMessage(path: string, holder: LeaseRecord): string {
  const where = holder.host === hostname() ? 'this host' : holder.host;
  return (
    `another gridpkg ${holder.command} (pid ${holder.pid} on ${where}) has been controlling this state directory ` +
    `since ${holder.acquiredAt} (last heartbeat ${holder.heartbeatAt}); nothing was submitted. Run again when it is ` +
    `done; if that process is gone, its lease (${path}) expires at ${holder.expiresAt}`
  );
}

function serialize(record: LeaseRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
