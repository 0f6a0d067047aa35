/** Saved plans: every backend type round-trips, older formats and broken files are refused with a clear reason. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/reconcile/plan.js';
import { readPlanFile, specDigest, writePlanFile } from '../../src/reconcile/plan-file.js';
import { parseSpecText } from '../../src/spec/index.js';
import { observed } from './fixtures.js';

/** One site per backend type, each with the settings a real spec would give it (paths resolve to absolute). */
const SPEC = `apiVersion: gridpkg/v1
defaults:
  vo: pvier
  softwareArea: /sw
  repository: /repo/All
  packages: [math/gsl]
sites:
  local-default: {}
  local-shell:
    backend: { type: local, shell: [busybox, sh], environment: { VO_PVIER_SW_DIR: /sw } }
  ssh:
    backend: { type: ssh, host: ce01.example.org, port: 2222, user: pvisgm, identityFile: keys/id, knownHostsFile: ~/.ssh/kh, workDir: ~/jobs, shell: [dash], environment: { A: b }, connectTimeoutSeconds: 5 }
  slurm:
    backend: { type: slurm, partition: short, account: vo, qos: low, memory: 2G, cpusPerTask: 2, jobsRoot: jobs, shell: [bash], slurmConf: /etc/slurm/slurm.conf, jobCompLog: /var/log/slurm/jobcomp.log }
  slurm-login:
    backend: { type: slurm, jobsRoot: /shared/jobs, loginNode: { host: login.example.org, user: sgm, insecureAcceptNewHostKeys: true } }
  template:
    backend:
      type: template
      jobsRoot: tjobs
      credentials: x509
      missingPolls: 5
      commandEnvironment: { SLURM_CONF: /etc/slurm.conf }
      files: { job.jdl: "Executable = \\"runner.sh\\";\\n" }
      submit: { argv: [sbatch, --parsable, '{runner}'], jobId: '^(\\d+)' }
      status: { argv: [squeue, -h, -j, '{idsComma}', -o, '%i %T'], line: '^(?<id>\\d+) (?<state>\\w+)$', states: { queued: [PENDING], running: [RUNNING], done: [COMPLETED], failed: [FAILED] } }
      fetch: { argv: [rsync, '{id}', '{jobDir}'] }
      cancel: { argv: [scancel, '{id}'] }
      clean: { argv: [rm, -rf, '{jobDir}'] }
      find: { argv: [squeue, -h, -n, '{jobName}', -o, '%i'], jobId: '^(\\d+)' }
  arc:
    backend: { type: arc, ce: 'https://ce.example.org:443/arex', queue: grid, memoryMB: 2000, jobsRoot: arc-jobs, clientConfig: arc.conf }
    proxy: { vomsRole: sgm, minValidity: 1h }
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-planfile-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function planOfEveryBackend() {
  const sites = parseSpecText(SPEC, join(dir, 'desired-state.yaml'));
  const observations = sites.map((s) => ({ ...observed([]), site: s.site }));
  return buildPlan(sites, observations, {
    specFile: join(dir, 'desired-state.yaml'),
    specDigest: `sha256:${'0'.repeat(64)}`,
  });
}

describe('saved plans', () => {
  it('round-trip for every backend type: written, read back and validated unchanged', async () => {
    const plan = planOfEveryBackend();
    expect(new Set(plan.sites.map((s) => s.desired.backend.type))).toEqual(
      new Set(['local', 'ssh', 'slurm', 'template', 'arc']),
    );
    expect(plan.sites.every((s) => s.outcome === 'changes')).toBe(true);
    const file = join(dir, 'saved.plan');
    await writePlanFile(file, plan, join(dir, 'state'));
    const read = await readPlanFile(file);
    expect(read).toEqual({ ...plan, stateDir: join(dir, 'state') });
  });

  it('record the state directory as an absolute path', async () => {
    const file = join(dir, 'saved.plan');
    await writePlanFile(file, planOfEveryBackend(), relative(process.cwd(), join(dir, 'st')));
    expect((await readPlanFile(file)).stateDir).toBe(join(dir, 'st'));
  });

  it('refuse a backend the spec would refuse', async () => {
    const plan = planOfEveryBackend();
    const file = join(dir, 'saved.plan');
    const site = plan.sites.find((s) => s.desired.backend.type === 'template');
    if (!site) throw new Error('no template site');
    site.desired.backend = { ...site.desired.backend, submit: { argv: ['a\nb'], jobId: '(x)' } } as never;
    await writePlanFile(file, plan, dir);
    await expect(readPlanFile(file)).rejects.toThrow(/not a valid gridpkg plan file/);
  });

  it('refuse a plan of another format version, saying to make it again', async () => {
    const file = join(dir, 'old.plan');
    await writeFile(file, JSON.stringify({ formatVersion: 1, sites: [] }));
    await expect(readPlanFile(file)).rejects.toThrow(/plan of format 1.*gridpkg plan -out/);
  });

  it('digest a spec the same whether it was named relative or absolute', () => {
    const absolute = join(process.cwd(), 'spec.yaml');
    expect(specDigest([{ file: 'spec.yaml', text: 'x' }])).toBe(specDigest([{ file: absolute, text: 'x' }]));
    expect(specDigest([{ file: 'spec.yaml', text: 'x' }])).not.toBe(
      specDigest([{ file: 'spec.yaml', text: 'y' }]),
    );
  });
});
