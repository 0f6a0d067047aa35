import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DesiredState, loadSpec, parseSpec, SpecError } from '../../src/spec/index.js';
import { lines, outcome, show, TODAY } from './harness.js';

const H = 'apiVersion: gridpkg/v1';

function resolve(text: string, options: { today?: string; includes?: Record<string, string> } = {}) {
  return parseSpec(text, 'spec.yaml', { today: TODAY, ...options });
}

function table(sites: DesiredState[]): Record<string, string[]> {
  return Object.fromEntries(
    sites.map((s) => [
      s.site,
      s.requirements.map((r) => `${r.pkgpath} ${r.state}${r.pattern ? ` ${r.pattern}` : ''}`),
    ]),
  );
}

describe('defaults and inheritance', () => {
  it('gives every site the defaults, and lets a site override settings and entries', () => {
    const { sites } = resolve(
      lines(
        H,
        'defaults:',
        '  vo: pvier',
        '  repository: /repo',
        '  jobTimeout: 1h',
        '  packages: [math/gsl, devel/zlib]',
        'sites:',
        '  a: {}',
        '  b:',
        '    vo: other',
        '    jobTimeout: 90',
        '    packages:',
        '      - { pkgpath: math/gsl, state: absent }',
      ),
    );
    expect(table(sites)).toEqual({
      a: ['devel/zlib present', 'math/gsl present'],
      b: ['devel/zlib present', 'math/gsl absent'],
    });
    expect(sites.map((s) => [s.vo, s.repository, s.jobTimeoutSeconds, s.lockStaleSeconds])).toEqual([
      ['pvier', '/repo', 3600, 1800],
      ['other', '/repo', 90, 1800],
    ]);
  });

  it('resolves the resync interval of watch per site: the defaults, a site of its own, or none', () => {
    const { sites } = resolve(
      lines(H, 'defaults:', '  resyncInterval: 2h', 'sites:', '  a: {}', '  b: { resyncInterval: 30m }'),
    );
    expect(sites.map((s) => s.resyncSeconds)).toEqual([7200, 1800]);
    expect(resolve(lines(H, 'sites:', '  a: {}')).sites[0]?.resyncSeconds).toBeUndefined();
  });

  it('passes the install mode, pkgsrc tree, bootstrap, prune and vulnerability policy through, with defaults', () => {
    const { sites } = resolve(
      lines(
        H,
        'defaults:',
        '  installMode: source',
        '  pkgsrcTree: /sw/pkgsrc',
        '  bootstrap: { source: "https://cdn.netbsd.org/pub/pkgsrc/bootstrap.tar.gz" }',
        '  vulnerabilities: { policy: fail }',
        'sites:',
        '  a: {}',
        '  b:',
        '    installMode: binary',
        '    prune: true',
        '    bootstrap: { source: /local/bootstrap.tar.gz }',
        '    vulnerabilities: { policy: ignore }',
      ),
    );
    const pick = (s: DesiredState) => [
      s.installMode,
      s.pkgsrcTree,
      s.bootstrap,
      s.prune,
      s.vulnerabilityPolicy,
    ];
    expect(sites.map(pick)).toEqual([
      [
        'source',
        '/sw/pkgsrc',
        { source: 'https://cdn.netbsd.org/pub/pkgsrc/bootstrap.tar.gz' },
        undefined,
        'fail',
      ],
      [
        'binary',
        '/sw/pkgsrc',
        { source: '/local/bootstrap.tar.gz' },
        { maxRemovals: 10, allowRemoveAll: false, source: { file: 'spec.yaml', line: 11, column: 12 } },
        'ignore',
      ],
    ]);
    const bare = resolve(lines(H, 'sites: {a: {}}')).sites[0];
    expect(bare && pick(bare)).toEqual(['binary', undefined, undefined, undefined, 'warn']);
    expect(bare?.labels).toEqual([]);
    expect(bare?.ignores).toEqual([]);
    expect(bare?.minPkgInstall).toBeUndefined();
  });

  it('resolves prune: true, a mapping with its limits, enabled: false, and a site replacing the defaults', () => {
    const { sites } = resolve(
      lines(
        H,
        'defaults:',
        '  prune: { maxRemovals: 25 }',
        '  pkgsrc: { minPkgInstall: 20211115 }',
        'sites:',
        '  inherits: {}',
        '  plain:',
        '    prune: true',
        '  all:',
        '    prune: { allowRemoveAll: true }',
        '  off:',
        '    prune: { enabled: false, maxRemovals: 3 }',
        '    pkgsrc: {}',
      ),
    );
    const byName = Object.fromEntries(sites.map((s) => [s.site, s]));
    expect(byName.inherits?.prune).toEqual({
      maxRemovals: 25,
      allowRemoveAll: false,
      source: { file: 'spec.yaml', line: 3, column: 10 },
    });
    expect(byName.plain?.prune).toEqual({
      maxRemovals: 10,
      allowRemoveAll: false,
      source: { file: 'spec.yaml', line: 8, column: 12 },
    });
    expect(byName.all?.prune).toMatchObject({ maxRemovals: 10, allowRemoveAll: true });
    expect(byName.off?.prune).toBeUndefined();
    expect(byName.inherits?.minPkgInstall).toEqual({
      version: '20211115',
      source: { file: 'spec.yaml', line: 4, column: 28 },
    });
    // A site's pkgsrc: replaces the defaults' one as a whole, like every other setting.
    expect(byName.off?.minPkgInstall).toBeUndefined();
  });

  it("resolves proxy: the defaults are inherited, a site's proxy replaces them as a whole", () => {
    const { sites } = resolve(
      lines(
        H,
        'defaults:',
        '  vo: pvier',
        '  proxy: { vomsRole: sgm, minValidity: 2h }',
        'sites:',
        '  inherits: {}',
        '  test-ca:',
        '    proxy: { requireVoms: false }',
        '  longer:',
        '    vo: other',
        '    proxy: { vomsRole: lcgadmin, minValidity: 90m, requireVoms: true }',
        '  margin-only:',
        '    proxy: { minValidity: 600 }',
      ),
    );
    expect(Object.fromEntries(sites.map((s) => [s.site, [s.vo, s.proxy]]))).toEqual({
      inherits: ['pvier', { vomsRole: 'sgm', minValiditySeconds: 7200, requireVoms: true }],
      'test-ca': ['pvier', { vomsRole: undefined, minValiditySeconds: 0, requireVoms: false }],
      longer: ['other', { vomsRole: 'lcgadmin', minValiditySeconds: 5400, requireVoms: true }],
      'margin-only': ['pvier', { vomsRole: undefined, minValiditySeconds: 600, requireVoms: true }],
    });
  });

  it('without proxy: no role, no margin, VOMS membership required exactly when vo is set', () => {
    const { sites } = resolve(lines(H, 'sites:', '  with-vo: { vo: pvier }', '  without: {}'));
    expect(sites.map((s) => s.proxy)).toEqual([
      { vomsRole: undefined, minValiditySeconds: 0, requireVoms: true },
      { vomsRole: undefined, minValiditySeconds: 0, requireVoms: false },
    ]);
    // requireVoms: true without a vo asks for VOMS attributes of any VO (the job then takes its VO from them).
    const anyVo = resolve(lines(H, 'sites:', '  a: { proxy: { requireVoms: true } }')).sites[0];
    expect(anyVo?.proxy).toEqual({ vomsRole: undefined, minValiditySeconds: 0, requireVoms: true });
  });
});

describe('sets', () => {
  const SETS = [
    'sets:',
    '  base:',
    '    packages: [math/gsl, devel/zlib]',
    '  physics:',
    '    include: [base]',
    '    packages: [math/root]',
    '  hep:',
    '    include: [physics, base]', // base twice (directly and through physics): the same entries, no conflict
    '    packages: [{ pkgpath: math/fastjet, pattern: "fastjet>=3" }]',
  ];

  it('expands includes transitively, with each entry pointing at its definition', () => {
    const { sites } = resolve(lines(H, ...SETS, 'sites:', '  a: { sets: [hep] }'));
    expect(table(sites).a).toEqual([
      'devel/zlib present',
      'math/fastjet present fastjet>=3',
      'math/gsl present',
      'math/root present',
    ]);
    expect(sites[0]?.requirements.find((r) => r.pkgpath === 'math/gsl')?.source).toEqual({
      file: 'spec.yaml',
      line: 4,
      column: 16,
    });
  });

  it('lets exclude drop a package of a set used at the same level, and of lower levels', () => {
    const { sites, warnings } = resolve(
      lines(
        H,
        ...SETS,
        'defaults:',
        '  packages: [devel/cmake]',
        'sites:',
        '  a: { sets: [physics], exclude: [devel/zlib, devel/cmake] }',
      ),
    );
    expect(table(sites).a).toEqual(['math/gsl present', 'math/root present']);
    expect(warnings).toEqual([]);
  });
});

describe('selections by label expression', () => {
  const SPEC = lines(
    H,
    'defaults:',
    '  packages: [math/gsl]',
    'selections:',
    '  - where: physics and not legacy',
    '    packages: [math/root]',
    '  - where: el8 or el9',
    '    packages: [{ pkgpath: math/gsl, pattern: "gsl>=2.7" }]',
    '  - where: legacy',
    '    packages: [{ pkgpath: math/gsl, pattern: "gsl-2.6*" }]', // later selection overrides the earlier one
    '    exclude: [devel/zlib]',
    '  - sites: [d]',
    '    packages: [devel/zlib]',
    'sites:',
    '  a: { labels: [physics, el9] }',
    '  b: { labels: [physics, legacy, el8] }',
    '  c: { labels: [el7], packages: [{ pkgpath: math/gsl, state: latest }] }',
    '  d: { labels: [legacy] }',
  );

  it('applies selections in file order over the defaults, and the site over them all', () => {
    const { sites, warnings } = resolve(SPEC);
    expect(table(sites)).toEqual({
      a: ['math/gsl present gsl>=2.7', 'math/root present'],
      b: ['math/gsl present gsl-2.6*'],
      c: ['math/gsl latest'],
      d: ['devel/zlib present', 'math/gsl present gsl-2.6*'],
    });
    expect(warnings).toEqual([]);
  });

  it('reports a conflict between two sets of one selection once, naming both', () => {
    const { errors } = outcome(
      lines(
        H,
        'sets:',
        '  a: { packages: [math/gsl] }',
        '  b: { packages: [{ pkgpath: math/gsl, state: absent }] }',
        'selections:',
        '  - { name: both, where: x, sets: [a, b] }',
        'sites:',
        '  s1: { labels: [x] }',
        '  s2: { labels: [x] }',
      ),
    );
    expect(errors).toEqual([
      'spec.yaml:4:19 conflicting requirements for math/gsl in selection "both": set "a" wants present (spec.yaml:3:19), set "b" wants absent (spec.yaml:4:19) | keep one of them, or state the package at a higher level (defaults < selections < site), which overrides',
    ]);
  });
});

describe('ignore rules', () => {
  const SPEC = (until: string) =>
    lines(
      H,
      'ignore:',
      '  - pkgpath: math/gsl',
      '    kinds: [upgrade, downgrade]',
      '    where: legacy',
      '    reason: the analysis is validated against gsl 2.6',
      `    until: ${until}`,
      '  - kinds: [remove]',
      '    sites: [a]',
      '    reason: someone else removes by hand',
      'sites:',
      '  a: { labels: [el9] }',
      '  b: { labels: [legacy] }',
    );

  it('puts the active rules of each site into its desired state', () => {
    const { sites, warnings } = resolve(SPEC(TODAY));
    expect(warnings).toEqual([]);
    expect(sites.map((s) => [s.site, s.ignores])).toEqual([
      [
        'a',
        [
          {
            pkgpath: undefined,
            kinds: ['remove'],
            reason: 'someone else removes by hand',
            until: undefined,
            source: { file: 'spec.yaml', line: 8, column: 5 },
          },
        ],
      ],
      [
        'b',
        [
          {
            pkgpath: 'math/gsl',
            kinds: ['upgrade', 'downgrade'],
            reason: 'the analysis is validated against gsl 2.6',
            until: '2026-11-23',
            source: { file: 'spec.yaml', line: 3, column: 5 },
          },
        ],
      ],
    ]);
  });

  it('applies a rule through its until day and drops it, with a warning, the day after', () => {
    expect(resolve(SPEC('2026-11-23'), { today: '2026-11-23' }).sites[1]?.ignores).toHaveLength(1);
    const expired = resolve(SPEC('2026-11-23'), { today: '2026-11-24' });
    expect(expired.sites[1]?.ignores).toEqual([]);
    expect(expired.warnings.map(show)).toEqual([
      'spec.yaml:7:12 ignore rule expired on 2026-11-23 and no longer applies: the analysis is validated against gsl 2.6 | remove the rule, or extend until if the drift must still be ignored',
    ]);
  });
});

describe('split specs', () => {
  it('merges sets, sites, selections and ignore rules of included files, with paths relative to each file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridpkg-spec-'));
    await mkdir(join(dir, 'sites'));
    await mkdir(join(dir, 'sets'));
    await writeFile(
      join(dir, 'main.yaml'),
      lines(
        H,
        'include: [sets/common.yaml, sites/nl.yaml]',
        'defaults: { repository: repo/All, sets: [base] }',
        'selections:',
        '  - { where: physics, packages: [{ pkgpath: math/root, state: latest }] }',
      ),
    );
    await writeFile(join(dir, 'sets', 'common.yaml'), lines(H, 'sets:', '  base: { packages: [math/gsl] }'));
    await writeFile(
      join(dir, 'sites', 'nl.yaml'),
      lines(
        H,
        'include: [../sets/common.yaml]', // included twice: read once, no duplicate
        'selections:',
        '  - { where: physics, packages: [math/root] }',
        'ignore:',
        '  - { kinds: [install], sites: [nikhef], reason: full disk }',
        'sites:',
        '  nikhef: { labels: [physics], softwareArea: sw/nikhef }',
      ),
    );
    const spec = await loadSpec(join(dir, 'main.yaml'), { today: TODAY });
    expect(table(spec.sites)).toEqual({ nikhef: ['math/gsl present', 'math/root latest'] });
    const [nikhef] = spec.sites;
    expect(nikhef?.softwareArea).toBe(join(dir, 'sites', 'sw', 'nikhef'));
    expect(nikhef?.repository).toBe(join(dir, 'repo', 'All'));
    expect(nikhef?.ignores?.map((i) => [i.reason, i.source.file, i.source.line])).toEqual([
      ['full disk', join(dir, 'sites', 'nl.yaml'), 6],
    ]);
    expect(nikhef?.requirements[0]?.source.file).toBe(join(dir, 'sets', 'common.yaml'));
    expect(spec.files.map((f) => f.file)).toEqual([
      join(dir, 'main.yaml'),
      join(dir, 'sets', 'common.yaml'),
      join(dir, 'sites', 'nl.yaml'),
    ]);
  });

  it('names the including file and line of an include that cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridpkg-spec-'));
    await writeFile(join(dir, 'main.yaml'), lines(H, 'include:', '  - more.yaml', 'sites: {a: {}}'));
    const error = await loadSpec(join(dir, 'main.yaml')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).diagnostics.map(show)).toEqual([
      `${join(dir, 'main.yaml')}:3:5 cannot read included file ${join(dir, 'more.yaml')}: no such file | include paths are relative to the including file`,
    ]);
  });
});

describe('repository: a path or a URL', () => {
  it('keeps http, https and ftp URLs as written and still resolves relative paths from the spec directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridpkg-spec-'));
    await writeFile(
      join(dir, 'spec.yaml'),
      lines(
        H,
        'defaults: { repository: https://cdn.example.org/pkgsrc/All }',
        'sites:',
        '  a: {}',
        '  b: { repository: "http://127.0.0.1:8080/All" }',
        '  c: { repository: ftp://ftp.example.org/pub/pkgsrc/packages/NetBSD/x86_64/10.0/All }',
        '  d: { repository: repo/All }',
        '  e: { repository: /data/packages/All }',
        '  f: { repository: "https://cdn.example.org" }',
      ),
    );
    const spec = await loadSpec(join(dir, 'spec.yaml'), { today: TODAY });
    expect(Object.fromEntries(spec.sites.map((s) => [s.site, s.repository]))).toEqual({
      a: 'https://cdn.example.org/pkgsrc/All',
      b: 'http://127.0.0.1:8080/All',
      c: 'ftp://ftp.example.org/pub/pkgsrc/packages/NetBSD/x86_64/10.0/All',
      d: join(dir, 'repo', 'All'),
      e: '/data/packages/All',
      f: 'https://cdn.example.org',
    });
  });

  it.each([
    ['http://h/x;id', 'a shell separator'],
    ['http://h/$(id)', 'a command substitution'],
    ['http://user:pw@h/', 'credentials'],
    ['http://h/a b', 'a space'],
    ['http://h/../x', 'a .. component'],
    ['http://h/x/..', 'a trailing .. component'],
    ['file:///etc', 'another scheme'],
    ['http://h/?q=1', 'a query'],
    ['http://h/x#frag', 'a fragment'],
    ['http://-h/x', 'a host that starts with -'],
    ['http://h:/x', 'an empty port'],
    ['HTTP://h/x', 'an upper-case scheme'],
    ['http:///x', 'no host'],
  ])('refuses %s (%s) with its location', (url) => {
    const { errors } = outcome(lines(H, 'sites:', '  a:', `    repository: ${JSON.stringify(url)}`));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^spec\.yaml:4:17 sites\.a\.repository is not a path or an http, https or ftp URL \(got /,
    );
  });
});
