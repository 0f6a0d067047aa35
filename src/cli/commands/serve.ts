import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import { readJsonAsset } from '../../assets.js';
import {
  DEFAULT_LISTEN,
  exposureWarnings,
  loopbackHostAllowed,
  parseListenAddress,
} from '../../serve/listen.js';
import { type ReportServer, startReportServer } from '../../serve/server.js';
import { stateReportSource } from '../../serve/state-report.js';
import { readTokenFile } from '../../serve/token.js';
import { loadSpec } from '../../spec/index.js';
import { stateDirFor } from '../common.js';
import { parseDuration } from '../duration.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { interruptCleanups } from '../interrupt.js';
import type { CliIO } from '../io.js';
import { addSelectionOptions, type SiteSelection, selectSites } from '../site-selection.js';

export interface ServeOptions extends ListenOptions {
  quiet?: boolean;
}

const DEFAULT_MAX_AGE = '1d';

export function registerServeCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  addSelectionOptions(
    program
      .command('serve')
      .summary('serve the drift report, report.json and Prometheus metrics over HTTP (read-only)')
      .description(
        'A small read-only HTTP service over the state directory and the spec: / the HTML drift report, ' +
          '/report.json the report model, /metrics Prometheus metrics, /healthz. The report is built from what ' +
          'converge, drift or watch recorded: serve never runs a job and changes nothing. Listens on 127.0.0.1 ' +
          'unless --listen names another address; there, give --token-file (clients send Authorization: Bearer ' +
          'TOKEN) or put an authenticating reverse proxy in front. Runs until Ctrl-C (exit 130) or SIGTERM (143).',
      )
      .option('-f, --file <spec>', 'desired-state spec file', 'desired-state.yaml')
      .option('--state-dir <dir>', 'state directory (default: .gridpkg/ beside the spec)')
      .option(
        '--listen <address>',
        'HOST:PORT to listen on ([::1]:9090 for IPv6; port 0: any free)',
        DEFAULT_LISTEN,
      )
      .option(
        '--token-file <file>',
        'require this bearer token (the first line of the file) on every endpoint but /healthz',
      )
      .option(
        '--allow-host <name>',
        "also answer requests for this host name (a reverse proxy that passes the client's Host header); " +
          'without a token, a loopback service answers only localhost, 127.x.y.z and ::1 (repeatable)',
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value.toLowerCase()],
      )
      .option(
        '--max-age <duration>',
        `a site whose last observation is older than this shows as unknown (default ${DEFAULT_MAX_AGE})`,
        parseDuration,
      )
      .option('-q, --quiet', 'no start-up line on stderr (warnings are still printed)'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  gridpkg serve\n  gridpkg serve --listen 0.0.0.0:9090 --token-file /etc/gridpkg/token\n' +
        '  curl -s http://127.0.0.1:9090/metrics',
    )
    .action(async (options: ServeOptions) => setExit(await runServe(options, io)));
}

/** The listening options `serve` and `watch --listen` share. */
export interface ListenOptions extends SiteSelection {
  file: string;
  stateDir?: string;
  listen: string;
  tokenFile?: string;
  allowHost?: string[];
  maxAge?: number;
}

/**
 * Starts the report service over the state directory (serve, watch --listen): warns about an exposed address,
 * reads the token, and answers only this machine's host names on loopback without a token.
 */
export async function startStateReportService(
  options: ListenOptions,
  io: CliIO,
  command: string,
  registry?: Registry,
): Promise<{ server: ReportServer; tokenRequired: boolean }> {
  const address = parseListenAddress(options.listen);
  const token = options.tokenFile === undefined ? undefined : await readTokenFile(options.tokenFile);
  for (const warning of exposureWarnings(address, options.listen, token, options.tokenFile))
    io.err(`gridpkg ${command}: warning: ${warning}\n`);
  const { version } = readJsonAsset('package.json') as { version: string };
  const server = await startReportServer({
    host: address.host,
    port: address.port,
    version,
    ...(registry ? { registry } : {}),
    ...(token ? { token: token.token } : {}),
    // Without a token, only the names of this machine: a web page cannot read a loopback service by DNS rebinding.
    ...(token === undefined && address.loopback
      ? { allowHost: (name: string) => loopbackHostAllowed(name) || (options.allowHost ?? []).includes(name) }
      : {}),
    source: stateReportSource({
      specFile: options.file,
      stateDir: stateDirFor(options.file, options.stateDir),
      selectSites: (sites) => selectSites(sites, options),
      maxAgeMs: options.maxAge ?? parseDuration(DEFAULT_MAX_AGE),
    }),
    onBuildError: (message) => io.err(`gridpkg ${command}: the report cannot be built: ${message}\n`),
  });
  return { server, tokenRequired: token !== undefined };
}

/** Serves until `until` settles (tests) or a signal ends the process (the interrupt handlers close it first). */
export async function runServe(
  options: ServeOptions,
  io: CliIO,
  until: Promise<unknown> = new Promise(() => {}),
): Promise<ExitCodeValue> {
  parseListenAddress(options.listen);
  // A spec that does not load, or a selection that names no site, is an error now rather than a 503 later.
  const spec = await loadSpec(options.file);
  const chosen = selectSites(spec.sites, options).length;
  const { server, tokenRequired } = await startStateReportService(options, io, 'serve');
  const stop = () => void server.close();
  interruptCleanups.add(stop);
  if (!options.quiet)
    io.err(
      `Serving the drift report of ${chosen} site(s) at ${server.url} (/, /report.json, /metrics, /healthz)` +
        `${tokenRequired ? ', bearer token required' : ''}. Read-only; Ctrl-C stops.\n`,
    );
  try {
    await until;
  } finally {
    interruptCleanups.delete(stop);
    await server.close();
  }
  return ExitCode.ok;
}
