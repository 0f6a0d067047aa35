// pkg_info(1) of pkg_install 20170419 (info/main.c, info/perform.c, info/show.c): -a/-u listings (`%-19s ` + COMMENT),
// -e/-E existence checks, -Q variables (+INSTALLED_INFO for lowercase names, +BUILD_INFO otherwise), -X pkg_summary
// records, and the "Information for PKG:" reports (-c -d -n -R -f -L -p -B -s ...).
import { statSync } from 'node:fs';
import path from 'node:path';
import { type ArchiveEntry, readArchive } from './archive.js';
import { getopt, type Tool } from './output.js';
import { ownerOf } from './pkg_delete.js';
import {
  BUILD_INFO,
  COMMENT,
  CONTENTS,
  DESC,
  DISPLAY,
  INSTALLED_INFO,
  isPkgPattern,
  PkgDb,
  PRESERVE,
  REQUIRED_BY,
  SIZE_PKG,
  type SimConfig,
  toolsVersion,
  varGet,
} from './pkgdb.js';
import { type PlistEntry, type PlistType, parsePlist } from './plist.js';
import { summaryRecord } from './summary.js';

const SHOW_COMMENT = 0x1;
const SHOW_DESC = 0x2;
const SHOW_PLIST = 0x4;
const SHOW_INSTALL = 0x8;
const SHOW_DEINSTALL = 0x10;
const SHOW_PREFIX = 0x40;
const SHOW_INDEX = 0x80;
const SHOW_FILES = 0x100;
const SHOW_DISPLAY = 0x200;
const SHOW_REQBY = 0x400;
const SHOW_MTREE = 0x800;
const SHOW_BUILD_VERSION = 0x1000;
const SHOW_BUILD_INFO = 0x2000;
const SHOW_DEPENDS = 0x4000;
const SHOW_PKG_SIZE = 0x8000;
const SHOW_ALL_SIZE = 0x10000;
const SHOW_BLD_DEPENDS = 0x20000;
const SHOW_BI_VAR = 0x40000;
const SHOW_SUMMARY = 0x80000;
const SHOW_FULL_REQBY = 0x100000;

/** info/show.c showv[]: quiet and verbose prefixes of packing list entries. */
const SHOWV: Partial<Record<PlistType, [string, string]>> = {
  file: ['', '\tFile: '],
  cwd: ['@cwd ', '\tCWD to: '],
  exec: ['@exec ', "\tEXEC ''"],
  chmod: ['@chmod ', '\tCHMOD to '],
  chown: ['@chown ', '\tCHOWN to '],
  chgrp: ['@chgrp ', '\tCHGRP to '],
  comment: ['@comment ', '\tComment: '],
  ignore: ['@ignore', 'Ignore next file:'],
  name: ['@name ', '\tPackage name: '],
  unexec: ['@unexec ', "\tUNEXEC ''"],
  src: ['@src: ', '\tSRC to: '],
  display: ['@display ', '\tInstall message file: '],
  pkgdep: ['@pkgdep ', '\tPackage depends on: '],
  dirrm: ['@dirrm ', '\tObsolete deinstall directory removal hint: '],
  option: ['@option ', '\tPackage has option: '],
  pkgcfl: ['@pkgcfl ', '\tPackage conflicts with: '],
  blddep: ['@blddep ', '\tPackage depends exactly on: '],
  pkgdir: ['@pkgdir ', '\tManaged directory: '],
};

type Which = 'all' | 'user' | 'list';

interface Meta {
  contents: string;
  comment: string | undefined;
  desc: string | undefined;
  files: Map<string, string>;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

class Info {
  private readonly tool: Tool;
  private readonly db: PkgDb;
  private readonly cwd: string;
  flags = 0;
  quiet = false;
  infoPrefix = '';
  buildInfoVariable = '';
  /** the queue of pkg_perform(); pkg_do() may append to it (basename expansion) */
  readonly queue: string[] = [];

  constructor(tool: Tool, db: PkgDb, cwd: string) {
    this.tool = tool;
    this.db = db;
    this.cwd = cwd;
  }

  /** show_file() */
  private showFile(buf: string, title: string, separator: boolean): void {
    if (!this.quiet) this.tool.out(`${this.infoPrefix}${title}`);
    this.tool.out(buf.endsWith('\n') ? buf : `${buf}\n`);
    if (!this.quiet || separator) this.tool.out('\n');
  }

  private title(title: string): void {
    if (!this.quiet) this.tool.out(`${this.infoPrefix}${title}`);
  }

  private showPlist(title: string, plist: PlistEntry[], type: PlistType | 'all'): void {
    this.title(title);
    let ign = false;
    for (const p of plist) {
      if (type !== 'all' && p.type !== type) continue;
      const v = SHOWV[p.type];
      if (v === undefined) {
        this.tool.warnx(`unknown command type ${p.type} (${p.name})`);
        this.tool.out('\n');
        continue;
      }
      const pre = this.quiet ? v[0] : v[1];
      if (p.type === 'file') {
        this.tool.out(`${pre}${p.name}`);
        if (ign) {
          if (!this.quiet) this.tool.out(' (ignored)');
          ign = false;
        }
      } else if (p.type === 'ignore') {
        this.tool.out(pre);
        ign = true;
      } else if (p.type === 'chmod' || p.type === 'chown' || p.type === 'chgrp') {
        this.tool.out(`${pre}${p.name === '' ? '(clear default)' : p.name}`);
      } else {
        this.tool.out(`${pre}${p.name}`);
      }
      this.tool.out('\n');
    }
  }

  private showFiles(title: string, plist: PlistEntry[]): void {
    this.title(title);
    let ign = false;
    let dir = '.';
    for (const p of plist) {
      if (p.type === 'file') {
        if (!ign) this.tool.out(`${dir}${dir === '/' ? '' : '/'}${p.name}\n`);
        ign = false;
      } else if (p.type === 'cwd') dir = p.name;
      else if (p.type === 'ignore') ign = true;
    }
  }

  private showDepends(title: string, plist: PlistEntry[], type: 'pkgdep' | 'blddep'): void {
    const deps = plist.filter((p) => p.type === type);
    if (deps.length === 0) return;
    this.title(title);
    for (const d of deps) this.tool.out(`${d.name}\n`);
    this.tool.out('\n');
  }

  /** The meta data of an installed package or of a binary package file. */
  private load(pkg: string): { meta: Meta; binpkgfile: string | undefined } | 'queued' | 'missing' {
    const full = path.resolve(this.cwd, pkg);
    if (isFile(full)) {
      let entries: ArchiveEntry[];
      try {
        entries = readArchive(full);
      } catch {
        this.tool.warnx(`error during unpacking, no info for '${pkg}' available`);
        return 'missing';
      }
      const files = new Map<string, string>();
      for (const e of entries) if (e.path.startsWith('+')) files.set(e.path, e.data.toString('utf8'));
      return { meta: metaOf(files), binpkgfile: full };
    }
    if (!this.db.isDir(pkg)) {
      const found = this.db.byBasename(pkg);
      if (found.length > 0) {
        this.queue.push(...found);
        return 'queued';
      }
      this.tool.warnx(`can't find package \`${pkg}'`);
      return 'missing';
    }
    const files = new Map<string, string>();
    for (const f of [
      CONTENTS,
      COMMENT,
      DESC,
      BUILD_INFO,
      INSTALLED_INFO,
      REQUIRED_BY,
      DISPLAY,
      SIZE_PKG,
      PRESERVE,
    ]) {
      const text = this.db.read(pkg, f);
      if (text !== undefined) files.set(f, text);
    }
    for (const f of ['+INSTALL', '+DEINSTALL', '+MTREE_DIRS', '+BUILD_VERSION', '+SIZE_ALL']) {
      const text = this.db.read(pkg, f);
      if (text !== undefined) files.set(f, text);
    }
    return {
      meta: metaOf(files),
      binpkgfile: undefined,
    };
  }

  /** pkg_do(): 0 or 1 (the error count). */
  pkgDo(pkg: string): number {
    const loaded = this.load(pkg);
    if (loaded === 'queued') return 0;
    if (loaded === 'missing') return 1;
    const { meta, binpkgfile } = loaded;
    const f = meta.files;
    const flags = this.flags;
    if (flags & SHOW_INDEX) {
      this.title(`${pkg.padEnd(19)} `);
      const c = meta.comment ?? '';
      this.tool.out(c.endsWith('\n') ? c : `${c}\n`);
      return 0;
    }
    if (flags & SHOW_BI_VAR) {
      const v = this.buildInfoVariable;
      if (!/[A-Z]/.test(v)) {
        const value = varGet(f.get(INSTALLED_INFO), v);
        if (value !== undefined) this.tool.out(`${value}\n`);
      } else if (f.get(BUILD_INFO) !== undefined) {
        const value = varGet(f.get(BUILD_INFO), v);
        if (value !== undefined) this.tool.out(`${value}\n`);
      } else {
        this.tool.warnx('Build information missing');
      }
      return 0;
    }
    const plist = parsePlist(meta.contents);
    if (!this.quiet && !(flags & SHOW_SUMMARY)) {
      this.tool.out(`${this.infoPrefix}Information for ${pkg}:\n\n`);
      if (f.has(PRESERVE)) this.tool.out('*** PACKAGE MAY NOT BE DELETED ***\n');
    }
    if (flags & SHOW_SUMMARY) {
      let file: { name: string; size: number } | undefined;
      if (binpkgfile !== undefined)
        file = { name: path.basename(binpkgfile), size: statSync(binpkgfile).size };
      const { text, warning } = summaryRecord({
        plist,
        comment: meta.comment ?? '',
        desc: meta.desc ?? '',
        buildInfo: f.get(BUILD_INFO),
        sizePkg: f.get(SIZE_PKG),
        file,
      });
      // show_summary() prints the build information lines after the warning point; the warning goes to stderr.
      if (warning !== undefined) this.tool.warnx(warning);
      this.tool.out(text);
    }
    if (flags & SHOW_COMMENT) this.showFile(meta.comment ?? '', 'Comment:\n', true);
    if (flags & SHOW_DEPENDS) this.showDepends('Requires:\n', plist, 'pkgdep');
    if (flags & SHOW_BLD_DEPENDS) this.showDepends('Built using:\n', plist, 'blddep');
    const reqBy = f.get(REQUIRED_BY);
    if (flags & (SHOW_REQBY | SHOW_FULL_REQBY) && reqBy !== undefined && reqBy !== '') {
      this.showFile(reqBy, 'Required by:\n', true);
    }
    if (flags & SHOW_DESC) this.showFile(meta.desc ?? '', 'Description:\n', true);
    const display = f.get(DISPLAY);
    if (flags & SHOW_DISPLAY && display !== undefined) this.showFile(display, 'Install notice:\n', true);
    if (flags & SHOW_PLIST) this.showPlist('Packing list:\n', plist, 'all');
    const install = f.get('+INSTALL');
    if (flags & SHOW_INSTALL && install !== undefined) this.showFile(install, 'Install script:\n', true);
    const deinstall = f.get('+DEINSTALL');
    if (flags & SHOW_DEINSTALL && deinstall !== undefined)
      this.showFile(deinstall, 'De-Install script:\n', true);
    const mtree = f.get('+MTREE_DIRS');
    if (flags & SHOW_MTREE && mtree !== undefined) this.showFile(mtree, 'mtree file:\n', true);
    if (flags & SHOW_PREFIX) this.showPlist('Prefix(s):\n', plist, 'cwd');
    if (flags & SHOW_FILES) this.showFiles('Files:\n', plist);
    const bv = f.get('+BUILD_VERSION');
    if (flags & SHOW_BUILD_VERSION && bv !== undefined) this.showFile(bv, 'Build version:\n', true);
    if (flags & SHOW_BUILD_INFO) {
      const bi = f.get(BUILD_INFO);
      const ii = f.get(INSTALLED_INFO);
      if (bi !== undefined) this.showFile(bi, 'Build information:\n', ii === undefined);
      if (ii !== undefined) this.showFile(ii, 'Installed information:\n', true);
    }
    const sp = f.get(SIZE_PKG);
    if (flags & SHOW_PKG_SIZE && sp !== undefined) this.showFile(sp, 'Size of this package in bytes: ', true);
    const sa = f.get('+SIZE_ALL');
    if (flags & SHOW_ALL_SIZE && sa !== undefined)
      this.showFile(sa, 'Size in bytes including required pkgs: ', true);
    if (!this.quiet && !(flags & SHOW_SUMMARY)) {
      if (f.has(PRESERVE)) this.tool.out('*** PACKAGE MAY NOT BE DELETED ***\n\n');
      this.tool.out(`${this.infoPrefix}\n`);
    }
    return 0;
  }
}

export function pkgInfo(tool: Tool, cfg: SimConfig, argv: readonly string[]): number {
  const usage = (): never => {
    tool.stderr(
      'usage: pkg_info [-BbcDdFfhIikLmNnpqRrSsVvX] [-E pkg-name] [-e pkg-name]\n' +
        '                [-K pkg_dbdir] [-l prefix] pkg-name ...\n' +
        '       pkg_info [-a | -u] [flags]\n' +
        '       pkg_info [-Q variable] pkg-name ...\n',
    );
    return tool.exit(1);
  };
  const { opts, args } = getopt(tool, argv, '.aBbcDde:E:fFhIiK:kLl:mNnpQ:qrRsSuvVX', usage);
  let dbdir = cfg.dbdir;
  let which: Which = 'list';
  let checkPkg: string | undefined;
  let bestCheckPkg: string | undefined;
  let file2pkg = false;
  let flags = 0;
  let quiet = false;
  let infoPrefix = '';
  let biVar = '';
  const set: Record<string, number> = {
    B: SHOW_BUILD_INFO,
    b: SHOW_BUILD_VERSION,
    c: SHOW_COMMENT,
    D: SHOW_DISPLAY,
    d: SHOW_DESC,
    f: SHOW_PLIST,
    I: SHOW_INDEX,
    i: SHOW_INSTALL,
    k: SHOW_DEINSTALL,
    L: SHOW_FILES,
    m: SHOW_MTREE,
    N: SHOW_BLD_DEPENDS,
    n: SHOW_DEPENDS,
    p: SHOW_PREFIX,
    r: SHOW_FULL_REQBY,
    R: SHOW_REQBY,
    s: SHOW_PKG_SIZE,
    S: SHOW_ALL_SIZE,
    X: SHOW_SUMMARY,
  };
  for (const { opt, arg } of opts) {
    const bit = set[opt];
    if (bit !== undefined) flags |= bit;
    else if (opt === 'a') which = 'all';
    else if (opt === 'u') which = 'user';
    else if (opt === 'E') bestCheckPkg = arg;
    else if (opt === 'e') checkPkg = arg;
    else if (opt === 'F') file2pkg = true;
    else if (opt === 'K') dbdir = path.resolve(cfg.cwd, arg as string);
    else if (opt === 'l') infoPrefix = arg as string;
    else if (opt === 'Q') {
      flags |= SHOW_BI_VAR;
      biVar = arg as string;
    } else if (opt === 'q') quiet = true;
    else if (opt === 'v') {
      flags =
        SHOW_COMMENT |
        SHOW_DESC |
        SHOW_PLIST |
        SHOW_INSTALL |
        SHOW_DEINSTALL |
        SHOW_DISPLAY |
        SHOW_MTREE |
        SHOW_REQBY |
        SHOW_BLD_DEPENDS |
        SHOW_DEPENDS |
        SHOW_PKG_SIZE |
        SHOW_ALL_SIZE;
    } else if (opt === 'V') {
      tool.out(`${toolsVersion(cfg.dbdir)}\n`);
      return 0;
    } else if (opt === 'h') usage();
  }
  if (args.length === 0 && flags === 0 && checkPkg === undefined) {
    flags = SHOW_INDEX;
    if (which === 'list') which = 'all';
  }
  if (checkPkg !== undefined && bestCheckPkg !== undefined) {
    tool.warnx('-E and -e are mutally exlusive');
    usage();
  }
  if (args.length !== 0 && checkPkg !== undefined) {
    tool.warnx("can't give any additional arguments to -e");
    usage();
  }
  if (args.length !== 0 && bestCheckPkg !== undefined) {
    tool.warnx("can't give any additional arguments to -E");
    usage();
  }
  if (args.length !== 0 && which !== 'list') {
    tool.warnx("can't use both -a/-u and package name");
    usage();
  }
  if (flags === 0) flags = SHOW_COMMENT | SHOW_DESC | SHOW_REQBY | SHOW_DEPENDS | SHOW_DISPLAY;

  const db = new PkgDb(dbdir, tool);
  if (checkPkg !== undefined) {
    let pattern = checkPkg;
    if (file2pkg) {
      const owner = ownerOf(db, path.resolve(cfg.cwd, checkPkg));
      if (owner === undefined) tool.errx(1, `No matching pkg for ${checkPkg}.`);
      pattern = owner;
    }
    // CheckForPkg(): every match, then PATTERN-[0-9]* for a plain name.
    let found = db.matching(pattern);
    if (found.length === 0 && !isPkgPattern(pattern)) found = db.matching(`${pattern}-[0-9]*`);
    if (!quiet) for (const p of found) tool.out(`${p}\n`);
    return found.length > 0 ? 0 : 1;
  }
  if (bestCheckPkg !== undefined) {
    // CheckForBestPkg()
    let best = db.best(bestCheckPkg);
    if (best === undefined && !isPkgPattern(bestCheckPkg)) best = db.best(`${bestCheckPkg}-[0-9]*`);
    if (best === undefined) return 1;
    if (!quiet) tool.out(`${best}\n`);
    return 0;
  }

  const info = new Info(tool, db, cfg.cwd);
  info.flags = flags;
  info.quiet = quiet;
  info.infoPrefix = infoPrefix;
  info.buildInfoVariable = biVar;
  for (const arg of args) {
    if (file2pkg) {
      const owner = ownerOf(db, path.resolve(cfg.cwd, arg));
      if (owner === undefined) tool.errx(1, `No matching pkg for ${arg}.`);
      info.queue.push(owner);
    } else if (isPkgPattern(arg)) {
      const found = db.matching(arg);
      if (found.length === 0) tool.errx(1, `No matching pkg for ${arg}.`);
      info.queue.push(...found);
    } else {
      let a = arg;
      if (a.startsWith('/') && a.startsWith(`${db.dir}/`)) {
        a = a.slice(db.dir.length + 1);
        if (a.endsWith('/')) a = a.slice(0, -1);
      }
      info.queue.push(a);
    }
  }
  if (info.queue.length === 0 && which === 'list') {
    tool.warnx('missing package name(s)');
    usage();
  }
  let errors = 0;
  if (which !== 'list') {
    for (const pkg of db.list()) if (which === 'all' || !db.isAutomatic(pkg)) errors += info.pkgDo(pkg);
  } else {
    while (info.queue.length > 0) errors += info.pkgDo(info.queue.shift() as string);
  }
  return errors;
}

/** The metadata pkg_info shows, from a package's + files (a binary package's or an installed one's). */
function metaOf(files: Map<string, string>) {
  return {
    contents: files.get(CONTENTS) ?? '',
    comment: files.get(COMMENT),
    desc: files.get(DESC),
    files,
  };
}
