/**
 * The ssh end-to-end tests' view of the sshd that scripts/services/sshd-up.sh started: its env file, and simulated
 * pkgsrc sites (test/pkgsrc-sim, a test double) that the ssh user can use. The tests run as root on the same
 * machine as sshd, so they build sites here and hand them to the ssh user with chown.
 */
import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { SshBackendOptions } from '../../../src/grid/ssh.js';
import { BUNDLE_NAME, BUNDLE_PATH, FIXTURE_DIR } from '../../pkgsrc-sim/paths.js';
import { createSiteWithRepository, type SiteWithRepository, shQuote, TOOLS } from '../../pkgsrc-sim/site.js';
import { readEnvFile } from '../support/env-file.js';

export interface SshEnv {
  host: string;
  port: number;
  user: string;
  uid: number;
  gid: number;
  home: string;
  identity: string;
  knownHosts: string;
  hostPubkey: string;
  sshdConfig: string;
  node: string;
  share: string;
}

export const ENV_FILE = process.env.GRIDPKG_SSH_ENV ?? '/tmp/gridpkg-sshd/env';

function readEnv(): SshEnv | undefined {
  const get = readEnvFile(ENV_FILE);
  if (!get) return undefined;
  return {
    host: get('GRIDPKG_SSH_HOST'),
    port: Number(get('GRIDPKG_SSH_PORT')),
    user: get('GRIDPKG_SSH_USER'),
    uid: Number(get('GRIDPKG_SSH_UID')),
    gid: Number(get('GRIDPKG_SSH_GID')),
    home: get('GRIDPKG_SSH_HOME'),
    identity: get('GRIDPKG_SSH_IDENTITY'),
    knownHosts: get('GRIDPKG_SSH_KNOWN_HOSTS'),
    hostPubkey: get('GRIDPKG_SSH_HOST_PUBKEY'),
    sshdConfig: get('GRIDPKG_SSHD_CONFIG'),
    node: get('GRIDPKG_SSH_NODE'),
    share: get('GRIDPKG_SSH_SHARE'),
  };
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The sshd to test against; undefined (with a loud warning) when it is not up, an error when CI is set. */
export async function sshEnvironment(): Promise<SshEnv | undefined> {
  const env = readEnv();
  const why = !env
    ? `no ${ENV_FILE}`
    : !(await listening(env.host, env.port))
      ? `nothing listens on ${env.host}:${env.port}`
      : process.getuid?.() !== 0
        ? 'the ssh end-to-end tests run as root (they chown simulated sites to the ssh user)'
        : undefined;
  if (!why) return env;
  const message = `ssh end-to-end tests: ${why}; start the test sshd with scripts/services/sshd-up.sh`;
  if (process.env.CI) throw new Error(`${message} (required in CI)`);
  console.warn(`\n*** SKIPPING ${message} ***\n`);
  return undefined;
}

export function backendOptions(env: SshEnv, extra: Partial<SshBackendOptions> = {}): SshBackendOptions {
  return {
    host: env.host,
    port: env.port,
    user: env.user,
    identityFile: env.identity,
    knownHostsFile: env.knownHosts,
    ...extra,
  };
}

/** A world-readable directory under the sshd's share/ with the simulator and sites (each with its repository). */
export class SshWorld {
  private constructor(
    readonly env: SshEnv,
    readonly root: string,
  ) {}

  static async create(env: SshEnv): Promise<SshWorld> {
    const root = await mkdtemp(join(env.share, 'world-'));
    await chmod(root, 0o755);
    // The simulator as the user runs it: the bundle and its fixtures in the same layout as in the repository.
    await mkdir(join(root, 'sim', 'build'), { recursive: true });
    await cp(BUNDLE_PATH, join(root, 'sim', 'build', BUNDLE_NAME));
    await cp(FIXTURE_DIR, join(root, 'sim', 'test', 'fixtures', 'repository'), { recursive: true });
    return new SshWorld(env, root);
  }

  /** A simulated site owned by the ssh user, its wrappers running the shared node on the shared bundle. */
  async addSite(name: string, installed: string[] = []): Promise<SiteWithRepository> {
    const site = await createSiteWithRepository({
      root: join(this.root, 'sites', name),
      repositoryDir: join(this.root, 'packages', name),
      installed,
    });
    const bundle = join(this.root, 'sim', 'build', BUNDLE_NAME);
    for (const tool of TOOLS) {
      await writeFile(
        join(site.sbin, tool),
        '#!/bin/sh\n' +
          `# ${tool} of the pkgsrc simulator: a test and demo double of pkg_install 20170419, NOT pkgsrc.\n` +
          `PKGSIM_PREFIX=${shQuote(site.prefix)}\nPKGSIM_DBDIR=${shQuote(site.pkgdb)}\n` +
          'export PKGSIM_PREFIX PKGSIM_DBDIR\nunset PKGSIM_VULN_SOURCE\n' +
          `exec ${shQuote(this.env.node)} ${shQuote(bundle)} ${tool} "$@"\n`,
        { mode: 0o775 },
      );
    }
    execFileSync('chown', ['-R', `${this.env.uid}:${this.env.gid}`, site.root]);
    return site;
  }

  /** A file the ssh user can read (stand-in job scripts, shell wrappers). */
  async file(name: string, text: string): Promise<string> {
    const path = join(this.root, name);
    await writeFile(path, text, { mode: 0o755 });
    return path;
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Reads a file in the ssh user's home (the tests share the machine with sshd). */
export function remoteFile(env: SshEnv, relative: string): string {
  return relative.startsWith('/') ? relative : join(env.home, relative);
}
