// The pkg-vulnerabilities list as pkg_admin reads it (lib/vulnerabilities-file.c: parse_pkg_vuln, verify_hash,
// add_vulnerability): a header of '#' lines up to `#FORMAT 1.1.0`, then comments, an optional
// `#CHECKSUM ALGORITHM HEX` line and `pattern classification url` entries; optionally inside a PGP clear-signed
// message. Pure: the checksum is parsed, and vulnerabilityChecksumInput() gives the exact text pkg_admin hashes.
import { isValidPattern } from './charset.js';
import { PkgsrcError, quote } from './errors.js';

export interface VulnerabilityEntry {
  pattern: string;
  type: string;
  url: string;
  line: number;
}

export interface VulnerabilityList {
  format: '1.1.0';
  /** undefined when the list has no #CHECKSUM line (pkg_admin accepts that). */
  checksum: { algorithm: string; digest: string } | undefined;
  /** The list is a PGP clear-signed message (signature not checked here). */
  pgpSigned: boolean;
  entries: VulnerabilityEntry[];
}

const PGP_START = '-----BEGIN PGP SIGNED MESSAGE-----';
const PGP_END = '-----BEGIN PGP SIGNATURE-----';
const PKCS7_BEGIN = '-----BEGIN PKCS7-----';
/** Digest lengths (hex) of the algorithms verify_hash knows; others are only warned about by pkg_admin. */
const DIGEST_HEX: Record<string, number> = { SHA512: 128, SHA1: 40 };

function fail(message: string, line: number): never {
  throw new PkgsrcError('bad-vulnerabilities', message, line);
}

/** isspace() in the C locale. */
function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function linesOf(text: string): string[] {
  if (text.includes('\0'))
    fail('invalid input (NUL character found)', text.slice(0, text.indexOf('\0')).split('\n').length);
  if (text.length > 0 && !text.endsWith('\n'))
    fail('missing newline at the end of the list', text.split('\n').length);
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

function parseChecksum(rest: string, line: number): { algorithm: string; digest: string } {
  const m = /^#CHECKSUM[ \t]+([A-Za-z0-9]+)[ \t]+([0-9a-f]+)[ \t]*$/.exec(rest);
  if (m === null)
    fail(`invalid #CHECKSUM line ${quote(rest)} (expected "#CHECKSUM ALGORITHM hex-digest")`, line);
  const algorithm = m[1] as string;
  const digest = m[2] as string;
  const want = DIGEST_HEX[algorithm];
  if (want === undefined) fail(`unsupported #CHECKSUM algorithm ${quote(algorithm)} (SHA512 or SHA1)`, line);
  if (digest.length !== want)
    fail(`${algorithm} digest has ${digest.length} hex digits, expected ${want}`, line);
  return { algorithm, digest };
}

/**
 * Parse a pkg-vulnerabilities file. Refuses (PkgsrcError 'bad-vulnerabilities' with the line) whatever pkg_admin
 * refuses — a header line that is not `#`-only, `# $NetBSD`, `Hash:` or blank; a missing or other #FORMAT than
 * 1.1.0; a missing final newline; an entry without classification or URL — and, stricter than pkg_admin, an entry
 * with extra fields, an invalid pattern, a second #CHECKSUM or an unknown checksum algorithm.
 */
export function parseVulnerabilityList(text: string): VulnerabilityList {
  if (typeof text !== 'string')
    throw new PkgsrcError('bad-vulnerabilities', 'vulnerability list must be a string');
  const lines = linesOf(text);
  const pgpSigned = lines[0] === PGP_START;
  let i = pgpSigned ? 1 : 0;
  let format = false;
  for (; i < lines.length; i++) {
    const l = lines[i] as string;
    const line = i + 1;
    if (l === '' || l.startsWith('Hash:') || l.startsWith('# $NetBSD')) continue;
    if (l[0] === '#' && isSpace(l[1] ?? '\n')) {
      if (l.slice(1).trim() !== '')
        fail(`invalid header line ${quote(l)} (only "#" lines before #FORMAT)`, line);
      continue;
    }
    if (!l.startsWith('#FORMAT')) fail(`malformed header ${quote(l)} (expected #FORMAT 1.1.0)`, line);
    if (!/^#FORMAT[ \t]+1\.1\.0[ \t]*$/.test(l))
      fail(`unsupported ${quote(l)} (pkg_install reads #FORMAT 1.1.0)`, line);
    format = true;
    break;
  }
  if (!format) fail('no #FORMAT line', lines.length);
  let checksum: VulnerabilityList['checksum'];
  const entries: VulnerabilityEntry[] = [];
  for (i++; i < lines.length; i++) {
    const l = lines[i] as string;
    const line = i + 1;
    if (l === '') continue;
    if (pgpSigned && l === PGP_END) break;
    if (!pgpSigned && l === PKCS7_BEGIN) break;
    if (l[0] === '#' && (l.length === 1 || isSpace(l[1]))) continue;
    if (l.startsWith('#CHECKSUM')) {
      if (checksum !== undefined) fail('second #CHECKSUM line', line);
      checksum = parseChecksum(l, line);
      continue;
    }
    // "This should really be an error, but it is still used." (parse_pkg_vuln)
    if (l[0] === '#') continue;
    const fields = l.split(/[ \t\v\f\r]+/);
    if (fields[0] === '') fail(`entry starts with white space: ${quote(l)}`, line);
    if (fields[fields.length - 1] === '') fields.pop();
    const [pattern, type, url] = fields as [string, string | undefined, string | undefined];
    if (type === undefined) fail(`missing classification in ${quote(l)}`, line);
    if (url === undefined) fail(`missing URL in ${quote(l)}`, line);
    if (fields.length > 3) fail(`extra fields after the URL in ${quote(l)}`, line);
    if (!isValidPattern(pattern)) fail(`${quote(pattern)} is not a package pattern`, line);
    entries.push({ pattern, type, url, line });
  }
  return { format: '1.1.0', checksum, pgpSigned, entries };
}

/**
 * The text whose digest the #CHECKSUM line holds (verify_hash): the list without blank, `Hash:`, `# $NetBSD` and
 * `#CHECKSUM` lines, without the PGP header line, up to the signature. Hash it (e.g. SHA512, lower-case hex) and
 * compare with `checksum.digest` to do what pkg_admin does.
 */
export function vulnerabilityChecksumInput(text: string): string {
  const lines = linesOf(text);
  const pgpSigned = lines[0] === PGP_START;
  let out = '';
  for (let i = pgpSigned ? 1 : 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (pgpSigned && l === PGP_END) break;
    if (!pgpSigned && l === PKCS7_BEGIN) break;
    if (l === '' || l.startsWith('Hash:') || l.startsWith('# $NetBSD') || l.startsWith('#CHECKSUM')) continue;
    out += `${l}\n`;
  }
  return out;
}
