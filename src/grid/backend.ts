/** The contract every way of reaching a site implements (local now; ssh, Slurm, ARC and templates later). */

export interface JobSubmission {
  /** Chosen by the controller and recorded in the ledger before submission; unique per job. */
  jobId: string;
  site: string;
  /** Absolute path of the site job script to ship. */
  scriptPath: string;
  /** Text of the request file (already validated by the protocol encoder). */
  request: string;
  timeoutSeconds: number;
}

/** What the controller needs to find a job again, also after a restart. */
export interface JobHandle {
  jobId: string;
  site: string;
  /** The backend's own id (a directory, a Slurm job number, an ARC job URL). */
  backendId: string;
}

export type JobState =
  | { state: 'queued'; raw: string }
  | { state: 'running'; raw: string }
  | { state: 'done'; exitCode: number; raw: string }
  | { state: 'failed'; reason: string; raw: string }
  | { state: 'lost'; reason: string; raw: string };

export type JobOutputName = 'report' | 'stdout' | 'stderr';

export interface JobOutput {
  /** The report file, if the job produced one. */
  report: string | undefined;
  stdout: string;
  stderr: string;
  /**
   * Files that were larger than the read cap and are cut short here. A cut report (or a cut stdout when there is
   * no report file) is never parsed: the site is unknown.
   */
  truncated?: readonly JobOutputName[];
}

export interface GridBackend {
  readonly kind: string;
  /** Grid middleware (ARC, gLite-style templates) needs a valid X.509 proxy: checked before every submission. */
  readonly needsX509Proxy?: boolean;
  /**
   * Backend objects (the controller makes one per site) that return the same statusGroup can answer status() for
   * each other's jobs: the controller then asks about all of their jobs in ONE status call per poll (one squeue per
   * Slurm cluster, one arcstat per CE) instead of one per job. Start the key with the kind (`slurm:...`) so that
   * backends of different kinds never share a group. Undefined: the backend object alone is its group.
   */
  readonly statusGroup?: string;
  /**
   * How often status() is worth asking, in ms: first poll after `first`, then backing off to `max`. Undefined: the
   * controller's default, made for batch systems and CEs (each status call a command or a request).
   */
  readonly pollIntervalMs?: { readonly first: number; readonly max: number };
  submit(job: JobSubmission): Promise<JobHandle>;
  /** Finds a job submitted earlier by its controller-chosen id (re-attaching after a crash), if the backend can. */
  find(site: string, jobId: string): Promise<JobHandle | undefined>;
  /** States of many jobs in one call. */
  status(jobs: readonly JobHandle[]): Promise<Map<string, JobState>>;
  fetch(job: JobHandle): Promise<JobOutput>;
  cancel(job: JobHandle): Promise<void>;
  clean(job: JobHandle): Promise<void>;
  /** Releases what the backend holds open (the ssh backend's shared connection). Optional. */
  close?(): Promise<void>;
}

export function isFinished(state: JobState): boolean {
  return state.state === 'done' || state.state === 'failed' || state.state === 'lost';
}
