/**
 * Text from jobs and backends on every way out: a scripted backend whose status calls fail with hostile output,
 * whose states carry hostile raw strings, whose submissions are refused quoting hostile output and whose jobs leave
 * hostile stderr and no report. What comes out — progress lines (the CLI's own printer), the plan and apply views,
 * `gridpkg import`, the JSON log, the saved plan and the observation files — carries none of it raw.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runImport } from '../../src/cli/commands/import.js';
import { jobContextFor } from '../../src/cli/common.js';
import type { CliIO } from '../../src/cli/io.js';
import type { GridBackend, JobHandle, JobState, JobSubmission } from '../../src/grid/backend.js';
import { applyPlan, planSites } from '../../src/reconcile/engine.js';
import type { Observation } from '../../src/reconcile/observation.js';
import { buildPlan } from '../../src/reconcile/plan.js';
import { writePlanFile } from '../../src/reconcile/plan-file.js';
import { renderApply } from '../../src/report/apply-view.js';
import { renderPlan } from '../../src/report/plan-view.js';
import type { Style } from '../../src/report/style.js';
import { loadSpec } from '../../src/spec/index.js';
import { observed } from '../reconcile/fixtures.js';
import { expectSafe, expectShownEscaped, HOSTILE_LINE, HOSTILE_MULTILINE, STYLES } from './hostile-text.js';

/** site-a's jobs fail hostilely on every step; site-b's submissions are refused quoting hostile output. */
class HostileBackend implements GridBackend {
  readonly kind = 'hostile';
  private polls = 0;
  async submit(job: JobSubmission): Promise<JobHandle> {
    if (job.site === 'site-b') throw new Error(`sbatch refused job ${job.jobId}: ${HOSTILE_MULTILINE}`);
    return { jobId: job.jobId, site: job.site, backendId: `hostile-${job.jobId}` };
  }
  async find(): Promise<JobHandle | undefined> {
    return undefined;
  }
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    this.polls++;
    if (this.polls === 1) throw new Error(`squeue: ${HOSTILE_MULTILINE}`);
    const state: JobState =
      this.polls === 2
        ? { state: 'queued', raw: HOSTILE_LINE }
        : { state: 'failed', reason: HOSTILE_LINE, raw: HOSTILE_LINE };
    return new Map(jobs.map((j) => [j.jobId, state]));
  }
  async fetch() {
    return { report: undefined, stdout: HOSTILE_MULTILINE, stderr: `${HOSTILE_MULTILINE}\n` };
  }
  async cancel(): Promise<void> {}
  async clean(): Promise<void> {}
}

const SPEC = `apiVersion: gridpkg/v1
defaults:
  vo: pvier
  repository: /repo/All
sites:
  site-a:
    softwareArea: /sw
    backend: { type: local, shell: [dash] }
    packages:
      - math/gsl
  site-b:
    softwareArea: /sw
    backend: { type: local, shell: [dash] }
    packages:
      - math/gsl
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-hostile-'));
  await writeFile(join(dir, 'desired-state.yaml'), SPEC);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(style: Style) {
  const out = { stdout: '', stderr: '' };
  const io: CliIO = {
    out: (text) => {
      out.stdout += text;
    },
    err: (text) => {
      out.stderr += text;
    },
    confirm: async () => true,
    style,
    errStyle: style,
  };
  return { io, out };
}

describe.each(STYLES)('text from hostile jobs and backends (%s)', (_name, style) => {
  it('reaches progress, plan, apply, import, the log, the saved plan and observations only escaped', async () => {
    const specFile = join(dir, 'desired-state.yaml');
    const stateDir = join(dir, 'state');
    const spec = await loadSpec(specFile);
    const { io, out } = capture(style);
    const context = jobContextFor(stateDir, io, { quiet: false });
    const backend = new HostileBackend();
    context.backendFor = () => backend;
    context.pollIntervalMs = { first: 1, max: 5 };

    const plan = await planSites(context, spec.sites, {
      concurrency: 1,
      specFile,
      specDigest: 'sha256:0',
    });
    io.out(renderPlan(plan, style));
    // site-a's probe: unknown with the job's stderr quoted; site-b's: the refusal quoted.
    expect(plan.sites.map((s) => s.outcome)).toEqual(['unknown', 'unknown']);
    expect(plan.sites[0]?.reasons[0]).toContain(HOSTILE_LINE); // the model keeps the raw text

    // An apply whose job leaves no report and hostile stderr (site-a), and one refused at submission (site-b).
    const known = (site: string): Observation => ({ ...observed([]), site });
    const drifted = buildPlan(spec.sites, [known('site-a'), known('site-b')], {
      specFile,
      specDigest: 'sha256:0',
    });
    expect(drifted.sites.map((s) => s.outcome)).toEqual(['changes', 'changes']);
    io.out(renderApply(await applyPlan(context, drifted, { concurrency: 1 }), style));
    await context.close?.();

    expect(await runImport({ file: specFile, stateDir, site: ['site-a'] }, io)).toBe(1);

    expectSafe(out.stdout, 'stdout');
    expectSafe(out.stderr, 'stderr');
    expectShownEscaped(out.stdout, 'plan and apply views');
    expectShownEscaped(out.stderr, 'progress lines and import');
    expect(out.stderr).toContain('backend says \\e[2J'); // a hostile backend state, in a progress line
    expect(out.stderr).toContain('retrying: Error: squeue: first line\\n::error'); // a status error

    // Files a user may cat or tail: valid JSON that decodes to the exact text, with nothing raw in the bytes.
    const planFile = join(dir, 'saved.plan');
    await writePlanFile(planFile, plan, stateDir);
    const log = await readFile(join(stateDir, 'gridpkg.log'), 'utf8');
    const observation = await readFile(join(stateDir, 'observations', 'site-a.json'), 'utf8');
    for (const [where, text] of [
      ['gridpkg.log', log],
      ['saved plan', await readFile(planFile, 'utf8')],
      ['observation', observation],
    ] as const) {
      expectSafe(text, where);
    }
    const messages = log
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages.some((m) => m.includes(HOSTILE_LINE))).toBe(true);
    expect((JSON.parse(observation) as { reason: string }).reason).toContain(HOSTILE_LINE);
  });

  it('reaches import output (fragment comments, warnings, --write report) only escaped', async () => {
    const specFile = join(dir, 'desired-state.yaml');
    const stateDir = join(dir, 'state');
    // An observation file with hostile names, as an edited or older state directory could hold.
    const hostile: Observation = {
      ...observed([]),
      jobId: `site-a-probe-1${HOSTILE_LINE}`,
      observedAt: HOSTILE_LINE,
      installed: [
        { pkgname: `gsl-2.8${HOSTILE_LINE}`, pkgpath: undefined, automatic: false },
        { pkgname: `bmake-20240808${HOSTILE_LINE}`, pkgpath: 'devel/bmake', automatic: false },
        { pkgname: `fftw-3.3.10${HOSTILE_LINE}`, pkgpath: 'math/fftw', automatic: false },
      ],
    };
    await mkdir(join(stateDir, 'observations'), { recursive: true });
    await writeFile(join(stateDir, 'observations', 'site-a.json'), JSON.stringify(hostile));
    const { io, out } = capture(style);
    expect(await runImport({ file: specFile, stateDir, site: ['site-a'], pin: true }, io)).toBe(0);
    expect(await runImport({ file: specFile, stateDir, site: ['site-a'], write: true }, io)).toBe(0);
    expectSafe(out.stdout, 'import stdout');
    expectSafe(out.stderr, 'import stderr');
    expectShownEscaped(out.stdout, 'import fragment');
    expectShownEscaped(out.stderr, 'import warnings');
    const written = await readFile(specFile, 'utf8');
    expect(written).toContain('- math/fftw');
    expectSafe(written, 'the spec --write edited'); // its comment names the observation's time
  });
});
