import { describe, expect, it } from 'vitest';
import { planExitCode } from '../../src/cli/commands/plan.js';
import { buildPlan } from '../../src/reconcile/plan.js';
import { renderPlan } from '../../src/report/plan-view.js';
import { desired, observed, requirement } from '../reconcile/fixtures.js';

const ignoreOpenssl = {
  pkgpath: 'security/openssl',
  kinds: ['upgrade' as const],
  reason: 'validated on 3.0.13',
  until: undefined,
  source: { file: 'spec.yaml', line: 1, column: 1 },
};

describe('plan view', () => {
  it('shows one line per change with its symbol, grouped by site, and a summary line', () => {
    const site = desired([
      requirement('devel/cmake'),
      requirement('devel/hdf5', { state: 'absent' }),
      requirement('math/gsl', { pattern: 'gsl<2.8' }),
      requirement('security/openssl', { state: 'latest' }),
    ]);
    const plan = buildPlan([site], [observed(['hdf5-1.14.3', 'openssl-3.0.13', 'gsl-2.8'])], {
      specFile: 's.yaml',
      specDigest: 'sha256:0',
    });
    expect(renderPlan(plan)).toBe(
      [
        '# site-a (observed database sha256:abc)',
        '  + devel/cmake              install cmake-3.28.1',
        '  - devel/hdf5               remove hdf5-1.14.3',
        '  ~ math/gsl                 downgrade gsl-2.8 -> gsl-2.7nb1',
        '  ~ security/openssl         upgrade openssl-3.0.13 -> openssl-3.0.15',
        '',
        'Plan: 1 to install, 1 to upgrade, 1 to downgrade, 1 to remove on 1 of 1 site(s).',
        '',
      ].join('\n'),
    );
  });

  it('keeps ignored drift visible instead of hiding it', () => {
    const site = {
      ...desired([requirement('security/openssl', { state: 'latest' })]),
      ignores: [ignoreOpenssl],
    };
    const plan = buildPlan([site], [observed(['openssl-3.0.13'])], {
      specFile: 's.yaml',
      specDigest: 'sha256:0',
    });
    expect(renderPlan(plan)).toContain(
      '# site-a: no changes apart from ignored drift\n' +
        '    security/openssl         upgrade openssl-3.0.13 -> openssl-3.0.15 ignored: validated on 3.0.13\n',
    );
  });

  it('says why an unknown site gets nothing', () => {
    const plan = buildPlan([desired([requirement('math/gsl')])], [], {
      specFile: 's.yaml',
      specDigest: 'sha256:0',
    });
    expect(renderPlan(plan)).toBe(
      '# site-a: unknown — the site was not observed; nothing will be done\n\n' +
        'No changes. 0 of 1 site(s) match the spec. 1 site(s) unknown\n',
    );
  });
});

describe('vulnerability audit in the plan', () => {
  const vulnerable = () => {
    const observation = observed(['openssl-3.0.13']);
    observation.audit = [
      {
        pkgname: 'openssl-3.0.13',
        type: 'denial-of-service',
        url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-4603',
      },
      {
        pkgname: 'openssl-3.0.13',
        type: 'buffer-overflow',
        url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-5535',
      },
    ];
    return observation;
  };
  const planWith = (policy: 'ignore' | 'warn' | 'fail') =>
    buildPlan(
      [{ ...desired([requirement('security/openssl')]), vulnerabilityPolicy: policy }],
      [vulnerable()],
      {
        specFile: 's.yaml',
        specDigest: 'sha256:0',
      },
    );

  it('lists vulnerable packages per site and counts the sites in the summary (policy warn)', () => {
    const text = renderPlan(planWith('warn'));
    expect(text).toContain('  ! vulnerable openssl-3.0.13: denial-of-service, buffer-overflow\n');
    expect(text).toContain('1 site(s) with vulnerable packages');
    expect(planExitCode(planWith('warn'), false)).toBe(0);
  });

  it('makes the plan fail with policy fail, and says why', () => {
    expect(renderPlan(planWith('fail'))).toContain('(vulnerabilities.policy: fail)');
    expect(planExitCode(planWith('fail'), false)).toBe(1);
  });

  it('shows nothing with policy ignore', () => {
    expect(renderPlan(planWith('ignore'))).not.toContain('vulnerable');
  });
});
