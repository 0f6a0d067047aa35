import type { Command } from 'commander';
import { type Diagnostic, formatDiagnostic, loadSpec, SpecError } from '../../spec/index.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';

export interface ValidateOptions {
  file: string;
  json?: boolean;
}

export type Severity = 'error' | 'warning';

/** One entry of `validate --json`'s diagnostics. */
export interface JsonDiagnostic {
  severity: Severity;
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  message: string;
  hint?: string;
}

export interface ValidationResult {
  valid: boolean;
  file: string;
  sites: number;
  requirements: number;
  diagnostics: JsonDiagnostic[];
}

/** Turns `validate --json` into GitHub Actions workflow commands (tested: every field it names exists). */
export const GITHUB_ANNOTATIONS_JQ =
  `jq -r '.diagnostics[] | "::\\(.severity) file=\\(.file),line=\\(.line),col=\\(.column)::\\(.message)` +
  `\\(if .hint then " (hint: \\(.hint))" else "" end)"'`;

export function registerValidateCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  program
    .command('validate')
    .summary('check a spec file without submitting anything')
    .description(
      'Loads the spec with every check that plan and apply make — YAML syntax, duplicate keys, the JSON Schema, ' +
        'resolution — and submits nothing. Prints each problem as file:line:column: message (and a hint) on ' +
        'stderr and a one-line summary. Warnings do not make a spec invalid. Exit 0 valid, 1 invalid.',
    )
    .option('-f, --file <spec>', 'desired-state spec file', 'desired-state.yaml')
    .option(
      '--json',
      'print one JSON document on stdout: { valid, file, sites, requirements, diagnostics: [{ severity, file, ' +
        'line, column, endLine?, endColumn?, message, hint? }] }',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gridpkg validate -f desired-state.yaml\n' +
        '  gridpkg validate --json | jq .diagnostics\n\n' +
        'GitHub Actions annotations (the default bash shell of a step sets -o pipefail, so an invalid spec\n' +
        'still fails the step):\n' +
        `  gridpkg validate --json | ${GITHUB_ANNOTATIONS_JQ}`,
    )
    .action(async (options: ValidateOptions) => setExit(await runValidate(options, io)));
}

export async function validateSpec(file: string): Promise<ValidationResult> {
  try {
    const spec = await loadSpec(file);
    const warnings = 'warnings' in spec ? diagnosticsIn(spec.warnings) : [];
    return {
      valid: true,
      file: spec.file,
      sites: spec.sites.length,
      requirements: spec.sites.reduce((n, site) => n + site.requirements.length, 0),
      diagnostics: warnings.map((d) => toJson(d, 'warning')),
    };
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    const warnings = 'warnings' in error ? diagnosticsIn(error.warnings) : [];
    return {
      valid: false,
      file,
      sites: 0,
      requirements: 0,
      diagnostics: [
        ...error.diagnostics.map((d) => toJson(d, severityOf(d) ?? 'error')),
        ...warnings.map((d) => toJson(d, 'warning')),
      ],
    };
  }
}

export async function runValidate(options: ValidateOptions, io: CliIO): Promise<ExitCodeValue> {
  const result = await validateSpec(options.file);
  if (options.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    for (const d of result.diagnostics) io.err(`${formatText(d)}\n`);
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = result.diagnostics.length - errors;
    const warningNote = warnings > 0 ? `, ${count(warnings, 'warning')}` : '';
    if (result.valid) {
      io.out(
        `${result.file}: valid, ${count(result.sites, 'site')}, ` +
          `${count(result.requirements, 'requirement')}${warningNote}\n`,
      );
    } else {
      io.err(`${result.file}: invalid, ${count(errors, 'error')}${warningNote}\n`);
    }
  }
  return result.valid ? ExitCode.ok : ExitCode.error;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function formatText(d: JsonDiagnostic): string {
  const diagnostic: Diagnostic = {
    file: d.file,
    line: d.line,
    column: d.column,
    message: d.severity === 'warning' ? `warning: ${d.message}` : d.message,
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
  };
  return formatDiagnostic(diagnostic);
}

/** Diagnostics from a field the loader may add (`warnings`), checked at run time. */
function diagnosticsIn(value: unknown): Diagnostic[] {
  return Array.isArray(value) ? value.filter(isDiagnostic) : [];
}

function isDiagnostic(value: unknown): value is Diagnostic {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  return (
    typeof d.file === 'string' &&
    typeof d.line === 'number' &&
    typeof d.column === 'number' &&
    typeof d.message === 'string'
  );
}

function severityOf(d: Diagnostic): Severity | undefined {
  const severity: unknown = (d as unknown as Record<string, unknown>).severity;
  return severity === 'warning' || severity === 'error' ? severity : undefined;
}

function toJson(d: Diagnostic, severity: Severity): JsonDiagnostic {
  const extra = d as unknown as Record<string, unknown>;
  return {
    severity,
    file: d.file,
    line: d.line,
    column: d.column,
    ...(typeof extra.endLine === 'number' ? { endLine: extra.endLine } : {}),
    ...(typeof extra.endColumn === 'number' ? { endColumn: extra.endColumn } : {}),
    message: d.message,
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
  };
}
