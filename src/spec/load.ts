/** The file edge of the spec: read, parse, validate, resolve. Throws SpecError with every problem found. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SpecError } from './diagnostics.js';
import { resolveSpec } from './resolve.js';
import { checkSchema } from './schema.js';
import type { DesiredState } from './types.js';
import { parseYamlSource } from './yaml-source.js';

export interface LoadedSpec {
  file: string;
  text: string;
  sites: DesiredState[];
}

export async function loadSpec(file: string): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new SpecError([
      {
        file,
        line: 1,
        column: 1,
        message: `cannot read the spec: ${reason}`,
        hint: 'pass the spec with -f FILE',
      },
    ]);
  }
  return { file, text, sites: parseSpecText(text, file) };
}

export function parseSpecText(text: string, file: string): DesiredState[] {
  const parsed = parseYamlSource(text, file);
  if (!parsed.source) throw new SpecError(parsed.diagnostics);
  const checked = checkSchema(parsed.source);
  if (!checked.spec) throw new SpecError(checked.diagnostics);
  const resolved = resolveSpec(checked.spec, {
    specDir: dirname(resolve(file)),
    locate: parsed.source.locate,
  });
  if (resolved.diagnostics.length > 0) throw new SpecError(resolved.diagnostics);
  return resolved.sites;
}
