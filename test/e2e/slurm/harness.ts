/**
 * The slurm end-to-end tests' view of the cluster that scripts/services/slurm-up.sh started: its env file, and
 * whether slurmctld answers. The login node is this machine and the jobs run as root (the submitting user), so the
 * tests build simulated pkgsrc sites (test/pkgsrc-sim, a test double) in a local temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readEnvFile } from '../support/env-file.js';

export interface SlurmEnv {
  dir: string;
  conf: string;
  jobCompLog: string;
  partition: string;
  slurmctldPidFile: string;
  slurmdPidFile: string;
}

export const ENV_FILE = process.env.GRIDPKG_SLURM_ENV ?? '/tmp/gridpkg-slurm/env';

function readEnv(): SlurmEnv | undefined {
  const get = readEnvFile(ENV_FILE);
  if (!get) return undefined;
  return {
    dir: get('GRIDPKG_SLURM_DIR'),
    conf: get('GRIDPKG_SLURM_CONF'),
    jobCompLog: get('GRIDPKG_SLURM_JOBCOMP'),
    partition: get('GRIDPKG_SLURM_PARTITION'),
    slurmctldPidFile: get('GRIDPKG_SLURMCTLD_PIDFILE'),
    slurmdPidFile: get('GRIDPKG_SLURMD_PIDFILE'),
  };
}

function isRunning(pidFile: string): boolean {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

/** The partition's state as sinfo reports it, or undefined when slurmctld does not answer. */
export function partitionState(env: SlurmEnv): string | undefined {
  try {
    return execFileSync('sinfo', ['-h', '-p', env.partition, '-o', '%T'], {
      env: { ...process.env, SLURM_CONF: env.conf },
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** The cluster to test against; undefined (with a loud warning) when it is not up, an error when CI is set. */
export function slurmEnvironment(): SlurmEnv | undefined {
  const env = readEnv();
  const up = env !== undefined && isRunning(env.slurmctldPidFile) && isRunning(env.slurmdPidFile);
  const state = env && up ? partitionState(env) : undefined;
  const why = !env
    ? `no ${ENV_FILE}`
    : !up
      ? `slurmctld or slurmd is not running (pid files ${env.slurmctldPidFile}, ${env.slurmdPidFile})`
      : state === undefined
        ? `slurmctld does not answer (SLURM_CONF=${env.conf})`
        : !/^(idle|mixed|allocated)/.test(state)
          ? `partition ${env.partition} is ${state}, not usable`
          : process.getuid?.() !== 0
            ? 'the slurm end-to-end tests run as root (slurm-up.sh runs jobs as their submitting user, root)'
            : undefined;
  if (!why) return env;
  const message = `slurm end-to-end tests: ${why}; start the test cluster with scripts/services/slurm-up.sh`;
  if (process.env.CI) throw new Error(`${message} (required in CI)`);
  console.warn(`\n*** SKIPPING ${message} ***\n`);
  return undefined;
}
