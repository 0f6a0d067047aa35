// pkg_admin(1) of pkg_install 20170419 (admin/main.c, admin/audit.c, admin/check.c): set/unset of +INSTALLED_INFO
// variables, audit / audit-pkg / audit-batch against PKGVULNDIR/pkg-vulnerabilities, fetch- and
// check-pkg-vulnerabilities, config-var, check, pmatch and rebuild-tree.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { getopt, strerror, type Tool } from './output.js';
import {
  appendLineAtomic,
  isPkgPattern,
  PkgDb,
  REQUIRED_BY,
  type SimConfig,
  toolsVersion,
  varSet,
  writeFileAtomic,
} from './pkgdb.js';
import { plistFiles, plistOf } from './plist.js';
import { decompress, parseVulnerabilities, type Vulnerability } from './vulnerabilities.js';

const TNF_VULNERABILITY_BASE = 'http://www.NetBSD.org/support/security';

function usageText(prog: string): string {
  return (
    `usage: ${prog} [-bqSVv] [-C config] [-d lsdir] [-K pkg_dbdir] [-s sfx] command [args ...]\n` +
    "Where 'commands' and 'args' are:\n" +
    ' rebuild                     - rebuild pkgdb from +CONTENTS files\n' +
    ' rebuild-tree                - rebuild +REQUIRED_BY files from forward deps\n' +
    ' check [pkg ...]             - check md5 checksum of installed files\n' +
    ' add pkg ...                 - add pkg files to database\n' +
    ' delete pkg ...              - delete file entries for pkg in database\n' +
    ' set variable=value pkg ...  - set installation variable for package\n' +
    ' unset variable pkg ...      - unset installation variable for package\n' +
    ' lsall /path/to/pkgpattern   - list all pkgs matching the pattern\n' +
    ' lsbest /path/to/pkgpattern  - list pkgs matching the pattern best\n' +
    ' dump                        - dump database\n' +
    ' pmatch pattern pkg          - returns true if pkg matches pattern, otherwise false\n' +
    ' fetch-pkg-vulnerabilities [-s] - fetch new vulnerability file\n' +
    ' check-pkg-vulnerabilities [-s] <file> - check syntax and checksums of the vulnerability file\n' +
    ' audit [-es] [-t type] ...       - check installed packages for vulnerabilities\n' +
    ' audit-pkg [-es] [-t type] ...   - check listed packages for vulnerabilities\n' +
    ' audit-batch [-es] [-t type] ... - check packages in listed files for vulnerabilities\n' +
    ' audit-history [-t type] ...     - print all advisories for package names\n' +
    ' check-license <condition>       - check if condition is acceptable\n' +
    ' check-single-license <license>  - check if license is acceptable\n' +
    ' config-var name                 - print current value of the configuration variable\n' +
    ' check-signature ...             - verify the signature of packages\n' +
    ' x509-sign-package pkg spkg key cert  - create X509 signature\n' +
    ' gpg-sign-package pkg spkg       - create GPG signature\n'
  );
}

class Admin {
  readonly tool: Tool;
  readonly cfg: SimConfig;
  readonly db: PkgDb;
  quiet = false;
  verbose = 0;
  private checkEol = false;
  private limitType: string | undefined;

  constructor(tool: Tool, cfg: SimConfig, db: PkgDb) {
    this.tool = tool;
    this.cfg = cfg;
    this.db = db;
  }

  usage(): never {
    this.tool.stderr(usageText(this.tool.name));
    return this.tool.exit(1);
  }

  get vulnFile(): string {
    return path.join(this.cfg.pkgVulnDir ?? this.db.dir, 'pkg-vulnerabilities');
  }

  /** audit.c parse_options(): -e -s -t type; returns the operands. */
  private parseOptions(args: readonly string[]): string[] {
    const { opts, args: rest } = getopt(this.tool, args, 'est:', () => this.usage());
    for (const { opt, arg } of opts) {
      if (opt === 'e') this.checkEol = true;
      else if (opt === 's') this.tool.errx(1, 'GPG variable not set in configuration file');
      else if (opt === 't') this.limitType = arg;
    }
    return rest;
  }

  private parseList(text: string): Vulnerability[] {
    return parseVulnerabilities(
      text,
      (m) => this.tool.errx(1, m),
      (m) => this.tool.warnx(m),
    );
  }

  /** read_pkg_vulnerabilities(path, 0, check_signature) */
  readList(file: string): Vulnerability[] {
    let raw: Buffer;
    try {
      const st = statSync(file);
      if (!st.isFile()) this.tool.errx(1, 'Input is not regular file');
      raw = readFileSync(file);
    } catch (e) {
      if (e instanceof Error && e.name === 'ExitError') throw e;
      return this.tool.err(1, `Cannot open ${file}`, e);
    }
    if (raw.length < 4) this.tool.errx(1, 'Input too short for a pkg_vulnerability file');
    return this.parseList(decompress(raw));
  }

  /** check_and_read_pkg_vulnerabilities() */
  private readInstalledList(): Vulnerability[] {
    if (this.verbose >= 1) {
      let mtime: number;
      try {
        mtime = statSync(this.vulnFile).mtimeMs;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          this.tool.errx(1, `pkg-vulnerabilities not found, run ${this.tool.name} -d`);
        }
        return this.tool.errx(1, 'pkg-vulnerabilities not readable');
      }
      const age = Math.floor((Date.now() - mtime) / 1000);
      if (age < 0) this.tool.warnx('pkg-vulnerabilities is from the future');
      else if (age > 86400 * 7)
        this.tool.warnx(`pkg-vulnerabilities is out of day (${Math.floor(age / 86400)} days old)`);
      else if (this.verbose >= 2) {
        const d = Math.floor(age / 86400);
        this.tool.warnx(`pkg-vulnerabilities is ${d} day${d === 1 ? '' : 's'} old`);
      }
    }
    return this.readList(this.vulnFile);
  }

  /** check_exact_pkg(): true when PKG is vulnerable. */
  private checkExact(list: Vulnerability[], pkg: string): boolean {
    let ret = false;
    for (const v of list) {
      if (this.limitType !== undefined && this.limitType !== v.classification) continue;
      if (!this.db.match(v.pattern, pkg)) continue;
      if (v.classification === 'eol') {
        if (!this.checkEol) continue;
        if (this.quiet) this.tool.out(`${pkg}\n`);
        else {
          this.tool.out(
            `Package ${pkg} has reached end-of-life (eol), see ${TNF_VULNERABILITY_BASE}/eol-packages\n`,
          );
        }
        continue;
      }
      if (this.quiet) this.tool.out(`${pkg}\n`);
      else this.tool.out(`Package ${pkg} has a ${v.classification} vulnerability, see ${v.url}\n`);
      ret = true;
    }
    return ret;
  }

  private finishAudit(vulnerable: boolean): number {
    if (!vulnerable && this.verbose >= 1) this.tool.stderr('No vulnerabilities found\n');
    return vulnerable ? 1 : 0;
  }

  audit(args: readonly string[]): number {
    const rest = this.parseOptions(args);
    const list = this.readInstalledList();
    let rv = false;
    const patterns = rest.length === 0 ? ['*'] : rest;
    for (const pattern of patterns)
      for (const pkg of this.db.matching(pattern)) rv = this.checkExact(list, pkg) || rv;
    return this.finishAudit(rv);
  }

  auditPkg(args: readonly string[]): number {
    const rest = this.parseOptions(args);
    const list = this.readInstalledList();
    let rv = false;
    for (const pkg of rest) rv = this.checkExact(list, pkg) || rv;
    return this.finishAudit(rv);
  }

  auditBatch(args: readonly string[]): number {
    const rest = this.parseOptions(args);
    const list = this.readInstalledList();
    let rv = false;
    for (const f of rest) {
      let text: string;
      try {
        text = readFileSync(f === '-' ? 0 : path.resolve(this.cfg.cwd, f), 'utf8');
      } catch (e) {
        return this.tool.err(1, `Failed to open input file ${f}`, e);
      }
      for (const line of text.split('\n')) if (line !== '') rv = this.checkExact(list, line) || rv;
    }
    return this.finishAudit(rv);
  }

  checkPkgVulnerabilities(args: readonly string[]): number {
    const rest = this.parseOptions(args);
    if (rest.length !== 1) this.usage();
    this.readList(path.resolve(this.cfg.cwd, rest[0] as string));
    return 0;
  }

  fetchPkgVulnerabilities(args: readonly string[]): number {
    const rest = this.parseOptions(args);
    if (rest.length !== 0) this.usage();
    const source = this.cfg.vulnSource;
    // A grid worker node usually has no way out: libfetch then reports the failed DNS lookup.
    if (source === undefined) this.tool.errx(1, 'Could not fetch vulnerability file: No address record');
    let raw: Buffer;
    try {
      raw = readFileSync(source);
    } catch (e) {
      return this.tool.errx(1, `Could not fetch vulnerability file: ${strerror(e)}`);
    }
    this.parseList(decompress(raw));
    try {
      writeFileAtomic(this.vulnFile, raw, 0o644);
    } catch (e) {
      this.tool.err(1, `Cannot create pkg-vulnerability file ${this.vulnFile}`, e);
    }
    return 0;
  }

  configVar(args: readonly string[]): number {
    if (args.length !== 1) this.tool.errx(1, 'config-var takes exactly one argument');
    const values: Record<string, string | undefined> = {
      PKG_DBDIR: this.db.dir,
      PKGVULNDIR: this.cfg.pkgVulnDir ?? this.db.dir,
      PKG_PATH: this.cfg.pkgPathRaw,
      PKG_REFCOUNT_DBDIR: `${this.db.dir}.refcount`,
      CHECK_VULNERABILITIES: 'never',
      CHECK_LICENSE: 'no',
      VERIFIED_INSTALLATION: 'never',
    };
    const v = values[args[0] as string];
    if (v !== undefined) this.tool.out(`${v}\n`);
    return 0;
  }

  setUnset(args: readonly string[], unset: boolean): number {
    if (args[0] === undefined || args[1] === undefined) this.usage();
    let variable: string;
    let value: string | undefined;
    if (unset) {
      variable = args[0] as string;
    } else {
      const eq = (args[0] as string).indexOf('=');
      if (eq < 0) this.usage();
      variable = (args[0] as string).slice(0, eq);
      value = (args[0] as string).slice(eq + 1);
      if (variable === 'automatic' && value.toLowerCase() !== 'yes' && value.toLowerCase() !== 'no') {
        this.tool.errx(1, `unknown value \`${value}' for automatic`);
      }
    }
    if (/[A-Z]/.test(variable)) this.tool.errx(1, 'variable name must not contain uppercase letters');
    let ret = 0;
    for (const arg of args.slice(1)) {
      let found = this.db.matching(arg);
      if (found.length === 0) {
        if (isPkgPattern(arg)) {
          this.tool.warnx(`no matching pkg for \`${arg}'`);
          ret++;
          continue;
        }
        found = this.db.matching(`${arg}-[0-9]*`);
        if (found.length === 0) {
          this.tool.warnx(`cannot find package ${arg}`);
          ret++;
          continue;
        }
      }
      for (const pkg of found) varSet(this.db.pkgFile(pkg, '+INSTALLED_INFO'), variable, value);
    }
    return ret > 0 ? 1 : 0;
  }

  check(args: readonly string[]): number {
    const tool: Tool = this.tool;
    const db: PkgDb = this.db;
    tool.setUnbuffered();
    let filecnt = 0;
    let pkgcnt = 0;
    const check1 = (pkg: string) => {
      const plist = db.plist(pkg);
      if (plist === undefined) {
        tool.errx(1, `can't open ${db.pkgFile(pkg, '+CONTENTS')}: No such file or directory`);
      }
      const name = plist.find((e) => e.type === 'name')?.name;
      if (name === undefined) tool.errx(1, `Package ${pkg} has no @name, aborting.`);
      for (const f of plistFiles(plist, undefined)) {
        const file = f.path.startsWith('./') ? path.join(db.pkgDir(pkg), f.name) : f.path;
        let ok = false;
        try {
          ok = statSync(file).isFile() || statSync(file).isDirectory();
        } catch {
          ok = false;
        }
        if (ok) {
          if (f.md5 !== undefined) {
            const md5 = createHash('md5').update(readFileSync(file)).digest('hex');
            if (md5 !== f.md5) tool.out(`${file} fails MD5 checksum\n`);
          }
          filecnt++;
        } else {
          let broken = false;
          try {
            broken = lstatSync(file).isSymbolicLink();
          } catch {
            broken = false;
          }
          if (broken)
            tool.warnx(`${name}: Symlink \`${file}' exists and is in +CONTENTS but target does not exist!`);
          else tool.warnx(`${name}: File \`${file}' is in +CONTENTS but not on filesystem!`);
        }
      }
      pkgcnt++;
      if (!this.quiet) tool.out('.');
    };
    const checkPkg = (pattern: string, allowUnmatched: boolean) => {
      const found = db.matching(pattern);
      if (found.length > 0) {
        for (const p of found) check1(p);
        return;
      }
      if (isPkgPattern(pattern)) {
        if (allowUnmatched) return;
        tool.errx(1, `No matching pkg for ${pattern}.`);
      }
      const again = db.matching(`${pattern}-[0-9]*`);
      if (again.length === 0) tool.errx(1, `cannot find package ${pattern}`);
      for (const p of again) check1(p);
    };
    if (args.length === 0) checkPkg('*', true);
    else for (const a of args) checkPkg(a, false);
    tool.out('\n');
    tool.out(
      `Checked ${filecnt} file${filecnt === 1 ? '' : 's'} from ${pkgcnt} package${pkgcnt === 1 ? '' : 's'}.\n`,
    );
    if (!this.quiet) tool.out('Done.\n');
    return 0;
  }

  rebuildTree(): number {
    const tool: Tool = this.tool;
    const db: PkgDb = this.db;
    for (const pkg of db.list()) rmSync(db.pkgFile(pkg, REQUIRED_BY), { force: true });
    for (const pkg of db.list()) {
      const plist = db.plist(pkg);
      if (plist === undefined) tool.errx(1, `Cannot read +CONTENTS of package ${pkg}`);
      for (const dep of plistOf(plist, 'pkgdep')) {
        const best = db.best(dep.name);
        if (best === undefined) tool.warnx(`Dependency ${dep.name} of ${pkg} unresolved`);
        else appendLineAtomic(db.pkgFile(best, REQUIRED_BY), pkg);
      }
    }
    tool.out('Done.\n');
    return 0;
  }
}

export function pkgAdmin(tool: Tool, cfg: SimConfig, argv: readonly string[]): number {
  const early = new Admin(tool, cfg, new PkgDb(cfg.dbdir, tool));
  if (argv.length < 1) early.usage();
  // Global options end at the command (the sub-commands have options of their own).
  const { opts, args } = getopt(tool, argv, 'C:K:SVbd:qs:v', () => early.usage(), false);
  let dbdir = cfg.dbdir;
  let quiet = false;
  let verbose = 0;
  for (const { opt, arg } of opts) {
    if (opt === 'K') dbdir = path.resolve(cfg.cwd, arg as string);
    else if (opt === 'q') quiet = true;
    else if (opt === 'v') verbose++;
    else if (opt === 'V') {
      tool.out(`${toolsVersion(cfg.dbdir)}\n`);
      return 0;
    }
    // -C config, -S, -b, -d lsdir, -s sfx: accepted; they only matter for commands the simulator lacks.
  }
  const admin = new Admin(tool, { ...cfg, dbdir }, new PkgDb(dbdir, tool));
  admin.quiet = quiet;
  admin.verbose = verbose;
  if (args.length === 0) admin.usage();
  const cmd = (args[0] as string).toLowerCase();
  const rest = args.slice(1);
  switch (cmd) {
    case 'pmatch':
      if (rest[0] === undefined || rest[1] === undefined) admin.usage();
      return admin.db.match(rest[0] as string, rest[1] as string) ? 0 : 1;
    case 'check':
      return admin.check(rest);
    case 'set':
      return admin.setUnset(rest, false);
    case 'unset':
      return admin.setUnset(rest, true);
    case 'config-var':
      return admin.configVar(rest);
    case 'fetch-pkg-vulnerabilities':
      return admin.fetchPkgVulnerabilities(rest);
    case 'check-pkg-vulnerabilities':
      return admin.checkPkgVulnerabilities(rest);
    case 'audit':
      return admin.audit(rest);
    case 'audit-pkg':
      return admin.auditPkg(rest);
    case 'audit-batch':
      return admin.auditBatch(rest);
    case 'rebuild-tree':
      return admin.rebuildTree();
    case 'rebuild':
    case 'add':
    case 'delete':
    case 'lsall':
    case 'lsbest':
    case 'list':
    case 'dump':
    case 'audit-history':
    case 'check-license':
    case 'check-single-license':
    case 'findbest':
    case 'check-signature':
    case 'x509-sign-package':
    case 'gpg-sign-package':
    case 'digest':
      return tool.errx(1, `${cmd}: not implemented by the pkgsrc simulator (a test double)`);
    default:
      return admin.usage();
  }
}
