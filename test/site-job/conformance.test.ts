/**
 * The token sets are implemented twice: `case` patterns in src/grid/site-job.sh and src/grid/protocol/tokens.ts.
 * This feeds the same tokens to both and requires the same verdicts, under every shell.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isAbsolutePath,
  isFileName,
  isFingerprint,
  isJobId,
  isListingDigest,
  isPkgName,
  isPkgPath,
  isRepository,
  isSecondsToken,
  isVoName,
} from '../../src/grid/protocol/tokens.js';
import { HOSTILE } from '../protocol/hostile.js';
import { GOOD_URLS, HOSTILE_URLS } from '../protocol/urls.js';
import { JobRoom, type RequestVerdict, reportOf, validateRequests } from './harness.js';
import { requireTool, SHELLS } from './support.js';

/** A software area that does not exist: a valid request stops there, after validation, having touched nothing. */
const NOWHERE = '/nonexistent-gridpkg-conformance/sw';

interface Kind {
  name: string;
  accepts: (token: string) => boolean;
  line: (token: string) => string;
  mode: 'probe' | 'apply';
  samples: string[];
}

const alphabet = fc.constantFrom(...'aZ09._-+/,:<>=*?[]{}; $`\'"\\|&#~'.split(''));
const random = (seed: number, extra: string[] = []): string[] => [
  ...fc.sample(fc.string({ unit: alphabet, minLength: 1, maxLength: 8 }), { numRuns: 8, seed }),
  ...extra,
];

const KINDS: Kind[] = [
  {
    name: 'job id',
    accepts: isJobId,
    line: (t) => `job ${t}`,
    mode: 'probe',
    samples: random(1, ['20261123T101500Z-site-a-probe', 'x'.repeat(64), 'x'.repeat(65), '-j', 'a.b_c-d']),
  },
  {
    name: 'VO name',
    accepts: isVoName,
    line: (t) => `vo ${t}`,
    mode: 'probe',
    samples: random(2, ['pvier', 'vo.example.org', '-vo', 'vo/x', 'x'.repeat(1025)]),
  },
  {
    name: 'absolute path',
    accepts: isAbsolutePath,
    line: (t) => `repository ${t}`,
    mode: 'probe',
    samples: random(3, [
      '/data/sw',
      '/a/../b',
      '/a/..',
      '/a/..b',
      '/a/./b',
      'rel/x',
      '/a+b,c',
      `/${'x'.repeat(1024)}`,
    ]).map((t, i) => (i % 2 === 0 && !t.startsWith('/') ? `/${t}` : t)),
  },
  {
    name: 'repository (path or URL)',
    accepts: isRepository,
    line: (t) => `repository ${t}`,
    mode: 'probe',
    samples: random(8, [...GOOD_URLS, ...HOSTILE_URLS, '/data/packages/All', 'packages/All']),
  },
  {
    name: 'PKGPATH',
    accepts: isPkgPath,
    line: (t) => `action install ${t} gsl-2.8 gsl-2.8.tgz`,
    mode: 'apply',
    samples: random(4, [
      'math/gsl',
      'math/gsl/x',
      'math/..',
      './gsl',
      'math/-gsl',
      '/gsl',
      'math/',
      'a+b/c.d_e-f',
    ]),
  },
  {
    name: 'PKGNAME',
    accepts: isPkgName,
    line: (t) => `action install math/gsl ${t} gsl-2.8.tgz`,
    mode: 'apply',
    samples: random(5, [
      'gsl-2.8',
      'gsl-2.7nb1',
      'py311-numpy-1.26.4',
      'gsl',
      'gsl-',
      'gsl--2.8',
      '.gsl-2.8',
      '-gsl-2.8',
      'gsl-x2',
      'gsl-2.8-',
      '+x-1',
      '_x-1',
      `${'g'.repeat(1020)}-2.8`,
      `${'g'.repeat(1021)}-2.8`,
      'gsl-1.0-2.8',
      'gsl-2.8nb1-x',
    ]),
  },
  {
    name: 'FILE',
    accepts: isFileName,
    line: (t) => `action install math/gsl gsl-2.8 ${t}`,
    mode: 'apply',
    samples: random(5, [
      'gsl-2.8.tgz',
      'gsl-2.8+x_1.tbz',
      '.',
      '..',
      '../gsl-2.8.tgz',
      '-gsl.tgz',
      'All/gsl-2.8.tgz',
      'gsl 2.8.tgz',
      `${'g'.repeat(1024)}`,
      `${'g'.repeat(1025)}`,
    ]),
  },
  {
    name: 'automatic PKGNAME',
    accepts: isPkgName,
    line: (t) => `automatic ${t}`,
    mode: 'apply',
    samples: random(9, ['zlib-1.3.1', 'zlib', '-zlib-1.3.1', 'zlib-1.3.1;x', 'py311-numpy-1.26.4']),
  },
  {
    name: 'seconds',
    accepts: isSecondsToken,
    line: (t) => `lock-stale ${t}`,
    mode: 'probe',
    samples: random(6, ['0', '1800', '0999', '123456789', '1234567890', '-1', '1e3', '12a']),
  },
  {
    name: 'fingerprint',
    accepts: isFingerprint,
    line: (t) => `expect-fingerprint ${t}`,
    mode: 'apply',
    samples: random(7, ['sha256:4f1c', 'cksum:123-456', '-x:1', 'sha256:4f 1c', 'a.b']),
  },
  {
    name: 'listing digest',
    accepts: isListingDigest,
    line: (t) => `known-listing ${t}`,
    mode: 'probe',
    samples: random(9, [
      `sha256:${'0a'.repeat(32)}`,
      `sha256:${'0A'.repeat(32)}`,
      `sha256:${'0a'.repeat(31)}`,
      `sha256:${'0a'.repeat(33)}`,
      `cksum:${'0a'.repeat(32)}`,
      `sha256:${'0g'.repeat(32)}`,
      'sha256:',
    ]),
  },
];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridpkg-conformance-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** A request whose one line under test carries `token`; otherwise valid, for a software area that does not exist. */
function requestOf(kind: Kind, token: string): string {
  const lines = ['gridpkg-request 1', 'job conformance', `mode ${kind.mode}`, `swdir ${NOWHERE}`];
  if (kind.name === 'job id') lines.splice(1, 1);
  lines.push(kind.line(token), 'end', '');
  return lines.join('\n');
}

// bash --posix matches patterns with the same code as bash: left out here to save time.
const shells = SHELLS.filter(
  (s) =>
    s.name !== 'bash --posix' &&
    requireTool(s.command[0] as string, `the token conformance tests under ${s.name}`),
);

describe.concurrent.each(shells)('token sets of site-job.sh under $name agree with tokens.ts', ({
  command,
}) => {
  it.each(KINDS.map((k) => [k.name, k] as const))('%s', async (_, kind) => {
    const room = await JobRoom.create(root);
    // A newline splits a token into two request lines, which the script judges line by line (and may find good):
    // keeping newlines out of requests is the encoder's job (test/protocol/request.test.ts).
    const unique = [...new Set([...kind.samples, ...(kind.name === 'PKGNAME' ? HOSTILE : [])])].filter(
      (t) => !t.includes('\n'),
    );
    // All tokens of the kind through the script's request validation in one shell process (see validateRequests).
    const results = await validateRequests(
      room,
      command,
      unique.map((token) => requestOf(kind, token)),
    );
    const verdicts = unique.map((token, i) => {
      const { accepted, error } = results[i] as RequestVerdict;
      // a refusal is a refusal of a request line (the token's), never a failure to read the request at all
      if (!accepted) expect(error, JSON.stringify(token)).toMatch(/^invalid request line [0-9]+: /);
      return { token, script: accepted, ts: kind.accepts(token), error };
    });
    const disagreements = verdicts.filter((v) => v.script !== v.ts);
    expect(disagreements).toEqual([]);
    // the samples exercise both verdicts
    expect(verdicts.some((v) => v.ts)).toBe(true);
    expect(verdicts.some((v) => !v.ts)).toBe(true);
  });

  it('judges requests validated that way as whole jobs of the script do', async () => {
    const room = await JobRoom.create(root);
    const byKind = (name: string): Kind => KINDS.find((k) => k.name === name) as Kind;
    const requests = [
      requestOf(byKind('PKGNAME'), 'gsl-2.8'),
      requestOf(byKind('PKGNAME'), 'gsl-$(id)'),
      requestOf(byKind('PKGNAME'), 'gsl-2.8\u0000'),
      requestOf(byKind('job id'), 'x'.repeat(65)),
      requestOf(byKind('seconds'), '1800'),
      requestOf(byKind('repository (path or URL)'), '/a/../b'),
    ];
    const verdicts = await validateRequests(room, command, requests);
    expect(verdicts.map((v) => v.accepted)).toEqual([true, false, false, false, true, false]);
    for (const [i, text] of requests.entries()) {
      const report = reportOf(await room.run(command, text));
      const verdict = verdicts[i] as RequestVerdict;
      expect(report.statusMessage, JSON.stringify(text)).toBe(
        verdict.accepted ? `software area ${NOWHERE} is not a directory` : verdict.error,
      );
    }
  });
});

describe('the request example of docs/site-job-protocol.md', () => {
  it.skipIf(!shells[0])('is a request the script accepts, once its comments are gone', async () => {
    const doc = await readFile(new URL('../../docs/site-job-protocol.md', import.meta.url), 'utf8');
    const example = /```\n(gridpkg-request 1\n[\s\S]*?\nend\n)```/.exec(doc)?.[1] ?? '';
    const text = example
      .split('\n')
      .map((line) => line.replace(/\s*#.*$/, ''))
      .join('\n')
      .replace(/^swdir .*$/m, `swdir ${NOWHERE}`);
    // the example holds the actions and ends with `end` (directives after the actions, such as automatic, may follow)
    expect(text).toContain('action remove math/gsl gsl-2.7nb1\n');
    expect(text.endsWith('\nend\n')).toBe(true);
    const room = await JobRoom.create(root);
    const report = reportOf(await room.run(shells[0]?.command ?? [], text));
    expect(report.statusMessage).toBe(`software area ${NOWHERE} is not a directory`);
  });
});
