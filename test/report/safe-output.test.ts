import { describe, expect, it } from 'vitest';
import { asciiSafeJson, printableLines, siteName, siteText } from '../../src/report/safe-output.js';
import { HOSTILE_LINE } from './hostile-text.js';

// Characters that must never be raw in a JSON file a user may cat (built from a string: Biome refuses them in a literal).
const RAW_CLASS = '[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ufeff]';
const RAW = new RegExp(RAW_CLASS);

describe('the rendering edge for site text', () => {
  it('cuts long free text and names, escaped', () => {
    expect(siteText(`${'x'.repeat(500)}\u001b`)).toBe(`${'x'.repeat(400)}…`);
    expect(siteName('gsl-2.8\u001b[2J')).toBe('gsl-2.8\\e[2J');
    expect(siteName('a'.repeat(300))).toHaveLength(201);
  });

  it('keeps our own line breaks and escapes everything else inside each line', () => {
    expect(printableLines('# job a\u001b[2J\n  - x\ty\n')).toBe('# job a\\e[2J\n  - x\\ty\n');
  });

  it('writes the characters JSON leaves raw as \\u escapes, and decodes to the same data', () => {
    const value = { msg: HOSTILE_LINE, nested: ['\u202e', '\u2028\u2029\u009b\u007f\ufeff'] };
    const json = asciiSafeJson(JSON.stringify(value));
    expect(json).not.toMatch(RAW);
    expect(JSON.parse(json)).toEqual(value);
    expect(asciiSafeJson('{"a":"Zürich ☃"}')).toBe('{"a":"Zürich ☃"}');
  });
});
