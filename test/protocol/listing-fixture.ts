// A small repository listing and a probe report around it, shared by the listing-once tests (issue 10, item 7).

export const AVAIL = 'avail gsl-2.8 math/gsl\navail zlib-1.3.1 devel/zlib\n';

/** A complete probe report with MIDDLE (lines ending in newlines) before its audit status, after `installed`. */
export function probeReport(middle: string, installed: readonly string[] = []): string {
  return [
    'gridpkg-report 1',
    'job j1',
    'mode probe',
    'swdir /sw',
    'lock acquired',
    'pkgsrc present /sw/pkg 20170419',
    'fingerprint before sha256:1',
    ...installed,
    `${middle}audit-status clean`,
    'fingerprint after sha256:1',
    'status ok',
    'end',
    '',
  ].join('\n');
}
