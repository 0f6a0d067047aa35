import { type Command, Option } from 'commander';
import { printable } from '../../report/untrusted.js';
import { type Diagnostic, formatDiagnostic, loadSpec, SpecError } from '../../spec/index.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';

export type ValidateFormat = 'text' | 'json' | 'github';

export interface ValidateOptions {
  file: string;
  json?: boolean;
  format?: ValidateFormat;
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
        'stderr and a one-line summary. Warnings do not make a spec invalid. Text taken from the spec is shown ' +
        'with control characters escaped, in every format. Exit 0 valid, 1 invalid.',
    )
    .option('-f, --file <spec>', 'desired-state spec file', 'desired-state.yaml')
    .option(
      '--json',
      'print one JSON document on stdout: { valid, file, sites, requirements, diagnostics: [{ severity, file, ' +
        'line, column, endLine?, endColumn?, message, hint? }] } (same as --format json)',
    )
    .addOption(
      new Option(
        '--format <format>',
        'text (default), json, or github: one GitHub Actions ::error/::warning workflow command per problem ' +
          'on stdout, then the summary',
      )
        .choices(['text', 'json', 'github'])
        .conflicts('json'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gridpkg validate -f desired-state.yaml\n' +
        '  gridpkg validate --json | jq .diagnostics\n' +
        '  gridpkg validate --format github    # in a GitHub Actions step: annotations on the spec lines',
    )
    .action(async (options: ValidateOptions) => setExit(await runValidate(options, io)));
}

export async function validateSpec(file: string): Promise<ValidationResult> {
  try {
    const spec = await loadSpec(file);
    const warnings = spec.warnings;
    return {
      valid: true,
      file: printable(spec.file),
      sites: spec.sites.length,
      requirements: spec.sites.reduce((n, site) => n + site.requirements.length, 0),
      diagnostics: warnings.map((d) => toJson(d, 'warning')),
    };
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    const warnings = error.warnings;
    return {
      valid: false,
      file: printable(file),
      sites: 0,
      requirements: 0,
      diagnostics: [
        ...error.diagnostics.map((d) => toJson(d, 'error')),
        ...warnings.map((d) => toJson(d, 'warning')),
      ],
    };
  }
}

export async function runValidate(options: ValidateOptions, io: CliIO): Promise<ExitCodeValue> {
  const result = await validateSpec(options.file);
  const format = options.json ? 'json' : (options.format ?? 'text');
  if (format === 'json') {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
  } else if (format === 'github') {
    for (const d of result.diagnostics) io.out(`${githubAnnotation(d)}\n`);
    // Never a line of its own starting with "::": only the annotations above are workflow commands.
    io.out(`gridpkg validate: ${summary(result)}\n`);
  } else {
    for (const d of result.diagnostics) io.err(`${formatText(d)}\n`);
    if (result.valid) io.out(`${summary(result)}\n`);
    else io.err(`${summary(result)}\n`);
  }
  return result.valid ? ExitCode.ok : ExitCode.error;
}

function summary(result: ValidationResult): string {
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.length - errors;
  const warningNote = warnings > 0 ? `, ${count(warnings, 'warning')}` : '';
  const file = printable(result.file);
  return result.valid
    ? `${file}: valid, ${count(result.sites, 'site')}, ${count(result.requirements, 'requirement')}${warningNote}`
    : `${file}: invalid, ${count(errors, 'error')}${warningNote}`;
}

/**
 * A GitHub Actions workflow command for one diagnostic (`::error file=F,line=L,col=C::message (hint: ...)`), with
 * the runner's own escaping (https://github.com/actions/toolkit, core/src/command.ts): `%`, CR and LF in the
 * message; also `:` and `,` in properties. Text from the spec is already printable, so it cannot end the line.
 */
export function githubAnnotation(d: JsonDiagnostic): string {
  const properties = [
    `file=${escapeProperty(d.file)}`,
    `line=${d.line}`,
    `col=${d.column}`,
    ...(d.endLine !== undefined ? [`endLine=${d.endLine}`] : []),
    ...(d.endColumn !== undefined ? [`endColumn=${d.endColumn}`] : []),
  ];
  const text = d.hint !== undefined ? `${d.message} (hint: ${d.hint})` : d.message;
  return `::${d.severity} ${properties.join(',')}::${escapeData(printable(text))}`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(printable(text)).replace(/:/g, '%3A').replace(/,/g, '%2C');
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

/** A diagnostic for output; its texts made printable once more (the loader does it too), so that every format is safe. */
function toJson(d: Diagnostic, severity: Severity): JsonDiagnostic {
  return {
    severity,
    file: printable(d.file),
    line: d.line,
    column: d.column,
    ...(d.endLine !== undefined ? { endLine: d.endLine } : {}),
    ...(d.endColumn !== undefined ? { endColumn: d.endColumn } : {}),
    message: printable(d.message),
    ...(d.hint !== undefined ? { hint: printable(d.hint) } : {}),
  };
}
