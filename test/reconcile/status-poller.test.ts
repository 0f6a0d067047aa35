/** The status poller: one status call per round for all jobs of a status group, each job on its own backoff. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GridBackend, JobHandle, JobOutput, JobState, JobSubmission } from '../../src/grid/backend.js';
import { observeSites } from '../../src/reconcile/engine.js';
import type { JobContext } from '../../src/reconcile/run-job.js';
import { SiteQueue } from '../../src/reconcile/site-queue.js';
import { StatusPoller, type WatchOptions } from '../../src/reconcile/status-poller.js';
import { Ledger } from '../../src/state/ledger.js';
import { ObservationStore } from '../../src/state/observations.js';
import { desired, probeReport } from './fixtures.js';

const RUNNING: JobState = { state: 'running', raw: 'R' };
const DONE: JobState = { state: 'done', exitCode: 0, raw: 'exit 0' };

/** What a batch system knows, shared by the backend objects of its sites; records every status call. */
class FakeCluster {
  /** One entry per status call: which backend object was asked, and about which jobs. */
  readonly calls: Array<{ asked: string; jobs: string[] }> = [];
  readonly states = new Map<string, JobState>();
  /** How often each job was asked about; a job is done once asked `pollsUntilDone` times. */
  readonly polls = new Map<string, number>();
  pollsUntilDone = Number.POSITIVE_INFINITY;
  readonly cancelled: string[] = [];
  failures: Error[] = [];
  /** When set, status() waits for it before answering. */
  gate: Promise<void> | undefined;
}

class FakeBackend implements GridBackend {
  readonly kind = 'fake';
  cancelFails = false;
  constructor(
    readonly name: string,
    readonly cluster: FakeCluster,
    readonly statusGroup?: string,
  ) {}
  async submit(job: JobSubmission): Promise<JobHandle> {
    return handle(job.jobId, job.site);
  }
  async find(): Promise<JobHandle | undefined> {
    return undefined;
  }
  async status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>> {
    this.cluster.calls.push({ asked: this.name, jobs: jobs.map((job) => job.jobId) });
    for (const job of jobs) {
      const polls = (this.cluster.polls.get(job.jobId) ?? 0) + 1;
      this.cluster.polls.set(job.jobId, polls);
      if (polls >= this.cluster.pollsUntilDone) this.cluster.states.set(job.jobId, DONE);
    }
    await this.cluster.gate;
    const failure = this.cluster.failures.shift();
    if (failure) throw failure;
    return new Map(jobs.map((job) => [job.jobId, this.cluster.states.get(job.jobId) ?? RUNNING]));
  }
  async fetch(_job: JobHandle): Promise<JobOutput> {
    return { report: undefined, stdout: '', stderr: '' };
  }
  async cancel(job: JobHandle): Promise<void> {
    this.cluster.cancelled.push(job.jobId);
    if (this.cancelFails) throw new Error('scancel: cannot reach slurmctld');
  }
  async clean(): Promise<void> {}
}

function handle(jobId: string, site = `site-${jobId}`): JobHandle {
  return { jobId, site, backendId: `fake:${jobId}` };
}

/** A watch with its outcome kept (settled or not) and the errors it was told about. */
function watch(
  poller: StatusPoller,
  backend: GridBackend,
  jobId: string,
  options: Partial<WatchOptions> = {},
) {
  const unavailable: unknown[] = [];
  const outcome: { state?: JobState; error?: unknown } = {};
  const promise = poller
    .watch(backend, handle(jobId), {
      timeoutSeconds: 3600,
      deadlineGraceMs: 0,
      pollIntervalMs: { first: 100, max: 400 },
      onUnavailable: (error) => unavailable.push(error),
      ...options,
    })
    .then(
      (state) => {
        outcome.state = state;
      },
      (error: unknown) => {
        outcome.error = error;
      },
    );
  return { unavailable, outcome, promise };
}

describe('the status poller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("polls at the backend's own interval when the caller names none, else at the caller's", async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    const quick = Object.assign(new FakeBackend('quick', cluster), {
      pollIntervalMs: { first: 50, max: 100 },
    });
    const hinted = watch(poller, quick, 'hinted', { pollIntervalMs: undefined });
    await vi.advanceTimersByTimeAsync(1000);
    // rounds at 50, 125, then every 100 ms: 225 ... 925
    expect(cluster.calls).toHaveLength(10);
    cluster.states.set('hinted', DONE);
    await vi.advanceTimersByTimeAsync(100);
    expect(hinted.outcome.state).toEqual(DONE);

    const other = new FakeCluster();
    const told = watch(
      poller,
      Object.assign(new FakeBackend('told', other), { pollIntervalMs: quick.pollIntervalMs }),
      'told',
    );
    await vi.advanceTimersByTimeAsync(1000);
    // the caller's { first: 100, max: 400 }: rounds at 100, 250, 475, 813
    expect(other.calls).toHaveLength(4);
    other.states.set('told', DONE);
    await vi.advanceTimersByTimeAsync(400);
    expect(told.outcome.state).toEqual(DONE);
  });

  it('asks about all jobs of a group in one status call per round, started at different times', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    // Three sites, three backend objects, one cluster.
    const a = watch(poller, new FakeBackend('a', cluster, 'cluster-1'), 'a');
    await vi.advanceTimersByTimeAsync(20);
    const b = watch(poller, new FakeBackend('b', cluster, 'cluster-1'), 'b');
    await vi.advanceTimersByTimeAsync(30);
    const c = watch(poller, new FakeBackend('c', cluster, 'cluster-1'), 'c');
    await vi.advanceTimersByTimeAsync(3000);
    for (const call of cluster.calls) expect(call.jobs).toEqual(['a', 'b', 'c']);
    // Polled together, the jobs fall into one schedule: rounds at 100, 250, 475, 813, then every 400 up to 2813,
    // not a round for each job's own due time.
    expect(cluster.calls).toHaveLength(9);

    cluster.states.set('b', DONE);
    const before = cluster.calls.length;
    await vi.advanceTimersByTimeAsync(400);
    expect(b.outcome.state).toEqual(DONE);
    expect(cluster.calls[before]?.jobs).toEqual(['a', 'b', 'c']);
    await vi.advanceTimersByTimeAsync(1000);
    const after = cluster.calls.slice(before + 1);
    expect(after.length).toBeGreaterThan(0);
    for (const call of after) expect(call.jobs).toEqual(['a', 'c']);
    expect(a.outcome).toEqual({});
    expect(c.outcome).toEqual({});

    cluster.states.set('a', DONE);
    cluster.states.set('c', { state: 'failed', reason: 'NODE_FAIL', raw: 'NODE_FAIL' });
    await vi.advanceTimersByTimeAsync(400);
    expect(a.outcome.state).toEqual(DONE);
    expect(c.outcome.state).toMatchObject({ state: 'failed', reason: 'NODE_FAIL' });
  });

  it('asks each group separately, and a backend without a statusGroup alone', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    watch(poller, new FakeBackend('x1', cluster, 'cluster-x'), 'x1');
    watch(poller, new FakeBackend('x2', cluster, 'cluster-x'), 'x2');
    watch(poller, new FakeBackend('y', cluster, 'cluster-y'), 'y');
    watch(poller, new FakeBackend('lone1', cluster), 'lone1');
    watch(poller, new FakeBackend('lone2', cluster), 'lone2');
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.calls.map((call) => call.jobs).sort()).toEqual([
      ['lone1'],
      ['lone2'],
      ['x1', 'x2'],
      ['y'],
    ]);
    const lone = cluster.calls.find((call) => call.jobs[0] === 'lone2');
    expect(lone?.asked).toBe('lone2');
    // One timer per group while jobs remain.
    expect(vi.getTimerCount()).toBe(4);
  });

  it('drops a finished job from the next call and leaves no timer once the last job has ended', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    const first = watch(poller, new FakeBackend('a', cluster, 'g'), 'a');
    const second = watch(poller, new FakeBackend('b', cluster, 'g'), 'b');
    await vi.advanceTimersByTimeAsync(100);
    cluster.states.set('a', DONE);
    await vi.advanceTimersByTimeAsync(150);
    await first.promise;
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(225);
    expect(cluster.calls.map((call) => call.jobs)).toEqual([['a', 'b'], ['a', 'b'], ['b']]);
    cluster.states.set('b', DONE);
    await vi.advanceTimersByTimeAsync(400);
    await second.promise;
    expect(second.outcome.state).toEqual(DONE);
    expect(vi.getTimerCount()).toBe(0);
    const calls = cluster.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(cluster.calls).toHaveLength(calls);
  });

  it('tells every watcher of the group when status() throws, and keeps polling', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    const down = new Error('CE down');
    cluster.failures = [down, down];
    const watches = ['a', 'b', 'c'].map((id) => watch(poller, new FakeBackend(id, cluster, 'ce'), id));
    await vi.advanceTimersByTimeAsync(100 + 150);
    for (const w of watches) expect(w.unavailable).toEqual([down, down]);
    for (const id of ['a', 'b', 'c']) cluster.states.set(id, DONE);
    await vi.advanceTimersByTimeAsync(225);
    await Promise.all(watches.map((w) => w.promise));
    for (const w of watches) {
      expect(w.outcome.state).toEqual(DONE);
      expect(w.unavailable).toHaveLength(2);
    }
    expect(cluster.calls).toHaveLength(3);
  });

  it('hands every unfinished state to onState, and not the final one', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    const seen: JobState[] = [];
    cluster.states.set('a', { state: 'queued', raw: 'Accepted' });
    const w = watch(poller, new FakeBackend('a', cluster, 'ce'), 'a', {
      onState: (state) => seen.push(state),
    });
    await vi.advanceTimersByTimeAsync(100);
    cluster.states.set('a', RUNNING);
    await vi.advanceTimersByTimeAsync(150);
    cluster.states.set('a', DONE);
    await vi.advanceTimersByTimeAsync(225);
    await w.promise;
    expect(w.outcome.state).toEqual(DONE);
    expect(seen).toEqual([{ state: 'queued', raw: 'Accepted' }, RUNNING]);
  });

  it('cancels a job that shows no end by its timeout plus the grace, and counts it lost', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    const backend = new FakeBackend('a', cluster, 'g');
    backend.cancelFails = true; // a cancel that fails changes nothing
    const late = watch(poller, backend, 'a', { timeoutSeconds: 1, deadlineGraceMs: 500 });
    const patient = watch(poller, new FakeBackend('b', cluster, 'g'), 'b', { timeoutSeconds: 60 });
    await vi.advanceTimersByTimeAsync(1400);
    expect(late.outcome).toEqual({});
    expect(cluster.cancelled).toEqual([]);
    await vi.advanceTimersByTimeAsync(600);
    expect(late.outcome.state).toEqual({
      state: 'lost',
      reason: 'no end seen within the job timeout of 1 s',
      raw: 'deadline',
    });
    expect(cluster.cancelled).toEqual(['a']);
    const calls = cluster.calls.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(cluster.calls.length).toBeGreaterThan(calls);
    for (const call of cluster.calls.slice(calls)) expect(call.jobs).toEqual(['b']);
    expect(patient.outcome).toEqual({});
    expect(cluster.cancelled).toEqual(['a']);
  });

  it('does not count queue time against the job timeout, but gives up on a job queued past the queue limit', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    const QUEUED: JobState = { state: 'queued', raw: 'PENDING' };
    cluster.states.set('waits', QUEUED);
    cluster.states.set('stuck', QUEUED);
    const options = { timeoutSeconds: 1, deadlineGraceMs: 0, queueLimitMs: 10_000 };
    const waits = watch(poller, new FakeBackend('waits', cluster, 'g'), 'waits', options);
    const stuck = watch(poller, new FakeBackend('stuck', cluster, 'g'), 'stuck', options);
    // Queued for 5 s, five times the job timeout: nobody gives up.
    await vi.advanceTimersByTimeAsync(5000);
    expect(waits.outcome).toEqual({});
    expect(stuck.outcome).toEqual({});
    // Running from now on: the 1 s timeout counts from here.
    cluster.states.set('waits', RUNNING);
    await vi.advanceTimersByTimeAsync(400);
    expect(waits.outcome).toEqual({});
    await vi.advanceTimersByTimeAsync(1500);
    expect(waits.outcome.state).toMatchObject({
      state: 'lost',
      reason: 'no end seen within the job timeout of 1 s',
    });
    // Still queued at the queue limit: cancelled and lost, saying why.
    expect(stuck.outcome).toEqual({});
    await vi.advanceTimersByTimeAsync(4000);
    expect(stuck.outcome.state).toMatchObject({
      state: 'lost',
      reason: expect.stringMatching(/still queued/),
    });
    expect(cluster.cancelled).toEqual(['waits', 'stuck']);
  });

  it('wakes a group sleeping long so that a newly added job gets its first poll at its own first delay', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    watch(poller, new FakeBackend('slow', cluster, 'g'), 'slow', {
      pollIntervalMs: { first: 5000, max: 5000 },
    });
    await vi.advanceTimersByTimeAsync(1000);
    watch(poller, new FakeBackend('new', cluster, 'g'), 'new', { pollIntervalMs: { first: 100, max: 5000 } });
    await vi.advanceTimersByTimeAsync(99);
    expect(cluster.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(cluster.calls).toEqual([{ asked: 'slow', jobs: ['slow', 'new'] }]);
  });

  it('keeps a job that joins while a status call is under way, and asks about it in the next round', async () => {
    const cluster = new FakeCluster();
    const poller = new StatusPoller();
    let open = () => {};
    cluster.gate = new Promise((resolve) => {
      open = resolve;
    });
    watch(poller, new FakeBackend('a', cluster, 'g'), 'a');
    await vi.advanceTimersByTimeAsync(100);
    const joiner = watch(poller, new FakeBackend('b', cluster, 'g'), 'b');
    cluster.gate = undefined;
    open();
    cluster.states.set('b', DONE);
    await vi.advanceTimersByTimeAsync(100);
    await joiner.promise;
    expect(joiner.outcome.state).toEqual(DONE);
    expect(cluster.calls.map((call) => call.jobs)).toEqual([['a'], ['a', 'b']]);
  });
});

describe('sites behind one batch system, through the engine', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'gridpkg-poller-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  /** A site's backend on a shared cluster whose submit returns only once every site has submitted. */
  class ClusterSite extends FakeBackend {
    constructor(
      name: string,
      cluster: FakeCluster,
      statusGroup: string | undefined,
      private readonly allSubmitted: () => Promise<void>,
    ) {
      super(name, cluster, statusGroup);
    }
    override async submit(job: JobSubmission): Promise<JobHandle> {
      await this.allSubmitted();
      return super.submit(job);
    }
    override async fetch(job: JobHandle): Promise<JobOutput> {
      return { report: probeReport(job.jobId), stdout: '', stderr: '' };
    }
  }

  /** Probes two sites at once; each job ends after three polls. Returns the sites asked about in each status call. */
  async function probeTwoSites(statusGroup: string | undefined): Promise<string[][]> {
    const cluster = new FakeCluster();
    cluster.pollsUntilDone = 3;
    let submitted = 0;
    let release = () => {};
    const everyone = new Promise<void>((resolve) => {
      release = resolve;
    });
    const allSubmitted = () => {
      if (++submitted === 2) release();
      return everyone;
    };
    const sites = [desired([], 'site-a'), desired([], 'site-b')];
    const backends = new Map(
      sites.map((s) => [s.site, new ClusterSite(s.site, cluster, statusGroup, allSubmitted)]),
    );
    const context: JobContext = {
      backendFor: (site) => backends.get(site.site) as ClusterSite,
      ledger: new Ledger(stateDir),
      observations: new ObservationStore(stateDir),
      queue: new SiteQueue(),
      scriptPath: '/nonexistent/site-job.sh',
      pollIntervalMs: { first: 100, max: 100 },
      deadlineGraceMs: 0,
      progress: () => {},
    };
    const observations = await observeSites(context, sites, { concurrency: 2 });
    expect(observations.map((o) => o.state)).toEqual(['known', 'known']);
    return cluster.calls.map((call) => call.jobs.map((id) => id.replace(/-probe-.*/, '')).sort());
  }

  it('polls the jobs of two sites that share a statusGroup with single status calls holding both', async () => {
    // Each job ends after three polls: together that is three calls about both, not six about one.
    expect(await probeTwoSites('cluster-1')).toEqual([
      ['site-a', 'site-b'],
      ['site-a', 'site-b'],
      ['site-a', 'site-b'],
    ]);
  });

  it('polls sites without a shared statusGroup one job per call', async () => {
    const calls = await probeTwoSites(undefined);
    expect(calls).toHaveLength(6);
    for (const call of calls) expect(call).toHaveLength(1);
  });
});
