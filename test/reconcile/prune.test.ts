import { describe, expect, it } from 'vitest';
import type { InstalledPackage } from '../../src/grid/protocol/types.js';
import { planSite } from '../../src/reconcile/plan.js';
import type { DesiredState, PruneSettings, Requirement } from '../../src/spec/types.js';
import { desired, observed, requirement } from './fixtures.js';

const PRUNE_AT = { file: 'spec.yaml', line: 7, column: 12 };

function pruning(requirements: Requirement[], settings: Partial<PruneSettings> = {}): DesiredState {
  return {
    ...desired(requirements),
    prune: { maxRemovals: 10, allowRemoveAll: false, source: PRUNE_AT, ...settings },
  };
}

/** What `bootstrap --unprivileged` leaves, bmake as an older registration without PKGPATH. */
const BOOTSTRAP: InstalledPackage[] = [
  { pkgname: 'pkg_install-20170419', pkgpath: 'pkgtools/pkg_install', automatic: false },
  { pkgname: 'bootstrap-mk-files-20170802', pkgpath: 'pkgtools/bootstrap-mk-files', automatic: false },
  { pkgname: 'bmake-20150505', pkgpath: undefined, automatic: false },
];

/** observed() plus the bootstrap packages and any extra packages. */
function site(installed: string[], extra: InstalledPackage[] = []) {
  const base = observed(installed);
  return { ...base, installed: [...base.installed, ...BOOTSTRAP, ...extra] };
}

const FULL_ROOT = ['root-6.30.02', 'gsl-2.7nb1*', 'fftw-3.3.10*', 'python311-3.11.7*', 'zlib-1.3.1*'];

const removals = (plan: ReturnType<typeof planSite>) =>
  plan.actions.filter((a) => a.verb === 'remove').map((a) => a.pkgname);

describe('prune', () => {
  it('is off by default: packages the spec does not mention stay', () => {
    const plan = planSite(desired([requirement('math/root')]), site([...FULL_ROOT, 'cmake-3.28.1']));
    expect(plan.outcome).toBe('in-sync');
    expect(plan.actions).toEqual([]);
    expect(plan.prune).toBeUndefined();
  });

  it('removes user-installed packages the spec does not declare and automatic ones nothing needs', () => {
    const plan = planSite(
      pruning([requirement('math/root')]),
      site(
        [...FULL_ROOT, 'cmake-3.28.1', 'hdf5-1.14.3*'],
        [{ pkgname: 'mystery-1.0', pkgpath: undefined, automatic: false }],
      ),
    );
    expect(plan.outcome).toBe('changes');
    expect(plan.actions).toEqual([
      { verb: 'remove', pkgpath: 'devel/cmake', pkgname: 'cmake-3.28.1' },
      { verb: 'remove', pkgpath: 'devel/hdf5', pkgname: 'hdf5-1.14.3' },
    ]);
    const pruned = plan.changes.filter((c) => c.pruned);
    expect(pruned.map((c) => [c.from, c.reason])).toEqual([
      ['cmake-3.28.1', 'not declared'],
      ['hdf5-1.14.3', 'not declared; installed as a dependency and nothing needs it any more'],
    ]);
    // A pruned removal points at the prune setting of the spec.
    expect(pruned[0]?.requirement).toEqual({
      pkgpath: 'devel/cmake',
      pattern: undefined,
      state: 'absent',
      source: PRUNE_AT,
    });
    // Bootstrap packages stay (bmake records no PKGPATH and is known by its name); mystery is reported, not pruned.
    expect(plan.prune).toEqual({ removals: 2, withoutPkgpath: ['mystery-1.0'], blocked: [] });
  });

  it('removes the dependencies an explicit removal orphans, dependents before what they need', () => {
    const plan = planSite(
      pruning([requirement('math/root', { state: 'absent' }), requirement('devel/cmake')]),
      site([...FULL_ROOT, 'cmake-3.28.1']),
    );
    expect(plan.outcome).toBe('changes');
    const order = removals(plan);
    expect(new Set(order)).toEqual(
      new Set(['root-6.30.02', 'gsl-2.7nb1', 'fftw-3.3.10', 'python311-3.11.7', 'zlib-1.3.1']),
    );
    expect(order[0]).toBe('root-6.30.02');
    expect(order.indexOf('python311-3.11.7')).toBeLessThan(order.indexOf('zlib-1.3.1'));
    // The explicit removal carries no prune reason; its orphans do.
    expect(plan.changes.find((c) => c.from === 'root-6.30.02')?.pruned).toBeUndefined();
    expect(plan.changes.filter((c) => c.pruned).length).toBe(4);
  });

  it('without prune, an explicit removal leaves its automatic dependencies alone', () => {
    const plan = planSite(
      desired([requirement('math/root', { state: 'absent' }), requirement('devel/cmake')]),
      site([...FULL_ROOT, 'cmake-3.28.1']),
    );
    expect(removals(plan)).toEqual(['root-6.30.02']);
  });

  it('keeps an undeclared package that a staying package requires, and what that one requires', () => {
    // python311 was installed by hand (not automatic) and is not in the spec, but root needs it.
    const installed = ['root-6.30.02', 'gsl-2.7nb1*', 'fftw-3.3.10*', 'python311-3.11.7', 'zlib-1.3.1*'];
    const plan = planSite(pruning([requirement('math/root')]), site(installed));
    expect(plan.outcome).toBe('in-sync');
    expect(plan.actions).toEqual([]);
    expect(plan.prune).toEqual({ removals: 0, withoutPkgpath: [], blocked: [] });
  });

  it('keeps an undeclared package that a package the plan adds depends on', () => {
    const base = site(['python311-3.11.7', 'zlib-1.3.1*']);
    const available = [
      { pkgname: 'py311-numpy-1.26.4', pkgpath: 'math/py-numpy', depends: ['python311>=3.11'] },
      { pkgname: 'python311-3.11.7', pkgpath: 'lang/python311', depends: ['zlib>=1.2'] },
      { pkgname: 'zlib-1.3.1', pkgpath: 'devel/zlib', depends: [] },
    ];
    const plan = planSite(pruning([requirement('math/py-numpy')]), { ...base, available });
    expect(plan.outcome).toBe('changes');
    expect(plan.actions).toEqual([
      { verb: 'install', pkgpath: 'math/py-numpy', pkgname: 'py311-numpy-1.26.4' },
    ]);
  });

  it('blocks a prune over prune.maxRemovals, saying how to allow it', () => {
    const installed = ['cmake-3.28.1', 'hdf5-1.14.3', 'openssl-3.0.13'];
    const plan = planSite(pruning([requirement('math/gsl')], { maxRemovals: 2 }), site(installed));
    expect(plan.outcome).toBe('blocked');
    expect(plan.actions).toEqual([]);
    const message =
      'prune would remove 3 packages the spec does not declare, more than prune.maxRemovals (2): declare the ' +
      'packages to keep, or allow it with prune: { maxRemovals: 3 } (spec.yaml:7)';
    expect(plan.reasons).toEqual([message]);
    expect(plan.prune?.blocked).toEqual([message]);
    // The removals stay visible in the plan.
    expect(plan.changes.filter((c) => c.kind === 'remove').map((c) => c.from)).toEqual(installed);
    // At the limit it goes through.
    const atLimit = planSite(pruning([requirement('math/gsl')], { maxRemovals: 3 }), site(installed));
    expect(atLimit.outcome).toBe('changes');
    expect(removals(atLimit)).toEqual(installed);
  });

  it('blocks a prune that would leave only pkgsrc itself, unless allowRemoveAll', () => {
    const plan = planSite(pruning([]), site(['cmake-3.28.1']));
    expect(plan.outcome).toBe('blocked');
    expect(plan.reasons).toEqual([
      "prune would remove every package of this site except pkgsrc's own: if the spec is right, allow it with " +
        'prune: { allowRemoveAll: true } (spec.yaml:7)',
    ]);
    const allowed = planSite(pruning([], { allowRemoveAll: true }), site(['cmake-3.28.1']));
    expect(allowed.outcome).toBe('changes');
    expect(removals(allowed)).toEqual(['cmake-3.28.1']);
    // A site with nothing but pkgsrc has nothing to prune: nothing to block either.
    expect(planSite(pruning([]), site([])).outcome).toBe('in-sync');
  });

  it('never prunes bootstrap packages, even when nothing else is installed and everything is allowed', () => {
    const plan = planSite(pruning([], { allowRemoveAll: true }), site([]));
    expect(plan.outcome).toBe('in-sync');
    expect(plan.changes).toEqual([]);
  });

  it('leaves an undeclared package an ignore rule covers, with what it needs, and shows it as ignored', () => {
    const keepRoot = {
      pkgpath: 'math/root',
      kinds: ['remove' as const],
      reason: 'the analysis group still uses it',
      until: undefined,
      source: { file: 'spec.yaml', line: 9, column: 5 },
    };
    const plan = planSite(
      { ...pruning([requirement('devel/cmake')]), ignores: [keepRoot] },
      site([...FULL_ROOT, 'cmake-3.28.1', 'hdf5-1.14.3*']),
    );
    expect(removals(plan)).toEqual(['hdf5-1.14.3']);
    expect(plan.changes.find((c) => c.pkgpath === 'math/root')).toMatchObject({
      kind: 'unchanged',
      from: 'root-6.30.02',
      reason: 'ignored: the analysis group still uses it',
      ignored: { kind: 'remove' },
    });
  });

  it('reports a package without PKGPATH and does not count it as removed', () => {
    const plan = planSite(
      pruning([]),
      site(['cmake-3.28.1'], [{ pkgname: 'local-tool-2.0', pkgpath: undefined, automatic: false }]),
    );
    // cmake goes, local-tool stays: the site is not emptied, so the guard does not block.
    expect(plan.outcome).toBe('changes');
    expect(removals(plan)).toEqual(['cmake-3.28.1']);
    expect(plan.prune?.withoutPkgpath).toEqual(['local-tool-2.0']);
  });
});
