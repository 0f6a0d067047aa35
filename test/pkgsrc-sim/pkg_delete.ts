// pkg_delete(1) of pkg_install 20170419 (delete/pkg_delete.c): argument resolution (full name, basename, pattern),
// the topological sort with -r (sort_and_recurse), -A/-R leaf removal, and remove_pkg(): payload files (MD5 checked),
// the package's line in its dependencies' +REQUIRED_BY, then the pkgdb directory.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { getopt, type Tool } from './output.js';
import {
  CONTENTS,
  isPkgPattern,
  PkgDb,
  PRESERVE,
  REQUIRED_BY,
  removeLineAtomic,
  type SimConfig,
  toolsVersion,
} from './pkgdb.js';
import { type PlistEntry, plistFiles } from './plist.js';

export interface RemoveOptions {
  /** -p: replaces the first @cwd */
  prefix: string | undefined;
  /** -f count */
  force: number;
  /** -N: only unregister, leave the files */
  unregisterOnly: boolean;
  /** -n */
  fake: boolean;
  verbose: boolean;
}

function md5File(file: string): string | undefined {
  try {
    return createHash('md5').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** delete_with_parents(): remove the file, then its parent directories while they are empty (never the prefix). */
function deleteWithParents(tool: Tool, file: string, stopAt: string): void {
  try {
    unlinkSync(file);
  } catch {
    tool.warnx(`Couldn't remove ${file}`);
    return;
  }
  let dir = path.dirname(file);
  const stop = path.resolve(stopAt);
  while (dir.startsWith(`${stop}/`) && dir !== stop) {
    try {
      if (readdirSync(dir).length !== 0) break;
      rmdirSync(dir);
    } catch {
      break;
    }
    dir = path.dirname(dir);
  }
}

/** delete_package(): the payload files. Returns false when some file was left in place. */
function deletePayload(tool: Tool, plist: PlistEntry[], opts: RemoveOptions): boolean {
  let ok = true;
  const firstCwd = plist.find((e) => e.type === 'cwd')?.name;
  if (firstCwd === undefined || !plist.some((e) => e.type === 'name')) tool.errx(1, 'broken PLIST');
  // pkg_install resolves every file against the first @cwd (the prefix) when deleting.
  const files: Array<{ name: string; md5: string | undefined }> = [];
  for (let i = 0; i < plist.length; i++) {
    const e = plist[i] as PlistEntry;
    if (e.type === 'ignore') {
      i++;
      continue;
    }
    if (e.type !== 'file') continue;
    const next = plist[i + 1];
    files.push({
      name: e.name,
      md5: next?.type === 'comment' && next.name.startsWith('MD5:') ? next.name.slice(4) : undefined,
    });
  }
  for (const f of files) {
    const full = path.join(firstCwd, f.name);
    if (isDir(full)) {
      tool.warnx(
        `attempting to delete directory \`${full}' as a file\nthis packing list is incorrect - ignoring delete request`,
      );
      continue;
    }
    if (f.md5 !== undefined) {
      const actual = md5File(full);
      if (actual !== undefined && actual !== f.md5) {
        tool.out(
          `original MD5 checksum failed, ${opts.force > 0 ? 'deleting anyway' : 'not deleting'}: ${full}\n`,
        );
        if (opts.force === 0) {
          ok = false;
          continue;
        }
      }
    }
    if (!opts.fake && !opts.unregisterOnly) deleteWithParents(tool, full, firstCwd);
  }
  return ok;
}

/** remove_pkg(): 0 on success, 1 on failure. */
export function removePkg(tool: Tool, db: PkgDb, pkg: string, opts: RemoveOptions): number {
  const contents = db.pkgFile(pkg, CONTENTS);
  let plist = db.plist(pkg);
  if (plist === undefined) {
    tool.warnx(`package \`${pkg}' is not installed, \`${contents}' missing`);
    return 1;
  }
  if (opts.prefix !== undefined) {
    const i = plist.findIndex((e) => e.type === 'cwd');
    if (i >= 0) plist = plist.filter((_, j) => j !== i);
    plist = [{ type: 'cwd', name: opts.prefix, cmd: 'cwd' }, ...plist];
  }
  if (!plist.some((e) => e.type === 'cwd')) {
    tool.warnx(`Package \`${pkg}' doesn't have a prefix`);
    return 1;
  }
  if (!plist.some((e) => e.type === 'name')) {
    tool.warnx(`Package \`${pkg}' doesn't have a name`);
    plist = [{ type: 'name', name: pkg, cmd: 'name' }, ...plist];
  }
  if (opts.fake) {
    tool.out(`Attempting to delete package \`${pkg}'\n`);
  } else if (!deletePayload(tool, plist, opts)) {
    tool.warnx(`couldn't entirely delete package \`${pkg}'`);
  }
  for (const e of plist) {
    if (e.type !== 'pkgdep') continue;
    if (opts.verbose) tool.out(`Attempting to remove dependency on package \`${e.name}'\n`);
    if (opts.fake) continue;
    for (const dep of db.matching(e.name)) removeLineAtomic(db.pkgFile(dep, REQUIRED_BY), pkg);
  }
  if (opts.fake) return 0;
  const dir = db.pkgDir(pkg);
  for (const f of readdirSync(dir)) if (f.startsWith('+')) rmSync(path.join(dir, f), { force: true });
  try {
    rmdirSync(dir);
    return 0;
  } catch {
    if (opts.force === 0) {
      tool.warnx(`Couldn't remove package directory in \`${dir}'`);
    } else {
      rmSync(dir, { recursive: true, force: true });
      tool.warnx(`Package directory \`${dir}' forcefully removed`);
    }
    return 1;
  }
}

interface Item {
  name: string;
}

/**
 * process_required_by(): 0 check no dependents remain, 1 like 0 but queue them at the head of `pkgs`, 2 print the
 * remaining ones to stderr, 3 check that all (and at least one) dependents are being removed.
 */
function processRequiredBy(
  tool: Tool,
  db: PkgDb,
  pkg: string,
  pkgs: Item[] | null,
  sorted: Item[],
  action: 0 | 1 | 2 | 3,
): number {
  if (db.read(pkg, REQUIRED_BY) === undefined) return 0;
  let gotMatch = 0;
  let gotMiss = 0;
  for (const line of db.requiredBy(pkg)) {
    if (sorted.some((i) => i.name === line)) {
      gotMatch = 1;
      continue;
    }
    gotMiss = 1;
    if (pkgs?.some((i) => i.name === line)) continue;
    switch (action) {
      case 0:
        return 1;
      case 1:
        pkgs?.unshift({ name: line });
        break;
      case 2:
        tool.stderr(`\t${line}\n`);
        break;
      case 3:
        return 0;
    }
  }
  return action === 3 ? gotMatch : gotMiss;
}

/** sort_and_recurse(): returns true on failure ("still required"). */
function sortAndRecurse(
  tool: Tool,
  db: PkgDb,
  pkgs: Item[],
  sorted: Item[],
  recursive: boolean,
  force: number,
) {
  // Drop duplicates (the later of two equal names survives, as in the C loop).
  for (let i = 0; i < pkgs.length; ) {
    const item = pkgs[i] as Item;
    if (pkgs.some((o, j) => j !== i && o.name === item.name)) pkgs.splice(i, 1);
    else i++;
  }
  while (pkgs.length > 0) {
    const oldTail = sorted[sorted.length - 1];
    const oldHead = pkgs[0];
    for (const item of [...pkgs]) {
      if (processRequiredBy(tool, db, item.name, pkgs, sorted, recursive ? 1 : 0) !== 0) continue;
      pkgs.splice(pkgs.indexOf(item), 1);
      sorted.push(item);
    }
    if (oldTail === sorted[sorted.length - 1] && oldHead === pkgs[0]) break;
  }
  if (pkgs.length === 0) return false;
  while (pkgs.length > 0) {
    const item = pkgs.shift() as Item;
    tool.stderr(`Package \`${item.name}' is still required by other packages:\n`);
    processRequiredBy(tool, db, item.name, null, sorted, 2);
    if (force > 0) sorted.push(item);
  }
  return force === 0;
}

/** find_new_leaves() for -R (all new leaves) and -A (automatic ones only). */
function findNewLeaves(
  db: PkgDb,
  tool: Tool,
  sorted: Item[],
  newLeaves: boolean,
  automaticLeaves: boolean,
): void {
  let progress = true;
  while (progress) {
    progress = false;
    for (const pkg of db.list()) {
      if (db.read(pkg, PRESERVE) !== undefined) continue;
      if (automaticLeaves && !newLeaves && !db.isAutomatic(pkg)) continue;
      if (sorted.some((i) => i.name === pkg)) continue;
      if (processRequiredBy(tool, db, pkg, null, sorted, 3) === 1) {
        sorted.push({ name: pkg });
        progress = true;
      }
    }
  }
}

export function pkgDelete(tool: Tool, cfg: SimConfig, argv: readonly string[]): number {
  const usage = (): never => {
    tool.stderr('usage: pkg_delete [-DFfkNnORrVv] [-K pkg_dbdir] [-P destdir] [-p prefix] pkg-name ...\n');
    return tool.exit(1);
  };
  const { opts, args } = getopt(tool, argv, 'ADFfK:kNnOP:p:RrVv', usage);
  let dbdir = cfg.dbdir;
  let automaticLeaves = false;
  let newLeaves = false;
  let recursive = false;
  let byFilename = false;
  let keepPreserve = false;
  const ro: RemoveOptions = {
    prefix: undefined,
    force: 0,
    unregisterOnly: false,
    fake: false,
    verbose: false,
  };
  for (const { opt, arg } of opts) {
    if (opt === 'A') automaticLeaves = true;
    else if (opt === 'F') byFilename = true;
    else if (opt === 'f') ro.force++;
    else if (opt === 'K') dbdir = path.resolve(cfg.cwd, arg as string);
    else if (opt === 'k') keepPreserve = true;
    else if (opt === 'N' || opt === 'O') ro.unregisterOnly = true;
    else if (opt === 'n') ro.fake = true;
    else if (opt === 'P') tool.errx(1, 'the pkgsrc simulator does not support -P destdir');
    else if (opt === 'p') ro.prefix = arg;
    else if (opt === 'R') newLeaves = true;
    else if (opt === 'r') recursive = true;
    else if (opt === 'V') {
      tool.out(`${toolsVersion(cfg.dbdir)}\n`);
      return 0;
    } else if (opt === 'v') ro.verbose = true;
    // -D (no deinstall scripts): the simulator never runs scripts.
  }
  if (args.length === 0) {
    tool.warnx(byFilename ? 'Missing filename(s)' : 'Missing package name(s)');
    usage();
  }
  const db = new PkgDb(dbdir, tool);
  const pkgs: Item[] = [];
  let hasError = false;
  for (const arg of args) {
    if (byFilename) {
      const owner = ownerOf(db, path.resolve(cfg.cwd, arg));
      if (owner === undefined) {
        tool.warnx(`No matching package for file \`${arg}' in pkgdb`);
        hasError = true;
      } else pkgs.push({ name: owner });
    } else if (isPkgPattern(arg)) {
      const found = db.matching(arg);
      if (found.length === 0) {
        tool.warnx(`No package matching \`${arg}' found`);
        hasError = true;
      }
      for (const p of found) pkgs.push({ name: p });
    } else {
      let pkg = arg;
      if (pkg.startsWith('/')) {
        if (!pkg.startsWith(`${db.dir}/`)) {
          tool.warnx(`Absolute path is not relative to package database, skipping: ${arg}`);
          hasError = true;
          continue;
        }
        pkg = pkg.slice(db.dir.length + 1);
      }
      const slash = pkg.indexOf('/');
      if (slash >= 0) {
        if (pkg.slice(slash).replace(/\//g, '') !== '') {
          tool.warnx(`\`${arg}' is not a package name, skipping`);
          hasError = true;
          continue;
        }
        pkg = pkg.slice(0, slash);
      }
      if (db.isInstalled(pkg)) {
        pkgs.push({ name: pkg });
        continue;
      }
      const found = db.byBasename(pkg);
      if (found.length === 0) {
        tool.warnx(`No matching package for basename \`${pkg}' of \`${arg}'`);
        hasError = true;
      }
      for (const p of found) pkgs.push({ name: p });
    }
  }
  if (hasError && ro.force === 0) return 1;
  const sorted: Item[] = [];
  if (sortAndRecurse(tool, db, pkgs, sorted, recursive, ro.force)) return 1;
  if (newLeaves || automaticLeaves) findNewLeaves(db, tool, sorted, newLeaves, automaticLeaves);
  // find_preserve_pkgs()
  let foundPreserve = false;
  for (const item of [...sorted]) {
    if (db.read(item.name, PRESERVE) === undefined) continue;
    if (keepPreserve) {
      sorted.splice(sorted.indexOf(item), 1);
      continue;
    }
    if (!foundPreserve) tool.warnx('The following packages are marked as not for deletion:');
    foundPreserve = true;
    tool.stderr(`\t${item.name}\n`);
  }
  if (foundPreserve) {
    if (ro.force === 0 || (!ro.unregisterOnly && ro.force === 1)) return 1;
    tool.stderr('...but will delete them anyway\n');
  }
  let bad = 0;
  for (const item of sorted) {
    if (removePkg(tool, db, item.name, ro) !== 0) {
      bad++;
      if (ro.force === 0) break;
    }
  }
  if (ro.force > 0 && bad > 0 && ro.verbose) tool.warnx(`Removal of ${bad} packages failed`);
  return bad > 0 ? 1 : 0;
}

/** pkgdb_retrieve(): the simulator keeps no pkgdb.byfile.db, so it scans the packing lists. */
export function ownerOf(db: PkgDb, file: string): string | undefined {
  for (const pkg of db.list()) {
    const plist = db.plist(pkg);
    if (plist === undefined) continue;
    if (plistFiles(plist).some((f) => f.path === file)) return pkg;
  }
  return undefined;
}
