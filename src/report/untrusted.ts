/**
 * Text from a site, a job or a spec is untrusted wherever it is printed: a hostile pkg_add, a report line or a YAML
 * key must not move the cursor, clear the screen, recolour a verdict, start a new line of its own (a CI annotation
 * such as `::error` or `::add-mask::` only counts at the start of a line) or reorder what follows (bidi overrides).
 * `printable` shows every such character as a visible escape; everything else is kept as it is.
 */

// C0 controls (tab and newline included: untrusted text never gets a line of its own), DEL, C1 controls, the
// Unicode line and paragraph separators, bidi embeddings/overrides/isolates and the byte-order mark.
const UNSAFE_CLASS =
  '[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\ufeff]';
const UNSAFE_ALL = new RegExp(UNSAFE_CLASS, 'g');
const UNSAFE_ANY = new RegExp(UNSAFE_CLASS);

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Untrusted text made safe to print on one line of a terminal, a log, a report or a CI annotation: control and
 * direction characters become visible escapes (`\e[2J`, `\n`, `\u202e`), and text longer than `max` characters is
 * cut with an ellipsis (the cut never splits an escape).
 */
export function printable(text: string, max = Number.POSITIVE_INFINITY): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(UNSAFE_ALL, escapeChar);
}

/** True when `text` would print unchanged: no control or direction characters. */
export function isPrintable(text: string): boolean {
  return !UNSAFE_ANY.test(text);
}
