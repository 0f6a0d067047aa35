import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planExitCode } from '../../src/cli/commands/plan.js';
import { parseReport } from '../../src/grid/protocol/index.js';
import { type KnownObservation, observationFromReport } from '../../src/reconcile/observation.js';
import { buildPlan } from '../../src/reconcile/plan.js';
import { readPlanFile, writePlanFile } from '../../src/reconcile/plan-file.js';
import { renderPlan } from '../../src/report/plan-view.js';
import { desired, observed, requirement } from '../reconcile/fixtures.js';
import { expectSafe, expectShownEscaped, HOSTILE_LINE, STYLES } from './hostile-text.js';

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
        'Nothing was planned: none of the 1 site(s) could be observed.\n',
    );
  });
});

describe('plan summary line', () => {
  const meta = { specFile: 's.yaml', specDigest: 'sha256:0' };
  const gsl = (site: string) => desired([requirement('math/gsl')], site);
  const summaryOf = (plan: ReturnType<typeof buildPlan>) => renderPlan(plan).trimEnd().split('\n').at(-1);

  it('does not say "No changes" when no site could be observed', () => {
    const plan = buildPlan([gsl('site-a'), gsl('site-b'), gsl('site-c')], [], meta);
    expect(summaryOf(plan)).toBe('Nothing was planned: none of the 3 site(s) could be observed.');
  });

  it('says which sites had nothing planned when only some were observed', () => {
    const plan = buildPlan([gsl('site-a'), gsl('site-b')], [observed(['gsl-2.8'])], meta);
    expect(summaryOf(plan)).toBe(
      'No changes on the 1 site(s) observed (1 match the spec). 1 site(s) unknown: nothing was planned there.',
    );
  });

  it('keeps "No changes." for a plan where every site was observed and matches', () => {
    const plan = buildPlan([gsl('site-a')], [observed(['gsl-2.8'])], meta);
    expect(summaryOf(plan)).toBe('No changes. 1 of 1 site(s) match the spec.');
  });

  it('counts ignored changes', () => {
    const site = {
      ...desired([requirement('security/openssl', { state: 'latest' }), requirement('devel/cmake')]),
      ignores: [ignoreOpenssl],
    };
    const withInstall = buildPlan([site], [observed(['openssl-3.0.13'])], meta);
    expect(summaryOf(withInstall)).toBe(
      'Plan: 1 to install, 0 to upgrade, 0 to downgrade, 0 to remove on 1 of 1 site(s). ' +
        '1 change(s) ignored by ignore rules.',
    );
    const inSync = buildPlan([site], [observed(['openssl-3.0.13', 'cmake-3.28.1'])], meta);
    expect(summaryOf(inSync)).toBe(
      'No changes. 1 of 1 site(s) match the spec. 1 change(s) ignored by ignore rules.',
    );
  });
});

describe('notes of the site job', () => {
  it('are shown with the site they come from', () => {
    const observation = {
      ...observed(['gsl-2.8']),
      notes: ['9 package database entr(y/ies) with an unsafe name skipped'],
    };
    const plan = buildPlan([desired([requirement('math/gsl')])], [observation], {
      specFile: 's.yaml',
      specDigest: 'sha256:0',
    });
    expect(renderPlan(plan)).toBe(
      '# site-a: no changes, the site matches the spec\n' +
        '  note from the site job: 9 package database entr(y/ies) with an unsafe name skipped\n\n' +
        'No changes. 1 of 1 site(s) match the spec.\n',
    );
  });
});

describe('notes in a saved plan', () => {
  it('are kept by plan -out and accepted by apply PLANFILE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridpkg-notes-'));
    try {
      const observation = {
        ...observed(['gsl-2.8']),
        notes: ['1 @pkgdep line(s) with an unsafe pattern skipped'],
      };
      const plan = buildPlan([desired([requirement('math/gsl')])], [observation], {
        specFile: join(dir, 's.yaml'),
        specDigest: `sha256:${'0'.repeat(64)}`,
      });
      await writePlanFile(join(dir, 'p.plan'), plan, dir);
      expect((await readPlanFile(join(dir, 'p.plan'))).sites[0]?.notes).toEqual(observation.notes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('site text in the plan', () => {
  const meta = { specFile: 's.yaml', specDigest: 'sha256:0' };
  const hostilePlan = () => {
    const known = observed(['gsl-2.8', 'openssl-3.0.13']);
    known.installed.push({ pkgname: `zlib-1.3.1${HOSTILE_LINE}`, pkgpath: 'devel/zlib', automatic: false });
    known.audit = [{ pkgname: `openssl-3.0.13${HOSTILE_LINE}`, type: HOSTILE_LINE, url: HOSTILE_LINE }];
    known.notes = [HOSTILE_LINE];
    known.fingerprint = `sha256:${HOSTILE_LINE}`;
    const unknown = {
      state: 'unknown' as const,
      site: 'site-b',
      observedAt: '2026-11-23T10:00:00Z',
      jobId: 'site-b-probe-1',
      reason: `unreadable report (no report); job exited with 3; stderr: ${HOSTILE_LINE}`,
      notes: [HOSTILE_LINE],
    };
    return buildPlan(
      [
        desired([requirement('devel/zlib', { state: 'absent' }), requirement('math/gsl')], 'site-a'),
        desired([requirement('math/gsl')], 'site-b'),
      ],
      [known, unknown],
      meta,
    );
  };

  it.each(STYLES)('is shown escaped, never as terminal or CI commands (%s)', (_name, style) => {
    const text = renderPlan(hostilePlan(), style);
    expectSafe(text, 'plan');
    expectShownEscaped(text, 'plan');
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

describe('a vulnerability audit that did not run', () => {
  const DAMAGED =
    "pkg_admin exit 1: pkg_admin: SHA512 hash doesn't match; list not refreshed: pkg_admin exit 1: " +
    'pkg_admin: Could not fetch vulnerability file: No address record';
  // A vulnerable package and a damaged list: the audit found nothing because it did not run.
  const planWith = (
    policy: 'ignore' | 'warn' | 'fail' | undefined,
    auditStatus: KnownObservation['auditStatus'] = { status: 'skipped', message: DAMAGED },
  ) => {
    const observation = observed(['openssl-3.0.13']);
    observation.auditStatus = auditStatus;
    const site = desired([requirement('security/openssl')]);
    return buildPlan(
      [policy === undefined ? site : { ...site, vulnerabilityPolicy: policy }],
      [observation],
      { specFile: 's.yaml', specDigest: 'sha256:0' },
    );
  };

  it('is shown under the site and counted in the summary (policy warn, and the default)', () => {
    for (const policy of ['warn', undefined] as const) {
      const plan = planWith(policy);
      expect(plan.sites[0]?.auditNotRun).toEqual({ status: 'skipped', message: DAMAGED });
      const text = renderPlan(plan);
      expect(text).toContain(
        `# site-a: no changes, the site matches the spec\n  ! audit did not run: ${DAMAGED}\n`,
      );
      expect(text).toContain('1 site(s) whose vulnerability audit did not run');
      expect(planExitCode(plan, false)).toBe(0);
    }
  });

  it('fails the plan under policy fail, like a vulnerable package, and says why', () => {
    const plan = planWith('fail');
    expect(renderPlan(plan)).toContain(`  ! audit did not run: ${DAMAGED} (vulnerabilities.policy: fail)\n`);
    expect(planExitCode(plan, false)).toBe(1);
    expect(planExitCode(plan, true)).toBe(1);
    const noList = planWith('fail', { status: 'no-list', message: 'no vulnerability list on the site: x' });
    expect(renderPlan(noList)).toContain('  ! audit did not run: no vulnerability list on the site: x');
    expect(planExitCode(noList, false)).toBe(1);
  });

  it('is not shown under policy ignore, and a clean or vulnerable audit is not reported as not run', () => {
    expect(renderPlan(planWith('ignore'))).not.toContain('audit');
    expect(planExitCode(planWith('ignore'), false)).toBe(0);
    const clean = planWith('fail', { status: 'clean', message: 'list not refreshed: no network' });
    expect(clean.sites[0]?.auditNotRun).toBeUndefined();
    expect(renderPlan(clean)).not.toContain('audit');
    expect(planExitCode(clean, false)).toBe(0);
  });

  it.each(STYLES)('shows the message escaped (%s)', (_name, style) => {
    const text = renderPlan(planWith('fail', { status: 'skipped', message: HOSTILE_LINE }), style);
    expectSafe(text, 'plan');
    expectShownEscaped(text, 'plan');
  });

  it('survives a saved plan', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridpkg-plan-audit-'));
    try {
      const observation = observed(['openssl-3.0.13']);
      observation.auditStatus = { status: 'skipped', message: DAMAGED };
      const site = { ...desired([requirement('security/openssl')]), vulnerabilityPolicy: 'fail' as const };
      const plan = buildPlan([site], [observation], {
        specFile: join(dir, 's.yaml'),
        specDigest: `sha256:${'0'.repeat(64)}`,
      });
      await writePlanFile(join(dir, 'p.plan'), plan, dir);
      const saved = await readPlanFile(join(dir, 'p.plan'));
      expect(saved.sites[0]?.auditNotRun).toEqual({ status: 'skipped', message: DAMAGED });
      expect(planExitCode(saved, false)).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a site whose pkg_install uses another prefix's database", () => {
  it('is unknown, says why and what to do, and gets nothing', () => {
    const parsed = parseReport(
      [
        'gridpkg-report 1',
        'job j1',
        'mode probe',
        'swdir /sw/B',
        'lock acquired',
        'pkgsrc foreign-pkgdb /sw/B/pkg /sw/A/pkg/pkgdb',
        "status error the package database /sw/A/pkg/pkgdb is not this site's",
        'end',
        '',
      ].join('\n'),
    );
    if (!parsed.ok) throw new Error(parsed.problem.message);
    const observation = observationFromReport('site-a', parsed.report, '2026-12-02T00:00:00Z');
    const plan = buildPlan([desired([requirement('math/gsl')])], [observation], {
      specFile: 's.yaml',
      specDigest: 'sha256:0',
    });
    expect(plan.sites[0]?.outcome).toBe('unknown');
    expect(plan.sites[0]?.actions).toEqual([]);
    expect(renderPlan(plan)).toContain(
      '# site-a: unknown — pkg_install under /sw/B/pkg uses the package database /sw/A/pkg/pkgdb, which is not ' +
        "this site's (PKG_DBDIR is compiled into pkg_install at bootstrap: a copied or moved prefix keeps using the " +
        "original's database), so the job neither read nor changed it; bootstrap pkgsrc again at /sw/B/pkg, or set " +
        "PKG_DBDIR to this site's database in the backend's environment; nothing will be done\n",
    );
    expect(planExitCode(plan, false)).toBe(3);
  });
});

describe('a software area the VO cannot keep writing', () => {
  const meta = { specFile: 's.yaml', specDigest: 'sha256:0' };
  const planWith = (softwareArea: KnownObservation['softwareArea'], installed: string[] = []) => {
    const observation = observed(installed);
    observation.softwareArea = softwareArea;
    return buildPlan([desired([requirement('math/gsl')])], [observation], meta);
  };

  it('not group-writable: a warning with the fix; the changes still apply', () => {
    const plan = planWith({ writable: true, notGroupWritable: 40, example: '/sw/pkg' });
    expect(plan.sites[0]?.outcome).toBe('changes');
    expect(plan.sites[0]?.actions).toHaveLength(1);
    const text = renderPlan(plan);
    expect(text).toContain(
      '  ! software area not group-writable: 40 path(s) not group-writable, e.g. /sw/pkg under /sw/pkg; other pool ' +
        'accounts of the VO cannot change them: run `chmod -R g+w /sw/pkg` (as their owner)\n',
    );
    expect(text).toContain('1 site(s) whose software area is not group-writable');
    expect(planExitCode(plan, false)).toBe(0);
  });

  it("not writable by the job's account: the site's changes are blocked, with the fix", () => {
    const plan = planWith({ writable: false, notGroupWritable: 40, example: '/sw/pkg' });
    expect(plan.sites[0]?.outcome).toBe('blocked');
    expect(plan.sites[0]?.actions).toEqual([]);
    expect(plan.sites[0]?.reasons).toContain("the job's account cannot write the software area /sw/pkg");
    expect(renderPlan(plan)).toContain(
      "  ! software area not writable by the job's account: /sw/pkg (40 path(s) not group-writable, e.g. /sw/pkg); " +
        'as the owner of those files, run `chmod -R g+w /sw/pkg`\n',
    );
    expect(planExitCode(plan, false)).toBe(1);
    // Nothing to change: shown, not blocking.
    const inSync = planWith({ writable: false, notGroupWritable: 1, example: '/sw/pkg' }, ['gsl-2.8']);
    expect(inSync.sites[0]?.outcome).toBe('in-sync');
    expect(planExitCode(inSync, false)).toBe(0);
  });

  it('says nothing when the area is group-writable, or was not reported', () => {
    expect(renderPlan(planWith({ writable: true, notGroupWritable: 0, example: undefined }))).not.toContain(
      'software area',
    );
    expect(renderPlan(planWith(undefined))).not.toContain('software area');
  });

  it.each(STYLES)('shows the example path escaped (%s)', (_name, style) => {
    const text = renderPlan(planWith({ writable: true, notGroupWritable: 1, example: HOSTILE_LINE }), style);
    expectSafe(text, 'plan');
    expectShownEscaped(text, 'plan');
  });
});

describe('a site that prunes', () => {
  const pruning = (maxRemovals: number) => ({
    ...desired([requirement('math/root')]),
    prune: { maxRemovals, allowRemoveAll: false, source: { file: 'spec.yaml', line: 3, column: 10 } },
  });
  const observation = () => {
    const o = observed(['root-6.30.02', 'gsl-2.7nb1*', 'fftw-3.3.10*', 'python311-3.11.7*', 'zlib-1.3.1*']);
    o.installed.push(
      { pkgname: 'cmake-3.28.1', pkgpath: 'devel/cmake', automatic: false },
      { pkgname: 'hdf5-1.14.3', pkgpath: 'devel/hdf5', automatic: true },
      { pkgname: 'mystery-1.0', pkgpath: undefined, automatic: false },
    );
    return o;
  };

  it('shows pruned removals with the reason "not declared" and what it leaves for lack of a PKGPATH', () => {
    const plan = buildPlan([pruning(10)], [observation()], { specFile: 's.yaml', specDigest: 'sha256:0' });
    expect(renderPlan(plan)).toBe(
      [
        '# site-a (observed database sha256:abc)',
        '  - devel/cmake              remove cmake-3.28.1 (not declared)',
        '  - devel/hdf5               remove hdf5-1.14.3 (not declared; installed as a dependency and nothing needs it any more)',
        '  ! not pruned: mystery-1.0 record(s) no PKGPATH, so gridpkg cannot tell what they are (reinstall them from a package built by pkgsrc to manage them)',
        '',
        'Plan: 0 to install, 0 to upgrade, 0 to downgrade, 2 to remove on 1 of 1 site(s).',
        '',
      ].join('\n'),
    );
  });

  it('shows a blocked prune with how to allow it, and keeps it in a saved plan', async () => {
    const plan = buildPlan([pruning(1)], [observation()], {
      specFile: '/tmp/s.yaml',
      specDigest: `sha256:${'0'.repeat(64)}`,
    });
    const text = renderPlan(plan);
    expect(text).toContain('# site-a: blocked');
    expect(text).toContain(
      '  ! prune blocked: prune would remove 2 packages the spec does not declare, more than prune.maxRemovals (1): ' +
        'declare the packages to keep, or allow it with prune: { maxRemovals: 2 } (spec.yaml:3)',
    );
    const dir = await mkdtemp(join(tmpdir(), 'gridpkg-plan-prune-'));
    try {
      await writePlanFile(join(dir, 'p.plan'), plan, dir);
      const saved = await readPlanFile(join(dir, 'p.plan'));
      expect(saved.sites[0]?.prune).toEqual(plan.sites[0]?.prune);
      expect(saved.sites[0]?.changes.filter((c) => c.pruned).map((c) => c.from)).toEqual([
        'cmake-3.28.1',
        'hdf5-1.14.3',
      ]);
      expect(renderPlan(saved)).toBe(text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
