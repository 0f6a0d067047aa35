/** Durations on the command line: `90s`, `30m`, `2h`, `1d`, `500ms`, or a number of seconds. */
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A commander argument parser: the duration in milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  const ms = match ? Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? Number.NaN) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected a duration such as 90s, 30m, 2h or 1d');
  return Math.round(ms);
}
