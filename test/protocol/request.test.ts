import { describe, expect, it } from 'vitest';
import { encodeRequest, ProtocolError } from '../../src/grid/protocol/index.js';
import type { SiteAction, SiteRequest } from '../../src/grid/protocol/types.js';
import { HOSTILE } from './hostile.js';
import { GOOD_URLS, HOSTILE_URLS } from './urls.js';

const apply: SiteRequest = {
  jobId: '20261123T101500Z-site-a-apply',
  mode: 'apply',
  vo: 'pvier',
  swdir: '/data/sw/pvier',
  prefix: '/data/sw/pvier/pkg',
  repository: '/data/sw/pvier/packages/All',
  lockStaleSeconds: 1800,
  expectFingerprint: 'sha256:4f1c0a',
  actions: [
    { verb: 'remove', pkgpath: 'devel/hdf5', pkgname: 'hdf5-1.14.3' },
    { verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8', file: 'gsl-2.8.tgz' },
    { verb: 'upgrade', pkgpath: 'math/root', pkgname: 'root-6.30.02', file: 'root-6.30.02.tgz' },
    { verb: 'downgrade', pkgpath: 'math/fftw', pkgname: 'fftw-3.3.9', file: 'fftw-3.3.9.tgz' },
  ],
};

const GOLDEN = `gridpkg-request 1
job 20261123T101500Z-site-a-apply
mode apply
vo pvier
swdir /data/sw/pvier
prefix /data/sw/pvier/pkg
repository /data/sw/pvier/packages/All
lock-stale 1800
expect-fingerprint sha256:4f1c0a
action remove devel/hdf5 hdf5-1.14.3
action install math/gsl gsl-2.8 gsl-2.8.tgz
action upgrade math/root root-6.30.02 root-6.30.02.tgz
action downgrade math/fftw fftw-3.3.9 fftw-3.3.9.tgz
end
`;

/** A tiny reader of request files, independent of the encoder, to show the text says what the request says. */
function readRequest(text: string): SiteRequest {
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.shift()).toBe('gridpkg-request 1');
  expect(lines.pop()).toBe('end');
  const request: SiteRequest = { jobId: '', mode: 'probe', actions: [] };
  for (const line of lines) {
    const [directive, ...tokens] = line.split(' ');
    const value = tokens[0] ?? '';
    switch (directive) {
      case 'job':
        request.jobId = value;
        break;
      case 'mode':
        request.mode = value as SiteRequest['mode'];
        break;
      case 'vo':
      case 'swdir':
      case 'prefix':
      case 'repository':
        request[directive] = value;
        break;
      case 'lock-stale':
        request.lockStaleSeconds = Number(value);
        break;
      case 'expect-fingerprint':
        request.expectFingerprint = value;
        break;
      case 'action': {
        const [verb, pkgpath, pkgname, file] = tokens as [SiteAction['verb'], string, string, string?];
        expect(tokens).toHaveLength(verb === 'remove' ? 3 : 4);
        request.actions.push(
          file === undefined ? { verb, pkgpath, pkgname } : { verb, pkgpath, pkgname, file },
        );
        break;
      }
      default:
        throw new Error(`unexpected line ${line}`);
    }
  }
  return request;
}

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('no ProtocolError thrown');
}

describe('encodeRequest', () => {
  it('writes the golden text of an apply request', () => {
    expect(encodeRequest(apply)).toBe(GOLDEN);
  });

  it('writes a minimal probe', () => {
    expect(encodeRequest({ jobId: 'j1', mode: 'probe', actions: [] })).toBe(
      'gridpkg-request 1\njob j1\nmode probe\nend\n',
    );
  });

  it('round-trips through an independent reader', () => {
    expect(readRequest(encodeRequest(apply))).toEqual(apply);
    const probe: SiteRequest = { jobId: 'p', mode: 'probe', vo: 'vo.example.org', actions: [] };
    expect(readRequest(encodeRequest(probe))).toEqual(probe);
  });

  const fields: Array<[string, (value: string) => SiteRequest]> = [
    ['jobId', (v) => ({ ...apply, jobId: v })],
    ['vo', (v) => ({ ...apply, vo: v })],
    ['swdir', (v) => ({ ...apply, swdir: v })],
    ['prefix', (v) => ({ ...apply, prefix: v })],
    ['repository', (v) => ({ ...apply, repository: v })],
    ['expectFingerprint', (v) => ({ ...apply, expectFingerprint: v })],
    ['endedJobs[1]', (v) => ({ ...apply, endedJobs: ['site-a-apply-20261123T090000Z-0a1b', v] })],
    [
      'actions[1].pkgpath',
      (v) => ({
        ...apply,
        actions: [apply.actions[0] as SiteAction, { verb: 'install', pkgpath: v, pkgname: 'gsl-2.8' }],
      }),
    ],
    [
      'actions[0].pkgname',
      (v) => ({ ...apply, actions: [{ verb: 'install', pkgpath: 'math/gsl', pkgname: v }] }),
    ],
  ];
  describe.each(fields)('refuses hostile values of %s', (field, make) => {
    it.each(HOSTILE.map((v) => [v]))('%j', (value) => {
      const error = thrown(() => encodeRequest(make(value)));
      expect(error.field).toBe(field);
      expect(error.value).toBe(value);
      expect(error.message).toContain(field);
      expect(error.message).toContain(JSON.stringify(value));
    });
  });

  it('refuses values that are well-formed text but wrong for the field', () => {
    expect(thrown(() => encodeRequest({ ...apply, swdir: 'data/sw' })).field).toBe('swdir');
    expect(thrown(() => encodeRequest({ ...apply, swdir: '/data/../etc' })).field).toBe('swdir');
    expect(thrown(() => encodeRequest({ ...apply, jobId: 'x'.repeat(65) })).field).toBe('jobId');
    expect(thrown(() => encodeRequest({ ...apply, mode: 'destroy' as 'apply' })).field).toBe('mode');
    expect(thrown(() => encodeRequest({ ...apply, lockStaleSeconds: -1 })).field).toBe('lockStaleSeconds');
    expect(thrown(() => encodeRequest({ ...apply, lockStaleSeconds: 1.5 })).field).toBe('lockStaleSeconds');
    expect(thrown(() => encodeRequest({ ...apply, lockStaleSeconds: 1e9 })).field).toBe('lockStaleSeconds');
    expect(thrown(() => encodeRequest({ ...apply, lockStaleSeconds: Number.NaN })).field).toBe(
      'lockStaleSeconds',
    );
    const verb = { verb: 'purge', pkgpath: 'math/gsl', pkgname: 'gsl-2.8' } as unknown as SiteAction;
    expect(thrown(() => encodeRequest({ ...apply, actions: [verb] })).field).toBe('actions[0].verb');
    const pattern = { verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl>=2.7' } as const;
    expect(thrown(() => encodeRequest({ ...apply, actions: [pattern] })).field).toBe('actions[0].pkgname');
  });

  it('adds the exact file: FILE_NAME, else PKGNAME.tgz; refuses a file name that leaves the directory', () => {
    const one = (action: SiteAction) => encodeRequest({ jobId: 'a', mode: 'apply', actions: [action] });
    expect(one({ verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8' })).toContain(
      'action install math/gsl gsl-2.8 gsl-2.8.tgz\n',
    );
    expect(one({ verb: 'upgrade', pkgpath: 'math/gsl', pkgname: 'gsl-2.8', file: 'gsl-2.8.tbz' })).toContain(
      'action upgrade math/gsl gsl-2.8 gsl-2.8.tbz\n',
    );
    for (const file of ['../gsl-2.8.tgz', 'a/b.tgz', '..', '-x.tgz', 'gsl 2.8.tgz', 'gsl;rm.tgz']) {
      expect(
        thrown(() => one({ verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8', file })).field,
      ).toBe('actions[0].file');
    }
  });

  it('names ended jobs one per line, for probes and applies, and refuses more than the script takes', () => {
    const ended = ['site-a-apply-20261123T090000Z-0a1b', 'site-a-probe-20261123T085500Z-ffee'];
    const text = encodeRequest({ jobId: 'p', mode: 'probe', endedJobs: ended, actions: [] });
    expect(text).toBe(
      `gridpkg-request 1\njob p\nmode probe\nended-job ${ended[0]}\nended-job ${ended[1]}\nend\n`,
    );
    expect(encodeRequest({ ...apply, endedJobs: [] })).toBe(GOLDEN);
    const many = Array.from({ length: 33 }, (_, i) => `job-${i}`);
    expect(thrown(() => encodeRequest({ ...apply, endedJobs: many })).field).toBe('endedJobs');
    expect(encodeRequest({ ...apply, endedJobs: many.slice(0, 32) }).match(/^ended-job /gm)).toHaveLength(32);
  });

  it('writes a repository URL as one token, and refuses a hostile one naming the field', () => {
    for (const url of GOOD_URLS) {
      const text = encodeRequest({ ...apply, repository: url });
      expect(text.split('\n')).toContain(`repository ${url}`);
      expect(readRequest(text)).toEqual({ ...apply, repository: url });
    }
    for (const url of HOSTILE_URLS) {
      const error = thrown(() => encodeRequest({ ...apply, repository: url }));
      expect(error.field).toBe('repository');
      expect(error.message).toContain('an http, https or ftp URL');
    }
  });

  it('names each install only a dependency asks for once, on an automatic line after the actions', () => {
    const text = encodeRequest({
      ...apply,
      actions: [
        { verb: 'install', pkgpath: 'devel/zlib', pkgname: 'zlib-1.3.1', automatic: true },
        { verb: 'install', pkgpath: 'devel/hdf5', pkgname: 'hdf5-1.14.3' },
        { verb: 'upgrade', pkgpath: 'math/gsl', pkgname: 'gsl-2.8', automatic: true },
      ],
    });
    expect(text).toContain(
      'action install devel/zlib zlib-1.3.1 zlib-1.3.1.tgz\naction install devel/hdf5 hdf5-1.14.3 hdf5-1.14.3.tgz\n' +
        'action upgrade math/gsl gsl-2.8 gsl-2.8.tgz\nautomatic zlib-1.3.1\nend\n',
    );
  });

  it('writes upgrade-pkg_install with its file, only as the first action and only for pkg_install', () => {
    const tools: SiteAction = {
      verb: 'upgrade-pkg_install',
      pkgpath: 'pkgtools/pkg_install',
      pkgname: 'pkg_install-20211115',
    };
    const gsl: SiteAction = { verb: 'install', pkgpath: 'math/gsl', pkgname: 'gsl-2.8' };
    const text = encodeRequest({ ...apply, actions: [tools, gsl] });
    expect(text).toContain(
      'action upgrade-pkg_install pkgtools/pkg_install pkg_install-20211115 pkg_install-20211115.tgz\n' +
        'action install math/gsl gsl-2.8 gsl-2.8.tgz\n',
    );
    expect(() => encodeRequest({ ...apply, actions: [gsl, tools] })).toThrow(
      /actions\[1\]\.verb.*upgrade-pkg_install only as the first action/,
    );
    expect(() =>
      encodeRequest({ ...apply, actions: [{ ...tools, pkgpath: 'math/gsl', pkgname: 'gsl-2.8' }] }),
    ).toThrow(ProtocolError);
    expect(() => encodeRequest({ ...apply, actions: [{ ...tools, pkgname: 'gsl-2.8' }] })).toThrow(
      /a pkg_install-VERSION/,
    );
  });

  it('refuses actions and an expected fingerprint in a probe', () => {
    const probe: SiteRequest = { jobId: 'p', mode: 'probe', actions: [] };
    expect(thrown(() => encodeRequest({ ...probe, actions: apply.actions })).field).toBe('actions');
    expect(thrown(() => encodeRequest({ ...probe, expectFingerprint: 'sha256:00' })).field).toBe(
      'expectFingerprint',
    );
  });

  it('produces no text at all for a request with one bad value among good ones', () => {
    let text: string | undefined;
    expect(() => {
      text = encodeRequest({
        ...apply,
        actions: [...apply.actions, { verb: 'remove', pkgpath: 'math/gsl', pkgname: '$(id)' }],
      });
    }).toThrow(ProtocolError);
    expect(text).toBeUndefined();
  });
});
