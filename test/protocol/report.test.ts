import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { extractReportFromStdout, parseReport } from '../../src/grid/protocol/index.js';
import type { ParsedReport, SiteReport } from '../../src/grid/protocol/types.js';

const GOLDEN = `gridpkg-report 1
job 20261123T101500Z-site-a-apply
mode apply
fact hostname wn-042.example.org
fact os Linux
fact arch x86_64
fact shell dash
swdir /data/sw/pvier
lock broken-stale old-job wn-007 4242 1763900000
pkgsrc present /data/sw/pvier/pkg 20170419
fingerprint before sha256:4f1c
action 1 install math/gsl gsl-2.8 ok
action 2 remove devel/hdf5 hdf5-1.14.3 failed pkg_delete exit 1: Package \`hdf5-1.14.3' is still required by other packages: root-6.30.02
action 3 install math/fftw fftw-3.3.10 skipped already installed
pkg fftw-3.3.10 math/fftw yes
pkg gsl-2.8 math/gsl no
pkg hdf5-1.14.3 devel/hdf5 no
pkg oldtool-1.0 - no
pkg openssl-3.0.13 security/openssl no
pkg root-6.30.02 math/root no
dep root-6.30.02 gsl>=2.7
dep root-6.30.02 {fftw,fftw3}>=3
avail gsl-2.8 math/gsl
avail gsl-2.8 math/gsl
avail zlib-1.3.1 devel/zlib
note 1 pkg_summary record(s) with an unsafe PKGNAME or PKGPATH skipped
audit-status vulnerable list not refreshed: pkg_admin exit 1: Could not fetch vulnerability file: No address record
audit openssl-3.0.13 denial-of-service https://nvd.nist.gov/vuln/detail/CVE-2024-4603
audit openssl-3.0.13 buffer-overflow https://nvd.nist.gov/vuln/detail/CVE-2024-5535
fingerprint after sha256:9ab0
status partial 1 of 3 action(s) failed
end
`;

function problem(parsed: ParsedReport): { line: number | undefined; message: string } {
  if (parsed.ok) throw new Error('expected a problem, the report parsed');
  return parsed.problem;
}

function report(parsed: ParsedReport): SiteReport {
  if (!parsed.ok) throw new Error(`line ${parsed.problem.line}: ${parsed.problem.message}`);
  return parsed.report;
}

/** The golden report with line `n` (1-based) replaced, or removed when `replacement` is undefined. */
function edit(n: number, replacement?: string): string {
  const lines = GOLDEN.split('\n');
  if (replacement === undefined) lines.splice(n - 1, 1);
  else lines[n - 1] = replacement;
  return lines.join('\n');
}

const lineOf = (prefix: string): number => GOLDEN.split('\n').findIndex((l) => l.startsWith(prefix)) + 1;

describe('parseReport', () => {
  it('reads the golden report completely', () => {
    const r = report(parseReport(GOLDEN));
    expect(r).toEqual({
      protocol: 1,
      jobId: '20261123T101500Z-site-a-apply',
      mode: 'apply',
      facts: { hostname: 'wn-042.example.org', os: 'Linux', arch: 'x86_64', shell: 'dash' },
      swdir: '/data/sw/pvier',
      lock: {
        state: 'broken-stale',
        owner: 'old-job wn-007 4242 1763900000',
        holder: {
          jobId: 'old-job',
          host: 'wn-007',
          pid: 4242,
          takenAt: 1763900000,
          heartbeatAgeSeconds: undefined,
        },
      },
      pkgsrc: { state: 'present', prefix: '/data/sw/pvier/pkg', version: '20170419' },
      fingerprintBefore: 'sha256:4f1c',
      fingerprintAfter: 'sha256:9ab0',
      actions: [
        { index: 1, verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8', result: 'ok', message: '' },
        {
          index: 2,
          verb: 'remove',
          pkgpath: 'devel/hdf5',
          pkgname: 'hdf5-1.14.3',
          result: 'failed',
          message:
            "pkg_delete exit 1: Package `hdf5-1.14.3' is still required by other packages: root-6.30.02",
        },
        {
          index: 3,
          verb: 'install',
          pkgpath: 'math/fftw',
          pkgname: 'fftw-3.3.10',
          result: 'skipped',
          message: 'already installed',
        },
      ],
      installed: [
        { pkgname: 'fftw-3.3.10', pkgpath: 'math/fftw', automatic: true },
        { pkgname: 'gsl-2.8', pkgpath: 'math/gsl', automatic: false },
        { pkgname: 'hdf5-1.14.3', pkgpath: 'devel/hdf5', automatic: false },
        { pkgname: 'oldtool-1.0', pkgpath: undefined, automatic: false },
        { pkgname: 'openssl-3.0.13', pkgpath: 'security/openssl', automatic: false },
        { pkgname: 'root-6.30.02', pkgpath: 'math/root', automatic: false },
      ],
      dependencies: [
        { pkgname: 'root-6.30.02', pattern: 'gsl>=2.7' },
        { pkgname: 'root-6.30.02', pattern: '{fftw,fftw3}>=3' },
      ],
      available: [
        { pkgname: 'gsl-2.8', pkgpath: 'math/gsl' },
        { pkgname: 'zlib-1.3.1', pkgpath: 'devel/zlib' },
      ],
      repositoryDigest: undefined,
      auditStatus: {
        status: 'vulnerable',
        message:
          'list not refreshed: pkg_admin exit 1: Could not fetch vulnerability file: No address record',
      },
      audit: [
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
      ],
      notes: ['1 pkg_summary record(s) with an unsafe PKGNAME or PKGPATH skipped'],
      status: 'partial',
      statusMessage: '1 of 3 action(s) failed',
    } satisfies SiteReport);
  });

  it('reads the example report of docs/site-job-protocol.md', async () => {
    const doc = await readFile(new URL('../../docs/site-job-protocol.md', import.meta.url), 'utf8');
    const example = /```\n(gridpkg-report 1\n[\s\S]*?\nend\n)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const r = report(parseReport(example));
    expect(r.status).toBe('partial');
    expect(r.actions.map((a) => a.result)).toEqual(['ok', 'failed']);
    expect(r.repositoryPrefix).toBe('/data/sw/pvier/pkg');
  });

  it('reads repository-prefix once, as an absolute path, after the avail lines', () => {
    const withPrefix = (line: string) =>
      GOLDEN.replace('audit-status vulnerable', `${line}\naudit-status vulnerable`);
    expect(report(parseReport(withPrefix('repository-prefix /sw/A/pkg'))).repositoryPrefix).toBe('/sw/A/pkg');
    expect(report(parseReport(GOLDEN)).repositoryPrefix).toBeUndefined();
    for (const bad of ['repository-prefix sw/A', 'repository-prefix /sw/../x', 'repository-prefix /a /b']) {
      expect(parseReport(withPrefix(bad)).ok, bad).toBe(false);
    }
    expect(parseReport(withPrefix('repository-prefix /a\nrepository-prefix /a')).ok).toBe(false);
    const early = GOLDEN.replace(
      'avail zlib-1.3.1 devel/zlib',
      'repository-prefix /a\navail zlib-1.3.1 devel/zlib',
    );
    expect(parseReport(early).ok).toBe(false);
  });

  it('accepts a report without a final newline, and the minimal error report', () => {
    expect(parseReport(GOLDEN.slice(0, -1)).ok).toBe(true);
    const r = report(
      parseReport('gridpkg-report 1\nstatus error invalid request line 3: bad PKGNAME\nend\n'),
    );
    expect(r.status).toBe('error');
    expect(r.statusMessage).toBe('invalid request line 3: bad PKGNAME');
    expect(r.jobId).toBeUndefined();
  });

  it('accepts a locked report', () => {
    const text = [
      'gridpkg-report 1',
      'job j2',
      'mode probe',
      'swdir /sw',
      'lock busy j1 wn-1 77 1763900000',
      'status locked the site is locked by another job since 1763900000',
      'end',
      '',
    ].join('\n');
    const r = report(parseReport(text));
    expect(r.lock).toEqual({
      state: 'busy',
      owner: 'j1 wn-1 77 1763900000',
      holder: { jobId: 'j1', host: 'wn-1', pid: 77, takenAt: 1763900000, heartbeatAgeSeconds: undefined },
    });
    expect(r.status).toBe('locked');
  });

  it('reads the lock owner with its heartbeat age, and keeps an owner it cannot read as text only', () => {
    const locked = (lockLine: string) =>
      report(
        parseReport(
          [
            'gridpkg-report 1',
            'job j2',
            'mode probe',
            'swdir /sw',
            lockLine,
            'status locked',
            'end',
            '',
          ].join('\n'),
        ),
      ).lock;
    expect(locked('lock busy j1 wn-1 77 1763900000 heartbeat 12')).toEqual({
      state: 'busy',
      owner: 'j1 wn-1 77 1763900000 heartbeat 12',
      holder: { jobId: 'j1', host: 'wn-1', pid: 77, takenAt: 1763900000, heartbeatAgeSeconds: 12 },
    });
    for (const owner of [
      'unknown owner',
      'j1 wn-1 077 1763900000',
      'j1 wn/1 77 1763900000',
      'j1 wn-1 77 17639 x',
    ]) {
      expect(locked(`lock busy ${owner}`)).toEqual({ state: 'busy', owner });
    }
  });

  it('accepts a lock broken because its job ended, with the full post-state', () => {
    const r = report(
      parseReport(
        edit(lineOf('lock broken-stale'), 'lock broken-ended old-job wn-007 4242 1763900000 heartbeat 3'),
      ),
    );
    expect(r.lock).toMatchObject({
      state: 'broken-ended',
      holder: { jobId: 'old-job', heartbeatAgeSeconds: 3 },
    });
    expect(r.status).toBe('partial');
  });

  it('reports a missing report', () => {
    expect(problem(parseReport(undefined))).toEqual({ line: undefined, message: 'no report' });
    expect(problem(parseReport('')).line).toBe(1);
  });

  it('reports a truncated report (no end) at its last line', () => {
    const cut = GOLDEN.split('\n').slice(0, 20).join('\n');
    expect(problem(parseReport(cut))).toEqual({ line: 20, message: 'truncated report: no end line' });
    expect(problem(parseReport(edit(lineOf('end'), undefined))).message).toMatch(/truncated/);
  });

  it('reports an unknown directive with its line', () => {
    const p = problem(parseReport(edit(5, 'install gsl-2.8')));
    expect(p.line).toBe(5);
    expect(p.message).toMatch(/unknown directive "install"/);
    expect(problem(parseReport(edit(5, 'toString x'))).message).toMatch(/unknown directive/);
  });

  it.each([
    ['pkg gsl;rm-2.8 math/gsl no', 'pkg'],
    ['pkg gsl-2.8 math/gsl maybe', 'pkg'],
    ['pkg gsl-2.8 math/gsl/x no', 'pkg'],
    ['pkg gsl-2.8 math/gsl no extra', 'pkg'],
    ['pkg gsl-2.8  math/gsl no', 'pkg'],
    ['pkg gsl-2.8 math/gsl', 'pkg'],
    ['dep root-6.30.02 gsl>=2.7;x', 'dep'],
    ['dep root-6.30.02 {gsl>=2.7', 'dep'],
    ['dep nothere-1.0 gsl>=2.7', 'dep'],
    ['avail $(id)-1.0 math/gsl', 'avail'],
    ['audit openssl-3.0.13 denial of service https://x', 'audit'],
    ['audit openssl-3.0.13 dos', 'audit'],
    ['fingerprint after sha256:9a b0', 'fingerprint after'],
    ['fingerprint during sha256:9ab0', 'fingerprint after'],
    ['action 2 remove devel/hdf5 hdf5-1.14.3 maybe', 'action 2'],
    ['action 2 purge devel/hdf5 hdf5-1.14.3 ok', 'action 2'],
    ['action 7 remove devel/hdf5 hdf5-1.14.3 ok', 'action 2'],
    ['job bad/job', 'job'],
    ['mode destroy', 'mode'],
    ['fact Hostname x', 'fact hostname'],
    ['fact hostname', 'fact hostname'],
    ['swdir relative', 'swdir'],
    ['lock taken', 'lock'],
    ['lock busy', 'lock'],
    ['lock acquired by me', 'lock'],
    ['pkgsrc present /data/sw/pvier/pkg', 'pkgsrc'],
    ['pkgsrc maybe /x', 'pkgsrc'],
    ['status fine', 'status'],
    ['status ok ', 'status'],
    ['audit-status dirty', 'audit-status'],
    ['fact os Lin\tux', 'fact os'],
    ['fact os Lin\rux', 'fact os'],
    ['fact os Linu\u00df', 'fact os'],
  ])('reports a bad token: %j', (bad, at) => {
    const n = lineOf(at === 'action 2' ? 'action 2' : at === 'fact os' ? 'fact os' : at);
    const p = problem(parseReport(edit(n, bad)));
    expect(p.line).toBe(n);
    expect(p.message.length).toBeGreaterThan(0);
  });

  it('reads an upgrade-pkg_install action first, and refuses one after another action', () => {
    const tools = 'upgrade-pkg_install pkgtools/pkg_install pkg_install-20211115 ok';
    const first = report(parseReport(edit(lineOf('action 1'), `action 1 ${tools}`)));
    expect(first.actions[0]).toMatchObject({ verb: 'upgrade-pkg_install', pkgname: 'pkg_install-20211115' });
    const n = lineOf('action 2');
    expect(problem(parseReport(edit(n, `action 2 ${tools}`)))).toEqual({
      line: n,
      message: 'upgrade-pkg_install only as the first action',
    });
  });

  it('reads the long avail line: FILE_NAME, build facts and DEPENDS, `-` for what a record lacks', () => {
    const n = lineOf('avail zlib');
    const parsed = report(
      parseReport(
        edit(
          n,
          'avail hdf5-1.14.3 devel/hdf5 hdf5-1.14.3.tgz 20091115 Linux x86_64 zlib>=1.3 {szip,libaec}>=1\n' +
            'avail zlib-1.3.1 devel/zlib - - - -',
        ),
      ),
    );
    expect(parsed.available).toEqual([
      { pkgname: 'gsl-2.8', pkgpath: 'math/gsl' },
      {
        pkgname: 'hdf5-1.14.3',
        pkgpath: 'devel/hdf5',
        fileName: 'hdf5-1.14.3.tgz',
        pkgtoolsVersion: '20091115',
        opsys: 'Linux',
        machineArch: 'x86_64',
        depends: ['zlib>=1.3', '{szip,libaec}>=1'],
      },
      { pkgname: 'zlib-1.3.1', pkgpath: 'devel/zlib', depends: [] },
    ]);
  });

  it.each([
    'avail zlib-1.3.1 devel/zlib zlib-1.3.1.tgz',
    'avail zlib-1.3.1 devel/zlib zlib-1.3.1.tgz 20091115 Linux',
    'avail zlib-1.3.1 devel/zlib ../zlib.tgz 20091115 Linux x86_64',
    'avail zlib-1.3.1 devel/zlib zlib-1.3.1.tgz 2009;1115 Linux x86_64',
    'avail zlib-1.3.1 devel/zlib zlib-1.3.1.tgz 20091115 Linux x86_64 a>=1;rm',
    'avail zlib-1.3.1 devel/zlib zlib-1.3.1.tgz 20091115 Linux x86_64 {a>=1',
    'avail zlib-1.3.1 devel/zlib zlib-1.3.1.tgz 20091115 Linux x86_64 a>=1 ',
  ])('refuses a bad long avail line: %j', (bad) => {
    const n = lineOf('avail zlib');
    expect(problem(parseReport(edit(n, bad)))).toMatchObject({ line: n });
  });

  describe("a package database that is not the site's (pkgsrc foreign-pkgdb)", () => {
    const foreign = (...lines: string[]) =>
      parseReport(
        [
          'gridpkg-report 1',
          'job j3',
          'mode probe',
          'swdir /sw/B',
          'lock acquired',
          ...lines,
          'end',
          '',
        ].join('\n'),
      );
    const STATUS =
      "status error the package database /sw/A/pkg/pkgdb is not this site's: bootstrap pkgsrc again at /sw/B/pkg, or set PKG_DBDIR in the job's environment";

    it('reads the prefix and the database', () => {
      const r = report(foreign('pkgsrc foreign-pkgdb /sw/B/pkg /sw/A/pkg/pkgdb', STATUS));
      expect(r.pkgsrc).toEqual({ state: 'foreign-pkgdb', prefix: '/sw/B/pkg', pkgdb: '/sw/A/pkg/pkgdb' });
      expect(r.status).toBe('error');
    });

    it.each([
      ['pkgsrc foreign-pkgdb /sw/B/pkg', /expected 2 fields/],
      ['pkgsrc foreign-pkgdb /sw/B/pkg /sw/A/pkg/pkgdb extra', /found more/],
      ['pkgsrc foreign-pkgdb /sw/B/pkg relative/pkgdb', /bad package database path/],
      ['pkgsrc foreign-pkgdb /sw/B/pkg /sw/A/../pkgdb', /bad package database path/],
      ['pkgsrc foreign-pkgdb sw/B /sw/A/pkg/pkgdb', /bad pkgsrc prefix/],
    ])('refuses a bad line: %j', (line, message) => {
      expect(problem(foreign(line, STATUS))).toMatchObject({
        line: 6,
        message: expect.stringMatching(message),
      });
    });

    it('must end the job there, with status error', () => {
      const going = foreign(
        'pkgsrc foreign-pkgdb /sw/B/pkg /sw/A/pkg/pkgdb',
        'fingerprint before sha256:aa',
        'audit-status clean',
        'fingerprint after sha256:aa',
        'status error x',
      );
      expect(problem(going).message).toMatch(/must stop there with status error/);
      expect(problem(foreign('pkgsrc foreign-pkgdb /sw/B/pkg /sw/A/pkg/pkgdb', 'status ok')).message).toMatch(
        /no lock|pkgsrc is not reported present|must stop there/,
      );
    });
  });

  describe('the software area line', () => {
    const withArea = (line: string) =>
      edit(lineOf('pkgsrc'), `pkgsrc present /data/sw/pvier/pkg 20170419\n${line}`);

    it('reads whether the job could write and what is not group-writable', () => {
      expect(report(parseReport(withArea('software-area writable 0'))).softwareArea).toEqual({
        writable: true,
        notGroupWritable: 0,
        example: undefined,
      });
      expect(
        report(parseReport(withArea('software-area read-only 12 /data/sw/pvier/pkg/pkgdb with space')))
          .softwareArea,
      ).toEqual({ writable: false, notGroupWritable: 12, example: '/data/sw/pvier/pkg/pkgdb with space' });
      expect(report(parseReport(GOLDEN)).softwareArea).toBeUndefined();
    });

    it.each([
      ['software-area writable', /expected 2 fields/],
      ['software-area maybe 0', /writable or read-only/],
      ['software-area writable -1 /x', /bad count/],
      ['software-area writable 012 /x', /bad count/],
      ['software-area writable 3', /count above 0 goes with an example/],
      ['software-area writable 0 /x', /count above 0 goes with an example/],
      ['software-area writable 3 ', /trailing space/],
    ])('refuses %j', (line, message) => {
      expect(problem(parseReport(withArea(line)))).toEqual({
        line: lineOf('pkgsrc') + 1,
        message: expect.stringMatching(message),
      });
    });

    it('must come right after pkgsrc present', () => {
      const early = edit(
        lineOf('lock'),
        'software-area writable 0\nlock broken-stale old-job wn-007 4242 1763900000',
      );
      expect(problem(parseReport(early)).message).toMatch(/lock line out of order/);
      const late = edit(
        lineOf('fingerprint before'),
        'fingerprint before sha256:4f1c\nsoftware-area writable 0',
      );
      expect(problem(parseReport(late)).message).toMatch(/software-area line out of order/);
    });
  });

  it('reports a missing status', () => {
    const p = problem(parseReport(edit(lineOf('status'), undefined)));
    expect(p).toEqual({ line: lineOf('status'), message: 'no status line before end' });
  });

  it('reports a duplicate status and other duplicated singletons', () => {
    const n = lineOf('status');
    const text = edit(n, 'status partial 1 of 3 action(s) failed\nstatus ok');
    expect(problem(parseReport(text))).toEqual({ line: n + 1, message: 'duplicate status line' });
    expect(problem(parseReport(edit(3, 'mode apply\nmode probe'))).message).toBe('duplicate mode line');
    expect(problem(parseReport(edit(lineOf('pkg gsl'), 'pkg fftw-3.3.10 math/fftw yes'))).message).toMatch(
      /duplicate pkg/,
    );
    expect(problem(parseReport(edit(5, 'fact hostname again'))).message).toMatch(/duplicate fact/);
  });

  // The pkg and dep lines that make up most of a report take a quicker path; lines at its edges must be judged
  // exactly as the token-by-token rules judge them (docs/site-job-protocol.md).
  it('judges pkg and dep lines at the edges of the quick path by the full rules', () => {
    const pkg = lineOf('pkg oldtool');
    const refused: Array<[string, RegExp]> = [
      ['pkg foo--1.0 cat/foo no', /bad pkg PKGNAME/],
      ['pkg .foo-1.0 cat/foo no', /bad pkg PKGNAME/],
      ['pkg -foo-1.0 cat/foo no', /bad pkg PKGNAME/],
      ['pkg foo-x1.0 cat/foo no', /bad pkg PKGNAME/],
      ['pkg foo-1.0 cat/.. no', /bad pkg PKGPATH/],
      ['pkg foo-1.0 ../foo no', /bad pkg PKGPATH/],
      ['pkg foo-1.0 cat/foo/bar no', /bad pkg PKGPATH/],
      ['pkg foo-1.0 cat/foo maybe', /automatic flag/],
      ['pkg foo-1.0 cat/foo no extra', /found more/],
      [`pkg foo-1.0 cat/${'x'.repeat(1100)} no`, /bad pkg PKGPATH/],
      ['pkg fftw-3.3.10 math/fftw yes', /duplicate pkg/],
    ];
    for (const [line, message] of refused) {
      expect(problem(parseReport(edit(pkg, line))), line.slice(0, 60)).toEqual({
        line: pkg,
        message: expect.stringMatching(message),
      });
    }
    const accepted = report(parseReport(edit(pkg, 'pkg x_+-1.0 - yes\npkg a.b-2.0nb1 c.at/.x no')));
    expect(accepted.installed).toEqual(
      expect.arrayContaining([
        { pkgname: 'x_+-1.0', pkgpath: undefined, automatic: true },
        { pkgname: 'a.b-2.0nb1', pkgpath: 'c.at/.x', automatic: false },
      ]),
    );
    const dep = lineOf('dep root-6.30.02 gsl');
    expect(problem(parseReport(edit(dep, 'dep root-6.30.02 -gsl')))).toEqual({
      line: dep,
      message: 'bad dep pattern',
    });
    expect(problem(parseReport(edit(dep, 'dep zlib-1.0 gsl>=2')))).toEqual({
      line: dep,
      message: 'dep of zlib-1.0, which is not listed as installed',
    });
    expect(problem(parseReport(edit(dep, 'dep root-6.30.02 {gsl')))).toEqual({
      line: dep,
      message: 'bad dep pattern',
    });
    expect(problem(parseReport(edit(dep, 'dep root-6.30.02 gsl>=2\tx'))).line).toBe(dep);
    expect(problem(parseReport(edit(pkg, 'dep gsl-2.8 zlib>=1\npkg foo-1.0 cat/foo no'))).message).toBe(
      'pkg line out of order',
    );
    const deps = report(
      parseReport(edit(dep, 'dep root-6.30.02 gsl>=2.7,x\ndep root-6.30.02 gsl-[0-9]*')),
    ).dependencies;
    expect(deps.slice(0, 2)).toEqual([
      { pkgname: 'root-6.30.02', pattern: 'gsl>=2.7,x' },
      { pkgname: 'root-6.30.02', pattern: 'gsl-[0-9]*' },
    ]);
  });

  it('reports lines out of order', () => {
    const n = lineOf('pkg fftw');
    const p = problem(parseReport(edit(n, 'pkg fftw-3.3.10 math/fftw yes\nfact user sgm')));
    expect(p).toEqual({ line: n + 1, message: 'fact line out of order' });
    expect(problem(parseReport(`${GOLDEN}status ok\n`)).message).toBe('text after end');
  });

  it('reports garbage', () => {
    expect(problem(parseReport('<html>502 Bad Gateway</html>\n'))).toEqual({
      line: 1,
      message: 'not a gridpkg report (first line is not "gridpkg-report 1")',
    });
    expect(problem(parseReport('gridpkg-report 2\nstatus ok\nend\n')).message).toMatch(
      /unsupported report version/,
    );
    expect(problem(parseReport('\u0000\u0001binary')).line).toBe(1);
    expect(problem(parseReport(edit(4, ''))).message).toBe('empty line');
    expect(problem(parseReport(GOLDEN.replace(/\n/g, '\r\n'))).line).toBe(1);
  });

  it('never throws, whatever the input', () => {
    const samples = [
      GOLDEN.repeat(3),
      'end',
      'gridpkg-report 1',
      'gridpkg-report 1\nend',
      '\n\n\n',
      'x'.repeat(100_000),
    ];
    for (let i = 0; i < GOLDEN.length; i += 7) samples.push(GOLDEN.slice(0, i), GOLDEN.slice(i));
    for (const text of samples) expect(() => parseReport(text)).not.toThrow();
  });

  describe('refuses reports whose parts contradict each other', () => {
    const statusLine = lineOf('status');
    it.each([
      ['status ok', 'status ok but an action failed'],
      ['status locked', 'status locked and lock busy must go together'],
      ['status stale', 'status stale but actions were run'],
    ])('%s', (status, message) => {
      expect(problem(parseReport(edit(statusLine, status)))).toEqual({ line: statusLine, message });
    });
    it('partial without a failed action', () => {
      const text = edit(lineOf('action 2'), 'action 2 remove devel/hdf5 hdf5-1.14.3 ok');
      expect(problem(parseReport(text)).message).toBe('status partial but no action failed');
    });
    it('ok without the post-state', () => {
      const text = edit(lineOf('fingerprint after'), undefined).replace(
        'status partial 1 of 3 action(s) failed',
        'status partial x',
      );
      expect(problem(parseReport(text)).message).toBe('a fingerprint is missing');
    });
    it('vulnerable without findings, findings without vulnerable', () => {
      const noFindings = GOLDEN.split('\n')
        .filter((l) => !l.startsWith('audit '))
        .join('\n');
      expect(problem(parseReport(noFindings)).message).toMatch(/audit-status vulnerable and audit findings/);
      expect(problem(parseReport(edit(lineOf('audit-status'), 'audit-status clean'))).message).toMatch(
        /audit finding without audit-status vulnerable/,
      );
    });
    it('a probe with actions', () => {
      expect(problem(parseReport(edit(3, 'mode probe'))).message).toBe('a probe report lists actions');
    });
  });
});

describe('extractReportFromStdout', () => {
  const wrap = (body: string) =>
    `noise\n==== gridpkg-report begin ====\n${body}==== gridpkg-report end ====\nmore noise\n`;

  it('returns the text between the markers', () => {
    expect(extractReportFromStdout(wrap(GOLDEN))).toBe(GOLDEN);
    expect(parseReport(extractReportFromStdout(wrap(GOLDEN))).ok).toBe(true);
  });

  it('tolerates CRLF line ends added on the way', () => {
    expect(extractReportFromStdout(wrap(GOLDEN).replace(/\n/g, '\r\n'))).toBe(GOLDEN);
  });

  it('returns undefined without markers or without the end marker', () => {
    expect(extractReportFromStdout('')).toBeUndefined();
    expect(extractReportFromStdout(GOLDEN)).toBeUndefined();
    expect(extractReportFromStdout(`==== gridpkg-report begin ====\n${GOLDEN}`)).toBeUndefined();
  });

  it('takes the report after the last begin marker', () => {
    const text = `==== gridpkg-report begin ====\nold\n${wrap(GOLDEN)}`;
    expect(extractReportFromStdout(text)).toBe(GOLDEN);
  });
});
