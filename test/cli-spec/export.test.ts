/** src/spec/export.ts: observation -> spec fragment, and merging entries into spec text. Pure, no sites. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffLines } from 'diff';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { InstalledPackage } from '../../src/grid/protocol/types.js';
import type { KnownObservation } from '../../src/reconcile/observation.js';
import { fragmentFromObservation, mergeIntoSpecText, renderFragments } from '../../src/spec/export.js';
import { loadSpec } from '../../src/spec/index.js';

function observation(installed: InstalledPackage[]): KnownObservation {
  return {
    state: 'known',
    site: 'S',
    observedAt: '2026-01-02T03:04:05.000Z',
    jobId: 'S-probe-1',
    fingerprint: 'f',
    pkgsrc: { state: 'present', prefix: '/sw/pkg', version: '20170419' },
    installed,
    dependencies: [],
    available: [],
    repositoryReadable: false,
    audit: [],
  };
}

const pkg = (pkgname: string, pkgpath: string | undefined, automatic = false): InstalledPackage => ({
  pkgname,
  pkgpath,
  automatic,
});

describe('fragmentFromObservation', () => {
  const installed = [
    pkg('pkg_install-20170419', 'pkgtools/pkg_install'),
    pkg('bmake-20150505', 'devel/bmake'),
    pkg('mktools-20220614', 'pkgtools/mktools'),
    pkg('nawk-20121220nb1', undefined), // a bootstrap package recognised by PKGBASE
    pkg('zlib-1.3.1', 'devel/zlib', true),
    pkg('root-6.30.02', 'math/root'),
    pkg('handmade-1.0', undefined),
    pkg('py311-numpy-1.26.4', 'math/py-numpy'),
    pkg('py312-numpy-1.26.4', 'math/py-numpy'),
    pkg('pkgin-23.8.1', 'pkgtools/pkgin'),
  ];

  it('keeps user-installed packages by PKGPATH, one entry per PKGPATH, sorted', () => {
    const fragment = fragmentFromObservation(observation(installed));
    expect(fragment.packages.map((p) => p.entry)).toEqual(['math/py-numpy', 'math/root', 'pkgtools/pkgin']);
    expect(fragment.packages[0]?.pkgnames).toEqual(['py311-numpy-1.26.4', 'py312-numpy-1.26.4']);
    expect(fragment.bootstrap).toEqual([
      'bmake-20150505',
      'mktools-20220614',
      'nawk-20121220nb1',
      'pkg_install-20170419',
    ]);
    expect(fragment.automatic).toBe(1);
    expect(fragment.withoutPkgpath).toEqual(['handmade-1.0']);
    expect(fragment.warnings).toEqual([
      'handmade-1.0 on S records no PKGPATH, so gridpkg cannot manage it; it is listed as a comment ' +
        '(reinstall it from a package built by pkgsrc to manage it)',
    ]);
  });

  it('leaves out what bootstrap installs on every system: Linux and the others (pdksh, bootstrap-extras, install-sh)', () => {
    const bootstrapped = [
      pkg('bootstrap-mk-files-20170802', 'pkgtools/bootstrap-mk-files'),
      pkg('bmake-20150505', 'devel/bmake'),
      pkg('cwrappers-20170611', 'pkgtools/cwrappers'),
      pkg('pkg_install-20170419', 'pkgtools/pkg_install'),
      pkg('nawk-20121220nb1', 'lang/nawk'),
      pkg('pdksh-5.2.14nb9', 'shells/pdksh'),
      pkg('bootstrap-extras-20151015', 'pkgtools/bootstrap-extras'),
      pkg('install-sh-20170318', 'sysutils/install-sh'),
      pkg('install-sh-20170318', undefined), // recognised by PKGBASE too
      pkg('gsl-2.8', 'math/gsl'),
    ];
    const fragment = fragmentFromObservation(observation(bootstrapped));
    expect(fragment.packages.map((p) => p.entry)).toEqual(['math/gsl']);
    expect(fragment.bootstrap).toHaveLength(9);
    expect(fragment.withoutPkgpath).toEqual([]);
  });

  it('--pin: base>=version, except where several packages share a PKGPATH', () => {
    const fragment = fragmentFromObservation(observation(installed), { pin: true });
    expect(fragment.packages.map((p) => p.entry)).toEqual([
      'math/py-numpy',
      { pkgpath: 'math/root', pattern: 'root>=6.30.02' },
      { pkgpath: 'pkgtools/pkgin', pattern: 'pkgin>=23.8.1' },
    ]);
    expect(fragment.warnings[1]).toBe(
      'math/py-numpy is installed as py311-numpy-1.26.4, py312-numpy-1.26.4 on S; ' +
        'one pattern cannot pin them all, so it is not pinned',
    );
  });

  it('renders packages without PKGPATH as comments, and the result is a loadable site entry', async () => {
    const text = renderFragments([fragmentFromObservation(observation(installed))], 'test');
    expect(text).toContain('      # handmade-1.0: records no PKGPATH, cannot be managed by PKGPATH\n');
    expect(text).toContain(
      '  # S: user-installed packages as observed 2026-01-02T03:04:05.000Z (job S-probe-1).\n',
    );
    expect(parse(text)).toEqual({
      sites: { S: { packages: ['math/py-numpy', 'math/root', 'pkgtools/pkgin'] } },
    });
    const spec = `apiVersion: gridpkg/v1\n${text.replace('  S:\n', '  S:\n    softwareArea: /sw\n')}`;
    const dir = mkdtempSync(join(tmpdir(), 'gridpkg-export-'));
    try {
      writeFileSync(join(dir, 'spec.yaml'), spec);
      const loaded = await loadSpec(join(dir, 'spec.yaml'));
      expect(loaded.sites[0]?.requirements.map((r) => r.pkgpath)).toEqual([
        'math/py-numpy',
        'math/root',
        'pkgtools/pkgin',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders an empty package list when a site has nothing of its own', () => {
    const text = renderFragments(
      [fragmentFromObservation(observation([pkg('bmake-20150505', 'devel/bmake')]))],
      'x',
    );
    expect(parse(text)).toEqual({ sites: { S: { packages: [] } } });
  });
});

describe('mergeIntoSpecText', () => {
  // Layout the yaml library would normalize on a round trip: comments after `key:`, padding in flow collections.
  const spec = [
    '# yaml-language-server: $schema=./schemas/desired-state.schema.json',
    'apiVersion: gridpkg/v1',
    '',
    'defaults: # every site inherits these',
    '  vo: pvier',
    '  packages:',
    '    - math/gsl # present, any version',
    '',
    'sites: # by name',
    '  A:',
    '    softwareArea: /sw/a',
    '    backend: { type: local, shell: [bash] }',
    '    packages:',
    '      - pkgpath: security/openssl',
    '        state: latest # newest',
    '',
    '  B:',
    '    softwareArea: /sw/b',
    '    backend: {type: local, shell: [ dash ]}',
    '',
    '  C:',
    '    softwareArea: /sw/c # last',
    '',
  ].join('\n');
  const lines = spec.split('\n');
  const insertAt = (after: string, added: string[]) => {
    const at = lines.indexOf(after) + 1;
    return [...lines.slice(0, at), ...added, ...lines.slice(at)].join('\n');
  };

  it('adds to an existing list and changes no other line', () => {
    const merged = mergeIntoSpecText(spec, 'A', [
      'math/root',
      { pkgpath: 'devel/cmake', pattern: 'cmake>=3' },
    ]);
    expect(merged).toEqual({
      ok: true,
      preservedLayout: true,
      added: ['math/root', { pkgpath: 'devel/cmake', pattern: 'cmake>=3' }],
      text: insertAt('        state: latest # newest', [
        '      - math/root',
        '      - pkgpath: devel/cmake',
        '        pattern: cmake>=3',
      ]),
    });
  });

  it('creates the packages list of a site that has none, with a comment, mid-file and at the end', () => {
    const b = mergeIntoSpecText(spec, 'B', ['math/root'], 'imported');
    expect(b.ok && b.preservedLayout && b.text).toBe(
      insertAt('    backend: {type: local, shell: [ dash ]}', [
        '    packages:',
        '      # imported',
        '      - math/root',
      ]),
    );
    const c = mergeIntoSpecText(spec, 'C', ['math/root']);
    expect(c.ok && c.preservedLayout && c.text).toBe(
      insertAt('    softwareArea: /sw/c # last', ['    packages:', '      - math/root']),
    );
  });

  it('adds to a site of a spec with more than 100 aliases (no "Excessive alias count")', () => {
    const sites = Array.from({ length: 101 }, (_, i) =>
      i === 0
        ? '  S0: { softwareArea: /sw/0, backend: &be { type: local, shell: [dash] } }'
        : `  S${i}: { softwareArea: /sw/${i}, backend: *be }`,
    );
    const text = ['apiVersion: gridpkg/v1', 'sites:', ...sites, '  A:', '    softwareArea: /sw/a', ''].join(
      '\n',
    );
    const merged = mergeIntoSpecText(text, 'A', ['math/root']);
    expect(merged.ok && merged.text).toBe(`${text}    packages:\n      - math/root\n`);
  });

  it('refuses to edit packages that anchors, aliases or merge keys share with other places', () => {
    const shared = [
      'apiVersion: gridpkg/v1',
      'sites:',
      '  A: &a',
      '    softwareArea: /sw/a',
      '    packages: &pk [math/gsl]',
      '  B:',
      '    <<: *a',
      '    softwareArea: /sw/b',
      '  C:',
      '    softwareArea: /sw/c',
      '    packages: *pk',
      '',
    ].join('\n');
    expect(mergeIntoSpecText(shared, 'A', ['math/root'])).toMatchObject({
      ok: false,
      reason: 'sites.A has an anchor (&a) that other entries may share',
    });
    expect(mergeIntoSpecText(shared, 'B', ['math/root'])).toMatchObject({
      ok: false,
      reason: 'sites.B takes keys from a merge key (<<), which may hold its packages',
    });
    expect(mergeIntoSpecText(shared, 'C', ['math/root'])).toMatchObject({
      ok: false,
      reason: 'sites.C.packages is shared through an anchor or alias',
    });
    // Finding the file that defines a site (no entries) still works.
    expect(mergeIntoSpecText(shared, 'B', []).ok).toBe(true);
  });

  it('only adds lines to the example spec, whatever it holds', async () => {
    const example = readFileSync('desired-state.example.yaml', 'utf8');
    const site = (await loadSpec('desired-state.example.yaml')).sites[0]?.site ?? 'none';
    const merged = mergeIntoSpecText(example, site, [
      'x11/xterm',
      { pkgpath: 'x11/xeyes', pattern: 'xeyes>=1' },
    ]);
    expect(merged.ok && merged.preservedLayout).toBe(true);
    if (!merged.ok) return;
    const changes = diffLines(example, merged.text);
    expect(changes.filter((c) => c.removed)).toEqual([]);
    const added = changes.filter((c) => c.added).map((c) => c.value);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(
      /^( {4}packages:\n)? {6}- x11\/xterm\n {6}- pkgpath: x11\/xeyes\n {8}pattern: xeyes>=1\n$/,
    );
  });

  it('adds to a flow-style list and fills an empty flow mapping', () => {
    const text = 'apiVersion: gridpkg/v1\nsites:\n  A: { softwareArea: /a, packages: [math/gsl] }\n  B: {}\n';
    const a = mergeIntoSpecText(text, 'A', ['math/root']);
    expect(a.ok && parse(a.text)).toEqual({
      apiVersion: 'gridpkg/v1',
      sites: { A: { softwareArea: '/a', packages: ['math/gsl', 'math/root'] }, B: {} },
    });
    const b = mergeIntoSpecText(text, 'B', ['math/root']);
    expect(b.ok && b.text).toBe(
      'apiVersion: gridpkg/v1\nsites:\n  A: { softwareArea: /a, packages: [math/gsl] }\n  B:\n    packages:\n      - math/root\n',
    );
  });

  it('refuses a site the file does not define', () => {
    const merged = mergeIntoSpecText(spec, 'NEW-SITE', ['math/root']);
    expect(merged).toEqual({
      ok: false,
      reason: "site NEW-SITE is not in this file's sites",
      hint:
        'a new site entry needs at least softwareArea and backend, which an observation does not record; ' +
        'add "NEW-SITE:" with them under sites (or to the file that defines it), then import again',
    });
  });
});
