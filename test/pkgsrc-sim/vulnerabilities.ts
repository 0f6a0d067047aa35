// pkg-vulnerabilities files as lib/vulnerabilities-file.c parses them: a header of comment lines with `#FORMAT 1.1.0`,
// an optional `#CHECKSUM SHA512|SHA1 <hex>` verified over the file without the empty lines, the `# $NetBSD` line, the
// `#CHECKSUM` line and PGP armour lines, then `pattern classification url` entries.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';

export interface Vulnerability {
  pattern: string;
  classification: string;
  url: string;
}

/** Every failure is reported through `fail(message)`, which must not return (errx in the tools). */
export type Fail = (message: string) => never;
export type Warn = (message: string) => void;

const isSpace = (c: string | undefined) => c !== undefined && /[ \t\n\v\f\r]/.test(c);

function verifyHash(input: string, hashLine: string, fail: Fail, warn: Warn): void {
  const algorithms: Record<string, string> = { SHA512: 'sha512', SHA1: 'sha1' };
  const m = /^([A-Za-z0-9]*)/.exec(hashLine);
  const name = m?.[1] ?? '';
  const algo = algorithms[name];
  if (algo === undefined || !isSpace(hashLine[name.length])) {
    warn(`Unsupported hash algorithm: ${name}`);
    return;
  }
  let rest = hashLine.slice(name.length);
  if (!isSpace(rest[0])) fail('Invalid #CHECKSUM');
  rest = rest.replace(/^[ \t\v\f\r]+/, '');
  if (rest.startsWith('\n') || rest === '') fail('Invalid #CHECKSUM');
  const hash = createHash(algo);
  let pos = 0;
  let lastStart = 0;
  while (pos < input.length) {
    const nl = input.indexOf('\n', pos);
    if (nl < 0) fail('Missing newline in pkg-vulnerabilities');
    const next = nl + 1;
    const line = input.slice(pos, next);
    if (
      line === '\n' ||
      line.startsWith('-----BEGIN') ||
      line.startsWith('Hash:') ||
      line.startsWith('# $NetBSD') ||
      line.startsWith('#CHECKSUM')
    ) {
      hash.update(input.slice(lastStart, pos), 'utf8');
      lastStart = next;
    } else if (line.startsWith('Version:')) {
      break;
    }
    pos = next;
  }
  hash.update(input.slice(lastStart, pos), 'utf8');
  const digest = hash.digest('hex');
  if (!rest.startsWith(digest)) fail(`${name} hash doesn't match`);
  const after = rest.slice(digest.length).replace(/^[ \t\v\f\r]+/, '');
  if (!isSpace(after[0])) fail('Invalid #CHECKSUM');
}

/** parse_pkg_vulnerabilities() */
export function parseVulnerabilities(input: string, fail: Fail, warn: Warn): Vulnerability[] {
  if (input.includes('\0')) fail('Invalid input (NUL character found)');
  const lines: string[] = [];
  let pos = 0;
  while (pos < input.length) {
    const nl = input.indexOf('\n', pos);
    if (nl < 0) fail('Missing newline in pkg-vulnerabilities');
    lines.push(input.slice(pos, nl + 1));
    pos = nl + 1;
  }
  // Header: up to and including #FORMAT.
  let i = 0;
  let sawFormat = false;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (
      line === '\n' ||
      line.startsWith('-----BEGIN') ||
      line.startsWith('Hash:') ||
      line.startsWith('# $NetBSD')
    ) {
      continue;
    }
    if (line.startsWith('#') && isSpace(line[1])) {
      if (/\S/.test(line.slice(1))) fail('Invalid header');
      continue;
    }
    if (!line.startsWith('#FORMAT')) fail('Input header is malformed');
    if (!isSpace(line[7])) fail('Invalid #FORMAT');
    if (!/^1\.1\.0\s*$/.test(line.slice(8))) fail('Input #FORMAT');
    sawFormat = true;
    i++;
    break;
  }
  if (!sawFormat) fail('Missing #CHECKSUM or content');
  const out: Vulnerability[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '\n') continue;
    if (line.startsWith('Versi')) break;
    if (line.startsWith('#') && (line.length === 1 || isSpace(line[1]))) continue;
    if (line.startsWith('#CHECKSUM')) {
      const after = line.slice(9);
      if (!isSpace(after[0])) fail('Invalid #CHECKSUM');
      verifyHash(input, after.replace(/^[ \t\v\f\r]+/, ''), fail, warn);
      continue;
    }
    if (line.startsWith('#')) continue;
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2) fail('Input error: missing classification');
    if (fields.length < 3) fail('Input error: missing URL');
    out.push({ pattern: fields[0] as string, classification: fields[1] as string, url: fields[2] as string });
  }
  return out;
}

/** decompress_buffer(): gzip'd lists are accepted, as by pkg_install. */
export function decompress(raw: Buffer): string {
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) return gunzipSync(raw).toString('utf8');
  return raw.toString('utf8');
}
