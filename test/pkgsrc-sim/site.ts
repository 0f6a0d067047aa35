// A simulated grid site for tests and the demo: ROOT/sw is the VO software area, ROOT/sw/pkg the pkgsrc prefix with
// its pkgdb and four wrapper scripts in sbin/ that run the pkgsrc simulator (a test and demo double, not pkgsrc).
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { memorySink, Tool } from './output.js';
import { BUNDLE_PATH } from './paths.js';
import { DEFAULT_ADD_OPTIONS, Installer } from './pkg_add.js';
import { PkgDb, type SimConfig } from './pkgdb.js';
import {
  createRepository,
  DEFAULT_PACKAGES,
  type PackageDefinition,
  VULNERABILITY_LIST_FILE,
  writePackages,
} from './repository.js';

export interface SimSite {
  /** the site's root directory */
  root: string;
  /** ROOT/sw: the VO software area */
  swdir: string;
  /** ROOT/sw/pkg: the installation prefix */
  prefix: string;
  /** PREFIX/pkgdb */
  pkgdb: string;
  /** PREFIX/sbin: pkg_info, pkg_add, pkg_delete, pkg_admin wrappers */
  sbin: string;
}

export interface CreateSiteOptions {
  root: string;
  /**
   * the repository's All directory (PKG_PATH), as returned by createRepository(), for `installed`. Its packages
   * install into the prefix they were built for: build it for `sitePrefix(root)` to fill this site.
   */
  repository: string;
  /** install the bootstrap packages and the wrappers (default true); false leaves the software area empty */
  bootstrap?: boolean;
  /** PKGNAMEs or patterns to install with pkg_add semantics (dependencies become automatic) */
  installed?: string[];
  /** copy the fixture vulnerability list into PKGDBDIR/pkg-vulnerabilities (default 'installed') */
  vulnerabilityList?: 'installed' | 'missing';
  /** the file `pkg_admin fetch-pkg-vulnerabilities` downloads; unset = the site is offline */
  vulnSource?: string;
  /**
   * `chmod -R g+w PREFIX` after bootstrap, as a VO whose software manager maps to several pool accounts must do.
   * Default false: the prefix as a real `bootstrap --unprivileged` leaves it (pkgdb/ 0755, files 0644).
   */
  groupWritable?: boolean;
}

export const TOOLS = ['pkg_info', 'pkg_add', 'pkg_delete', 'pkg_admin'] as const;

/** Single-quote for sh: nothing inside is interpreted. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function wrapperScript(tool: string, site: SimSite, vulnSource: string | undefined): string {
  const vuln =
    vulnSource === undefined
      ? 'unset PKGSIM_VULN_SOURCE\n'
      : `PKGSIM_VULN_SOURCE=${shQuote(path.resolve(vulnSource))}\nexport PKGSIM_VULN_SOURCE\n`;
  return (
    '#!/bin/sh\n' +
    `# ${tool} of the pkgsrc simulator: a test and demo double of pkg_install 20170419, NOT pkgsrc.\n` +
    '# See test/pkgsrc-sim/README.md in the gridpkg repository.\n' +
    `PKGSIM_PREFIX=${shQuote(site.prefix)}\n` +
    `PKGSIM_DBDIR=${shQuote(site.pkgdb)}\n` +
    'export PKGSIM_PREFIX PKGSIM_DBDIR\n' +
    vuln +
    // The simulator speaks no TLS (fetch.ts ignores https://), so an extra CA bundle is only start-up cost: Node
    // reads and parses it at every start (~65 ms of CPU per tool call where it names the system bundle).
    'unset NODE_EXTRA_CA_CERTS\n' +
    `exec ${shQuote(process.execPath)} ${shQuote(BUNDLE_PATH)} ${tool} "$@"\n`
  );
}

/**
 * The modes of everything below DIR (DIR included) as `bootstrap --unprivileged` under the usual umask 022 leaves
 * them, whatever this process's umask: no group or other write (directories 0755, files 0644, executables 0755).
 */
function asBootstrapLeavesIt(dir: string): void {
  chmodTree(dir, (mode) => mode & ~0o022);
}

/** chmod -R g+w DIR: what the VO's software manager runs so that every pool account of the group can write. */
function groupWritableTree(dir: string): void {
  chmodTree(dir, (mode) => mode | 0o020);
}

function chmodTree(dir: string, change: (mode: number) => number): void {
  chmodSync(dir, change(statSync(dir).mode & 0o7777));
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) chmodTree(full, change);
    else if (d.isFile()) chmodSync(full, change(statSync(full).mode & 0o7777));
  }
}

/** The prefix of the site createSite() makes under ROOT: build its repository for this prefix. */
export function sitePrefix(root: string): string {
  return path.join(path.resolve(root), 'sw', 'pkg');
}

export async function createSite(options: CreateSiteOptions): Promise<SimSite> {
  const root = path.resolve(options.root);
  const prefix = sitePrefix(root);
  const swdir = path.dirname(prefix);
  const site: SimSite = {
    root,
    swdir,
    prefix,
    pkgdb: path.join(prefix, 'pkgdb'),
    sbin: path.join(prefix, 'sbin'),
  };
  mkdirSync(swdir, { recursive: true });
  // The VO software area itself is made by the site for the VO's group: group-writable.
  chmodSync(swdir, 0o775);
  if (options.bootstrap === false) return site;
  mkdirSync(site.pkgdb, { recursive: true });
  mkdirSync(site.sbin, { recursive: true });
  for (const tool of TOOLS) {
    const file = path.join(site.sbin, tool);
    writeFileSync(file, wrapperScript(tool, site, options.vulnSource));
    chmodSync(file, 0o775);
  }

  const repository = path.resolve(options.repository);
  const config = (dir: string): SimConfig => ({
    prefix,
    dbdir: site.pkgdb,
    pkgVulnDir: undefined,
    vulnSource: options.vulnSource,
    pkgPath: [dir],
    pkgPathRaw: dir,
    cwd: dir,
  });
  const install = (cfg: SimConfig, names: readonly string[], what: string) => {
    for (const name of names) {
      const sink = memorySink();
      const tool = new Tool('pkg_add', sink);
      const ok = new Installer(tool, cfg, new PkgDb(site.pkgdb, tool), DEFAULT_ADD_OPTIONS).pkgDo(
        name,
        false,
        true,
      );
      tool.flush();
      if (!ok) throw new Error(`createSite: ${what} pkg_add ${name} failed:\n${sink.merged}`);
    }
  };
  // `bootstrap --unprivileged` builds its packages for the prefix it bootstraps: so does this one, from a kit of
  // the bootstrap packages built for this site's prefix (not from the repository, which may be for another one).
  const kit = mkdtempSync(path.join(os.tmpdir(), 'pkgsim-bootstrap-'));
  try {
    const bootstrap = DEFAULT_PACKAGES.filter((p) => p.bootstrap);
    await writePackages(kit, bootstrap, prefix);
    install(
      config(kit),
      bootstrap.map((p) => p.pkgname),
      'bootstrap:',
    );
  } finally {
    rmSync(kit, { recursive: true, force: true });
  }
  install(config(repository), options.installed ?? [], '');
  if ((options.vulnerabilityList ?? 'installed') === 'installed') {
    copyFileSync(VULNERABILITY_LIST_FILE, path.join(site.pkgdb, 'pkg-vulnerabilities'));
  }
  // The file database pkg_add rewrites in place (the simulator keeps it empty: it finds owners by +CONTENTS).
  writeFileSync(path.join(site.pkgdb, 'pkgdb.byfile.db'), '');
  asBootstrapLeavesIt(prefix);
  if (options.groupWritable) groupWritableTree(prefix);
  return site;
}

/** A site together with the repository it installs from. */
export interface SiteWithRepository extends SimSite {
  /** the All directory of a repository built for this site's prefix */
  repository: string;
}

/**
 * A site prepared as the README says, with a repository of its own in REPOSITORYDIR built for its prefix: a binary
 * package installs only into the prefix it was built for, so sites with different prefixes need one each. The site
 * is group-writable unless told otherwise (`chmod -R g+w` after bootstrap).
 */
export async function createSiteWithRepository(
  options: Omit<CreateSiteOptions, 'repository'> & {
    repositoryDir: string;
    /** the repository's packages (default: the fixture's) */
    packages?: readonly PackageDefinition[];
  },
): Promise<SiteWithRepository> {
  const { repositoryDir, packages, ...siteOptions } = options;
  const repository = await createRepository(repositoryDir, packages, { prefix: sitePrefix(options.root) });
  const site = await createSite({ groupWritable: true, ...siteOptions, repository });
  return { ...site, repository };
}
