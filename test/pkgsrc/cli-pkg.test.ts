import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerPkgCommand } from '../../src/cli/commands/pkg.js';

async function run(...argv: string[]): Promise<{ out: string; err: string; exitCode: number | undefined }> {
  let out = '';
  let err = '';
  let exitCode: number | undefined;
  const program = new Command('gridpkg')
    .exitOverride()
    .configureOutput({ writeOut: (t) => (out += t), writeErr: (t) => (err += t) });
  registerPkgCommand(program, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof Error && 'exitCode' in error)) throw error;
  }
  return { out, err, exitCode };
}

describe('gridpkg pkg match', () => {
  it('prints a match and exits 0', async () => {
    expect(await run('pkg', 'match', 'gsl>=2.7<3', 'gsl-2.7nb1')).toEqual({
      out: 'gsl-2.7nb1 matches gsl>=2.7<3\n',
      err: '',
      exitCode: 0,
    });
  });

  it('prints a non-match and exits 1, like pkg_admin pmatch', async () => {
    expect(await run('pkg', 'match', 'gsl>=3', 'gsl-2.8')).toEqual({
      out: 'gsl-2.8 does not match gsl>=3\n',
      err: '',
      exitCode: 1,
    });
  });

  it('refuses a malformed pattern or name with a message', async () => {
    const bad = await run('pkg', 'match', '{gsl', 'gsl-2.8');
    expect(bad.exitCode).toBe(1);
    expect(bad.out).toBe('');
    expect(bad.err).toMatch(/^gridpkg: "\{gsl" is not a package pattern/);
    const name = await run('pkg', 'match', 'gsl', 'gsl');
    expect(name.err).toMatch(/^gridpkg: "gsl" is not a package name/);
  });

  it('has help with an example', async () => {
    const help = await run('pkg', 'match', '--help');
    expect(help.out).toMatch(/Usage: gridpkg pkg match \[options\] <pattern> <pkgname>/);
    expect(help.out).toMatch(/gridpkg pkg match 'gsl>=2.7<3' gsl-2.7nb1/);
  });
});

describe('gridpkg pkg compare', () => {
  it.each([
    ['2.7nb1', '2.8', '2.7nb1 < 2.8'],
    ['1.0', '1.0.0', '1.0 == 1.0.0'],
    ['1.0pl1', '1.0', '1.0pl1 > 1.0'],
  ])('compare %s %s', async (a, b, line) => {
    expect(await run('pkg', 'compare', a, b)).toEqual({ out: `${line}\n`, err: '', exitCode: 0 });
  });

  it('exits 1 on a malformed version', async () => {
    const r = await run('pkg', 'compare', '2.7;id', '2.8');
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/^gridpkg: left version "2.7;id" is not a pkgsrc version/);
  });

  it('has help with an example', async () => {
    const help = await run('pkg', 'compare', '--help');
    expect(help.out).toMatch(/gridpkg pkg compare 2.7nb1 2.8/);
    expect((await run('pkg', '--help')).out).toMatch(/match.*\n.*compare/s);
  });
});
