/** Aliases and merge keys (issue 9, items 9 and 10): shared values load, alias bombs are located spec errors. */
import { describe, expect, it } from 'vitest';
import { parseSpec, SpecError } from '../../src/spec/index.js';
import { lines, outcome, TODAY } from './harness.js';

const H = 'apiVersion: gridpkg/v1';

/** `count` sites that share one backend through an alias. */
function sharedBackend(count: number): string {
  const sites = Array.from({ length: count }, (_, i) =>
    i === 0
      ? ['  site-0:', '    softwareArea: /sw/0', '    backend: &be { type: local, shell: [dash] }']
      : [`  site-${i}:`, `    softwareArea: /sw/${i}`, '    backend: *be'],
  );
  return lines(H, 'sites:', ...sites.flat());
}

describe('YAML aliases', () => {
  it('loads 101 sites (and 1000) that share a backend through one alias: no "Excessive alias count"', () => {
    for (const count of [101, 1000]) {
      const { sites } = parseSpec(sharedBackend(count), 'spec.yaml', { today: TODAY });
      expect(sites).toHaveLength(count);
      expect(sites[count - 1]?.backend).toEqual({ type: 'local', shell: ['dash'], environment: {} });
    }
  });

  it('refuses an alias bomb with a located SpecError, never the library error or a stack trace', () => {
    const bomb = lines(
      H,
      'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]',
      ...Array.from({ length: 9 }, (_, k) => {
        const [name, prev] = [String.fromCharCode(98 + k), String.fromCharCode(97 + k)];
        return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`;
      }),
      'sites: {site-a: {labels: *j}}',
    );
    let error: unknown;
    try {
      parseSpec(bomb, 'spec.yaml', { today: TODAY });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SpecError);
    const [first, ...rest] = (error as SpecError).diagnostics;
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ file: 'spec.yaml', line: 9, column: 8 }); // *g, the first alias past the limit
    expect(first?.message).toBe('the aliases in this file expand to more than 1,000,000 values');
    expect((error as SpecError).message).not.toMatch(/Excessive alias count|\n\s+at /);
  });
});

describe('YAML merge keys (<<)', () => {
  it('merges keys into a mapping; keys written next to << win, and earlier merge sources win over later ones', () => {
    const { sites } = parseSpec(
      lines(
        H,
        'defaults: &d',
        '  vo: pvier',
        '  jobTimeout: 1h',
        'sites:',
        '  site-a: &a',
        '    softwareArea: /sw/a',
        '    labels: [physics]',
        '    jobTimeout: 2h',
        '    backend: { type: local, shell: [dash] }',
        '  site-b:',
        '    <<: [*a, *d]',
        '    softwareArea: /sw/b',
      ),
      'spec.yaml',
      { today: TODAY },
    );
    const b = sites.find((s) => s.site === 'site-b');
    expect(b).toMatchObject({
      softwareArea: '/sw/b',
      labels: ['physics'],
      vo: 'pvier',
      jobTimeoutSeconds: 7200,
    });
    expect(b?.backend).toEqual({ type: 'local', shell: ['dash'], environment: {} });
  });

  it('checks merged keys like written ones: an unknown key brought in by << is an error at the key', () => {
    expect(
      outcome(
        lines(
          H,
          'defaults: &d',
          '  vo: pvier',
          'sites: {site-a: {}}',
          'selections:',
          '  - <<: *d',
          '    sites: [site-a]',
        ),
      ).errors,
    ).toEqual([
      'spec.yaml:3:3 unknown key "vo" in selections.0 | allowed keys: name, where, sites, sets, packages, exclude',
    ]);
  });

  it('keeps "<<" in quotes an ordinary (unknown) key', () => {
    expect(outcome(lines(H, 'sites:', '  site-a:', '    "<<": {}')).errors[0]).toMatch(
      /^spec\.yaml:4:5 unknown key "<<" in sites\.site-a/,
    );
  });
});
