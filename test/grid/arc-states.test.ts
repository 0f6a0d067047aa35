/**
 * The pure parts of the ARC backend: the xRSL description, reading `arcstat -J -l` and `arcsub` output (the real
 * ARC 6.17 outputs in test/fixtures/arc/ are the test vectors) and mapping ARC's generic job states onto gridpkg's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ArcJobRecord,
  ArcOutputError,
  isArcJobUrl,
  isJobOfCe,
  jobsNotInJobList,
  mapArcState,
  parseArcstatJson,
  parseSubmittedJobId,
} from '../../src/grid/arc/states.js';
import { ARC_INPUT_FILES, ARC_OUTPUT_FILES, buildXrsl, xrslString } from '../../src/grid/arc/xrsl.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/arc');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

const JOBS = 'https://localhost:60443/arex/rest/1.0/jobs';
const FINISHED = `${JOBS}/xpuLDmGerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmCBFKDm0SprQm`;
const RUNNING = `${JOBS}/bgHODmGerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmDBFKDmCY2rcn`;
const FAILED = `${JOBS}/NLOMDmHerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmEBFKDmlLBAWn`;
const KILLED = `${JOBS}/rvPLDmIerpAoOSAtDmABFKDmABFKDmABFKDmS2MKDmFBFKDmMYcLam`;

function record(state: string, extra: Partial<ArcJobRecord> = {}): ArcJobRecord {
  return {
    id: `${JOBS}/x`,
    name: 'gridpkg-x',
    state,
    specificState: undefined,
    exitCode: undefined,
    errors: [],
    ...extra,
  };
}

/** The relations of an xRSL text, name → value text, in order. */
function relations(xrsl: string): [string, string][] {
  return [...xrsl.matchAll(/^ \(([a-z]+)=(.*)\)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']);
}

describe('arc: xRSL', () => {
  const base = { jobName: 'gridpkg-j-1', wallTimeMinutes: undefined, queue: undefined, memoryMB: undefined };

  it('runs runner.sh with the five input files and brings back report.txt, exit-status, stdout and stderr', () => {
    const xrsl = buildXrsl(base);
    expect(xrsl.startsWith('&\n')).toBe(true);
    expect(relations(xrsl)).toEqual([
      ['executable', '"runner.sh"'],
      ['jobname', '"gridpkg-j-1"'],
      ['inputfiles', '("runner.sh" "")("site-job.sh" "")("request.txt" "")("env" "")("shell" "")'],
      ['outputfiles', '("report.txt" "")("exit-status" "")'],
      ['stdout', '"stdout.txt"'],
      ['stderr', '"stderr.txt"'],
    ]);
    expect([...ARC_INPUT_FILES]).toEqual(['runner.sh', 'site-job.sh', 'request.txt', 'env', 'shell']);
    expect([...ARC_OUTPUT_FILES]).toEqual(['report.txt', 'exit-status']);
    // Every line but the first is one relation: nothing else slipped in.
    expect(xrsl.trimEnd().split('\n')).toHaveLength(1 + 6);
  });

  it('adds walltime, queue and memory only when set', () => {
    const xrsl = buildXrsl({ ...base, wallTimeMinutes: 11, queue: 'grid.long', memoryMB: 2048 });
    expect(relations(xrsl).slice(6)).toEqual([
      ['walltime', '"11 minutes"'],
      ['queue', '"grid.long"'],
      ['memory', '"2048"'],
    ]);
    expect(relations(buildXrsl({ ...base, queue: 'q' })).map(([name]) => name)).not.toContain('walltime');
    expect(relations(buildXrsl({ ...base, memoryMB: 1 })).map(([name]) => name)).not.toContain('queue');
    expect(relations(buildXrsl({ ...base, wallTimeMinutes: 1 })).map(([name]) => name)).not.toContain(
      'memory',
    );
  });

  it('quotes literals the xRSL way and refuses control characters and non-ASCII', () => {
    expect(xrslString('plain')).toBe('"plain"');
    expect(xrslString('')).toBe('""');
    expect(xrslString('a"b')).toBe('"a""b"');
    expect(xrslString('"")(executable="/bin/rm"')).toBe('""""")(executable=""/bin/rm"""');
    for (const bad of ['a\nb', 'a\rb', 'tab\there', 'nul\0', 'del\x7f', 'caf\u00e9', 'ｑ', 'a\u2028b'])
      expect(() => xrslString(bad), JSON.stringify(bad)).toThrow(/control characters or non-ASCII/);
    expect(() => buildXrsl({ ...base, jobName: 'gridpkg-x\n(executable="/bin/sh")' })).toThrow();
  });
});

describe('arc: arcstat -J -l output', () => {
  it('reads the real output with a leading "not found in job list" warning', () => {
    const stdout = fixture('arcstat-mixed.json.txt');
    expect(stdout.startsWith('Warning: Job not found in job list:')).toBe(true);
    const records = parseArcstatJson(stdout);
    expect([...records.keys()]).toEqual([FINISHED, RUNNING, FAILED, KILLED]);
    expect(records.get(FINISHED)).toEqual({
      id: FINISHED,
      name: 'gridpkg-test1',
      state: 'Finished',
      specificState: 'FINISHED',
      exitCode: 0,
      errors: [],
    });
    expect(records.get(RUNNING)).toEqual({
      id: RUNNING,
      name: 'gridpkg-test1',
      state: 'Running',
      specificState: 'RUNNING',
      exitCode: undefined,
      errors: [],
    });
    expect(records.get(FAILED)).toEqual({
      id: FAILED,
      name: 'gridpkg-test1',
      state: 'Failed',
      specificState: 'FAILED',
      exitCode: 137,
      errors: ['LRMS error: (137) Job finished with wrong exit code - 137 != 0'],
    });
    expect(records.get(KILLED)).toMatchObject({
      state: 'Killed',
      specificState: 'KILLED',
      exitCode: undefined,
      errors: ['Job is canceled by external request'],
    });
    expect(jobsNotInJobList(stdout)).toEqual(new Set([`${JOBS}/notinlist`]));
  });

  it('reads more than one leading warning line', () => {
    const stdout = `WARNING: something\nWarning: Job not found in job list: ${JOBS}/a\n${fixture('arcstat-mixed.json.txt')}`;
    expect(parseArcstatJson(stdout).size).toBe(4);
    expect(jobsNotInJobList(stdout)).toEqual(new Set([`${JOBS}/a`, `${JOBS}/notinlist`]));
  });

  it('reads the CE-down output as an empty answer, and "No jobs" as none', () => {
    expect(parseArcstatJson(fixture('arcstat-ce-down.json.txt'))).toEqual(new Map());
    expect(jobsNotInJobList(fixture('arcstat-ce-down.stderr.txt'))).toEqual(new Set());
    expect(parseArcstatJson('No jobs found, try later\n')).toEqual(new Map());
    expect(parseArcstatJson(`Warning: Job not found in job list: ${JOBS}/a\nNo jobs\n`)).toEqual(new Map());
  });

  it('throws ArcOutputError on anything else, never guessing', () => {
    const bad = [
      '',
      'garbage\n',
      'ERROR: something went wrong\n',
      '"jobs": [ { "id": "x", \n',
      '"jobs": { "id": "x" }\n',
      '"jobs": [ { "state": "Running" } ]\n',
      '"jobs": [ { "id": "x" } ]\n',
      '"jobs": [ "x" ]\n',
    ];
    for (const stdout of bad) expect(() => parseArcstatJson(stdout), stdout).toThrow(ArcOutputError);
  });
});

describe('arc: job states', () => {
  it('maps every ARC generic state', () => {
    for (const state of ['Accepted', 'Preparing', 'Submitting', 'Hold', 'Queuing'])
      expect(mapArcState(record(state)), state).toEqual({ state: 'queued', raw: state });
    for (const state of ['Running', 'Finishing'])
      expect(mapArcState(record(state)), state).toEqual({ state: 'running', raw: state });
    expect(mapArcState(record('Finished', { exitCode: 0 }))).toEqual({
      state: 'done',
      exitCode: 0,
      raw: 'Finished',
    });
    expect(mapArcState(record('Failed'))).toEqual({
      state: 'failed',
      reason: 'the ARC job failed',
      raw: 'Failed',
    });
    expect(mapArcState(record('Killed'))).toEqual({ state: 'failed', reason: 'cancelled', raw: 'Killed' });
    expect(mapArcState(record('Deleted'))).toMatchObject({ state: 'lost', raw: 'Deleted' });
    expect(mapArcState(record('Undefined'))).toBeUndefined();
    expect(mapArcState(record('Other'))).toBeUndefined();
    for (const state of ['Weird', 'running', 'FINISHED', ''])
      expect(() => mapArcState(record(state)), state).toThrow(ArcOutputError);
  });

  it('maps the real records, with the job error in the reason and the CE state in raw', () => {
    const records = parseArcstatJson(fixture('arcstat-mixed.json.txt'));
    const map = (id: string) => {
      const r = records.get(id);
      if (!r) throw new Error(`no ${id}`);
      return mapArcState(r);
    };
    expect(map(FINISHED)).toEqual({ state: 'done', exitCode: 0, raw: 'Finished (FINISHED)' });
    expect(map(RUNNING)).toEqual({ state: 'running', raw: 'Running (RUNNING)' });
    expect(map(FAILED)).toEqual({
      state: 'failed',
      reason: 'the ARC job failed: LRMS error: (137) Job finished with wrong exit code - 137 != 0',
      raw: 'Failed (FAILED)',
    });
    expect(map(KILLED)).toEqual({
      state: 'failed',
      reason: 'cancelled (Job is canceled by external request)',
      raw: 'Killed (KILLED)',
    });
  });
});

describe('arc: job URLs of a CE', () => {
  it('matches host and port, with 443 where none is written, and a path under the endpoint', () => {
    const job = 'https://ce.example.org:443/arex/rest/1.0/jobs/abc';
    expect(isJobOfCe(job, 'https://ce.example.org/arex')).toBe(true);
    expect(
      isJobOfCe('https://ce.example.org/arex/rest/1.0/jobs/abc', 'https://ce.example.org:443/arex/'),
    ).toBe(true);
    expect(isJobOfCe('https://CE.example.org/arex/rest/1.0/jobs/abc', 'https://ce.example.org/arex')).toBe(
      true,
    );
    expect(isJobOfCe(job, 'https://ce.example.org:8443/arex')).toBe(false);
    expect(isJobOfCe(job, 'https://other.example.org/arex')).toBe(false);
    expect(isJobOfCe('https://ce.example.org/arexx/rest/1.0/jobs/abc', 'https://ce.example.org/arex')).toBe(
      false,
    );
    expect(isJobOfCe('https://ce.example.org/arex/../x/jobs/abc', 'https://ce.example.org/arex')).toBe(false);
    expect(isJobOfCe('http://ce.example.org/arex/rest/1.0/jobs/abc', 'https://ce.example.org/arex')).toBe(
      false,
    );
  });
});

describe('arc: arcsub output', () => {
  it('reads the job URL of the real output', () => {
    expect(parseSubmittedJobId(fixture('arcsub-ok.stdout.txt'))).toBe(
      `${JOBS}/hESLDmxerpAoOSAtDmABFKDmABFKDmABFKDmMqGKDmABFKDmB2CMbm`,
    );
    expect(parseSubmittedJobId(`INFO: x\n${fixture('arcsub-ok.stdout.txt')}`)).toMatch(/\/hESLDm/);
  });

  it('finds nothing in the CE-down output', () => {
    expect(parseSubmittedJobId(fixture('arcsub-ce-down.stdout.txt'))).toBeUndefined();
    expect(parseSubmittedJobId(fixture('arcsub-ce-down.stderr.txt'))).toBeUndefined();
  });

  it('refuses malformed and hostile job URLs', () => {
    const hostile = [
      'http://localhost:60443/arex/rest/1.0/jobs/abc',
      'https://localhost:60443/arex/rest/1.0/jobs/../../../etc',
      'https://localhost:60443/arex/rest/1.0/jobs/abc;rm',
      'https://localhost:60443/arex/rest/1.0/jobs/$(id)',
      'https://localhost:60443/arex/rest/1.0/jobs/a%2e%2e',
      "https://localhost:60443/arex/rest/1.0/jobs/a'b",
      'https://localhost:60443',
      'https://user@localhost/arex/x',
      'https://local_host/arex/x',
      'https://localhost:123456/arex/x',
      '-C',
      'abc',
      `https://localhost/${'a'.repeat(1100)}`,
    ];
    for (const url of hostile) {
      expect(isArcJobUrl(url), url).toBe(false);
      expect(parseSubmittedJobId(`Job submitted with jobid: ${url}\n`), url).toBeUndefined();
    }
    expect(parseSubmittedJobId(`Job submitted with jobid: ${JOBS}/abc def\n`)).toBeUndefined();
    expect(parseSubmittedJobId(`Job submitted with jobid:\n`)).toBeUndefined();
    expect(parseSubmittedJobId(`Job submitted with jobid: ${JOBS}/abc\n`)).toBe(`${JOBS}/abc`);
  });
});
