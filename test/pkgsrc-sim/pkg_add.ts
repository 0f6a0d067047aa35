// pkg_add(1) of pkg_install 20170419 (add/perform.c pkg_do): find the best matching binary package (cwd, then the
// directory of the last top-level package and PKG_PATH), refuse or replace other installed versions, install missing
// dependencies first (marked automatic), write the pkgdb entry, extract the payload, register +REQUIRED_BY.
import { chmodSync, type Dirent, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { bestMatch, PkgsrcError } from '../../src/pkgsrc/index.js';
import { type ArchiveEntry, readArchive } from './archive.js';
import { directoryUrl } from './fetch.js';
import { getopt, type Tool } from './output.js';
import { removePkg } from './pkg_delete.js';
import {
  appendLineAtomic,
  BUILD_INFO,
  CONTENTS,
  DISPLAY,
  INSTALLED_INFO,
  META_FILES,
  mkdirP,
  PkgDb,
  PRESERVE,
  REQUIRED_BY,
  type SimConfig,
  toolsVersion,
  varGet,
  writeFileAtomic,
} from './pkgdb.js';
import { type PlistEntry, parsePlist, plistOf, stringifyPlist } from './plist.js';

export interface AddOptions {
  /** -A: mark the named packages as automatically installed */
  automatic: boolean;
  /** -u (and -U): replace other installed versions */
  replace: boolean;
  /** -U: also replace the same version */
  replaceSame: boolean;
  /** -f */
  force: boolean;
  forceDepends: boolean;
  /** -D: a dependent's unmet @pkgdep is a warning, not a refusal */
  forceDepending: boolean;
  /** -p: install under this prefix instead of the package's @cwd */
  prefix: string | undefined;
  verbose: boolean;
}

export const DEFAULT_ADD_OPTIONS: AddOptions = {
  automatic: false,
  replace: false,
  replaceSame: false,
  force: false,
  forceDepends: false,
  forceDepending: false,
  prefix: undefined,
  verbose: false,
};

const TGZ = /\.t[gb]z$/;
const HTTP = /^http:\/\//i;

/**
 * The glob pkg_add lists a directory with for a name or pattern (lib/pkg_io.c): its leading letters, digits and
 * dashes, then `*` — `root-6*` for `root-6.30.02`, `gsl*` for `gsl>=2.7`.
 */
function listingGlob(pattern: string): string {
  return `${/^[A-Za-z0-9-]*/.exec(pattern)?.[0] ?? ''}*`;
}

/** The binary packages of one directory (regular files named *.tgz / *.tbz), in readdir order, without suffix. */
function packagesIn(dir: string): Array<{ name: string; file: string }> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((d) => d.isFile() && d.name.length >= 5 && TGZ.test(d.name))
    .map((d) => ({ name: d.name.slice(0, -4), file: path.join(dir, d.name) }));
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

interface Meta {
  [name: string]: string | undefined;
}

export class Installer {
  private readonly tool: Tool;
  private readonly cfg: SimConfig;
  private readonly db: PkgDb;
  private readonly opts: AddOptions;
  private lastToplevel: string;
  /** The version of this pkg_add: the pkg_install registered when it started (it keeps it while it upgrades). */
  private readonly version: string;

  constructor(tool: Tool, cfg: SimConfig, db: PkgDb, opts: AddOptions) {
    this.version = toolsVersion(cfg.dbdir);
    this.tool = tool;
    this.cfg = cfg;
    this.db = db;
    this.opts = opts;
    this.lastToplevel = cfg.cwd;
  }

  /**
   * find_best_package() over some PKG_PATH entries: the best match, first entry winning on equal names. An http://
   * entry is searched through its listing (fetch.ts); one whose listing is refused fails as libfetch does.
   */
  private bestIn(entries: readonly string[], pattern: string): string | undefined {
    const seen = new Map<string, string>();
    for (const entry of entries) {
      let dir = entry;
      if (HTTP.test(entry)) {
        const url = directoryUrl(entry);
        const remote = this.cfg.remote?.dirs.get(url);
        if (remote === undefined || !('local' in remote)) {
          if (remote !== undefined && 'refused' in remote) {
            this.tool.warnx(`Can't process ${url}/${listingGlob(pattern)}: ${remote.refused}`);
          }
          continue;
        }
        dir = remote.local;
      }
      for (const p of packagesIn(dir)) if (!seen.has(p.name)) seen.set(p.name, p.file);
    }
    let best: string | undefined;
    try {
      best = bestMatch(pattern, seen.keys());
    } catch (e) {
      if (e instanceof PkgsrcError) return undefined;
      throw e;
    }
    return best === undefined ? undefined : seen.get(best);
  }

  /** find_archive() */
  findArchive(fname: string, topLevel: boolean): string | undefined {
    if (HTTP.test(fname)) {
      // A URL: a file URL is fetched as it is; a name in a URL directory needs that directory's listing.
      const slash = fname.lastIndexOf('/');
      if (topLevel) this.lastToplevel = fname.slice(0, slash);
      const file = this.cfg.remote?.files.get(fname);
      if (file !== undefined) {
        if ('local' in file) return file.local;
        if ('refused' in file) this.tool.warnx(`Can't process ${fname}: ${file.refused}`);
        return undefined;
      }
      return this.bestIn([fname.slice(0, slash)], fname.slice(slash + 1));
    }
    const isFull = fname.startsWith('/');
    const full = isFull ? fname : `${this.cfg.cwd}/${fname}`;
    const lastSlash = full.lastIndexOf('/');
    const dir = full.slice(0, lastSlash) || '/';
    if (topLevel) this.lastToplevel = dir;
    if (isFile(full)) return full;
    const base = full.slice(lastSlash + 1);
    let best = this.bestIn([dir], base);
    if (!isFull && best === undefined) {
      const urls = (this.cfg.pkgPathRaw ?? '').split(';').filter((part) => HTTP.test(part));
      best = this.bestIn([this.lastToplevel, ...this.cfg.pkgPath, ...urls], base);
    }
    return best;
  }

  /** pkg_do(): true on success (including "already installed"). */
  pkgDo(pkgpath: string, markAutomatic: boolean, topLevel: boolean): boolean {
    const { tool, db } = this;
    const opts = this.opts; // not destructured: Biome 2.5 would call the member unused
    const archive = this.findArchive(pkgpath, topLevel);
    if (archive === undefined) {
      tool.warnx(`no pkg found for '${pkgpath}', sorry.`);
      return false;
    }
    let entries: ArchiveEntry[];
    try {
      entries = readArchive(archive);
    } catch (e) {
      tool.warnx(`${archive}: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }

    // read_meta_data(): the + files come first, in pkg_meta_descriptors order.
    const meta: Meta = {};
    let at = 0;
    let last = -1;
    for (; at < entries.length; at++) {
      const e = entries[at] as ArchiveEntry;
      const d = META_FILES.findIndex((m) => m.name === e.path);
      if (d < 0) break;
      if (meta[e.path] !== undefined) {
        tool.warnx('duplicate entry, package corrupt');
        return false;
      }
      if (d < last) {
        tool.warnx('misordered package');
        return false;
      }
      last = d;
      meta[e.path] = e.data.toString('utf8');
    }
    if (META_FILES.some((m) => m.required && meta[m.name] === undefined)) return false;
    const payload = entries.slice(at);

    // pkg_parse_plist()
    let plist = parsePlist(meta[CONTENTS] as string);
    const pkgname = plist.find((e) => e.type === 'name')?.name;
    if (pkgname === undefined) {
      tool.warnx('Invalid PLIST: missing @name');
      return false;
    }
    const origCwd = plist.find((e) => e.type === 'cwd')?.name;
    if (origCwd === undefined) {
      tool.warnx('Invalid PLIST: missing @cwd');
      return false;
    }
    // A binary package installs into its own @cwd (the LOCALBASE it was built for), whatever the site's prefix or
    // PKG_DBDIR: only `pkg_add -p PREFIX` moves it, and only its first @cwd.
    const prefix = opts.prefix ?? origCwd;
    if (prefix !== origCwd) {
      const first = plist.findIndex((e) => e.type === 'cwd');
      plist = plist.map((e, i) => (i === first ? { ...e, name: prefix } : e));
      meta[CONTENTS] = stringifyPlist(plist);
    }

    // read_buildinfo(), check_pkgtools_version()
    const bi = meta[BUILD_INFO];
    if (
      varGet(bi, 'OPSYS') === undefined ||
      varGet(bi, 'OS_VERSION') === undefined ||
      varGet(bi, 'MACHINE_ARCH') === undefined
    ) {
      tool.warnx('Not all required build information are present.');
      return false;
    }
    const toolsVersion = varGet(bi, 'PKGTOOLS_VERSION');
    if (toolsVersion === undefined) {
      tool.warnx(`Warning: package \`${pkgname}' lacks pkg_install version data`);
    } else if (!/^[0-9]{8}$/.test(toolsVersion)) {
      tool.warnx(`Warning: package \`${pkgname}' contains an invalid pkg_install version`);
      if (!opts.force) return false;
    } else if (Number(toolsVersion) > Number(this.version)) {
      tool.warnx(
        `${opts.force ? 'Warning' : 'Error'}: package \`${pkgname}' was built with a newer pkg_install version`,
      );
      if (!opts.force) return false;
    }

    const logdir = db.pkgDir(pkgname);
    let installLogdir = logdir;
    let installLogdirReal: string | undefined;

    // check_already_installed()
    if (db.isInstalled(pkgname)) {
      if (opts.replaceSame) {
        installLogdirReal = logdir;
        installLogdir = `${logdir}.xxxxxx`;
        try {
          statSync(installLogdir);
          tool.warnx(
            `package \`${pkgname}' already has a temporary update directory \`${installLogdir}', remove it manually`,
          );
          return false;
        } catch {
          // fine: no leftover
        }
      } else {
        if (!opts.automatic && db.isAutomatic(pkgname)) {
          db.setAutomatic(pkgname, false);
          tool.warnx(
            `package \`${pkgname}' was already installed as dependency, now marked as installed manually`,
          );
        } else {
          tool.warnx(`package \`${pkgname}' already recorded as installed`);
        }
        return true;
      }
    }

    // check_other_installed()
    let other: string | undefined;
    if (installLogdirReal !== undefined) {
      other = pkgname;
    } else {
      const dash = pkgname.lastIndexOf('-');
      if (dash < 0) {
        tool.warnx(`Invalid package name ${pkgname}`);
        return false;
      }
      other = db.best(pkgname.slice(0, dash));
      if (other !== undefined) {
        if (!opts.replace) {
          tool.warnx(`A different version of ${pkgname} is already installed: ${other}`);
          return false;
        }
        let refused = false;
        for (const dependent of db.requiredBy(other)) {
          const dplist = db.plist(dependent);
          if (dplist === undefined) {
            tool.warnx(`Can't open +CONTENTS of depending package ${dependent}`);
            return false;
          }
          for (const dep of plistOf(dplist, 'pkgdep')) {
            if (!db.match(dep.name, other)) continue;
            if (db.match(dep.name, pkgname)) continue;
            if (!opts.forceDepending) {
              tool.warnx(`Dependency of ${dependent} fulfilled by ${other}, but not by ${pkgname}`);
              refused = true;
            }
            break;
          }
        }
        if (refused) return false;
      }
    }

    // check_explicit_conflict()
    let conflict = false;
    for (const cfl of plistOf(plist, 'pkgcfl')) {
      for (const inst of db.matching(cfl.name)) {
        if (inst === other) continue;
        tool.warnx(`Package \`${pkgname}' conflicts with \`${cfl.name}', and \`${inst}' is installed.`);
        conflict = true;
      }
    }
    for (const inst of db.list()) {
      if (inst === other) continue;
      const ip = db.plist(inst);
      const hit = ip === undefined ? undefined : plistOf(ip, 'pkgcfl').find((c) => db.match(c.name, pkgname));
      if (hit !== undefined) {
        tool.warnx(
          `Installed package \`${inst}' conflicts with \`${hit.name}' when trying to install \`${pkgname}'.`,
        );
        conflict = true;
        break;
      }
    }
    if (conflict) return false;

    // check_implicit_conflict(): the simulator has no pkgdb.byfile.db, it reads the other packing lists instead.
    const owners = new Map<string, string>();
    for (const inst of db.list()) {
      if (inst === other) continue;
      const ip = db.plist(inst);
      const cwd = ip?.find((e) => e.type === 'cwd')?.name;
      if (ip === undefined || cwd === undefined) continue;
      for (const f of plistOf(ip, 'file')) owners.set(`${cwd}/${f.name}`, inst);
    }
    for (const f of plistOf(plist, 'file')) {
      const owner = owners.get(`${prefix}/${f.name}`);
      if (owner === undefined) continue;
      tool.warnx(`Conflicting PLIST with ${owner}: ${f.name}`);
      if (!opts.force) return false;
    }

    let dependencies: string[];
    if (other !== undefined) {
      // Replacing: write the new meta data, keep +REQUIRED_BY (+PRESERVE, +INSTALLED_INFO), delete the old version.
      if (!this.writeMeta(installLogdir, meta)) return this.nukePkgdb(installLogdir);
      if (!this.startReplacing(other, installLogdir, meta, prefix)) return this.nukePkgdb(installLogdir);
      if (installLogdirReal !== undefined) {
        renameSync(installLogdir, installLogdirReal);
        installLogdir = installLogdirReal;
      }
      const deps = this.checkDependencies(plist);
      if (deps === undefined) return this.nukePkgdb(installLogdir);
      dependencies = deps;
    } else {
      const deps = this.checkDependencies(plist);
      if (deps === undefined) return false;
      dependencies = deps;
      if (!this.writeMeta(installLogdir, meta)) return this.nukePkgdb(installLogdir);
    }

    if (!this.extractFiles(plist, payload, prefix, pkgname)) {
      if (other !== undefined) {
        tool.warnx(`Updating of ${other} to ${pkgname} failed.`);
        tool.warnx('Remember to run pkg_admin rebuild-tree after fixing this.');
      }
      removePkg(tool, db, pkgname, {
        prefix: undefined,
        force: 1,
        unregisterOnly: false,
        fake: false,
        verbose: false,
      });
      return this.nukePkgdb(installLogdir);
    }

    if (markAutomatic) db.setAutomatic(pkgname, true);
    // pkg_register_depends()
    for (const dep of dependencies) appendLineAtomic(db.pkgFile(dep, REQUIRED_BY), pkgname);
    if (opts.verbose) tool.out(`Package ${pkgname} registered in ${installLogdir}\n`);
    const display = meta[DISPLAY];
    if (display !== undefined) tool.out(display);
    return true;
  }

  private nukePkgdb(dir: string): false {
    rmSync(dir, { recursive: true, force: true });
    return false;
  }

  /** write_meta_data() */
  private writeMeta(dir: string, meta: Meta): boolean {
    try {
      mkdirP(dir);
    } catch (e) {
      this.tool.warn(`Can't create pkgdb entry: ${dir}`, e);
      return false;
    }
    for (const m of META_FILES) {
      const text = meta[m.name];
      if (text === undefined) continue;
      const file = path.join(dir, m.name);
      try {
        rmSync(file, { force: true });
        writeFileAtomic(file, text, m.mode);
      } catch (e) {
        this.tool.warn(`Can't open meta data file: ${file}`, e);
        return false;
      }
    }
    return true;
  }

  /** start_replacing(): move the preserved meta files, then run "pkg_delete -K DBDIR -p PREFIX OLD". */
  private startReplacing(other: string, newDir: string, meta: Meta, prefix: string): boolean {
    const keep = [REQUIRED_BY, PRESERVE];
    if (meta[INSTALLED_INFO] === undefined) keep.push(INSTALLED_INFO);
    for (const f of keep) {
      try {
        renameSync(this.db.pkgFile(other, f), path.join(newDir, f));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.tool.warn(`Can't move ${f} from ${this.db.pkgFile(other, f)} to ${path.join(newDir, f)}`, e);
          return false;
        }
      }
    }
    const child = this.tool.child('pkg_delete');
    const rc = removePkg(child, this.db, other, {
      prefix,
      force: 0,
      unregisterOnly: false,
      fake: false,
      verbose: false,
    });
    child.flush();
    if (rc !== 0) {
      const bindir = path.join(this.cfg.prefix ?? prefix, 'sbin');
      this.tool.warnx(`command failed: ${bindir}/pkg_delete -K ${this.db.dir} -p ${prefix}  ${other}`);
      return false;
    }
    return true;
  }

  /** check_dependencies(): install what is missing, then the best installed match of every @pkgdep. */
  private checkDependencies(plist: PlistEntry[]): string[] | undefined {
    const { tool, db, opts } = this;
    const pkgdeps = plistOf(plist, 'pkgdep').map((e) => e.name);
    for (const dep of pkgdeps) {
      if (db.best(dep) !== undefined) continue;
      if (!this.pkgDo(dep, true, false)) {
        if (!opts.forceDepends) {
          tool.warnx(`Can't install dependency ${dep}`);
          return undefined;
        }
        tool.warnx(`Can't install dependency ${dep}, continuing`);
      }
      if (db.best(dep) === undefined) {
        if (!opts.forceDepends) {
          tool.warnx(`Just installed dependency ${dep} disappeared`);
          return undefined;
        }
        tool.warnx(`Missing dependency ${dep} ignored`);
      }
    }
    const out: string[] = [];
    for (const dep of pkgdeps) {
      const best = db.best(dep);
      if (best === undefined) {
        tool.warnx(`Expected dependency ${dep} still missing`);
        return undefined;
      }
      if (!out.includes(best)) out.push(best);
    }
    return out;
  }

  /** extract_files(): the payload must follow the packing list entry by entry. */
  private extractFiles(
    plist: PlistEntry[],
    payload: ArchiveEntry[],
    prefix: string,
    pkgname: string,
  ): boolean {
    const { tool } = this;
    try {
      mkdirP(prefix);
    } catch (e) {
      tool.warn(`Can't create prefix: ${prefix}`, e);
      return false;
    }
    let at = 0;
    let cwd = prefix;
    for (let i = 0; i < plist.length; i++) {
      const e = plist[i] as PlistEntry;
      if (e.type === 'ignore') {
        i++;
        continue;
      }
      if (e.type === 'cwd') {
        cwd = e.name;
        continue;
      }
      if (e.type === 'pkgdir') {
        mkdirP(path.join(cwd, e.name));
        continue;
      }
      if (e.type !== 'file') continue;
      const entry = payload[at];
      if (entry === undefined) {
        tool.warnx(`PLIST entry not in package (${e.name})`);
        return false;
      }
      if (entry.path !== e.name) {
        tool.warnx(`PLIST entry and package don't match (${e.name} vs ${entry.path})`);
        return false;
      }
      const dest = path.join(cwd, entry.path);
      try {
        mkdirP(path.dirname(dest));
        if (entry.type === 'symlink') {
          rmSync(dest, { force: true });
          symlinkSync(entry.linkname, dest);
        } else {
          writeFileAtomic(dest, entry.data, entry.mode);
          chmodSync(dest, entry.mode);
        }
      } catch (err) {
        tool.warnx(
          `Failed to write ${entry.path} for ${pkgname}: ${err instanceof Error ? err.message : String(err)}`,
        );
        return false;
      }
      at++;
    }
    const extra = payload[at];
    if (extra !== undefined) {
      tool.warnx(`Package contains entries not in PLIST: ${extra.path}`);
      return false;
    }
    return true;
  }
}

export function pkgAdd(tool: Tool, cfg: SimConfig, argv: readonly string[]): number {
  const usage = (): never => {
    tool.stderr(
      'usage: pkg_add [-AfhInRuVv] [-C config] [-P destdir] [-K pkg_dbdir]\n' +
        '               [-m machine] [-p prefix]\n' +
        '               [[ftp|http]://[user[:password]@]host[:port]][/path/]pkg-name ...\n',
    );
    return tool.exit(1);
  };
  const { opts, args } = getopt(tool, argv, 'AC:DIK:P:RVfhm:np:t:Uuv', usage);
  const o: AddOptions = { ...DEFAULT_ADD_OPTIONS };
  let dbdir = cfg.dbdir;
  for (const { opt, arg } of opts) {
    if (opt === 'A') o.automatic = true;
    else if (opt === 'D') o.forceDepending = true;
    else if (opt === 'f') {
      o.force = true;
      o.forceDepends = true;
      o.forceDepending = true;
    } else if (opt === 'K') dbdir = path.resolve(cfg.cwd, arg as string);
    else if (opt === 'p') o.prefix = path.resolve(cfg.cwd, arg as string);
    else if (opt === 'U') {
      o.replaceSame = true;
      o.replace = true;
    } else if (opt === 'u') o.replace = true;
    else if (opt === 'v') o.verbose = true;
    else if (opt === 'V') {
      tool.out(`${toolsVersion(cfg.dbdir)}\n`);
      return 0;
    } else if (opt === 'h') usage();
    else if (opt === 'n' || opt === 'R' || opt === 'P') {
      tool.errx(1, `the pkgsrc simulator does not support pkg_add -${opt}`);
    }
    // -C config, -I (no install scripts), -m machine, -t template: accepted and ignored.
  }
  if (args.length === 0) {
    tool.warnx('missing package name(s)');
    usage();
  }
  const installer = new Installer(tool, cfg, new PkgDb(dbdir, tool), o);
  let errors = 0;
  for (const a of args) if (!installer.pkgDo(a === '-' ? '-' : a, o.automatic, true)) errors++;
  if (errors > 0) {
    tool.warnx(`${errors} package addition${errors === 1 ? '' : 's'} failed`);
    return 1;
  }
  return 0;
}
