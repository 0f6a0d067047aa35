/** What a hostile site tool writes, and the check that none of it reaches a terminal or a CI log as it is. */
import { expect } from 'vitest';
import { colorStyle, plainStyle, type Style } from '../../src/report/style.js';

/**
 * Clears the screen, homes the cursor and prints a green verdict (the attack of issue 9 item 3), sets the window
 * title, starts GitHub workflow commands after a carriage return and a newline, and carries a C1 CSI, a bidi
 * override, a line separator and a NUL.
 */
export const HOSTILE_LINE =
  '\u001b[2J\u001b[H\u001b[32m plan: all sites OK\u001b]0;pwned\u0007\r::add-mask::secret \u009b31m \u202eevil\u2028::error::forged\u0000';

/** The same, as the text of one stderr line (no newline: the tools' last line is what gets quoted). */
export const HOSTILE_MULTILINE = `first line\n::error title=forged::from a site\n${HOSTILE_LINE}`;

export const STYLES: ReadonlyArray<[string, Style]> = [
  ['plain', plainStyle],
  ['colour', colorStyle],
];

// The SGR sequences gridpkg's own colour style writes (src/report/style.ts); anything else with ESC came from outside.
// (Built from strings: Biome refuses control characters in regex literals.)
const OWN_SGR_SOURCE = '\\u001b\\[(?:1|2|22|31|32|33|36|39)m';
const OWN_SGR = new RegExp(OWN_SGR_SOURCE, 'g');
// Every character printable() escapes, except the line feed of our own lines.
const UNSAFE_CLASS =
  '[\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\ufeff]';
const UNSAFE = new RegExp(UNSAFE_CLASS);

/** Output as it reads without gridpkg's own colours. */
export function withoutOwnColours(output: string): string {
  return output.replace(OWN_SGR, '');
}

/**
 * Output (stdout, stderr, a log) carries no raw control, C1, bidi or separator character beyond gridpkg's own
 * colours and line breaks, and no line of it starts (after indentation) with a CI workflow command.
 */
export function expectSafe(output: string, where: string): void {
  const text = withoutOwnColours(output);
  const unsafe = UNSAFE.exec(text);
  expect(
    unsafe,
    `${where}: raw U+${unsafe?.[0].charCodeAt(0).toString(16).padStart(4, '0')} near ${JSON.stringify(text.slice(Math.max(0, (unsafe?.index ?? 0) - 40), (unsafe?.index ?? 0) + 40))}`,
  ).toBeNull();
  const command = text.split('\n').find((line) => /^\s*::/.test(line));
  expect(command, `${where}: a line starts a workflow command`).toBeUndefined();
}

/** The hostile text was shown (escaped), not dropped: the user still sees what the site said. */
export function expectShownEscaped(output: string, where: string): void {
  expect(output, `${where}: the escaped site text is shown`).toContain(
    '\\e[2J\\e[H\\e[32m plan: all sites OK',
  );
}
