import { describe, expect, it } from 'vitest';
import { SiteSelectionError } from '../../src/cli/site-selection.js';
import { classifyApply, classifyError, classifyObservation } from '../../src/controller/classify.js';
import { ArcCommandError, ArcUnavailableError } from '../../src/grid/arc.js';
import { CredentialError } from '../../src/grid/credentials.js';
import { ProtocolError, parseReport } from '../../src/grid/protocol/index.js';
import { SlurmCommandError, SlurmUnavailableError } from '../../src/grid/slurm/exec.js';
import { SshConnectionError } from '../../src/grid/ssh/connection.js';
import { TemplateUnavailableError } from '../../src/grid/template.js';
import { GridpkgError } from '../../src/model/errors.js';
import type { SiteApplyResult } from '../../src/reconcile/engine.js';
import { observationFromReport } from '../../src/reconcile/observation.js';
import { SiteBusyError } from '../../src/reconcile/run-job.js';
import { FileError } from '../../src/state/fs-errors.js';
import { probeReport } from '../reconcile/fixtures.js';

describe('errors that say whether to retry', () => {
  it.each([
    ['a CE that does not answer', new ArcUnavailableError('arcstat timed out')],
    ['slurmctld down', new SlurmUnavailableError('squeue: connection refused')],
    ['ssh that cannot connect', new SshConnectionError('ssh exited 255')],
    ['a template command that timed out', new TemplateUnavailableError('timed out')],
    ['a site another gridpkg is submitting to', new SiteBusyError('site-a: another gridpkg ...')],
  ])('retries %s', (_what, error) => {
    expect(classifyError(error)).toEqual({ retryable: true, message: error.message });
    expect(error).toBeInstanceOf(GridpkgError);
  });

  it.each([
    [
      'a missing proxy',
      new CredentialError({ kind: 'missing', message: 'no proxy at /tmp/x509up_u1000' } as never),
    ],
    ['a CE that refuses the job', new ArcCommandError('not authorised')],
    ['sbatch rejecting the job', new SlurmCommandError('invalid partition')],
    ['a value the protocol refuses', new ProtocolError('pkgname', 'gsl;rm', 'bad characters')],
    [
      'a state directory that cannot be written',
      new FileError('could not save', '/st/x', 'read-only file system'),
    ],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a bad site selection', new SiteSelectionError('--site "x": no such site')],
    ['anything not understood', new Error('strange')],
  ])('stops at %s', (_what, error) => {
    expect(classifyError(error).retryable).toBe(false);
  });
});

/** A probe report with only these lines between its header and its end. */
function lines(...body: string[]): string {
  return ['gridpkg-report 1', 'job site-a-probe-1', 'mode probe', 'swdir /sw', ...body, 'end', ''].join('\n');
}

describe('job outcomes that say whether to retry', () => {
  const report = (edit: (text: string) => string) => {
    const parsed = parseReport(edit(probeReport('site-a-probe-1')));
    if (!parsed.ok) throw new Error(parsed.problem.message);
    return parsed;
  };
  const probe = (edit: (text: string) => string) => {
    const parsed = report(edit);
    const observation = observationFromReport('site-a', parsed.report, '2026-12-02T10:00:00Z');
    return {
      observation,
      result: {
        jobId: 'site-a-probe-1',
        jobState: { state: 'done', exitCode: 0, raw: '0' } as const,
        report: parsed,
        observation,
      },
    };
  };

  it('a known observation is no failure', () => {
    expect(classifyObservation(probe((t) => t))).toBeUndefined();
  });

  it('probes again after a site locked by another job', () => {
    const locked = probe(() =>
      lines('lock busy other-job wn-1.example.org 42 1700000000', 'status locked held by other-job'),
    );
    expect(locked.observation.state).toBe('unknown');
    expect(classifyObservation(locked)?.retryable).toBe(true);
  });

  it('stops at a site without pkgsrc: a person has to bootstrap it', () => {
    const absent = probe(() => lines('lock acquired', 'pkgsrc absent /sw/pkg', 'status error no pkgsrc'));
    expect(absent.observation.state).toBe('unknown');
    expect(classifyObservation(absent)?.retryable).toBe(false);
    // The reason says how to fix it.
    expect(absent.observation.state === 'unknown' && absent.observation.reason).toBe(
      'pkgsrc is not installed under /sw/pkg: gridpkg does not bootstrap sites yet, so bootstrap it there ' +
        '(bootstrap --unprivileged --prefix /sw/pkg, then chmod -R g+w /sw/pkg) or set prefix: to where it is',
    );
  });

  it('probes again after an unreadable report or a lost job', () => {
    const observation = {
      state: 'unknown',
      site: 'site-a',
      observedAt: '',
      jobId: 'j',
      reason: 'unreadable report',
    } as const;
    const lost = {
      observation,
      result: {
        jobId: 'j',
        jobState: { state: 'lost', reason: 'no end seen within the job timeout', raw: 'deadline' } as const,
        report: { ok: false, problem: { line: undefined, message: 'no report' } } as const,
        observation,
      },
    };
    expect(classifyObservation(lost)).toEqual({ retryable: true, message: 'unreadable report' });
  });

  it('classifies a probe that could not run by its error', () => {
    const observation = {
      state: 'unknown',
      site: 'site-a',
      observedAt: '',
      jobId: undefined,
      reason: 'probe job could not run: no proxy',
    } as const;
    expect(
      classifyObservation({ observation, error: new CredentialError({ message: 'no proxy' } as never) }),
    ).toEqual({
      retryable: false,
      message: 'probe job could not run: no proxy',
    });
    expect(classifyObservation({ observation, error: new ArcUnavailableError('down') })?.retryable).toBe(
      true,
    );
  });

  it('retries stale, locked, partial and not converged applies; a refused submission stops', () => {
    const result = (
      status: SiteApplyResult['status'],
      extra: Partial<SiteApplyResult> = {},
    ): SiteApplyResult => ({
      site: 'site-a',
      status,
      message: 'm',
      ...extra,
    });
    expect(classifyApply(result('ok'))).toBeUndefined();
    for (const status of ['stale', 'locked', 'partial', 'not-converged', 'unknown'] as const)
      expect(classifyApply(result(status))?.retryable).toBe(true);
    expect(classifyApply(result('error', { error: new ArcCommandError('refused') }))?.retryable).toBe(false);
    expect(classifyApply(result('error', { error: new ArcUnavailableError('down') }))?.retryable).toBe(true);
    expect(classifyApply(result('not-converged', { remaining: ['install math/gsl'] }))?.message).toBe(
      'not-converged: m; still different: install math/gsl',
    );
  });
});
