import { describe, expect, it } from 'vitest';
import { diffRequirement } from '../../src/reconcile/diff.js';
import { observed, requirement } from './fixtures.js';

const kindOf = (req: ReturnType<typeof requirement>, installed: string[]) =>
  diffRequirement(req, observed(installed)).map(({ kind, from, to }) => ({ kind, from, to }));

describe('diff of one requirement', () => {
  it('installs the newest version the repository offers when nothing is installed', () => {
    expect(kindOf(requirement('math/gsl'), [])).toEqual([
      { kind: 'install', from: undefined, to: 'gsl-2.8' },
    ]);
  });

  it('installs the best match of the pattern, not the newest package', () => {
    expect(kindOf(requirement('math/gsl', { pattern: 'gsl<2.8' }), [])).toEqual([
      { kind: 'install', from: undefined, to: 'gsl-2.7nb1' },
    ]);
  });

  it('leaves an installed package alone when it satisfies the requirement', () => {
    expect(kindOf(requirement('math/gsl'), ['gsl-2.7nb1'])).toEqual([
      { kind: 'unchanged', from: 'gsl-2.7nb1', to: 'gsl-2.7nb1' },
    ]);
    expect(kindOf(requirement('math/gsl', { pattern: 'gsl>=2.7<3' }), ['gsl-2.7nb1'])[0]?.kind).toBe(
      'unchanged',
    );
  });

  it('upgrades when the installed version is below the pattern (dewey order, nb revisions)', () => {
    expect(kindOf(requirement('math/gsl', { pattern: 'gsl>=2.8' }), ['gsl-2.7nb1'])).toEqual([
      { kind: 'upgrade', from: 'gsl-2.7nb1', to: 'gsl-2.8' },
    ]);
  });

  it('downgrades when the installed version is above the pattern', () => {
    expect(kindOf(requirement('math/gsl', { pattern: 'gsl<2.8' }), ['gsl-2.8'])).toEqual([
      { kind: 'downgrade', from: 'gsl-2.8', to: 'gsl-2.7nb1' },
    ]);
  });

  it('state latest upgrades to the newest offered version and is satisfied by it', () => {
    expect(kindOf(requirement('math/gsl', { state: 'latest' }), ['gsl-2.7nb1'])).toEqual([
      { kind: 'upgrade', from: 'gsl-2.7nb1', to: 'gsl-2.8' },
    ]);
    expect(kindOf(requirement('math/gsl', { state: 'latest' }), ['gsl-2.8'])[0]?.kind).toBe('unchanged');
  });

  it('state absent removes what is installed and is satisfied when nothing is', () => {
    expect(kindOf(requirement('devel/hdf5', { state: 'absent' }), ['hdf5-1.14.3'])).toEqual([
      { kind: 'remove', from: 'hdf5-1.14.3', to: undefined },
    ]);
    expect(kindOf(requirement('devel/hdf5', { state: 'absent' }), [])[0]?.kind).toBe('unchanged');
  });

  it('state absent with a pattern removes only the matching version', () => {
    expect(
      kindOf(requirement('devel/hdf5', { state: 'absent', pattern: 'hdf5<1.14' }), ['hdf5-1.14.3'])[0]?.kind,
    ).toBe('unchanged');
  });

  it('is blocked when the repository offers nothing that matches', () => {
    const [change] = diffRequirement(requirement('math/gsl', { pattern: 'gsl>=9' }), observed([]));
    expect(change?.kind).toBe('blocked');
    expect(change?.reason).toContain('gsl>=9');
  });

  it('is blocked, not guessed, when the site could not read the repository', () => {
    const [change] = diffRequirement(requirement('math/gsl'), observed([], { available: [] }));
    expect(change?.kind).toBe('blocked');
    expect(change?.reason).toContain('could not read the package repository');
  });

  it('is unknown when an installed package without PKGPATH could be the one required', () => {
    const observation = observed([]);
    observation.installed.push({ pkgname: 'gsl-2.7nb1', pkgpath: undefined, automatic: false });
    for (const state of ['present', 'absent'] as const) {
      const [change] = diffRequirement(requirement('math/gsl', { state }), observation);
      expect(change?.kind).toBe('unknown');
    }
  });
});
