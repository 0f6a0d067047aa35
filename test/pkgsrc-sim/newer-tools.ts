// Test packages for pkgsrc.minPkgInstall: a newer pkg_install, and a package whose +BUILD_INFO asks for a newer
// pkg_install than 20170419 (PKGTOOLS_VERSION: pkgsrc records the oldest pkg_install that can extract a package,
// PKGTOOLS_VERSION_REQD, 20091115 for years), which pkg_install 20170419 refuses ("was built with a newer
// pkg_install version") and 20211115 accepts.
import { DEFAULT_PACKAGES, type PackageDefinition } from './repository.js';

const template = DEFAULT_PACKAGES.find((p) => p.pkgname === 'pkg_install-20170419') as PackageDefinition;

/** pkg_install-20211115 with PKGTOOLS_VERSION 20091115, as real ones record: any site's pkg_add may add it. */
export const NEW_PKG_INSTALL: PackageDefinition = {
  ...template,
  pkgname: 'pkg_install-20211115',
  bootstrap: false,
};

/** devel/newtool-1.0 with PKGTOOLS_VERSION 20211115. */
export const NEEDS_NEW_PKG_INSTALL: PackageDefinition = {
  ...template,
  pkgname: 'newtool-1.0',
  pkgpath: 'devel/newtool',
  comment: 'A tool that needs pkg_install 20211115',
  bootstrap: false,
  buildInfo: { PKGTOOLS_VERSION: '20211115' },
};
