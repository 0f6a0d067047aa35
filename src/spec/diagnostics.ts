/** Problems found in a spec file, each pointing at file:line:column. */
import { printable } from '../report/untrusted.js';

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  /** Where the problem ends, when the loader knows (an editor or CI annotation can then mark the whole span). */
  endLine?: number;
  endColumn?: number;
  message: string;
  hint?: string;
}

export class SpecError extends Error {
  readonly diagnostics: Diagnostic[];
  /** Warnings found along with the errors (e.g. an expired ignore rule); not part of the message. */
  readonly warnings: Diagnostic[];

  constructor(diagnostics: Diagnostic[], warnings: Diagnostic[] = []) {
    const safe = diagnostics.map(safeDiagnostic);
    super(safe.map(formatDiagnostic).join('\n'));
    this.name = 'SpecError';
    this.diagnostics = safe;
    this.warnings = warnings.map(safeDiagnostic);
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${printable(d.file)}:${d.line}:${d.column}`;
  const message = printable(d.message);
  return d.hint ? `${where}: ${message}\n  hint: ${printable(d.hint)}` : `${where}: ${message}`;
}

/**
 * Text taken from a spec (a key, a value, a file name) as it may appear inside a message: control and direction
 * characters escaped (a key holding `\n::add-mask::` must not become a line of its own in a terminal or a CI log)
 * and cut at `max` characters, so that a message never carries more than a short excerpt of a file.
 */
export function specText(value: unknown, max = 64): string {
  return printable(typeof value === 'string' ? value : String(value), max);
}

/** A value of the spec shown as JSON in a message (`got ...`): escaped and cut like specText. */
export function specExcerpt(value: unknown, max = 80): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined; // too deep to show
  }
  return printable(json ?? String(value), max);
}

/**
 * A diagnostic whose every text is printable. Messages are built with specText already; this is the fence at the
 * spec loader's edge, so that nothing that leaves it (text, JSON, a CI annotation) can carry a control character.
 */
export function safeDiagnostic(d: Diagnostic): Diagnostic {
  return {
    ...d,
    file: printable(d.file),
    message: printable(d.message),
    ...(d.hint !== undefined ? { hint: printable(d.hint) } : {}),
  };
}
