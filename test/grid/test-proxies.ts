/**
 * Real X.509 proxies for tests of the proxy check: a throw-away CA, a user certificate and RFC 3820 proxies signed
 * by the user key, made with the openssl CLI (`openssl ca`, which takes exact start and end dates) in a temp
 * directory. The VOMS extension is a DER structure shaped like a VOMS attribute certificate (holder, validity, an
 * attribute with the FQANs as OCTET STRINGs, a signature), without a real signature.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
export const USER_DN = '/DC=test/DC=gridpkg/O=Test Grid/CN=Sam Software Manager';

/** Now, in whole seconds: certificates carry whole seconds. */
export function wholeSecondsNow(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

const opensslTime = (date: Date): string => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

export interface Voms {
  fqans: string[];
  start: Date;
  end: Date;
}

export interface TestProxies {
  dir: string;
  /** Writes a proxy file (proxy certificate, proxy key, user certificate, as voms-proxy-init does). */
  makeProxy(options: {
    start: Date;
    end: Date;
    voms?: Voms;
    /** The user certificate that signs it: `shortUser` ends an hour after `now`. */
    user?: 'user' | 'shortUser';
  }): Promise<{ file: string; pem: string }>;
  /** The user certificate and its key: not a proxy. */
  userOnly: string;
  /** The user's private key (PEM). */
  userKey: string;
  cleanup(): Promise<void>;
}

const CA_CONFIG = `
[ ca ]
default_ca = testca
[ testca ]
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
[ anything ]
DC = optional
O = optional
CN = optional
`;

/** An extension section whose VOMS AC has the shape of a real one (RFC 5755 AttributeCertificate, VOMS attribute). */
function vomsSections(voms: Voms): string {
  const fqans = voms.fqans.map((fqan, i) => `f${i} = OCTETSTRING:${fqan}`).join('\n');
  return `
1.3.6.1.4.1.8005.100.100.5 = ASN1:SEQUENCE:acs
[ acs ]
ac = SEQUENCE:ac
[ ac ]
info = SEQUENCE:acinfo
alg = SEQUENCE:alg
sig = FORMAT:HEX,BITSTRING:00ff00ff
[ acinfo ]
version = INTEGER:1
holder = SEQUENCE:holder
alg = SEQUENCE:alg
serial = INTEGER:42
validity = SEQUENCE:validity
attributes = SEQUENCE:attributes
[ holder ]
name = UTF8String:${USER_DN}
[ alg ]
oid = OID:sha256WithRSAEncryption
[ validity ]
notBefore = GENTIME:${opensslTime(voms.start)}
notAfter = GENTIME:${opensslTime(voms.end)}
[ attributes ]
a = SEQUENCE:attribute
[ attribute ]
type = OID:1.3.6.1.4.1.8005.100.100.4
values = SET:values
[ values ]
v = SEQUENCE:ietf
[ ietf ]
authority = IA5STRING:pvier://voms.example.org:15000
list = SEQUENCE:fqans
[ fqans ]
${fqans}
`;
}

function proxyExtensions(voms: Voms | undefined): string {
  const head = `[ ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
proxyCertInfo = critical,language:id-ppl-inheritAll
`;
  return voms ? head + vomsSections(voms) : head;
}

/** Makes the CA and the user certificates (valid from 30 days before `now`) in a new temp directory. */
export async function createTestProxies(now: Date): Promise<TestProxies> {
  const at = (offsetMs: number): Date => new Date(now.getTime() + offsetMs);
  const dir = await mkdtemp(join(tmpdir(), 'gridpkg-proxies-'));
  let counter = 0;
  const openssl = async (args: string[]): Promise<void> => {
    await execa('openssl', args, { cwd: dir });
  };
  const sign = async (options: {
    csr: string;
    out: string;
    issuerCert: string;
    issuerKey: string;
    subject: string;
    start: Date;
    end: Date;
    extensions: string;
  }): Promise<void> => {
    const extfile = `ext-${++counter}.cnf`;
    await writeFile(join(dir, extfile), options.extensions);
    await openssl([
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-notext',
      '-preserveDN',
      '-subj',
      options.subject,
      '-cert',
      options.issuerCert,
      '-keyfile',
      options.issuerKey,
      '-in',
      options.csr,
      '-out',
      options.out,
      '-extfile',
      extfile,
      '-extensions',
      'ext',
      '-startdate',
      opensslTime(options.start),
      '-enddate',
      opensslTime(options.end),
    ]);
  };

  await mkdir(join(dir, 'db'));
  await writeFile(join(dir, 'db', 'index.txt'), '');
  await writeFile(join(dir, 'db', 'serial'), '01\n');
  await writeFile(join(dir, 'ca.cnf'), CA_CONFIG);
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    '/DC=test/CN=Test CA',
  ]);
  await openssl(['req', ...ecKey, '-keyout', 'user.key', '-out', 'user.csr', '-subj', USER_DN]);
  await openssl(['req', ...ecKey, '-keyout', 'proxy.key', '-out', 'proxy.csr', '-subj', `${USER_DN}/CN=1`]);
  const userExtensions =
    '[ ext ]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n';
  const user = { csr: 'user.csr', issuerCert: 'ca.pem', issuerKey: 'ca.key', subject: USER_DN };
  await sign({
    ...user,
    out: 'user.pem',
    start: at(-30 * 24 * HOUR),
    end: at(300 * 24 * HOUR),
    extensions: userExtensions,
  });
  await sign({
    ...user,
    out: 'shortUser.pem',
    start: at(-30 * 24 * HOUR),
    end: at(HOUR),
    extensions: userExtensions,
  });
  const userKey = await readFile(join(dir, 'user.key'), 'utf8');
  const userOnly = (await readFile(join(dir, 'user.pem'), 'utf8')) + userKey;

  return {
    dir,
    userOnly,
    userKey,
    async makeProxy(options) {
      const n = ++counter;
      const issuer = options.user ?? 'user';
      await sign({
        csr: 'proxy.csr',
        out: `proxy-${n}.pem`,
        issuerCert: `${issuer}.pem`,
        issuerKey: 'user.key',
        subject: `${USER_DN}/CN=${100_000 + n}`,
        start: options.start,
        end: options.end,
        extensions: proxyExtensions(options.voms),
      });
      const parts = await Promise.all(
        [`proxy-${n}.pem`, 'proxy.key', `${issuer}.pem`].map((name) => readFile(join(dir, name), 'utf8')),
      );
      const pem = parts.join('');
      const file = join(dir, `x509up_${n}`);
      await writeFile(file, pem, { mode: 0o600 });
      return { file, pem };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
