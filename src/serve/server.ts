/**
 * The read-only report service (node:http, no framework): `/` the HTML drift report, `/report.json` the model,
 * `/metrics` in the Prometheus text format, `/healthz`. Only GET and HEAD; no endpoint changes anything. With a
 * token, every endpoint but /healthz wants `Authorization: Bearer TOKEN`. `gridpkg serve` starts it over the state
 * directory; `gridpkg watch` can start it over its own report source and metrics registry.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { DRIFT_HTML_CSP, renderDriftHtml } from '../report/drift/html.js';
import { renderDriftJson } from '../report/drift/index.js';
import { printable } from '../report/untrusted.js';
import { urlOf } from './listen.js';
import { registerReportMetrics } from './metrics.js';
import type { ReportSnapshot, ReportSource } from './state-report.js';
import { bearerMatches } from './token.js';

export interface ReportServerOptions {
  host: string;
  /** 0: any free port (the URL tells which). */
  port: number;
  source: ReportSource;
  /** gridpkg's version, for gridpkg_build_info. */
  version: string;
  /** When set, every endpoint but /healthz needs it as a bearer token. */
  token?: string;
  /**
   * Whether a request's Host header (its name, lower case, no port) is one this service answers; default: any.
   * A loopback service without a token answers only loopback names, so that a web page cannot read it through a
   * name its author points at 127.0.0.1 (DNS rebinding): the browser sends that name as Host.
   */
  allowHost?: (name: string) => boolean;
  /** A registry the caller already filled with its own metrics (watch); default: a new one. */
  registry?: Registry;
  /** A failed report build, said once per distinct message (the log of the command). */
  onBuildError?: (message: string) => void;
}

export interface ReportServer {
  url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
} as const;
/** For everything but the page: nothing may be loaded or run, and nothing may frame it. */
const CSP_NONE = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const text = (status: number, body: string, headers?: Record<string, string>): Reply => ({
  status,
  type: 'text/plain; charset=utf-8',
  body,
  ...(headers ? { headers } : {}),
});

export async function startReportServer(options: ReportServerOptions): Promise<ReportServer> {
  const registry = options.registry ?? new Registry();
  const metrics = registerReportMetrics(registry, options.version);
  let lastError: string | undefined;
  const snapshot = async (): Promise<ReportSnapshot | Reply> => {
    try {
      const result = await options.source.snapshot();
      metrics.update(result);
      lastError = undefined;
      return result;
    } catch (error) {
      metrics.buildFailed();
      const message = printable(error instanceof Error ? error.message : String(error), 2000);
      if (message !== lastError) options.onBuildError?.(message);
      lastError = message;
      return text(503, `gridpkg: the report cannot be built: ${message}\n`);
    }
  };

  // A snapshot is rendered once per format, however many clients ask for it.
  const rendered = new WeakMap<ReportSnapshot, { html?: string; json?: string }>();
  const render = (got: ReportSnapshot, format: 'html' | 'json'): string => {
    const memo = rendered.get(got) ?? {};
    rendered.set(got, memo);
    memo[format] ??= format === 'html' ? renderDriftHtml(got.report) : renderDriftJson(got.report);
    return memo[format];
  };

  const routes: Record<string, () => Promise<Reply>> = {
    '/': async () => {
      const got = await snapshot();
      if ('status' in got) return got;
      return {
        status: 200,
        type: 'text/html; charset=utf-8',
        body: render(got, 'html'),
        headers: { 'Content-Security-Policy': `${DRIFT_HTML_CSP}; frame-ancestors 'none'` },
      };
    },
    '/report.json': async () => {
      const got = await snapshot();
      if ('status' in got) return got;
      return { status: 200, type: 'application/json; charset=utf-8', body: render(got, 'json') };
    },
    '/metrics': async () => {
      // A failed build leaves the site metrics out and counts the failure: the scrape itself still works.
      await snapshot();
      return { status: 200, type: registry.contentType, body: await registry.metrics() };
    },
    '/healthz': async () => text(200, 'ok\n'),
  };

  const answer = async (request: IncomingMessage): Promise<Reply> => {
    const path = pathOf(request.url);
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (options.allowHost && !options.allowHost(hostName(request.headers.host)))
      return text(
        421,
        'gridpkg: this service answers only requests addressed to its own host name (see --allow-host)\n',
      );
    if (path !== '/healthz' && options.token !== undefined) {
      if (!bearerMatches(request.headers.authorization, options.token))
        return text(401, 'gridpkg: this service needs a bearer token (Authorization: Bearer TOKEN)\n', {
          'WWW-Authenticate': 'Bearer realm="gridpkg"',
        });
    }
    if (!route) return text(404, 'gridpkg: not found; try /, /report.json, /metrics or /healthz\n');
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return text(405, 'gridpkg: this service is read-only: GET and HEAD only\n', { Allow: 'GET, HEAD' });
    return route();
  };

  const server = createServer((request, response) => {
    // A request body is never read: drained so that keep-alive connections stay usable.
    request.resume();
    answer(request).then(
      (reply) => send(request, response, reply),
      (error: unknown) => send(request, response, text(500, `gridpkg: ${printable(String(error), 2000)}\n`)),
    );
  });
  // Slow or idle clients cannot hold the service: headers within 10 s, a whole request within 30 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: urlOf(options.host, port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The host name of a Host header, lower case, without the port (`[::1]:9090` is `::1`). */
export function hostName(header: string | undefined): string {
  const value = (header ?? '').trim().toLowerCase();
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(value);
  if (bracketed) return bracketed[1] ?? '';
  return value.replace(/:\d*$/, '');
}

/** The request's path as sent, without its query: matched exactly, never normalised into another route. */
function pathOf(url: string | undefined): string {
  return (url ?? '').split('?')[0] ?? '';
}

function send(request: IncomingMessage, response: ServerResponse, reply: Reply): void {
  const body = Buffer.from(reply.body, 'utf8');
  response.writeHead(reply.status, {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': CSP_NONE,
    ...reply.headers,
    'Content-Type': reply.type,
    'Content-Length': String(body.length),
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
