// Copies the non-TypeScript files the built CLI needs at run time (the site job script) next to dist/.
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/grid', { recursive: true });
copyFileSync('src/grid/site-job.sh', 'dist/grid/site-job.sh');
chmodSync('dist/grid/site-job.sh', 0o755);
