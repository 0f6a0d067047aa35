import { describe, expect, it } from 'vitest';
import { isPrintable, printable } from '../../src/report/untrusted.js';

describe('printable', () => {
  it('shows terminal escapes instead of sending them', () => {
    const hostile = '\u001b[2J\u001b[H\u001b[32m plan: all sites OK';
    expect(printable(hostile)).toBe('\\e[2J\\e[H\\e[32m plan: all sites OK');
    expect(printable(hostile)).not.toContain('\u001b');
  });

  it('keeps untrusted text on its line, so it cannot start a CI workflow command', () => {
    const key = 'gsl\n::error file=x::forged\r\n::add-mask::secret';
    const shown = printable(key);
    expect(shown.split('\n')).toHaveLength(1);
    expect(shown).toBe('gsl\\n::error file=x::forged\\r\\n::add-mask::secret');
  });

  it('escapes C1 controls, DEL, line separators and bidi overrides, and keeps ordinary Unicode', () => {
    expect(printable('a\u009bb\u007fc\u2028d\u202ee\u2066f')).toBe('a\\x9bb\\x7fc\\u2028d\\u202ee\\u2066f');
    expect(printable('Zürich – ☃ 日本')).toBe('Zürich – ☃ 日本');
  });

  it('cuts long text before escaping, so an escape is never split', () => {
    expect(printable('abcdef', 3)).toBe('abc…');
    expect(printable('\u001b\u001b\u001b\u001b', 2)).toBe('\\e\\e…');
  });

  it('tells printable text from text that needs escaping', () => {
    expect(isPrintable('gsl-2.7nb1')).toBe(true);
    expect(isPrintable('x\ty')).toBe(false);
    expect(isPrintable('x\u202ey')).toBe(false);
  });
});
