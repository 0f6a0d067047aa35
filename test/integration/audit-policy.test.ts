/**
 * A site whose vulnerability audit cannot run (a damaged list: the real pkg_admin prints `SHA512 hash doesn't
 * match` and exits 1) must not pass for a clean one: with `vulnerabilities.policy: fail` the plan fails, with
 * `warn` it says so, with `ignore` it is quiet. End to end: simulated site, site job under dash, CLI.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { World } from './harness.js';

describe('a vulnerable site whose vulnerability list is damaged', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['dash']);
    const site = await world.addSite('site-a', ['openssl-3.0.13']);
    // One entry changed after the list was signed: its #CHECKSUM SHA512 no longer matches.
    const list = join(site.pkgdb, 'pkg-vulnerabilities');
    await writeFile(list, (await readFile(list, 'utf8')).replace('openssl<3.0.14', 'openssl<3.0.15'));
  });
  afterEach(async () => {
    await world.dispose();
  });

  const planWith = async (policy: string) => {
    await world.writeSpec(
      { 'site-a': '      - security/openssl' },
      `    vulnerabilities: { policy: ${policy} }`,
    );
    return world.run('plan');
  };

  it('fails the plan under policy fail, and says the audit did not run', async () => {
    const run = await planWith('fail');
    expect(run.stdout).toContain(
      "  ! audit did not run: pkg_admin exit 1: pkg_admin: SHA512 hash doesn't match; list not refreshed: " +
        'pkg_admin exit 1: pkg_admin: Could not fetch vulnerability file: No address record ' +
        '(vulnerabilities.policy: fail)\n',
    );
    expect(run.stdout).toContain('1 site(s) whose vulnerability audit did not run');
    expect(run.code).toBe(1);
  });

  it('warns under policy warn, and exits 0', async () => {
    const run = await planWith('warn');
    expect(run.stdout).toContain(
      "  ! audit did not run: pkg_admin exit 1: pkg_admin: SHA512 hash doesn't match;",
    );
    expect(run.stdout).not.toContain('(vulnerabilities.policy: fail)');
    expect(run.code).toBe(0);
  });

  it('is not shown under policy ignore', async () => {
    const run = await planWith('ignore');
    expect(run.stdout).not.toContain('audit');
    expect(run.code).toBe(0);
  });
});
