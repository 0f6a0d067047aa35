/**
 * The README's examples are run, so the README cannot drift from the code (issue 14 item 5).
 *
 * Convention (README, Development): every fenced block tagged `console` is an example that runs. A line starting
 * with `$ ` is a command; the lines after it, up to the next command, are output that must appear, in that order,
 * in what the command prints (stdout and stderr; lines in between may be left out, and a line `...` says so; a
 * line ending in ` ...` stands for any line that starts with what comes before). A
 * command ending in `# exit N` must exit with N, any other with 0. Each block starts in a stand-in for the
 * repository root, after `npm run demo` (its demo-sites/); `$ cd DIR` changes the directory for the rest of the
 * block. Commands run in bash with `gridpkg` on the PATH: the CLI from source, bundled once by esbuild (tsx would
 * compile it again for every command). Blocks tagged `sh` or `yaml` are not run.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');

interface Example {
  command: string;
  exitCode: number;
  output: string[];
}

interface Block {
  line: number;
  examples: Example[];
}

/** The `console` blocks of a Markdown text, with their commands, expected output and exit codes. */
function consoleBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let current: Block | undefined;
  markdown.split('\n').forEach((text, index) => {
    if (current === undefined) {
      if (text.trim() === '```console') current = { line: index + 1, examples: [] };
      return;
    }
    if (text.trim() === '```') {
      blocks.push(current);
      current = undefined;
    } else if (text.startsWith('$ ')) {
      const command = text.slice(2).trim();
      const exit = /\s#\s*exit (\d+)\s*$/.exec(command);
      current.examples.push({ command, exitCode: exit ? Number(exit[1]) : 0, output: [] });
    } else {
      const last = current.examples.at(-1);
      if (last && text.trim() !== '' && text.trim() !== '...') last.output.push(text.trimEnd());
    }
  });
  return blocks;
}

/** The lines of `expected` that are not found, in order, among the lines of `actual`. */
function missingLines(expected: readonly string[], actual: string): string[] {
  const lines = actual.split('\n').map((line) => line.trimEnd());
  let at = 0;
  const missing: string[] = [];
  for (const want of expected) {
    const prefix = want.endsWith(' ...') ? want.slice(0, -4) : undefined;
    const found = lines.findIndex(
      (line, i) => i >= at && (prefix === undefined ? line === want : line.startsWith(prefix)),
    );
    if (found === -1) missing.push(want);
    else at = found + 1;
  }
  return missing;
}

/**
 * The CLI as one ESM file, build/readme-gridpkg.mjs, next to a copy of the job script in build/grid/: laid out as
 * dist/ is, so src/assets.ts finds the schemas and package.json one level up and the job script in grid/.
 */
async function bundleCli(): Promise<string> {
  const outfile = join(ROOT, 'build', 'readme-gridpkg.mjs');
  await build({
    entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // Bundled CommonJS dependencies (commander) call require.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
  });
  await mkdir(join(ROOT, 'build', 'grid'), { recursive: true });
  await copyFile(join(ROOT, 'src', 'grid', 'site-job.sh'), join(ROOT, 'build', 'grid', 'site-job.sh'));
  return outfile;
}

let sandbox: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'gridpkg-readme-'));
  const bin = join(sandbox, 'bin');
  await mkdir(bin);
  const gridpkg = join(bin, 'gridpkg');
  await writeFile(gridpkg, `#!/bin/sh\nexec '${process.execPath}' '${await bundleCli()}' "$@"\n`);
  await chmod(gridpkg, 0o755);
  const { GRIDPKG_STATE_DIR: _ignored, ...rest } = process.env;
  env = { ...rest, PATH: `${bin}:${process.env.PATH ?? ''}`, NO_COLOR: '1' };
  // `npm run demo`, into the sandbox's demo-sites/.
  await run(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'demo.ts'), 'demo-sites'], {
    cwd: sandbox,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
});
afterAll(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

const blocks = consoleBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'));

describe('README console examples', () => {
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  // In README order: a later block sees what an earlier one did, as a reader would.
  for (const block of blocks) {
    it(`README.md:${block.line}: ${block.examples.map((e) => e.command).join('; ')}`, async () => {
      let cwd = sandbox;
      for (const example of block.examples) {
        const cd = /^cd\s+(\S+)$/.exec(example.command);
        if (cd?.[1]) {
          cwd = resolve(cwd, cd[1]);
          continue;
        }
        let code = 0;
        let output: string;
        try {
          const { stdout, stderr } = await run('bash', ['-c', example.command], {
            cwd,
            env,
            maxBuffer: 64 << 20,
          });
          output = `${stdout}\n${stderr}`;
        } catch (error) {
          const failed = error as { code?: number; stdout?: string; stderr?: string };
          if (typeof failed.code !== 'number') throw error;
          code = failed.code;
          output = `${failed.stdout ?? ''}\n${failed.stderr ?? ''}`;
        }
        const what = `$ ${example.command}\n${output}`;
        expect(code, what).toBe(example.exitCode);
        expect(missingLines(example.output, output), what).toEqual([]);
      }
    });
  }
});
