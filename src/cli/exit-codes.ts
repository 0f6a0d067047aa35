/** The CLI's exit codes, as documented in the README. */
export const ExitCode = {
  /** Success; in sync. */
  ok: 0,
  /** Error: bad input, a failed or refused job, a blocked plan. */
  error: 1,
  /** Changes pending or drift (plan --detailed-exitcode, drift). */
  changes: 2,
  /** Some site could not be observed. */
  unknown: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
