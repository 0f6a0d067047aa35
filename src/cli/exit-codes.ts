/** The CLI's exit codes, as documented in the README. */
export const ExitCode = {
  /** Success; in sync. */
  ok: 0,
  /** Error: bad input, a failed or refused job, a blocked plan. */
  error: 1,
  /** Changes pending or drift (plan --detailed-exitcode, drift: some selected site drifted, none unknown). */
  changes: 2,
  /** Some site could not be observed. For drift it wins over 2: an unknown site may hide drift. */
  unknown: 3,
  /** Interrupted by Ctrl-C (SIGINT): 128 + 2, as shells report it. Jobs in flight keep running. */
  interrupted: 130,
  /** Stopped by SIGTERM: 128 + 15. Jobs in flight keep running. */
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
