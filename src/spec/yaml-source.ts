/** Parses YAML while keeping enough of the document to point back at any value's line and column. */
import {
  type Alias,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  visit,
} from 'yaml';
import { type Diagnostic, specText } from './diagnostics.js';
import type { SourceLocation } from './types.js';

export type YamlPath = ReadonlyArray<string | number>;

/**
 * How many nodes (scalars, mappings, lists, pairs) one file may stand for once every alias is expanded. A spec
 * file of the size cap (1 MiB) written out without aliases has fewer than this, so aliases and merge keys can
 * share a backend or defaults among thousands of sites, but an alias bomb (aliases of aliases of aliases, as in
 * "billion laughs") is refused before anything walks the expanded tree.
 */
export const MAX_EXPANDED_NODES = 1_000_000;

export interface YamlSource {
  file: string;
  value: unknown;
  /** Location of the value at `path`, or of its nearest existing ancestor; merge keys (`<<`) are followed. */
  locate(path: YamlPath, part?: 'key' | 'value'): SourceLocation;
  /** Location of the character at `offset` inside the one-line string scalar at `path` (quotes skipped). */
  locateWithin(path: YamlPath, offset: number): SourceLocation;
}

export function parseYamlSource(
  text: string,
  file: string,
): { source?: YamlSource; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  let document: Document.Parsed;
  try {
    // merge: YAML 1.1 merge keys (`<<: *defaults`), which many YAML users expect from other tools.
    document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true });
  } catch (error) {
    return { diagnostics: [{ file, line: 1, column: 1, message: yamlMessage('', errorText(error)) }] };
  }
  const problems = [...document.errors, ...document.warnings];
  if (problems.length > 0) {
    const diagnostics = problems.map((problem) => ({
      ...at(problem.pos[0]),
      message: yamlMessage(problem.code, problem.message),
      ...(problem.code === 'DUPLICATE_KEY' ? { hint: 'each key may appear once per mapping' } : {}),
    }));
    return { diagnostics };
  }

  let aliases: Map<Alias, Node | undefined>;
  let value: unknown;
  try {
    aliases = resolveAliases(document);
    const aliasProblems = checkAliases(document, aliases);
    if (aliasProblems.length > 0) {
      return { diagnostics: aliasProblems.map(({ offset, ...problem }) => ({ ...at(offset), ...problem })) };
    }
    // Aliases are bounded above; the library's own count is a second fence at the same height.
    value = document.toJS({ maxAliasCount: MAX_EXPANDED_NODES });
  } catch (error) {
    // Not expected after checkAliases (a nesting too deep to walk, say): a spec error all the same, never a trace.
    return { diagnostics: [{ ...at(0), message: yamlMessage('', errorText(error)) }] };
  }

  /** The nodes along `path` as far as it exists (index 0 is the document's root); stops at an alias. */
  const trail = (path: YamlPath): Array<{ node: Node; key?: Node }> => {
    const found: Array<{ node: Node; key?: Node }> = [];
    const root: unknown = document.contents;
    if (!isNode(root)) return found;
    let node: Node = root;
    found.push({ node });
    for (const step of path) {
      if (isAlias(node)) break;
      const next = child(node, step, aliases);
      if (!next) break;
      found.push(next);
      node = next.node;
    }
    return found;
  };
  const locate = (path: YamlPath, part: 'key' | 'value' = 'value'): SourceLocation => {
    const nodes = trail(path);
    const last = nodes[nodes.length - 1];
    if (part === 'key' && path.length > 0 && nodes.length === path.length + 1 && last?.key?.range) {
      return at(last.key.range[0]);
    }
    for (let depth = nodes.length - 1; depth >= 0; depth--) {
      const { node, key } = nodes[depth] as { node: Node; key?: Node };
      // `key:` with nothing after it has an empty value node: its key says where it is.
      const empty = isScalar(node) && node.value === null && node.range && node.range[0] === node.range[1];
      if (empty && key?.range) return at(key.range[0]);
      if (node.range) return at(node.range[0]);
    }
    return { file, line: 1, column: 1 };
  };
  const locateWithin = (path: YamlPath, offset: number): SourceLocation => {
    const nodes = trail(path);
    const node = nodes.length === path.length + 1 ? nodes[nodes.length - 1]?.node : undefined;
    if (!isScalar(node) || !node.range || typeof node.value !== 'string') return locate(path);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    const start = node.range[0] + (quoted ? 1 : 0);
    const plainOneLine = node.type === 'PLAIN' || quoted;
    return plainOneLine && !text.slice(start, start + offset).includes('\n')
      ? at(start + offset)
      : at(node.range[0]);
  };
  return { source: { file, value, locate, locateWithin }, diagnostics: [] };
}

/** Each alias's anchored node: the last node with that anchor before the alias, in document order (as YAML says). */
function resolveAliases(document: Document.Parsed): Map<Alias, Node | undefined> {
  const anchors = new Map<string, Node>();
  const aliases = new Map<Alias, Node | undefined>();
  visit(document, {
    Node: (_key, node) => {
      if (isAlias(node)) aliases.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return aliases;
}

type Problem = { offset: number; message: string; hint: string };

/**
 * What the library would only find while building the value (and report without a place, or not at all): aliases
 * without an anchor, merge keys (`<<`) whose value is not a mapping, an alias inside the node it names, and
 * aliases that expand to more than MAX_EXPANDED_NODES values.
 */
function checkAliases(document: Document.Parsed, aliases: Map<Alias, Node | undefined>): Problem[] {
  const problems: Problem[] = [];
  for (const [alias, source] of aliases) {
    if (source) continue;
    problems.push({
      offset: alias.range?.[0] ?? 0,
      message: `alias *${specText(alias.source)} has no anchor before it`,
      hint: `define the anchor (&${specText(alias.source)}) on a value above the alias`,
    });
  }
  visit(document, {
    Pair: (_key, pair) => {
      if (!isMergeKey(pair)) return;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      const bad = sources.find((source) => !isMap(isAlias(source) ? aliases.get(source) : source));
      if (bad === undefined || (isAlias(bad) && !aliases.get(bad))) return; // no anchor: reported above
      problems.push({
        offset:
          (isNode(bad) ? bad.range?.[0] : undefined) ?? (isNode(pair.key) ? pair.key.range?.[0] : 0) ?? 0,
        message: 'a merge key (<<) must be given a mapping, an alias of one, or a list of them',
        hint: 'write <<: *anchor, where &anchor is on a mapping',
      });
    },
  });
  if (problems.length > 0) return problems.sort((a, b) => a.offset - b.offset);
  const expansion = checkExpansion(document, aliases);
  return expansion ? [expansion] : [];
}

/**
 * Counts the values the document stands for with every alias expanded, without expanding anything (each anchored
 * node is counted once and its size reused). A problem when the count exceeds MAX_EXPANDED_NODES (placed at the
 * alias that expands the most) or an alias refers to a node that contains it.
 */
function checkExpansion(
  document: Document.Parsed,
  aliases: Map<Alias, Node | undefined>,
): Problem | undefined {
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  let cycle: Alias | undefined;
  let largest: { alias: Alias; size: number } | undefined;
  const cap = MAX_EXPANDED_NODES + 1; // sizes saturate here: an alias bomb's true size does not fit in a number
  const sizeOf = (node: unknown): number => {
    if (isAlias(node)) {
      const source = aliases.get(node);
      if (!source) return 1;
      if (open.has(source)) {
        cycle ??= node;
        return 1;
      }
      const size = sizeOf(source);
      if (!largest || size > largest.size) largest = { alias: node, size };
      return size;
    }
    if (isPair(node)) return Math.min(cap, 1 + sizeOf(node.key) + sizeOf(node.value));
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    open.add(node);
    let size = 1;
    for (const item of node.items) size = Math.min(cap, size + sizeOf(item));
    open.delete(node);
    sizes.set(node, size);
    return size;
  };
  const total = sizeOf(document.contents);
  if (cycle) {
    return {
      offset: cycle.range?.[0] ?? 0,
      message: `alias *${specText(cycle.source)} refers to a value that contains it`,
      hint: 'an alias cannot repeat the value it is part of',
    };
  }
  if (total > MAX_EXPANDED_NODES) {
    return {
      offset: largest?.alias.range?.[0] ?? 0,
      message: `the aliases in this file expand to more than ${MAX_EXPANDED_NODES.toLocaleString('en')} values`,
      hint:
        'aliases of aliases multiply (an alias bomb); share values with fewer levels of aliases, ' +
        'or with sets and defaults',
    };
  }
  return undefined;
}

/** The value under `step` in a mapping (explicit keys first, then merge-key sources in order) or a list. */
function child(
  node: Node,
  step: string | number,
  aliases: Map<Alias, Node | undefined>,
  seen: Set<Node> = new Set(),
): { node: Node; key?: Node } | undefined {
  if (isSeq(node)) {
    const item = typeof step === 'number' ? node.items[step] : undefined;
    return isNode(item) ? { node: item } : undefined;
  }
  if (!isMap(node) || seen.has(node)) return undefined;
  seen.add(node);
  const pairs = node.items as Pair[];
  const explicit = pairs.find((pair) => !isMergeKey(pair) && keyOf(pair) === String(step));
  if (explicit) {
    const key = isNode(explicit.key) ? explicit.key : undefined;
    const value = isNode(explicit.value) ? explicit.value : key;
    return value ? { node: value, ...(key ? { key } : {}) } : undefined;
  }
  for (const pair of pairs.filter(isMergeKey)) {
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const map = isAlias(source) ? aliases.get(source) : source;
      const found = isNode(map) ? child(map, step, aliases, seen) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

function isMergeKey(pair: Pair): boolean {
  return isScalar(pair.key) && typeof pair.key.value === 'symbol' && pair.key.value.description === '<<';
}

function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The library's message, first line only and made printable (some messages quote the offending source). */
function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  return code === 'DUPLICATE_KEY' ? 'duplicate key' : `YAML syntax error: ${specText(first, 200)}`;
}
