// Behaviour of the pkgsrc simulator (a test double of pkg_install 20170419) beyond the recorded transcripts:
// replacements that would break a dependent, downgrades that do not, pkg_delete -r ordering, +REQUIRED_BY upkeep,
// the vulnerability list, the repository and the site layout. Messages marked "not in a transcript" follow the
// pkg_install sources; they have not been recorded from the real tools.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository, DEFAULT_PACKAGES } from '../pkgsrc-sim/repository.js';
import { createSite, type SimSite, sitePrefix, TOOLS } from '../pkgsrc-sim/site.js';
import { makeTempDir, REFERENCE_DIR, sh, siteEnv } from './helpers.js';

let tmp: ReturnType<typeof makeTempDir>;
let repository: string;
let n = 0;

beforeAll(async () => {
  tmp = makeTempDir('behaviour');
  repository = await createRepository(path.join(tmp.dir, 'repo'));
});

afterAll(() => tmp.cleanup());

async function site(
  options: { installed?: string[]; vulnerabilityList?: 'installed' | 'missing'; vulnSource?: string } = {},
) {
  // Binary packages install into the prefix they were built for: each site gets a repository built for its own.
  const root = path.join(tmp.dir, `site${++n}`);
  const own = await createRepository(path.join(tmp.dir, `repo${n}`), undefined, { prefix: sitePrefix(root) });
  const s = await createSite({ root, repository: own, ...options });
  const env = siteEnv(s, own);
  return { s, run: (cmd: string) => sh(cmd, env, s.root) };
}

const read = (s: SimSite, pkg: string, file: string) => readFileSync(path.join(s.pkgdb, pkg, file), 'utf8');
const installed = (s: SimSite) =>
  readdirSync(s.pkgdb)
    .filter((n) => n !== 'pkg-vulnerabilities' && n !== 'pkgdb.byfile.db')
    .sort();

describe('pkg_add -u (replacing another version)', () => {
  it("refuses a downgrade below a dependent's @pkgdep (message not in a transcript)", async () => {
    const { s, run } = await site({ installed: ['root'] });
    expect(run('pkg_add -u gsl-2.6')).toEqual({
      output:
        'pkg_add: Dependency of root-6.30.02 fulfilled by gsl-2.8, but not by gsl-2.6\n' +
        'pkg_add: 1 package addition failed\n',
      status: 1,
    });
    expect(existsSync(path.join(s.pkgdb, 'gsl-2.8', '+CONTENTS'))).toBe(true);
    expect(existsSync(path.join(s.pkgdb, 'gsl-2.6'))).toBe(false);
    expect(read(s, 'gsl-2.8', '+REQUIRED_BY')).toBe('root-6.30.02\n');
  });

  it('allows a downgrade that still satisfies the dependents, keeping +REQUIRED_BY and the automatic flag', async () => {
    const { s, run } = await site({ installed: ['root'] });
    expect(run('pkg_add -u gsl-2.7nb1')).toEqual({ output: '', status: 0 });
    expect(existsSync(path.join(s.pkgdb, 'gsl-2.8'))).toBe(false);
    expect(read(s, 'gsl-2.7nb1', '+REQUIRED_BY')).toBe('root-6.30.02\n');
    expect(read(s, 'gsl-2.7nb1', '+INSTALLED_INFO')).toBe('automatic=yes\n');
    expect(readFileSync(path.join(s.prefix, 'bin/gsl-hello'), 'utf8')).toBe('#!/bin/sh\necho gsl-2.7nb1\n');
    expect(run('pkg_info -e gsl')).toEqual({ output: 'gsl-2.7nb1\n', status: 0 });
    expect(run('pkg_admin check')).toEqual({
      output: `${'.'.repeat(11)}\nChecked 22 files from 11 packages.\nDone.\n`,
      status: 0,
    });
  });

  it('allows any downgrade once nothing depends on the package', async () => {
    const { s, run } = await site({ installed: ['gsl-2.8'] });
    expect(run('pkg_add -u gsl-2.6')).toEqual({ output: '', status: 0 });
    expect(existsSync(path.join(s.pkgdb, 'gsl-2.6', '+CONTENTS'))).toBe(true);
    expect(existsSync(path.join(s.pkgdb, 'gsl-2.6', '+INSTALLED_INFO'))).toBe(false);
  });

  it('does not pull in a dependency over another installed version without -u', async () => {
    const { s, run } = await site({ installed: ['zlib-1.2.13'] });
    expect(run('pkg_add hdf5-1.14.3')).toEqual({
      output:
        'pkg_add: A different version of zlib-1.3.1 is already installed: zlib-1.2.13\n' +
        "pkg_add: Can't install dependency zlib>=1.3\n" +
        'pkg_add: 1 package addition failed\n',
      status: 1,
    });
    expect(installed(s)).not.toContain('hdf5-1.14.3');
    expect(run('pkg_add -u hdf5-1.14.3')).toEqual({ output: '', status: 0 });
    expect(installed(s)).toEqual(expect.arrayContaining(['hdf5-1.14.3', 'zlib-1.3.1']));
    expect(installed(s)).not.toContain('zlib-1.2.13');
    expect(read(s, 'zlib-1.3.1', '+REQUIRED_BY')).toBe('hdf5-1.14.3\n');
  });

  it("treats a quoted pattern as a pattern: `pkg_add 'gsl>=9'` finds nothing", async () => {
    const { run } = await site();
    expect(run("pkg_add 'gsl>=9'")).toEqual({
      output: "pkg_add: no pkg found for 'gsl>=9', sorry.\npkg_add: 1 package addition failed\n",
      status: 1,
    });
    expect(run("pkg_add 'gsl>=2.7<2.8'")).toEqual({ output: '', status: 0 });
    expect(run("pkg_info -E 'gsl>=2.7'")).toEqual({ output: 'gsl-2.7nb1\n', status: 0 });
    expect(run("pkg_info -E 'gsl>=2.8'")).toEqual({ output: '', status: 1 });
  });
});

describe('pkg_delete', () => {
  it('-r removes the dependents first, in sort_and_recurse order', async () => {
    const { s, run } = await site({ installed: ['root', 'py311-numpy-1.26.4'] });
    expect(read(s, 'python311-3.11.7', '+REQUIRED_BY')).toBe('root-6.30.02\npy311-numpy-1.26.4\n');
    expect(run('pkg_delete -n -r zlib')).toEqual({
      output:
        "Attempting to delete package `py311-numpy-1.26.4'\n" +
        "Attempting to delete package `root-6.30.02'\n" +
        "Attempting to delete package `python311-3.11.7'\n" +
        "Attempting to delete package `zlib-1.3.1'\n",
      status: 0,
    });
    expect(run('pkg_delete -r zlib')).toEqual({ output: '', status: 0 });
    for (const gone of ['py311-numpy-1.26.4', 'root-6.30.02', 'python311-3.11.7', 'zlib-1.3.1']) {
      expect(installed(s)).not.toContain(gone);
    }
    expect(existsSync(path.join(s.prefix, 'bin/root-hello'))).toBe(false);
    expect(existsSync(path.join(s.prefix, 'share/root'))).toBe(false);
    // dependencies stay (with an empty +REQUIRED_BY, as pkg_delete leaves it)
    expect(read(s, 'fftw-3.3.10', '+REQUIRED_BY')).toBe('');
    expect(run('pkg_info -R fftw')).toEqual({ output: 'Information for fftw-3.3.10:\n\n\n', status: 0 });
  });

  it('-A also removes automatic packages left without dependents (message-free, like -R)', async () => {
    const { s, run } = await site({ installed: ['root'] });
    expect(run('pkg_delete -A root')).toEqual({ output: '', status: 0 });
    expect(installed(s)).toEqual(
      DEFAULT_PACKAGES.filter((p) => p.bootstrap)
        .map((p) => p.pkgname)
        .sort(),
    );
  });

  it('keeps +REQUIRED_BY of the dependencies up to date', async () => {
    const { s, run } = await site({ installed: ['root'] });
    expect(read(s, 'zlib-1.3.1', '+REQUIRED_BY')).toBe('python311-3.11.7\n');
    for (const dep of ['fftw-3.3.10', 'gsl-2.8', 'python311-3.11.7']) {
      expect(read(s, dep, '+REQUIRED_BY')).toBe('root-6.30.02\n');
    }
    expect(run('pkg_add py311-numpy')).toEqual({ output: '', status: 0 });
    expect(read(s, 'python311-3.11.7', '+REQUIRED_BY')).toBe('root-6.30.02\npy311-numpy-1.26.4\n');
    expect(run('pkg_delete py311-numpy')).toEqual({ output: '', status: 0 });
    expect(read(s, 'python311-3.11.7', '+REQUIRED_BY')).toBe('root-6.30.02\n');
    expect(run('pkg_delete python311')).toEqual({
      output: "Package `python311-3.11.7' is still required by other packages:\n\troot-6.30.02\n",
      status: 1,
    });
    expect(run('pkg_admin rebuild-tree')).toEqual({ output: 'Done.\n', status: 0 });
    expect(read(s, 'python311-3.11.7', '+REQUIRED_BY')).toBe('root-6.30.02\n');
    expect(existsSync(path.join(s.pkgdb, 'fftw-3.3.10', '+REQUIRED_BY'))).toBe(true);
  });

  it('leaves modified files in place and says so', async () => {
    const { s, run } = await site({ installed: ['cmake'] });
    const readme = path.join(s.prefix, 'share/cmake/README');
    writeFileSync(readme, 'changed by hand\n');
    expect(run('pkg_admin check cmake')).toEqual({
      output: `${readme} fails MD5 checksum\n.\nChecked 2 files from 1 package.\nDone.\n`,
      status: 0,
    });
    expect(run('pkg_delete cmake')).toEqual({
      output: `pkg_delete: couldn't entirely delete package \`cmake-3.28.1'\noriginal MD5 checksum failed, not deleting: ${readme}\n`,
      status: 0,
    });
    expect(existsSync(readme)).toBe(true);
    expect(installed(s)).not.toContain('cmake-3.28.1');
  });

  it('reports an unknown option the way glibc getopt does, then the usage', async () => {
    const { run } = await site();
    expect(run('pkg_delete -Z foo')).toEqual({
      output:
        "pkg_delete: invalid option -- 'Z'\n" +
        'usage: pkg_delete [-DFfkNnORrVv] [-K pkg_dbdir] [-P destdir] [-p prefix] pkg-name ...\n',
      status: 1,
    });
  });
});

describe('pkg_admin and the vulnerability list', () => {
  const list = path.join(REFERENCE_DIR, 'pkg-vulnerabilities');

  it('fetch-pkg-vulnerabilities copies PKGSIM_VULN_SOURCE into PKGVULNDIR', async () => {
    const { s, run } = await site({
      installed: ['openssl-3.0.13'],
      vulnerabilityList: 'missing',
      vulnSource: list,
    });
    expect(run('pkg_admin audit')).toEqual({
      output: `pkg_admin: Cannot open ${s.pkgdb}/pkg-vulnerabilities: No such file or directory\n`,
      status: 1,
    });
    expect(run('pkg_admin fetch-pkg-vulnerabilities')).toEqual({ output: '', status: 0 });
    expect(readFileSync(path.join(s.pkgdb, 'pkg-vulnerabilities'), 'utf8')).toBe(readFileSync(list, 'utf8'));
    expect(run('pkg_admin -q audit')).toEqual({ output: 'openssl-3.0.13\nopenssl-3.0.13\n', status: 1 });
    expect(run('pkg_admin config-var PKG_DBDIR')).toEqual({ output: `${s.pkgdb}\n`, status: 0 });
  });

  it('check-pkg-vulnerabilities verifies the SHA512 checksum (the $NetBSD and #CHECKSUM lines excluded)', async () => {
    const { s, run } = await site();
    const text = readFileSync(list, 'utf8');
    const digest = /#CHECKSUM SHA512 ([0-9a-f]+)/.exec(text)?.[1];
    const hashed = text
      .split('\n')
      .filter((l) => !l.startsWith('# $NetBSD') && !l.startsWith('#CHECKSUM'))
      .join('\n');
    expect(createHash('sha512').update(hashed).digest('hex')).toBe(digest);
    const tampered = path.join(s.root, 'tampered');
    writeFileSync(tampered, text.replace('zlib<1.3', 'zlib<1.4'));
    expect(run(`pkg_admin check-pkg-vulnerabilities ${tampered}`)).toEqual({
      output: "pkg_admin: SHA512 hash doesn't match\n",
      status: 1,
    });
    expect(run(`pkg_admin check-pkg-vulnerabilities ${list}`)).toEqual({ output: '', status: 0 });
  });

  it('audit with a damaged installed list prints what the real pkg_admin prints and finds nothing', async () => {
    // ../shared/pkgsrc-reference/README.md, "More facts": `SHA512 hash doesn't match`, exit 1 — the audit did not run.
    const { s, run } = await site({ installed: ['openssl-3.0.13'] });
    const installed = path.join(s.pkgdb, 'pkg-vulnerabilities');
    writeFileSync(installed, readFileSync(installed, 'utf8').replace('openssl<3.0.14', 'openssl<3.0.15'));
    expect(run('pkg_admin audit')).toEqual({ output: "pkg_admin: SHA512 hash doesn't match\n", status: 1 });
    expect(run('pkg_admin -q audit')).toEqual({
      output: "pkg_admin: SHA512 hash doesn't match\n",
      status: 1,
    });
  });
});

describe('PKG_DBDIR is compiled in', () => {
  it('a copied prefix keeps reading and writing the original database unless PKG_DBDIR is set', async () => {
    // ../shared/pkgsrc-reference/README.md, "More facts": `pkg_admin config-var PKG_DBDIR` prints the path chosen
    // at bootstrap, wherever the tools are run from.
    const { s } = await site();
    const copy = path.join(tmp.dir, `copy${++n}`);
    cpSync(s.swdir, copy, { recursive: true });
    const env = siteEnv({ ...s, sbin: path.join(copy, 'pkg', 'sbin') }, repository);
    expect(sh('pkg_admin config-var PKG_DBDIR', env, copy)).toEqual({ output: `${s.pkgdb}\n`, status: 0 });
    expect(sh('pkg_add gsl-2.8', env, copy).status).toBe(0);
    expect(existsSync(path.join(s.pkgdb, 'gsl-2.8', '+CONTENTS'))).toBe(true);
    expect(existsSync(path.join(copy, 'pkg', 'pkgdb', 'gsl-2.8'))).toBe(false);
    const own = { ...env, PKG_DBDIR: path.join(copy, 'pkg', 'pkgdb') };
    expect(sh('pkg_admin config-var PKG_DBDIR', own, copy)).toEqual({
      output: `${path.join(copy, 'pkg', 'pkgdb')}\n`,
      status: 0,
    });
  });
});

describe('repository and site', () => {
  it('publishes the reference pkg_summary (FILE_SIZE from the real archives)', () => {
    const ours = readFileSync(path.join(repository, 'pkg_summary'), 'utf8');
    const reference = readFileSync(path.join(REFERENCE_DIR, 'pkg_summary-example.txt'), 'utf8');
    const bootstrap = new Set(DEFAULT_PACKAGES.filter((p) => p.bootstrap).map((p) => p.pkgname));
    const records = ours
      .split('\n\n')
      .filter((r) => r !== '' && !bootstrap.has(/PKGNAME=(\S+)/.exec(r)?.[1] ?? ''));
    const noSize = (t: string) => t.replace(/^FILE_SIZE=\d+$/gm, 'FILE_SIZE=*');
    expect(noSize(`${records.join('\n\n')}\n\n`)).toBe(noSize(reference));
    for (const r of records) {
      const file = /FILE_NAME=(\S+)/.exec(r)?.[1] ?? '';
      expect(Number(/FILE_SIZE=(\d+)/.exec(r)?.[1])).toBe(statSync(path.join(repository, file)).size);
    }
    expect(existsSync(path.join(repository, 'pkg_summary.gz'))).toBe(true);
  });

  it('is reproducible', async () => {
    const again = await createRepository(path.join(tmp.dir, 'repo-again'));
    for (const f of readdirSync(repository)) {
      expect(readFileSync(path.join(again, f)).equals(readFileSync(path.join(repository, f))), f).toBe(true);
    }
  });

  it('leaves the prefix as bootstrap --unprivileged does (pkgdb/ 0755, files 0644), or group-writable on request', async () => {
    const { s } = await site();
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(s.swdir)).toBe(0o775); // the VO software area itself: made by the site for the VO's group
    for (const dir of [s.prefix, s.pkgdb, s.sbin, path.join(s.pkgdb, 'pkg_install-20170419')])
      expect(mode(dir)).toBe(0o755);
    expect(mode(path.join(s.pkgdb, 'pkgdb.byfile.db'))).toBe(0o644);
    expect(mode(path.join(s.pkgdb, 'pkg-vulnerabilities'))).toBe(0o644);
    expect(mode(path.join(s.sbin, 'pkg_add'))).toBe(0o755);
    const shared = await createSite({ root: path.join(tmp.dir, 'shared'), repository, groupWritable: true });
    for (const dir of [shared.prefix, shared.pkgdb, shared.sbin]) expect(mode(dir)).toBe(0o775);
    expect(mode(path.join(shared.pkgdb, 'pkgdb.byfile.db'))).toBe(0o664);
  });

  it('creates wrappers that only quote absolute paths', async () => {
    const { s } = await site();
    for (const tool of TOOLS) {
      const text = readFileSync(path.join(s.sbin, tool), 'utf8');
      expect(text).toContain(`PKGSIM_PREFIX='${s.prefix}'\n`);
      expect(text).toMatch(new RegExp(`^exec '[^']+' '[^']+/build/pkgsrc-sim\\.cjs' ${tool} "\\$@"$`, 'm'));
      expect(text).toMatch(/NOT pkgsrc/);
    }
  });

  it('leaves the software area empty without bootstrap', async () => {
    const s = await createSite({ root: path.join(tmp.dir, 'nobootstrap'), repository, bootstrap: false });
    expect(readdirSync(s.swdir)).toEqual([]);
    expect(statSync(s.swdir).mode & 0o070).toBe(0o070);
  });
});
