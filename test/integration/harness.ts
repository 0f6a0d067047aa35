/**
 * A small world for end-to-end tests: a binary repository, simulated pkgsrc sites (test/pkgsrc-sim, a test double),
 * a spec pointing at them, a state directory, and the real CLI run in-process with captured output.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { plainStyle } from '../../src/report/style.js';
import type { PackageDefinition } from '../pkgsrc-sim/repository.js';
import { createSiteWithRepository, type SimSite } from '../pkgsrc-sim/site.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], answer?: boolean): Promise<CliRun> {
  const captured = captureIO(answer);
  const code = await runCli(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** A CLI's output captured as text, without colours; `answer` for every confirmation asked. */
export function captureIO(answer?: boolean): { io: CliIO; stdout(): string; stderr(): string } {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    confirm: async () => answer,
    style: plainStyle,
    errStyle: plainStyle,
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

export class World {
  readonly sites = new Map<string, SimSite>();
  /**
   * Each site's repository (its All directory), built for that site's prefix: binary packages install into the
   * prefix they were built for, so sites with different software areas need a repository each.
   */
  readonly repositories = new Map<string, string>();

  private constructor(
    readonly root: string,
    readonly shell: string[],
  ) {}

  static async create(shell: string[]): Promise<World> {
    const root = await mkdtemp(join(tmpdir(), 'gridpkg-e2e-'));
    return new World(root, shell);
  }

  /** The repository of the world's only site (tests with one site). */
  get repository(): string {
    const [only, ...more] = [...this.repositories.values()];
    if (only === undefined || more.length > 0) throw new Error('world.repository needs exactly one site');
    return only;
  }

  repositoryOf(name: string): string {
    const repository = this.repositories.get(name);
    if (repository === undefined) throw new Error(`no site ${name}`);
    return repository;
  }

  get specFile(): string {
    return join(this.root, 'desired-state.yaml');
  }

  get stateDir(): string {
    return join(this.root, 'state');
  }

  /** A site prepared as the README says: bootstrapped, then `chmod -R g+w` (unless `groupWritable: false`). */
  async addSite(
    name: string,
    installed: string[] = [],
    options: { bootstrap?: boolean; groupWritable?: boolean; packages?: readonly PackageDefinition[] } = {},
  ): Promise<SimSite> {
    const site = await createSiteWithRepository({
      root: join(this.root, 'sites', name),
      repositoryDir: join(this.root, 'packages', name),
      installed,
      ...options,
    });
    this.sites.set(name, site);
    this.repositories.set(name, site.repository);
    return site;
  }

  /**
   * Writes the spec: `packages` per site in spec YAML (list items), every site on this world's shell. Each site
   * names its own repository (built for its prefix) unless `options.repository` (a path or URL) goes in the
   * defaults for all of them.
   */
  async writeSpec(
    packagesBySite: Record<string, string>,
    extraSiteYaml = '',
    options: { repository?: string } = {},
  ): Promise<void> {
    const sites = Object.entries(packagesBySite).map(([name, packages]) => {
      const site = this.sites.get(name);
      if (!site) throw new Error(`no site ${name}`);
      return [
        `  ${name}:`,
        `    softwareArea: ${site.swdir}`,
        `    backend: { type: local, shell: [${this.shell.join(', ')}] }`,
        options.repository === undefined ? `    repository: ${this.repositoryOf(name)}` : '',
        extraSiteYaml,
        '    packages:',
        packages,
      ]
        .filter(Boolean)
        .join('\n');
    });
    const text = [
      'apiVersion: gridpkg/v1',
      'defaults:',
      '  vo: pvier',
      ...(options.repository === undefined ? [] : [`  repository: ${options.repository}`]),
      'sites:',
      ...sites,
      '',
    ].join('\n');
    await writeFile(this.specFile, text);
  }

  run(command: string, ...args: string[]): Promise<CliRun> {
    return cli([command, '-f', this.specFile, '--state-dir', this.stateDir, '--quiet', ...args]);
  }

  /** Installed packages of a site as "name" or "name*" (automatic), sorted: read from the pkgdb on disk. */
  async installed(name: string): Promise<string[]> {
    const site = this.sites.get(name);
    if (!site) throw new Error(`no site ${name}`);
    const entries = await readdir(site.pkgdb, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => (existsSync(join(site.pkgdb, e.name, '+INSTALLED_INFO')) ? `${e.name}*` : e.name))
      .filter((n) => !BOOTSTRAP.some((b) => n.startsWith(b)))
      .sort();
  }

  /** Job ids the ledger has completed, oldest first by name. */
  async finishedJobs(): Promise<string[]> {
    const dir = join(this.stateDir, 'ledger', 'history');
    return existsSync(dir) ? (await readdir(dir)).map((f) => f.replace(/\.json$/, '')).sort() : [];
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

const BOOTSTRAP = ['bootstrap-mk-files-', 'pkg_chk-', 'cwrappers-', 'pkg_install-', 'bmake-', 'nawk-'];

/** The shells the job script must work under; in CI a missing one is a failure, locally a loud skip. */
export function availableShells(): string[][] {
  const shells = [['dash'], ['bash'], ['busybox', 'sh']];
  return shells.filter(([command]) => {
    const found = ['/bin', '/usr/bin', '/usr/local/bin'].some((dir) => existsSync(join(dir, command ?? '')));
    if (!found && process.env.CI)
      throw new Error(`${command} is required in CI (apt-get install ${command})`);
    if (!found)
      console.warn(`\n*** SKIPPING shell ${command}: not installed (apt-get install ${command}) ***\n`);
    return found;
  });
}
