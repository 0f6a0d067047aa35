/** Why a pkgsrc input was refused. Stable strings: callers and tests switch on them. */
export type PkgsrcErrorCode =
  | 'bad-version'
  | 'bad-pkgname'
  | 'bad-pattern'
  | 'bad-summary'
  | 'bad-pkg-info'
  | 'bad-audit'
  | 'bad-vulnerabilities';

/**
 * The only error this module throws. Parsers set `line` (1-based) to the offending input line, so a report can
 * point at it; nothing in src/pkgsrc guesses its way past malformed input.
 */
export class PkgsrcError extends Error {
  override readonly name = 'PkgsrcError';
  readonly code: PkgsrcErrorCode;
  readonly line: number | undefined;

  constructor(code: PkgsrcErrorCode, message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.code = code;
    this.line = line;
  }
}

/** Quote a user-supplied string for an error message without letting control characters through. */
export function quote(s: string, max = 80): string {
  const cut = s.length > max ? `${s.slice(0, max)}...` : s;
  return JSON.stringify(cut);
}
