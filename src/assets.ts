/**
 * The files gridpkg reads at run time besides its code: the JSON Schemas, the site job script and package.json.
 * From a checkout (src/) or an installed package (dist/) they are found relative to this module. In the
 * self-contained executable (`npm run build:exe`, Node's single executable application) they are assets inside
 * the executable, registered by src/cli/exe-assets.ts before any other module loads.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Asset names, relative to the package root as in the executable's sea-config.json. */
export const ASSET_FILES = {
  'schemas/desired-state.schema.json': '../schemas/desired-state.schema.json',
  'schemas/observation.schema.json': '../schemas/observation.schema.json',
  'schemas/plan.schema.json': '../schemas/plan.schema.json',
  'package.json': '../package.json',
  // Copied next to the compiled module by scripts/copy-assets.mjs.
  'site-job.sh': './grid/site-job.sh',
} as const;

export type AssetName = keyof typeof ASSET_FILES;

let embedded: ((name: AssetName) => string) | undefined;
let extractedDir: string | undefined;

/** Called once by the executable's entry point: assets come from the executable itself. */
export function useEmbeddedAssets(read: (name: AssetName) => string): void {
  embedded = read;
}

export function readAsset(name: AssetName): string {
  return embedded ? embedded(name) : readFileSync(new URL(ASSET_FILES[name], import.meta.url), 'utf8');
}

export function readJsonAsset(name: AssetName): unknown {
  return JSON.parse(readAsset(name));
}

/**
 * A file system path of the asset, for code that copies it (the job script into every job directory). Inside the
 * executable the asset is written once per process to a private directory (mode 0700, never a shared, guessable
 * path another user could prepare), removed when the process exits.
 */
export function assetPath(name: AssetName): string {
  if (!embedded) return fileURLToPath(new URL(ASSET_FILES[name], import.meta.url));
  if (extractedDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'gridpkg-'));
    extractedDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const file = join(extractedDir, name.replaceAll('/', '_'));
  writeFileSync(file, embedded(name), { mode: 0o700 });
  return file;
}
