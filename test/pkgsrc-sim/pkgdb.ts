// The package database as pkg_install 20170419 keeps it on disk: PKG_DBDIR/<PKGNAME>/+CONTENTS, +COMMENT, +DESC,
// +BUILD_INFO, +INSTALLED_INFO (`automatic=yes`), +REQUIRED_BY (one dependent per line), ... Iteration follows
// readdir(3) order through opendir, exactly like lib/iterate.c, so listings come out in the file system's order.
import {
  chmodSync,
  closeSync,
  mkdirSync,
  opendirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { bestMatch, matchPattern, PkgsrcError } from '../../src/pkgsrc/index.js';
import type { RemoteView } from './fetch.js';
import type { Tool } from './output.js';
import { type PlistEntry, parsePlist } from './plist.js';

/** The pkg_install the simulator's bootstrap installs (the transcripts' version). */
export const PKG_INSTALL_VERSION = '20170419';

/**
 * The version of the pkg_install the tools are: the pkg_install package registered in their (compiled-in) database.
 * `pkg_add -u pkg_install-NEW.tgz` replaces the real tools' binaries with the new package's, so from the next
 * command on they print (-V) and check (PKGTOOLS_VERSION) the new version; a running pkg_add keeps its own. The
 * bootstrap's 20170419 when no 8-digit pkg_install registration is found.
 */
export function toolsVersion(dbdir: string): string {
  let names: string[];
  try {
    names = readdirSync(dbdir);
  } catch {
    return PKG_INSTALL_VERSION;
  }
  const versions = names
    .map((name) => /^pkg_install-([0-9]{8})$/.exec(name)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort();
  return versions.at(-1) ?? PKG_INSTALL_VERSION;
}

export const CONTENTS = '+CONTENTS';
export const COMMENT = '+COMMENT';
export const DESC = '+DESC';
export const BUILD_INFO = '+BUILD_INFO';
export const REQUIRED_BY = '+REQUIRED_BY';
export const INSTALLED_INFO = '+INSTALLED_INFO';
export const PRESERVE = '+PRESERVE';
export const DISPLAY = '+DISPLAY';
export const SIZE_PKG = '+SIZE_PKG';

/** pkg_meta_descriptors of add/perform.c: the meta files a binary package may carry, in archive order, with modes. */
export const META_FILES: ReadonlyArray<{ name: string; required: boolean; mode: number }> = [
  { name: CONTENTS, required: true, mode: 0o644 },
  { name: COMMENT, required: true, mode: 0o444 },
  { name: DESC, required: true, mode: 0o444 },
  { name: '+INSTALL', required: false, mode: 0o555 },
  { name: '+DEINSTALL', required: false, mode: 0o555 },
  { name: DISPLAY, required: false, mode: 0o444 },
  { name: '+MTREE_DIRS', required: false, mode: 0o444 },
  { name: '+BUILD_VERSION', required: false, mode: 0o444 },
  { name: BUILD_INFO, required: false, mode: 0o444 },
  { name: SIZE_PKG, required: false, mode: 0o444 },
  { name: '+SIZE_ALL', required: false, mode: 0o444 },
  { name: PRESERVE, required: false, mode: 0o444 },
  // Written with fopen(3): 0666 less the umask (0664 under the `umask 002` of a shared software area).
  { name: REQUIRED_BY, required: false, mode: 0o666 },
  { name: INSTALLED_INFO, required: false, mode: 0o666 },
];

/** What the per-site wrapper told us (PKGSIM_*), plus the pkg_install environment (PKG_DBDIR, PKG_PATH). */
export interface SimConfig {
  /** installation prefix (PKGSIM_PREFIX); undefined when only a database directory was given */
  prefix: string | undefined;
  /** PKG_DBDIR: -K, else $PKG_DBDIR, else $PKGSIM_DBDIR, else PREFIX/pkgdb */
  dbdir: string;
  /** PKGVULNDIR when set in the environment; pkg_install's default is PKG_DBDIR */
  pkgVulnDir: string | undefined;
  /** file that `pkg_admin fetch-pkg-vulnerabilities` "downloads"; undefined = offline */
  vulnSource: string | undefined;
  /** PKG_PATH entries (local directories) */
  pkgPath: string[];
  /** the raw PKG_PATH value */
  pkgPathRaw: string | undefined;
  cwd: string;
  /** pkg_add only: what it fetched over http (fetch.ts) */
  remote?: RemoteView;
}

export function configFromEnv(env: NodeJS.ProcessEnv, cwd: string): SimConfig | string {
  const prefix = env.PKGSIM_PREFIX === '' ? undefined : env.PKGSIM_PREFIX;
  const dbdir =
    env.PKG_DBDIR || env.PKGSIM_DBDIR || (prefix !== undefined ? path.join(prefix, 'pkgdb') : undefined);
  if (dbdir === undefined) {
    return 'PKGSIM_PREFIX is not set: this is the pkgsrc simulator (a test double), run it through a site wrapper';
  }
  const raw = env.PKG_PATH;
  return {
    prefix,
    dbdir: path.resolve(cwd, dbdir),
    pkgVulnDir: env.PKGVULNDIR ? path.resolve(cwd, env.PKGVULNDIR) : undefined,
    vulnSource: env.PKGSIM_VULN_SOURCE === '' ? undefined : env.PKGSIM_VULN_SOURCE,
    pkgPath: parsePkgPath(raw, cwd),
    pkgPathRaw: raw,
    cwd,
  };
}

/** PKG_PATH: `;`-separated directories or URLs. Only local directories (and file:// URLs) can be used here. */
export function parsePkgPath(raw: string | undefined, cwd: string): string[] {
  if (raw === undefined || raw === '') return [];
  const out: string[] = [];
  for (const part of raw.split(';')) {
    if (part === '') continue;
    if (part.startsWith('file://')) out.push(path.resolve(cwd, part.slice('file://'.length)));
    else if (!/^[a-z]+:\/\//i.test(part)) out.push(path.resolve(cwd, part));
  }
  return out;
}

/** ispkgpattern(): strpbrk(s, "<>[]?*{") */
export function isPkgPattern(s: string): boolean {
  return /[<>[\]?*{]/.test(s);
}

export class PkgDb {
  readonly dir: string;
  private readonly tool: Tool;

  constructor(dir: string, tool: Tool) {
    this.dir = dir;
    this.tool = tool;
  }

  pkgDir(pkg: string): string {
    return path.join(this.dir, pkg);
  }

  pkgFile(pkg: string, file: string): string {
    return path.join(this.dir, pkg, file);
  }

  /** iterate_pkg_db(): readdir order, skipping pkgdb.byfile.db, .cookie, pkg-vulnerabilities and non-directories. */
  list(): string[] {
    let dir: ReturnType<typeof opendirSync>;
    try {
      dir = opendirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const names: string[] = [];
    try {
      for (let d = dir.readSync(); d !== null; d = dir.readSync()) {
        const n = d.name;
        if (n === 'pkgdb.byfile.db' || n === '.cookie' || n === 'pkg-vulnerabilities') continue;
        if (!d.isDirectory()) continue;
        names.push(n);
      }
    } finally {
      dir.closeSync();
    }
    return names;
  }

  /** pkg_match(), turning a malformed pattern into the error pkg_install stops with. */
  match(pattern: string, pkg: string): boolean {
    try {
      return matchPattern(pattern, pkg);
    } catch (e) {
      if (e instanceof PkgsrcError) this.tool.errx(1, `Malformed pattern \`${pattern}'`);
      throw e;
    }
  }

  /** match_installed_pkgs(): every installed package matching PATTERN, in iteration order. */
  matching(pattern: string): string[] {
    return this.list().filter((p) => this.match(pattern, p));
  }

  /** add_installed_pkgs_by_basename() */
  byBasename(base: string): string[] {
    const out: string[] = [];
    for (const p of this.list()) {
      const dash = p.lastIndexOf('-');
      if (dash < 0) {
        this.tool.warnx(`Entry ${p} in pkgdb is not a valid package name`);
        continue;
      }
      if (p.slice(0, dash) === base) out.push(p);
    }
    return out;
  }

  /** find_best_matching_installed_pkg() */
  best(pattern: string): string | undefined {
    try {
      return bestMatch(pattern, this.list());
    } catch (e) {
      if (e instanceof PkgsrcError) this.tool.errx(1, `Malformed pattern \`${pattern}'`);
      throw e;
    }
  }

  isInstalled(pkg: string): boolean {
    try {
      return statSync(this.pkgFile(pkg, CONTENTS)).isFile();
    } catch {
      return false;
    }
  }

  isDir(pkg: string): boolean {
    try {
      return pkg !== '' && !pkg.includes('/') && statSync(this.pkgDir(pkg)).isDirectory();
    } catch {
      return false;
    }
  }

  read(pkg: string, file: string): string | undefined {
    try {
      return readFileSync(this.pkgFile(pkg, file), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  plist(pkg: string): PlistEntry[] | undefined {
    const text = this.read(pkg, CONTENTS);
    return text === undefined ? undefined : parsePlist(text);
  }

  /** is_automatic_installed() */
  isAutomatic(pkg: string): boolean {
    const v = varGet(this.read(pkg, INSTALLED_INFO), 'automatic');
    return v !== undefined && v.toLowerCase() === 'yes';
  }

  /** mark_as_automatic_installed() */
  setAutomatic(pkg: string, automatic: boolean): void {
    varSet(this.pkgFile(pkg, INSTALLED_INFO), 'automatic', automatic ? 'yes' : undefined);
  }

  /** +REQUIRED_BY as a list of lines (empty when the file is missing or empty). */
  requiredBy(pkg: string): string[] {
    const text = this.read(pkg, REQUIRED_BY);
    if (text === undefined || text === '') return [];
    return text.split('\n').filter((l, i, a) => !(l === '' && i === a.length - 1));
  }
}

/** Write a file by writing a temporary file next to it and renaming it over the target. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    // No fsync: the rename makes the change atomic for every reader; durability across a power cut is not what a
    // test double is for, and the fsyncs were most of the cost of creating a site.
    while (off < buf.length) off += writeSync(fd, buf, off);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Rewrite a file pkg_install changes in place (fopen "a"/"w" of an existing file): an existing file keeps its mode,
 * a new one gets 0666 less the umask, as fopen(3) creates it.
 */
function rewriteInPlace(file: string, data: string): void {
  let mode: number | undefined;
  try {
    mode = statSync(file).mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  writeFileAtomic(file, data, 0o666);
  if (mode !== undefined) chmodSync(file, mode);
}

/** Append one line to a file (read, append, atomic rewrite keeping the mode). */
export function appendLineAtomic(file: string, line: string): void {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text !== '' && !text.endsWith('\n')) text += '\n';
  rewriteInPlace(file, `${text}${line}\n`);
}

/** remove_line() of pkg_delete: drop the lines equal to TEXT, keeping the (possibly empty) file. */
export function removeLineAtomic(file: string, text: string): void {
  let data: string;
  try {
    data = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const lines = data.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const kept = lines.filter((l) => l !== text);
  rewriteInPlace(file, kept.map((l) => `${l}\n`).join(''));
}

/** var_get(): the value(s) of VAR in a `VAR=value` file, several joined by newlines; undefined when absent. */
export function varGet(text: string | undefined, variable: string): string | undefined {
  if (text === undefined || variable === '') return undefined;
  const values: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${variable}=`)) continue;
    let v = line.slice(variable.length + 1);
    if (v.startsWith(' ')) v = v.slice(1);
    values.push(v);
  }
  return values.length === 0 ? undefined : values.join('\n');
}

/** var_set(): replace (or with value undefined, remove) VAR in FILE; a file left empty is removed. */
export function varSet(file: string, variable: string, value: string | undefined): void {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const lines = text === '' ? [] : text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let out = '';
  let done = false;
  const print = (v: string) =>
    v
      .split('\n')
      .filter((x) => x !== '')
      .map((x) => `${variable}=${x}\n`)
      .join('');
  for (const line of lines) {
    if (line.startsWith(`${variable}=`)) {
      if (!done && value !== undefined) {
        out += print(value);
        done = true;
      }
    } else {
      out += `${line}\n`;
    }
  }
  if (!done && value !== undefined) out += print(value);
  if (out === '') {
    try {
      unlinkSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return;
  }
  rewriteInPlace(file, out);
}

/** mkdir -p with mode 0777 & ~umask, like mkdir_p() of pkg_install. */
export function mkdirP(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o777 });
}
