// Entry point of the pkgsrc simulator, a test and demo double of pkg_install 20170419 (NOT pkgsrc; see README.md).
//
//   node build/pkgsrc-sim.cjs pkg_info|pkg_add|pkg_delete|pkg_admin [ARGS...]   (normally via a site's sbin wrapper)
//   node build/pkgsrc-sim.cjs sim-create-repository DIR
//   node build/pkgsrc-sim.cjs sim-create-site ROOT --repository ALLDIR [--no-bootstrap] [--install PKG]...
//                             [--no-vulnerability-list] [--vuln-source FILE] [--group-writable]
import { fetchRemote } from './fetch.js';
import { ExitError, processSink, runTool, Tool } from './output.js';
import { pkgAdd } from './pkg_add.js';
import { pkgAdmin } from './pkg_admin.js';
import { pkgDelete } from './pkg_delete.js';
import { pkgInfo } from './pkg_info.js';
import { configFromEnv, type SimConfig } from './pkgdb.js';
import { createRepository } from './repository.js';
import { type CreateSiteOptions, createSite } from './site.js';
import { withTestHooks } from './test-hooks.js';

const TOOLS: Record<string, (tool: Tool, cfg: SimConfig, argv: readonly string[]) => number> = {
  pkg_info: pkgInfo,
  pkg_add: pkgAdd,
  pkg_delete: pkgDelete,
  pkg_admin: pkgAdmin,
};

const USAGE =
  'usage: pkgsrc-sim pkg_info|pkg_add|pkg_delete|pkg_admin [args ...]\n' +
  '       pkgsrc-sim sim-create-repository DIR [--prefix PREFIX]\n' +
  '       pkgsrc-sim sim-create-site ROOT --repository ALLDIR [--no-bootstrap] [--install PKG]...\n' +
  '                  [--no-vulnerability-list] [--vuln-source FILE] [--group-writable]\n' +
  '(the pkgsrc simulator is a test and demo double of pkg_install, not pkgsrc)\n';

async function runPkgTool(name: string, argv: readonly string[]): Promise<number> {
  const tool = new Tool(name, processSink);
  const body = TOOLS[name];
  if (body === undefined) return 2;
  const env = configFromEnv(process.env, process.cwd());
  // pkg_add fetches over http (fetch.ts): listings and file URLs first, then it runs on local copies.
  const fetched =
    name === 'pkg_add' && typeof env !== 'string' ? await fetchRemote(env.pkgPathRaw, argv) : undefined;
  try {
    return runTool(tool, () => {
      if (typeof env === 'string') return tool.errx(1, env);
      return body(tool, fetched ? { ...env, remote: fetched } : env, argv);
    });
  } finally {
    fetched?.dispose();
  }
}

async function simCreateSite(argv: readonly string[]): Promise<number> {
  const root = argv[0];
  const opts: Partial<CreateSiteOptions> & { installed: string[] } = { installed: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new ExitError(2);
      return v;
    };
    if (a === '--repository') opts.repository = next();
    else if (a === '--no-bootstrap') opts.bootstrap = false;
    else if (a === '--install') opts.installed.push(next());
    else if (a === '--no-vulnerability-list') opts.vulnerabilityList = 'missing';
    else if (a === '--vuln-source') opts.vulnSource = next();
    else if (a === '--group-writable') opts.groupWritable = true;
    else throw new ExitError(2);
  }
  if (root === undefined || opts.repository === undefined) throw new ExitError(2);
  const site = await createSite({ ...opts, root, repository: opts.repository });
  processSink.stdout(`${JSON.stringify(site, null, 2)}\n`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && cmd in TOOLS) return withTestHooks(cmd, process.env, () => runPkgTool(cmd, rest));
  try {
    if (
      cmd === 'sim-create-repository' &&
      (rest.length === 1 || (rest.length === 3 && rest[1] === '--prefix'))
    ) {
      const prefix = rest[2] === undefined ? {} : { prefix: rest[2] };
      processSink.stdout(`${await createRepository(rest[0] as string, undefined, prefix)}\n`);
      return 0;
    }
    if (cmd === 'sim-create-site') return await simCreateSite(rest);
  } catch (e) {
    if (!(e instanceof ExitError)) {
      processSink.stderr(`pkgsrc-sim: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  processSink.stderr(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (e: unknown) => {
    processSink.stderr(
      `pkgsrc-sim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(70);
  },
);
