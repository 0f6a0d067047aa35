// The pkgdb the pkgsrc simulator (a test double) writes must look like the one real pkg_install 20170419 wrote:
// test/fixtures/reference/pkgdb-layout.txt, with /opt/vo/pkg mapped to the simulated site's prefix.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository } from '../pkgsrc-sim/repository.js';
import { createSite, type SimSite, sitePrefix } from '../pkgsrc-sim/site.js';
import { makeTempDir, REFERENCE_DIR, sh, siteEnv } from './helpers.js';

interface Layout {
  listings: Map<string, string[]>;
  files: Map<string, string>;
}

/** `$ ls DIR` sections (one name per line) and `--- FILE` sections (the file's lines), separated by blank lines. */
function parseLayout(text: string): Layout {
  const listings = new Map<string, string[]>();
  const files = new Map<string, string>();
  const chunks = text.split(/\n\n(?=\$ |--- )/);
  for (const chunk of chunks) {
    const [head, ...body] = chunk.replace(/\n+$/, '').split('\n');
    if (head === undefined) continue;
    if (head.startsWith('$ ls ')) listings.set(head.slice(5), body);
    else if (head.startsWith('--- ')) files.set(head.slice(4), body.map((l) => `${l}\n`).join(''));
  }
  return { listings, files };
}

const REAL_PREFIX = '/opt/vo/pkg';
let tmp: ReturnType<typeof makeTempDir>;
let site: SimSite;
let repository: string;
let layout: Layout;

beforeAll(async () => {
  tmp = makeTempDir('layout');
  const root = path.join(tmp.dir, 'site');
  repository = await createRepository(path.join(tmp.dir, 'repo'), undefined, { prefix: sitePrefix(root) });
  site = await createSite({ root, repository });
  const r = sh('pkg_add root', siteEnv(site, repository), tmp.dir);
  expect(r).toEqual({ output: '', status: 0 });
  layout = parseLayout(readFileSync(path.join(REFERENCE_DIR, 'pkgdb-layout.txt'), 'utf8'));
});

afterAll(() => tmp.cleanup());

const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');

describe('pkgdb layout after `pkg_add root`', () => {
  for (const pkg of ['root-6.30.02', 'fftw-3.3.10']) {
    it(`${pkg} has the reference's meta files`, () => {
      const expected = layout.listings.get(`${REAL_PREFIX}/pkgdb/${pkg}`);
      expect(expected, 'reference listing').toBeDefined();
      expect(readdirSync(path.join(site.pkgdb, pkg)).sort()).toEqual(expected);
    });

    it(`${pkg} meta files have the reference's contents`, () => {
      let compared = 0;
      for (const [refPath, refText] of layout.files) {
        if (!refPath.startsWith(`${REAL_PREFIX}/pkgdb/${pkg}/`)) continue;
        const file = path.join(site.pkgdb, pkg, path.basename(refPath));
        const actual = readFileSync(file, 'utf8');
        const expected = refText.split(REAL_PREFIX).join(site.prefix);
        if (path.basename(refPath) !== '+CONTENTS') {
          expect(actual, refPath).toBe(expected);
        } else {
          // bin/<base>-hello is byte-identical to the reference payload (same MD5); share/<base>/README has other
          // text, so its MD5 line is checked for form and against the installed file instead.
          const a = actual.split('\n');
          const e = expected.split('\n');
          expect(a.length, refPath).toBe(e.length);
          for (let i = 0; i < e.length; i++) {
            const prev = e[i - 1] ?? '';
            if (prev.startsWith('share/') && (e[i] as string).startsWith('@comment MD5:')) {
              expect(a[i]).toMatch(/^@comment MD5:[0-9a-f]{32}$/);
              expect(a[i]).toBe(`@comment MD5:${md5(path.join(site.prefix, prev))}`);
            } else {
              expect(a[i], `${refPath} line ${i + 1}`).toBe(e[i]);
            }
          }
        }
        compared++;
      }
      expect(compared).toBe(pkg === 'fftw-3.3.10' ? 6 : 4);
    });
  }

  it('extracts the payload under the prefix', () => {
    expect(readFileSync(path.join(site.prefix, 'bin/root-hello'), 'utf8')).toBe(
      '#!/bin/sh\necho root-6.30.02\n',
    );
    expect(statSync(path.join(site.prefix, 'bin/root-hello')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(site.prefix, 'share/fftw/README')).isFile()).toBe(true);
  });

  it('has the reference pkgdb directory once the reference state is reached (pkgdb.byfile.db included)', () => {
    const r = sh('pkg_add gsl-2.8 hdf5-1.14.3 openssl-3.0.13', siteEnv(site, repository), tmp.dir);
    // gsl-2.8 was pulled in by root already, as a dependency
    expect(r).toEqual({
      output:
        "pkg_add: package `gsl-2.8' was already installed as dependency, now marked as installed manually\n",
      status: 0,
    });
    const expected = layout.listings.get(`${REAL_PREFIX}/pkgdb`) ?? [];
    expect(expected.length).toBe(15);
    expect(readdirSync(site.pkgdb).sort()).toEqual(expected);
  });
});
