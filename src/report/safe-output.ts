/**
 * The rendering edge for text that comes from sites and jobs (report fields, stderr excerpts, backend states, error
 * messages that quote command output): the model keeps such text raw, and every view, the progress printer and the
 * log make it safe here, on its way out. See ./untrusted.ts for what "safe" means.
 */
import { printable } from './untrusted.js';

/** Longest free text (a reason, a message, a stderr excerpt) shown on one line; the state directory keeps it whole. */
export const MAX_SHOWN_TEXT = 400;
/** Longest name (PKGNAME, PKGPATH, job id, site) shown; real ones are far shorter (protocol tokens stop at 1024). */
export const MAX_SHOWN_NAME = 200;

/** Free text from a site or a job, on one line, cut to MAX_SHOWN_TEXT. */
export function siteText(text: string): string {
  return printable(text, MAX_SHOWN_TEXT);
}

/** A name from a site or a job (PKGNAME, PKGPATH, job id), cut to MAX_SHOWN_NAME. */
export function siteName(text: string): string {
  return printable(text, MAX_SHOWN_NAME);
}

/**
 * Text we laid out in lines ourselves (a YAML document, an error with a stack) that may carry untrusted text inside
 * its lines: each line is made printable, our own line breaks are kept.
 */
export function printableLines(text: string): string {
  return text
    .split('\n')
    .map((line) => printable(line))
    .join('\n');
}

// JSON.stringify (and pino) escape C0 controls, but leave DEL, C1 controls, line separators and bidi characters raw:
// a `tail -f` of the log would pass them to the terminal.
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\ufeff]/g;

/**
 * A JSON text with the characters JSON leaves raw written as `\uXXXX` escapes. Outside strings JSON is ASCII, so
 * these can only be inside strings, where the escape decodes to the same character: the data is unchanged.
 */
export function asciiSafeJson(json: string): string {
  return json.replace(RAW_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
