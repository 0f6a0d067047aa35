// A binary package repository for the pkgsrc simulator (a test and demo double, see README.md): DIR/All/<PKGNAME>.tgz
// written as pkg_create writes them (gzip'd ustar: +CONTENTS, +COMMENT, +DESC, +BUILD_INFO, then the payload in
// packing-list order) plus DIR/All/pkg_summary(.gz) in pkg_summary(5) format. Package definitions are data:
// test/fixtures/repository/packages.json.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FIXTURE_DIR } from './paths.js';
import { writeFileAtomic } from './pkgdb.js';
import { parsePlist } from './plist.js';
import { summaryRecord } from './summary.js';

export interface PayloadFile {
  /** path relative to the prefix, e.g. `bin/gsl-hello` */
  path: string;
  content: string;
  /** permission bits, default 0644 */
  mode?: number;
}

export interface PackageDefinition {
  pkgname: string;
  pkgpath: string;
  comment: string;
  /** DEPENDS patterns, written as @pkgdep lines */
  depends: readonly string[];
  categories: string;
  homepage: string;
  license: string;
  /** +DESC, one entry per line */
  description: readonly string[];
  /** installed by `bootstrap --unprivileged` (createSite installs these first) */
  bootstrap?: boolean;
  /** the payload; default bin/<base>-hello and share/<base>/README */
  files?: readonly PayloadFile[];
  /** +BUILD_INFO values that differ from the repository's (e.g. a newer PKGTOOLS_VERSION) */
  buildInfo?: Readonly<Record<string, string>>;
}

interface Fixture {
  buildPrefix: string;
  buildInfo: Record<string, string>;
  packages: PackageDefinition[];
}

function fail(what: string): never {
  throw new Error(`test/fixtures/repository/packages.json: ${what}`);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function loadFixture(): Fixture {
  const raw: unknown = JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'packages.json'), 'utf8'));
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.buildPrefix !== 'string') fail('buildPrefix must be a string');
  const bi = r.buildInfo;
  if (typeof bi !== 'object' || bi === null || !Object.values(bi).every((v) => typeof v === 'string')) {
    fail('buildInfo must map names to strings');
  }
  if (!Array.isArray(r.packages)) fail('packages must be an array');
  const packages = r.packages.map((p: unknown, i: number): PackageDefinition => {
    if (typeof p !== 'object' || p === null) fail(`packages[${i}] is not an object`);
    const o = p as Record<string, unknown>;
    for (const k of ['pkgname', 'pkgpath', 'comment', 'categories', 'homepage', 'license']) {
      if (typeof o[k] !== 'string') fail(`packages[${i}].${k} must be a string`);
    }
    if (!isStringArray(o.depends)) fail(`packages[${i}].depends must be an array of strings`);
    if (!isStringArray(o.description)) fail(`packages[${i}].description must be an array of strings`);
    return {
      pkgname: o.pkgname as string,
      pkgpath: o.pkgpath as string,
      comment: o.comment as string,
      depends: o.depends,
      categories: o.categories as string,
      homepage: o.homepage as string,
      license: o.license as string,
      description: o.description,
      bootstrap: o.bootstrap === true,
    };
  });
  return { buildPrefix: r.buildPrefix, buildInfo: bi as Record<string, string>, packages };
}

const fixture = loadFixture();

/** The packages of test/fixtures/repository/packages.json. */
export const DEFAULT_PACKAGES: readonly PackageDefinition[] = fixture.packages;

/**
 * The prefix the fixture packages are built for by default (their @cwd). pkg_add installs a package into its own
 * @cwd, so a site installs from a repository built for its prefix: `createRepository(dir, packages, { prefix })`.
 */
export const BUILD_PREFIX: string = fixture.buildPrefix;

/** MACHINE_ARCH, OPSYS, OS_VERSION, PKGTOOLS_VERSION of every package's +BUILD_INFO. */
export const BUILD_INFO: Readonly<Record<string, string>> = fixture.buildInfo;

/** Names of the packages `bootstrap --unprivileged` installs. */
export const BOOTSTRAP_PACKAGES: readonly string[] = fixture.packages
  .filter((p) => p.bootstrap)
  .map((p) => p.pkgname);

/** The vulnerability list of the fixtures (a copy of test/fixtures/reference/pkg-vulnerabilities). */
export const VULNERABILITY_LIST_FILE = path.join(FIXTURE_DIR, 'pkg-vulnerabilities');

function baseOf(pkgname: string): string {
  const dash = pkgname.lastIndexOf('-');
  return dash < 0 ? pkgname : pkgname.slice(0, dash);
}

export function payloadOf(def: PackageDefinition): readonly PayloadFile[] {
  if (def.files !== undefined) return def.files;
  const base = baseOf(def.pkgname);
  return [
    { path: `bin/${base}-hello`, content: `#!/bin/sh\necho ${def.pkgname}\n`, mode: 0o755 },
    { path: `share/${base}/README`, content: `${def.pkgname}: ${def.comment}\n` },
  ];
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** The meta files of a package, as pkg_create would put them in the archive. */
export function metaFilesOf(
  def: PackageDefinition,
  prefix: string = BUILD_PREFIX,
): {
  contents: string;
  comment: string;
  desc: string;
  buildInfo: string;
} {
  let contents = `@cwd ${prefix}\n`;
  for (const d of def.depends) contents += `@pkgdep ${d}\n`;
  contents += `@name ${def.pkgname}\n`;
  for (const f of payloadOf(def)) contents += `${f.path}\n@comment MD5:${md5(f.content)}\n`;
  contents += `@cwd ${prefix}\n@ignore\n+COMMENT\n@ignore\n+DESC\n@ignore\n+BUILD_INFO\n`;
  let buildInfo = '';
  for (const [k, v] of Object.entries({ ...BUILD_INFO, ...def.buildInfo })) buildInfo += `${k}=${v}\n`;
  buildInfo += `PKGPATH=${def.pkgpath}\nCATEGORIES=${def.categories}\nHOMEPAGE=${def.homepage}\nLICENSE=${def.license}\n`;
  return {
    contents,
    comment: `${def.comment}\n`,
    desc: def.description.map((l) => `${l}\n`).join(''),
    buildInfo,
  };
}

/** A fixed timestamp keeps the archives (and so FILE_SIZE) reproducible. */
const MTIME = new Date('2017-10-01T00:00:00Z');

/**
 * Write binary packages built for PREFIX into ALLDIR, one after the other through one staging directory, and return
 * their paths. Each archive lists exactly its own files, so what an earlier package left in the stage is never in a
 * later one; one stage instead of one per package halves the files made and removed for a repository.
 */
export async function writePackages(
  allDir: string,
  defs: readonly PackageDefinition[],
  prefix: string = BUILD_PREFIX,
): Promise<string[]> {
  // Loaded here only: the package tools (a node start per call) never write archives.
  const { create: tarCreate } = await import('tar');
  const stage = mkdtempSync(path.join(os.tmpdir(), 'pkgsim-stage-'));
  const write = (rel: string, content: string, mode: number) => {
    const file = path.join(stage, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    chmodSync(file, mode);
  };
  try {
    return defs.map((def) => {
      const meta = metaFilesOf(def, prefix);
      write('+CONTENTS', meta.contents, 0o644);
      write('+COMMENT', meta.comment, 0o644);
      write('+DESC', meta.desc, 0o644);
      write('+BUILD_INFO', meta.buildInfo, 0o644);
      const payload = payloadOf(def);
      for (const f of payload) write(f.path, f.content, f.mode ?? 0o644);
      const target = path.join(allDir, `${def.pkgname}.tgz`);
      const tmp = `${target}.${process.pid}.tmp`;
      // Synchronous: the same bytes as the streaming form, at less than half its CPU (and none of its thread-pool
      // round trips, which a busy machine makes slow); test files build a repository per site.
      tarCreate(
        { sync: true, gzip: true, file: tmp, cwd: stage, portable: true, mtime: MTIME, noDirRecurse: true },
        ['+CONTENTS', '+COMMENT', '+DESC', '+BUILD_INFO', ...payload.map((f) => f.path)],
      );
      renameSync(tmp, target);
      return target;
    });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** pkg_summary(5) text of the given packages, with FILE_NAME/FILE_SIZE of their archives in ALLDIR. */
export function summaryOf(
  allDir: string,
  packages: readonly PackageDefinition[],
  prefix: string = BUILD_PREFIX,
): string {
  let text = '';
  for (const def of [...packages].sort((a, b) =>
    a.pkgname < b.pkgname ? -1 : a.pkgname > b.pkgname ? 1 : 0,
  )) {
    const meta = metaFilesOf(def, prefix);
    const name = `${def.pkgname}.tgz`;
    text += summaryRecord({
      plist: parsePlist(meta.contents),
      comment: meta.comment,
      desc: meta.desc,
      buildInfo: meta.buildInfo,
      sizePkg: undefined,
      file: { name, size: statSync(path.join(allDir, name)).size },
    }).text;
  }
  return text;
}

export interface RepositoryOptions {
  /** The LOCALBASE the packages are built for (their @cwd): pkg_add installs them there. Default BUILD_PREFIX. */
  prefix?: string;
}

/**
 * Create (or refresh) a repository: DIR/All/<PKGNAME>.tgz for every package plus DIR/All/pkg_summary and
 * pkg_summary.gz. Returns the absolute All directory, the value for PKG_PATH. Like a real pkgsrc binary repository
 * it is built for one prefix: a site installs from it only when that is the site's prefix.
 */
export async function createRepository(
  dir: string,
  packages: readonly PackageDefinition[] = DEFAULT_PACKAGES,
  options: RepositoryOptions = {},
): Promise<string> {
  const prefix = options.prefix ?? BUILD_PREFIX;
  const allDir = path.resolve(dir, 'All');
  mkdirSync(allDir, { recursive: true });
  await writePackages(allDir, packages, prefix);
  const summary = summaryOf(allDir, packages, prefix);
  writeFileAtomic(path.join(allDir, 'pkg_summary'), summary);
  writeFileAtomic(path.join(allDir, 'pkg_summary.gz'), gzipSync(summary));
  return allDir;
}
