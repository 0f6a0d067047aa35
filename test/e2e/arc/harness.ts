/**
 * The ARC end-to-end tests' view of the CE that scripts/services/arc-up.sh started: its env file, whether A-REX
 * answers, the client environment (proxy, CA directory) and simulated pkgsrc sites (test/pkgsrc-sim, a test double)
 * that the CE's job account can use. The tests run as root on the CE's machine, so they build sites here and hand
 * them to the job account with chown.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSiteWithRepository, type SiteWithRepository } from '../../pkgsrc-sim/site.js';
import { readEnvFile } from '../support/env-file.js';

export interface ArcEnv {
  dir: string;
  ce: string;
  proxy: string;
  certDir: string;
  arexPidFile: string;
  arexWsPidFile: string;
  sessionDir: string;
  jobUser: string;
}

export const ENV_FILE = process.env.GRIDPKG_ARC_ENV ?? '/tmp/gridpkg-arc/env';
export const ARC_UP = fileURLToPath(new URL('../../../scripts/services/arc-up.sh', import.meta.url));

function readEnv(): ArcEnv | undefined {
  const get = readEnvFile(ENV_FILE);
  if (!get) return undefined;
  return {
    dir: get('GRIDPKG_ARC_DIR'),
    ce: get('GRIDPKG_ARC_CE'),
    proxy: get('GRIDPKG_ARC_PROXY'),
    certDir: get('GRIDPKG_ARC_CERT_DIR'),
    arexPidFile: get('GRIDPKG_ARC_AREX_PIDFILE'),
    arexWsPidFile: get('GRIDPKG_ARC_AREX_WS_PIDFILE'),
    sessionDir: get('GRIDPKG_ARC_SESSION_DIR'),
    jobUser: get('GRIDPKG_ARC_JOB_USER'),
  };
}

export function pidOf(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** The client environment the ARC commands and the proxy check read. */
export function useClientEnvironment(env: ArcEnv): void {
  process.env.X509_USER_PROXY = env.proxy;
  process.env.X509_CERT_DIR = env.certDir;
}

/** True when arcinfo gets an answer from the CE. */
export function answers(env: ArcEnv): boolean {
  try {
    execFileSync('arcinfo', ['-t', '10', '-c', env.ce], {
      env: { ...process.env, X509_USER_PROXY: env.proxy, X509_CERT_DIR: env.certDir },
      stdio: 'ignore',
      timeout: 30_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** The CE to test against; undefined (with a loud warning) when it is not up, an error when CI is set. */
export function arcEnvironment(): ArcEnv | undefined {
  const env = readEnv();
  const up =
    env !== undefined && pidOf(env.arexPidFile) !== undefined && pidOf(env.arexWsPidFile) !== undefined;
  const why = !env
    ? `no ${ENV_FILE}`
    : !up
      ? `A-REX is not running (pid files ${env.arexPidFile}, ${env.arexWsPidFile})`
      : !answers(env)
        ? `A-REX does not answer arcinfo on ${env.ce}`
        : process.getuid?.() !== 0
          ? 'the ARC end-to-end tests run as root (they chown simulated sites to the job account)'
          : undefined;
  if (!why) return env;
  const message = `ARC end-to-end tests: ${why}; start the test CE with scripts/services/arc-up.sh`;
  if (process.env.CI) throw new Error(`${message} (required in CI)`);
  console.warn(`\n*** SKIPPING ${message} ***\n`);
  return undefined;
}

/** Kills a process and all its descendants (a job "killed from outside" on the worker node). */
export function killTree(pid: number): void {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    // no children (ps exits 1)
  }
  for (const child of children) killTree(child);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A world-readable directory with simulated sites (each with its repository) owned by the CE's job account. */
export class ArcWorld {
  private constructor(
    readonly env: ArcEnv,
    readonly root: string,
  ) {}

  static async create(env: ArcEnv): Promise<ArcWorld> {
    const root = await mkdtemp(join(tmpdir(), 'gridpkg-arc-e2e-'));
    await chmod(root, 0o755);
    return new ArcWorld(env, root);
  }

  async addSite(name: string, installed: string[] = []): Promise<SiteWithRepository> {
    const site = await createSiteWithRepository({
      root: join(this.root, 'sites', name),
      repositoryDir: join(this.root, 'packages', name),
      installed,
    });
    execFileSync('chown', ['-R', `${this.env.jobUser}:${this.env.jobUser}`, site.root]);
    return site;
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
