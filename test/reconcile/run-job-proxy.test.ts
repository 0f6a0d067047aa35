/**
 * The spec's `proxy:` settings reach the X.509 proxy check: a spec is parsed and resolved, its site runs one job on
 * a backend that needs a proxy, and the real check (requireValidProxy) reads real proxy files made with openssl
 * (../grid/test-proxies.ts). A refused proxy stops the job before anything is recorded or submitted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GridBackend, JobHandle, JobState, JobSubmission } from '../../src/grid/backend.js';
import { CredentialError, requireValidProxy } from '../../src/grid/credentials.js';
import { type JobContext, type ProxyCheckOptions, runSiteJob } from '../../src/reconcile/run-job.js';
import { SiteQueue } from '../../src/reconcile/site-queue.js';
import { type DesiredState, parseSpec } from '../../src/spec/index.js';
import { Ledger } from '../../src/state/ledger.js';
import { ObservationStore } from '../../src/state/observations.js';
import { createTestProxies, HOUR, MINUTE, type TestProxies, wholeSecondsNow } from '../grid/test-proxies.js';

const now = wholeSecondsNow();
const at = (offsetMs: number): Date => new Date(now.getTime() + offsetMs);
const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

/** A grid-middleware backend whose one job ends at once with a readable report. */
class GridBackendDouble implements GridBackend {
  readonly kind = 'grid-double';
  readonly needsX509Proxy = true;
  submitted: JobSubmission[] = [];
  async submit(job: JobSubmission): Promise<JobHandle> {
    this.submitted.push(job);
    return { jobId: job.jobId, site: job.site, backendId: `double-${job.jobId}` };
  }
  async find(): Promise<JobHandle | undefined> {
    return undefined;
  }
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    return new Map(jobs.map((j) => [j.jobId, { state: 'done', exitCode: 0, raw: 'exit 0' } as JobState]));
  }
  async fetch(job: JobHandle) {
    const report = [
      'gridpkg-report 1',
      `job ${job.jobId}`,
      'mode probe',
      'swdir /sw',
      'lock acquired',
      'pkgsrc present /sw/pkg 20170419',
      'fingerprint before sha256:aa',
      'audit-status clean',
      'fingerprint after sha256:aa',
      'status ok',
      'end',
      '',
    ].join('\n');
    return { report, stdout: '', stderr: '' };
  }
  async cancel(): Promise<void> {}
  async clean(): Promise<void> {}
}

let proxies: TestProxies;
/** Valid for 12 h: no VOMS attributes; /pvier membership without a role; /pvier/Role=sgm. */
let plain: { file: string };
let member: { file: string };
let sgm: { file: string };
/** Valid for another 2 h 30 min, with /pvier/Role=sgm. */
let short: { file: string };

beforeAll(async () => {
  proxies = await createTestProxies(now);
  const voms = (fqans: string[]) => ({ fqans, start: at(-HOUR), end: at(12 * HOUR) });
  plain = await proxies.makeProxy({ start: at(-HOUR), end: at(12 * HOUR) });
  member = await proxies.makeProxy({
    start: at(-HOUR),
    end: at(12 * HOUR),
    voms: voms(['/pvier/Role=NULL/Capability=NULL']),
  });
  sgm = await proxies.makeProxy({
    start: at(-HOUR),
    end: at(12 * HOUR),
    voms: voms(['/pvier/Role=sgm/Capability=NULL', '/pvier/Role=NULL/Capability=NULL']),
  });
  short = await proxies.makeProxy({
    start: at(-HOUR),
    end: at(2 * HOUR + 30 * MINUTE),
    voms: voms(['/pvier/Role=sgm/Capability=NULL']),
  });
});
afterAll(async () => {
  await proxies?.cleanup();
});

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-runjob-proxy-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** The one site of a spec whose defaults hold `lines` (vo pvier, job timeout 1 h). */
function siteOf(...lines: string[]): DesiredState {
  const text = [
    'apiVersion: gridpkg/v1',
    'defaults:',
    '  vo: pvier',
    '  jobTimeout: 1h',
    ...lines.map((line) => `  ${line}`),
    'sites:',
    '  grid-site: {}',
    '',
  ].join('\n');
  const site = parseSpec(text, 'spec.yaml', { today: '2026-11-23' }).sites[0];
  if (!site) throw new Error('no site');
  return site;
}

/** Runs a probe of the site with the real proxy check reading `proxyFile`; what the check was asked, and the job. */
async function probe(desired: DesiredState, proxyFile: string) {
  const backend = new GridBackendDouble();
  const ledger = new Ledger(stateDir);
  const asked: ProxyCheckOptions[] = [];
  const context: JobContext = {
    backendFor: () => backend,
    ledger,
    observations: new ObservationStore(stateDir),
    queue: new SiteQueue(),
    scriptPath: '/nonexistent/site-job.sh',
    pollIntervalMs: { first: 1, max: 5 },
    progress: () => {},
    // The real check, on this proxy file; voms-proxy-info is left out so that the proxy's own VOMS extension counts.
    requireProxy: (options) => {
      asked.push(options);
      return requireValidProxy({ ...options, file: proxyFile, vomsProxyInfo: async () => undefined });
    },
  };
  const outcome = await runSiteJob(context, desired, 'probe').then(
    (result) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { outcome, asked, backend, ledger };
}

function refusal(outcome: { ok: boolean; error?: unknown }): CredentialError {
  expect(outcome.ok).toBe(false);
  expect(outcome.error).toBeInstanceOf(CredentialError);
  return outcome.error as CredentialError;
}

describe("the spec's proxy: settings reach the X.509 proxy check", () => {
  it('without proxy:, a VO site refuses a proxy without VOMS attributes, saying how to fix it', async () => {
    const { outcome, asked, backend, ledger } = await probe(siteOf(), plain.file);
    expect(asked).toEqual([
      { jobTimeoutSeconds: 3600, vo: 'pvier', requiredRole: undefined, marginSeconds: 0, requireVoms: true },
    ]);
    const error = refusal(outcome);
    expect(error.problem.kind).toBe('role-missing');
    expect(error.message).toContain(`X.509 proxy ${plain.file} does not carry the VOMS attribute /pvier`);
    expect(error.message).toContain('voms-proxy-init --voms pvier:/pvier/Role=sgm');
    expect(error.message).toContain('set proxy.requireVoms: false in the spec');
    // Nothing recorded, nothing submitted.
    expect(backend.submitted).toEqual([]);
    expect(await ledger.active('grid-site')).toBeUndefined();
    // Any membership of the VO will do.
    expect((await probe(siteOf(), member.file)).outcome.ok).toBe(true);
  });

  it('requireVoms: false accepts a plain proxy (a test CA) on a site with a vo, and the job is submitted', async () => {
    const { outcome, asked, backend } = await probe(siteOf('proxy: { requireVoms: false }'), plain.file);
    expect(asked[0]).toMatchObject({ vo: 'pvier', requireVoms: false });
    expect(outcome.ok).toBe(true);
    expect(backend.submitted).toHaveLength(1);
  });

  it('minValidity pushes the required expiry past the job timeout', async () => {
    // 2 h 30 min left: enough for a 1 h job, and for 1 h more.
    expect((await probe(siteOf(), short.file)).outcome.ok).toBe(true);
    expect((await probe(siteOf('proxy: { minValidity: 1h }'), short.file)).outcome.ok).toBe(true);
    // Not for 2 h more.
    const { outcome, asked, backend } = await probe(siteOf('proxy: { minValidity: 2h }'), short.file);
    expect(asked[0]).toMatchObject({ marginSeconds: 7200 });
    const error = refusal(outcome);
    expect(error.problem).toMatchObject({ kind: 'expiring', file: short.file, expiresAt: at(2.5 * HOUR) });
    // The check runs on the real clock, a little after the proxies were made: the minutes are approximate.
    expect(error.message).toContain(`X.509 proxy ${short.file} expires at ${iso(at(2.5 * HOUR))} (in 2 h `);
    expect(error.message).toContain('job timeout 1 h + margin 2 h');
    expect(error.message).toMatch(/, 30 min( \d+ s)? short;/);
    expect(error.message).toContain(
      'renew it with: voms-proxy-init --voms pvier:/pvier/Role=sgm --valid 12:00',
    );
    expect(backend.submitted).toEqual([]);
  });

  it('vomsRole: sgm demands /pvier/Role=sgm and names the voms-proxy-init command when it is absent', async () => {
    const desired = siteOf('proxy: { vomsRole: sgm }');
    const { outcome, asked, backend } = await probe(desired, member.file);
    expect(asked[0]).toMatchObject({ vo: 'pvier', requiredRole: 'sgm', requireVoms: true });
    const error = refusal(outcome);
    expect(error.problem).toMatchObject({
      kind: 'role-missing',
      fqans: ['/pvier/Role=NULL/Capability=NULL'],
    });
    expect(error.message).toBe(
      `X.509 proxy ${member.file} does not carry the VOMS attribute /pvier/Role=sgm the job needs; ` +
        "FQANs found (from the proxy's VOMS extension): /pvier/Role=NULL/Capability=NULL; " +
        'create one with: voms-proxy-init --voms pvier:/pvier/Role=sgm --valid 12:00',
    );
    expect(backend.submitted).toEqual([]);
    // A plain proxy has no role either; the proxy with Role=sgm goes through.
    expect(refusal((await probe(desired, plain.file)).outcome).message).toContain(
      "FQANs found (from the proxy's VOMS extension): none; create one with: voms-proxy-init --voms pvier:/pvier/Role=sgm",
    );
    expect((await probe(desired, sgm.file)).outcome.ok).toBe(true);
  });
});
