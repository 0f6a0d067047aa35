/**
 * Only in the self-contained executable (`npm run build:exe`): schemas, job script and package.json are assets of
 * the executable (node:sea), not files next to the code. Imported first by exe.ts, so this runs before any module
 * that reads an asset when it loads.
 */
import { getAsset } from 'node:sea';
import { useEmbeddedAssets } from '../assets.js';

useEmbeddedAssets((name) => getAsset(name, 'utf8'));
