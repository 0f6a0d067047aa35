/** Fans the engine's typed events out to every listener (progress lines, the log; reports and metrics next). */
import type { ControllerEvent, EventSink } from '../model/events.js';

export class EventBus {
  private readonly listeners = new Set<EventSink>();

  /** Adds a listener; the returned function removes it. */
  on(listener: EventSink): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Delivers an event to every listener, in the order they were added. A listener that throws is a bug in it, but
   * must not break the job it was told about (an event can come between a submission and its ledger record): the
   * error becomes a process warning and the other listeners still get the event.
   */
  readonly emit: EventSink = (event: ControllerEvent) => {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`gridpkg: a listener of ${event.type} events failed: ${String(error)}`);
      }
    }
  };
}
