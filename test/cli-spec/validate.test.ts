/** `gridpkg validate`: exit codes, diagnostics in text, JSON and GitHub workflow commands, hostile text. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationResult } from '../../src/cli/commands/validate.js';
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

// A selection whose label expression chooses no site is a warning of the loader, not an error.
const WARNING = `apiVersion: gridpkg/v1
selections:
  - { where: physics and not legacy, packages: [math/gsl] }
sites:
  site-a:
    labels: [physics, legacy]
    softwareArea: /sw/a
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

  it('--format github: one ::error workflow command per problem with GitHub escaping, then a plain summary', async () => {
    const { file, run } = await validate('gh,run:x.yaml', UNKNOWN_KEY, '--format', 'github');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const escapedFile = file.replace(/:/g, '%3A').replace(/,/g, '%2C');
    expect(run.stdout).toBe(
      `::error file=${escapedFile},line=5,col=5::unknown key "pakages" in sites.site-a (hint: did you mean "packages"?)\n` +
        `gridpkg validate: ${file}: invalid, 1 error\n`,
    );
  });

  it('--format github: a valid spec prints the summary only (warnings as ::warning), exit 0', async () => {
    const { file, run } = await validate('gh-valid.yaml', VALID, '--format', 'github');
    expect(run).toEqual({
      code: 0,
      stdout: `gridpkg validate: ${file}: valid, 2 sites, 3 requirements\n`,
      stderr: '',
    });
    const warned = await validate('gh-warn.yaml', WARNING, '--format', 'github');
    expect(warned.run.code).toBe(0);
    expect(warned.run.stdout).toMatch(/^::warning file=[^\n]*,line=3,col=\d+::.+\n[^:]/);
  });

  it('--format github and --json cannot be combined; the CI snippet in --help uses --format github', async () => {
    const both = await cli(['validate', '--json', '--format', 'github']);
    expect(both.code).toBe(1);
    const help = await cli(['validate', '--help']);
    expect(help.stdout).toContain('gridpkg validate --format github');
  });
});

/** Keys and values a hostile spec author (a pull request) could write, and what must never come out raw. */
describe('gridpkg validate with hostile text in the spec (issue 9, item 3)', () => {
  const HOSTILE = `apiVersion: gridpkg/v1
sites:
  site-a:
    softwareArea: /sw/a
    "\\n::add-mask::secret\\e[2J\\e[32m ok\\u202e\\r::error::x": 1
    "%0A::warning::y,z:w": 2
selections:
  - { where: "site-a \\u2028 x", packages: [math/gsl] }
`;
  // Raw control characters, DEL, C1, line/paragraph separators, bidi controls and the BOM.
  const UNSAFE_CLASS =
    '[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\ufeff]';
  const UNSAFE = new RegExp(UNSAFE_CLASS);

  function expectSafe(output: string, allowedCommands: RegExp) {
    expect(output).not.toMatch(UNSAFE);
    for (const line of output.split('\n')) if (line.startsWith('::')) expect(line).toMatch(allowedCommands);
  }

  it('text: every key is escaped, no line starts with ::', async () => {
    const { run } = await validate('hostile.yaml', HOSTILE);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'unknown key "\\n::add-mask::secret\\e[2J\\e[32m ok\\u202e\\r::error::x" in sites.site-a',
    );
    expectSafe(run.stdout + run.stderr, /^$/);
  });

  it('--json: messages are escaped already, so that jq -r cannot turn them into workflow commands', async () => {
    const { run } = await validate('hostile-json.yaml', HOSTILE, '--json');
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as ValidationResult;
    expect(result.diagnostics.length).toBeGreaterThanOrEqual(2);
    for (const d of result.diagnostics) expectSafe(`${d.file}\n${d.message}\n${d.hint ?? ''}`, /^$/);
  });

  it("--format github: only gridpkg's own ::error lines, with % escaped so no %0A becomes a newline", async () => {
    const { run } = await validate('hostile-gh.yaml', HOSTILE, '--format', 'github');
    expect(run.code).toBe(1);
    expectSafe(run.stdout, /^::error file=[^:,]+,line=\d+,col=\d+::unknown key /);
    expect(run.stdout).toContain('unknown key "%250A::warning::y,z:w" in sites.site-a');
    expect(run.stdout.split('\n').filter((l) => l.startsWith('::'))).toHaveLength(2);
  });
});

describe('gridpkg validate --json prints JSON for every spec error', () => {
  it('an alias bomb: a located diagnostic, no stack trace', async () => {
    const bomb = [
      'apiVersion: gridpkg/v1',
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, k) => {
        const [name, prev] = [String.fromCharCode(98 + k), String.fromCharCode(97 + k)];
        return `${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`;
      }),
      'sites: {site-a: {labels: *i}}',
      '',
    ].join('\n');
    const { file, run } = await validate('bomb.yaml', bomb, '--json');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as ValidationResult;
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        file,
        line: 8,
        message: 'the aliases in this file expand to more than 1,000,000 values',
      }),
    ]);
  });

  it('101 sites sharing one backend alias are a valid spec', async () => {
    const sites = Array.from({ length: 101 }, (_, i) =>
      i === 0
        ? '  site-0: { softwareArea: /sw/0, backend: &be { type: local, shell: [dash] } }'
        : `  site-${i}: { softwareArea: /sw/${i}, backend: *be }`,
    );
    const { run } = await validate(
      'aliases.yaml',
      ['apiVersion: gridpkg/v1', 'sites:', ...sites, ''].join('\n'),
      '--json',
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ valid: true, sites: 101 });
    expect(run.code).toBe(0);
  });

  it('an unreadable file (a directory, a FIFO) is a diagnostic in JSON', async () => {
    const run = await cli(['validate', '-f', dir, '--json']);
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as ValidationResult).diagnostics[0]?.message).toBe(
      'cannot read the spec: is a directory',
    );
    const fifo = join(dir, 'spec.fifo');
    execFileSync('mkfifo', [fifo]);
    const piped = await cli(['validate', '-f', fifo, '--json']);
    expect((JSON.parse(piped.stdout) as ValidationResult).diagnostics[0]?.message).toBe(
      'cannot read the spec: is a FIFO, not a regular file',
    );
  }, 20_000);
});
