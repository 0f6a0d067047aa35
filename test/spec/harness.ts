/** Runs a spec given as text (and included files) and formats every diagnostic as `file:line:column message | hint`. */

import type { Diagnostic } from '../../src/spec/index.js';
import { formatDiagnostic, type ParseOptions, parseSpec, SpecError } from '../../src/spec/index.js';

export const TODAY = '2026-11-23';

export function show(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.message}${d.hint ? ` | ${d.hint}` : ''}`;
}

export function outcome(text: string, options: ParseOptions = {}): { errors: string[]; warnings: string[] } {
  try {
    const { warnings } = parseSpec(text, 'spec.yaml', { today: TODAY, ...options });
    return { errors: [], warnings: warnings.map(show) };
  } catch (error) {
    if (error instanceof SpecError) {
      // The message of the error is the diagnostics in the documented format.
      if (error.message !== error.diagnostics.map(formatDiagnostic).join('\n'))
        throw new Error('bad message');
      return { errors: error.diagnostics.map(show), warnings: [] };
    }
    throw error;
  }
}

export function lines(...parts: string[]): string {
  return `${parts.join('\n')}\n`;
}
