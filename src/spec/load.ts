/**
 * The file edge of the spec: read the root file and every file it includes, parse, validate, resolve.
 * Throws SpecError with every problem found. All files are read first, so resolution stays pure.
 */
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { type Diagnostic, SpecError, safeDiagnostic, specText } from './diagnostics.js';
import { resolveSpec, type SpecDocument } from './resolve.js';
import { checkSchema } from './schema.js';
import { INCLUDE_TREE_HINT, isInsideTree, readSpecFile, SpecReadError } from './spec-file.js';
import type { DesiredState, SourceLocation } from './types.js';
import { parseYamlSource } from './yaml-source.js';

export interface LoadedSpec {
  /** The root spec file, as given. */
  file: string;
  /** The root file's text. */
  text: string;
  sites: DesiredState[];
  /** Problems that do not stop the spec from being used, such as expired ignore rules. */
  warnings: Diagnostic[];
  /** Every file of the spec (the root first, then included files in the order they were found) and its text. */
  files: Array<{ file: string; text: string }>;
}

export interface SpecOptions {
  /** The current date, YYYY-MM-DD, for ignore-rule expiry; default: today (UTC). */
  today?: string;
}

export interface ParseOptions extends SpecOptions {
  /** Texts of included files by their name as messages show it (the include path joined to the includer's dir). */
  includes?: Record<string, string>;
}

/**
 * Reads and resolves the spec at `file`. Every file is read with a size cap and a type check, and includes must
 * stay in the root file's directory tree (see spec-file.ts); a file that cannot be read is a located diagnostic.
 */
export async function loadSpec(file: string, options: SpecOptions = {}): Promise<LoadedSpec> {
  let text: string;
  let tree: string;
  try {
    text = await readSpecFile(file);
    tree = await realpath(dirname(resolve(file)));
  } catch (error) {
    const { reason, hint } = readFailure(error);
    throw new SpecError([
      {
        file,
        line: 1,
        column: 1,
        message: `cannot read the spec: ${reason}`,
        hint: hint ?? 'pass the spec with -f FILE',
      },
    ]);
  }
  const files = new SpecFiles(file, text);
  for (let next = files.pending(); next.length > 0; next = files.pending()) {
    await Promise.all(
      next.map(async (included) => {
        try {
          files.add(included, await readSpecFile(included, { tree }));
        } catch (error) {
          files.fail(included, readFailure(error));
        }
      }),
    );
  }
  return { file, text, ...files.resolve(options.today ?? today()) };
}

/** Parses, validates and resolves a spec given as text; included files come from `options.includes`. */
export function parseSpec(
  text: string,
  file: string,
  options: ParseOptions = {},
): Omit<LoadedSpec, 'file' | 'text'> {
  const files = new SpecFiles(file, text);
  for (let next = files.pending(); next.length > 0; next = files.pending()) {
    for (const included of next) {
      const includedText = options.includes?.[included];
      if (includedText === undefined) files.fail(included, { reason: 'no such file' });
      else files.add(included, includedText);
    }
  }
  return files.resolve(options.today ?? today());
}

export function parseSpecText(text: string, file: string, options: ParseOptions = {}): DesiredState[] {
  return parseSpec(text, file, options).sites;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

interface ReadFailure {
  reason: string;
  hint?: string;
}

function readFailure(error: unknown): ReadFailure {
  if (error instanceof SpecReadError)
    return { reason: error.reason, ...(error.hint ? { hint: error.hint } : {}) };
  return { reason: error instanceof Error ? error.message : String(error) };
}

interface Edge {
  to: string;
  location: SourceLocation;
}

interface FileEntry {
  file: string;
  text?: string;
  document?: SpecDocument;
  error?: ReadFailure;
  edges: Edge[];
}

/** The files of one spec, keyed by absolute path, found by following `include` from the root. */
class SpecFiles {
  private readonly entries = new Map<string, FileEntry>();
  private readonly waiting: string[] = [];
  private readonly diagnostics: Diagnostic[] = [];
  private readonly rootId: string;
  /** The root file's directory: includes must stay in its tree. */
  private readonly tree: string;
  private readonly rootFile: string;

  constructor(file: string, text: string) {
    this.rootId = resolve(file);
    this.tree = dirname(this.rootId);
    this.rootFile = file;
    this.entries.set(this.rootId, { file, edges: [] });
    this.add(file, text);
  }

  pending(): string[] {
    return this.waiting.splice(0);
  }

  add(file: string, text: string): void {
    const entry = this.entry(file);
    entry.text = text;
    const parsed = parseYamlSource(text, file);
    if (!parsed.source) {
      this.diagnostics.push(...parsed.diagnostics);
      return;
    }
    const checked = checkSchema(parsed.source);
    if (!checked.spec) {
      this.diagnostics.push(...checked.diagnostics);
      return;
    }
    entry.document = { file, dir: dirname(resolve(file)), spec: checked.spec, source: parsed.source };
    const source = parsed.source;
    (checked.spec.include ?? []).forEach((path, index) => {
      const included = isAbsolute(path) ? normalize(path) : join(dirname(file), path);
      const id = resolve(included);
      if (!isInsideTree(id, this.tree)) {
        this.diagnostics.push({
          ...source.locate(['include', index]),
          message: `include "${specText(path)}" is outside the directory of ${specText(this.rootFile, 200)}, the root spec`,
          hint: INCLUDE_TREE_HINT,
        });
        return;
      }
      entry.edges.push({ to: id, location: source.locate(['include', index]) });
      if (!this.entries.has(id)) {
        this.entries.set(id, { file: included, edges: [] });
        this.waiting.push(included);
      }
    });
  }

  fail(file: string, failure: ReadFailure): void {
    this.entry(file).error = failure;
  }

  private entry(file: string): FileEntry {
    const entry = this.entries.get(resolve(file));
    if (!entry) throw new Error(`internal error: ${file} was not asked for`);
    return entry;
  }

  resolve(today: string): Omit<LoadedSpec, 'file' | 'text'> {
    const diagnostics = [...this.diagnostics];
    // Depth-first from the root: an included file's documents come before the including file's (post-order),
    // so that a later selection, which overrides an earlier one, is the including file's.
    const order: SpecDocument[] = [];
    const done = new Set<string>();
    const stack: string[] = [];
    const visit = (id: string) => {
      const entry = this.entries.get(id) as FileEntry;
      stack.push(id);
      for (const edge of entry.edges) {
        const target = this.entries.get(edge.to) as FileEntry;
        const cycleStart = stack.indexOf(edge.to);
        if (cycleStart >= 0) {
          const cycle = [...stack.slice(cycleStart), edge.to]
            .map((f) => this.entries.get(f)?.file)
            .join(' -> ');
          diagnostics.push({
            ...edge.location,
            message: `include cycle: ${cycle}`,
            hint: 'a file cannot include itself, directly or through other files; remove one include',
          });
        } else if (target.error !== undefined) {
          diagnostics.push({
            ...edge.location,
            message: `cannot read included file ${target.file}: ${target.error.reason}`,
            hint: target.error.hint ?? 'include paths are relative to the including file',
          });
        } else if (!done.has(edge.to)) {
          visit(edge.to);
        }
      }
      stack.pop();
      done.add(id);
      if (entry.document) order.push(entry.document);
    };
    visit(this.rootId);
    if (diagnostics.length > 0) throw new SpecError(diagnostics);
    const resolved = resolveSpec(order, { today });
    if (resolved.diagnostics.length > 0) throw new SpecError(resolved.diagnostics, resolved.warnings);
    const files = [...this.entries.values()].flatMap((e) =>
      e.text === undefined ? [] : [{ file: e.file, text: e.text }],
    );
    return { sites: resolved.sites, warnings: resolved.warnings.map(safeDiagnostic), files };
  }
}
