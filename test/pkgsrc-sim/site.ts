// A simulated grid site for tests and the demo: ROOT/sw is the VO software area, ROOT/sw/pkg the pkgsrc prefix with
// its pkgdb and four wrapper scripts in sbin/ that run the pkgsrc simulator (a test and demo double, not pkgsrc).
import { chmodSync, copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { memorySink, Tool } from './output.js';
import { BUNDLE_PATH } from './paths.js';
import { DEFAULT_ADD_OPTIONS, Installer } from './pkg_add.js';
import { PkgDb, type SimConfig } from './pkgdb.js';
import { BOOTSTRAP_PACKAGES, VULNERABILITY_LIST_FILE } from './repository.js';

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
  /** the repository's All directory (PKG_PATH), as returned by createRepository() */
  repository: string;
  /** install the bootstrap packages and the wrappers (default true); false leaves the software area empty */
  bootstrap?: boolean;
  /** PKGNAMEs or patterns to install with pkg_add semantics (dependencies become automatic) */
  installed?: string[];
  /** copy the fixture vulnerability list into PKGDBDIR/pkg-vulnerabilities (default 'installed') */
  vulnerabilityList?: 'installed' | 'missing';
  /** the file `pkg_admin fetch-pkg-vulnerabilities` downloads; unset = the site is offline */
  vulnSource?: string;
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
    `exec ${shQuote(process.execPath)} ${shQuote(BUNDLE_PATH)} ${tool} "$@"\n`
  );
}

/** chmod g+w (and g+rx) every directory below DIR, DIR included: the VO software area rule. */
function groupWritable(dir: string): void {
  const st = statSync(dir);
  chmodSync(dir, (st.mode & 0o7777) | 0o070);
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory()) groupWritable(path.join(dir, d.name));
  }
}

export async function createSite(options: CreateSiteOptions): Promise<SimSite> {
  const root = path.resolve(options.root);
  const swdir = path.join(root, 'sw');
  const prefix = path.join(swdir, 'pkg');
  const site: SimSite = {
    root,
    swdir,
    prefix,
    pkgdb: path.join(prefix, 'pkgdb'),
    sbin: path.join(prefix, 'sbin'),
  };
  mkdirSync(swdir, { recursive: true });
  if (options.bootstrap === false) {
    groupWritable(swdir);
    return site;
  }
  mkdirSync(site.pkgdb, { recursive: true });
  mkdirSync(site.sbin, { recursive: true });
  for (const tool of TOOLS) {
    const file = path.join(site.sbin, tool);
    writeFileSync(file, wrapperScript(tool, site, options.vulnSource));
    chmodSync(file, 0o775);
  }

  const repository = path.resolve(options.repository);
  const cfg: SimConfig = {
    prefix,
    dbdir: site.pkgdb,
    pkgVulnDir: undefined,
    vulnSource: options.vulnSource,
    pkgPath: [repository],
    pkgPathRaw: repository,
    cwd: repository,
  };
  const install = (names: readonly string[], what: string) => {
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
  install(BOOTSTRAP_PACKAGES, 'bootstrap:');
  install(options.installed ?? [], '');
  if ((options.vulnerabilityList ?? 'installed') === 'installed') {
    copyFileSync(VULNERABILITY_LIST_FILE, path.join(site.pkgdb, 'pkg-vulnerabilities'));
  }
  groupWritable(swdir);
  return site;
}
