import { describe, expect, it } from 'vitest';
import { loadSpec, parseSpecText, SpecError } from '../../src/spec/index.js';

function problems(text: string): string[] {
  try {
    parseSpecText(text, 'spec.yaml');
  } catch (error) {
    if (error instanceof SpecError) {
      return error.diagnostics.map(
        (d) => `${d.line}:${d.column} ${d.message}${d.hint ? ` | ${d.hint}` : ''}`,
      );
    }
    throw error;
  }
  return [];
}

describe('the example spec', () => {
  it('resolves into one desired state per site with defaults, overrides and site packages', async () => {
    const spec = await loadSpec('desired-state.example.yaml');
    expect(spec.sites.map((s) => s.site)).toEqual(['NIKHEF-ELPROD', 'SARA-MATRIX', 'RUG-CIT']);
    const [nikhef, sara] = spec.sites;
    expect(nikhef?.requirements.map((r) => [r.pkgpath, r.pattern, r.state])).toEqual([
      ['devel/hdf5', undefined, 'absent'],
      ['devel/zlib', 'zlib>=1.3', 'present'],
      ['math/gsl', undefined, 'present'],
      ['math/root', undefined, 'present'],
    ]);
    expect(sara?.requirements.find((r) => r.pkgpath === 'math/gsl')).toMatchObject({
      pattern: 'gsl-2.7*',
      source: { line: 50, column: 9 },
    });
    expect(sara?.backend).toEqual({ type: 'local', shell: ['bash'], environment: {} });
    expect(nikhef?.lockStaleSeconds).toBe(1800);
    expect(nikhef?.jobTimeoutSeconds).toBe(3600);
    expect(nikhef?.proxy).toEqual({ vomsRole: 'sgm', minValiditySeconds: 1800, requireVoms: true });
    // One repository per prefix: each site names the one built for its software area.
    expect(nikhef?.repository).toMatch(/\/demo-sites\/packages\/NIKHEF-ELPROD\/All$/);
    expect(sara?.repository).toMatch(/\/demo-sites\/packages\/SARA-MATRIX\/All$/);
  });

  it('gives every site the requirements the demo expects, through a set, a selection and labels', async () => {
    const spec = await loadSpec('desired-state.example.yaml');
    const table = Object.fromEntries(
      spec.sites.map((s) => [
        s.site,
        s.requirements.map((r) => `${r.pkgpath} ${r.state}${r.pattern ? ` ${r.pattern}` : ''}`),
      ]),
    );
    expect(table).toEqual({
      'NIKHEF-ELPROD': [
        'devel/hdf5 absent',
        'devel/zlib present zlib>=1.3',
        'math/gsl present',
        'math/root present',
      ],
      'SARA-MATRIX': [
        'devel/hdf5 absent',
        'devel/zlib present zlib>=1.3',
        'math/gsl present gsl-2.7*',
        'security/openssl latest',
      ],
      'RUG-CIT': ['devel/hdf5 absent', 'devel/zlib present zlib>=1.3', 'math/gsl present'],
    });
    expect(spec.sites.map((s) => s.labels)).toEqual([
      ['el9', 'physics'],
      ['el8', 'legacy', 'physics'],
      ['el8'],
    ]);
    expect(spec.warnings).toEqual([]);
    expect(spec.files.map((f) => f.file)).toEqual(['desired-state.example.yaml']);
  });
});

describe('spec errors point at file, line and column', () => {
  const header = 'apiVersion: gridpkg/v1\nsites:\n  site-a:\n';

  it('reports YAML syntax errors', () => {
    expect(problems(`${header}    packages: [math/gsl\n`)[0]).toMatch(/^5:1 YAML syntax error/);
  });

  it('reports duplicate keys', () => {
    expect(problems(`${header}    vo: a\n    vo: b\n`)).toEqual([
      '5:5 duplicate key | each key may appear once per mapping',
    ]);
  });

  it('reports unknown keys with a did-you-mean hint', () => {
    expect(problems(`${header}    pakages: [math/gsl]\n`)).toEqual([
      '4:5 unknown key "pakages" in sites.site-a | did you mean "packages"?',
    ]);
  });

  it('reports a missing apiVersion', () => {
    expect(problems('sites:\n  a: {}\n')[0]).toBe(
      '1:1 the document is missing the required key "apiVersion"',
    );
  });

  it("refuses package paths outside pkgsrc's character set", () => {
    const [problem] = problems(`${header}    packages:\n      - "math/gsl;rm -rf /"\n`);
    expect(problem).toMatch(/^5:9 sites\.site-a\.packages\.0 /);
    expect(problem).toContain('math/gsl;rm -rf /');
  });

  it('refuses an invalid state with the allowed values', () => {
    expect(problems(`${header}    packages:\n      - { pkgpath: math/gsl, state: gone }\n`)[0]).toMatch(
      /^5:37 sites\.site-a\.packages\.0\.state must be one of present, absent, latest \(got "gone"\)/,
    );
  });

  it('refuses a malformed version pattern', () => {
    expect(problems(`${header}    packages:\n      - { pkgpath: math/gsl, pattern: "gsl-{2.7" }\n`)).toEqual([
      '5:39 invalid pkg_match pattern "gsl-{2.7" | use a package name with a version range or glob, e.g. gsl>=2.7<3 or gsl-2.7*',
    ]);
  });

  it('refuses the same PKGPATH twice in one list, naming both places', () => {
    expect(problems(`${header}    packages:\n      - math/gsl\n      - math/gsl\n`)).toEqual([
      '6:9 math/gsl is listed twice in sites.site-a.packages | first listed at spec.yaml:5:9; keep one entry',
    ]);
  });

  it('refuses site names that cannot be file or job names', () => {
    expect(problems('apiVersion: gridpkg/v1\nsites:\n  "bad site": {}\n')[0]).toMatch(
      /^3:3 invalid name "bad site"/,
    );
  });

  it('names the file that cannot be read', async () => {
    await expect(loadSpec('no-such-spec.yaml')).rejects.toThrow(
      'no-such-spec.yaml:1:1: cannot read the spec: no such file',
    );
  });
});
