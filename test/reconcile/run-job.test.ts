/** The job runner against a scripted backend: ledger order, transient backend errors, the controller's deadline. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GridBackend, JobHandle, JobState, JobSubmission } from '../../src/grid/backend.js';
import { CredentialError } from '../../src/grid/credentials.js';
import { type JobContext, runSiteJob, SiteBusyError } from '../../src/reconcile/run-job.js';
import { SiteQueue } from '../../src/reconcile/site-queue.js';
import { writeFileAtomic } from '../../src/state/atomic.js';
import { Ledger } from '../../src/state/ledger.js';
import { ObservationStore } from '../../src/state/observations.js';
import { desired, probeReport } from './fixtures.js';

class ScriptedBackend implements GridBackend {
  readonly kind = 'scripted';
  needsX509Proxy = false;
  submitted: JobSubmission[] = [];
  ledgerAtSubmit: unknown;
  constructor(
    readonly states: Array<JobState | Error>,
    private readonly ledger: Ledger,
  ) {}
  async submit(job: JobSubmission): Promise<JobHandle> {
    this.ledgerAtSubmit = await this.ledger.active(job.site);
    this.submitted.push(job);
    return { jobId: job.jobId, site: job.site, backendId: `scripted-${job.jobId}` };
  }
  async find(_site: string, _jobId: string): Promise<JobHandle | undefined> {
    return undefined;
  }
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    const next = this.states.length > 1 ? this.states.shift() : this.states[0];
    if (next instanceof Error) throw next;
    return new Map(jobs.map((j) => [j.jobId, next as JobState]));
  }
  async fetch(job: JobHandle) {
    return { report: probeReport(job.jobId), stdout: '', stderr: '' };
  }
  cancelled = 0;
  async cancel(): Promise<void> {
    this.cancelled++;
  }
  cleaned: string[] = [];
  cleanError: Error | undefined;
  async clean(job: JobHandle): Promise<void> {
    if (this.cleanError) throw this.cleanError;
    this.cleaned.push(job.jobId);
  }
}

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-runjob-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function contextWith(backend: (ledger: Ledger) => ScriptedBackend, messages: string[] = []) {
  const ledger = new Ledger(stateDir);
  const instance = backend(ledger);
  const context: JobContext = {
    backendFor: () => instance,
    ledger,
    observations: new ObservationStore(stateDir),
    queue: new SiteQueue(),
    scriptPath: '/nonexistent/site-job.sh',
    pollIntervalMs: { first: 1, max: 5 },
    deadlineGraceMs: 0,
    progress: (_site, message) => messages.push(message),
  };
  return { context, backend: instance, ledger };
}

describe('running one site job', () => {
  it('records the intent in the ledger before submitting, and frees the site afterwards', async () => {
    const { context, backend, ledger } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: 'exit 0' }], l),
    );
    const result = await runSiteJob(context, desired([]), 'probe');
    expect(backend.ledgerAtSubmit).toMatchObject({ phase: 'intent', jobId: result.jobId });
    expect(result.observation).toMatchObject({ state: 'known', fingerprint: 'sha256:aa' });
    expect(await ledger.active('site-a')).toBeUndefined();
    expect(await new ObservationStore(stateDir).load('site-a')).toMatchObject({ state: 'known' });
  });

  it('cleans the job up once its outcome is recorded', async () => {
    const { context, backend, ledger } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: 'exit 0' }], l),
    );
    const result = await runSiteJob(context, desired([]), 'probe');
    expect(backend.cleaned).toEqual([result.jobId]);
    expect(await ledger.active('site-a')).toBeUndefined();
  });

  it('only notes a clean-up that fails: the outcome stands', async () => {
    const messages: string[] = [];
    const { context, backend } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: 'exit 0' }], l),
      messages,
    );
    backend.cleanError = new Error('arcclean: CE unreachable');
    const result = await runSiteJob(context, desired([]), 'probe');
    expect(result.observation.state).toBe('known');
    expect(messages).toContain(
      `could not clean up job ${result.jobId} (its outcome is recorded): arcclean: CE unreachable`,
    );
  });

  it('submits nothing once the context is stopping (watch draining)', async () => {
    const { context, backend, ledger } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: 'exit 0' }], l),
    );
    const stopping = new AbortController();
    stopping.abort();
    context.signal = stopping.signal;
    await expect(runSiteJob(context, desired([]), 'probe')).rejects.toThrow(
      'stopping; no probe job submitted',
    );
    expect(backend.submitted).toEqual([]);
    expect(await ledger.active('site-a')).toBeUndefined();
  });

  it('treats a backend that cannot answer as transient and keeps polling', async () => {
    const messages: string[] = [];
    const { context } = contextWith(
      (l) =>
        new ScriptedBackend(
          [
            new Error('CE down'),
            new Error('CE down'),
            { state: 'running', raw: 'R' },
            { state: 'done', exitCode: 0, raw: 'exit 0' },
          ],
          l,
        ),
      messages,
    );
    const result = await runSiteJob(context, desired([]), 'probe');
    expect(result.jobState.state).toBe('done');
    expect(messages.filter((m) => m.includes('unavailable, retrying: Error: CE down'))).toHaveLength(2);
  });

  it('gives up at the deadline when the backend never answers: the job is cancelled and counted lost', async () => {
    const site = { ...desired([]), jobTimeoutSeconds: 1 };
    const { context, backend, ledger } = contextWith((l) => new ScriptedBackend([new Error('CE down')], l));
    const result = await runSiteJob(context, site, 'probe');
    expect(result.jobState).toMatchObject({ state: 'lost' });
    expect(backend.cancelled).toBe(1);
    expect(await ledger.active('site-a')).toBeUndefined();
    // A lost job may still run somewhere: its directory is left for a person to look at.
    expect(backend.cleaned).toEqual([]);
  });

  it('refuses a hostile action before anything is recorded or submitted', async () => {
    const { context, backend, ledger } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: '' }], l),
    );
    await expect(
      runSiteJob(context, desired([]), 'apply', {
        actions: [{ verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8;touch /tmp/x' }],
        expectFingerprint: 'sha256:aa',
      }),
    ).rejects.toThrow();
    expect(backend.submitted).toEqual([]);
    expect(await ledger.active('site-a')).toBeUndefined();
  });
});

describe('the X.509 proxy check for grid middleware', () => {
  it('stops a backend that needs a proxy before anything is recorded or submitted when the proxy is missing', async () => {
    const { context, backend, ledger } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: '' }], l),
    );
    backend.needsX509Proxy = true;
    const missing = join(stateDir, 'x509up_u1234');
    const saved = process.env.X509_USER_PROXY;
    process.env.X509_USER_PROXY = missing;
    try {
      const failure = runSiteJob(context, desired([]), 'probe');
      await expect(failure).rejects.toBeInstanceOf(CredentialError);
      await expect(failure).rejects.toThrow(missing);
    } finally {
      if (saved === undefined) delete process.env.X509_USER_PROXY;
      else process.env.X509_USER_PROXY = saved;
    }
    expect(backend.submitted).toEqual([]);
    expect(await ledger.active('site-a')).toBeUndefined();
  });

  it('does not ask backends without grid middleware for a proxy', async () => {
    const asked: unknown[] = [];
    const { context, backend } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: '' }], l),
    );
    context.requireProxy = async (options) => asked.push(options);
    await runSiteJob(context, desired([]), 'probe');
    expect(asked).toEqual([]);
    backend.needsX509Proxy = true;
    await runSiteJob(context, desired([]), 'probe');
    // A desired state without proxy settings: VOMS membership of its VO, no role, no margin.
    expect(asked).toEqual([
      {
        jobTimeoutSeconds: 3600,
        vo: 'vo.example.org',
        requiredRole: undefined,
        marginSeconds: 0,
        requireVoms: true,
      },
    ]);
  });
});

describe('a site another live gridpkg is submitting to', () => {
  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('is waited for, and used once that gridpkg gives its intent up', async () => {
    const messages: string[] = [];
    const { context, backend, ledger } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: 'exit 0' }], l),
      messages,
    );
    const other = await ledger.recordIntent({
      jobId: 'other-job',
      site: 'site-a',
      mode: 'apply',
      backend: 'x',
    });
    if (!other) throw new Error('setup failed');
    const ours = runSiteJob(context, desired([]), 'probe');
    await until(() => messages.some((m) => m.includes('waiting for it')));
    expect(backend.submitted).toEqual([]);
    // Its submission failed: it completes its intent, which frees the site.
    await ledger.complete(other, { finishedAt: new Date().toISOString(), jobState: 'not-submitted' });
    const result = await ours;
    expect(result.jobState.state).toBe('done');
    expect(backend.submitted).toHaveLength(1);
    expect(messages.filter((m) => m.includes('waiting for it'))).toEqual([
      `another gridpkg (pid ${process.pid} on this host) is submitting apply job other-job; waiting for it`,
    ]);
  });

  // Found by the fault run (npm run chaos): a job whose directory exists but whose process has not started yet
  // looked lost to a second gridpkg, which freed the site and submitted a job of its own beside it.
  it('is never looked up at the backend while its owner still submits it, even when the backend would find it', async () => {
    const messages: string[] = [];
    const { context, backend, ledger } = contextWith((l) => {
      const b = new ScriptedBackend([{ state: 'lost', reason: 'not started yet', raw: 'missing' }], l);
      b.find = async (site: string, jobId: string) => ({ jobId, site, backendId: `scripted-${jobId}` });
      return b;
    }, messages);
    const other = await ledger.recordIntent({
      jobId: 'other-job',
      site: 'site-a',
      mode: 'probe',
      backend: 'x',
    });
    if (!other) throw new Error('setup failed');
    const ours = runSiteJob(context, desired([]), 'probe');
    await until(() => messages.some((m) => m.includes('waiting for it')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(messages.some((m) => m.includes('re-attaching'))).toBe(false);
    expect((await ledger.active('site-a'))?.jobId).toBe('other-job');
    expect(backend.submitted).toEqual([]);
    // The owner submits it, it ends, the owner records it: then the site is ours.
    await ledger.complete(await ledger.recordSubmitted(other, 'scripted-other-job'), {
      finishedAt: new Date().toISOString(),
      jobState: 'done',
    });
    backend.states.splice(0, backend.states.length, { state: 'done', exitCode: 0, raw: 'exit 0' });
    await ours;
    expect(backend.submitted).toHaveLength(1);
  });

  it('is left alone after the wait with a plain message that never advises deleting its entry', async () => {
    const { context, backend, ledger } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: '' }], l),
    );
    context.submissionWaitMs = 30;
    await ledger.recordIntent({ jobId: 'other-job', site: 'site-a', mode: 'apply', backend: 'x' });
    const failure = runSiteJob(context, desired([]), 'probe');
    await expect(failure).rejects.toBeInstanceOf(SiteBusyError);
    await expect(failure).rejects.toThrow(
      new RegExp(
        `^site-a: another gridpkg \\(pid ${process.pid} on this host\\) has been submitting apply job other-job since \\S+ and has not finished; this site was left alone\\. Run again once it is done$`,
      ),
    );
    expect(backend.submitted).toEqual([]);
    expect((await ledger.active('site-a'))?.jobId).toBe('other-job');
  });

  it('of a gridpkg on another host: removing the entry is named only for when that process is gone', async () => {
    const { context, ledger } = contextWith(
      (l) => new ScriptedBackend([{ state: 'done', exitCode: 0, raw: '' }], l),
    );
    context.submissionWaitMs = 30;
    const entry = await ledger.recordIntent({
      jobId: 'other-job',
      site: 'site-a',
      mode: 'apply',
      backend: 'x',
    });
    await writeFileAtomic(
      ledger.activePath('site-a'),
      JSON.stringify({ ...entry, owner: { host: 'ui.example.org', pid: 4242 } }),
    );
    await expect(runSiteJob(context, desired([]), 'probe')).rejects.toThrow(
      /another gridpkg \(pid 4242 on ui\.example\.org\) .* Run again later; only if that process is gone, free the site with `gridpkg force-unlock site-a \S+`$/,
    );
  });
});
