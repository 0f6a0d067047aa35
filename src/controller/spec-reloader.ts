/**
 * Reloads the spec after its files change, debounced: an editor's save (write, rename, chmod) or a `git pull` that
 * touches several files is one reload, once the files have been quiet for `debounceMs`. One load at a time: a change
 * during a load brings one more load after it, so the last saved text always gets loaded.
 */
import type { Clock } from './clock.js';

export interface SpecReloaderOptions<S> {
  load(): Promise<S>;
  clock: Clock;
  debounceMs: number;
  /** A spec that loaded; an error it throws (or rejects with) goes to onError. */
  onSpec(spec: S): void | Promise<void>;
  /** A spec that did not (SpecError with located diagnostics, or a file that could not be read). */
  onError(error: unknown): void;
}

export const DEFAULT_DEBOUNCE_MS = 300;

export class SpecReloader<S> {
  private cancelTimer: (() => void) | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: SpecReloaderOptions<S>) {}

  /** A spec file changed: (re)start the quiet period. */
  changed(): void {
    if (this.stopped) return;
    this.cancelTimer?.();
    this.cancelTimer = this.options.clock.after(this.options.debounceMs, () => {
      this.cancelTimer = undefined;
      this.reload();
    });
  }

  /** Resolves once no reload is waiting or under way (tests; a clean shutdown). */
  async settled(): Promise<void> {
    while (this.loading) await this.loading;
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private reload(): void {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = (async () => {
      try {
        const spec = await this.options.load();
        if (!this.stopped) await this.options.onSpec(spec);
      } catch (error) {
        if (!this.stopped) this.options.onError(error);
      } finally {
        this.loading = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.reload();
        }
      }
    })();
  }
}
