/**
 * `npm run chaos`: the fault run of issue 11. It checks what the README promises when everything goes wrong at
 * once, bounded in time, and prints the figures:
 *
 * - SITES simulated sites (the pkgsrc simulator, a test and demo double) on the local backend, every job run
 *   through a site-side wrapper (CHAOS_SHELL below) that logs when the job starts and ends on its site and breaks
 *   a share of jobs in the ways grid jobs break: killed in the middle, output lost, report cut short, stuck until
 *   the job timeout, failing at start;
 * - `gridpkg converge` (the real built CLI, dist/) killed with SIGKILL at random moments and started again, CYCLES
 *   times, with a second controller started on the same state directory now and then (it must refuse: one
 *   controller per state directory) and a `gridpkg plan` beside it (it must wait or refuse per site);
 * - then one last converge without faults.
 *
 * At the end: every site converged, or is reported with a reason; the site logs prove that no two jobs ever ran
 * at once on one site; every state file is readable; every observation comes from a report that parses.
 *
 * `tsx bench/chaos.ts [--sites N] [--cycles N] [--minutes M] [--fault-rate PERCENT] [--seed N]`
 * (defaults: the issue's 50 sites, 100 cycles and 30 %, within 20 minutes). Exit 0 when every check holds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseReport } from '../src/grid/protocol/index.js';
import { ObservationStore } from '../src/state/observations.js';
import { SiteStatusStore } from '../src/state/site-status.js';
import { World } from '../test/integration/harness.js';
import { buildSimulator } from '../test/pkgsrc-sim/build.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '50' },
    cycles: { type: 'string', default: '100' },
    minutes: { type: 'string', default: '20' },
    'fault-rate': { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
  },
});
const SITES = Number(args.sites);
const CYCLES = Number(args.cycles);
const DEADLINE = Date.now() + Number(args.minutes) * 60_000;
const FAULT_RATE = Number(args['fault-rate']);

/** A small deterministic generator (mulberry32): the same seed gives the same run of kills. */
let seed = Number(args.seed) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * The site-side wrapper the local backend runs each job with (`shell: [CHAOS_SHELL, dash]`). It logs `start` and
 * `end` with the job's id and the time to the site's log, and breaks FAULT_RATE percent of the jobs. The site
 * comes from job.json in the job's directory (its working directory). Constant text: nothing is spliced into it.
 */
const CHAOS_SHELL = `#!/bin/sh
# Chaos wrapper of bench/chaos.ts: logs each job's start and end on its site, and breaks some jobs.
site=$(sed -n 's/.*"site":"\\([^"]*\\)".*/\\1/p' job.json)
job=$(basename "$PWD")
log="$GRIDPKG_CHAOS_DIR/logs/$site.log"
now() { date +%s.%N; }
echo "start $job $(now)" >>"$log"
trap 'echo "end $job $(now) terminated" >>"$log"; exit 143' TERM
roll=$(( $(od -An -N2 -tu2 /dev/urandom) % 100 ))
fault=none
if [ "$roll" -lt "$GRIDPKG_CHAOS_RATE" ]; then
  case $(( roll % 5 )) in
    0) fault=killed ;;
    1) fault=output-lost ;;
    2) fault=truncated ;;
    3) fault=stuck ;;
    4) fault=fails-at-start ;;
  esac
fi
status=0
case $fault in
  fails-at-start)
    echo "chaos: the job's shell could not start" >&2
    status=127
    ;;
  stuck)
    # Until the job timeout cancels it (SIGTERM to the job's process group, caught above).
    sleep 3600 &
    wait $!
    ;;
  killed)
    "$@" &
    child=$!
    sleep "0.$(( roll * 7 % 10 ))$(( roll % 10 ))"
    kill -9 "$child" 2>/dev/null
    wait "$child"
    status=137
    ;;
  *)
    "$@"
    status=$?
    ;;
esac
case $fault in
  output-lost) : >report.txt; : >stdout.txt ;;
  truncated)
    for f in report.txt stdout.txt; do
      [ -f "$f" ] || continue
      head -c "$(( $(wc -c <"$f") / 2 ))" "$f" >"$f.cut" && mv "$f.cut" "$f"
    done
    ;;
esac
echo "end $job $(now) $fault" >>"$log"
exit "$status"
`;

interface Interval {
  job: string;
  start: number;
  end: number | undefined;
  fault: string | undefined;
}

function runCli(argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [CLI, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function ended(child: ChildProcess): Promise<{ code: number | null; signal: string | null; out: string }> {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, out })));
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Waits (up to 20 s) until the controller with this pid holds the state directory's lease. */
async function holdsLease(stateDir: string, pid: number | undefined): Promise<boolean> {
  for (const until = Date.now() + 20_000; Date.now() < until; await sleep(100)) {
    const text = await readFile(join(stateDir, 'controller.lease'), 'utf8').catch(() => '');
    try {
      if ((JSON.parse(text) as { pid?: number }).pid === pid) return true;
    } catch {
      // not written yet, or being replaced
    }
  }
  return false;
}

async function siteIntervals(dir: string, site: string): Promise<Interval[]> {
  const path = join(dir, 'logs', `${site}.log`);
  if (!existsSync(path)) return [];
  const jobs = new Map<string, Interval>();
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const [kind, job, time, fault] = line.split(' ');
    if (job === undefined || time === undefined) continue;
    if (kind === 'start') jobs.set(job, { job, start: Number(time), end: undefined, fault: undefined });
    const known = jobs.get(job);
    if (kind === 'end' && known) {
      known.end = Number(time);
      known.fault = fault;
    }
  }
  return [...jobs.values()].sort((a, b) => a.start - b.start);
}

async function main(): Promise<number> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  await buildSimulator();
  const chaosDir = join(ROOT, 'build', 'chaos');
  await rm(chaosDir, { recursive: true, force: true });
  await mkdir(join(chaosDir, 'logs'), { recursive: true });
  const shell = join(chaosDir, 'chaos-shell');
  await writeFile(shell, CHAOS_SHELL);
  await chmod(shell, 0o755);

  const world = await World.create([shell, 'dash']);
  const names = Array.from({ length: SITES }, (_, i) => `site-${String(i + 1).padStart(2, '0')}`);
  const started = Date.now();
  for (const [i, name] of names.entries()) {
    // Each site starts in its own way: empty, an old gsl to upgrade, cmake the spec wants gone.
    await world.addSite(name, i % 3 === 1 ? ['gsl-2.6'] : i % 3 === 2 ? ['cmake-3.28.1'] : []);
  }
  const packages = [
    '      - math/root',
    '      - devel/hdf5',
    '      - { pkgpath: devel/cmake, state: absent }',
  ].join('\n');
  // Short job timeout (the stuck jobs) and the shortest lock-stale the spec allows (the killed jobs' locks).
  await world.writeSpec(
    Object.fromEntries(names.map((n) => [n, packages])),
    '    jobTimeout: 40s\n    lockStaleAfter: 60s',
  );
  console.log(`${SITES} sites prepared in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const env = {
    ...process.env,
    NO_COLOR: '1',
    GRIDPKG_CHAOS_DIR: chaosDir,
    GRIDPKG_CHAOS_RATE: String(FAULT_RATE),
  };
  const common = ['-f', world.specFile, '--state-dir', world.stateDir];
  const converge = ['converge', ...common, '-q', '-p', '50', '--retry-delay', '2s', '--max-attempts', '100'];

  let cycles = 0;
  let refusedSecond = 0;
  let plans = 0;
  const planCodes = new Map<number | null, number>();
  while (cycles < CYCLES && Date.now() < DEADLINE - 8 * 60_000) {
    cycles++;
    const controller = runCli([...converge, '--timeout', '10m'], env);
    const controllerEnded = ended(controller);
    if (cycles % 5 === 0 && (await holdsLease(world.stateDir, controller.pid))) {
      // A second controller on the same state directory must refuse at once.
      const second = await ended(runCli([...converge, '--timeout', '1m'], env));
      if (second.code === 1 && /controller/i.test(second.out)) refusedSecond++;
      else
        console.log(
          `cycle ${cycles}: the second controller did not refuse (exit ${second.code}): ${second.out.slice(0, 300)}`,
        );
    }
    if (cycles % 7 === 0) {
      // plan beside the controller: waits for or refuses busy sites, never adds a second job to one.
      const plan = await ended(runCli(['plan', ...common, '-q', '-p', '50', '--lock-timeout', '1s'], env));
      plans++;
      planCodes.set(plan.code, (planCodes.get(plan.code) ?? 0) + 1);
    }
    await Promise.race([sleep(500 + random() * 6000), controllerEnded]);
    controller.kill('SIGKILL');
    await controllerEnded;
  }
  console.log(`${cycles} controller kill cycles; the second controller refused ${refusedSecond} time(s)`);

  // The last converge, undisturbed (faults still injected at the sites).
  const last = await ended(
    runCli(
      [...converge, '--timeout', `${Math.max(2, Math.floor((DEADLINE - Date.now()) / 60_000) - 1)}m`],
      env,
    ),
  );
  console.log(`last converge: exit ${last.code}\n${last.out.trim().split('\n').slice(-6).join('\n')}`);

  // Wait for jobs a killed controller left behind (they end by themselves: job timeout 40 s).
  const settle = Date.now() + 90_000;
  for (;;) {
    const logs = await Promise.all(names.map((n) => siteIntervals(chaosDir, n)));
    if (logs.every((jobs) => jobs.every((j) => j.end !== undefined)) || Date.now() > settle) break;
    await sleep(1000);
  }

  // Checks.
  const problems: string[] = [];
  let jobs = 0;
  const faults = new Map<string, number>();
  for (const name of names) {
    const intervals = await siteIntervals(chaosDir, name);
    jobs += intervals.length;
    for (const j of intervals) faults.set(j.fault ?? 'unended', (faults.get(j.fault ?? 'unended') ?? 0) + 1);
    for (let i = 1; i < intervals.length; i++) {
      const before = intervals[i - 1] as Interval;
      const next = intervals[i] as Interval;
      if (before.end === undefined || before.end > next.start)
        problems.push(
          `${name}: job ${next.job} started while ${before.job} still ran (${before.fault ?? 'unended'})`,
        );
    }
  }
  const statuses = new SiteStatusStore(world.stateDir);
  const observations = new ObservationStore(world.stateDir);
  const sync = new Map<string, number>();
  for (const name of names) {
    const status = await statuses.load(name).catch((e: unknown) => {
      problems.push(`${name}: status file unreadable: ${String(e)}`);
      return undefined;
    });
    const key = status ? `${status.sync}/${status.health}` : 'no status';
    sync.set(key, (sync.get(key) ?? 0) + 1);
    if (status && status.sync !== 'in-sync' && !status.lastError)
      problems.push(`${name}: ${key} without a reason`);
    if (status?.sync === 'in-sync') {
      // In sync as recorded must be in sync on the site: its package database says so, not only gridpkg.
      const installed = await world.installed(name);
      const missing = ['root-6.30.02', 'hdf5-1.14.3'].filter((p) => !installed.includes(p));
      if (missing.length > 0 || installed.some((p) => p.startsWith('cmake-')))
        problems.push(`${name}: recorded in sync, but the site holds ${installed.join(' ')}`);
    }
    const observation = await observations.load(name).catch((e: unknown) => {
      problems.push(`${name}: observation unreadable: ${String(e)}`);
      return undefined;
    });
    if (observation?.state === 'known') {
      const report = await observations.loadReport(observation.jobId);
      if (report === undefined || !parseReport(report).ok)
        problems.push(`${name}: observation from job ${observation.jobId}, whose report does not parse`);
    }
  }
  for (const dir of ['ledger', 'ledger/history', 'status']) {
    const path = join(world.stateDir, dir);
    if (!existsSync(path)) continue;
    for (const file of (await readdir(path)).filter((f) => f.endsWith('.json'))) {
      try {
        JSON.parse(await readFile(join(path, file), 'utf8'));
      } catch (error) {
        problems.push(`${dir}/${file} unreadable: ${String(error)}`);
      }
    }
  }

  console.log(
    `jobs run on the sites: ${jobs}; by injected fault: ${[...faults].map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
  console.log(
    `plans run beside the controller: ${plans} (exit codes ${[...planCodes].map(([k, v]) => `${k}: ${v}`).join(', ')})`,
  );
  console.log(`sites at the end (sync/health): ${[...sync].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`wall time ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  if (problems.length > 0) {
    console.log(`\n${problems.length} problem(s):\n${problems.slice(0, 50).join('\n')}`);
    return 1;
  }
  console.log(
    '\nall checks passed: no two jobs overlapped on any site, every state file and observation is sound',
  );
  await world.dispose();
  return 0;
}

process.exitCode = await main();
