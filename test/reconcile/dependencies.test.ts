/**
 * The dependency closure of a plan, as pkgin resolves it from pkg_summary: what is installed, what the spec pins,
 * and what the site's pkg_add would accept (issue 10, item 2).
 */
import { describe, expect, it } from 'vitest';
import type { AvailablePackage, Dependency } from '../../src/grid/protocol/types.js';
import type { KnownObservation } from '../../src/reconcile/observation.js';
import { planSite } from '../../src/reconcile/plan.js';
import { renderPlan } from '../../src/report/plan-view.js';
import { desired, requirement } from './fixtures.js';

/** `name-1.0 cat/name needs a>=1 b>=2`-style shorthand for an available package with the usual build facts. */
function pkg(
  pkgname: string,
  pkgpath: string,
  depends: string[] = [],
  facts: Partial<AvailablePackage> = {},
): AvailablePackage {
  return {
    pkgname,
    pkgpath,
    fileName: `${pkgname}.tgz`,
    pkgtoolsVersion: '20091115',
    opsys: 'Linux',
    machineArch: 'x86_64',
    depends,
    ...facts,
  };
}

/** The repository of the real tools' test (pkg_summary-example.txt), with its DEPENDS. */
const REPOSITORY: AvailablePackage[] = [
  pkg('hdf5-1.12.2nb3', 'devel/hdf5', ['zlib>=1.2.12']),
  pkg('hdf5-1.14.3', 'devel/hdf5', ['zlib>=1.3']),
  pkg('zlib-1.2.13', 'devel/zlib'),
  pkg('zlib-1.3.1', 'devel/zlib'),
  pkg('python311-3.11.7', 'lang/python311', ['zlib>=1.2']),
];

const PKGPATHS: Record<string, string> = {
  zlib: 'devel/zlib',
  hdf5: 'devel/hdf5',
  python311: 'lang/python311',
};

function site(
  installed: string[],
  available: AvailablePackage[],
  options: { dependencies?: Dependency[]; arch?: string; pkgInstall?: string } = {},
): KnownObservation {
  return {
    state: 'known',
    site: 'site-a',
    observedAt: '2026-12-02T04:00:00Z',
    jobId: 'site-a-probe-1',
    fingerprint: 'sha256:abc',
    pkgsrc: { state: 'present', prefix: '/sw/pkg', version: options.pkgInstall ?? '20170419' },
    installed: installed.map((entry) => {
      const pkgname = entry.replace(/\*$/, '');
      const base = pkgname.slice(0, pkgname.lastIndexOf('-'));
      return { pkgname, pkgpath: PKGPATHS[base] ?? `misc/${base}`, automatic: entry.endsWith('*') };
    }),
    dependencies: options.dependencies ?? [],
    available,
    repositoryReadable: available.length > 0,
    audit: [],
    host: { os: 'Linux', arch: options.arch ?? 'x86_64' },
  };
}

const actionsOf = (plan: ReturnType<typeof planSite>) =>
  plan.actions.map((a) => `${a.verb} ${a.pkgname}${a.automatic ? ' (automatic)' : ''}`);

describe('the dependency closure of a plan', () => {
  it('upgrades a user-installed dependency that does not match first, and says which package needs it', () => {
    const plan = planSite(desired([requirement('devel/hdf5')]), site(['zlib-1.2.13'], REPOSITORY));
    expect(plan.outcome).toBe('changes');
    expect(actionsOf(plan)).toEqual(['upgrade zlib-1.3.1', 'install hdf5-1.14.3']);
    expect(plan.actions.map((a) => a.file)).toEqual(['zlib-1.3.1.tgz', 'hdf5-1.14.3.tgz']);
    const zlib = plan.changes.find((c) => c.pkgpath === 'devel/zlib');
    expect(zlib).toMatchObject({
      kind: 'upgrade',
      from: 'zlib-1.2.13',
      to: 'zlib-1.3.1',
      neededBy: ['hdf5-1.14.3'],
    });
    expect(renderPlan({ ...planFile(), sites: [plan] })).toContain(
      '~ devel/zlib               upgrade zlib-1.2.13 -> zlib-1.3.1 (needed by hdf5-1.14.3)',
    );
  });

  it('falls back to an older candidate when the spec pins the dependency (hdf5-1.12.2nb3 with zlib-1.2*)', () => {
    const spec = desired([requirement('devel/hdf5'), requirement('devel/zlib', { pattern: 'zlib-1.2*' })]);
    const plan = planSite(spec, site(['zlib-1.2.13'], REPOSITORY));
    expect(plan.outcome).toBe('changes');
    expect(actionsOf(plan)).toEqual(['install hdf5-1.12.2nb3']);
    expect(plan.changes.find((c) => c.pkgpath === 'devel/zlib')?.kind).toBe('unchanged');
  });

  it('blocks with the reason when no candidate fits the pin', () => {
    const spec = desired([requirement('devel/hdf5'), requirement('devel/zlib', { pattern: 'zlib<1.2.12' })]);
    const observed = site(['zlib-1.2.11'], [...REPOSITORY, pkg('zlib-1.2.11', 'devel/zlib')]);
    const plan = planSite(spec, observed);
    expect(plan.outcome).toBe('blocked');
    expect(plan.actions).toEqual([]);
    const hdf5 = plan.changes.find((c) => c.pkgpath === 'devel/hdf5');
    expect(hdf5?.kind).toBe('blocked');
    expect(hdf5?.reason).toContain('hdf5-1.14.3 needs zlib>=1.3');
    expect(hdf5?.reason).toContain('the spec pins devel/zlib to zlib<1.2.12');
    expect(hdf5?.reason).toContain('hdf5-1.12.2nb3 needs zlib>=1.2.12');
  });

  it('installs a missing dependency first, as automatic, and encodes nothing else for it', () => {
    const plan = planSite(desired([requirement('devel/hdf5')]), site([], REPOSITORY));
    expect(actionsOf(plan)).toEqual(['install zlib-1.3.1 (automatic)', 'install hdf5-1.14.3']);
    expect(plan.changes.find((c) => c.pkgpath === 'devel/zlib')?.neededBy).toEqual(['hdf5-1.14.3']);
  });

  it('does not upgrade a dependency that an installed package that stays needs in its old version', () => {
    const observed = site(['zlib-1.2.13', 'legacy-1.0'], REPOSITORY, {
      dependencies: [{ pkgname: 'legacy-1.0', pattern: 'zlib<1.3' }],
    });
    const plan = planSite(desired([requirement('devel/hdf5')]), observed);
    expect(actionsOf(plan)).toEqual(['install hdf5-1.12.2nb3']);
  });

  it('does not bring back a dependency the spec wants absent', () => {
    const spec = desired([requirement('devel/hdf5'), requirement('devel/zlib', { state: 'absent' })]);
    const plan = planSite(spec, site([], REPOSITORY));
    expect(plan.outcome).toBe('blocked');
    expect(plan.changes.find((c) => c.pkgpath === 'devel/hdf5')?.reason).toContain(
      'the spec wants devel/zlib absent',
    );
  });

  it('resolves a chain of depth 6, deepest dependency first', () => {
    const chain = ['a', 'b', 'c', 'd', 'e', 'f'].map((name, i, all) =>
      pkg(`${name}-1.0`, `misc/${name}`, all[i + 1] ? [`${all[i + 1]}>=1`] : []),
    );
    const plan = planSite(desired([requirement('misc/a')]), site([], chain));
    expect(actionsOf(plan)).toEqual([
      'install f-1.0 (automatic)',
      'install e-1.0 (automatic)',
      'install d-1.0 (automatic)',
      'install c-1.0 (automatic)',
      'install b-1.0 (automatic)',
      'install a-1.0',
    ]);
  });

  it('installs a diamond dependency once, needed by both sides', () => {
    const repo = [
      pkg('top-1.0', 'misc/top', ['left>=1', 'right>=1']),
      pkg('left-1.0', 'misc/left', ['base>=2']),
      pkg('right-1.0', 'misc/right', ['base>=2.1']),
      pkg('base-2.0', 'misc/base'),
      pkg('base-2.5', 'misc/base'),
    ];
    const plan = planSite(desired([requirement('misc/top')]), site(['base-1.0'], repo));
    expect(actionsOf(plan)).toEqual([
      'upgrade base-2.5',
      'install left-1.0 (automatic)',
      'install right-1.0 (automatic)',
      'install top-1.0',
    ]);
    expect(plan.changes.find((c) => c.pkgpath === 'misc/base')?.neededBy).toEqual(['left-1.0', 'right-1.0']);
  });

  it('refuses a cycle in DEPENDS with a reason instead of looping', () => {
    const repo = [
      pkg('a-1.0', 'misc/a', ['b>=1']),
      pkg('b-1.0', 'misc/b', ['c>=1']),
      pkg('c-1.0', 'misc/c', ['a>=1']),
    ];
    const plan = planSite(desired([requirement('misc/a')]), site([], repo));
    expect(plan.outcome).toBe('blocked');
    expect(plan.changes.find((c) => c.pkgpath === 'misc/a')?.reason).toContain('dependency cycle');
  });

  it('accepts a cycle that an installed package already closes', () => {
    const repo = [pkg('a-1.0', 'misc/a', ['b>=1']), pkg('b-1.0', 'misc/b', ['a>=1'])];
    const plan = planSite(desired([requirement('misc/a')]), site(['b-1.0'], repo));
    expect(actionsOf(plan)).toEqual(['install a-1.0']);
  });

  it('skips a package built with a newer pkg_install than the site has, and says so when nothing else fits', () => {
    const newer = [
      pkg('hdf5-1.14.3', 'devel/hdf5', ['zlib>=1.3'], { pkgtoolsVersion: '20240101' }),
      pkg('hdf5-1.12.2nb3', 'devel/hdf5', ['zlib>=1.2.12']),
      pkg('zlib-1.3.1', 'devel/zlib'),
    ];
    const plan = planSite(desired([requirement('devel/hdf5')]), site([], newer));
    expect(actionsOf(plan)).toEqual(['install zlib-1.3.1 (automatic)', 'install hdf5-1.12.2nb3']);

    const only = planSite(desired([requirement('devel/hdf5')]), site([], [newer[0] as AvailablePackage]));
    expect(only.outcome).toBe('blocked');
    expect(only.reasons.join()).toContain(
      "hdf5-1.14.3 was built with pkg_install 20240101, newer than the site's 20170419",
    );
  });

  it('skips a dependency built for another architecture or system', () => {
    const repo = [
      pkg('hdf5-1.14.3', 'devel/hdf5', ['zlib>=1.3']),
      pkg('zlib-1.3.2', 'devel/zlib', [], { machineArch: 'aarch64' }),
      pkg('zlib-1.3.1', 'devel/zlib', [], { opsys: 'NetBSD' }),
      pkg('zlib-1.3', 'devel/zlib'),
    ];
    const plan = planSite(desired([requirement('devel/hdf5')]), site([], repo));
    expect(actionsOf(plan)).toEqual(['install zlib-1.3 (automatic)', 'install hdf5-1.14.3']);

    const none = planSite(desired([requirement('devel/hdf5')]), site([], repo.slice(0, 3)));
    expect(none.outcome).toBe('blocked');
    expect(none.reasons.join()).toContain('zlib-1.3.2 was built for aarch64, the site is x86_64');
    expect(none.reasons.join()).toContain('zlib-1.3.1 was built for NetBSD, the site runs Linux');
  });

  it('keeps what a `latest` package has when no newer version can be installed', () => {
    const spec = desired([
      requirement('devel/hdf5', { state: 'latest' }),
      requirement('devel/zlib', { pattern: 'zlib-1.2*' }),
    ]);
    const plan = planSite(spec, site(['hdf5-1.12.2nb3', 'zlib-1.2.13'], REPOSITORY));
    expect(plan.outcome).toBe('in-sync');
    expect(plan.changes.find((c) => c.pkgpath === 'devel/hdf5')?.reason).toContain('stays');
  });

  it('a spec package that is also a dependency is one change, made before what needs it', () => {
    const spec = desired([requirement('devel/hdf5'), requirement('devel/zlib', { state: 'latest' })]);
    const plan = planSite(spec, site(['zlib-1.2.13'], REPOSITORY));
    expect(actionsOf(plan)).toEqual(['upgrade zlib-1.3.1', 'install hdf5-1.14.3']);
    expect(plan.changes.filter((c) => c.pkgpath === 'devel/zlib')).toHaveLength(1);
  });

  it('a package the spec asks for that a later change also needs is installed once, not as automatic', () => {
    const repo = [...REPOSITORY, pkg('py311-numpy-1.26.4', 'math/py-numpy', ['python311>=3.11'])];
    const spec = desired([requirement('lang/python311'), requirement('math/py-numpy')]);
    const plan = planSite(spec, site([], repo));
    expect(actionsOf(plan)).toEqual([
      'install zlib-1.3.1 (automatic)',
      'install python311-3.11.7',
      'install py311-numpy-1.26.4',
    ]);
    expect(plan.changes.find((c) => c.pkgpath === 'lang/python311')?.neededBy).toEqual([
      'py311-numpy-1.26.4',
    ]);
    expect(plan.changes.find((c) => c.pkgpath === 'devel/zlib')?.neededBy).toEqual(['python311-3.11.7']);
  });

  it('plans as before from a report without DEPENDS or build facts (short avail lines)', () => {
    const short = REPOSITORY.map(({ pkgname, pkgpath }) => ({ pkgname, pkgpath }));
    const plan = planSite(desired([requirement('devel/hdf5')]), site(['zlib-1.2.13'], short));
    expect(actionsOf(plan)).toEqual(['install hdf5-1.14.3']);
  });

  it('stays near-linear: a thousand requirements with chains of five over a large repository', () => {
    const repo: AvailablePackage[] = [];
    const reqs = [];
    for (let i = 0; i < 1000; i++) {
      for (let d = 0; d < 5; d++) {
        for (const v of ['1.0', '2.0']) {
          repo.push(pkg(`p${i}d${d}-${v}`, `misc/p${i}d${d}`, d < 4 ? [`p${i}d${d + 1}>=${v}`] : []));
        }
      }
      reqs.push(requirement(`misc/p${i}d0`));
    }
    for (let i = 0; i < 15000; i++) repo.push(pkg(`filler${i}-1.0`, `misc/filler${i}`));
    const plan = planSite(desired(reqs), site([], repo));
    expect(plan.actions).toHaveLength(5000);
    // Every package comes after what it needs.
    const at = new Map(plan.actions.map((a, i) => [a.pkgname, i]));
    expect(at.get('p7d4-2.0')).toBeLessThan(at.get('p7d3-2.0') as number);
  });
});

function planFile() {
  return {
    formatVersion: 2 as const,
    id: 'plan-1',
    createdAt: '2026-12-02T04:00:00Z',
    specFile: 'spec.yaml',
    specDigest: 'sha256:0',
  };
}
