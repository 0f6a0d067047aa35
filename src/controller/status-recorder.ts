/**
 * Keeps each site's persisted status (src/state/site-status.ts) up to date from the engine's events: `observed`
 * moves the observation time, `site-status` the two axes. Writes of one site go one after another; `flush` waits
 * for all of them (before a command ends).
 */
import type { ControllerEvent, SitePhase } from '../model/events.js';
import type { Health, SiteStatus, SiteStatusStore } from '../state/site-status.js';
import type { Clock } from './clock.js';

const HEALTH: Readonly<Record<SitePhase, Health>> = {
  progressing: 'progressing',
  converged: 'healthy',
  retrying: 'degraded',
  failed: 'stalled',
  stopped: 'degraded',
  stalled: 'stalled',
  // Observe-only: nothing failed; whether the site drifted is the sync axis.
  observed: 'healthy',
};

export class StatusRecorder {
  private readonly current = new Map<string, SiteStatus>();
  private readonly writes = new Map<string, Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly store: SiteStatusStore,
    private readonly clock: Clock,
  ) {}

  /** Loads the recorded status of these sites, so that transitions keep their times across runs. */
  async load(sites: readonly string[]): Promise<void> {
    for (const site of sites) {
      const status = await this.store.load(site);
      if (status) this.current.set(site, status);
    }
  }

  readonly listener = (event: ControllerEvent): void => {
    if (event.type !== 'observed' && event.type !== 'site-status') return;
    const now = new Date(this.clock.now()).toISOString();
    const previous = this.current.get(event.site);
    let next: SiteStatus;
    if (event.type === 'observed') {
      if (event.state !== 'known') return;
      next = previous
        ? { ...previous, observedAt: event.observedAt, updatedAt: now }
        : {
            site: event.site,
            sync: 'unknown',
            health: 'progressing',
            observedAt: event.observedAt,
            syncSince: now,
            healthSince: now,
            attempts: 0,
            updatedAt: now,
          };
    } else {
      const health = HEALTH[event.phase];
      // A step starting says nothing new about sync, nor about the last error: keep what was known.
      const starting = event.phase === 'progressing';
      const sync = starting ? (previous?.sync ?? event.sync) : event.sync;
      const lastError = starting ? previous?.lastError : health === 'healthy' ? undefined : event.message;
      next = {
        site: event.site,
        sync,
        health,
        ...(previous?.observedAt ? { observedAt: previous.observedAt } : {}),
        syncSince: previous?.sync === sync ? previous.syncSince : now,
        healthSince: previous?.health === health ? previous.healthSince : now,
        attempts: event.attempt,
        ...(lastError ? { lastError } : {}),
        updatedAt: now,
      };
    }
    this.current.set(event.site, next);
    const write = (this.writes.get(event.site) ?? Promise.resolve())
      .then(() => this.store.save(next))
      .catch((error: unknown) => {
        this.failure ??= error;
      });
    this.writes.set(event.site, write);
  };

  /** Waits for every write; throws the first that failed. */
  async flush(): Promise<void> {
    await Promise.all(this.writes.values());
    if (this.failure) throw this.failure;
  }
}
