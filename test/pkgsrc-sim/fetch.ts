// http:// entries of PKG_PATH for the simulator's pkg_add. Real pkg_add fetches from a PKG_PATH URL itself (libfetch,
// listing the directory); the simulator instead reads URL/pkg_summary(.gz), downloads every FILE_NAME it lists into
// a temporary directory under TMPDIR, and uses that directory in the URL's place. A URL that cannot be fetched
// (refused connection, non-200 answer, no pkg_summary) contributes no package, so pkg_add says what the real one says
// for a package it cannot find: `pkg_add: no pkg found for 'NAME', sorry.` https:// and ftp:// stay ignored.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

const TIMEOUT_MS = 30_000;
const SAFE_FILE = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*\.t[gb]z$/;

/** GET url: the body of a 200 answer, else undefined (never throws). */
function get(url: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let request: http.ClientRequest;
    try {
      request = http.get(url, { timeout: TIMEOUT_MS }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          resolve(undefined);
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks)));
        response.on('error', () => resolve(undefined));
      });
    } catch {
      resolve(undefined);
      return;
    }
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

async function summaryAt(url: string): Promise<string | undefined> {
  const gz = await get(`${url}/pkg_summary.gz`);
  if (gz !== undefined) {
    try {
      return gunzipSync(gz).toString('utf8');
    } catch {
      // fall through to the plain summary
    }
  }
  return (await get(`${url}/pkg_summary`))?.toString('utf8');
}

/** Downloads the packages of one http:// repository into `dir`; false when the repository cannot be read. */
async function mirror(url: string, dir: string): Promise<boolean> {
  const base = url.replace(/\/+$/, '');
  const summary = await summaryAt(base);
  if (summary === undefined) return false;
  const files = summary
    .split('\n')
    .filter((line) => line.startsWith('FILE_NAME='))
    .map((line) => line.slice('FILE_NAME='.length))
    .filter((name) => SAFE_FILE.test(name));
  for (const name of new Set(files)) {
    const body = await get(`${base}/${name}`);
    if (body === undefined) return false;
    writeFileSync(path.join(dir, name), body);
  }
  return true;
}

export interface FetchedPkgPath {
  /** PKG_PATH as local directories: each http:// entry replaced by its download directory (or dropped). */
  dirs: string[];
  /** Removes the download directories. */
  dispose(): void;
}

/** The http:// entries of PKG_PATH fetched into local directories; undefined when PKG_PATH has none. */
export async function fetchPkgPath(
  raw: string | undefined,
  local: readonly string[],
): Promise<FetchedPkgPath | undefined> {
  const urls = (raw ?? '').split(';').filter((part) => /^http:\/\//i.test(part));
  if (urls.length === 0) return undefined;
  const temps: string[] = [];
  const dispose = () => {
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  };
  const dirs = [...local];
  try {
    for (const url of urls) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pkgsim-fetch-'));
      temps.push(dir);
      if (await mirror(url, dir)) dirs.push(dir);
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { dirs, dispose };
}
