/**
 * The report service of bench/serve.bench.ts, in a process of its own (so that the load generator does not share
 * its event loop): `tsx bench/serve-server.ts SPEC STATE_DIR TTL_MS`; prints its URL on stdout.
 */
import { startReportServer } from '../src/serve/server.js';
import { stateReportSource } from '../src/serve/state-report.js';

const [specFile, stateDir, ttl] = process.argv.slice(2);
if (!specFile || !stateDir) throw new Error('usage: serve-server.ts SPEC STATE_DIR [TTL_MS]');
const server = await startReportServer({
  host: '127.0.0.1',
  port: 0,
  version: 'bench',
  source: stateReportSource({ specFile, stateDir, ttlMs: Number(ttl ?? 10_000) }),
});
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
