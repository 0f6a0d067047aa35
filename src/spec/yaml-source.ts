/** Parses YAML while keeping enough of the document to point back at any value's line and column. */
import { isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import type { SourceLocation } from './types.js';

export type YamlPath = ReadonlyArray<string | number>;

export interface YamlSource {
  file: string;
  value: unknown;
  /** Location of the value at `path`, or of its nearest existing ancestor. */
  locate(path: YamlPath, part?: 'key' | 'value'): SourceLocation;
  /** Location of the character at `offset` inside the one-line string scalar at `path` (quotes skipped). */
  locateWithin(path: YamlPath, offset: number): SourceLocation;
}

export function parseYamlSource(
  text: string,
  file: string,
): { source?: YamlSource; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const problems = [...document.errors, ...document.warnings];
  if (problems.length > 0) {
    const diagnostics = problems.map((problem) => ({
      ...at(problem.pos[0]),
      message: yamlMessage(problem.code, problem.message),
      ...(problem.code === 'DUPLICATE_KEY' ? { hint: 'each key may appear once per mapping' } : {}),
    }));
    return { diagnostics };
  }

  const locate = (path: YamlPath, part: 'key' | 'value' = 'value'): SourceLocation => {
    for (let depth = path.length; depth >= 0; depth--) {
      const prefix = path.slice(0, depth);
      if (part === 'key' && depth === path.length && depth > 0) {
        const parent = prefix.length > 1 ? document.getIn(prefix.slice(0, -1), true) : document.contents;
        const keyOffset = findKeyOffset(parent, prefix[prefix.length - 1]);
        if (keyOffset !== undefined) return at(keyOffset);
      }
      const node = depth === 0 ? document.contents : document.getIn(prefix, true);
      if (isNode(node) && node.range) return at(node.range[0]);
    }
    return { file, line: 1, column: 1 };
  };
  const locateWithin = (path: YamlPath, offset: number): SourceLocation => {
    const node = document.getIn(path, true);
    if (!isScalar(node) || !node.range || typeof node.value !== 'string') return locate(path);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    const start = node.range[0] + (quoted ? 1 : 0);
    const plainOneLine = node.type === 'PLAIN' || quoted;
    return plainOneLine && !text.slice(start, start + offset).includes('\n')
      ? at(start + offset)
      : at(node.range[0]);
  };
  return {
    source: { file, value: document.toJS({ maxAliasCount: 100 }), locate, locateWithin },
    diagnostics: [],
  };
}

function findKeyOffset(collection: unknown, key: string | number | undefined): number | undefined {
  if (!collection || typeof collection !== 'object' || !('items' in collection)) return undefined;
  const items = (collection as { items: unknown[] }).items;
  for (const item of items) {
    if (item && typeof item === 'object' && 'key' in item) {
      const k = (item as { key: unknown }).key;
      if (isNode(k) && 'value' in k && (k as { value: unknown }).value === key && k.range) return k.range[0];
    }
  }
  return undefined;
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  return code === 'DUPLICATE_KEY' ? 'duplicate key' : `YAML syntax error: ${first}`;
}
