import { describe, expect, it } from 'vitest';
import { buildPlan, planSite, summarizePlan } from '../../src/reconcile/plan.js';
import { desired, observed, requirement } from './fixtures.js';

const FULL_ROOT = ['root-6.30.02', 'gsl-2.7nb1*', 'fftw-3.3.10*', 'python311-3.11.7*', 'zlib-1.3.1*'];

describe('plan of one site', () => {
  it('orders removals before replacements before installs', () => {
    const plan = planSite(
      desired([
        requirement('devel/cmake'),
        requirement('devel/hdf5', { state: 'absent' }),
        requirement('security/openssl', { state: 'latest' }),
      ]),
      observed(['hdf5-1.14.3', 'openssl-3.0.13']),
    );
    expect(plan.outcome).toBe('changes');
    expect(plan.fingerprint).toBe('sha256:abc');
    expect(plan.actions).toEqual([
      { verb: 'remove', pkgpath: 'devel/hdf5', pkgname: 'hdf5-1.14.3' },
      { verb: 'upgrade', pkgpath: 'security/openssl', pkgname: 'openssl-3.0.15' },
      { verb: 'install', pkgpath: 'devel/cmake', pkgname: 'cmake-3.28.1' },
    ]);
  });

  it('blocks every install, upgrade and downgrade of a site whose repository is built for another prefix', () => {
    const foreign = { ...observed(['hdf5-1.14.3', 'openssl-3.0.13']), repositoryPrefix: '/sw/A/pkg' };
    const plan = planSite(
      desired([
        requirement('devel/cmake'),
        requirement('devel/hdf5', { state: 'absent' }),
        requirement('security/openssl', { state: 'latest' }),
      ]),
      foreign,
    );
    expect(plan.outcome).toBe('blocked');
    expect(plan.actions).toEqual([]);
    const reason =
      "the repository's packages are built for prefix /sw/A/pkg, not this site's prefix /sw/pkg: pkg_add would " +
      'install them into /sw/A/pkg. Give this site a repository built for /sw/pkg (repository: on the site), ' +
      'install pkgsrc under the same prefix on every site that shares the repository, or build from source ' +
      '(installMode: source)';
    expect(plan.changes.map((c) => [c.pkgpath, c.kind, c.reason])).toEqual([
      ['devel/cmake', 'blocked', reason],
      ['devel/hdf5', 'remove', undefined],
      ['security/openssl', 'blocked', reason],
    ]);
    // The same site with a repository built for its own prefix plans as before, each install naming its file.
    const own = planSite(desired([requirement('devel/cmake')]), {
      ...observed([]),
      repositoryPrefix: '/sw/pkg',
      available: [{ pkgname: 'cmake-3.28.1', pkgpath: 'devel/cmake', fileName: 'cmake-3.28.1.tbz' }],
    });
    expect(own.actions).toEqual([
      { verb: 'install', pkgpath: 'devel/cmake', pkgname: 'cmake-3.28.1', file: 'cmake-3.28.1.tbz' },
    ]);
  });

  it('is in sync, with no actions, when every requirement holds', () => {
    const plan = planSite(desired([requirement('math/root'), requirement('math/gsl')]), observed(FULL_ROOT));
    expect(plan.outcome).toBe('in-sync');
    expect(plan.actions).toEqual([]);
  });

  it('refuses to remove a package that a package which stays requires, and does nothing on that site', () => {
    const plan = planSite(
      desired([
        requirement('math/root'),
        requirement('math/gsl', { state: 'absent' }),
        requirement('devel/cmake'),
      ]),
      observed(FULL_ROOT),
    );
    expect(plan.outcome).toBe('blocked');
    expect(plan.actions).toEqual([]);
    const gsl = plan.changes.find((c) => c.pkgpath === 'math/gsl');
    expect(gsl?.kind).toBe('blocked');
    expect(gsl?.reason).toContain('required by root-6.30.02');
  });

  it('removes dependents before the packages they require when both go', () => {
    const plan = planSite(
      desired([requirement('math/gsl', { state: 'absent' }), requirement('math/root', { state: 'absent' })]),
      observed(['gsl-2.7nb1', 'root-6.30.02', 'fftw-3.3.10', 'python311-3.11.7', 'zlib-1.3.1']),
    );
    expect(plan.outcome).toBe('changes');
    expect(plan.actions.map((a) => a.pkgname)).toEqual(['root-6.30.02', 'gsl-2.7nb1']);
  });

  it('follows a blocked removal through the chain: a kept python311 keeps zlib too', () => {
    const plan = planSite(
      desired([
        requirement('math/root'),
        requirement('lang/python311', { state: 'absent' }),
        requirement('devel/zlib', { state: 'absent' }),
      ]),
      observed(FULL_ROOT),
    );
    const kinds = Object.fromEntries(plan.changes.map((c) => [c.pkgpath, c.kind]));
    expect(kinds).toEqual({ 'math/root': 'unchanged', 'lang/python311': 'blocked', 'devel/zlib': 'blocked' });
    expect(plan.actions).toEqual([]);
  });

  it('refuses a downgrade that a package which stays does not accept', () => {
    const plan = planSite(desired([requirement('math/gsl', { pattern: 'gsl<2.7' })]), observed(FULL_ROOT));
    expect(plan.outcome).toBe('blocked');
    expect(plan.changes[0]?.reason).toContain('root-6.30.02 requires gsl>=2.7');
  });

  it('allows a downgrade that still satisfies every dependent', () => {
    const plan = planSite(
      desired([requirement('math/gsl', { pattern: 'gsl<2.8' })]),
      observed(['root-6.30.02', 'gsl-2.8*', 'fftw-3.3.10*', 'python311-3.11.7*', 'zlib-1.3.1*']),
    );
    expect(plan.actions).toEqual([{ verb: 'downgrade', pkgpath: 'math/gsl', pkgname: 'gsl-2.7nb1' }]);
  });

  it('never acts on an unknown site', () => {
    const plan = planSite(
      desired([requirement('math/gsl'), requirement('devel/hdf5', { state: 'absent' })]),
      {
        state: 'unknown',
        site: 'site-a',
        observedAt: '2026-11-23T10:00:00Z',
        jobId: 'x',
        reason: 'unreadable report (no end line)',
      },
    );
    expect(plan.outcome).toBe('unknown');
    expect(plan.actions).toEqual([]);
    expect(plan.changes.every((c) => c.kind === 'unknown')).toBe(true);
  });

  it('does not act on a site where one requirement is unknown', () => {
    const observation = observed(['hdf5-1.14.3']);
    observation.installed.push({ pkgname: 'gsl-2.6', pkgpath: undefined, automatic: false });
    const plan = planSite(
      desired([requirement('math/gsl'), requirement('devel/hdf5', { state: 'absent' })]),
      observation,
    );
    expect(plan.outcome).toBe('unknown');
    expect(plan.actions).toEqual([]);
  });
});

describe('whole plan', () => {
  it('counts actions and site outcomes, and treats a site without observation as unknown', () => {
    const sites = [desired([requirement('math/gsl')], 'a'), desired([requirement('math/gsl')], 'b')];
    const plan = buildPlan(sites, [{ ...observed([]), site: 'a' }], {
      specFile: 's.yaml',
      specDigest: 'sha256:0',
    });
    expect(plan.sites.map((s) => s.outcome)).toEqual(['changes', 'unknown']);
    expect(summarizePlan(plan)).toMatchObject({ install: 1, sitesWithChanges: 1, sitesUnknown: 1 });
  });
});
