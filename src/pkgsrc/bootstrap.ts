/**
 * The packages of pkgsrc itself: what `bootstrap` installs into a prefix. gridpkg never exports them into a spec
 * (import) and never prunes them: they belong to pkgsrc, not to the VO. Pure.
 */
import { parsePkgName } from './pkgname.js';

/**
 * PKGPATHs that `bootstrap --unprivileged` installs on some system (and pkg_chk, which the site tools always
 * installed). On Linux: bootstrap-mk-files, bmake, cwrappers, pkg_install and (Debian) nawk; on other systems also
 * pdksh, bootstrap-extras and install-sh (../shared/pkgsrc-reference/README.md, "More facts"); mktools, mtree and
 * nbsed in other bootstrap versions.
 */
export const BOOTSTRAP_PKGPATHS: ReadonlySet<string> = new Set([
  'devel/bmake',
  'lang/nawk',
  'pkgtools/bootstrap-extras',
  'pkgtools/bootstrap-mk-files',
  'pkgtools/cwrappers',
  'pkgtools/mktools',
  'pkgtools/mtree',
  'pkgtools/pkg_chk',
  'pkgtools/pkg_install',
  'shells/pdksh',
  'sysutils/install-sh',
  'textproc/nbsed',
]);

/** The same packages by PKGBASE, for a bootstrap package that records no PKGPATH. */
const BOOTSTRAP_BASES: ReadonlySet<string> = new Set(
  [...BOOTSTRAP_PKGPATHS].map((p) => p.slice(p.indexOf('/') + 1)),
);

/** Whether an installed package is one of pkgsrc's own: by PKGPATH, or by PKGBASE when it records none. */
export function isBootstrapPackage(pkg: { pkgname: string; pkgpath: string | undefined }): boolean {
  if (pkg.pkgpath !== undefined) return BOOTSTRAP_PKGPATHS.has(pkg.pkgpath);
  return BOOTSTRAP_BASES.has(baseOf(pkg.pkgname) ?? '');
}

function baseOf(pkgname: string): string | undefined {
  try {
    return parsePkgName(pkgname).base;
  } catch {
    return undefined;
  }
}
