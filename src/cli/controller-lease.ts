/** The controller lease as converge and watch take it: refused while another controller holds the state dir. */
import { systemClock } from '../controller/clock.js';
import { ControllerLease } from '../state/controller-lease.js';

/**
 * Takes the lease of `stateDir` for `command` (throws ControllerLeaseError naming the live holder, before any job).
 * `lost` is aborted, with the reason, if another controller takes the lease over (this one was presumed dead).
 */
export async function takeControllerLease(
  stateDir: string,
  command: string,
): Promise<{ lease: ControllerLease; lost: AbortSignal }> {
  const lost = new AbortController();
  const lease = await ControllerLease.acquire(stateDir, {
    command,
    clock: systemClock,
    onLost: (holder) =>
      lost.abort(
        `another controller took over the state directory${holder ? ` (pid ${holder.pid} on ${holder.host})` : ''}`,
      ),
  });
  return { lease, lost: lost.signal };
}
