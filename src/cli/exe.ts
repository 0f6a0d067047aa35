/** Entry point of the self-contained executable (scripts/build-exe.mjs bundles it as one CommonJS file). */
import './exe-assets.js';
import { start } from './start.js';

// A single executable application gets argv as [executable, executable, ...arguments].
void start(process.argv.slice(2));
