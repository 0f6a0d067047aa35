/**
 * The reverse of resolution, for `gridpkg import`: what a site holds becomes spec text, like `pkg_chk -g` or
 * `pkgin export`. Pure: an observation and spec text in, spec text out; no I/O.
 *
 * Only user-installed packages are exported, by PKGPATH: packages pkg_add installed as dependencies (automatic) come
 * back with whatever requires them, and the packages of the pkgsrc bootstrap belong to pkgsrc itself.
 */
import { diffLines } from 'diff';
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  parseDocument,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { InstalledPackage } from '../grid/protocol/types.js';
import { isBootstrapPackage, isValidPattern, isValidPkgPath, parsePkgName } from '../pkgsrc/index.js';
import type { KnownObservation } from '../reconcile/observation.js';
import { MAX_EXPANDED_NODES } from './yaml-source.js';

/** One spec entry: a bare PKGPATH, or a PKGPATH with a pattern (`--pin`). */
export type ExportEntry = string | { pkgpath: string; pattern: string };

export interface ExportedPackage {
  pkgpath: string;
  /** The installed packages of this PKGPATH (more than one for PYTHON_VERSION-style variants). */
  pkgnames: string[];
  entry: ExportEntry;
}

export interface SpecFragment {
  site: string;
  observedAt: string;
  jobId: string;
  /** User-installed packages, sorted by PKGPATH, one per PKGPATH. */
  packages: ExportedPackage[];
  /** User-installed packages that record no PKGPATH: they cannot be managed by PKGPATH. */
  withoutPkgpath: string[];
  /** Bootstrap packages that were left out. */
  bootstrap: string[];
  /** How many automatic packages (dependencies) were left out. */
  automatic: number;
  /** Things the user should know, one sentence each. */
  warnings: string[];
}

export interface ExportOptions {
  /** Emit `{ pkgpath, pattern: base>=installed-version }` instead of a bare PKGPATH. */
  pin?: boolean;
}

export function fragmentFromObservation(
  observation: KnownObservation,
  options: ExportOptions = {},
): SpecFragment {
  const bootstrap: string[] = [];
  const withoutPkgpath: string[] = [];
  const warnings: string[] = [];
  const byPath = new Map<string, InstalledPackage[]>();
  let automatic = 0;
  for (const pkg of observation.installed) {
    if (isBootstrapPackage(pkg)) bootstrap.push(pkg.pkgname);
    else if (pkg.automatic) automatic++;
    else if (pkg.pkgpath === undefined || !isValidPkgPath(pkg.pkgpath)) withoutPkgpath.push(pkg.pkgname);
    else byPath.set(pkg.pkgpath, [...(byPath.get(pkg.pkgpath) ?? []), pkg]);
  }
  for (const pkgname of withoutPkgpath) {
    warnings.push(
      `${pkgname} on ${observation.site} records no PKGPATH, so gridpkg cannot manage it; ` +
        'it is listed as a comment (reinstall it from a package built by pkgsrc to manage it)',
    );
  }
  const packages = [...byPath.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([pkgpath, installed]): ExportedPackage => {
      const pkgnames = installed.map((p) => p.pkgname).sort();
      if (!options.pin) return { pkgpath, pkgnames, entry: pkgpath };
      const pattern = pinPattern(installed);
      if (pattern === undefined) {
        warnings.push(
          `${pkgpath} is installed as ${pkgnames.join(', ')} on ${observation.site}; ` +
            'one pattern cannot pin them all, so it is not pinned',
        );
        return { pkgpath, pkgnames, entry: pkgpath };
      }
      return { pkgpath, pkgnames, entry: { pkgpath, pattern } };
    });
  return {
    site: observation.site,
    observedAt: observation.observedAt,
    jobId: observation.jobId,
    packages,
    withoutPkgpath: withoutPkgpath.sort(),
    bootstrap: bootstrap.sort(),
    automatic,
    warnings,
  };
}

/** `base>=version` of the one installed package, or undefined when there is not exactly one. */
function pinPattern(installed: InstalledPackage[]): string | undefined {
  const [only] = installed;
  if (installed.length !== 1 || !only) return undefined;
  try {
    const { base, version } = parsePkgName(only.pkgname);
    const pattern = `${base}>=${version}`;
    return isValidPattern(pattern) ? pattern : undefined;
  } catch {
    return undefined;
  }
}

/** Comment lines (without `#`) that say where a fragment comes from and what was left out. */
export function fragmentHeader(fragment: SpecFragment): string[] {
  const lines = [
    `${fragment.site}: user-installed packages as observed ${fragment.observedAt} (job ${fragment.jobId}).`,
  ];
  if (fragment.automatic > 0) {
    lines.push(`Left out: ${fragment.automatic} package(s) installed automatically as dependencies.`);
  }
  if (fragment.bootstrap.length > 0) {
    lines.push(`Left out, part of the pkgsrc bootstrap: ${fragment.bootstrap.join(', ')}.`);
  }
  return lines;
}

/** The fragments as one YAML document: `sites: NAME: packages: [...]`, with header comments. */
export function renderFragments(fragments: readonly SpecFragment[], generatedBy: string): string {
  const sites = Object.fromEntries(
    fragments.map((f) => [f.site, { packages: f.packages.map((p) => p.entry) }]),
  );
  const doc = parseDocument('sites: {}\n');
  doc.set('sites', doc.createNode(sites));
  const sitesNode = doc.get('sites', true);
  doc.commentBefore = ` ${generatedBy}`;
  if (isMap(sitesNode)) {
    sitesNode.flow = false;
    for (const pair of sitesNode.items) {
      const fragment = fragments.find((f) => f.site === String((pair.key as { value: unknown }).value));
      if (!fragment) continue;
      (pair.key as { commentBefore?: string }).commentBefore = fragmentHeader(fragment)
        .map((l) => ` ${l}`)
        .join('\n');
      const packages = isMap(pair.value) ? pair.value.get('packages', true) : undefined;
      if (isSeq(packages)) {
        packages.flow = fragment.packages.length === 0;
        if (fragment.withoutPkgpath.length > 0) {
          packages.comment = fragment.withoutPkgpath
            .map((n) => ` ${n}: records no PKGPATH, cannot be managed by PKGPATH`)
            .join('\n');
        }
      }
    }
  }
  return doc.toString({ lineWidth: 0 });
}

export type MergeResult =
  | {
      ok: true;
      text: string;
      added: ExportEntry[];
      /** true when only lines of the site's package list changed; false when the file was re-serialized. */
      preservedLayout: boolean;
    }
  | { ok: false; reason: string; hint: string };

/**
 * Adds `entries` to `sites.SITE.packages` of the spec text. The caller has left out entries the spec already
 * requires. The rest of the file keeps its comments and layout: the edit is made with the yaml Document API, and
 * only the lines it changed are carried over into the original text.
 */
export function mergeIntoSpecText(
  text: string,
  site: string,
  entries: readonly ExportEntry[],
  comment?: string,
): MergeResult {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) {
    return { ok: false, reason: 'the spec is not valid YAML', hint: 'run gridpkg validate' };
  }
  const sites = doc.get('sites', true);
  if (!isMap(sites)) {
    return { ok: false, reason: 'the spec has no sites mapping', hint: 'run gridpkg validate' };
  }
  const siteNode = sites.get(site, true);
  if (!sites.has(site)) {
    return {
      ok: false,
      reason: `site ${site} is not in this file's sites`,
      hint:
        `a new site entry needs at least softwareArea and backend, which an observation does not record; ` +
        `add "${site}:" with them under sites (or to the file that defines it), then import again`,
    };
  }
  if (entries.length === 0) return { ok: true, text, added: [], preservedLayout: true };
  let siteMap: YAMLMap;
  if (isMap(siteNode)) {
    siteMap = siteNode;
  } else if (siteNode === null || siteNode === undefined || isEmptyScalar(siteNode)) {
    siteMap = doc.createNode({}) as YAMLMap;
    sites.set(site, siteMap);
  } else {
    return {
      ok: false,
      reason: `sites.${site} is not a mapping`,
      hint: 'run gridpkg validate',
    };
  }
  const shared = sharedPackages(siteMap, site);
  if (shared) return { ok: false, ...shared };
  if (siteMap.flow && siteMap.items.length === 0) siteMap.flow = false;
  const nodes = entries.map((entry) => doc.createNode(entry));
  const first = nodes[0];
  if (comment && first) first.commentBefore = ` ${comment}`;
  const existing = siteMap.get('packages', true);
  if (isSeq(existing)) {
    for (const node of nodes) existing.add(node);
  } else if (existing === undefined || existing === null || isEmptyScalar(existing)) {
    const seq = doc.createNode([]) as YAMLSeq;
    seq.flow = false;
    for (const node of nodes) seq.add(node);
    siteMap.set('packages', seq);
  } else {
    return { ok: false, reason: `sites.${site}.packages is not a list`, hint: 'run gridpkg validate' };
  }
  const edited = doc.toString({ lineWidth: 0 });
  const spliced = carryOverEdits(text, edited);
  if (spliced !== undefined) return { ok: true, text: spliced, added: [...entries], preservedLayout: true };
  return { ok: true, text: edited, added: [...entries], preservedLayout: false };
}

/**
 * Anchors, aliases and merge keys share one list among several places: adding to it, or giving a site that merges
 * its packages (`<<: *common`) a list of its own, would change other sites or drop merged packages. Say so instead.
 */
function sharedPackages(siteMap: YAMLMap, site: string): { reason: string; hint: string } | undefined {
  const hint = 'add the packages to the spec by hand (gridpkg import without --write prints them)';
  if (siteMap.anchor) {
    return { reason: `sites.${site} has an anchor (&${siteMap.anchor}) that other entries may share`, hint };
  }
  const packages = siteMap.get('packages', true);
  if (isNode(packages) && (packages.anchor || isAlias(packages))) {
    return { reason: `sites.${site}.packages is shared through an anchor or alias`, hint };
  }
  const merges = siteMap.items.some((pair) => isScalar(pair.key) && pair.key.value === '<<');
  if (merges && packages === undefined) {
    return { reason: `sites.${site} takes keys from a merge key (<<), which may hold its packages`, hint };
  }
  return undefined;
}

function isEmptyScalar(node: unknown): boolean {
  return typeof node === 'object' && node !== null && 'value' in node && node.value === null;
}

/**
 * The yaml library re-serializes the whole document, normalizing some layout (padding inside flow collections, a
 * comment after `key:` moved to the next line). So diff the edited text against an unedited round trip of the
 * original, and apply those changes to the original text itself, anchored on the lines the round trip left as they
 * were. Undefined when an edit cannot be anchored or the result does not hold the edited data.
 */
function carryOverEdits(original: string, edited: string): string | undefined {
  const baseline = parseDocument(original).toString({ lineWidth: 0 });
  if (baseline === original) return edited;
  const originalLines = splitLines(original);
  const baselineLines = splitLines(baseline);
  // Baseline line index -> original line index, for the lines both share.
  const toOriginal = new Map<number, number>();
  let b = 0;
  let o = 0;
  for (const change of diffLines(baseline, original)) {
    const n = splitLines(change.value).length;
    if (change.added) o += n;
    else if (change.removed) b += n;
    else {
      for (let i = 0; i < n; i++) toOriginal.set(b + i, o + i);
      b += n;
      o += n;
    }
  }
  // The edits in baseline coordinates: remove `remove` lines at `at`, insert `insert` there.
  const edits: { at: number; remove: number; insert: string[] }[] = [];
  b = 0;
  for (const change of diffLines(baseline, edited)) {
    const lines = splitLines(change.value);
    const last = edits[edits.length - 1];
    if (change.added) {
      if (last && last.at + last.remove === b && last.insert.length === 0) last.insert.push(...lines);
      else edits.push({ at: b, remove: 0, insert: lines });
    } else if (change.removed) {
      edits.push({ at: b, remove: lines.length, insert: [] });
      b += lines.length;
    } else {
      b += lines.length;
    }
  }
  const out: string[] = [];
  let copied = 0;
  for (const edit of edits) {
    const start = anchor(edit, toOriginal, baselineLines.length, originalLines.length);
    if (start === undefined || start < copied) return undefined;
    out.push(...originalLines.slice(copied, start), ...edit.insert);
    copied = start + edit.remove;
  }
  out.push(...originalLines.slice(copied));
  const result = out.join('');
  return sameData(result, edited) ? result : undefined;
}

/** Where in the original an edit of the baseline applies: removed lines must all map, in order. */
function anchor(
  edit: { at: number; remove: number },
  toOriginal: ReadonlyMap<number, number>,
  baselineLength: number,
  originalLength: number,
): number | undefined {
  if (edit.remove > 0) {
    const start = toOriginal.get(edit.at);
    if (start === undefined) return undefined;
    for (let k = 1; k < edit.remove; k++) if (toOriginal.get(edit.at + k) !== start + k) return undefined;
    return start;
  }
  if (edit.at === 0) return 0;
  const previous = toOriginal.get(edit.at - 1);
  if (previous !== undefined) return previous + 1;
  if (edit.at === baselineLength) return originalLength;
  return toOriginal.get(edit.at);
}

/** Lines with their line ends, so joining them gives the text back. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function sameData(a: string, b: string): boolean {
  const parse = (text: string): Document => parseDocument(text);
  const da = parse(a);
  const db = parse(b);
  // The spec loaded before the edit, so its aliases are bounded; the library's default (100) is not enough.
  const data = (doc: Document) => JSON.stringify(doc.toJS({ maxAliasCount: MAX_EXPANDED_NODES }));
  return da.errors.length === 0 && data(da) === data(db);
}
