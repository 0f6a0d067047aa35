/**
 * Keeping pkgsrc itself current (`pkgsrc.minPkgInstall`): a site whose pkg_install is older gets `pkg_add -u` of a
 * new-enough pkg_install from its repository as the first action of its job. Pure.
 *
 * The new pkg_install must itself be one the site's old pkg_add accepts (its PKGTOOLS_VERSION no newer than the
 * site's, its OPSYS and MACHINE_ARCH the site's): pkg_add has no exception for pkg_install (add/perform.c
 * check_pkgtools_version runs for every package).
 */
import { PKG_INSTALL_PKGPATH } from '../grid/protocol/request.js';
import type { AvailablePackage } from '../grid/protocol/types.js';
import { compareVersions } from '../pkgsrc/index.js';
import type { DesiredState, Requirement } from '../spec/types.js';
import { platformProblem, repositoryIndex, sitePlatform } from './candidates.js';
import type { PackageChange } from './diff.js';
import type { KnownObservation } from './observation.js';

export { PKG_INSTALL_PKGPATH };

const PKG_INSTALL_BASE = 'pkg_install';

export type PkgInstallPlan =
  /** The site's pkg_install is new enough (or no minimum is set). */
  | { kind: 'current' }
  /** Upgrade first: `change` is the upgrade, `version` the pkg_install the rest of the job runs with. */
  | { kind: 'upgrade'; change: PackageChange; version: string }
  | { kind: 'blocked'; change: PackageChange };

/**
 * The pkg_install version the site runs: its registration in the package database (`pkg_install-VERSION`, as the
 * job reads it), taken from the post-state packages so that an apply that upgraded it reports the new one.
 */
export function sitePkgInstallVersion(observation: KnownObservation): string | undefined {
  const registered = observation.installed.find(
    (p) =>
      p.pkgname.startsWith(`${PKG_INSTALL_BASE}-`) &&
      (p.pkgpath === undefined || p.pkgpath === PKG_INSTALL_PKGPATH),
  );
  const version = registered
    ? registered.pkgname.slice(PKG_INSTALL_BASE.length + 1)
    : observation.pkgsrc.state === 'present'
      ? observation.pkgsrc.version
      : undefined;
  return version === undefined || version === 'unknown' ? undefined : version;
}

export function planPkgInstall(desired: DesiredState, observation: KnownObservation): PkgInstallPlan {
  const minimum = desired.minPkgInstall;
  if (minimum === undefined) return { kind: 'current' };
  const requirement: Requirement = {
    pkgpath: PKG_INSTALL_PKGPATH,
    pattern: `${PKG_INSTALL_BASE}>=${minimum.version}`,
    state: 'present',
    source: minimum.source,
  };
  const installed = observation.installed.find((p) => p.pkgname.startsWith(`${PKG_INSTALL_BASE}-`));
  const from = installed ? { from: installed.pkgname } : {};
  const version = sitePkgInstallVersion(observation);
  const blocked = (reason: string): PkgInstallPlan => ({
    kind: 'blocked',
    change: { kind: 'blocked', pkgpath: PKG_INSTALL_PKGPATH, ...from, reason, requirement },
  });
  if (version === undefined) {
    return blocked(
      `the site's pkg_install version is unknown, so gridpkg cannot tell whether it is at least ` +
        `pkgsrc.minPkgInstall ${minimum.version}`,
    );
  }
  if (safeCompare(version, minimum.version) >= 0) return { kind: 'current' };
  const why = `pkg_install ${version} is older than pkgsrc.minPkgInstall ${minimum.version}`;
  const platform = sitePlatform({
    os: observation.host?.os,
    arch: observation.host?.arch,
    pkgInstallVersion: version,
  });
  const offered = repositoryIndex(observation.available)
    .matching(requirement.pattern as string)
    .filter((p) => p.pkgpath === PKG_INSTALL_PKGPATH);
  const fitting = offered.filter((p) => platformProblem(p, platform) === undefined);
  const best = fitting[0]; // matching() lists newest first
  if (best === undefined) return blocked(`${why}, and ${noCandidate(observation, offered, platform)}`);
  return {
    kind: 'upgrade',
    version: best.pkgname.slice(PKG_INSTALL_BASE.length + 1),
    change: {
      kind: 'upgrade',
      pkgpath: PKG_INSTALL_PKGPATH,
      ...from,
      to: best.pkgname,
      ...(best.fileName !== undefined ? { file: best.fileName } : {}),
      reason: `${why}: upgraded first`,
      selfUpgrade: true,
      requirement,
    },
  };
}

function noCandidate(
  observation: KnownObservation,
  offered: readonly AvailablePackage[],
  platform: ReturnType<typeof sitePlatform>,
): string {
  if (!observation.repositoryReadable) return 'the site could not read the package repository';
  const first = offered[0];
  if (first === undefined) return 'the repository offers no new-enough pkg_install';
  return `the site cannot add the repository's: ${platformProblem(first, platform)}`;
}

function safeCompare(a: string, b: string): number {
  try {
    return compareVersions(a, b);
  } catch {
    return -1;
  }
}
