// Reading binary packages (gzip'd or plain ustar archives as pkg_create writes them) synchronously, entry by entry in
// archive order, which pkg_add relies on (meta files first, then the payload in packing-list order).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface ArchiveEntry {
  path: string;
  /** permission bits from the header */
  mode: number;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  linkname: string;
  data: Buffer;
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  if (((block[start] as number) & 0x80) !== 0) {
    // base-256 (GNU) encoding for large values
    let v = 0;
    for (let i = start + 1; i < start + length; i++) v = v * 256 + (block[i] as number);
    return v;
  }
  const s = field(block, start, length).trim();
  return s === '' ? 0 : Number.parseInt(s, 8);
}

function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(data.subarray(off, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    off += len;
  }
  return out;
}

/** Parse a tar stream (optionally gzip'd). Throws Error with a short reason on a malformed archive. */
export function parseArchive(raw: Buffer): ArchiveEntry[] {
  const tar = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  if (raw.length >= 3 && raw.subarray(0, 3).toString('latin1') === 'BZh') {
    throw new Error('bzip2 compressed packages are not supported by the simulator');
  }
  const entries: ArchiveEntry[] = [];
  let off = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (off + 512 <= tar.length) {
    const block = tar.subarray(off, off + 512);
    if (block.every((b) => b === 0)) break;
    const magic = field(block, 257, 6);
    const name = field(block, 0, 100);
    const prefix = magic.startsWith('ustar') ? field(block, 345, 155) : '';
    let size = octal(block, 124, 12);
    const typeflag = String.fromCharCode(block[156] as number);
    const linkname = field(block, 157, 100);
    if (pax.has('size')) size = Number(pax.get('size'));
    const dataStart = off + 512;
    const data = tar.subarray(dataStart, dataStart + size);
    if (data.length < size) throw new Error('truncated archive');
    off = dataStart + Math.ceil(size / 512) * 512;
    if (typeflag === 'x') {
      pax = paxRecords(data);
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    if (typeflag === 'K') {
      longLink = field(data, 0, data.length);
      continue;
    }
    const fullName = pax.get('path') ?? longName ?? (prefix !== '' ? `${prefix}/${name}` : name);
    const link = pax.get('linkpath') ?? longLink ?? linkname;
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    const type =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'directory'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'hardlink'
              : 'other';
    entries.push({
      path: fullName.replace(/^\.\//, ''),
      mode: octal(block, 100, 8) & 0o7777,
      type,
      linkname: link,
      data: Buffer.from(data),
    });
  }
  return entries;
}

export function readArchive(file: string): ArchiveEntry[] {
  return parseArchive(readFileSync(file));
}
