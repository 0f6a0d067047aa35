/**
 * Just enough DER to find a certificate's extensions and to scan a VOMS attribute certificate for FQANs and its
 * validity window. No signature is checked here: voms-proxy-info (when installed) is the authority; this is the
 * fallback that reads what the proxy claims.
 */

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number below 31). */
  tag: number;
  constructed: boolean;
  /** Offset of the first content byte in the buffer. */
  start: number;
  /** Offset just past the last content byte. */
  end: number;
}

export class DerError extends Error {
  override name = 'DerError';
}

export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated DER at ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag numbers are not supported (at ${offset})`);
  let length = buf[offset + 1] as number;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError(`unsupported DER length form at ${offset}`);
    if (start + count > limit) throw new DerError(`truncated DER length at ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[start + i] as number);
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new DerError(`DER element at ${offset} runs past its container`);
  return { tag, constructed: (tag & 0x20) !== 0, start, end };
}

/** The elements directly inside a constructed element (or inside [start, end) of the buffer). */
export function children(buf: Uint8Array, start: number, end: number): Tlv[] {
  const out: Tlv[] = [];
  let offset = start;
  while (offset < end) {
    const tlv = readTlv(buf, offset, end);
    out.push(tlv);
    offset = tlv.end;
  }
  return out;
}

export function decodeOid(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    }
  }
  return parts.join('.');
}

const TAG_SEQUENCE = 0x30;
const TAG_OID = 0x06;
const TAG_BOOLEAN = 0x01;
const TAG_OCTET_STRING = 0x04;
const TAG_GENERALIZED_TIME = 0x18;
const TAG_EXTENSIONS = 0xa3;

/** The extensions of a DER certificate, by OID, as the bytes inside each extnValue OCTET STRING. */
export function certificateExtensions(
  der: Uint8Array,
): Map<string, { critical: boolean; value: Uint8Array }> {
  const out = new Map<string, { critical: boolean; value: Uint8Array }>();
  const certificate = readTlv(der, 0);
  if (certificate.tag !== TAG_SEQUENCE) throw new DerError('a certificate is not a SEQUENCE');
  const [tbs] = children(der, certificate.start, certificate.end);
  if (!tbs || tbs.tag !== TAG_SEQUENCE) throw new DerError('tbsCertificate is not a SEQUENCE');
  const wrapper = children(der, tbs.start, tbs.end).find((tlv) => tlv.tag === TAG_EXTENSIONS);
  if (!wrapper) return out;
  const [list] = children(der, wrapper.start, wrapper.end);
  if (!list || list.tag !== TAG_SEQUENCE) throw new DerError('extensions are not a SEQUENCE');
  for (const extension of children(der, list.start, list.end)) {
    const fields = children(der, extension.start, extension.end);
    const oid = fields[0];
    const value = fields[fields.length - 1];
    if (!oid || oid.tag !== TAG_OID || !value || value.tag !== TAG_OCTET_STRING) continue;
    const critical = fields.length === 3 && fields[1]?.tag === TAG_BOOLEAN && der[fields[1].start] !== 0;
    out.set(decodeOid(der.subarray(oid.start, oid.end)), {
      critical,
      value: der.subarray(value.start, value.end),
    });
  }
  return out;
}

/** OCTET STRING, UTF8String, PrintableString, IA5String, VisibleString: where an FQAN can sit. */
const STRING_TAGS = new Set([0x04, 0x0c, 0x13, 0x16, 0x1a]);
const FQAN =
  /^\/[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9._-]+)*(\/Role=[A-Za-z0-9._-]+)?(\/Capability=[A-Za-z0-9._-]+)?$/;
const FQAN_IN_BYTES =
  /\/[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9._=-]+)*\/Role=[A-Za-z0-9._-]+(?:\/Capability=[A-Za-z0-9._-]+)?/g;

export interface VomsScan {
  fqans: string[];
  /** The attribute certificate's own validity (attrCertValidityPeriod), when a pair of times was found. */
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  /** How the FQANs were found: walking the DER, or (if the DER did not parse) a scan of the raw bytes. */
  method: 'der' | 'bytes';
}

function parseGeneralizedTime(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/**
 * Scans a VOMS AC extension (OID 1.3.6.1.4.1.8005.100.100.5) for FQANs: every printable string inside it that has
 * the shape of an FQAN (`/vo[/group…][/Role=r][/Capability=c]`), in order, without duplicates. The AC's
 * validity is the first SEQUENCE of exactly two GeneralizedTimes. The AC signature is not verified.
 */
export function scanVomsExtension(value: Uint8Array): VomsScan {
  const fqans: string[] = [];
  let validity: [Date, Date] | undefined;
  const walk = (start: number, end: number): void => {
    for (const tlv of children(value, start, end)) {
      if (tlv.constructed) {
        const inner = children(value, tlv.start, tlv.end);
        if (
          !validity &&
          tlv.tag === TAG_SEQUENCE &&
          inner.length === 2 &&
          inner.every((t) => t.tag === TAG_GENERALIZED_TIME)
        ) {
          const [a, b] = inner.map((t) =>
            parseGeneralizedTime(Buffer.from(value.subarray(t.start, t.end)).toString('latin1')),
          );
          if (a && b) validity = [a, b];
        }
        walk(tlv.start, tlv.end);
      } else if (STRING_TAGS.has(tlv.tag)) {
        const text = Buffer.from(value.subarray(tlv.start, tlv.end)).toString('latin1');
        if (FQAN.test(text) && !fqans.includes(text)) fqans.push(text);
      }
    }
  };
  try {
    walk(0, value.length);
    return { fqans, notBefore: validity?.[0], notAfter: validity?.[1], method: 'der' };
  } catch {
    const text = Buffer.from(value).toString('latin1');
    const found = [...new Set(text.match(FQAN_IN_BYTES) ?? [])];
    return { fqans: found, notBefore: undefined, notAfter: undefined, method: 'bytes' };
  }
}
