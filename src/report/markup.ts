/**
 * Untrusted text inside markup: Markdown (a GitHub job summary, a GitLab MR comment), XML (JUnit) and HTML. Each
 * first makes the text printable (control, bidi and separator characters as visible escapes, cut at `max`; see
 * ./untrusted.ts), then escapes what the format would read as markup. Text never gets a line of its own, so it
 * cannot start a workflow command, a Markdown heading or a table row.
 */
import { MAX_SHOWN_TEXT } from './safe-output.js';
import { printable } from './untrusted.js';

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string, max = MAX_SHOWN_TEXT): string {
  return printable(text, max).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] as string);
}

// XML 1.0 allows tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and the astral planes. printable() has escaped the
// controls; lone surrogates and U+FFFE/U+FFFF are left, and are dropped here.
const XML_FORBIDDEN =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\ufffe\uffff]/g;

/** Text for XML element content and (double- or single-) quoted attribute values. */
export function escapeXml(text: string, max = MAX_SHOWN_TEXT): string {
  return escapeHtml(text.replace(XML_FORBIDDEN, ''), max);
}

// The punctuation Markdown reads inline (emphasis, code, links, tables, strike-through); what is special only at
// the start of a line (`#`, `-`, `1.`) needs nothing, as untrusted text never starts one. The HTML pass below
// turns < > & " ' into entities.
const MARKDOWN_SPECIAL = /[\\`*_{}[\]()|~]/g;

/**
 * Text for Markdown (also inside a table cell): Markdown punctuation backslash-escaped (a `|` cannot end a cell, a
 * `*` cannot start emphasis), then HTML-escaped (GitHub and GitLab render inline HTML), `@` as an entity so that a
 * name cannot mention anyone and `:` so that nothing becomes a link or an emoji.
 */
export function escapeMarkdown(text: string, max = MAX_SHOWN_TEXT): string {
  return printable(text, max)
    .replace(MARKDOWN_SPECIAL, (c) => `\\${c}`)
    .replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] as string)
    .replace(/@/g, '&#64;')
    .replace(/:/g, '&#58;');
}
