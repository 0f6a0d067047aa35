import { describe, expect, it } from 'vitest';
import { planSite } from '../../src/reconcile/plan.js';
import type { IgnoreRule } from '../../src/spec/types.js';
import { desired, observed, requirement } from './fixtures.js';

function rule(options: Partial<IgnoreRule>): IgnoreRule {
  return {
    pkgpath: undefined,
    kinds: undefined,
    reason: 'test',
    until: undefined,
    source: { file: 'spec.yaml', line: 9, column: 5 },
    ...options,
  };
}

const REQUIREMENTS = [
  requirement('devel/cmake'),
  requirement('devel/hdf5', { state: 'absent' }),
  requirement('security/openssl', { state: 'latest' }),
];
const OBSERVED = observed(['hdf5-1.14.3', 'openssl-3.0.13']);

describe('ignore rules in the plan', () => {
  it('turns an ignored change into an unchanged entry with the reason, and no action', () => {
    const plan = planSite(
      {
        ...desired(REQUIREMENTS),
        ignores: [rule({ pkgpath: 'security/openssl', kinds: ['upgrade'], reason: 'validated on 3.0.13' })],
      },
      OBSERVED,
    );
    expect(plan.outcome).toBe('changes');
    expect(plan.changes.find((c) => c.pkgpath === 'security/openssl')).toMatchObject({
      kind: 'unchanged',
      from: 'openssl-3.0.13',
      to: 'openssl-3.0.13',
      reason: 'ignored: validated on 3.0.13',
    });
    expect(plan.actions.map((a) => a.verb)).toEqual(['remove', 'install']);
  });

  it('matches by kind alone across packages, and leaves other kinds alone', () => {
    const plan = planSite(
      { ...desired(REQUIREMENTS), ignores: [rule({ kinds: ['install', 'remove'], reason: 'frozen' })] },
      OBSERVED,
    );
    expect(plan.actions).toEqual([
      { verb: 'upgrade', pkgpath: 'security/openssl', pkgname: 'openssl-3.0.15' },
    ]);
    expect(
      plan.changes.filter((c) => c.reason === 'ignored: frozen').map((c) => [c.pkgpath, c.kind, c.to]),
    ).toEqual([
      ['devel/cmake', 'unchanged', undefined],
      ['devel/hdf5', 'unchanged', 'hdf5-1.14.3'],
    ]);
  });

  it('makes a site whose only changes are ignored in sync', () => {
    const plan = planSite(
      { ...desired(REQUIREMENTS), ignores: [rule({ reason: 'maintenance window' })] },
      OBSERVED,
    );
    expect(plan.outcome).toBe('in-sync');
    expect(plan.actions).toEqual([]);
  });

  it('ignores only the named PKGPATH, and never an unknown or blocked outcome', () => {
    const plan = planSite(
      {
        ...desired([requirement('math/gsl', { state: 'absent' }), requirement('math/root')]),
        ignores: [rule({ pkgpath: 'math/root' })],
      },
      observed(['root-6.30.02', 'gsl-2.7nb1*', 'fftw-3.3.10*', 'python311-3.11.7*', 'zlib-1.3.1*']),
    );
    // removing gsl would break root, which stays: blocked, whatever the ignore rules say about other packages
    expect(plan.outcome).toBe('blocked');
    expect(plan.changes.find((c) => c.pkgpath === 'math/gsl')?.kind).toBe('blocked');
  });

  it('lets an ignored removal keep its package, which may block nothing else', () => {
    const plan = planSite(
      {
        ...desired([
          requirement('math/gsl', { state: 'absent' }),
          requirement('math/root', { state: 'absent' }),
        ]),
        ignores: [rule({ pkgpath: 'math/root', kinds: ['remove'], reason: 'users still need it' })],
      },
      observed(['gsl-2.7nb1', 'root-6.30.02', 'fftw-3.3.10', 'python311-3.11.7', 'zlib-1.3.1']),
    );
    // root stays (ignored), so removing gsl, which root requires, is blocked
    expect(plan.changes.find((c) => c.pkgpath === 'math/root')?.reason).toBe('ignored: users still need it');
    expect(plan.changes.find((c) => c.pkgpath === 'math/gsl')?.kind).toBe('blocked');
    expect(plan.actions).toEqual([]);
  });
});
