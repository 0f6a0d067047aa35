// `npm run build:exe`: build/gridpkg, one self-contained executable (Node's single executable application) for
// machines without Node.js 20, such as grid user interface machines. Steps: esbuild bundles src/cli/exe.ts into
// one CommonJS file (Node 20's SEA runs CommonJS only); `node --experimental-sea-config` turns it and the assets
// (schemas, job script, package.json: src/assets.ts) into a blob; postject injects the blob into a copy of this
// Node binary. The executable runs on machines of this OS and architecture with a C library at least as new.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'build', 'exe');
const output = join(root, 'build', 'gridpkg');
// The fuse postject flips to tell Node that a blob is injected; fixed by Node for every release.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const ASSETS = {
  'schemas/desired-state.schema.json': 'schemas/desired-state.schema.json',
  'schemas/observation.schema.json': 'schemas/observation.schema.json',
  'schemas/plan.schema.json': 'schemas/plan.schema.json',
  'package.json': 'package.json',
  'site-job.sh': 'src/grid/site-job.sh',
};

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const bundle = join(work, 'gridpkg.cjs');
await build({
  entryPoints: [join(root, 'src', 'cli', 'exe.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  // src/assets.ts reads import.meta.url only outside the executable.
  logOverride: { 'empty-import-meta': 'silent' },
});

const blob = join(work, 'sea-prep.blob');
const config = join(work, 'sea-config.json');
writeFileSync(
  config,
  JSON.stringify({
    main: bundle,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: false,
    assets: Object.fromEntries(Object.entries(ASSETS).map(([name, file]) => [name, join(root, file)])),
  }),
);
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });

rmSync(output, { force: true });
copyFileSync(process.execPath, output);
chmodSync(output, 0o755);
execFileSync(
  process.execPath,
  [
    join(root, 'node_modules', 'postject', 'dist', 'cli.js'),
    output,
    'NODE_SEA_BLOB',
    blob,
    '--sentinel-fuse',
    SEA_FUSE,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
console.log(`build:exe: wrote ${output} (${process.version}, ${process.platform}-${process.arch})`);
