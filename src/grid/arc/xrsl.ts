/**
 * The xRSL job description of one gridpkg job on an ARC CE. Every value is either a constant or checked before it
 * gets here; string literals are still quoted the xRSL way (a `"` inside is written `""`) and anything that is not
 * printable ASCII is refused, so no value can end a literal early or add a relation.
 */

/** The files every ARC job ships (the runner runs the site job script; see ../batch-runner.ts). */
export const ARC_INPUT_FILES = ['runner.sh', 'site-job.sh', 'request.txt', 'env', 'shell'] as const;
/** What comes back with arcget besides stdout.txt and stderr.txt. */
export const ARC_OUTPUT_FILES = ['report.txt', 'exit-status'] as const;

export interface XrslJob {
  jobName: string;
  /** Whole minutes; undefined for none. */
  wallTimeMinutes: number | undefined;
  queue: string | undefined;
  memoryMB: number | undefined;
}

export function xrslString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value))
    throw new Error(`xRSL: refusing a value with control characters or non-ASCII`);
  return `"${value.replaceAll('"', '""')}"`;
}

export function buildXrsl(job: XrslJob): string {
  const relation = (name: string, ...values: string[]) => ` (${name}=${values.join(' ')})\n`;
  const files = (names: readonly string[]) => names.map((name) => `(${xrslString(name)} "")`).join('');
  let text = '&\n';
  text += relation('executable', xrslString('runner.sh'));
  text += relation('jobname', xrslString(job.jobName));
  text += ` (inputfiles=${files(ARC_INPUT_FILES)})\n`;
  text += ` (outputfiles=${files(ARC_OUTPUT_FILES)})\n`;
  text += relation('stdout', xrslString('stdout.txt'));
  text += relation('stderr', xrslString('stderr.txt'));
  if (job.wallTimeMinutes !== undefined)
    text += relation('walltime', xrslString(`${job.wallTimeMinutes} minutes`));
  if (job.queue !== undefined) text += relation('queue', xrslString(job.queue));
  if (job.memoryMB !== undefined) text += relation('memory', xrslString(String(job.memoryMB)));
  return text;
}
