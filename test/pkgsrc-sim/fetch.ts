// http:// for the simulator's pkg_add. Real pkg_add (libfetch) resolves a name or pattern in an http PKG_PATH entry by
// listing the directory, and adds a full file URL (`http://HOST/All/gsl-2.8.tgz`) by fetching just that file. The
// simulator does the same observable things: before pkg_add runs it asks each http directory for its listing
// (`GET URL/`); a directory that answers 200 is listable, and the simulator then downloads the packages its
// pkg_summary lists into a temporary directory under TMPDIR (standing in for the listing); a directory that answers
// another status (a CDN or object store: 403 Forbidden) is not, and every lookup in it fails as in the real tool
// (`Can't process URL/NAME*: Forbidden`). File URLs among the arguments are downloaded one by one. A server that
// cannot be reached offers nothing. https:// and ftp:// stay ignored. Everything is removed when pkg_add exits.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

const TIMEOUT_MS = 30_000;
const SAFE_FILE = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*\.t[gb]z$/;
const HTTP = /^http:\/\//i;
/** A pkg_add argument that names one package file by URL. */
export const FILE_URL = /^http:\/\/[^?#]*\/[A-Za-z0-9_+][A-Za-z0-9._+-]*\.t[gb]z$/i;

type Answer = { status: 'ok'; body: Buffer } | { status: 'refused'; reason: string } | { status: 'down' };

/** GET url: the body of a 200 answer, the reason phrase of another answer, or down (never throws). */
async function get(url: string): Promise<Answer> {
  // Loaded on first use: most tool calls fetch nothing, and each one is a node start of its own.
  const { default: http } = await import('node:http');
  return new Promise((resolve) => {
    let request: http.ClientRequest;
    try {
      request = http.get(url, { timeout: TIMEOUT_MS }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          const code = response.statusCode ?? 0;
          resolve({
            status: 'refused',
            reason: response.statusMessage || http.STATUS_CODES[code] || `${code}`,
          });
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: 'ok', body: Buffer.concat(chunks) }));
        response.on('error', () => resolve({ status: 'down' }));
      });
    } catch {
      resolve({ status: 'down' });
      return;
    }
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve({ status: 'down' }));
  });
}

async function summaryAt(url: string): Promise<string | undefined> {
  const gz = await get(`${url}/pkg_summary.gz`);
  if (gz.status === 'ok') {
    try {
      return gunzipSync(gz.body).toString('utf8');
    } catch {
      // fall through to the plain summary
    }
  }
  const plain = await get(`${url}/pkg_summary`);
  return plain.status === 'ok' ? plain.body.toString('utf8') : undefined;
}

/** Downloads the packages of one listable http:// repository into `dir`; false when it cannot be read. */
async function mirror(base: string, dir: string): Promise<boolean> {
  const summary = await summaryAt(base);
  if (summary === undefined) return false;
  const files = summary
    .split('\n')
    .filter((line) => line.startsWith('FILE_NAME='))
    .map((line) => line.slice('FILE_NAME='.length))
    .filter((name) => SAFE_FILE.test(name));
  for (const name of new Set(files)) {
    const body = await get(`${base}/${name}`);
    if (body.status !== 'ok') return false;
    writeFileSync(path.join(dir, name), body.body);
  }
  return true;
}

/** What became of one http:// directory: a local copy of a listable one, the refusal of its listing, or nothing. */
export type RemoteDirectory = { local: string } | { refused: string } | { down: true };

/** What pkg_add sees of http: its directories (by URL without trailing slash) and the file URLs it was given. */
export interface RemoteView {
  dirs: Map<string, RemoteDirectory>;
  files: Map<string, { local: string } | { refused: string } | { down: true }>;
}

export interface FetchedPkgPath extends RemoteView {
  /** Removes the download directories. */
  dispose(): void;
}

/** The URL of a directory, as pkg_add joins names to it. */
export function directoryUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * Fetches what pkg_add may need over http: every http:// entry of PKG_PATH and the directory and file of every file
 * URL among `args`. Undefined when there is none.
 */
export async function fetchRemote(
  raw: string | undefined,
  args: readonly string[],
): Promise<FetchedPkgPath | undefined> {
  const fileArgs = args.filter((a) => FILE_URL.test(a));
  const urls = new Set([
    ...(raw ?? '').split(';').filter((part) => HTTP.test(part)),
    ...fileArgs.map((a) => a.slice(0, a.lastIndexOf('/'))),
  ]);
  if (urls.size === 0) return undefined;
  const temps: string[] = [];
  const dispose = () => {
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  };
  const view: RemoteView = { dirs: new Map(), files: new Map() };
  try {
    for (const url of urls) {
      const base = directoryUrl(url);
      if (view.dirs.has(base)) continue;
      const listing = await get(`${base}/`);
      if (listing.status !== 'ok') {
        view.dirs.set(base, listing.status === 'refused' ? { refused: listing.reason } : { down: true });
        continue;
      }
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pkgsim-fetch-'));
      temps.push(dir);
      view.dirs.set(base, (await mirror(base, dir)) ? { local: dir } : { down: true });
    }
    if (fileArgs.length > 0) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pkgsim-fetch-'));
      temps.push(dir);
      for (const [i, url] of fileArgs.entries()) {
        const answer = await get(url);
        if (answer.status !== 'ok') {
          view.files.set(url, answer.status === 'refused' ? { refused: answer.reason } : { down: true });
          continue;
        }
        const local = path.join(dir, `${i}-${url.slice(url.lastIndexOf('/') + 1)}`);
        writeFileSync(local, answer.body);
        view.files.set(url, { local });
      }
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { ...view, dispose };
}
