/**
 * The X.509 proxy check run before a job is submitted to a grid backend: a missing, unreadable, expired or
 * soon-expiring proxy, or one without the VOMS role the job needs (software managers act with Role=sgm), stops the
 * submission with a message that names the file, the expiry time and what to run. What it demands comes from the
 * spec's `proxy:` (vomsRole -> requiredRole, minValidity -> marginSeconds, requireVoms) and the site's `vo`.
 *
 * Pure parts: findProxyFile, inspectProxy, checkProxy (given the file's text and the time). I/O edge:
 * defaultVomsProxyInfo (runs voms-proxy-info, if installed) and requireValidProxy (reads the file, throws).
 *
 * FQANs come from `voms-proxy-info --fqan` when it is installed and answers (it verifies the attribute
 * certificate); otherwise from scanning the proxy's VOMS extension (OID 1.3.6.1.4.1.8005.100.100.5) for strings
 * shaped like FQANs. That scan reads what the proxy claims; it does not verify the VOMS server's signature.
 */

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { execa } from 'execa';
import { TerminalError } from '../model/errors.js';
import { errnoCode } from '../state/fs-errors.js';
import { readTextFile } from '../state/read-capped.js';
import { certificateExtensions, scanVomsExtension } from './credentials/der.js';

export const VOMS_AC_OID = '1.3.6.1.4.1.8005.100.100.5';
/** RFC 3820 proxyCertInfo, and the pre-RFC (GT3) one. */
const PROXY_CERT_INFO_OIDS = ['1.3.6.1.5.5.7.1.14', '1.3.6.1.4.1.3536.1.222'];

export interface CertificateInfo {
  /** In the grid's slash form: /DC=org/O=example/CN=Alice/CN=123456. */
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

export interface VomsAttributes {
  /** E.g. /pvier/Role=sgm/Capability=NULL; empty when the proxy has no VOMS extension. */
  fqans: string[];
  /** The attribute certificate's own validity, when found; it can end before the proxy does. */
  notBefore: Date | undefined;
  notAfter: Date | undefined;
}

export interface ProxyInfo extends CertificateInfo {
  /** Subject ends in CN=<number> (RFC 3820) or CN=proxy / CN=limited proxy (legacy), issuer = subject minus it. */
  looksLikeProxy: boolean;
  /** Carries the proxyCertInfo extension. */
  proxyCertInfo: boolean;
  /** Every certificate in the file, proxy first. */
  chain: CertificateInfo[];
  hasPrivateKey: boolean;
  /** Whether the private key belongs to the first certificate (undefined without a key). */
  keyMatches: boolean | undefined;
  /** The earliest end of validity in the chain, and whose it is. */
  chainNotAfter: Date;
  expiresFirst: string;
  /** The latest start of validity in the chain, and whose it is. */
  chainNotBefore: Date;
  startsLast: string;
  voms: VomsAttributes;
}

export type CredentialProblemKind =
  | 'missing'
  | 'unreadable'
  | 'not-a-proxy'
  | 'not-yet-valid'
  | 'expired'
  | 'expiring'
  | 'role-missing'
  | 'voms-expiring';

export interface CredentialProblem {
  kind: CredentialProblemKind;
  file: string;
  /** One paragraph for the user: what is wrong, with times, and what to run. */
  message: string;
  expiresAt?: Date;
  /** For role problems: the FQANs that were found, and where. */
  fqans?: string[];
  fqanSource?: 'voms-proxy-info' | 'certificate';
}

export class CredentialError extends TerminalError {
  override name = 'CredentialError';
  constructor(readonly problem: CredentialProblem) {
    super(problem.message);
  }
}

export class ProxyParseError extends TerminalError {
  override name = 'ProxyParseError';
}

/** X509_USER_PROXY if set and not empty, else /tmp/x509up_u<uid> (the Globus / VOMS default). */
export function findProxyFile(env: Readonly<Record<string, string | undefined>>, uid: number): string {
  const fromEnv = env.X509_USER_PROXY;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : `/tmp/x509up_u${uid}`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

function slashName(name: string): string {
  // node:crypto prints one RDN per line, in certificate order.
  return name
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => `/${line}`)
    .join('');
}

function certificateInfo(cert: X509Certificate): CertificateInfo {
  return {
    subject: slashName(cert.subject),
    issuer: slashName(cert.issuer),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

function looksLikeProxy(subject: string, issuer: string): boolean {
  const match = /^(.*)\/CN=(\d+|proxy|limited proxy)$/.exec(subject);
  return match !== null && match[1] === issuer;
}

/** Parses a proxy file (proxy certificate first, its private key, then the chain). Throws ProxyParseError. */
export function inspectProxy(pem: string): ProxyInfo {
  const blocks = [...pem.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1] ?? '', text: m[0] }));
  const certBlocks = blocks.filter((b) => b.type === 'CERTIFICATE');
  if (certBlocks.length === 0) throw new ProxyParseError('no PEM CERTIFICATE block in it');
  const certs = certBlocks.map((block, index) => {
    try {
      return new X509Certificate(block.text);
    } catch (error) {
      throw new ProxyParseError(`certificate ${index + 1} does not parse: ${(error as Error).message}`);
    }
  });
  const [proxy] = certs as [X509Certificate, ...X509Certificate[]];
  const chain = certs.map(certificateInfo);
  const first = chain[0] as CertificateInfo;
  for (const [index, info] of chain.entries()) {
    if (Number.isNaN(info.notBefore.getTime()) || Number.isNaN(info.notAfter.getTime()))
      throw new ProxyParseError(`certificate ${index + 1} has validity dates that do not parse`);
  }

  let extensions: ReturnType<typeof certificateExtensions>;
  try {
    extensions = certificateExtensions(proxy.raw);
  } catch (error) {
    throw new ProxyParseError(`the proxy certificate's extensions do not parse: ${(error as Error).message}`);
  }
  const vomsExtension = extensions.get(VOMS_AC_OID);
  const voms: VomsAttributes = vomsExtension
    ? (({ fqans, notBefore, notAfter }) => ({ fqans, notBefore, notAfter }))(
        scanVomsExtension(vomsExtension.value),
      )
    : { fqans: [], notBefore: undefined, notAfter: undefined };

  const keyBlock = blocks.find((b) => /PRIVATE KEY$/.test(b.type));
  let key: KeyObject | undefined;
  if (keyBlock) {
    try {
      key = createPrivateKey(keyBlock.text);
    } catch (error) {
      throw new ProxyParseError(`the private key does not parse: ${(error as Error).message}`);
    }
  }

  let expiresFirst = first;
  let startsLast = first;
  for (const info of chain) {
    if (info.notAfter < expiresFirst.notAfter) expiresFirst = info;
    if (info.notBefore > startsLast.notBefore) startsLast = info;
  }
  return {
    ...first,
    looksLikeProxy: looksLikeProxy(first.subject, first.issuer),
    proxyCertInfo: PROXY_CERT_INFO_OIDS.some((oid) => extensions.has(oid)),
    chain,
    hasPrivateKey: key !== undefined,
    keyMatches: key ? proxy.checkPrivateKey(key) : undefined,
    chainNotAfter: expiresFirst.notAfter,
    expiresFirst: expiresFirst.subject,
    chainNotBefore: startsLast.notBefore,
    startsLast: startsLast.subject,
    voms,
  };
}

/** "3 d 4 h", "2 h 5 min", "45 s": the largest unit and the next one when it is not zero. */
export function formatDuration(ms: number): string {
  let seconds = Math.round(Math.abs(ms) / 1000);
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ];
  const counts = units.map(([name, size]) => {
    const count = Math.floor(seconds / size);
    seconds -= count * size;
    return `${count} ${name}`;
  });
  const first = counts.findIndex((text) => !text.startsWith('0 '));
  if (first < 0) return '0 s';
  const next = counts[first + 1];
  return next !== undefined && !next.startsWith('0 ') ? `${counts[first]} ${next}` : `${counts[first]}`;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** Splits an FQAN into its group (/vo[/sub…]) and role ('NULL' when absent). */
export function parseFqan(fqan: string): { group: string; role: string } {
  const match = /^(.*?)(?:\/Role=([^/]+))?(?:\/Capability=[^/]+)?$/.exec(fqan.trim());
  return { group: match?.[1] ?? fqan, role: match?.[2] ?? 'NULL' };
}

/** The FQAN lines of `voms-proxy-info --fqan` output. */
export function parseFqanOutput(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('/'));
}

function fqanGrants(fqan: string, vo: string | undefined, role: string | undefined): boolean {
  const { group, role: granted } = parseFqan(fqan);
  if (vo !== undefined && group !== `/${vo}` && !group.startsWith(`/${vo}/`)) return false;
  return role === undefined || granted === role;
}

export interface CheckProxyOptions {
  file: string;
  /** The file's text; undefined when the file does not exist. */
  pem: string | undefined;
  now: Date;
  jobTimeoutSeconds: number;
  /** Extra lifetime required past the job timeout (queueing, output staging); default 0. */
  marginSeconds?: number;
  /** A VOMS role the proxy must carry, e.g. 'sgm' (spec: proxy.vomsRole). A role always needs VOMS attributes. */
  requiredRole?: string;
  /** The VO the role must be in (and, without requiredRole, any membership of it is required: see requireVoms). */
  vo?: string;
  /**
   * Whether VOMS attributes are required when no role is (spec: proxy.requireVoms): membership of `vo`, or of any
   * VO without one. Default: true when `vo` is set. False accepts a plain proxy (e.g. from a test CA).
   */
  requireVoms?: boolean;
  /** Output of `voms-proxy-info --fqan` for the file, or undefined when the command is not installed. */
  vomsProxyInfo?: () => Promise<string | undefined>;
}

/** Whether the check asks for VOMS attributes at all. */
function vomsRequired(options: CheckProxyOptions): boolean {
  return options.requiredRole !== undefined || (options.requireVoms ?? options.vo !== undefined);
}

function renewHint(options: CheckProxyOptions): string {
  const vo = options.vo ?? 'VO';
  const role = options.requiredRole ?? 'sgm';
  const needed = options.jobTimeoutSeconds + (options.marginSeconds ?? 0);
  const hours = Math.max(12, Math.ceil(needed / 3600) + 1);
  // Told that VOMS attributes are not needed (a test CA without a VOMS server): a plain proxy.
  if (options.requireVoms === false && options.requiredRole === undefined)
    return `voms-proxy-init --valid ${hours}:00`;
  return `voms-proxy-init --voms ${vo}:/${vo}/Role=${role} --valid ${hours}:00`;
}

/** Checks a proxy file's text; the first problem found, or undefined when the proxy will do. */
export async function checkProxy(options: CheckProxyOptions): Promise<CredentialProblem | undefined> {
  return (await assessProxy(options)).problem;
}

async function assessProxy(
  options: CheckProxyOptions,
): Promise<{ problem: CredentialProblem; info?: ProxyInfo } | { problem: undefined; info: ProxyInfo }> {
  const { file, now } = options;
  const hint = renewHint(options);
  if (options.pem === undefined) {
    return {
      problem: {
        kind: 'missing',
        file,
        message:
          `no X.509 proxy at ${file} (taken from X509_USER_PROXY, else /tmp/x509up_u<uid>); ` +
          `create one with: ${hint}`,
      },
    };
  }
  let info: ProxyInfo;
  try {
    info = inspectProxy(options.pem);
  } catch (error) {
    const reason = error instanceof ProxyParseError ? error.message : String(error);
    return {
      problem: {
        kind: 'unreadable',
        file,
        message: `${file} is not a usable X.509 proxy: ${reason}; create a new one with: ${hint}`,
      },
    };
  }
  const unusable = (reason: string, kind: CredentialProblemKind = 'unreadable') => ({
    problem: {
      kind,
      file,
      message: `${file} is not a usable X.509 proxy: ${reason}; create one with: ${hint}`,
    },
    info,
  });
  if (!info.hasPrivateKey) return unusable('it holds no private key');
  if (info.keyMatches === false) return unusable('its private key does not belong to its first certificate');
  if (!info.looksLikeProxy && !info.proxyCertInfo)
    return unusable(
      `its first certificate (${info.subject}, issued by ${info.issuer}) is not a proxy certificate`,
      'not-a-proxy',
    );

  const whose =
    info.expiresFirst === info.subject ? '' : ` (its chain certificate ${info.expiresFirst} ends first)`;
  if (info.chainNotBefore > now) {
    return {
      problem: {
        kind: 'not-yet-valid',
        file,
        message:
          `X.509 proxy ${file} is not valid until ${iso(info.chainNotBefore)} ` +
          `(in ${formatDuration(info.chainNotBefore.getTime() - now.getTime())})` +
          (info.startsLast === info.subject
            ? ''
            : ` (its chain certificate ${info.startsLast} starts last)`) +
          `; is this machine's clock right?`,
      },
      info,
    };
  }
  const expiresAt = info.chainNotAfter;
  if (expiresAt <= now) {
    return {
      problem: {
        kind: 'expired',
        file,
        expiresAt,
        message:
          `X.509 proxy ${file} expired at ${iso(expiresAt)} ` +
          `(${formatDuration(now.getTime() - expiresAt.getTime())} ago)${whose}; renew it with: ${hint}`,
      },
      info,
    };
  }
  const marginSeconds = options.marginSeconds ?? 0;
  const neededUntil = new Date(now.getTime() + (options.jobTimeoutSeconds + marginSeconds) * 1000);
  const need =
    `job timeout ${formatDuration(options.jobTimeoutSeconds * 1000)}` +
    (marginSeconds > 0 ? ` + margin ${formatDuration(marginSeconds * 1000)}` : '');
  if (expiresAt < neededUntil) {
    return {
      problem: {
        kind: 'expiring',
        file,
        expiresAt,
        message:
          `X.509 proxy ${file} expires at ${iso(expiresAt)} ` +
          `(in ${formatDuration(expiresAt.getTime() - now.getTime())})${whose}, before a job submitted now ` +
          `could end: ${need} needs it valid until ${iso(neededUntil)}, ` +
          `${formatDuration(neededUntil.getTime() - expiresAt.getTime())} short; renew it with: ${hint}`,
      },
      info,
    };
  }

  if (!vomsRequired(options)) return { problem: undefined, info };
  const fromTool = options.vomsProxyInfo ? await options.vomsProxyInfo() : undefined;
  const toolFqans = fromTool !== undefined ? parseFqanOutput(fromTool) : [];
  const [fqans, fqanSource] =
    toolFqans.length > 0
      ? [toolFqans, 'voms-proxy-info' as const]
      : [info.voms.fqans, 'certificate' as const];
  const wanted =
    `${options.vo !== undefined ? `/${options.vo}` : '/<any VO>'}` +
    (options.requiredRole !== undefined ? `/Role=${options.requiredRole}` : '');
  if (!fqans.some((fqan) => fqanGrants(fqan, options.vo, options.requiredRole))) {
    const where = fqanSource === 'voms-proxy-info' ? 'voms-proxy-info --fqan' : "the proxy's VOMS extension";
    // Membership alone was asked for, and the proxy has no VOMS attributes at all: say how to do without them.
    const plainProxy =
      options.requiredRole === undefined && fqans.length === 0
        ? ' (or, to accept a proxy without VOMS attributes, e.g. from a test CA, set proxy.requireVoms: false ' +
          'in the spec)'
        : '';
    return {
      problem: {
        kind: 'role-missing',
        file,
        fqans,
        fqanSource,
        message:
          `X.509 proxy ${file} does not carry the VOMS attribute ${wanted} the job needs; ` +
          `FQANs found (from ${where}): ${fqans.length > 0 ? fqans.join(', ') : 'none'}; ` +
          `create one with: ${hint}${plainProxy}`,
      },
      info,
    };
  }
  const acEnd = info.voms.notAfter;
  if (fqanSource === 'certificate' && acEnd !== undefined && acEnd < neededUntil) {
    const when =
      acEnd <= now
        ? `ended at ${iso(acEnd)} (${formatDuration(now.getTime() - acEnd.getTime())} ago)`
        : `end at ${iso(acEnd)} (in ${formatDuration(acEnd.getTime() - now.getTime())}), before a job ` +
          `submitted now could end (${need}, until ${iso(neededUntil)})`;
    return {
      problem: {
        kind: 'voms-expiring',
        file,
        expiresAt: acEnd,
        fqans,
        fqanSource,
        message: `the VOMS attributes of X.509 proxy ${file} ${when}; renew them with: ${hint}`,
      },
      info,
    };
  }
  return { problem: undefined, info };
}

/**
 * `voms-proxy-info --fqan --file <file>` (argv, no shell). Undefined when the command is not installed or fails
 * (e.g. no VOMS extension, or no vomsdir to verify it against): the caller then scans the certificate itself.
 */
export async function defaultVomsProxyInfo(file: string): Promise<string | undefined> {
  try {
    const result = await execa('voms-proxy-info', ['--fqan', '--file', file], {
      reject: false,
      timeout: 30_000,
    });
    if (result.failed || result.exitCode !== 0) return undefined;
    return typeof result.stdout === 'string' ? result.stdout : undefined;
  } catch {
    return undefined;
  }
}

export interface RequireValidProxyOptions
  extends Omit<CheckProxyOptions, 'file' | 'pem' | 'now' | 'vomsProxyInfo'> {
  /** Default: findProxyFile(env, uid). */
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
  uid?: number;
  now?: Date;
  /** Default: defaultVomsProxyInfo(file), tried only when VOMS attributes are required. */
  vomsProxyInfo?: () => Promise<string | undefined>;
}

/** A proxy is a few certificates and a key: a few KiB. */
const MAX_PROXY_BYTES = 1024 * 1024;

/** Reads and checks the proxy; returns what it found, or throws CredentialError naming the file and the times. */
export async function requireValidProxy(
  options: RequireValidProxyOptions,
): Promise<ProxyInfo & { file: string }> {
  const file =
    options.file ?? findProxyFile(options.env ?? process.env, options.uid ?? process.getuid?.() ?? 0);
  let pem: string | undefined;
  try {
    pem = await readTextFile(file, 'the X.509 proxy', MAX_PROXY_BYTES);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') {
      throw new CredentialError({ kind: 'unreadable', file, message: (error as Error).message });
    }
  }
  const result = await assessProxy({
    ...options,
    file,
    pem,
    now: options.now ?? new Date(),
    vomsProxyInfo: options.vomsProxyInfo ?? (() => defaultVomsProxyInfo(file)),
  });
  if (result.problem) throw new CredentialError(result.problem);
  return { ...result.info, file };
}
