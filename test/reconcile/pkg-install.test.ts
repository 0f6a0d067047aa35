import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AvailablePackage } from '../../src/grid/protocol/types.js';
import type { KnownObservation } from '../../src/reconcile/observation.js';
import { buildPlan, planSite } from '../../src/reconcile/plan.js';
import { readPlanFile, writePlanFile } from '../../src/reconcile/plan-file.js';
import { renderPlan } from '../../src/report/plan-view.js';
import type { DesiredState, Requirement } from '../../src/spec/types.js';
import { desired, observed, requirement } from './fixtures.js';

const MIN_AT = { file: 'spec.yaml', line: 4, column: 28 };

function wanting(version: string, requirements: Requirement[] = []): DesiredState {
  return { ...desired(requirements), minPkgInstall: { version, source: MIN_AT } };
}

const built = (pkgname: string, pkgpath: string, tools = '20170419'): AvailablePackage => ({
  pkgname,
  pkgpath,
  fileName: `${pkgname}.tgz`,
  pkgtoolsVersion: tools,
  opsys: 'Linux',
  machineArch: 'x86_64',
  depends: [],
});

/** A Linux site with pkg_install `version` registered, and `available` as its repository. */
function site(version: string, available: AvailablePackage[], installed: string[] = []): KnownObservation {
  const base = observed(installed);
  return {
    ...base,
    host: { os: 'Linux', arch: 'x86_64' },
    pkgsrc: { state: 'present', prefix: '/sw/pkg', version },
    installed: [
      ...base.installed,
      { pkgname: `pkg_install-${version}`, pkgpath: 'pkgtools/pkg_install', automatic: false },
    ],
    available,
  };
}

const NEW_TOOLS = built('pkg_install-20211115', 'pkgtools/pkg_install');

describe('pkgsrc.minPkgInstall', () => {
  it('upgrades an older pkg_install first, before removals and installs', () => {
    const plan = planSite(
      wanting('20211115', [requirement('math/gsl'), requirement('devel/hdf5', { state: 'absent' })]),
      site('20170419', [NEW_TOOLS, built('gsl-2.8', 'math/gsl')], ['hdf5-1.14.3']),
    );
    expect(plan.outcome).toBe('changes');
    expect(plan.actions).toEqual([
      {
        verb: 'upgrade-pkg_install',
        pkgpath: 'pkgtools/pkg_install',
        pkgname: 'pkg_install-20211115',
        file: 'pkg_install-20211115.tgz',
      },
      { verb: 'remove', pkgpath: 'devel/hdf5', pkgname: 'hdf5-1.14.3' },
      { verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8', file: 'gsl-2.8.tgz' },
    ]);
    const change = plan.changes.find((c) => c.selfUpgrade);
    expect(change).toMatchObject({
      kind: 'upgrade',
      from: 'pkg_install-20170419',
      to: 'pkg_install-20211115',
      reason: 'pkg_install 20170419 is older than pkgsrc.minPkgInstall 20211115: upgraded first',
      requirement: { pkgpath: 'pkgtools/pkg_install', pattern: 'pkg_install>=20211115', source: MIN_AT },
    });
  });

  it('shows the upgrade in the plan with why it comes first', () => {
    const plan = buildPlan([wanting('20211115')], [site('20170419', [NEW_TOOLS])], {
      specFile: 's.yaml',
      specDigest: 'sha256:0',
    });
    expect(renderPlan(plan)).toContain(
      '  ~ pkgtools/pkg_install     upgrade pkg_install-20170419 -> pkg_install-20211115 (pkg_install 20170419 ' +
        'is older than pkgsrc.minPkgInstall 20211115: upgraded first)\n',
    );
    expect(renderPlan(plan)).toContain('Plan: 0 to install, 1 to upgrade, 0 to downgrade, 0 to remove');
  });

  it('survives a saved plan (the plan schema knows the action and the setting)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridpkg-plan-tools-'));
    try {
      const plan = buildPlan([wanting('20211115')], [site('20170419', [NEW_TOOLS])], {
        specFile: join(dir, 's.yaml'),
        specDigest: `sha256:${'0'.repeat(64)}`,
      });
      await writePlanFile(join(dir, 'p.plan'), plan, dir);
      const saved = await readPlanFile(join(dir, 'p.plan'));
      expect(saved.sites[0]?.actions).toEqual(plan.sites[0]?.actions);
      expect(saved.sites[0]?.desired.minPkgInstall).toEqual({ version: '20211115', source: MIN_AT });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does nothing when the site is new enough, or when no minimum is set', () => {
    const repository = [NEW_TOOLS, built('pkg_install-20240101', 'pkgtools/pkg_install')];
    expect(planSite(wanting('20211115'), site('20211115', repository)).outcome).toBe('in-sync');
    expect(planSite(desired([]), site('20170419', repository)).outcome).toBe('in-sync');
  });

  it('takes the newest pkg_install the old pkg_add accepts', () => {
    const plan = planSite(
      wanting('20211115'),
      site('20170419', [
        NEW_TOOLS,
        built('pkg_install-20220101', 'pkgtools/pkg_install'),
        // Built with a newer pkg_install than the site's: its pkg_add would refuse it.
        built('pkg_install-20240101', 'pkgtools/pkg_install', '20240101'),
      ]),
    );
    expect(plan.actions.map((a) => a.pkgname)).toEqual(['pkg_install-20220101']);
  });

  it('blocks the site when the repository has no new-enough pkg_install, saying why', () => {
    const none = planSite(
      wanting('20211115', [requirement('math/gsl')]),
      site('20170419', [built('pkg_install-20190101', 'pkgtools/pkg_install'), built('gsl-2.8', 'math/gsl')]),
    );
    expect(none.outcome).toBe('blocked');
    expect(none.actions).toEqual([]);
    expect(none.reasons).toEqual([
      'pkgtools/pkg_install: pkg_install 20170419 is older than pkgsrc.minPkgInstall 20211115, and the ' +
        'repository offers no new-enough pkg_install',
    ]);
    const refused = planSite(
      wanting('20211115'),
      site('20170419', [built('pkg_install-20211115', 'pkgtools/pkg_install', '20211115')]),
    );
    expect(refused.outcome).toBe('blocked');
    expect(refused.reasons).toEqual([
      'pkgtools/pkg_install: pkg_install 20170419 is older than pkgsrc.minPkgInstall 20211115, and the site ' +
        "cannot add the repository's: pkg_install-20211115 was built with pkg_install 20211115, newer than the " +
        "site's 20170419",
    ]);
  });

  it('plans the other packages for the pkg_install the site will have', () => {
    // gsl-2.8 needs pkg_install 20211115: the old pkg_add would refuse it, the upgraded one accepts it.
    const repository = [NEW_TOOLS, built('gsl-2.8', 'math/gsl', '20211115')];
    const upgraded = planSite(wanting('20211115', [requirement('math/gsl')]), site('20170419', repository));
    expect(upgraded.actions.map((a) => `${a.verb} ${a.pkgname}`)).toEqual([
      'upgrade-pkg_install pkg_install-20211115',
      'install gsl-2.8',
    ]);
    const old = planSite(desired([requirement('math/gsl')]), site('20170419', repository));
    expect(old.outcome).toBe('blocked');
  });

  it('is converged on the apply report, whose pkgsrc line was written before the upgrade', () => {
    const after = site('20211115', [NEW_TOOLS]);
    // The job reads the version before its actions; its post-state packages show the new registration.
    const report = {
      ...after,
      pkgsrc: { state: 'present' as const, prefix: '/sw/pkg', version: '20170419' },
    };
    expect(planSite(wanting('20211115'), report).outcome).toBe('in-sync');
  });

  it('blocks a site whose pkg_install version is unknown', () => {
    const unknown = site('20170419', [NEW_TOOLS]);
    unknown.installed = unknown.installed.filter((p) => p.pkgpath !== 'pkgtools/pkg_install');
    unknown.pkgsrc = { state: 'present', prefix: '/sw/pkg', version: 'unknown' };
    const plan = planSite(wanting('20211115'), unknown);
    expect(plan.outcome).toBe('blocked');
    expect(plan.reasons[0]).toContain("the site's pkg_install version is unknown");
  });
});
