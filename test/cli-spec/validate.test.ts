/** `gridpkg validate`: exit codes, diagnostics in text and JSON, and the GitHub Actions jq one-liner. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_ANNOTATIONS_JQ, type ValidationResult } from '../../src/cli/commands/validate.js';
import { cli } from '../integration/harness.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-validate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `text` as DIR/NAME and runs validate on it from DIR-relative arguments (file names stay short). */
async function validate(name: string, text: string, ...args: string[]) {
  const file = join(dir, name);
  await writeFile(file, text);
  return { file, run: await cli(['validate', '-f', file, ...args]) };
}

const VALID = `apiVersion: gridpkg/v1
defaults:
  vo: pvier
  packages:
    - math/gsl
sites:
  site-a:
    softwareArea: /sw/a
    packages:
      - math/root
  site-b:
    softwareArea: /sw/b
`;

// "pakages" is a typo; the second site has a package entry that is not a PKGPATH.
const UNKNOWN_KEY = `apiVersion: gridpkg/v1
sites:
  site-a:
    softwareArea: /sw/a
    pakages:
      - math/root
`;

const DUPLICATE_KEY = `apiVersion: gridpkg/v1
sites:
  site-a:
    softwareArea: /sw/a
    softwareArea: /sw/b
`;

describe('gridpkg validate', () => {
  it('accepts the example spec: exit 0, a summary on stdout, nothing on stderr', async () => {
    const run = await cli(['validate', '-f', 'desired-state.example.yaml']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^desired-state\.example\.yaml: valid, 3 sites, \d+ requirements\n$/);
  });

  it('counts sites and resolved requirements', async () => {
    const { file, run } = await validate('valid.yaml', VALID);
    expect(run).toEqual({ code: 0, stdout: `${file}: valid, 2 sites, 3 requirements\n`, stderr: '' });
  });

  it('prints each problem as file:line:column with its hint on stderr, and exits 1', async () => {
    const { file, run } = await validate('typo.yaml', UNKNOWN_KEY);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `${file}:5:5: unknown key "pakages" in sites.site-a\n` +
        '  hint: did you mean "packages"?\n' +
        `${file}: invalid, 1 error\n`,
    );
  });

  it('reports YAML-level problems such as duplicate keys the same way', async () => {
    const { file, run } = await validate('dup.yaml', DUPLICATE_KEY);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `${file}:5:5: duplicate key\n  hint: each key may appear once per mapping\n${file}: invalid, 1 error\n`,
    );
  });

  it('treats a missing file as an invalid spec with a diagnostic', async () => {
    const missing = join(dir, 'nope.yaml');
    const run = await cli(['validate', '-f', missing]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `${missing}:1:1: cannot read the spec: no such file\n  hint: pass the spec with -f FILE\n` +
        `${missing}: invalid, 1 error\n`,
    );
  });

  it('--json: one document on stdout with the exact diagnostics, exit 1 when invalid', async () => {
    const { file, run } = await validate('typo-json.yaml', UNKNOWN_KEY, '--json');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      valid: false,
      file,
      sites: 0,
      requirements: 0,
      diagnostics: [
        {
          severity: 'error',
          file,
          line: 5,
          column: 5,
          message: 'unknown key "pakages" in sites.site-a',
          hint: 'did you mean "packages"?',
        },
      ],
    });
  });

  it('--json: a valid spec has valid true, the counts and no errors; exit 0', async () => {
    const { file, run } = await validate('valid-json.yaml', VALID, '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as ValidationResult;
    expect(result).toMatchObject({ valid: true, file, sites: 2, requirements: 3 });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(Object.keys(result).sort()).toEqual(['diagnostics', 'file', 'requirements', 'sites', 'valid']);
  });

  it('--json: a missing file is a diagnostic too', async () => {
    const missing = join(dir, 'absent.yaml');
    const run = await cli(['validate', '-f', missing, '--json']);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as ValidationResult;
    expect(result.valid).toBe(false);
    expect(result.diagnostics).toEqual([
      {
        severity: 'error',
        file: missing,
        line: 1,
        column: 1,
        message: 'cannot read the spec: no such file',
        hint: 'pass the spec with -f FILE',
      },
    ]);
  });

  // A selection whose label expression chooses no site is a warning of the loader, not an error.
  const WARNING = `apiVersion: gridpkg/v1
selections:
  - { where: physics and not legacy, packages: [math/gsl] }
sites:
  site-a:
    labels: [physics, legacy]
    softwareArea: /sw/a
`;

  it('prints warnings but stays valid (exit 0); --json gives them severity "warning"', async () => {
    const { file, run } = await validate('warn.yaml', WARNING);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${file}: valid, 1 site, 0 requirements, 1 warning\n`);
    expect(run.stderr).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: warning: .+\n  hint: .+\n$`),
    );
    const json = await cli(['validate', '-f', file, '--json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as ValidationResult;
    expect(result).toMatchObject({ valid: true, sites: 1, requirements: 0 });
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ severity: 'warning', file, line: 3 });
  });

  it('documents the GitHub Actions jq one-liner in --help', async () => {
    const run = await cli(['validate', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`gridpkg validate --json | ${GITHUB_ANNOTATIONS_JQ}`);
  });

  it("the jq one-liner names only fields that validate --json's diagnostics have", async () => {
    const fields = [...GITHUB_ANNOTATIONS_JQ.matchAll(/\.([a-z][A-Za-z]*)/g)].map((m) => m[1]);
    expect(fields).toEqual(['diagnostics', 'severity', 'file', 'line', 'column', 'message', 'hint', 'hint']);
    const { run } = await validate('jq-fields.yaml', UNKNOWN_KEY, '--json');
    const result = JSON.parse(run.stdout) as Record<string, unknown> & { diagnostics: object[] };
    expect(result).toHaveProperty('diagnostics');
    for (const field of fields.slice(1)) expect(result.diagnostics[0]).toHaveProperty(field as string);
  });

  const jq = ['/usr/bin/jq', '/bin/jq', '/usr/local/bin/jq'].find((p) => existsSync(p));
  if (!jq) console.warn('\n*** SKIPPING the jq run of the annotation one-liner: jq is not installed ***\n');
  it.skipIf(!jq)('the jq one-liner turns the JSON into ::error workflow commands', async () => {
    const { file, run } = await validate('jq-run.yaml', UNKNOWN_KEY, '--json');
    const program = /^jq -r '(.*)'$/.exec(GITHUB_ANNOTATIONS_JQ)?.[1];
    expect(program).toBeDefined();
    const out = execFileSync(jq as string, ['-r', program as string], {
      input: run.stdout,
      encoding: 'utf8',
    });
    expect(out).toBe(
      `::error file=${file},line=5,col=5::unknown key "pakages" in sites.site-a (hint: did you mean "packages"?)\n`,
    );
  });
});
