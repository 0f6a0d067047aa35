/**
 * Which files a spec may make gridpkg read (issue 9, items 2 and 8): regular files only, at most 1 MiB, includes
 * inside the root spec's directory tree after symlinks, and errors that never echo what such a file holds.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpec, SpecError } from '../../src/spec/index.js';
import { MAX_SPEC_BYTES } from '../../src/spec/spec-file.js';
import { lines, show, TODAY } from './harness.js';

const H = 'apiVersion: gridpkg/v1';
const SITE = 'sites: {site-a: {softwareArea: /sw/a}}';
const TREE_HINT =
  "an included file must be in the root spec file's directory or below it (after following symlinks), so that " +
  'a spec cannot make gridpkg read other files of this machine; move the file there, or the root spec up';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridpkg-spec-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes main.yaml including `include`, loads it, and returns the diagnostics and the whole error text. */
async function loadWithInclude(name: string, include: string): Promise<{ problems: string[]; text: string }> {
  const root = join(dir, name);
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'main.yaml'), lines(H, `include: [${include}]`, SITE));
  return problemsOf(join(root, 'main.yaml'));
}

async function problemsOf(file: string): Promise<{ problems: string[]; text: string }> {
  const error = await loadSpec(file, { today: TODAY }).catch((e: unknown) => e);
  if (!(error instanceof SpecError)) throw new Error(`expected a SpecError, got ${String(error)}`);
  return { problems: error.diagnostics.map(show), text: error.message };
}

describe('included files', () => {
  it('never reads /etc/passwd: an absolute include outside the tree is refused before any read', async () => {
    const { problems, text } = await loadWithInclude('abs', '/etc/passwd');
    expect(problems).toEqual([
      `${join(dir, 'abs', 'main.yaml')}:2:11 include "/etc/passwd" is outside the directory of ${join(dir, 'abs', 'main.yaml')}, the root spec | ${TREE_HINT}`,
    ]);
    expect(text).not.toContain('root:');
  });

  it('refuses a symlink in the tree that leads out of it (to /etc/passwd), without echoing the file', async () => {
    await mkdir(join(dir, 'link', 'sites'), { recursive: true });
    await symlink('/etc/passwd', join(dir, 'link', 'sites', 'passwd.yaml'));
    const { problems, text } = await loadWithInclude('link', 'sites/passwd.yaml');
    expect(problems).toEqual([
      `${join(dir, 'link', 'main.yaml')}:2:11 cannot read included file ${join(dir, 'link', 'sites', 'passwd.yaml')}: it leads outside the root spec's directory ${dir}/link (to /etc/passwd) | ${TREE_HINT}`,
    ]);
    expect(text).not.toContain('root:');
  });

  it('refuses a symlink to /proc/self/environ: the environment (and a CI token in it) is never printed', async () => {
    process.env.GRIDPKG_TEST_SECRET = 'not-for-your-eyes';
    await mkdir(join(dir, 'proc'), { recursive: true });
    await symlink('/proc/self/environ', join(dir, 'proc', 'env.yaml'));
    const { problems, text } = await loadWithInclude('proc', 'env.yaml');
    expect(problems[0]).toMatch(
      /cannot read included file .*env\.yaml: it leads outside the root spec's directory/,
    );
    expect(text).not.toContain('not-for-your-eyes');
  });

  it('refuses a FIFO in the tree at once instead of waiting for a writer forever', async () => {
    await mkdir(join(dir, 'fifo'), { recursive: true });
    execFileSync('mkfifo', [join(dir, 'fifo', 'pipe.yaml')]);
    const { problems } = await loadWithInclude('fifo', 'pipe.yaml');
    expect(problems).toEqual([
      `${join(dir, 'fifo', 'main.yaml')}:2:11 cannot read included file ${join(dir, 'fifo', 'pipe.yaml')}: is a FIFO, not a regular file | a spec file must be a regular file`,
    ]);
  }, 20_000);

  it('refuses an included file over 1 MiB (a bounded read: a larger file is never read whole)', async () => {
    await mkdir(join(dir, 'big'), { recursive: true });
    await writeFile(join(dir, 'big', 'big.yaml'), `# ${'x'.repeat(MAX_SPEC_BYTES)}\n`);
    const { problems } = await loadWithInclude('big', 'big.yaml');
    expect(problems).toEqual([
      `${join(dir, 'big', 'main.yaml')}:2:11 cannot read included file ${join(dir, 'big', 'big.yaml')}: is larger than 1 MiB, the limit for a spec file | split the spec with include, or check that the path names the spec`,
    ]);
  });

  it('follows symlinks that stay in the tree, and reads files in subdirectories', async () => {
    const root = join(dir, 'inside');
    await mkdir(join(root, 'real'), { recursive: true });
    await writeFile(join(root, 'real', 'sites.yaml'), lines(H, SITE));
    await symlink(join(root, 'real'), join(root, 'sites'));
    await writeFile(join(root, 'main.yaml'), lines(H, 'include: [sites/sites.yaml]'));
    const spec = await loadSpec(join(root, 'main.yaml'), { today: TODAY });
    expect(spec.sites.map((s) => s.site)).toEqual(['site-a']);
  });
});

describe('the root spec file', () => {
  it('must be a regular file: /dev/zero is refused without reading it', async () => {
    expect((await problemsOf('/dev/zero')).problems).toEqual([
      '/dev/zero:1:1 cannot read the spec: is a device, not a regular file | a spec file must be a regular file',
    ]);
  });

  it('is never a /proc file', async () => {
    process.env.GRIDPKG_TEST_SECRET = 'not-for-your-eyes';
    const { problems, text } = await problemsOf('/proc/self/environ');
    expect(problems).toEqual([
      '/proc/self/environ:1:1 cannot read the spec: it is in /proc, not a spec file | a spec is a file in a repository',
    ]);
    expect(text).not.toContain('not-for-your-eyes');
  });

  it('has the same 1 MiB cap', async () => {
    const file = join(dir, 'huge.yaml');
    await writeFile(file, `${H}\n# ${'x'.repeat(MAX_SPEC_BYTES)}\n`);
    expect((await problemsOf(file)).problems).toEqual([
      `${file}:1:1 cannot read the spec: is larger than 1 MiB, the limit for a spec file | split the spec with include, or check that the path names the spec`,
    ]);
  });

  it('shows only a short, escaped excerpt of a file that is not a spec', async () => {
    const file = join(dir, 'not-a-spec.yaml');
    await writeFile(file, `${'secret-line\u001b[2J '.repeat(200)}\n`);
    const { problems } = await problemsOf(file);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/the document must be a mapping \(got "secret-line\\u001b\[2J secret-line/);
    expect((problems[0] as string).length).toBeLessThan(400);
    expect(problems[0]).not.toContain('\u001b');
  });
});
