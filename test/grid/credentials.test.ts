/**
 * The X.509 proxy check against real certificates: a throw-away CA, a user certificate and RFC 3820 proxies signed
 * by the user key are made with the openssl CLI (./test-proxies.ts) and parsed by node:crypto.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scanVomsExtension } from '../../src/grid/credentials/der.js';
import {
  type CheckProxyOptions,
  CredentialError,
  checkProxy,
  defaultVomsProxyInfo,
  findProxyFile,
  formatDuration,
  inspectProxy,
  parseFqan,
  parseFqanOutput,
  requireValidProxy,
} from '../../src/grid/credentials.js';
import {
  createTestProxies,
  HOUR,
  MINUTE,
  type TestProxies,
  USER_DN,
  type Voms,
  wholeSecondsNow,
} from './test-proxies.js';

const now = wholeSecondsNow();
const at = (offsetMs: number): Date => new Date(now.getTime() + offsetMs);
let proxies: TestProxies;
const makeProxy: TestProxies['makeProxy'] = (options) => proxies.makeProxy(options);

const sgm: Voms = {
  fqans: ['/pvier/Role=sgm/Capability=NULL', '/pvier/Role=NULL/Capability=NULL'],
  start: at(-HOUR),
  end: at(12 * HOUR),
};
let valid: { file: string; pem: string };
let plain: { file: string; pem: string };
let userOnly: string;

beforeAll(async () => {
  proxies = await createTestProxies(now);
  valid = await makeProxy({ start: at(-HOUR), end: at(12 * HOUR), voms: sgm });
  plain = await makeProxy({ start: at(-HOUR), end: at(12 * HOUR) });
  userOnly = proxies.userOnly;
});

afterAll(async () => {
  await proxies?.cleanup();
});

function options(overrides: Partial<CheckProxyOptions> & Pick<CheckProxyOptions, 'pem'>): CheckProxyOptions {
  return { file: '/tmp/x509up_u1234', now, jobTimeoutSeconds: 2 * 3600, ...overrides };
}

describe('findProxyFile', () => {
  it('takes X509_USER_PROXY, else /tmp/x509up_u<uid>', () => {
    expect(findProxyFile({ X509_USER_PROXY: '/home/sam/.proxy' }, 1234)).toBe('/home/sam/.proxy');
    expect(findProxyFile({}, 1234)).toBe('/tmp/x509up_u1234');
    expect(findProxyFile({ X509_USER_PROXY: '' }, 0)).toBe('/tmp/x509up_u0');
  });
});

describe('inspectProxy', () => {
  it('reads subject, issuer, validity, proxy shape, key and VOMS attributes from a real proxy file', () => {
    const info = inspectProxy(valid.pem);
    expect(info.subject).toMatch(new RegExp(`^${USER_DN}/CN=\\d+$`));
    expect(info.issuer).toBe(USER_DN);
    expect(info.notBefore).toEqual(at(-HOUR));
    expect(info.notAfter).toEqual(at(12 * HOUR));
    expect(info.looksLikeProxy).toBe(true);
    expect(info.proxyCertInfo).toBe(true);
    expect(info.hasPrivateKey).toBe(true);
    expect(info.keyMatches).toBe(true);
    expect(info.chain.map((c) => c.subject)).toEqual([info.subject, USER_DN]);
    expect(info.chain[1]?.issuer).toBe('/DC=test/CN=Test CA');
    expect(info.chainNotAfter).toEqual(at(12 * HOUR));
    expect(info.voms).toEqual({ fqans: sgm.fqans, notBefore: sgm.start, notAfter: sgm.end });
  });

  it('returns no FQANs for a proxy without a VOMS extension', () => {
    expect(inspectProxy(plain.pem).voms).toEqual({ fqans: [], notBefore: undefined, notAfter: undefined });
  });

  it('sees that a user certificate is not a proxy', () => {
    const info = inspectProxy(userOnly);
    expect(info.looksLikeProxy).toBe(false);
    expect(info.proxyCertInfo).toBe(false);
  });

  it('throws on text that is not a certificate', () => {
    expect(() => inspectProxy('hello\n')).toThrow(/no PEM CERTIFICATE/);
    expect(() => inspectProxy('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(
      /does not parse/,
    );
  });
});

describe('checkProxy', () => {
  it('accepts a valid proxy that outlives the job', async () => {
    expect(await checkProxy(options({ pem: valid.pem }))).toBeUndefined();
    expect(
      await checkProxy(options({ pem: plain.pem, jobTimeoutSeconds: 11 * 3600, marginSeconds: 30 * 60 })),
    ).toBeUndefined();
  });

  it('a missing file: names it and the command that makes one', async () => {
    const problem = await checkProxy(options({ pem: undefined, vo: 'pvier', requiredRole: 'sgm' }));
    expect(problem?.kind).toBe('missing');
    expect(problem?.message).toContain('/tmp/x509up_u1234');
    expect(problem?.message).toContain('voms-proxy-init --voms pvier:/pvier/Role=sgm --valid 12:00');
  });

  it('garbage, a broken certificate, a file without a key, a user certificate: unusable', async () => {
    for (const [pem, kind, words] of [
      ['not a proxy at all\n', 'unreadable', /no PEM CERTIFICATE/],
      ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'unreadable', /does not parse/],
      [
        valid.pem.replace(/-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----\n/, ''),
        'unreadable',
        /no private key/,
      ],
      [userOnly, 'not-a-proxy', /is not a proxy certificate/],
    ] as const) {
      const problem = await checkProxy(options({ pem }));
      expect(problem?.kind).toBe(kind);
      expect(problem?.message).toMatch(words);
      expect(problem?.message).toContain('/tmp/x509up_u1234 is not a usable X.509 proxy');
    }
  });

  it('a key that belongs to another certificate', async () => {
    const pem = valid.pem.replace(
      /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----\n/,
      proxies.userKey,
    );
    expect((await checkProxy(options({ pem })))?.message).toMatch(/does not belong/);
  });

  it('an expired proxy: names the file and the expiry in ISO and in words', async () => {
    const expired = await makeProxy({ start: at(-13 * HOUR), end: at(-HOUR - 5 * MINUTE) });
    const problem = await checkProxy(options({ file: expired.file, pem: expired.pem }));
    expect(problem?.kind).toBe('expired');
    expect(problem?.expiresAt).toEqual(at(-HOUR - 5 * MINUTE));
    expect(problem?.message).toContain(expired.file);
    expect(problem?.message).toContain(
      `expired at ${at(-HOUR - 5 * MINUTE)
        .toISOString()
        .replace('.000Z', 'Z')}`,
    );
    expect(problem?.message).toContain('(1 h 5 min ago)');
  });

  it('a proxy that ends before the job timeout would: names expiry, timeout and the shortfall', async () => {
    const short = await makeProxy({ start: at(-HOUR), end: at(30 * MINUTE) });
    const problem = await checkProxy(options({ file: short.file, pem: short.pem, marginSeconds: 600 }));
    expect(problem?.kind).toBe('expiring');
    const message = problem?.message ?? '';
    expect(message).toContain(short.file);
    expect(message).toContain(
      `expires at ${at(30 * MINUTE)
        .toISOString()
        .replace('.000Z', 'Z')} (in 30 min)`,
    );
    expect(message).toContain('job timeout 2 h + margin 10 min');
    expect(message).toContain('1 h 40 min short');
    expect(message).toContain('--valid 12:00');
    // The same proxy does for a short job.
    expect(await checkProxy(options({ pem: short.pem, jobTimeoutSeconds: 20 * 60 }))).toBeUndefined();
  });

  it('a user certificate in the chain that ends before the proxy sets the expiry', async () => {
    const chained = await makeProxy({ start: at(-HOUR), end: at(12 * HOUR), user: 'shortUser' });
    const problem = await checkProxy(options({ pem: chained.pem }));
    expect(problem?.kind).toBe('expiring');
    expect(problem?.expiresAt).toEqual(at(HOUR));
    expect(problem?.message).toContain(`its chain certificate ${USER_DN} ends first`);
  });

  it('a proxy that is not valid yet', async () => {
    const future = await makeProxy({ start: at(2 * HOUR), end: at(14 * HOUR) });
    const problem = await checkProxy(options({ pem: future.pem }));
    expect(problem?.kind).toBe('not-yet-valid');
    expect(problem?.message).toContain('(in 2 h)');
  });

  describe('VOMS role', () => {
    it('finds Role=sgm in the proxy itself when voms-proxy-info is not installed', async () => {
      const vomsProxyInfo = vi.fn(async () => undefined);
      expect(
        await checkProxy(options({ pem: valid.pem, vo: 'pvier', requiredRole: 'sgm', vomsProxyInfo })),
      ).toBeUndefined();
      expect(vomsProxyInfo).toHaveBeenCalledOnce();
    });

    it('names the FQANs found and the role required when the role is missing', async () => {
      const member = await makeProxy({
        start: at(-HOUR),
        end: at(12 * HOUR),
        voms: {
          ...sgm,
          fqans: ['/pvier/Role=NULL/Capability=NULL', '/pvier/dutch/Role=NULL/Capability=NULL'],
        },
      });
      const problem = await checkProxy(options({ pem: member.pem, vo: 'pvier', requiredRole: 'sgm' }));
      expect(problem?.kind).toBe('role-missing');
      expect(problem?.fqanSource).toBe('certificate');
      expect(problem?.fqans).toEqual([
        '/pvier/Role=NULL/Capability=NULL',
        '/pvier/dutch/Role=NULL/Capability=NULL',
      ]);
      expect(problem?.message).toContain('/pvier/Role=sgm');
      expect(problem?.message).toContain(
        "from the proxy's VOMS extension): /pvier/Role=NULL/Capability=NULL, ",
      );
      // Another VO's sgm does not count either.
      expect((await checkProxy(options({ pem: valid.pem, vo: 'atlas', requiredRole: 'sgm' })))?.kind).toBe(
        'role-missing',
      );
    });

    it('a proxy without VOMS attributes has no role', async () => {
      const problem = await checkProxy(options({ pem: plain.pem, vo: 'pvier', requiredRole: 'sgm' }));
      expect(problem?.kind).toBe('role-missing');
      expect(problem?.message).toContain("FQANs found (from the proxy's VOMS extension): none");
    });

    it('takes the FQANs from voms-proxy-info output when it answers', async () => {
      const granted = async () => '/pvier/Role=sgm/Capability=NULL\n/pvier/Role=NULL/Capability=NULL\n';
      expect(
        await checkProxy(
          options({ pem: plain.pem, vo: 'pvier', requiredRole: 'sgm', vomsProxyInfo: granted }),
        ),
      ).toBeUndefined();
      const denied = async () => '/pvier/Role=NULL/Capability=NULL\n';
      const problem = await checkProxy(
        options({ pem: valid.pem, vo: 'pvier', requiredRole: 'sgm', vomsProxyInfo: denied }),
      );
      expect(problem?.kind).toBe('role-missing');
      expect(problem?.fqanSource).toBe('voms-proxy-info');
      expect(problem?.message).toContain('from voms-proxy-info --fqan): /pvier/Role=NULL/Capability=NULL');
    });

    it('does not ask voms-proxy-info when no role or VO is required', async () => {
      const vomsProxyInfo = vi.fn(async () => '');
      expect(await checkProxy(options({ pem: plain.pem, vomsProxyInfo }))).toBeUndefined();
      expect(vomsProxyInfo).not.toHaveBeenCalled();
    });

    it('VOMS attributes that end before the job would', async () => {
      const shortAc = await makeProxy({
        start: at(-HOUR),
        end: at(12 * HOUR),
        voms: { ...sgm, end: at(HOUR) },
      });
      const problem = await checkProxy(options({ pem: shortAc.pem, vo: 'pvier', requiredRole: 'sgm' }));
      expect(problem?.kind).toBe('voms-expiring');
      expect(problem?.expiresAt).toEqual(at(HOUR));
      expect(problem?.message).toContain('(in 1 h)');
    });
  });

  describe("VOMS membership (the spec's proxy.requireVoms)", () => {
    const noTool = async () => undefined;

    it('by default a VO asks for its membership: a plain proxy is refused, saying how to accept it', async () => {
      const problem = await checkProxy(
        options({ file: plain.file, pem: plain.pem, vo: 'pvier', vomsProxyInfo: noTool }),
      );
      expect(problem?.kind).toBe('role-missing');
      expect(problem?.message).toBe(
        `X.509 proxy ${plain.file} does not carry the VOMS attribute /pvier the job needs; ` +
          "FQANs found (from the proxy's VOMS extension): none; " +
          'create one with: voms-proxy-init --voms pvier:/pvier/Role=sgm --valid 12:00 ' +
          '(or, to accept a proxy without VOMS attributes, e.g. from a test CA, set proxy.requireVoms: false ' +
          'in the spec)',
      );
      // requireVoms: true says the same as the default.
      expect(
        (await checkProxy(options({ pem: plain.pem, vo: 'pvier', requireVoms: true, vomsProxyInfo: noTool })))
          ?.kind,
      ).toBe('role-missing');
      // Membership of the VO is enough when no role is asked for.
      expect(
        await checkProxy(options({ pem: valid.pem, vo: 'pvier', vomsProxyInfo: noTool })),
      ).toBeUndefined();
    });

    it('requireVoms: false accepts a plain proxy of a VO site, and asks neither voms-proxy-info nor the AC', async () => {
      const vomsProxyInfo = vi.fn(async () => undefined);
      expect(
        await checkProxy(options({ pem: plain.pem, vo: 'pvier', requireVoms: false, vomsProxyInfo })),
      ).toBeUndefined();
      expect(vomsProxyInfo).not.toHaveBeenCalled();
      // VOMS attributes that end too soon do not matter when none are required.
      const shortAc = await makeProxy({
        start: at(-HOUR),
        end: at(12 * HOUR),
        voms: { ...sgm, end: at(HOUR) },
      });
      expect(
        await checkProxy(options({ pem: shortAc.pem, vo: 'pvier', requireVoms: false, vomsProxyInfo })),
      ).toBeUndefined();
      // Its renewal hint makes a plain proxy, which a test CA without a VOMS server can do.
      const missing = await checkProxy(options({ pem: undefined, vo: 'pvier', requireVoms: false }));
      expect(missing?.message).toContain('create one with: voms-proxy-init --valid 12:00');
      expect(missing?.message).not.toContain('--voms');
      // The validity checks still apply.
      const expired = await makeProxy({ start: at(-13 * HOUR), end: at(-HOUR) });
      expect((await checkProxy(options({ pem: expired.pem, vo: 'pvier', requireVoms: false })))?.kind).toBe(
        'expired',
      );
    });

    it('a role is a VOMS attribute: it is checked even with requireVoms false', async () => {
      const problem = await checkProxy(
        options({
          pem: plain.pem,
          vo: 'pvier',
          requiredRole: 'sgm',
          requireVoms: false,
          vomsProxyInfo: noTool,
        }),
      );
      expect(problem?.kind).toBe('role-missing');
      expect(problem?.message).toContain('voms-proxy-init --voms pvier:/pvier/Role=sgm');
      expect(problem?.message).not.toContain('requireVoms');
    });

    it('requireVoms without a VO asks for VOMS attributes of any VO', async () => {
      const problem = await checkProxy(options({ pem: plain.pem, requireVoms: true, vomsProxyInfo: noTool }));
      expect(problem?.kind).toBe('role-missing');
      expect(problem?.message).toContain('the VOMS attribute /<any VO> the job needs');
      expect(
        await checkProxy(options({ pem: valid.pem, requireVoms: true, vomsProxyInfo: noTool })),
      ).toBeUndefined();
    });
  });
});

describe('requireValidProxy', () => {
  it('reads the file named by X509_USER_PROXY', async () => {
    const info = await requireValidProxy({
      env: { X509_USER_PROXY: valid.file },
      uid: 1234,
      now,
      jobTimeoutSeconds: 3600,
      vo: 'pvier',
      requiredRole: 'sgm',
      vomsProxyInfo: async () => undefined,
    });
    expect(info.file).toBe(valid.file);
    expect(info.voms.fqans).toContain('/pvier/Role=sgm/Capability=NULL');
  });

  it('falls back to /tmp/x509up_u<uid> and throws a CredentialError naming it', async () => {
    const uid = 3_999_000_000 + Math.floor(Math.random() * 1_000_000);
    const error = await requireValidProxy({ env: {}, uid, now, jobTimeoutSeconds: 3600 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as CredentialError).problem.kind).toBe('missing');
    expect((error as CredentialError).problem.file).toBe(`/tmp/x509up_u${uid}`);
    expect((error as CredentialError).message).toContain(`/tmp/x509up_u${uid}`);
  });

  it('takes what the spec asks for: a role (vomsRole), a margin (minValidity), membership or not (requireVoms)', async () => {
    const noTool = async () => undefined;
    const base = { file: valid.file, now, jobTimeoutSeconds: 3600, vo: 'pvier', vomsProxyInfo: noTool };
    // The proxy ends in 12 h: a 1 h job with 10 h of margin fits, with 11 h 30 min it does not.
    await expect(
      requireValidProxy({ ...base, requiredRole: 'sgm', marginSeconds: 10 * 3600, requireVoms: true }),
    ).resolves.toMatchObject({ file: valid.file });
    const error = await requireValidProxy({ ...base, marginSeconds: 11.5 * 3600 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialError);
    const expiry = at(12 * HOUR)
      .toISOString()
      .replace('.000Z', 'Z');
    expect((error as CredentialError).problem).toMatchObject({ kind: 'expiring', file: valid.file });
    expect((error as CredentialError).message).toContain(`X.509 proxy ${valid.file} expires at ${expiry}`);
    expect((error as CredentialError).message).toContain('job timeout 1 h + margin 11 h 30 min');
    expect((error as CredentialError).message).toContain('30 min short');
    expect((error as CredentialError).message).toContain('--valid 14:00');
    // Another role than the proxy's is refused, naming the command that makes the right proxy.
    await expect(requireValidProxy({ ...base, requiredRole: 'lcgadmin' })).rejects.toThrow(
      /does not carry the VOMS attribute \/pvier\/Role=lcgadmin .*voms-proxy-init --voms pvier:\/pvier\/Role=lcgadmin/,
    );
    // requireVoms false lets a plain proxy through.
    await expect(
      requireValidProxy({ ...base, file: plain.file, requireVoms: false, marginSeconds: 0 }),
    ).resolves.toMatchObject({ file: plain.file });
  });

  it('throws for an expired proxy', async () => {
    const expired = await makeProxy({ start: at(-13 * HOUR), end: at(-HOUR) });
    await expect(requireValidProxy({ file: expired.file, now, jobTimeoutSeconds: 60 })).rejects.toThrow(
      /expired at .* \(1 h ago\)/,
    );
  });
});

describe('helpers', () => {
  it('voms-proxy-info: undefined when the command is not installed', async () => {
    const installed = await execa('sh', ['-c', 'command -v voms-proxy-info'], { reject: false });
    if (installed.exitCode !== 0) expect(await defaultVomsProxyInfo(valid.file)).toBeUndefined();
  });

  it('parses FQANs and their output', () => {
    expect(parseFqan('/pvier/Role=sgm/Capability=NULL')).toEqual({ group: '/pvier', role: 'sgm' });
    expect(parseFqan('/pvier/dutch/Role=sgm')).toEqual({ group: '/pvier/dutch', role: 'sgm' });
    expect(parseFqan('/pvier')).toEqual({ group: '/pvier', role: 'NULL' });
    expect(parseFqanOutput('/pvier/Role=sgm/Capability=NULL\r\nWARNING: x\n /pvier \n')).toEqual([
      '/pvier/Role=sgm/Capability=NULL',
      '/pvier',
    ]);
  });

  it('words for durations', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(HOUR + 5 * MINUTE + 3_000)).toBe('1 h 5 min');
    expect(formatDuration(2 * HOUR + 3_000)).toBe('2 h');
    expect(formatDuration(3 * 24 * HOUR + 4 * HOUR)).toBe('3 d 4 h');
  });

  it('a VOMS extension that is not DER still yields FQAN-shaped strings, by a byte scan', () => {
    const bytes = Buffer.from('\x30\xff\x01junk/pvier/Role=sgm/Capability=NULL\x00more', 'latin1');
    expect(scanVomsExtension(bytes)).toMatchObject({
      fqans: ['/pvier/Role=sgm/Capability=NULL'],
      method: 'bytes',
    });
  });
});
