import { resolve } from 'node:path';
import { assetPath } from '../assets.js';
import type { BackendConfig } from '../spec/types.js';
import { ArcBackend } from './arc.js';
import type { GridBackend } from './backend.js';
import { LocalBackend } from './local.js';
import { SlurmBackend } from './slurm.js';
import { SshBackend } from './ssh.js';
import { TemplateBackend } from './template.js';

export { ArcBackend, type ArcBackendConfig } from './arc.js';
export type * from './backend.js';
export { LocalBackend } from './local.js';
export { SlurmBackend, type SlurmBackendConfig } from './slurm.js';
export { SshBackend, type SshBackendConfig } from './ssh.js';
export { TemplateBackend, type TemplateBackendConfig } from './template.js';

/** The POSIX sh job script shipped with every job (copied next to the compiled module by the build). */
export const SITE_JOB_SCRIPT = assetPath('site-job.sh');

export function createBackend(config: BackendConfig, options: { jobsRoot: string }): GridBackend {
  switch (config.type) {
    case 'local':
      return new LocalBackend({
        jobsRoot: options.jobsRoot,
        shell: config.shell,
        environment: config.environment,
      });
    case 'ssh': {
      const { type: _type, ...settings } = config;
      return new SshBackend(settings);
    }
    case 'slurm': {
      const { type: _type, jobsRoot, ...settings } = config;
      // With a login node over ssh, jobsRoot is a path there (required; the backend refuses an empty one).
      const root = settings.loginNode ? (jobsRoot ?? '') : resolve(jobsRoot ?? options.jobsRoot);
      return new SlurmBackend({ ...settings, jobsRoot: root });
    }
    case 'template': {
      const { type: _type, jobsRoot, ...settings } = config;
      return new TemplateBackend({ ...settings, jobsRoot: resolve(jobsRoot ?? options.jobsRoot) });
    }
    case 'arc': {
      const { type: _type, jobsRoot, ...settings } = config;
      return new ArcBackend({ ...settings, jobsRoot: resolve(jobsRoot ?? options.jobsRoot) });
    }
  }
}
