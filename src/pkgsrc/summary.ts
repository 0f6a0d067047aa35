// pkg_summary(5) records as `pkg_info -X` prints them (pkg_info/show.c show_summary): KEY=VALUE lines, a blank
// line after each record, multi-line values (DESCRIPTION) and lists (DEPENDS, CONFLICTS, ...) repeat the key.
import { isValidPattern, isValidPkgName, isValidPkgPath } from './charset.js';
import { PkgsrcError, quote } from './errors.js';
import { splitLines } from './lines.js';

export interface PkgSummaryRecord {
  pkgname: string;
  pkgpath: string;
  comment: string;
  /** DEPENDS patterns, in order. */
  depends: string[];
  conflicts: string[];
  /** DESCRIPTION lines joined with "\n". */
  description: string | undefined;
  categories: string[] | undefined;
  fileName: string | undefined;
  fileSize: number | undefined;
  sizePkg: number | undefined;
  /** 1-based line of the record's first field. */
  line: number;
  /** Every field exactly as given, repeated keys in order. */
  raw: Record<string, string[]>;
}

/** Keys pkg_summary(5) allows more than once; any other known key must appear at most once. */
const REPEATABLE = new Set(['CONFLICTS', 'DEPENDS', 'DESCRIPTION', 'PROVIDES', 'REQUIRES', 'SUPERSEDES']);
/** Keys defined by pkg_summary(5) (unknown upper-case keys are kept in `raw`: the format grows). */
const KNOWN = new Set([
  ...REPEATABLE,
  'BUILD_DATE',
  'CATEGORIES',
  'COMMENT',
  'FILE_CKSUM',
  'FILE_NAME',
  'FILE_SIZE',
  'HOMEPAGE',
  'LICENSE',
  'MACHINE_ARCH',
  'OPSYS',
  'OS_VERSION',
  'PKG_OPTIONS',
  'PKGNAME',
  'PKGPATH',
  'PKGTOOLS_VERSION',
  'PREV_PKGPATH',
  'SIZE_PKG',
]);
const KEY = /^[A-Z][A-Z0-9_]*$/;
const SIZE = /^(0|[1-9][0-9]{0,14})$/;

interface Field {
  value: string;
  line: number;
}

function fail(message: string, line: number): never {
  throw new PkgsrcError('bad-summary', message, line);
}

function buildRecord(fields: Map<string, Field[]>, first: number): PkgSummaryRecord {
  const one = (key: string): Field | undefined => fields.get(key)?.[0];
  const need = (key: string): Field => {
    const f = one(key);
    if (f === undefined) fail(`record starting here has no ${key}`, first);
    return f;
  };
  const pkgname = need('PKGNAME');
  if (!isValidPkgName(pkgname.value))
    fail(`PKGNAME ${quote(pkgname.value)} is not a package name`, pkgname.line);
  const pkgpath = need('PKGPATH');
  if (!isValidPkgPath(pkgpath.value))
    fail(`PKGPATH ${quote(pkgpath.value)} is not category/name`, pkgpath.line);
  const comment = need('COMMENT');
  const patterns = (key: string): string[] =>
    (fields.get(key) ?? []).map((f) => {
      if (!isValidPattern(f.value)) fail(`${key} ${quote(f.value)} is not a package pattern`, f.line);
      return f.value;
    });
  const size = (key: string): number | undefined => {
    const f = one(key);
    if (f === undefined) return undefined;
    if (!SIZE.test(f.value)) fail(`${key} ${quote(f.value)} is not a size in bytes`, f.line);
    return Number(f.value);
  };
  const description = fields.get('DESCRIPTION');
  const categories = one('CATEGORIES');
  const raw: Record<string, string[]> = {};
  for (const [k, fs] of fields) raw[k] = fs.map((f) => f.value);
  return {
    pkgname: pkgname.value,
    pkgpath: pkgpath.value,
    comment: comment.value,
    depends: patterns('DEPENDS'),
    conflicts: patterns('CONFLICTS'),
    description: description?.map((f) => f.value).join('\n'),
    categories: categories === undefined ? undefined : categories.value.split(' ').filter((c) => c !== ''),
    fileName: one('FILE_NAME')?.value,
    fileSize: size('FILE_SIZE'),
    sizePkg: size('SIZE_PKG'),
    line: first,
    raw,
  };
}

/**
 * Parse `pkg_info -X` output or a pkg_summary file into records. Records are separated by one or more blank
 * lines; each needs PKGNAME, PKGPATH and COMMENT; PKGNAME, PKGPATH and DEPENDS/CONFLICTS are validated.
 * Throws PkgsrcError('bad-summary') naming the line of the first problem.
 */
export function parsePkgSummary(text: string): PkgSummaryRecord[] {
  if (typeof text !== 'string') throw new PkgsrcError('bad-summary', 'pkg_summary input must be a string');
  const records: PkgSummaryRecord[] = [];
  let fields = new Map<string, Field[]>();
  let first = 0;
  const flush = (): void => {
    if (fields.size > 0) records.push(buildRecord(fields, first));
    fields = new Map();
  };
  splitLines(text).forEach((l, i) => {
    const line = i + 1;
    if (l === '') {
      flush();
      return;
    }
    const eq = l.indexOf('=');
    if (eq < 0) fail(`expected KEY=VALUE, got ${quote(l)}`, line);
    const key = l.slice(0, eq);
    if (!KEY.test(key)) fail(`bad key ${quote(key)} (expected upper-case letters, digits, "_")`, line);
    const value = l.slice(eq + 1);
    if (fields.size === 0) first = line;
    const list = fields.get(key);
    if (list === undefined) fields.set(key, [{ value, line }]);
    else if (KNOWN.has(key) && !REPEATABLE.has(key)) fail(`${key} given twice in one record`, line);
    else list.push({ value, line });
  });
  flush();
  return records;
}
