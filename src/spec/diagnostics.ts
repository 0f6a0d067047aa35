/** Problems found in a spec file, each pointing at file:line:column. */

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
  hint?: string;
}

export class SpecError extends Error {
  readonly diagnostics: Diagnostic[];
  /** Warnings found along with the errors (e.g. an expired ignore rule); not part of the message. */
  readonly warnings: Diagnostic[];

  constructor(diagnostics: Diagnostic[], warnings: Diagnostic[] = []) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'SpecError';
    this.diagnostics = diagnostics;
    this.warnings = warnings;
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}`;
  return d.hint ? `${where}: ${d.message}\n  hint: ${d.hint}` : `${where}: ${d.message}`;
}
