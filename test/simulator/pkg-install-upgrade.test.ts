// `pkg_add -u pkg_install`: the simulator's tools are the pkg_install registered in their database, so after the
// upgrade they print and check the new version, as the real binaries replaced by the new package would
// (add/perform.c check_pkgtools_version: "was built with a newer pkg_install version", not in a transcript).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEEDS_NEW_PKG_INSTALL, NEW_PKG_INSTALL } from '../pkgsrc-sim/newer-tools.js';
import { DEFAULT_PACKAGES } from '../pkgsrc-sim/repository.js';
import { createSiteWithRepository } from '../pkgsrc-sim/site.js';
import { makeTempDir, sh, siteEnv } from './helpers.js';

let tmp: ReturnType<typeof makeTempDir>;

beforeAll(() => {
  tmp = makeTempDir('pkg-install-upgrade');
});
afterAll(() => tmp.cleanup());

describe('pkg_add -u pkg_install', () => {
  it('makes the tools the new version: -V prints it and packages built with it are accepted', async () => {
    const root = path.join(tmp.dir, 'site');
    const site = await createSiteWithRepository({
      root,
      repositoryDir: path.join(tmp.dir, 'repo'),
      packages: [...DEFAULT_PACKAGES, NEW_PKG_INSTALL, NEEDS_NEW_PKG_INSTALL],
    });
    const run = (cmd: string) => sh(cmd, siteEnv(site, site.repository), root);
    expect(run('pkg_info -V; pkg_add -V; pkg_admin -V; pkg_delete -V')).toEqual({
      output: '20170419\n20170419\n20170419\n20170419\n',
      status: 0,
    });
    expect(run('pkg_add newtool')).toEqual({
      output:
        "pkg_add: Error: package `newtool-1.0' was built with a newer pkg_install version\n" +
        'pkg_add: 1 package addition failed\n',
      status: 1,
    });
    expect(run(`pkg_add -u ${site.repository}/pkg_install-20211115.tgz`)).toEqual({ output: '', status: 0 });
    expect(run('pkg_info -V; pkg_info -E pkg_install')).toEqual({
      output: '20211115\npkg_install-20211115\n',
      status: 0,
    });
    expect(run('pkg_add newtool && pkg_info -E newtool')).toEqual({ output: 'newtool-1.0\n', status: 0 });
  });
});
