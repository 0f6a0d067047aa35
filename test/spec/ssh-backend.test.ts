import { describe, expect, it } from 'vitest';
import { parseSpecText, SpecError } from '../../src/spec/index.js';

const spec = (backend: string, softwareArea = '/data/sw/pvier') =>
  `apiVersion: gridpkg/v1\nsites:\n  CE-1:\n    softwareArea: ${softwareArea}\n    backend: ${backend}\n`;

describe('ssh backend in the spec', () => {
  it('keeps remote paths as written and resolves local key files against the spec directory', () => {
    const [site] = parseSpecText(
      spec(
        '{ type: ssh, host: ce01.example.org, user: pvisgm, identityFile: keys/id, knownHostsFile: ~/.ssh/kh }',
        'sw',
      ),
      '/specs/desired-state.yaml',
    );
    expect(site?.softwareArea).toBe('sw');
    expect(site?.backend).toEqual({
      type: 'ssh',
      host: 'ce01.example.org',
      user: 'pvisgm',
      identityFile: '/specs/keys/id',
      knownHostsFile: '~/.ssh/kh',
    });
  });

  it('refuses a host that could be read as an ssh option or reach a shell', () => {
    for (const host of ['-oProxyCommand=touch', 'ce01;id', '"$(id)"']) {
      let error: unknown;
      try {
        parseSpecText(spec(`{ type: ssh, host: '${host}' }`), 'spec.yaml');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SpecError);
      expect((error as SpecError).diagnostics[0]).toMatchObject({
        line: 5,
        message: expect.stringContaining('host'),
      });
    }
  });
});
