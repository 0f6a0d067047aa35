// Test packages for pkgsrc.minPkgInstall: a newer pkg_install, and a package from a newer bulk build that
// pkg_install 20170419 refuses ("was built with a newer pkg_install version") and 20211115 accepts.
import { DEFAULT_PACKAGES, type PackageDefinition } from './repository.js';

const template = DEFAULT_PACKAGES.find((p) => p.pkgname === 'pkg_install-20170419') as PackageDefinition;

/** pkg_install-20211115, built (like the fixture's packages) with pkg_install 20091115: any site may add it. */
export const NEW_PKG_INSTALL: PackageDefinition = {
  ...template,
  pkgname: 'pkg_install-20211115',
  bootstrap: false,
};

/** devel/newtool-1.0, built with pkg_install 20211115. */
export const NEEDS_NEW_PKG_INSTALL: PackageDefinition = {
  ...template,
  pkgname: 'newtool-1.0',
  pkgpath: 'devel/newtool',
  comment: 'A tool from a newer bulk build',
  bootstrap: false,
  buildInfo: { PKGTOOLS_VERSION: '20211115' },
};
