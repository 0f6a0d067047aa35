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

  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'SpecError';
    this.diagnostics = diagnostics;
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}`;
  return d.hint ? `${where}: ${d.message}\n  hint: ${d.hint}` : `${where}: ${d.message}`;
}
