/**
 * Benchmarks at real sizes, each in its own process (bench/size-case.ts): planning, loading the spec and parsing
 * the probe reports of 1,000 sites × 1,000 packages against a 25,000-package repository with DEPENDS, and the same
 * at 10 × the sites and 5 × the packages. Each figure is printed next to its goal with "met" or "not met"; the
 * goals never fail CI (no timed tests).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SizeFigures } from './size-case.js';

/** Goals of issue 10: 1,000 × 1,000 in ≤ 2 s and ≤ 600 MB; N × the input in ≤ 1.05 · N × the time. */
const GOAL_SECONDS = 2;
const GOAL_MB = 600;
const GOAL_SCALING = 1.05;

export interface GoalLine {
  name: string;
  figure: string;
  goal: string;
  met: boolean;
}

function run(kind: string, sites: number, packages: number, extra?: number | string): SizeFigures {
  const script = fileURLToPath(new URL('./size-case.ts', import.meta.url));
  const args = ['--expose-gc', '--max-old-space-size=6144', '--import', 'tsx', script, kind, String(sites)];
  args.push(String(packages), ...(extra === undefined ? [] : [String(extra)]));
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as SizeFigures;
}

const seconds = (f: SizeFigures) => `${f.cpuSeconds.toFixed(2)} s CPU (${f.seconds.toFixed(2)} s wall)`;

function scaled(name: string, base: SizeFigures, big: SizeFigures, factor: number): GoalLine {
  const ratio = big.cpuSeconds / base.cpuSeconds;
  return {
    name,
    figure: `${seconds(big)}, ${ratio.toFixed(1)} × the time, ${big.peakMB} MB`,
    goal: `≤ ${(factor * GOAL_SCALING).toFixed(1)} ×`,
    met: ratio <= factor * GOAL_SCALING,
  };
}

function measured(
  kind: string,
  what: string,
  print: (line: GoalLine) => void,
  extra?: (sites: number) => number,
): void {
  const base = run(kind, 1000, 1000, extra?.(1000));
  print({
    name: `${what}, 1,000 sites × 1,000 packages`,
    figure: `${seconds(base)}, ${base.peakMB} MB peak`,
    goal: `≤ ${GOAL_SECONDS} s, ≤ ${GOAL_MB} MB`,
    met: base.cpuSeconds <= GOAL_SECONDS && base.peakMB <= GOAL_MB,
  });
  print(scaled(`${what}, 10,000 sites × 1,000 packages`, base, run(kind, 10_000, 1000, extra?.(10_000)), 10));
  print(scaled(`${what}, 1,000 sites × 5,000 packages`, base, run(kind, 1000, 5000, extra?.(1000)), 5));
}

/** Runs every case, printing each line as soon as it is measured (the whole run takes minutes). */
export function runSizesBench(print: (line: GoalLine) => void): void {
  measured('plan', 'plan (25,000-package repository, DEPENDS chains of 6)', print);
  measured('spec', 'load the spec (parse, validate, resolve)', print);
  // Reports as the controller receives them since the listing is sent once per digest: the first carries it.
  measured('reports', 'parse the probe reports (listing in the first only)', print, () => 1);
  const every = run('reports', 100, 1000, 100);
  print({
    name: 'parse 100 probe reports, each with the 25,000-line listing (before)',
    figure: `${seconds(every)}, ${every.peakMB} MB peak`,
    goal: 'none, for comparison',
    met: true,
  });
  // The drift report (issue 12): the plan it rests on, the model and one format, at 1,000 × 1,000.
  for (const format of ['text', 'json', 'markdown', 'junit', 'html']) {
    const figures = run('drift', 1000, 1000, format);
    print({
      name: `drift report of 1,000 sites × 1,000 packages, ${format} (plan and model included)`,
      figure: `${seconds(figures)}, ${figures.peakMB} MB peak, ${(figures.count / 1e6).toFixed(1)} MB of output`,
      goal: 'none, for the README',
      met: true,
    });
  }
  const once = run('reports', 100, 1000, 1);
  print({
    name: 'parse 100 probe reports, listing in the first only (after)',
    figure: `${seconds(once)}, ${once.peakMB} MB peak`,
    goal: 'none, for comparison',
    met: true,
  });
}
