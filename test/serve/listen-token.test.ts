/** Where the service listens, what it warns about, and the bearer token check. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobOutcome } from '../../src/serve/job-counts.js';
import { exposureWarnings, parseListenAddress, urlOf } from '../../src/serve/listen.js';
import { bearerMatches, readTokenFile } from '../../src/serve/token.js';

describe('--listen', () => {
  it.each([
    ['127.0.0.1:9090', { host: '127.0.0.1', port: 9090, loopback: true }],
    ['9091', { host: '127.0.0.1', port: 9091, loopback: true }],
    ['localhost:0', { host: 'localhost', port: 0, loopback: true }],
    ['127.1.2.3:80', { host: '127.1.2.3', port: 80, loopback: true }],
    ['[::1]:9090', { host: '::1', port: 9090, loopback: true }],
    ['0.0.0.0:9090', { host: '0.0.0.0', port: 9090, loopback: false }],
    ['[::]:9090', { host: '::', port: 9090, loopback: false }],
    ['192.0.2.7:9090', { host: '192.0.2.7', port: 9090, loopback: false }],
    ['metrics.example.org:9090', { host: 'metrics.example.org', port: 9090, loopback: false }],
  ])('%s', (given, expected) => {
    expect(parseListenAddress(given)).toEqual(expected);
  });

  it.each([
    ':9090',
    '127.0.0.1',
    '127.0.0.1:99999',
    '[zz]:1',
    '::1:9090',
    'a b:1',
    '127.0.0.1:90;rm',
    '',
  ])('refuses %j with the expected forms', (given) => {
    expect(() => parseListenAddress(given)).toThrow(/expected HOST:PORT \(127\.0\.0\.1:9090/);
  });

  it('writes IPv6 hosts in brackets in URLs', () => {
    expect(urlOf('::1', 8080)).toBe('http://[::1]:8080/');
    expect(urlOf('127.0.0.1', 8080)).toBe('http://127.0.0.1:8080/');
  });

  it('warns about a non-loopback address without a token, and about a token file others can read', () => {
    const open = parseListenAddress('0.0.0.0:9090');
    expect(exposureWarnings(open, '0.0.0.0:9090', undefined, undefined)).toEqual([
      expect.stringMatching(/^listening on 0\.0\.0\.0:9090 without --token-file: anyone who can reach/),
    ]);
    expect(exposureWarnings(open, '0.0.0.0:9090', { readableByOthers: false }, 't')).toEqual([]);
    expect(exposureWarnings(parseListenAddress('9090'), '9090', undefined, undefined)).toEqual([]);
    expect(exposureWarnings(open, 'x', { readableByOthers: true }, 'tok')).toEqual([
      'the token file tok can be read by other users (chmod 600 it)',
    ]);
  });
});

describe('bearer token', () => {
  const token = 'c0ffee-0123456789abcdef';
  it('accepts exactly the token after Bearer', () => {
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    for (const header of [
      undefined,
      '',
      token,
      `Basic ${token}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token} extra`,
      'Bearer ',
    ])
      expect(bearerMatches(header, token), String(header)).toBe(false);
  });

  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridpkg-token-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the first line of the token file and tells whether others may read it', async () => {
    const file = join(dir, 'token');
    await writeFile(file, `  ${token}  \nsecond line\n`);
    await chmod(file, 0o600);
    expect(await readTokenFile(file)).toEqual({ token, readableByOthers: false });
    await chmod(file, 0o644);
    expect((await readTokenFile(file)).readableByOthers).toBe(true);
  });

  it('refuses a short, empty, spaced or missing token file with the reason', async () => {
    for (const content of ['', 'short', 'a token with spaces in it', '\n0123456789abcdefgh']) {
      const file = join(dir, 'bad');
      await writeFile(file, content);
      await expect(readTokenFile(file), JSON.stringify(content)).rejects.toThrow(
        /must hold one token of at least 16 printable ASCII characters/,
      );
    }
    await expect(readTokenFile(join(dir, 'missing'))).rejects.toThrow(/cannot read the token file .*missing/);
  });
});

describe('job outcomes', () => {
  it('are the report status of a job that ended with one, else its end state, else other', () => {
    expect(jobOutcome({ jobState: 'done', reportStatus: 'locked' })).toBe('locked');
    expect(jobOutcome({ jobState: 'done' })).toBe('done');
    expect(jobOutcome({ jobState: 'failed', reportStatus: 'error' })).toBe('failed');
    expect(jobOutcome({ jobState: 'lost' })).toBe('lost');
    expect(jobOutcome({ jobState: 'done', reportStatus: 'ok"} 1\nevil 1' })).toBe('other');
    expect(jobOutcome({ jobState: '<script>' })).toBe('other');
  });
});
